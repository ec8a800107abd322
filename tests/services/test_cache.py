"""Offline cache tests on real SQLite files."""

from __future__ import annotations

import logging
import math
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from services.model import (
    Alarm,
    AlarmState,
    AlertArea,
    Condition,
    Entity,
    Incident,
    IncidentStatus,
    OperatorAction,
    Reading,
    Severity,
    SignInRecord,
    TimelineKind,
)
from services.store.cache import FILE_NAME, CacheError, OfflineCache
from services.store.schema import MIGRATIONS, SCHEMA_VERSION

T0 = 1_760_000_000.0  # a fixed moment, so failures are reproducible
DAY = 86_400.0


def reading(
    entity: str = "ziyang-wl-01", metric: str = "level", value: float = 1.5, ts: float = T0
) -> Reading:
    return Reading(entity_id=entity, metric=metric, value=value, ts=ts, feed="water", unit="m")


def alarm(
    entity: str = "ziyang-wl-01",
    state: AlarmState = AlarmState.UNACKNOWLEDGED,
    *,
    condition: Condition = Condition.HIGH,
    raised_at: float = T0,
    updated_at: float | None = None,
    count: int = 1,
) -> Alarm:
    return Alarm(
        entity_id=entity,
        metric="level",
        condition=condition,
        severity=Severity.HIGH,
        state=state,
        value=4.2,
        threshold=4.0,
        raised_at=raised_at,
        updated_at=raised_at if updated_at is None else updated_at,
        count=count,
        message="water level above 4.0 m",
    )


def raw_count(path: Path, table: str) -> int:
    """Count rows through a separate, plain sqlite3 connection."""
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def cache(cache_dir: Path) -> Iterator[OfflineCache]:
    opened = OfflineCache(cache_dir)
    yield opened
    opened.close()


def test_creates_file_in_wal_mode_with_schema_version(cache_dir: Path) -> None:
    folder = cache_dir / "nested" / "deeper"
    with OfflineCache(folder) as cache:
        assert cache.path == folder / FILE_NAME
        assert cache.path.is_file()
        conn = sqlite3.connect(cache.path)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            meta = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            assert meta == (str(SCHEMA_VERSION),)
        finally:
            conn.close()


def test_readings_round_trip_and_filters(cache: OfflineCache) -> None:
    readings = [
        reading("a", "level", 1.0, T0 + 2),
        reading("b", "flow", 2.0, T0),
        reading("a", "flow", -3.5, T0 + 1),
        reading("a", "level", 4.0, T0 + 3),
    ]
    cache.write_batch(readings, [], [])

    assert cache.query_readings() == sorted(readings, key=lambda r: r.ts)
    assert cache.query_readings(T0 + 1, T0 + 2) == [readings[2], readings[0]]
    assert cache.query_readings(entity_id="a", metric="level") == [readings[0], readings[3]]
    assert cache.query_readings(metric="flow") == [readings[1], readings[2]]
    assert cache.query_readings(since=T0 + 3) == [readings[3]]
    assert cache.query_readings(limit=2) == [readings[1], readings[2]]
    assert cache.query_readings(limit=0) == []
    assert cache.query_readings(entity_id="nobody") == []


def test_reading_pages_do_not_lose_rows_with_equal_timestamps(cache: OfflineCache) -> None:
    readings = [reading(f"e{i}", ts=T0 + i // 4) for i in range(23)]
    cache.write_batch(readings, [], [])
    batches = list(cache.iter_readings(batch_size=3))
    assert [len(b) for b in batches] == [3] * 7 + [2]
    assert [r for batch in batches for r in batch] == readings


def test_nan_value_reads_back_as_nan(cache: OfflineCache) -> None:
    cache.write_batch([reading(value=math.nan)], [], [])
    (stored,) = cache.query_readings()
    assert math.isnan(stored.value)
    (latest,) = cache.load_snapshot().latest
    assert math.isnan(latest.value)


def test_latest_keeps_the_newest_reading(cache: OfflineCache) -> None:
    cache.write_batch([reading(value=2.0, ts=T0 + 10), reading(value=1.0, ts=T0 + 5)], [], [])
    cache.write_batch([reading(value=0.5, ts=T0 + 1)], [], [])  # late, older data
    cache.write_batch([reading("other", value=9.0, ts=T0)], [], [])
    latest = {(r.entity_id, r.metric): r for r in cache.load_snapshot().latest}
    assert latest[("ziyang-wl-01", "level")] == reading(value=2.0, ts=T0 + 10)
    assert latest[("other", "level")] == reading("other", value=9.0, ts=T0)
    assert cache.count("latest") == 2
    assert cache.count("readings") == 4

    cache.write_batch([reading(value=3.0, ts=T0 + 11)], [], [])
    latest = {(r.entity_id, r.metric): r for r in cache.load_snapshot().latest}
    assert latest[("ziyang-wl-01", "level")].value == 3.0


def test_entities_round_trip_and_upsert(cache: OfflineCache) -> None:
    station = Entity(
        id="ziyang-wl-01",
        name="资阳区 水位站 1",
        type="water_level",
        domain="water",
        lat=28.59,
        lon=112.33,
        feed="water",
        updated_at=T0,
        worst_severity=Severity.HIGH,
    )
    camera = Entity(id="cam-7", name="Camera 7")
    cache.write_batch([], [station, camera], [])

    entities = {e.id: e for e in cache.load_snapshot().entities}
    assert entities["cam-7"] == Entity(id="cam-7", name="Camera 7", stale=True)
    restored = entities["ziyang-wl-01"]
    assert restored.name == "资阳区 水位站 1"
    assert (restored.type, restored.domain, restored.feed) == ("water_level", "water", "water")
    assert (restored.lat, restored.lon, restored.updated_at) == (28.59, 112.33, T0)
    assert restored.stale is True
    assert restored.worst_severity is None  # derived from alarms, not stored

    cache.write_batch([], [Entity(id="cam-7", name="Camera 7 (east gate)", lat=1.0)], [])
    entities = {e.id: e for e in cache.load_snapshot().entities}
    assert entities["cam-7"].name == "Camera 7 (east gate)"
    assert entities["cam-7"].lat == 1.0
    assert cache.count("entities") == 2


def test_alarms_round_trip_with_history(cache: OfflineCache) -> None:
    first = alarm()
    acked = alarm(state=AlarmState.ACKNOWLEDGED, updated_at=T0 + 60, count=3)
    acked.acked_at = T0 + 60
    acked.acked_by = "duty-operator"
    cache.write_batch([], [], [first])
    cache.write_batch([], [], [acked])

    (stored,) = cache.query_alarms()
    assert stored == acked
    assert isinstance(stored.condition, Condition)
    assert isinstance(stored.severity, Severity)
    assert isinstance(stored.state, AlarmState)
    assert stored.id == first.id
    assert cache.count("alarms") == 1
    assert cache.count("alarm_events") == 2

    conn = sqlite3.connect(cache.path)
    try:
        events = conn.execute(
            "SELECT ts, alarm_id, state, value, severity FROM alarm_events ORDER BY ts"
        ).fetchall()
    finally:
        conn.close()
    assert events == [
        (T0, first.id, "unacknowledged", 4.2, int(Severity.HIGH)),
        (T0 + 60, first.id, "acknowledged", 4.2, int(Severity.HIGH)),
    ]


def test_query_alarms_by_window(cache: OfflineCache) -> None:
    early = alarm("a", AlarmState.NORMAL, raised_at=T0, updated_at=T0 + 100)
    middle = alarm("b", raised_at=T0 + 200, updated_at=T0 + 300)
    late = alarm("c", raised_at=T0 + 1000, updated_at=T0 + 1000)
    cache.write_batch([], [], [late, early, middle])

    assert cache.query_alarms() == [early, middle, late]
    # An alarm counts when it overlaps the window: updated after since, raised before until.
    assert cache.query_alarms(since=T0 + 150) == [middle, late]
    assert cache.query_alarms(until=T0 + 200) == [early, middle]
    assert cache.query_alarms(T0 + 250, T0 + 500) == [middle]
    assert cache.query_alarms(T0 + 2000, None) == []


def test_actions_round_trip(cache: OfflineCache) -> None:
    target = alarm()
    actions = [
        OperatorAction(target.id, "ack", "li.wei", T0 + 10),
        OperatorAction(target.id, "comment", "王芳", T0 + 20, comment="泵站已派人 / crew sent"),
        OperatorAction(target.id, "shelve", "li.wei", T0 + 30, comment="maintenance"),
    ]
    for action in actions:
        cache.record_actions([(action, target)])
    assert cache.query_actions() == actions
    assert cache.query_actions(since=T0 + 20) == actions[1:]
    assert cache.query_actions(until=T0 + 20) == actions[:2]
    assert cache.query_actions(T0 + 11, T0 + 29) == [actions[1]]


def test_record_action_is_committed_before_it_returns(cache_dir: Path) -> None:
    cache = OfflineCache(cache_dir)
    try:
        cache.write_batch([], [], [alarm()])
        acked = alarm(state=AlarmState.ACKNOWLEDGED, updated_at=T0 + 5)
        acked.acked_at = T0 + 5
        acked.acked_by = "li.wei"
        action = OperatorAction(acked.id, "ack", "li.wei", T0 + 5, comment="seen")
        cache.record_actions([(action, acked)])

        # A plain second connection sees it while the cache is still open ...
        conn = sqlite3.connect(cache.path)
        try:
            assert conn.execute('SELECT action, "user", comment FROM actions').fetchall() == [
                ("ack", "li.wei", "seen")
            ]
            assert conn.execute("SELECT state, acked_by FROM alarms").fetchall() == [
                ("acknowledged", "li.wei")
            ]
        finally:
            conn.close()
        # ... and so does a second cache object on the same folder.
        with OfflineCache(cache_dir) as second:
            assert second.query_actions() == [action]
            assert second.query_alarms() == [acked]
    finally:
        cache.close()


def test_snapshot_survives_close_and_reopen(cache_dir: Path) -> None:
    station = Entity(id="s1", name="Heshan station", domain="environment", lat=28.6, lon=112.4)
    open_alarm = alarm("s1", AlarmState.UNACKNOWLEDGED)
    shelved = alarm("s1", AlarmState.ACKNOWLEDGED, condition=Condition.HIGH_HIGH, raised_at=T0 + 1)
    cleared = alarm("s2", AlarmState.NORMAL)
    with OfflineCache(cache_dir) as cache:
        cache.write_batch(
            [reading("s1", "pm25", 80.0, T0), reading("s1", "pm25", 85.0, T0 + 60)],
            [station],
            [open_alarm, shelved, cleared],
        )
    assert not Path(f"{cache_dir / FILE_NAME}-wal").exists() or (
        Path(f"{cache_dir / FILE_NAME}-wal").stat().st_size == 0
    )

    with OfflineCache(cache_dir) as cache:
        snapshot = cache.load_snapshot()
    assert [e.id for e in snapshot.entities] == ["s1"]
    assert snapshot.entities[0].stale is True
    assert snapshot.entities[0].name == "Heshan station"
    assert snapshot.latest == [reading("s1", "pm25", 85.0, T0 + 60)]
    assert snapshot.alarms == [open_alarm, shelved]
    assert all(a.state is not AlarmState.NORMAL for a in snapshot.alarms)


def test_worker_thread_writes_while_gui_thread_records_actions(cache: OfflineCache) -> None:
    batches, per_batch, actions = 40, 500, 150
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def ingest() -> None:
        try:
            start.wait()
            for b in range(batches):
                readings = [
                    reading(f"e{i % 50}", value=float(i), ts=T0 + b + i / per_batch)
                    for i in range(per_batch)
                ]
                cache.write_batch(readings, [], [alarm(f"e{b}", updated_at=T0 + b)])
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)

    worker = threading.Thread(target=ingest, name="ingest")
    worker.start()
    start.wait()
    target = alarm("gui")
    for n in range(actions):
        cache.record_actions([(OperatorAction(target.id, "comment", "op", T0 + n), target)])
        cache.query_readings(limit=10)
    worker.join(timeout=60)

    assert not worker.is_alive()
    assert errors == []
    assert cache.count("readings") == batches * per_batch
    assert cache.count("alarms") == batches + 1
    assert cache.count("alarm_events") == batches
    assert len(cache.query_actions()) == actions
    assert raw_count(cache.path, "actions") == actions


def test_large_batch_is_written(cache: OfflineCache) -> None:
    readings = [
        reading(f"bus-{i % 1000}", "speed", float(i % 80), T0 + i / 20_000) for i in range(50_000)
    ]
    cache.write_batch(readings, [], [])
    assert cache.count("readings") == 50_000
    assert cache.count("latest") == 1000
    assert raw_count(cache.path, "samples") == 50_000
    latest = {r.entity_id: r for r in cache.load_snapshot().latest}
    assert latest["bus-999"] == readings[-1]


def test_prune_deletes_old_readings_and_history_only(cache_dir: Path) -> None:
    with OfflineCache(cache_dir, retention_days=1) as cache:
        now = T0 + 10 * DAY
        cache.write_batch(
            [reading(ts=now - 3 * DAY), reading(ts=now - 2 * DAY), reading(ts=now - 60)],
            [Entity(id="ziyang-wl-01", name="WL 1", updated_at=now - 5 * DAY)],
            [alarm(raised_at=now - 2 * DAY)],
        )
        cache.write_batch([], [], [alarm(raised_at=now - 2 * DAY, updated_at=now - 30)])
        target = alarm()
        cache.record_actions([(OperatorAction(target.id, "ack", "op", now - 4 * DAY), target)])

        cache.record_sign_in(SignInRecord(now - 2 * DAY, "li.wei", "operator", "WS-1", "sign-in"))
        cache.record_sign_in(SignInRecord(now - 60, "li.wei", "operator", "WS-1", "sign-out"))

        assert cache.prune(now) == 2  # two readings: alarm history is kept a year by default
        assert cache.count("alarm_events") == 2
        assert len(cache.sign_ins(0, now)) == 2
        cache.events_days = 1  # [cache] alarm_history_days
        assert cache.prune(now) == 2  # one alarm event, one sign-in
        assert [r.ts for r in cache.query_readings()] == [now - 60]
        assert cache.count("alarm_events") == 1
        assert [(r.event, r.ts) for r in cache.sign_ins(0, now)] == [("sign-out", now - 60)]
        assert cache.sign_ins(now - 30, now) == []
        assert cache.count("entities") == 1
        assert cache.count("latest") == 1
        assert cache.count("alarms") == 1
        assert cache.count("actions") == 1  # the audit trail is kept
        assert cache.prune(now) == 0


def test_corrupt_file_raises_cache_error_naming_it(cache_dir: Path) -> None:
    path = cache_dir / FILE_NAME
    garbage = b"this is not an sqlite database\x00" * 200
    path.write_bytes(garbage)
    with pytest.raises(CacheError) as caught:
        OfflineCache(cache_dir)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == garbage  # the user's file is left alone


def test_foreign_sqlite_file_is_refused(cache_dir: Path) -> None:
    path = cache_dir / FILE_NAME
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE readings (something TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(CacheError, match="not a CityOps offline cache") as caught:
        OfflineCache(cache_dir)
    assert str(path) in str(caught.value)


def test_newer_schema_is_refused(cache_dir: Path) -> None:
    OfflineCache(cache_dir).close()
    conn = sqlite3.connect(cache_dir / FILE_NAME)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(CacheError, match="newer"):
        OfflineCache(cache_dir)


def test_folder_that_is_a_file_raises_cache_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(CacheError, match="not-a-folder"):
        OfflineCache(blocker)


def test_close_is_idempotent_and_closed_cache_refuses_work(cache_dir: Path) -> None:
    cache = OfflineCache(cache_dir)
    cache.write_batch([reading()], [], [])
    cache.close()
    cache.close()
    assert cache.closed
    with pytest.raises(CacheError, match="closed"):
        cache.write_batch([reading()], [], [])
    with pytest.raises(CacheError, match="closed"):
        cache.load_snapshot()
    assert raw_count(cache_dir / FILE_NAME, "samples") == 1


def test_failed_batch_is_rolled_back(cache: OfflineCache) -> None:
    bad = Reading(entity_id="x", metric="m", value=1.0, ts=T0, feed=None)  # type: ignore[arg-type]
    with pytest.raises(CacheError, match="writing a batch"):
        cache.write_batch([reading(), bad], [Entity(id="x", name="X")], [])
    assert cache.count("readings") == 0
    assert cache.count("entities") == 0
    cache.write_batch([reading()], [], [])  # the connection is still usable
    assert cache.count("readings") == 1


def test_alert_areas_are_stored_replaced_and_deleted(cache_dir: Path) -> None:
    shape = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}}]}
    area = AlertArea("cap:met/Heshan|Rainstorm|external", Severity.HIGH, "暴雨 Rainstorm", shape)
    with OfflineCache(cache_dir) as cache:
        cache.write_batch([], [], [], {area.alarm_id: area})
        assert cache.load_snapshot().areas == (area,)
        cache.write_batch([], [], [], {area.alarm_id: None})
        assert cache.load_snapshot().areas == ()


def build_cache_at_version(path: Path, version: int) -> None:
    """An SQLite file as CityOps wrote it at schema ``version``, with one reading and one
    acknowledged alarm in it (the historical migrations are the real ones)."""
    raw = sqlite3.connect(path)
    for statements in MIGRATIONS[:version]:
        for statement in statements:
            raw.execute(statement)
    if version < 11:  # the wide readings table
        raw.execute(
            "INSERT INTO readings (ts, entity_id, metric, value, unit, feed)"
            " VALUES (?, 'e', 'm', 1.0, '', 'f')",
            (T0,),
        )
    else:  # series and samples
        raw.execute("INSERT INTO series (id, entity_id, metric, feed) VALUES (1, 'e', 'm', 'f')")
        raw.execute("INSERT INTO samples (series, ts, value) VALUES (1, ?, 1.0)", (T0,))
    raw.execute(
        "INSERT INTO alarms (id, entity_id, metric, condition, severity, state, value,"
        " threshold, raised_at, updated_at, count, acked_at, acked_by, message)"
        " VALUES ('e|m|high', 'e', 'm', 'high', 2, 'acknowledged', 9.0, 5.0, ?, ?, 1, ?,"
        " 'li.wei', '')",
        (T0, T0 + 1, T0 + 1),
    )
    raw.execute(f"PRAGMA user_version = {version}")
    raw.commit()
    raw.close()


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_every_earlier_schema_is_upgraded_in_place(cache_dir: Path, version: int) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    build_cache_at_version(cache_dir / FILE_NAME, version)
    with OfflineCache(cache_dir) as cache:
        assert cache.count("readings") == 1
        (alarm,) = cache.load_snapshot().alarms
        assert (alarm.state, alarm.acked_by, alarm.revision) == (
            AlarmState.ACKNOWLEDGED,
            "li.wei",
            0,
        )
        assert cache.load_snapshot().areas == ()
        newer = replace(alarm, state=AlarmState.NORMAL, revision=1)
        cache.write_batch([], [], [newer])
        assert cache.query_alarms()[0].state is AlarmState.NORMAL
    raw = sqlite3.connect(cache_dir / FILE_NAME)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()


INCIDENTS_SCHEMA = 10
"""The schema version that added the incident tables."""


def test_a_cache_from_before_incidents_gets_them_and_keeps_its_alarm_history(
    cache_dir: Path,
) -> None:
    path = cache_dir / FILE_NAME
    build_cache_at_version(path, INCIDENTS_SCHEMA - 1)
    raw = sqlite3.connect(path)
    raw.execute(
        "INSERT INTO alarm_events (ts, alarm_id, state, value, severity)"
        " VALUES (?, 'e|m|high', 'unacknowledged', 9.0, 2)",
        (T0,),
    )
    raw.execute(
        'INSERT INTO actions (ts, alarm_id, action, "user", comment, workstation)'
        " VALUES (?, 'e|m|high', 'ack', 'li.wei', 'seen', 'ws-1')",
        (T0 + 1,),
    )
    raw.commit()
    raw.close()
    incident = Incident(
        id="abc",
        title="Pump failure",
        priority=2,
        status=IncidentStatus.OPEN,
        owner="li.wei",
        opened_at=T0 + 2,
        opened_by="li.wei",
        updated_at=T0 + 2,
        alarm_ids=("e|m|high",),
        entity_ids=("e",),
        revision=1,
    )
    with OfflineCache(cache_dir) as cache:
        opening = OperatorAction(incident.key, "incident_open", "li.wei", T0 + 2, "Pump failure")
        cache.record_actions([(opening, None)], incidents=[(incident, None)])
        assert cache.load_incidents(0) == [incident]
        assert [(e.kind, e.what) for e in cache.incident_timeline("abc")] == [
            (TimelineKind.ALARM, "unacknowledged"),
            (TimelineKind.ACTION, "ack"),
            (TimelineKind.INCIDENT, "incident_open"),
        ]
        assert cache.verify_audit().intact
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()


def test_an_older_alarm_revision_never_replaces_a_newer_one(cache_dir: Path) -> None:
    with OfflineCache(cache_dir) as cache:
        raised = alarm("s1", AlarmState.UNACKNOWLEDGED)
        acked = replace(raised, state=AlarmState.ACKNOWLEDGED, acked_by="li.wei", revision=2)
        cache.write_batch([], [], [acked])
        cache.write_batch([], [], [replace(raised, revision=1)])
        (stored,) = cache.query_alarms()
        assert (stored.state, stored.revision) == (AlarmState.ACKNOWLEDGED, 2)


def test_recent_readings_are_the_newest_of_each_series_within_a_limit(cache_dir: Path) -> None:
    with OfflineCache(cache_dir) as cache:
        cache.write_batch(
            [reading(f"s{k}", "pm25", float(n), T0 + n) for n in range(100) for k in (1, 2)],
            [],
            [],
        )
        few = cache.recent_readings(3600, 20, T0 + 100)  # ten of each: the newest
        assert sorted({r.ts for r in few}) == [T0 + n for n in range(90, 100)]
        assert len(few) == 20
        cache.write_batch([reading("s3", "pm25", 1.0, T0 - 7200)], [], [])  # too old
        everything = cache.recent_readings(3600, 1000, T0 + 100)
        assert len(everything) == 200 and {r.entity_id for r in everything} == {"s1", "s2"}
        assert [r.ts for r in everything] == sorted(r.ts for r in everything)


def test_readings_move_into_the_compact_tables_whole(cache_dir: Path) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / FILE_NAME
    raw = sqlite3.connect(path)
    for statements in MIGRATIONS[:10]:  # the last schema with the wide readings table
        for statement in statements:
            raw.execute(statement)
    rows = [
        (T0 + 1, "aq-1", "pm25", 12.5, "µg/m³", "air"),
        (T0 + 2, "aq-1", "pm25", None, "µg/m³", "air"),  # NaN is stored as NULL
        (T0 + 1, "aq-1", "pm25", 13.0, "µg/m³", "air-backup"),  # another feed: a series
        (T0 + 3, "中心站", "no2", 40.0, "", "air"),
    ]
    raw.executemany(
        "INSERT INTO readings (ts, entity_id, metric, value, unit, feed) VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    raw.execute("PRAGMA user_version = 10")
    raw.commit()
    raw.close()
    with OfflineCache(cache_dir) as cache:
        found = sorted(
            (r.ts, r.entity_id, r.metric, r.value, r.unit, r.feed) for r in cache.query_readings()
        )
        cache.write_batch([Reading("aq-1", "pm25", 14.0, T0 + 4, "air", "µg/m³")], [], [])
        assert cache.count("readings") == 5
    expected = sorted(rows)
    assert [row[:3] + row[4:] for row in found] == [row[:3] + row[4:] for row in expected]
    (missing,) = [row[3] for row in found if row[0] == T0 + 2]
    assert math.isnan(missing)  # stored as NULL, read back as NaN
    assert raw_count(path, "series") == 3


def test_a_large_cache_closed_cleanly_skips_the_slow_integrity_check(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("services.store.cache.QUICK_CHECK_MAX_BYTES", 0)  # "large"
    caplog.set_level(logging.INFO)
    OfflineCache(cache_dir).close()
    with OfflineCache(cache_dir):
        assert "integrity check is skipped" in caplog.text
        caplog.clear()
        # Still open (as after a crash): the next start checks again.
        crashed = OfflineCache(cache_dir)
        assert "integrity check is skipped" not in caplog.text
        crashed.close()
    monkeypatch.setattr("services.store.cache.QUICK_CHECK_MAX_BYTES", 2**40)  # small
    caplog.clear()
    OfflineCache(cache_dir).close()
    assert "integrity check is skipped" not in caplog.text


def test_a_cache_still_open_elsewhere_is_not_marked_closed_cleanly(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("services.store.cache.QUICK_CHECK_MAX_BYTES", 0)  # "large"
    caplog.set_level(logging.INFO)
    window = OfflineCache(cache_dir)  # the window's session
    export = subprocess.run(  # a headless export in another process opens and closes it
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from services.store.cache import OfflineCache;"
            " OfflineCache(Path(sys.argv[1])).close()",
            str(cache_dir),
        ],
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert export.returncode == 0
    conn = sqlite3.connect(cache_dir / FILE_NAME)
    flag = conn.execute("SELECT value FROM meta WHERE key = 'closed_cleanly'").fetchone()[0]
    conn.close()
    assert flag == "0"  # the export did not vouch for the window still open
    window.close()
    caplog.clear()
    OfflineCache(cache_dir).close()
    assert "integrity check is skipped" in caplog.text  # the window closed last: clean
