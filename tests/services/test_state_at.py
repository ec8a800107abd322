"""The state as of a past moment, from a cache with known history: values with their ages,
an alarm raised at T1, acknowledged by a named user at T2, cleared at T3."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

from services.auth.roles import Principal, Role
from services.config import AppConfig, FeedConfig, Group, KpiConfig, RuleConfig
from services.ingest.kpi import district_index
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.model import AlarmState
from services.store.cache import OfflineCache
from services.store.replay import ReplaySource
from tests.helpers.cli import run_cityops

T0 = 1_800_000_000.0
T1, T2, T3 = T0 + 100, T0 + 200, T0 + 300
KEY = "aq-1|pm25|high"
CONFIG = AppConfig(
    source="test",
    feeds=(FeedConfig(name="air", topic="a/#", domain="environment"),),
    rules=(RuleConfig(metric="pm25", high=75),),
)


def build_history(cache_dir: Path) -> None:
    """aq-1: 40 at T0, 90 at T1 (raises), acknowledged by wang.fang at T2, 20 at T3
    (clears); aq-2 first heard of at T3."""
    now = [T0]
    with OfflineCache(cache_dir) as cache:
        pipe = IngestPipeline(CONFIG, cache, clock=lambda: now[0], flush_interval=0.0)

        def reading(entity: str, value: float, ts: float) -> None:
            now[0] = ts
            payload = json.dumps({"id": entity, "pm25": value, "ts": ts, "lat": 28.5, "lon": 112.3})
            pipe.process_batch([RawMessage("air", f"a/{entity}", payload.encode(), ts)])
            pipe.flush_cache(force=True)

        reading("aq-1", 40.0, T0)
        reading("aq-1", 90.0, T1)
        now[0] = T2
        result = pipe.acknowledge([KEY], Principal("wang.fang", Role.OPERATOR, "ws-2")).wait(1)
        assert result is not None and result.changed == (KEY,)
        pipe.flush_cache(force=True)
        reading("aq-1", 20.0, T3)
        reading("aq-2", 10.0, T3)


def test_the_state_at_each_moment(cache_dir: Path) -> None:
    build_history(cache_dir)
    with OfflineCache(cache_dir) as cache:
        before = cache.state_at(T0 + 50)
        assert [(r.entity_id, r.value, r.ts) for r in before.latest] == [("aq-1", 40.0, T0)]
        assert before.alarms == [] and [e.id for e in before.entities] == ["aq-1"]

        active = cache.state_at(T1 + 10)
        (alarm,) = active.alarms
        assert (alarm.id, alarm.state, alarm.raised_at, alarm.acked_by) == (
            KEY,
            AlarmState.UNACKNOWLEDGED,
            T1,
            "",
        )
        assert active.latest[0].value == 90.0

        acknowledged = cache.state_at(T2 + 10)
        (alarm,) = acknowledged.alarms
        assert (alarm.state, alarm.acked_by, alarm.acked_at) == (
            AlarmState.ACKNOWLEDGED,
            "wang.fang",
            T2,
        )

        after = cache.state_at(T3 + 10)
        assert after.alarms == []  # cleared after the acknowledgement: normal
        assert {(r.entity_id, r.value) for r in after.latest} == {("aq-1", 20.0), ("aq-2", 10.0)}


def test_a_moving_entity_is_where_it_was_then(cache_dir: Path) -> None:
    build_history(cache_dir)
    with OfflineCache(cache_dir) as cache:
        cache.write_batch(
            [], [], [], positions=[("aq-1", T0, 28.40, 112.20), ("aq-1", T1 + 50, 28.45, 112.25)]
        )
        places = {
            moment: [(e.id, e.lat, e.lon) for e in cache.state_at(moment).entities]
            for moment in (T1 + 10, T3 + 10)
        }
    assert places[T1 + 10] == [("aq-1", 28.40, 112.20)]
    # aq-2 never moved: where it is known to be
    assert places[T3 + 10] == [("aq-1", 28.45, 112.25), ("aq-2", 28.5, 112.3)]


def test_export_state_prints_it_as_json_with_ages(cache_dir: Path) -> None:
    build_history(cache_dir)
    at = str(T2 + 10)
    result = run_cityops("export", "state", "--at", at, "--cache-dir", str(cache_dir))
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert state["zone"] == "UTC" and state["at"].endswith("Z")
    ((value,), (alarm,)) = state["values"], state["alarms"]
    assert (value["entity"], value["value"], value["age_s"]) == ("aq-1", 90.0, 110.0)
    assert (alarm["alarm"], alarm["state"], alarm["acked_by"]) == (
        KEY,
        "acknowledged",
        "wang.fang",
    )
    csv = run_cityops("export", "state", "--format", "csv", "--cache-dir", str(cache_dir))
    assert csv.returncode == 2 and "JSON" in csv.stderr


def test_the_journal_lists_every_transition_and_action_of_a_window(cache_dir: Path) -> None:
    build_history(cache_dir)
    with OfflineCache(cache_dir) as cache:
        entries = cache.journal(T0, T3 + 10)
        assert [(e.kind.value, e.what, e.previous, e.state, e.user) for e in entries] == [
            ("alarm", "unacknowledged", "", "unacknowledged", ""),
            ("action", "ack", "unacknowledged", "acknowledged", "wang.fang"),
            ("alarm", "normal", "acknowledged", "normal", ""),
        ]
        assert [e.ts for e in entries] == [T1, T2, T3]
        assert [e.what for e in cache.journal(T1 + 1, T2 + 1)] == ["ack"]  # the window


def test_export_journal_writes_the_window_as_csv(cache_dir: Path) -> None:
    build_history(cache_dir)
    result = run_cityops(
        "export", "journal", "--format", "csv", "--cache-dir", str(cache_dir),
        "--since", str(T0), "--until", str(T3 + 10),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "ts,alarm,kind,what,from,to,value,user,workstation,note"
    assert len(lines) == 1 + 3
    assert ",action,ack,unacknowledged,acknowledged,,wang.fang,ws-2," in lines[2]


def test_older_than_the_raw_samples_the_state_comes_from_the_history_tiers(
    cache_dir: Path,
) -> None:
    build_history(cache_dir)
    with OfflineCache(cache_dir) as cache:
        cache.rollup(T3 + 3_600)
        raw = cache.state_at(T1 + 70)
        conn = sqlite3.connect(cache.path)
        conn.execute("DELETE FROM samples")  # as if the raw retention had passed
        conn.commit()
        conn.close()
        from_tiers = cache.state_at(T1 + 70)
        assert [(r.entity_id, r.value, r.ts) for r in from_tiers.latest] == [("aq-1", 90.0, T1)]
        assert [(r.entity_id, r.value, r.ts) for r in raw.latest] == [("aq-1", 90.0, T1)]
        assert [e.id for e in from_tiers.entities] == ["aq-1"]
        # within a minute that has not ended: the minute before it
        assert [r.value for r in cache.state_at(T1 + 10).latest] == [40.0]
        assert cache.state_at(T0 - 10).latest == []


def test_a_kpi_over_a_group_read_back_from_history(cache_dir: Path) -> None:
    """The dashboard trends' back-fill: a KPI at evenly spaced past moments, its group only."""
    build_history(cache_dir)
    source = ReplaySource(cache_dir / "cityops.sqlite3")
    try:
        mean = KpiConfig(name="Mean", metric="pm25")
        series = source.kpi_series(mean, T0, T3, 4, district_index(()))
        assert series == [(T0, 40.0), (T1, 90.0), (T0 + 200, 90.0), (T3, 15.0)]  # (20+10)/2
        only_aq2 = replace(mean, group=Group(entities="aq-2"))
        assert source.kpi_series(only_aq2, T0, T3, 4, district_index(())) == [(T3, 10.0)]
    finally:
        source.close()
