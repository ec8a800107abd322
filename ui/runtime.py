"""Starts the Qt application around a running :class:`CitySession` and shuts it down cleanly."""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QToolButton, QWidget

from services.auth.accounts import AccountsError
from services.auth.roles import Principal, Role
from services.auth.signin import (
    Authenticator,
    authenticator_for,
    single_user,
    workstation_of,
)
from services.config import AppConfig
from services.engine.remote import EngineError, EngineSession
from services.model import SignInRecord
from services.monitoring import HealthSnapshot, MetricsError, MetricsServer, start_metrics
from services.store.cache import CacheError
from services.store.sign_ins import SIGN_IN, SIGN_OUT
from services.tiles.store import STORE_FILE
from ui.alarm_sound import AlarmSound
from ui.bridge import DeltaBridge
from ui.commands import EXIT_CONFIG
from ui.config_reload import ConfigReloader
from ui.dashboards import DashboardControls
from ui.health_reporter import HealthReporter
from ui.i18n import install_translation
from ui.incidents import IncidentActions
from ui.kiosk import KioskWindow
from ui.layouts import LayoutStore
from ui.main_window import MainWindow
from ui.rendering import use_rendering
from ui.report_render import demo_districts
from ui.review import ReviewControls, open_replay_source
from ui.sign_in import SignInDialog
from ui.startup import launched_without_terminal
from ui.theme import apply_theme
from ui.tile_worker import TileWorker, show_basemaps
from widgets.map_scheme import install_scheme_handler, register_scheme
from widgets.plain_text import plain_message_box

if TYPE_CHECKING:  # imported when it runs here: with the engine, this process never needs it
    from services.session import CitySession

log = logging.getLogger(__name__)

Session: TypeAlias = "CitySession | EngineSession"
"""What runs behind a window: in its own process, or in the engine process."""


def open_session(config: AppConfig, cache_dir: Path) -> Session:
    """The session ``[app] engine_process`` asks for, its cache open (CacheError if not)."""
    if config.engine_process:
        return EngineSession(config, cache_dir)
    from services.session import CitySession

    return CitySession(config, cache_dir)


def install_signal_handlers(app: QApplication) -> QTimer:
    """Quit the event loop on SIGTERM and SIGINT.

    Python runs signal handlers only between bytecodes, so a short timer keeps the
    interpreter stepping while Qt waits for events.
    """

    def request_quit(signum: int, _frame: object) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        app.quit()

    signal.signal(signal.SIGTERM, request_quit)
    signal.signal(signal.SIGINT, request_quit)
    pulse = QTimer(app)
    pulse.setInterval(200)
    pulse.timeout.connect(lambda: None)
    pulse.start()
    return pulse


def build_window(
    session: Session,
    publish_health: Callable[[HealthSnapshot], None] | None = None,
    *,
    principal: Principal | None = None,
    authenticator: Authenticator | None = None,
    kiosk: bool = False,
) -> tuple[MainWindow, DeltaBridge]:
    """The main window wired to a started session (also used by the end-to-end tests);
    with ``publish_health``, a :class:`HealthReporter` (a child of the window) publishes
    what the window shows once a second, from the first delta on.

    ``principal`` acts first (default: the configured operator, single-user); with an
    ``authenticator``, File ▸ Switch user signs the next person in. For a ``kiosk`` (the
    window hidden under a wall) the alarm sound plays only when ``[kiosk] sound`` says so,
    and the window's layout is neither restored nor saved."""
    config = session.config

    def export_alarms(path: Path) -> int:
        return session.export_csv("alarms", path)

    def acknowledge(ids: list[str], note: str) -> object:
        # The window's principal at the moment of the action: it changes with a shift.
        return session.pipeline.acknowledge(ids, window.principal, note)

    def shelve(ids: list[str], duration: float | None, reason: str) -> object:
        return session.pipeline.shelve(ids, window.principal, duration, reason)

    def unshelve(ids: list[str]) -> object:
        return session.pipeline.unshelve(ids, window.principal)

    def comment(ids: list[str], text: str) -> object:
        return session.pipeline.comment(ids, window.principal, text)

    def assign(ids: list[str], person: str) -> object:
        return session.pipeline.assign(ids, window.principal, person)

    def out_of_service(ids: list[str], reason: str) -> object:
        return session.pipeline.remove_from_service(ids, window.principal, reason)

    def in_service(ids: list[str]) -> object:
        return session.pipeline.return_to_service(ids, window.principal)

    def export_journal(path: Path, since: float, until: float) -> int:
        return session.export_csv("journal", path, since, until)

    window = MainWindow(
        config,
        acknowledge=acknowledge,
        shelve=shelve,
        unshelve=unshelve,
        comment=comment,
        assign=assign,
        out_of_service=out_of_service,
        in_service=in_service,
        journal=session.cache.journal,
        export_journal=export_journal,
        incidents=IncidentActions.for_pipeline(session.pipeline, lambda: window.principal),
        export_alarms=export_alarms,
        boundaries=demo_districts() if config.demo else None,
        pause_feed=session.pause_feed,
        resume_feed=session.resume_feed,
        feed_manager=session,
        history=session.pipeline.hub.series,
        tracks=session.pipeline.hub.tracks,
        layouts=None if kiosk else LayoutStore(),
        principal=principal if principal is not None else single_user(config),
        authenticator=authenticator,
    )
    session.wait_ready()  # an engine process restored the last known state meanwhile
    bridge = DeltaBridge(session.pipeline.take_delta, parent=window)
    bridge.deltaReady.connect(window.apply_delta)
    if config.map.basemaps:
        tiles = TileWorker(config.map.basemaps, session.cache.path.parent / STORE_FILE, window)
        install_scheme_handler(window.map_view.page().profile()).set_tile_provider(tiles.request)
        show_basemaps(window.map_view, config.map.basemaps)
        window.closing.connect(tiles.close)
    sound = config.sound and (config.kiosk.sound or not kiosk)
    attach_alarm_sound(window, bridge, AlarmSound.for_config(sound, parent=window))
    bridge.rateChanged.connect(window.set_message_rate)
    if publish_health is not None:
        HealthReporter.for_window(window, bridge, publish_health, session.broker_labels()).start()
    record_sign_ins(window, session)
    window.cache_path = session.cache.path
    window.dashboards = DashboardControls(window, config)
    if not config.demo:
        reloader = ConfigReloader(config, parent=window)
        reloader.reloaded.connect(window.apply_config)
        reloader.failed.connect(window.show_config_problem)
    window.review = ReviewControls(
        window,
        bridge,
        open_replay_source(session.cache.path, config.retention_days),
        shifts=config.review.shifts,
    )
    bridge.tick(whole=True)
    window.show_restored(session.restored_entities)
    bridge.start()
    return window, bridge


def record_sign_ins(window: MainWindow, session: Session) -> None:
    """Keep who works at this window in the cache (for the handover report): the person
    acting now, each shift change, and the sign-out when the window closes."""

    def record(principal: Principal, event: str) -> None:
        entry = SignInRecord(
            time.time(), principal.user, principal.role.value, principal.workstation, event
        )
        try:
            session.cache.record_sign_in(entry)
        except CacheError as error:
            log.error("could not keep the %s of %s: %s", event, principal.user, error)

    def changed(previous: Principal, current: Principal) -> None:
        record(previous, SIGN_OUT)
        record(current, SIGN_IN)

    record(window.principal, SIGN_IN)
    window.principalChanged.connect(changed)
    window.closing.connect(lambda: record(window.principal, SIGN_OUT))


def attach_alarm_sound(window: MainWindow, bridge: DeltaBridge, sound: AlarmSound) -> None:
    """Sound the alarms of every delta (after the window took it); Go ▸ Silence alarms and a
    button in the status bar silence them."""
    sound.setObjectName("alarm_sound")
    bridge.deltaReady.connect(sound.apply_delta)
    sound.attach(window.menus.silence)
    button = QToolButton(window)
    button.setObjectName("silence_alarms")
    button.setDefaultAction(window.menus.silence)
    button.setAutoRaise(True)
    window.statusBar().addPermanentWidget(button)


def schedule_screenshot(app: QApplication, window: QWidget, path: Path, delay: float) -> None:
    """Save a PNG of the window after ``delay`` seconds, then quit."""

    def capture() -> None:
        if window.grab().save(str(path)):
            log.info("saved a screenshot of the window to %s", path)
        else:
            log.error("could not save a screenshot to %s", path)
        app.quit()

    QTimer.singleShot(int(delay * 1000), capture)


def show_startup_error(text: str) -> None:
    """Show why CityOps cannot start in a message box, and wait until it is closed (for a
    start from a desktop launcher, where nobody sees stderr)."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    box = plain_message_box(None, QMessageBox.Icon.Critical, "CityOps cannot start", text)
    box.exec()


def refuse_start(problem: Exception) -> int:
    """Say in one line why the window does not start (also in a message box when started
    from a desktop launcher); returns the exit code for a config problem."""
    print(f"cityops: {problem}", file=sys.stderr)
    if launched_without_terminal():
        show_startup_error(str(problem))
    return EXIT_CONFIG


def who_watches(config: AppConfig) -> tuple[Principal, Authenticator | None]:
    """The wall's viewer (no sign-in prompt: a wall only shows) and the authenticator a
    supervisor signs in with to leave kiosk mode (None without accounts: then nobody can)."""
    viewer = Principal("wall", Role.VIEWER, workstation_of(config))
    try:
        return viewer, authenticator_for(config)
    except AccountsError as error:
        log.warning("kiosk: nobody can leave kiosk mode: %s", error)
        return viewer, None


def sign_in_at_start(authenticator: Authenticator) -> Principal | None:
    """Ask who is working before the window opens; None when they quit instead."""
    dialog = SignInDialog(authenticator)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.principal is None:
        log.info("sign-in cancelled at start; CityOps does not start")
        return None
    return dialog.principal


def who_works(config: AppConfig) -> tuple[Principal, Authenticator | None] | int:
    """The person who works at the window (signed in, or the configured operator in
    single-user mode) and the authenticator for shift changes; an exit code when nobody
    does: 2 when nobody could sign in (said on stderr, and in a box from a launcher), 0
    when they quit at the sign-in."""
    try:
        authenticator = authenticator_for(config)
    except AccountsError as error:
        return refuse_start(error)
    if authenticator is None:
        return single_user(config), None
    principal = sign_in_at_start(authenticator)
    return 0 if principal is None else (principal, authenticator)


GC_THRESHOLDS = (20_000, 20, 50)
"""Python's collector runs a young collection after this many new objects (700 by default)
and a full one more rarely: a busy city makes tens of thousands of short-lived, cycle-free
objects a second, and a full collection over a large heap stalls every thread for 50 ms
and more."""


def tune_garbage_collector() -> None:
    """Keep what start-up built (modules, widgets, the restored state) out of every later
    collection, and collect less often (see :data:`GC_THRESHOLDS`)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run_gui(
    config: AppConfig,
    cache_dir: Path,
    *,
    screenshot: Path | None = None,
    screenshot_delay: float = 8.0,
    language: str | None = None,
    review: str | None = None,
    kiosk: bool = False,
    engine: EngineSession | None = None,
    metrics: MetricsServer | None = None,
) -> int:
    """Run the window until it is closed or the process is told to stop; returns 0 when
    everything received was stored (or nobody signed in), 1 when the cache could not take it
    all, 2 when the health endpoint cannot listen or nobody could sign in; the window is in
    ``language`` (``--lang``), else in the system locale's. ``engine``: the engine process,
    spawned early (while the window's modules were imported; its caller stops it in the
    end); else the session ``[app] engine_process`` asks for is opened here. ``metrics``:
    the health endpoint, started already; else started here when the config asks for one."""
    register_scheme()
    use_rendering(config.rendering)  # before the first web view
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("CityOps")
    apply_theme(app)  # the theme ui.app chose before importing the window
    install_translation(app, language)  # --lang, else the system locale
    if metrics is None:
        try:
            metrics = start_metrics(config)
        except MetricsError as error:
            return refuse_start(error)
    signed_in = who_watches(config) if kiosk else who_works(config)
    if isinstance(signed_in, int):
        if metrics is not None:
            metrics.stop()
        return signed_in
    principal, authenticator = signed_in
    try:
        session = engine if engine is not None else open_session(config, cache_dir)
    except CacheError as error:
        print(f"cityops: {error}", file=sys.stderr)
        if metrics is not None:
            metrics.stop()
        return 1
    stored_everything = False
    try:
        session.start()  # an engine's CacheError is said below, and the engine stopped
        window, bridge = build_window(
            session,
            metrics.collector.publish if metrics is not None else None,
            principal=principal,
            authenticator=authenticator,
            kiosk=kiosk,
        )
        if session.cache_recovery is not None:
            window.show_cache_recovery(session.cache_recovery.describe())
        install_signal_handlers(app)
        wall = KioskWindow(window, config, authenticator) if kiosk else None
        if wall is not None:
            reporter = window.findChild(HealthReporter)
            if reporter is not None:
                reporter.kiosk = wall.sample
                wall.destroyed.connect(lambda: setattr(reporter, "kiosk", None))
            wall.start()  # the workstation window stays hidden: it owns the data
        else:
            window.show()
        if review is not None and window.review is not None:
            window.review.enter(review)
        if screenshot is not None:
            schedule_screenshot(app, wall or window, screenshot, screenshot_delay)
        tune_garbage_collector()
        app.exec()
        bridge.stop()
        # Delete the wall and the window (and their map pages) while the web profile exists.
        if wall is not None:
            with contextlib.suppress(RuntimeError):  # gone already: a supervisor left it
                wall.deleteLater()
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    except (CacheError, EngineError) as error:  # the engine could not open, restore or start
        print(f"cityops: {error}", file=sys.stderr)
        return 1
    finally:
        if metrics is not None:
            metrics.stop()
        stored_everything = session.stop().complete
    if not stored_everything:
        print(
            "cityops: not everything received could be stored in the offline cache (see the log)",
            file=sys.stderr,
        )
        return 1
    return 0
