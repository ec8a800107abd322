"""The review workspace: the same map, gauges, alarm list, details and trend showing the
city as it was at a moment of the past, chosen on the replay bar.

Entering review, the live deltas stop reaching the views' state: their state part
(entities, readings, alarms) is kept in a live shadow, the rest (feeds, incidents, results)
still reaches the window, and the recording into the cache goes on underneath. Each replayed
moment is read from the offline cache on the ``cityops-replay`` thread, over its own
read-only connection, and comes back (through a queued signal) as the delta from what the
views show to that moment, so the views replay unchanged. Returning to live applies the
delta from the replayed moment to the live shadow.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDateTime, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QMenu,
)

from services.model import Alarm, AlarmState, Delta, TrackPoint
from services.store.replay import ReplaySource, ViewState, state_part, step_time
from services.timeutil import named_window
from ui.bridge import DeltaBridge
from widgets.i18n import translate
from widgets.replay_bar import ReplayBar

if TYPE_CHECKING:
    from ui.main_window import HistoryFunction, MainWindow

log = logging.getLogger(__name__)

PLAY_TICK_MS = 250
"""How often a playing replay asks for the next moment (it skips moments when reading one
takes longer)."""
HOUR_S = 3_600.0
DAY_S = 86_400.0
OLDEST_REVIEW_S = 400 * DAY_S
"""A custom review window starts no earlier than this before now (the history tiers keep a
year by default)."""
JUMP_LEAD_S = 60.0
"""A jump to an alarm or an action shows the city this long before it."""

SeriesPoints = dict[tuple[str, str], list[tuple[float, float]]]
"""(entity, metric) → (time, value) points of the history, oldest first."""
Tracks = dict[str, list[TrackPoint]]
"""Entity → its track points up to the moment shown, oldest first."""


class ReviewControls(QObject):
    """The replay bar, the Review menu and the replay itself, for one window.

    ``source`` opens the :class:`ReplaySource` (the cache file) when a review starts; the
    moments and the series the details and trend show are read from it on the replay thread.
    """

    _finished = Signal(object)
    """A callable to run on the GUI thread (work done on the replay thread)."""

    def __init__(
        self,
        window: MainWindow,
        bridge: DeltaBridge,
        source: Callable[[], ReplaySource],
        *,
        shifts: tuple[str, ...],
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.bridge = bridge
        self._open_source = source
        self._series_read: SeriesPoints = {}
        self._series_asked = False
        self._tracks_read: Tracks = {}
        self._tracks_read_since = math.inf  # how far back they were read (inf: not read)
        self._shifts = shifts
        self._now = clock
        self._source: ReplaySource | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._finished.connect(self._run_finished, Qt.ConnectionType.QueuedConnection)
        self.active = False
        self._live_history: HistoryFunction | None = None
        self._live_shadow = ViewState()
        self._shown = ViewState()
        self._generation = 0
        self._busy = False
        self._wanted: float | None = None
        self._alarm_times: list[float] = []
        self._window_key = "hour"
        self._live_changes = 0
        self._play_origin: tuple[float, float] | None = None  # (monotonic, replayed time)
        self.frames = 0
        """Replayed moments shown since the start (for tests and benchmarks)."""
        self.shown_at: float | None = None
        """The moment the views show now (None: live)."""

        self.bar = ReplayBar(window)
        self.bar.hide()
        window.top_layout.addWidget(self.bar)
        self.bar.seekRequested.connect(self.seek)
        self.bar.playToggled.connect(self.set_playing)
        self.bar.speedChanged.connect(lambda _speed: self._restart_play_clock())
        self.bar.stepRequested.connect(self.step)
        self.bar.windowRequested.connect(self.choose_window)
        self.bar.liveRequested.connect(self.leave)
        self._play_timer = QTimer(self)
        self._play_timer.setInterval(PLAY_TICK_MS)
        self._play_timer.timeout.connect(self._play_tick)
        self._add_menu()
        window.journal.view.replayRequested.connect(self.jump)
        window.alarm_view.replayRequested.connect(self.jump)
        window.alarm_view.replay_action.setVisible(True)
        window.incidents.view.replayRequested.connect(self.jump)
        window.incidents.view.replay_button.show()
        window.journal.view.momentActivated.connect(self._journal_moment)
        window.closing.connect(self.shutdown)

    # -- menu -----------------------------------------------------------------------------

    def _add_menu(self) -> None:
        window = self.window
        menu = QMenu(translate("Review", "&Review"), window)
        self.review_action = QAction(translate("Review", "&Review the past"), window)
        self.review_action.setCheckable(True)
        self.review_action.setShortcut(QKeySequence("Ctrl+R"))
        self.review_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.review_action.setToolTip(
            translate("Review", "Replay the city as it was; Ctrl+R again returns to live")
        )
        self.review_action.triggered.connect(lambda on: self.enter("hour") if on else self.leave())
        menu.addAction(self.review_action)
        self.play_action = self._action(
            menu, translate("Review", "&Play / pause"), "F8", self.bar.play_button.toggle
        )
        self.previous_action = self._action(
            menu, translate("Review", "P&revious alarm"), "Ctrl+[", lambda: self.step(-1)
        )
        self.next_action = self._action(
            menu, translate("Review", "&Next alarm"), "Ctrl+]", lambda: self.step(1)
        )
        menu.addSeparator()
        for key, text in (
            ("hour", translate("Review", "Review the last &hour")),
            ("shift", translate("Review", "Review this &shift")),
            ("day", translate("Review", "Review the last &24 hours")),
            ("custom", translate("Review", "Review a &custom window…")),
        ):
            action = QAction(text, window)
            action.triggered.connect(partial(self.choose_window, key))
            menu.addAction(action)
        bar = window.menu_bar
        help_menu = bar.actions()[-1] if bar.actions() else None
        bar.insertMenu(help_menu, menu) if help_menu is not None else bar.addMenu(menu)
        self.menu = menu
        self._enable_replay_actions(False)

    def _action(self, menu: QMenu, text: str, shortcut: str, slot: Callable[[], Any]) -> QAction:
        action = QAction(text, self.window)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _enable_replay_actions(self, on: bool) -> None:
        for action in (self.play_action, self.previous_action, self.next_action):
            action.setEnabled(on)

    # -- entering and leaving -------------------------------------------------------------

    def enter(
        self,
        window_key: str = "hour",
        at: float | None = None,
        window: tuple[float, float] | None = None,
    ) -> bool:
        """Start reviewing (or change the window when already reviewing); the views show
        ``at`` (default: the start of the window). ``window`` gives (since, until) instead
        of the named window's. False when the cache cannot be read or nothing was chosen."""
        since, until = window if window is not None else self.window_for(window_key)
        if since is None or until is None:
            return False
        if not self.active and not self._start():
            return False
        self._set_window(window_key, since, until)
        self.seek(since if at is None else min(max(at, since), until))
        return True

    def _start(self) -> bool:
        try:
            self._source = self._open_source()
        except Exception as error:
            log.error("cannot replay: the offline cache cannot be read: %s", error)
            self.window.statusBar().showMessage(
                translate(
                    "Review", "Cannot replay: the offline cache cannot be read ({error})"
                ).format(error=error),
                10000,
            )
            self.review_action.setChecked(False)
            return False
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="cityops-replay")
        window = self.window
        self._live_shadow = live_view_state(window)
        self._shown = self._live_shadow.copy()
        self._live_changes = 0
        self.bridge.deltaReady.disconnect(window.apply_delta)
        self.bridge.deltaReady.connect(self._live_delta)
        self.active = True
        self._live_history = window._history
        window.set_replaying(True, self._shown_moment, self._replay_history)
        self._tracks_read, self._tracks_read_since = {}, math.inf
        window.map_layers.set_replay_tracks(self._replay_tracks)
        self.review_action.setChecked(True)
        self._enable_replay_actions(True)
        self.bar.show()
        self._show_note()
        log.info("review started")
        return True

    def leave(self) -> None:
        """Return to live: the views show the live state again; the replay stops."""
        if not self.active:
            self.review_action.setChecked(False)
            return
        self.set_playing(False)
        self._generation += 1  # moments still being read are dropped
        self.active = False
        self._wanted = None
        window = self.window
        self.bridge.deltaReady.disconnect(self._live_delta)
        self.bridge.deltaReady.connect(window.apply_delta)
        window.set_replaying(False, time.time, self._live_history)
        window.map_layers.set_replay_tracks(None)
        window.apply_delta(self._shown.delta_to(self._live_shadow))
        # The replayed versions carry the revisions the cache holds now: forget them, so
        # that the next live version of each alarm is taken whatever its revision.
        window.alarm_view.model.forget_revisions()
        window.refresh_map()
        window.refresh_kpis()
        window.refresh_entity_views()
        self._shown = ViewState()
        self._live_shadow = ViewState()
        self.shown_at = None
        self.bar.hide()
        self.review_action.setChecked(False)
        self._enable_replay_actions(False)
        window.update_freshness()
        self._close_source()
        log.info("review ended: back to live")

    def shutdown(self) -> None:
        """Stop the replay thread and close the cache connection (the window closes)."""
        self._generation += 1
        self._play_timer.stop()
        self._close_source()

    def _close_source(self) -> None:
        executor, self._executor = self._executor, None
        source, self._source = self._source, None
        self._busy = False
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        if source is not None:
            source.close()

    # -- the window -----------------------------------------------------------------------

    def window_for(self, key: str) -> tuple[float | None, float | None]:
        """(since, until) of a named review window; for ``custom``, what the person chose
        (None, None when they cancelled)."""
        now = self._now()
        if key == "custom":
            return self._ask_window(now)
        return named_window(key, now, self._shifts)

    def choose_window(self, key: str) -> None:
        """Review another window (from the bar or the menu), starting the review if needed."""
        if not self.enter(key) and self.active:  # a custom window cancelled: keep the one shown
            since, until = self.bar.review_window()
            self.bar.set_window(self._window_key, since, until)

    def _ask_window(self, now: float) -> tuple[float | None, float | None]:
        dialog = QDialog(self.window)
        dialog.setWindowTitle(translate("Review", "Review a custom window"))
        form = QFormLayout(dialog)
        since_edit = QDateTimeEdit(QDateTime.fromSecsSinceEpoch(int(now - 8 * HOUR_S)))
        until_edit = QDateTimeEdit(QDateTime.fromSecsSinceEpoch(int(now)))
        for edit in (since_edit, until_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
            edit.setMinimumDateTime(QDateTime.fromSecsSinceEpoch(int(now - OLDEST_REVIEW_S)))
            edit.setMaximumDateTime(QDateTime.fromSecsSinceEpoch(int(now)))
        form.addRow(translate("Review", "From"), since_edit)
        form.addRow(translate("Review", "Until"), until_edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        form.addRow(buttons)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None, None
        since = since_edit.dateTime().toSecsSinceEpoch()
        until = until_edit.dateTime().toSecsSinceEpoch()
        if until <= since:
            self.window.statusBar().showMessage(
                translate("Review", "The review window must end after it starts"), 8000
            )
            return None, None
        return float(since), float(until)

    def _set_window(self, key: str, since: float, until: float) -> None:
        self._window_key = key
        self.bar.set_window(key, since, until)
        self._submit(partial(_alarm_times, since, until), self._show_alarm_times)

    def _show_alarm_times(self, times: list[float]) -> None:
        self._alarm_times = times
        self.bar.set_alarm_marks(times)

    # -- moving in time -------------------------------------------------------------------

    def seek(self, at: float) -> None:
        """Show the moment ``at``; while a moment is being read, only the latest asked for
        is read next."""
        if not self.active:
            return
        since, until = self.bar.review_window()
        at = min(max(at, since), until)
        self.bar.set_time(at)
        self._restart_play_clock()
        self._request(at)

    def jump(self, at: float) -> None:
        """Show the city a minute before ``at`` (an alarm, action or incident), entering
        review — of the last 24 hours, or of the window around ``at`` — when live."""
        target = at - JUMP_LEAD_S
        if self.active:
            since, until = self.bar.review_window()
            if since <= target <= until:
                self.seek(target)
                return
        now = self._now()
        if now - target <= DAY_S:
            self.enter("day", target)
        else:  # older than a day: the two hours around it
            self.enter("custom", target, (target - HOUR_S, min(target + HOUR_S, now)))

    def _journal_moment(self, at: float) -> None:
        """A journal row activated while reviewing moves the replay there."""
        if self.active:
            self.jump(at)

    def step(self, direction: int) -> None:
        """Go to the previous (-1) or next (1) alarm raised in the window."""
        if not self.active:
            return
        found = step_time(self._alarm_times, self.bar.time(), direction)
        if found is None:
            self.window.statusBar().showMessage(
                translate("Review", "No earlier alarm in this window")
                if direction < 0
                else translate("Review", "No later alarm in this window"),
                5000,
            )
            return
        self.set_playing(False)
        self.seek(found)

    def set_playing(self, playing: bool) -> None:
        """Play (the replayed time runs at the chosen speed) or pause."""
        playing = playing and self.active
        self.bar.set_playing(playing)
        if playing:
            since, until = self.bar.review_window()
            if self.bar.time() >= until:
                self.seek(since)
            self._restart_play_clock()
            self._play_timer.start()
        else:
            self._play_timer.stop()
            self._play_origin = None

    def _restart_play_clock(self) -> None:
        self._play_origin = (time.monotonic(), self.bar.time())

    def _play_tick(self) -> None:
        if self._play_origin is None:
            self._restart_play_clock()
        assert self._play_origin is not None
        started, from_time = self._play_origin
        at = from_time + (time.monotonic() - started) * self.bar.speed()
        _since, until = self.bar.review_window()
        if at >= until:
            at = until
            self.set_playing(False)
        self.bar.set_time(at)
        self._request(at)

    # -- reading moments on the replay thread ---------------------------------------------

    def _request(self, at: float) -> None:
        if self._busy:
            self._wanted = at
            return
        self._busy = True
        since, _until = self.bar.review_window()
        tracks_since = at - self.window.map_layers.track_span_s()
        work = partial(
            _frame, self._shown, at, self._series_wanted(), since=since, tracks_since=tracks_since
        )
        self._submit(work, partial(self._show_frame, at, tracks_since), frame=True)

    def _series_wanted(self) -> list[tuple[str, str]]:
        """The (entity, metric) series the details and the trend show (read with a frame)."""
        window = self.window
        wanted: list[tuple[str, str]] = []
        for entity_id in {window.details.entity_id(), window.trend.entity_id()}:
            if entity_id is not None:
                wanted.extend((entity_id, metric) for metric in window.values.get(entity_id, {}))
        return wanted

    def _submit(
        self, work: Callable[[ReplaySource], Any], done: Callable[[Any], None], frame: bool = False
    ) -> None:
        executor, source = self._executor, self._source
        if executor is None or source is None:
            return
        generation = self._generation

        def run() -> None:
            try:
                result = work(source)
            except Exception:
                log.exception("replay: reading the offline cache failed")
                result = None
            self._finished.emit(partial(self._deliver, generation, done, result, frame))

        executor.submit(run)

    def _run_finished(self, call: Callable[[], None]) -> None:
        call()

    def _deliver(
        self, generation: int, done: Callable[[Any], None], result: Any, frame: bool
    ) -> None:
        if generation != self._generation or not self.active:
            return
        if frame:
            self._busy = False
        try:
            if result is None:
                self.window.statusBar().showMessage(
                    translate(
                        "Review", "Replay: the offline cache could not be read (see the log)"
                    ),
                    10000,
                )
            else:
                done(result)
        finally:
            if frame and self._wanted is not None:
                wanted, self._wanted = self._wanted, None
                self._request(wanted)

    def _show_frame(
        self,
        at: float,
        tracks_since: float,
        result: tuple[ViewState, Delta, SeriesPoints, Tracks],
    ) -> None:
        state, delta, series, tracks = result
        self._series_read = series
        self._tracks_read = tracks
        self._tracks_read_since = tracks_since if tracks_since < at else math.inf
        self._series_asked = False
        self._shown = state
        self.shown_at = at
        # Replayed versions carry the cache's current revisions: take each frame's as is.
        self.window.alarm_view.model.forget_revisions()
        self.window.apply_delta(delta)
        self.window.refresh_map()
        self.window.map_layers.refresh()
        self.window.refresh_kpis()
        self.window.refresh_entity_views()
        self._show_note()
        self.frames += 1
        log.debug("replayed %s: %d changes", at, len(delta.entities) + len(delta.latest))

    # -- live underneath ------------------------------------------------------------------

    def _live_delta(self, delta: Delta) -> None:
        """A live delta while reviewing: its state is kept for the return to live, the rest
        (feeds, incidents, action results, cache health) shown at once."""
        state, rest = state_part(delta)
        self._live_changes += sum(
            1 for alarm in state.alarms.values() if alarm.state is AlarmState.UNACKNOWLEDGED
        )
        self._live_shadow.apply(state)
        if not rest.is_empty():
            self.window.apply_delta(rest)
        if state.alarms:
            self._show_note()

    def _show_note(self) -> None:
        if self.shown_at is not None and not self._shown.entities:
            text = translate(
                "Review",
                "Nothing was recorded by this moment: move the slider later. Live recording"
                " continues underneath ({count} live alarm changes since the review began).",
            )
        else:
            text = translate(
                "Review",
                "The city as the offline cache recorded it; live recording continues underneath"
                " ({count} live alarm changes since the review began). Actions are off.",
            )
        self.bar.set_note(text.format(count=self._live_changes))

    def _shown_moment(self) -> float:
        """The moment the views show (ages and the trend's end are measured from it)."""
        return self.shown_at if self.shown_at is not None else self.bar.time()

    def live_alarms(self) -> list[Alarm]:
        """The live alarms kept aside while reviewing (what the list showed live)."""
        return list(self._live_shadow.alarms.values())

    def _replay_history(self, entity_id: str, metric: str) -> list[tuple[float, float]]:
        """A series as read with the moment shown; one not read with it (an entity picked
        since) is asked for with the same moment again, never read on the GUI thread."""
        points = self._series_read.get((entity_id, metric))
        if points is not None:
            return points
        if not self._series_asked and self.shown_at is not None:
            self._series_asked = True
            QTimer.singleShot(0, self._read_series_again)
        return []

    def _replay_tracks(self, since: float) -> Tracks:
        """The vehicle tracks read with the moment shown, from ``since`` on (each with its
        point before it); a longer span than was read (tracks switched on, more minutes)
        has the same moment read again, never on the GUI thread."""
        if since < self._tracks_read_since and not self._series_asked and self.shown_at is not None:
            self._series_asked = True
            QTimer.singleShot(0, self._read_series_again)
        return {
            entity_id: kept
            for entity_id, points in self._tracks_read.items()
            if len(kept := _points_since(points, since)) >= 2
        }

    def _read_series_again(self) -> None:
        """Read the moment shown again, with the series and the tracks now shown (unless a
        moment is being read: the views ask again when it is shown)."""
        if self.active and not self._busy and self.shown_at is not None:
            self._request(self.shown_at)


def live_view_state(window: MainWindow) -> ViewState:
    """What the window's views show now, as a :class:`ViewState` (copies)."""
    state = ViewState()
    for key, entity in window.entities.items():
        state.entities[key] = entity
    for entity_id, series in window.values.items():
        for metric, reading in series.items():
            state.latest[(entity_id, metric)] = reading
    for alarm in window.alarm_view.model.alarms():
        state.alarms[alarm.id] = alarm
    return state.copy()


def _frame(
    shown: ViewState,
    at: float,
    wanted: list[tuple[str, str]],
    source: ReplaySource,
    *,
    since: float,
    tracks_since: float,
) -> tuple[ViewState, Delta, SeriesPoints, Tracks]:
    state = source.state(at, shown)
    series = {
        (entity, metric): source.series(entity, metric, since, at) for entity, metric in wanted
    }
    tracks = source.tracks(tracks_since, at) if tracks_since < at else {}
    return state, shown.delta_to(state), series, tracks


def _points_since(points: list[TrackPoint], since: float) -> list[TrackPoint]:
    """``points`` (oldest first) from ``since`` on, with the last one before it."""
    first = next((index for index, point in enumerate(points) if point[0] >= since), None)
    if first is None:
        return []
    return points[max(0, first - 1) :]


def _alarm_times(since: float, until: float, source: ReplaySource) -> list[float]:
    return source.alarm_times(since, until)


def open_replay_source(path: Path, raw_days: float) -> Callable[[], ReplaySource]:
    """A function opening the replay's read-only connection to the cache at ``path`` (whose
    raw readings are kept ``raw_days``)."""
    return lambda: ReplaySource(path, raw_days)
