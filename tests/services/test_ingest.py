"""The ingest pipeline: batches in, coalesced deltas, alarms and cache writes out."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

from services.auth.roles import Principal, Role
from services.config import AppConfig, FeedConfig, RuleConfig
from services.ingest.cache_writer import CacheWriter
from services.ingest.pipeline import IngestPipeline
from services.limits import DEAD_LETTERS_PER_FEED, MAX_PAYLOAD_BYTES
from services.messages import ConnectionEvent, FeedPaused, RawMessage
from services.model import AlarmState, CacheState, Delta, FeedState, Reading
from services.store.cache import OfflineCache

OPS = Principal("ops", Role.OPERATOR, "ws-1")
CONFIG = AppConfig(
    source="test",
    feeds=(FeedConfig(name="air", topic="yiyang/env/air/#", domain="environment"),),
    rules=(RuleConfig(metric="pm25", high=75, high_high=150),),
)


def message(payload: object, entity: str = "aq-1", at: float = 100.0) -> RawMessage:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return RawMessage("air", f"yiyang/env/air/{entity}", raw, at)


@pytest.fixture
def pipeline(cache_dir: Path) -> IngestPipeline:
    cache = OfflineCache(cache_dir)
    pipe = IngestPipeline(CONFIG, cache, flush_interval=0.0)
    yield pipe
    pipe.stop()
    cache.close()


def test_batch_coalesces_latest_values_and_raises_alarm(pipeline: IngestPipeline) -> None:
    pipeline.process_batch(
        [
            message({"id": "aq-1", "lat": 28.5, "lon": 112.3, "pm25": 40, "ts": 1}),
            message({"id": "aq-1", "pm25": 90, "ts": 2}),
            message({"id": "aq-2", "pm25": 10, "ts": 2}),
        ]
    )
    delta = pipeline.take_delta()
    assert delta.messages == 3
    assert delta.latest[("aq-1", "pm25")].value == 90
    assert set(delta.entities) == {"aq-1", "aq-2"}
    assert delta.entities["aq-1"].lat == 28.5
    (alarm,) = delta.alarms.values()
    assert (alarm.entity_id, alarm.state) == ("aq-1", AlarmState.UNACKNOWLEDGED)
    assert delta.entities["aq-1"].worst_severity is not None
    assert pipeline.take_delta().is_empty()
    assert len(pipeline.hub.series("aq-1", "pm25")) == 2


def test_bad_payloads_are_dead_lettered_and_ingestion_goes_on(pipeline: IngestPipeline) -> None:
    pipeline.process_batch(
        [
            message(b"{broken"),
            message(b"[1]"),
            message(b'{"pm25": NaN}'),
            message(b'{"pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}'),
            message({"id": "aq-1", "pm25": 20}),
        ]
    )
    delta = pipeline.take_delta()
    letters = delta.dead_letters["air"]
    assert len(letters) == 4
    assert "not JSON" in letters[0].reason
    assert "256 KiB" in letters[3].reason
    assert len(letters[3].payload_excerpt) < 1000
    health = delta.feeds["air"]
    assert (health.errors, health.messages) == (4, 1)
    assert delta.latest[("aq-1", "pm25")].value == 20


def test_dead_letters_in_one_delta_keep_the_newest_per_feed(pipeline: IngestPipeline) -> None:
    pipeline.process_batch(
        [message(f"broken {n}".encode()) for n in range(DEAD_LETTERS_PER_FEED + 7)]
    )
    letters = pipeline.take_delta().dead_letters["air"]
    assert len(letters) == DEAD_LETTERS_PER_FEED
    assert letters[-1].payload_excerpt == f"broken {DEAD_LETTERS_PER_FEED + 6}"
    assert pipeline.take_delta().dead_letters == {}


def test_worker_thread_writes_to_cache_and_ack_is_durable(
    pipeline: IngestPipeline, cache_dir: Path
) -> None:
    pipeline.start()
    pipeline.put(ConnectionEvent("mqtt://x:1", FeedState.CONNECTED, ("air",)))
    pipeline.put_many([message({"id": f"s{i}", "pm25": 100 + i, "ts": 5}) for i in range(50)])
    assert pipeline.wait_idle(10)
    delta = pipeline.take_delta()
    assert delta.brokers == {"mqtt://x:1": FeedState.CONNECTED}
    assert len(delta.alarms) == 50
    target = next(iter(delta.alarms))
    result = pipeline.acknowledge([target, "no|such|alarm"], OPS).wait(10)
    assert result is not None
    assert (result.changed, result.skipped, result.error) == ((target,), ("no|such|alarm",), "")
    later = pipeline.take_delta()
    assert later.alarms[target].state is AlarmState.ACKNOWLEDGED
    assert later.action_results == [result]
    pipeline.stop()
    with OfflineCache(cache_dir) as reader:
        assert len(reader.query_readings()) == 50
        assert [action.action for action in reader.query_actions()] == ["ack"]
        states = {alarm.state for alarm in reader.query_alarms()}
        assert states == {AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED}


def test_restore_marks_cached_state_stale(cache_dir: Path) -> None:
    with OfflineCache(cache_dir) as cache:
        first = IngestPipeline(CONFIG, cache, flush_interval=0.0)
        first.start()
        first.put(message({"id": "aq-9", "lat": 28.5, "lon": 112.3, "pm25": 200, "ts": 1}))
        assert first.wait_idle(10)
        first.stop()
    with OfflineCache(cache_dir) as cache:
        second = IngestPipeline(CONFIG, cache)
        snapshot = second.restore_from_cache()
        assert [entity.id for entity in snapshot.entities] == ["aq-9"]
        delta = second.take_delta()
        assert delta.entities["aq-9"].stale
        assert delta.entities["aq-9"].worst_severity is not None
        assert delta.latest[("aq-9", "pm25")].value == 200
        assert len(delta.alarms) == 2
        second.process_batch([message({"id": "aq-9", "pm25": 10, "ts": 2})])
        assert not second.take_delta().entities["aq-9"].stale


def test_a_feeds_last_message_time_survives_a_restart(cache_dir: Path) -> None:
    with OfflineCache(cache_dir) as cache:
        first = IngestPipeline(CONFIG, cache, flush_interval=0.0)
        first.process_batch([message({"id": "aq-1", "pm25": 20}, at=1_790_000_123.5)])
        first.process_batch([message({"id": "aq-1", "pm25": 21}, at=1_790_000_100.0)])
        first.stop()
    with OfflineCache(cache_dir) as cache:
        second = IngestPipeline(CONFIG, cache)
        second.restore_from_cache()
        restored = second.take_delta().feeds["air"]
        assert restored.last_message_at == 1_790_000_123.5
        assert restored.messages == 0


CAP_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cap"
CAP_CONFIG = AppConfig(
    source="test", feeds=(FeedConfig(name="warnings", topic="cap/#", format="cap"),)
)


def test_cap_alert_update_cancel_drive_alarms_and_map_areas() -> None:
    pipe = IngestPipeline(CAP_CONFIG, None)

    def deliver(name: str) -> Delta:
        payload = (CAP_FIXTURES / name).read_bytes()
        pipe.process_batch([RawMessage("warnings", "cap/yiyang", payload, 1_795_000_000.0)])
        return pipe.take_delta()

    raised = deliver("yiyang-rainstorm-alert.xml")
    (alarm,) = raised.alarms.values()
    assert (alarm.condition, alarm.state) == ("external", AlarmState.UNACKNOWLEDGED)
    area = raised.areas[alarm.id]
    assert area is not None and area.geojson["type"] == "FeatureCollection"
    assert raised.entities[alarm.entity_id].lat is not None
    assert pipe.alert_areas() == [area]
    updated = deliver("yiyang-rainstorm-update.xml")
    assert updated.areas[alarm.id] is not None
    assert updated.alarms[alarm.id].state is AlarmState.UNACKNOWLEDGED
    cancelled = deliver("yiyang-rainstorm-cancel.xml")
    assert cancelled.alarms[alarm.id].state is AlarmState.RTN_UNACKNOWLEDGED
    assert cancelled.areas == {alarm.id: None}
    assert pipe.alert_areas() == []


def test_paused_feed_is_shown_paused_until_resumed(pipeline: IngestPipeline) -> None:
    pipeline.process_batch([ConnectionEvent("mqtt://h:1", FeedState.CONNECTED, ("air",))])
    pipeline.process_batch([FeedPaused("air", True)])
    assert pipeline.take_delta().feeds["air"].state is FeedState.PAUSED
    pipeline.process_batch([ConnectionEvent("mqtt://h:1", FeedState.CONNECTED, ("air",))])
    assert pipeline.take_delta().feeds["air"].state is FeedState.PAUSED
    pipeline.process_batch([FeedPaused("air", False)])
    assert pipeline.take_delta().feeds["air"].state is FeedState.CONNECTED


def test_a_queued_older_alarm_version_never_overwrites_an_acknowledgement(
    cache_dir: Path,
) -> None:
    with OfflineCache(cache_dir) as cache:
        pipe = IngestPipeline(CONFIG, cache, flush_interval=3600.0)
        pipe.process_batch([message({"id": "aq-1", "pm25": 90, "ts": 1})])  # raise, queued
        (alarm,) = pipe.take_delta().alarms.values()
        pipe.acknowledge([alarm.id], OPS)  # committed at once
        pipe.stop()  # now the queued batch is written
        (stored,) = cache.query_alarms()
        assert stored.state is AlarmState.ACKNOWLEDGED


def test_a_shelved_cap_alert_keeps_its_area_while_its_condition_lasts() -> None:
    payload = (CAP_FIXTURES / "yiyang-rainstorm-alert.xml").read_bytes()
    pipe = IngestPipeline(CAP_CONFIG, None)
    pipe.process_batch([RawMessage("warnings", "cap/yiyang", payload, 1_795_000_000.0)])
    (alarm_id,) = pipe.take_delta().alarms
    area = pipe.alert_areas()
    assert pipe.shelve([alarm_id], OPS, 600, "known storm").wait(5).changed == (alarm_id,)
    pipe.process_batch([RawMessage("warnings", "cap/yiyang", payload, 1_795_000_060.0)])
    assert pipe.alarms.get(alarm_id).state is AlarmState.SHELVED
    assert pipe.alert_areas() == area  # still raining: the area stays for the unshelve
    assert pipe.unshelve([alarm_id], OPS).wait(5).changed == (alarm_id,)
    assert pipe.alert_areas() == area


def test_cap_area_comes_back_after_a_restart(cache_dir: Path) -> None:
    payload = (CAP_FIXTURES / "yiyang-rainstorm-alert.xml").read_bytes()
    with OfflineCache(cache_dir) as cache:
        first = IngestPipeline(CAP_CONFIG, cache, flush_interval=0.0)
        first.process_batch([RawMessage("warnings", "cap/yiyang", payload, 1_795_000_000.0)])
        first.stop()
    with OfflineCache(cache_dir) as cache:
        second = IngestPipeline(CAP_CONFIG, cache)
        second.restore_from_cache()
        delta = second.take_delta()
        (alarm_id,) = delta.alarms
        area = delta.areas[alarm_id]
        assert area is not None and area.geojson["type"] == "FeatureCollection"
        assert second.alert_areas() == [area]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def connected(pipeline: IngestPipeline, feeds: tuple[str, ...] = ("air",)) -> None:
    pipeline.process_batch([ConnectionEvent("mqtt://h:1", FeedState.CONNECTED, feeds)])


def test_values_go_stale_when_their_broker_goes_down(cache_dir: Path) -> None:
    clock = Clock(1000.0)
    pipe = IngestPipeline(CONFIG, None, clock=clock)
    connected(pipe)
    pipe.process_batch([message({"id": "aq-1", "pm25": 20}, at=1000.0)])
    pipe.take_delta()
    pipe.housekeeping(force=True)
    assert "aq-1" not in pipe.take_delta().entities  # live and fresh
    pipe.process_batch([ConnectionEvent("mqtt://h:1", FeedState.DOWN, ("air",), "refused")])
    pipe.housekeeping(force=True)
    delta = pipe.take_delta()
    assert delta.entities["aq-1"].stale
    assert delta.feeds["air"].state is FeedState.DOWN
    connected(pipe)
    pipe.process_batch([message({"id": "aq-1", "pm25": 21}, at=1001.0)])
    assert not pipe.take_delta().entities["aq-1"].stale


def test_a_feed_reporting_every_ten_minutes_is_not_stale_after_two(cache_dir: Path) -> None:
    clock = Clock(0.0)
    pipe = IngestPipeline(CONFIG, None, clock=clock)
    connected(pipe)
    for at in (0.0, 600.0, 1200.0):
        clock.now = at
        pipe.process_batch([message({"id": "aq-1", "pm25": 20}, at=at)])
        pipe.housekeeping(force=True)
    assert pipe.feeds.stale_after("air") == 1800.0  # three usual intervals
    clock.now = 1200.0 + 120.0
    pipe.housekeeping(force=True)
    delta = pipe.take_delta()
    assert delta.feeds["air"].state is FeedState.CONNECTED
    assert not delta.entities["aq-1"].stale
    clock.now = 1200.0 + 1801.0
    pipe.housekeeping(force=True)
    delta = pipe.take_delta()
    assert delta.entities["aq-1"].stale
    assert delta.feeds["air"].state is FeedState.STALE


def test_a_configured_stale_after_wins_and_has_a_floor_when_derived() -> None:
    feed = FeedConfig(name="air", topic="a/#", domain="environment", stale_after=5.0)
    clock = Clock(0.0)
    pipe = IngestPipeline(AppConfig(source="t", feeds=(feed,)), None, clock=clock)
    connected(pipe)
    pipe.process_batch([message({"id": "aq-1", "pm25": 20}, at=0.0)])
    clock.now = 6.0
    pipe.housekeeping(force=True)
    assert pipe.take_delta().entities["aq-1"].stale
    fast = IngestPipeline(CONFIG, None, clock=clock)
    connected(fast)
    for at in (0.0, 1.0, 2.0):
        fast.process_batch([message({"id": "aq-1", "pm25": 20}, at=at)])
    assert fast.feeds.stale_after("air") == 30.0


def test_messages_are_acknowledged_only_after_the_cache_committed_them(cache_dir: Path) -> None:
    acked: list[str] = []
    with OfflineCache(cache_dir) as cache:
        pipe = IngestPipeline(CONFIG, cache, flush_interval=3600.0)
        good = replace(message({"id": "aq-1", "pm25": 20}), ack=lambda: acked.append("good"))
        bad = replace(message(b"{broken"), ack=lambda: acked.append("bad"))
        pipe.process_batch([good, bad])
        assert acked == []  # decoded and dead-lettered, but not yet stored
        deadline = time.monotonic() + 5  # due in 50 ms, not an hour: acknowledgements wait
        while not acked and time.monotonic() < deadline:
            time.sleep(0.01)
            pipe.flush_cache()
        assert acked == ["good", "bad"]
        assert cache.count("readings") == 1
        pipe.stop()


def test_the_last_hour_of_history_comes_back_after_a_restart(cache_dir: Path) -> None:
    now = 1_790_000_000.0
    with OfflineCache(cache_dir) as cache:
        first = IngestPipeline(CONFIG, cache, flush_interval=0.0)
        old = message({"id": "aq-1", "pm25": 1, "ts": now - 7200}, at=now - 7200)
        recent = [message({"id": "aq-1", "pm25": n, "ts": now - 600 + n}, at=now) for n in (5, 6)]
        first.process_batch([old, *recent])
        first.stop()
    with OfflineCache(cache_dir) as cache:
        second = IngestPipeline(CONFIG, cache, clock=lambda: now)
        second.restore_from_cache()
        assert second.hub.series("aq-1", "pm25") == [(now - 595, 5.0), (now - 594, 6.0)]


def test_a_viewer_may_not_acknowledge_and_nothing_changes(cache_dir: Path) -> None:
    with OfflineCache(cache_dir) as cache:
        pipe = IngestPipeline(CONFIG, cache, flush_interval=0.0)
        pipe.process_batch([message({"id": "aq-1", "pm25": 90, "ts": 1})])
        (alarm,) = pipe.take_delta().alarms.values()
        viewer = Principal("guest", Role.VIEWER, "wall-1")
        result = pipe.acknowledge([alarm.id], viewer).wait(5)
        assert result is not None
        assert result.error == "guest (viewer) may not acknowledge alarms"
        assert result.changed == ()
        delta = pipe.take_delta()
        assert delta.alarms == {} and delta.action_results == [result]
        assert pipe.alarms.get(alarm.id).state is AlarmState.UNACKNOWLEDGED
        assert cache.query_actions() == []
        supervisor = Principal("li.wei", Role.SUPERVISOR, "ws-3")
        assert pipe.acknowledge([alarm.id], supervisor).wait(5).changed == (alarm.id,)
        (action,) = cache.query_actions()
        assert (action.user, action.workstation) == ("li.wei", "ws-3")
        pipe.stop()


def test_a_note_can_be_required_for_urgent_alarms_and_goes_to_the_audit_trail(
    cache_dir: Path,
) -> None:
    config = replace(CONFIG, note_required_priority=2)  # high_high is high: priority 2
    with OfflineCache(cache_dir) as cache:
        pipe = IngestPipeline(config, cache, flush_interval=0.0)
        pipe.process_batch(
            [message({"id": "aq-1", "pm25": 160, "ts": 1}), message({"id": "aq-2", "pm25": 90})]
        )
        urgent = "aq-1|pm25|high_high"
        medium = "aq-2|pm25|high"
        pipe.take_delta()
        refused = pipe.acknowledge([medium, urgent], OPS, note="   ").wait(5)
        assert refused is not None and refused.changed == ()
        assert "a note is required to acknowledge priority 2" in refused.error
        assert pipe.alarms.get(medium).state is AlarmState.UNACKNOWLEDGED
        assert pipe.acknowledge([medium], OPS).wait(5).changed == (medium,)
        done = pipe.acknowledge([urgent], OPS, note="crew on site").wait(5)
        assert done is not None and done.changed == (urgent,) and not done.error
        notes = {entry.alarm_id: entry.note for entry in cache.audit_entries()}
        assert notes == {medium: "", urgent: "crew on site"}
        pipe.stop()


def test_shelving_is_bounded_by_priority_stored_restored_and_ends_by_itself(
    cache_dir: Path,
) -> None:
    clock = Clock(1000.0)
    high_high = "aq-1|pm25|high_high"  # severity high: priority 2, at most 4 h
    with OfflineCache(cache_dir) as cache:
        pipe = IngestPipeline(CONFIG, cache, flush_interval=0.0, clock=clock)
        pipe.process_batch([message({"id": "aq-1", "pm25": 160, "ts": 999})])
        viewer = Principal("guest", Role.VIEWER, "wall-1")
        assert pipe.shelve([high_high], viewer, 600).wait(5).error == (
            "guest (viewer) may not shelve alarms"
        )
        too_long = pipe.shelve([high_high], OPS, 5 * 3600, "maintenance").wait(5)
        assert "at most 240 min" in too_long.error and too_long.changed == ()
        done = pipe.shelve([high_high], OPS, 600, "pump maintenance").wait(5)
        assert done.changed == (high_high,) and not done.error
        pipe.flush_cache(force=True)
        (entry,) = [e for e in cache.audit_entries() if e.kind == "shelve"]
        assert (entry.alarm_id, entry.note) == (high_high, "pump maintenance")
        pipe.stop()
    with OfflineCache(cache_dir) as cache:  # a restart keeps it shelved, until when
        clock.now = 1599.0
        pipe = IngestPipeline(CONFIG, cache, flush_interval=0.0, clock=clock)
        pipe.restore_from_cache()
        alarm = pipe.alarms.get(high_high)
        assert alarm is not None and alarm.state is AlarmState.SHELVED
        assert (alarm.shelved_until, alarm.shelved_by) == (1600.0, "ops")
        pipe.take_delta()
        clock.now = 1600.0
        pipe.housekeeping(force=True)
        assert pipe.take_delta().alarms[high_high].state is AlarmState.UNACKNOWLEDGED
        pipe.stop()


def test_sync_writes_what_was_processed_now(cache_dir: Path) -> None:
    with OfflineCache(cache_dir) as cache:
        pipe = IngestPipeline(CONFIG, cache, flush_interval=3600.0)
        pipe.start()
        pipe.put(message({"id": "aq-1", "pm25": 20}))
        assert pipe.wait_idle(10)
        assert cache.count("readings") == 0  # not due for an hour
        assert pipe.sync(10)
        assert cache.count("readings") == 1
        pipe.stop()


def test_an_item_that_breaks_ingest_is_dead_lettered_and_the_rest_goes_on(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    acked: list[str] = []
    with OfflineCache(cache_dir) as cache:
        pipe = IngestPipeline(CONFIG, cache, flush_interval=0.0)
        apply = pipe.hub.apply_entities

        def fragile(updates, *args, **kwargs):  # type: ignore[no-untyped-def]
            updates = list(updates)
            if any(update.id == "boom" for update in updates):
                raise RuntimeError("a bug")
            return apply(updates, *args, **kwargs)

        monkeypatch.setattr(pipe.hub, "apply_entities", fragile)
        items = [
            replace(message({"id": name, "pm25": 20}), ack=lambda n=name: acked.append(n))
            for name in ("aq-1", "boom", "aq-2")
        ]
        pipe.start()
        pipe.put_many(items)
        assert pipe.wait_idle(10)
        assert pipe.sync(10)
        delta = pipe.take_delta()
        assert {key[0] for key in delta.latest} == {"aq-1", "aq-2"}
        (letter,) = delta.dead_letters["air"]
        assert letter.reason == "ingest failed: RuntimeError: a bug"
        assert sorted(acked) == ["aq-1", "aq-2", "boom"]  # accounted for, not redelivered
        pipe.stop()


def test_a_cleared_alarm_raised_again_after_a_restart_reaches_the_cache(cache_dir: Path) -> None:
    with OfflineCache(cache_dir) as cache:
        first = IngestPipeline(CONFIG, cache, flush_interval=0.0)
        first.process_batch([message({"id": "aq-1", "pm25": 90, "ts": 1})])
        (alarm,) = first.take_delta().alarms.values()
        first.acknowledge([alarm.id], OPS)
        first.process_batch([message({"id": "aq-1", "pm25": 10, "ts": 2})])  # back to normal
        first.stop()
    with OfflineCache(cache_dir) as cache:
        second = IngestPipeline(CONFIG, cache, flush_interval=0.0)
        second.restore_from_cache()
        second.process_batch([message({"id": "aq-1", "pm25": 10, "ts": 2})])  # sent again
        assert second.take_delta().alarms == {}  # not evaluated anew
        second.process_batch([message({"id": "aq-1", "pm25": 95, "ts": 3})])  # raised again
        second.acknowledge([alarm.id], OPS)
        second.stop()
        (stored,) = cache.query_alarms()
        assert stored.state is AlarmState.ACKNOWLEDGED  # was left "normal" by old revisions
        assert [a.action for a in cache.query_actions()] == ["ack", "ack"]


def test_a_value_the_cache_cannot_store_is_dropped_alone(cache_dir: Path) -> None:
    with OfflineCache(cache_dir) as cache:
        writer = CacheWriter(cache, flush_interval=0.0)
        good = [Reading(f"aq-{n}", "pm25", float(n), 1.0 + n, "air") for n in range(6)]
        bad = Reading("aq-\ud800", "pm25", 1.0, 99.0, "air")  # not encodable as UTF-8
        writer.add([*good[:3], bad, *good[3:]])
        writer.flush(force=True)
        assert writer.health.state is CacheState.OK
        assert sorted(r.entity_id for r in cache.query_readings()) == [g.entity_id for g in good]
        assert writer.report().dropped_readings == 1


def test_every_alarm_transition_is_kept_in_the_alarm_history(cache_dir: Path) -> None:
    with OfflineCache(cache_dir) as cache:
        pipe = IngestPipeline(CONFIG, cache, flush_interval=3600.0)
        pipe.process_batch([message({"id": "aq-1", "pm25": 90, "ts": 1})])
        pipe.process_batch([message({"id": "aq-1", "pm25": 10, "ts": 2})])
        pipe.process_batch([message({"id": "aq-1", "pm25": 95, "ts": 3})])
        pipe.stop()  # one flush for all three
        assert cache.count("alarm_events") == 3


def test_one_bad_payload_does_not_make_the_feeds_good_values_stale() -> None:
    clock = Clock(1000.0)
    pipe = IngestPipeline(CONFIG, None, clock=clock)
    connected(pipe)
    pipe.process_batch([message({"id": "aq-1", "pm25": 20}, at=1000.0)])
    pipe.housekeeping(force=True)
    pipe.take_delta()
    pipe.process_batch([message(b"{broken", at=1001.0)])
    clock.now = 1002.0
    pipe.housekeeping(force=True)
    delta = pipe.take_delta()
    assert delta.feeds["air"].state is FeedState.FAILING
    assert "aq-1" not in delta.entities  # still fresh


def test_alarms_changed_by_a_failed_batch_are_still_published(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipe = IngestPipeline(CONFIG, None)
    recolour = pipe.hub.set_worst_severity

    def fragile(entity_id, severity):  # type: ignore[no-untyped-def]
        if entity_id == "boom":
            raise RuntimeError("a bug")
        return recolour(entity_id, severity)

    monkeypatch.setattr(pipe.hub, "set_worst_severity", fragile)
    pipe.start()
    pipe.put_many(
        [message({"id": "aq-1", "pm25": 90, "ts": 5}), message({"id": "boom", "pm25": 90, "ts": 5})]
    )
    assert pipe.wait_idle(10)
    alarms = pipe.take_delta().alarms
    assert "aq-1|pm25|high" in alarms  # raised in the failed attempt, published anyway
    pipe.stop()


def test_housekeeping_raises_no_data_alarms_for_silent_sources() -> None:
    clock = Clock(1000.0)
    config = replace(CONFIG, rules=(RuleConfig(metric="pm25", no_data_after=300),))
    pipe = IngestPipeline(config, None, clock=clock)
    connected(pipe)
    pipe.process_batch([message({"id": "aq-1", "pm25": 20}, at=1000.0)])
    pipe.take_delta()
    clock.now = 1301.0
    pipe.housekeeping(force=True)
    alarm = pipe.take_delta().alarms["aq-1|pm25|no_data"]
    assert alarm.state is AlarmState.UNACKNOWLEDGED
    pipe.process_batch([message({"id": "aq-1", "pm25": 20}, at=1302.0)])
    assert pipe.take_delta().alarms["aq-1|pm25|no_data"].state is AlarmState.RTN_UNACKNOWLEDGED
