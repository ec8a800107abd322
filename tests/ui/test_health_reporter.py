"""The Qt side of the health endpoint: the event-loop probe and the snapshot of the window."""

from __future__ import annotations

import time

from pytestqt.qtbot import QtBot

from services.config import AppConfig, FeedConfig
from services.model import (
    Alarm,
    AlarmState,
    CacheHealth,
    CacheState,
    Condition,
    Delta,
    FeedHealth,
    FeedState,
    Severity,
)
from services.monitoring import BrokerSample, FeedSample, HealthSnapshot
from ui.bridge import DeltaBridge
from ui.health_reporter import EventLoopProbe, HealthReporter
from ui.main_window import MainWindow

CONFIG = AppConfig(source="test", feeds=(FeedConfig(name="air", topic="a/#"),))


def test_probe_sees_a_blocked_event_loop(qtbot: QtBot) -> None:
    probe = EventLoopProbe(interval_ms=20)
    probe.start()
    qtbot.wait(100)
    time.sleep(0.5)  # the GUI thread is busy: no event is handled meanwhile
    qtbot.wait(100)
    assert probe.max_lag() >= 0.4
    probe.stop()


def test_probe_keeps_the_largest_lag_of_the_window_only() -> None:
    now = [100.0]
    probe = EventLoopProbe(window_s=10.0, clock=lambda: now[0])
    probe.record(100.0, 2.0)
    probe.record(105.0, 0.5)
    assert probe.max_lag() == 2.0
    now[0] = 111.0
    assert probe.max_lag() == 0.5
    now[0] = 116.0
    assert probe.max_lag() == 0.0


def test_snapshot_of_what_the_window_shows(qtbot: QtBot) -> None:
    window = MainWindow(CONFIG, acknowledge=lambda ids, note: None)
    qtbot.addWidget(window)
    pending: list[Delta] = []
    bridge = DeltaBridge(lambda: pending.pop() if pending else Delta(), parent=window)
    bridge.deltaReady.connect(window.apply_delta)
    published: list[HealthSnapshot] = []
    reporter = HealthReporter.for_window(
        window, bridge, published.append, {"mqtt://127.0.0.1:1883": "default"}
    )
    reporter.start()
    first = published[-1]
    assert not first.display_live
    assert first.feeds == () and first.brokers == ()

    now = time.time()
    raised = Alarm(
        "aq-1", "pm25", Condition.HIGH, Severity.HIGH, AlarmState.UNACKNOWLEDGED, 90, 75, now, now
    )
    pending.append(
        Delta(
            feeds={"air": FeedHealth("air", FeedState.CONNECTED, 10, 2, 1.0, now)},
            brokers={
                "mqtt://127.0.0.1:1883": FeedState.CONNECTED,
                "https://api.example/v1?key=secret": FeedState.CONNECTED,
            },
            alarms={raised.id: raised},
            cache=CacheHealth(CacheState.DEGRADED, "disk full", now, 40),
            messages=10,
        )
    )
    bridge.tick()
    snapshot = reporter.snapshot()
    assert snapshot.display_live
    window.replaying = True  # a replay of the past on screen: not live
    assert not reporter.snapshot().display_live
    window.replaying = False
    assert snapshot.feeds == (FeedSample("air", FeedState.CONNECTED, 10, 2, now),)
    assert snapshot.brokers == (BrokerSample("default", FeedState.CONNECTED),)
    assert snapshot.cache.backlog_readings == 40
    assert dict(snapshot.alarms_active)[Severity.HIGH] == 1
    assert snapshot.alarms_unacknowledged == 1

    pending.append(Delta(brokers={"mqtt://127.0.0.1:1883": FeedState.DOWN}))
    bridge.tick()
    assert not reporter.snapshot().display_live
    qtbot.waitUntil(lambda: len(published) >= 2, timeout=3000)  # once a second
    reporter.stop()
