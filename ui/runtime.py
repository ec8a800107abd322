"""Starts the Qt application around a running :class:`CitySession` and shuts it down cleanly."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QApplication

from services.config import AppConfig
from services.session import CitySession
from services.store.cache import CacheError
from services.store.export import export
from ui.bridge import DeltaBridge
from ui.main_window import MainWindow
from ui.theme import apply_dark_theme
from widgets.map_scheme import register_scheme

log = logging.getLogger(__name__)


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


def demo_boundaries() -> dict[str, object] | None:
    """District outlines of the demo city, when the demo data ships them."""
    from services.demo.simulator import load_demo_city

    return dict(load_demo_city().districts)


def build_window(session: CitySession) -> tuple[MainWindow, DeltaBridge]:
    """The main window wired to a started session (also used by the end-to-end tests)."""
    config = session.config

    def export_alarms(path: Path) -> int:
        with path.open("w", newline="", encoding="utf-8") as out:
            return export(session.cache, "alarms", "csv", out)

    window = MainWindow(
        config,
        acknowledge=lambda ids: session.pipeline.acknowledge(ids, config.operator),
        export_alarms=export_alarms,
        boundaries=demo_boundaries() if config.demo else None,
        pause_feed=session.pause_feed,
        resume_feed=session.resume_feed,
        feed_manager=session,
        history=session.pipeline.hub.series,
    )
    bridge = DeltaBridge(session.pipeline.take_delta, parent=window)
    bridge.deltaReady.connect(window.apply_delta)
    bridge.rateChanged.connect(window.set_message_rate)
    restored = len(session.snapshot.entities) if session.snapshot else 0
    bridge.tick()
    window.show_restored(restored)
    bridge.start()
    return window, bridge


def schedule_screenshot(app: QApplication, window: MainWindow, path: Path, delay: float) -> None:
    """Save a PNG of the window after ``delay`` seconds, then quit."""

    def capture() -> None:
        if window.grab().save(str(path)):
            log.info("saved a screenshot of the window to %s", path)
        else:
            log.error("could not save a screenshot to %s", path)
        app.quit()

    QTimer.singleShot(int(delay * 1000), capture)


def run_gui(
    config: AppConfig,
    cache_dir: Path,
    *,
    screenshot: Path | None = None,
    screenshot_delay: float = 8.0,
) -> int:
    """Run the window until it is closed or the process is told to stop; returns 0 when
    everything received was stored, 1 when the cache could not take it all."""
    register_scheme()
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("CityOps")
    apply_dark_theme(app)
    try:
        session = CitySession(config, cache_dir)
    except CacheError as error:
        print(f"cityops: {error}", file=sys.stderr)
        return 1
    stored_everything = False
    try:
        session.start()
        window, bridge = build_window(session)
        if session.cache_recovery is not None:
            window.show_cache_recovery(session.cache_recovery.describe())
        install_signal_handlers(app)
        window.show()
        if screenshot is not None:
            schedule_screenshot(app, window, screenshot, screenshot_delay)
        app.exec()
        bridge.stop()
        # Delete the window (and its map page) while the web profile still exists.
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    finally:
        stored_everything = session.stop().complete
    if not stored_everything:
        print(
            "cityops: not everything received could be stored in the offline cache (see the log)",
            file=sys.stderr,
        )
        return 1
    return 0
