"""Alarm-system KPIs: raises counted once each, flood with hysteresis, chattering,
standing and stale alarms, most frequent, priority distribution."""

from __future__ import annotations

import json
from dataclasses import replace

from services.alarms.kpis import AlarmStatistics
from services.config import AppConfig, FeedConfig, RuleConfig
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.model import Alarm, AlarmState, Condition, Severity

T0 = 1_790_000_000.0


def raised(entity: str, at: float, count: int = 1, severity: Severity = Severity.LOW) -> Alarm:
    return Alarm(entity, "pm25", Condition.HIGH, severity, AlarmState.UNACKNOWLEDGED,
                 90.0, 75.0, at, at, count=count)  # fmt: skip


def test_raises_are_counted_once_and_a_flood_starts_above_ten_and_ends_below_five() -> None:
    stats = AlarmStatistics()
    first = [raised(f"s{n}", T0 + n) for n in range(10)]
    stats.record(first, T0 + 10)
    stats.record([replace(first[0], state=AlarmState.ACKNOWLEDGED)], T0 + 11)  # not a raise
    kpis = stats.kpis(first, T0 + 12)
    assert (kpis.raises_10min, kpis.flood) == (10, False)
    stats.record([raised("s10", T0 + 12)], T0 + 12)
    kpis = stats.kpis(first, T0 + 13)
    assert (kpis.raises_10min, kpis.flood, kpis.flood_since) == (11, True, T0 + 12)
    # Ten minutes on, six raises are still in the window: five or more, the flood goes on.
    assert stats.kpis([], T0 + 600 + 5).flood
    kpis = stats.kpis([], T0 + 600 + 8)  # three left in the window: the flood is over
    assert (kpis.raises_10min, kpis.flood) == (3, False)


def test_chattering_top_and_priority_distribution() -> None:
    stats = AlarmStatistics()
    for count in range(1, 4):  # s1 raised three times within 40 s
        stats.record([raised("s1", T0 + 20 * count, count, Severity.HIGH)], T0 + 20 * count)
    stats.record([raised("s2", T0 + 100, 1, Severity.LOW)], T0 + 100)
    stats.record([raised("s2", T0 + 400, 2, Severity.LOW)], T0 + 400)
    kpis = stats.kpis([], T0 + 500)
    assert kpis.chattering == ("s1|pm25|high",)
    assert kpis.top[0] == ("s1|pm25|high", 3)
    assert kpis.by_priority == {Severity.HIGH: 3, Severity.LOW: 2}
    assert kpis.raises_24h == 5
    strict = AlarmStatistics(chatter_raises=4, chatter_window=60.0)  # [alarms] settings
    for count in range(1, 4):
        strict.record([raised("s1", T0 + 20 * count, count)], T0 + 20 * count)
    assert strict.kpis([], T0 + 500).chattering == ()


def test_suppressed_and_out_of_service_are_counted() -> None:
    hidden = [
        replace(raised("s1", T0), state=AlarmState.SUPPRESSED, shelved_active=True),
        replace(raised("s2", T0), state=AlarmState.OUT_OF_SERVICE),
        replace(raised("s3", T0), state=AlarmState.OUT_OF_SERVICE, shelved_active=True),
    ]
    kpis = AlarmStatistics().kpis(hidden, T0 + 1)
    assert (kpis.suppressed, kpis.out_of_service, kpis.active) == (1, 2, 0)


def test_standing_and_stale_alarms() -> None:
    stats = AlarmStatistics()
    old = raised("s1", T0 - 90_000)
    acked_old = replace(raised("s2", T0 - 90_000), state=AlarmState.ACKNOWLEDGED)
    fresh = raised("s3", T0 - 60)
    shelved = replace(raised("s4", T0 - 60), state=AlarmState.SHELVED, shelved_active=True)
    kpis = stats.kpis([old, acked_old, fresh, shelved], T0)
    assert (kpis.active, kpis.standing, kpis.stale, kpis.shelved) == (3, 2, 1, 1)


def test_the_pipeline_publishes_the_kpis_in_the_delta() -> None:
    config = AppConfig(
        source="t",
        feeds=(FeedConfig(name="air", topic="a/#", domain="environment"),),
        rules=(RuleConfig(metric="pm25", high=75),),
    )
    pipe = IngestPipeline(config, None, clock=lambda: T0 + 30)
    batch = [
        RawMessage("air", "a/x", json.dumps({"id": f"s{n}", "pm25": 90, "ts": T0}).encode(), T0)
        for n in range(12)
    ]
    pipe.process_batch(batch)
    pipe.housekeeping(force=True)
    kpis = pipe.take_delta().alarm_kpis
    assert kpis is not None
    assert (kpis.raises_10min, kpis.flood, kpis.active) == (12, True, 12)
