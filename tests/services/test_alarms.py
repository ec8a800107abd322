"""ISA-18.2 alarm states driven by threshold rules and acknowledgements."""

from __future__ import annotations

from pathlib import Path

from services.alarms.store import AlarmStore
from services.config import AppConfig, FeedConfig, RuleConfig
from services.decoders.base import ExternalAlarm
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.model import AlarmState, Condition, Reading, Severity, alarm_id
from services.store.cache import OfflineCache

RULE = RuleConfig(metric="pm25", high=75, high_high=150, deadband=5)
HIGH = alarm_id("s1", "pm25", Condition.HIGH)
HIGH_HIGH = alarm_id("s1", "pm25", Condition.HIGH_HIGH)


def reading(value: float, ts: float, entity: str = "s1", metric: str = "pm25") -> Reading:
    return Reading(entity_id=entity, metric=metric, value=value, ts=ts, feed="air")


def states(store: AlarmStore) -> dict[str, AlarmState]:
    return {alarm.id: alarm.state for alarm in store.alarms()}


def test_raise_ack_and_return_to_normal() -> None:
    store = AlarmStore([RULE])
    assert store.evaluate([reading(50, 1)]) == []
    (raised,) = store.evaluate([reading(80, 2)])
    assert (raised.id, raised.state, raised.severity) == (
        HIGH,
        AlarmState.UNACKNOWLEDGED,
        Severity.MEDIUM,
    )
    assert (raised.value, raised.threshold, raised.raised_at) == (80, 75, 2)
    assert store.evaluate([reading(90, 3)]) == []  # still active: no change
    (acked,) = store.acknowledge([HIGH], "ops", 4)
    assert (acked.state, acked.acked_by, acked.acked_at) == (AlarmState.ACKNOWLEDGED, "ops", 4)
    assert store.evaluate([reading(72, 5)]) == []  # inside the deadband
    (cleared,) = store.evaluate([reading(60, 6)])
    assert cleared.state is AlarmState.NORMAL
    assert store.worst_active_severity("s1") is None


def test_return_before_ack_needs_ack_and_repeats_are_counted() -> None:
    store = AlarmStore([RULE])
    store.evaluate([reading(80, 1)])
    (rtn,) = store.evaluate([reading(10, 2)])
    assert rtn.state is AlarmState.RTN_UNACKNOWLEDGED
    (again,) = store.evaluate([reading(99, 3)])
    assert (again.state, again.count) == (AlarmState.UNACKNOWLEDGED, 2)
    store.evaluate([reading(10, 4)])
    (acked,) = store.acknowledge([HIGH], "ops", 5)
    assert acked.state is AlarmState.NORMAL
    assert store.acknowledge([HIGH], "ops", 6) == []  # nothing left to acknowledge


def test_high_high_is_a_separate_alarm_with_higher_severity() -> None:
    store = AlarmStore([RULE])
    changed = store.evaluate([reading(200, 1)])
    assert {alarm.id for alarm in changed} == {HIGH, HIGH_HIGH}
    assert store.worst_active_severity("s1") is Severity.HIGH
    store.evaluate([reading(100, 2)])
    assert states(store) == {
        HIGH: AlarmState.UNACKNOWLEDGED,
        HIGH_HIGH: AlarmState.RTN_UNACKNOWLEDGED,
    }
    assert store.worst_active_severity("s1") is Severity.MEDIUM


def test_low_rules_entity_patterns_and_unrelated_metrics() -> None:
    rule = RuleConfig(metric="free_spaces", entity="park-*", low=20, low_low=5)
    store = AlarmStore([rule])
    assert store.evaluate([reading(1, 1, entity="other", metric="free_spaces")]) == []
    assert store.evaluate([reading(1, 1, entity="park-1", metric="pm25")]) == []
    changed = store.evaluate([reading(3, 1, entity="park-1", metric="free_spaces")])
    assert {alarm.condition for alarm in changed} == {Condition.LOW, Condition.LOW_LOW}


def test_rollback_restores_previous_versions() -> None:
    store = AlarmStore([RULE])
    (raised,) = store.evaluate([reading(80, 1)])
    store.acknowledge([HIGH], "ops", 2)
    store.rollback([raised])
    current = store.get(HIGH)
    assert current is not None and current.state is AlarmState.UNACKNOWLEDGED


def alert(source: str, **changes: object) -> ExternalAlarm:
    fields: dict[str, object] = {
        "source_id": source,
        "entity_id": "cap:yiyang-met",
        "event": "Rainstorm",
        "severity": Severity.HIGH,
        "sent_at": 10.0,
    }
    fields.update(changes)
    return ExternalAlarm(**fields)  # type: ignore[arg-type]


def test_external_alert_update_and_cancel() -> None:
    store = AlarmStore([])
    (raised,) = store.apply_external([alert("a1", message="Orange warning")])
    assert (raised.condition, raised.state, raised.metric) == (
        Condition.EXTERNAL,
        AlarmState.UNACKNOWLEDGED,
        "Rainstorm",
    )
    store.acknowledge([raised.id], "ops", 11)
    (updated,) = store.apply_external(
        [alert("a2", references=("a1",), sent_at=12.0, message="Still raining")]
    )
    assert (updated.state, updated.message, updated.count) == (
        AlarmState.ACKNOWLEDGED,
        "Still raining",
        1,
    )
    (escalated,) = store.apply_external(
        [alert("a3", references=("a2",), sent_at=13.0, severity=Severity.CRITICAL)]
    )
    assert escalated.state is AlarmState.UNACKNOWLEDGED
    (cancelled,) = store.apply_external([alert("a4", references=("a3",), cancel=True)])
    assert cancelled.state is AlarmState.RTN_UNACKNOWLEDGED


def test_external_alert_expires() -> None:
    store = AlarmStore([])
    store.apply_external([alert("a1", expires_at=100.0)])
    assert store.expire(99.0) == []
    (expired,) = store.expire(100.0)
    assert expired.state is AlarmState.RTN_UNACKNOWLEDGED
    assert store.expire(200.0) == []


def test_a_silent_feed_raises_a_no_data_alarm_and_its_next_message_clears_it() -> None:
    now = [1_800_000_000.0]
    config = AppConfig(
        source="test",
        feeds=(FeedConfig(name="air", topic="a/#", domain="environment", no_data_after=30.0),),
    )
    pipe = IngestPipeline(config, None, clock=lambda: now[0])
    key = "feed:air|messages|no_data"
    now[0] += 29
    pipe.housekeeping(force=True)
    assert pipe.alarms.get(key) is None  # silent, but not for long enough
    now[0] += 2
    pipe.housekeeping(force=True)
    alarm = pipe.alarms.get(key)
    assert alarm is not None and alarm.state is AlarmState.UNACKNOWLEDGED
    assert alarm.raised_at == 1_800_000_000.0 + 30  # when the silence passed the limit
    assert "air" in alarm.message
    payload = b'{"id": "aq-1", "pm25": 10}'
    pipe.process_batch([RawMessage("air", "a/aq-1", payload, now[0])])
    pipe.housekeeping(force=True)
    alarm = pipe.alarms.get(key)
    assert alarm is not None and alarm.state is AlarmState.RTN_UNACKNOWLEDGED


def test_a_raise_and_a_clear_in_one_batch_are_both_in_the_history(tmp_path: Path) -> None:
    config = AppConfig(
        source="test",
        feeds=(FeedConfig(name="air", topic="a/#", domain="environment"),),
        rules=(RuleConfig(metric="pm25", high=75),),
    )
    with OfflineCache(tmp_path) as cache:
        pipe = IngestPipeline(config, cache, flush_interval=0.0)
        batch = [
            RawMessage("air", "a/aq-1", f'{{"id": "aq-1", "pm25": {v}, "ts": {ts}}}'.encode(), ts)
            for v, ts in ((90, 1_800_000_001), (10, 1_800_000_002))
        ]
        pipe.process_batch(batch)  # raised and back within one batch
        pipe.flush_cache(force=True)
        events = cache.query_alarm_events()
        assert [(previous, state) for _ts, _key, previous, state, _v, _s in events] == [
            ("", "unacknowledged"),
            ("unacknowledged", "rtn_unacknowledged"),
        ]
        pipe.housekeeping(force=True)
        kpis = pipe.take_delta().alarm_kpis
        assert kpis is not None and kpis.raises_24h == 1  # the raise counts, though cleared
