"""The offline cache's SQLite schema: migrations, statements and row conversions.

``MIGRATIONS[n]`` upgrades a file from schema version ``n`` to ``n + 1``; a file is always
upgraded in place, one version at a time. Alarm upserts never replace a newer revision
with an older one.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from services.model import Alarm, AlarmState, AlertArea, Condition, Entity, Reading, Severity

log = logging.getLogger(__name__)

# Each entry upgrades the schema from version ``index`` to ``index + 1``.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE readings (ts REAL NOT NULL, entity_id TEXT NOT NULL,"
        " metric TEXT NOT NULL, value REAL, unit TEXT NOT NULL DEFAULT '',"
        " feed TEXT NOT NULL DEFAULT '')",
        "CREATE INDEX readings_ts ON readings (ts)",
        "CREATE TABLE latest (entity_id TEXT NOT NULL, metric TEXT NOT NULL, value REAL,"
        " unit TEXT NOT NULL DEFAULT '', ts REAL NOT NULL, feed TEXT NOT NULL DEFAULT '',"
        " PRIMARY KEY (entity_id, metric))",
        "CREATE TABLE entities (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
        " type TEXT NOT NULL DEFAULT '', domain TEXT NOT NULL DEFAULT '', lat REAL, lon REAL,"
        " feed TEXT NOT NULL DEFAULT '', updated_at REAL NOT NULL DEFAULT 0)",
        "CREATE TABLE alarms (id TEXT PRIMARY KEY, entity_id TEXT NOT NULL,"
        " metric TEXT NOT NULL, condition TEXT NOT NULL, severity INTEGER NOT NULL,"
        " state TEXT NOT NULL, value REAL, threshold REAL, raised_at REAL NOT NULL,"
        " updated_at REAL NOT NULL, count INTEGER NOT NULL DEFAULT 1, acked_at REAL,"
        " acked_by TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '')",
        "CREATE INDEX alarms_raised_at ON alarms (raised_at)",
        "CREATE TABLE alarm_events (ts REAL NOT NULL, alarm_id TEXT NOT NULL,"
        " state TEXT NOT NULL, value REAL, severity INTEGER NOT NULL)",
        "CREATE INDEX alarm_events_ts ON alarm_events (ts)",
        "CREATE TABLE actions (ts REAL NOT NULL, alarm_id TEXT NOT NULL, action TEXT NOT NULL,"
        " \"user\" TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '')",
        "CREATE INDEX actions_ts ON actions (ts)",
    ),
    (
        "CREATE TABLE alert_areas (alarm_id TEXT PRIMARY KEY, severity INTEGER NOT NULL,"
        " label TEXT NOT NULL, geojson TEXT NOT NULL)",
    ),
    ("ALTER TABLE alarms ADD COLUMN revision INTEGER NOT NULL DEFAULT 0",),
    ("CREATE TABLE feeds (name TEXT PRIMARY KEY, last_message_at REAL NOT NULL)",),
    ("ALTER TABLE actions ADD COLUMN workstation TEXT NOT NULL DEFAULT ''",),
    (
        # A reading delivered twice (a QoS 1 redelivery) is stored once: keep the first.
        "DELETE FROM readings WHERE rowid NOT IN"
        " (SELECT min(rowid) FROM readings GROUP BY entity_id, metric, ts, feed)",
        "CREATE UNIQUE INDEX readings_once ON readings (entity_id, metric, ts, feed)",
    ),
    (
        # The audit trail: append-only, each entry's hash chained to the one before.
        "CREATE TABLE audit (seq INTEGER PRIMARY KEY, ts REAL NOT NULL, kind TEXT NOT NULL,"
        ' alarm_id TEXT NOT NULL, "user" TEXT NOT NULL, workstation TEXT NOT NULL,'
        " note TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
    ),
    (
        # Shelving: until when (Inf: until it clears), by whom, why, and the condition.
        "ALTER TABLE alarms ADD COLUMN shelved_until REAL",
        "ALTER TABLE alarms ADD COLUMN shelved_by TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE alarms ADD COLUMN shelve_note TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE alarms ADD COLUMN shelved_active INTEGER NOT NULL DEFAULT 0",
    ),
    (
        # Sharing with other workstations: assignment, comments, when shelving last changed,
        # each action's shared id, and the actions still to publish.
        "ALTER TABLE alarms ADD COLUMN shelve_changed_at REAL NOT NULL DEFAULT 0",
        "ALTER TABLE alarms ADD COLUMN assignee TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE alarms ADD COLUMN assigned_at REAL NOT NULL DEFAULT 0",
        "ALTER TABLE alarms ADD COLUMN comments INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE actions ADD COLUMN action_id TEXT NOT NULL DEFAULT ''",
        "CREATE UNIQUE INDEX actions_action_id ON actions (action_id) WHERE action_id != ''",
        "CREATE TABLE outbox (seq INTEGER PRIMARY KEY, action_id TEXT NOT NULL UNIQUE,"
        " topic TEXT NOT NULL, payload TEXT NOT NULL)",
    ),
    (
        # Incidents (services/store/incidents.py): the record, its linked alarms and
        # entities (in link order), its notes; alarm history and actions by alarm, for
        # incident timelines.
        "CREATE TABLE incidents (id TEXT PRIMARY KEY, title TEXT NOT NULL,"
        " priority INTEGER NOT NULL, status TEXT NOT NULL, owner TEXT NOT NULL DEFAULT '',"
        " opened_at REAL NOT NULL, opened_by TEXT NOT NULL, updated_at REAL NOT NULL,"
        " notes INTEGER NOT NULL DEFAULT 0, revision INTEGER NOT NULL DEFAULT 0)",
        "CREATE INDEX incidents_updated_at ON incidents (updated_at)",
        "CREATE TABLE incident_alarms (incident_id TEXT NOT NULL, alarm_id TEXT NOT NULL,"
        " PRIMARY KEY (incident_id, alarm_id))",
        "CREATE TABLE incident_entities (incident_id TEXT NOT NULL, entity_id TEXT NOT NULL,"
        " PRIMARY KEY (incident_id, entity_id))",
        "CREATE TABLE incident_notes (id TEXT PRIMARY KEY, incident_id TEXT NOT NULL,"
        " ts REAL NOT NULL, \"user\" TEXT NOT NULL, workstation TEXT NOT NULL DEFAULT '',"
        " text TEXT NOT NULL)",
        "CREATE INDEX incident_notes_incident ON incident_notes (incident_id, ts)",
        "CREATE INDEX alarm_events_alarm ON alarm_events (alarm_id, ts)",
        "CREATE INDEX actions_alarm ON actions (alarm_id, ts)",
    ),
    (
        # Compact raw history: one row per series (entity, metric, feed) and, per reading,
        # only (series, time, value), clustered by series and time (about 27 bytes a
        # reading on disk where the old table took about 100).
        "CREATE TABLE series (id INTEGER PRIMARY KEY, entity_id TEXT NOT NULL,"
        " metric TEXT NOT NULL, feed TEXT NOT NULL DEFAULT '', unit TEXT NOT NULL DEFAULT '',"
        " UNIQUE (entity_id, metric, feed))",
        "CREATE TABLE samples (series INTEGER NOT NULL, ts REAL NOT NULL, value REAL,"
        " PRIMARY KEY (series, ts)) WITHOUT ROWID",
        "INSERT INTO series (entity_id, metric, feed, unit)"
        " SELECT entity_id, metric, feed, max(unit) FROM readings"
        " GROUP BY entity_id, metric, feed",
        "INSERT OR IGNORE INTO samples (series, ts, value)"
        " SELECT series.id, readings.ts, readings.value FROM readings JOIN series"
        " ON series.entity_id = readings.entity_id AND series.metric = readings.metric"
        " AND series.feed = readings.feed",
        "DROP TABLE readings",
    ),
    (
        # History tiers: 1-minute and 15-minute buckets of each series (count, min, max,
        # sum, last), filled by the retention thread from the raw samples.
        "CREATE TABLE agg_1m (series INTEGER NOT NULL, bucket REAL NOT NULL, n INTEGER NOT NULL,"
        " min REAL, max REAL, sum REAL, last REAL, last_ts REAL NOT NULL,"
        " PRIMARY KEY (series, bucket)) WITHOUT ROWID",
        "CREATE TABLE agg_15m (series INTEGER NOT NULL, bucket REAL NOT NULL,"
        " n INTEGER NOT NULL, min REAL, max REAL, sum REAL, last REAL, last_ts REAL NOT NULL,"
        " PRIMARY KEY (series, bucket)) WITHOUT ROWID",
    ),
    (
        # Who worked at this workstation when: sign-ins and sign-outs, for the handover.
        'CREATE TABLE sign_ins (ts REAL NOT NULL, "user" TEXT NOT NULL, role TEXT NOT NULL,'
        " workstation TEXT NOT NULL, event TEXT NOT NULL)",
        "CREATE INDEX sign_ins_ts ON sign_ins (ts)",
    ),
    (
        # Where moving entities were (their map tracks, after a restart and in a replay):
        # the state hub's track points, one every 10 s at most per entity.
        "CREATE TABLE positions (entity_id TEXT NOT NULL, ts REAL NOT NULL, lat REAL NOT NULL,"
        " lon REAL NOT NULL, PRIMARY KEY (entity_id, ts)) WITHOUT ROWID",
        "CREATE INDEX positions_ts ON positions (ts)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

ALARM_COLUMNS = (
    "id, entity_id, metric, condition, severity, state, value, threshold, raised_at,"
    " updated_at, count, acked_at, acked_by, message, revision, shelved_until, shelved_by,"
    " shelve_note, shelved_active, shelve_changed_at, assignee, assigned_at, comments"
)
UPSERT_ALARM = (
    f"INSERT INTO alarms ({ALARM_COLUMNS})"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET entity_id = excluded.entity_id,"
    " metric = excluded.metric, condition = excluded.condition,"
    " severity = excluded.severity, state = excluded.state, value = excluded.value,"
    " threshold = excluded.threshold, raised_at = excluded.raised_at,"
    " updated_at = excluded.updated_at, count = excluded.count,"
    " acked_at = excluded.acked_at, acked_by = excluded.acked_by, message = excluded.message,"
    " revision = excluded.revision, shelved_until = excluded.shelved_until,"
    " shelved_by = excluded.shelved_by, shelve_note = excluded.shelve_note,"
    " shelved_active = excluded.shelved_active,"
    " shelve_changed_at = excluded.shelve_changed_at, assignee = excluded.assignee,"
    " assigned_at = excluded.assigned_at, comments = excluded.comments"
    " WHERE excluded.revision >= alarms.revision"
)
UPSERT_LATEST = (
    "INSERT INTO latest (entity_id, metric, value, unit, ts, feed) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (entity_id, metric) DO UPDATE SET value = excluded.value,"
    " unit = excluded.unit, ts = excluded.ts, feed = excluded.feed"
    " WHERE excluded.ts >= latest.ts"
)
UPSERT_ENTITY = (
    "INSERT INTO entities (id, name, type, domain, lat, lon, feed, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET name = excluded.name, type = excluded.type,"
    " domain = excluded.domain, lat = excluded.lat, lon = excluded.lon,"
    " feed = excluded.feed, updated_at = excluded.updated_at"
)
UPSERT_FEED = (
    "INSERT INTO feeds (name, last_message_at) VALUES (?, ?)"
    " ON CONFLICT (name) DO UPDATE SET last_message_at = excluded.last_message_at"
    " WHERE excluded.last_message_at > feeds.last_message_at"
)
READING_COLUMNS = "entity_id, metric, value, ts, feed, unit"
SAMPLE_COLUMNS = (
    "series.entity_id, series.metric, samples.value, samples.ts, series.feed, series.unit"
)
"""A raw reading from ``samples JOIN series``, in :data:`READING_COLUMNS` order."""
UPSERT_SERIES = (
    "INSERT INTO series (entity_id, metric, feed, unit) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (entity_id, metric, feed) DO UPDATE SET unit = excluded.unit"
    " WHERE excluded.unit != series.unit"
)


def sql_float(value: object) -> float:
    """A REAL column value as a float; SQLite stores NaN as NULL, so NULL reads back as NaN."""
    if value is None:
        return math.nan
    assert isinstance(value, int | float)
    return float(value)


ENTITY_COLUMNS = "id, name, type, domain, lat, lon, feed, updated_at"


def entity_from_row(row: tuple[Any, ...], *, until: float | None = None) -> Entity:
    """An Entity (marked stale: restored, not live) from a row of ``ENTITY_COLUMNS``;
    ``until`` caps its update time (for a state as of a past moment)."""
    key, name, kind, domain, lat, lon, feed, updated_at = row
    if until is not None:
        updated_at = min(updated_at, until)
    return Entity(key, name, kind, domain, lat, lon, feed, updated_at, stale=True)


def reading_from_row(row: tuple[Any, ...]) -> Reading:
    entity_id, metric, value, ts, feed, unit = row
    return Reading(
        entity_id=entity_id, metric=metric, value=sql_float(value), ts=ts, feed=feed, unit=unit
    )


def area_from_row(row: tuple[Any, ...]) -> AlertArea | None:
    """An AlertArea from an ``alert_areas`` row, or None when it cannot be read back."""
    alarm_id, severity, label, geojson = row
    try:
        shape = json.loads(geojson)
        return (
            AlertArea(alarm_id, Severity(severity), label, shape)
            if isinstance(shape, dict)
            else None
        )
    except ValueError:
        return None


def alarm_from_row(row: tuple[Any, ...]) -> Alarm | None:
    """An Alarm from a row of ``ALARM_COLUMNS``, or None when its enums are unknown."""
    (
        key,
        entity_id,
        metric,
        condition,
        severity,
        state,
        value,
        threshold,
        raised_at,
        updated_at,
        count,
        acked_at,
        acked_by,
        message,
        revision,
        shelved_until,
        shelved_by,
        shelve_note,
        shelved_active,
        shelve_changed_at,
        assignee,
        assigned_at,
        comments,
    ) = row
    try:
        return Alarm(
            entity_id=entity_id,
            metric=metric,
            condition=Condition(condition),
            severity=Severity(severity),
            state=AlarmState(state),
            value=sql_float(value),
            threshold=sql_float(threshold),
            raised_at=raised_at,
            updated_at=updated_at,
            count=count,
            acked_at=acked_at,
            acked_by=acked_by,
            message=message,
            revision=revision,
            shelved_until=shelved_until,
            shelved_by=shelved_by,
            shelve_note=shelve_note,
            shelved_active=bool(shelved_active),
            shelve_changed_at=shelve_changed_at,
            assignee=assignee,
            assigned_at=assigned_at,
            comments=comments,
        )
    except ValueError as exc:
        log.warning("skipping alarm %r in the cache: %s", key, exc)
        return None


def alarm_params(alarm: Alarm) -> tuple[object, ...]:
    return (
        alarm.id,
        alarm.entity_id,
        alarm.metric,
        str(alarm.condition),
        int(alarm.severity),
        str(alarm.state),
        alarm.value,
        alarm.threshold,
        alarm.raised_at,
        alarm.updated_at,
        alarm.count,
        alarm.acked_at,
        alarm.acked_by,
        alarm.message,
        alarm.revision,
        alarm.shelved_until,
        alarm.shelved_by,
        alarm.shelve_note,
        int(alarm.shelved_active),
        alarm.shelve_changed_at,
        alarm.assignee,
        alarm.assigned_at,
        alarm.comments,
    )
