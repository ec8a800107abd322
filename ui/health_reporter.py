"""The Qt side of the health endpoint: a probe of the GUI event loop and the snapshot of
what the window shows, published once a second to :class:`services.monitoring.HealthCollector`.

Everything here runs on the GUI thread, which already owns the window's state; the metrics
server's threads only ever see the immutable snapshots.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping

from PySide6.QtCore import QObject, Qt, QTimer

from services.model import Alarm, CacheHealth, Delta, FeedHealth, FeedState
from services.monitoring import BrokerSample, FeedSample, HealthSnapshot
from services.monitoring.metrics import SNAPSHOT_INTERVAL_S
from services.monitoring.snapshot import KioskSample, count_alarms
from ui.bridge import DeltaBridge
from ui.main_window import MainWindow

log = logging.getLogger(__name__)

PROBE_INTERVAL_MS = 100
LAG_WINDOW_S = 10.0
"""The event-loop lag reported is the largest over this many seconds."""


class EventLoopProbe(QObject):
    """A timer on the GUI thread that measures how late the event loop runs it."""

    def __init__(
        self,
        parent: QObject | None = None,
        interval_ms: int = PROBE_INTERVAL_MS,
        window_s: float = LAG_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self._interval = interval_ms / 1000
        self._window = window_s
        self._clock = clock
        self._last = clock()
        self._lags: deque[tuple[float, float]] = deque()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.tick)

    def start(self) -> None:
        self._last = self._clock()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def tick(self) -> None:
        """One probe: how much later than its interval the timer ran."""
        now = self._clock()
        self.record(now, max(0.0, now - self._last - self._interval))
        self._last = now

    def record(self, now: float, lag: float) -> None:
        self._lags.append((now, lag))
        while self._lags and self._lags[0][0] < now - self._window:
            self._lags.popleft()

    def max_lag(self) -> float:
        """The largest lag seen over the last ``window_s`` seconds (0 when none)."""
        cutoff = self._clock() - self._window
        return max((lag for when, lag in self._lags if when >= cutoff), default=0.0)


class HealthReporter(QObject):
    """Builds a :class:`HealthSnapshot` once a second from what the window shows.

    ``live`` says whether the window shows live data (the freshness verdict), ``alarms`` and
    ``feeds`` give the alarms and feeds on screen; broker states and the cache health, which
    the window shows but does not keep, are followed from the deltas (:meth:`apply_delta`).
    ``brokers`` maps the MQTT brokers' connection labels (their URLs) to their configured
    names: only those are reported, by name (an HTTP feed's URL, which may carry a key in
    its query, never becomes a label).
    """

    def __init__(
        self,
        publish: Callable[[HealthSnapshot], None],
        *,
        live: Callable[[], bool],
        alarms: Callable[[], Iterable[Alarm]],
        feeds: Callable[[], Iterable[FeedHealth]],
        brokers: Mapping[str, str] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._publish = publish
        self._live = live
        self._alarms = alarms
        self._feeds = feeds
        self._broker_names = dict(brokers or {})
        self._brokers: dict[str, FeedState] = {}
        self._cache = CacheHealth()
        self.kiosk: Callable[[], KioskSample] | None = None
        """The wall's sample, when the window feeds a wall (``cityops --kiosk``)."""
        self.probe = EventLoopProbe(self)
        self._timer = QTimer(self)
        self._timer.setInterval(int(SNAPSHOT_INTERVAL_S * 1000))
        self._timer.timeout.connect(self.report)

    @classmethod
    def for_window(
        cls,
        window: MainWindow,
        bridge: DeltaBridge,
        publish: Callable[[HealthSnapshot], None],
        brokers: Mapping[str, str] | None = None,
    ) -> HealthReporter:
        """A reporter on ``window``'s views, following ``bridge``'s deltas (not started)."""
        reporter = cls(
            publish,
            # A replay of the past on screen is not live, whatever the feeds do.
            live=lambda: window.freshness.verdict().live and not window.replaying,
            alarms=window.live_alarms,  # the live ones, also while a replay is shown
            feeds=window.feed_panel.model.items,
            brokers=brokers,
            parent=window,
        )
        bridge.deltaReady.connect(reporter.apply_delta)
        return reporter

    def apply_delta(self, delta: Delta) -> None:
        """Follow the broker states and the cache health."""
        for label, state in delta.brokers.items():
            name = self._broker_names.get(label)
            if name is not None:
                self._brokers[name] = state
        if delta.cache is not None:
            self._cache = delta.cache

    def start(self) -> None:
        """Publish a snapshot now and then once a second."""
        self.probe.start()
        self.report()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self.probe.stop()

    def snapshot(self) -> HealthSnapshot:
        """What the window shows now."""
        active, unacknowledged = count_alarms(self._alarms())
        return HealthSnapshot(
            taken_at=time.time(),
            taken_monotonic=time.monotonic(),
            display_live=self._live(),
            feeds=tuple(FeedSample.of(health) for health in self._feeds()),
            brokers=tuple(BrokerSample(name, state) for name, state in self._brokers.items()),
            cache=self._cache,
            alarms_active=tuple(active.items()),
            alarms_unacknowledged=unacknowledged,
            event_loop_lag=self.probe.max_lag(),
            kiosk=self.kiosk() if self.kiosk is not None else None,
        )

    def report(self) -> None:
        """Publish the current snapshot."""
        self._publish(self.snapshot())
