"""The city as the offline cache saw it at a past moment: entities, each metric's latest
value at that moment, and the alarms with their states then — the same :class:`Snapshot`
the live start-up uses, so a replay can feed every view unchanged.

Moving entities are placed where they were, from their stored track points
(:mod:`services.store.positions`). Known gaps: entity names and the places of entities
that never moved are today's, and CAP warning areas are not kept over time, so none are
given.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from services.model import Alarm, AlarmState, Reading, Snapshot
from services.store import history
from services.store.positions import placed, places_at
from services.store.schema import (
    ALARM_COLUMNS,
    ENTITY_COLUMNS,
    alarm_from_row,
    entity_from_row,
    sql_float,
)


def state_at(conn: sqlite3.Connection, at: float) -> Snapshot:
    """What was known at ``at`` (epoch seconds): entities heard of by then, the newest raw
    reading of every series at or before it, and each alarm's last transition at or before
    it (with who had acknowledged it by then); alarms normal then are left out."""
    latest = latest_at(conn, at)
    # Heard of by then: exactly the entities with a value then (no second seek per series).
    heard = {reading.entity_id for reading in latest}
    known = {
        row[0]: entity_from_row(row, until=at)
        for row in conn.execute(f"SELECT {ENTITY_COLUMNS} FROM entities e ORDER BY e.id")
        if row[0] in heard
    }
    entities = list(placed(known, places_at(conn, at)).values())  # moving ones as then
    return Snapshot(entities=entities, latest=latest, alarms=alarms_at(conn, at))


def latest_at(conn: sqlite3.Connection, at: float) -> list[Reading]:
    """The newest reading of every series at or before ``at`` (one seek per series): raw,
    or — for a series whose raw samples of then are gone (older than the raw retention) —
    the last value of its newest 1-minute, else 15-minute, bucket ended by ``at``."""
    found = {
        series: Reading(entity_id, metric, sql_float(value), ts, feed, unit)
        for series, entity_id, metric, feed, unit, ts, value in conn.execute(
            "SELECT s.id, s.entity_id, s.metric, s.feed, s.unit, x.ts, x.value FROM series s"
            " CROSS JOIN samples x ON x.series = s.id AND x.ts ="
            " (SELECT max(ts) FROM samples WHERE series = s.id AND ts <= ?)",
            (at,),
        )
    }
    total = int(conn.execute("SELECT count(*) FROM series").fetchone()[0])
    for tier, width in history.TIERS.items():
        if len(found) >= total:
            break
        table = history.tier_table(tier)
        for series, entity_id, metric, feed, unit, ts, value in conn.execute(
            "SELECT s.id, s.entity_id, s.metric, s.feed, s.unit, a.last_ts, a.last FROM series s"
            f" CROSS JOIN {table} a ON a.series = s.id AND a.bucket ="
            f" (SELECT max(bucket) FROM {table} WHERE series = s.id AND bucket <= ?)",
            (at - width,),
        ):
            if series not in found:
                found[series] = Reading(entity_id, metric, sql_float(value), ts, feed, unit)
    return sorted(found.values(), key=lambda reading: (reading.entity_id, reading.metric))


def alarms_at(conn: sqlite3.Connection, at: float) -> list[Alarm]:
    """Every alarm that was not normal at ``at``, in the state it had then (see
    :func:`state_at`)."""
    known = {
        alarm.id: alarm
        for row in conn.execute(f"SELECT {ALARM_COLUMNS} FROM alarms")
        if (alarm := alarm_from_row(row)) is not None
    }
    alarms: list[Alarm] = []
    for alarm_id, state_text, value, severity, ts in conn.execute(
        # One seek per known alarm (not a pass over a year of transitions).
        "SELECT e.alarm_id, e.state, e.value, e.severity, e.ts FROM alarms a"
        " CROSS JOIN alarm_events e ON e.rowid = (SELECT rowid FROM alarm_events"
        " WHERE alarm_id = a.id AND ts <= ? ORDER BY ts DESC, rowid DESC LIMIT 1)",
        (at,),
    ):
        held = known.get(alarm_id)
        try:
            state = AlarmState(state_text)
        except ValueError:
            continue
        if held is None or state is AlarmState.NORMAL:
            continue
        raised = conn.execute(
            "SELECT max(ts) FROM alarm_events WHERE alarm_id = ? AND ts <= ? AND state = ?",
            (alarm_id, at, str(AlarmState.UNACKNOWLEDGED)),
        ).fetchone()[0]
        acked = conn.execute(
            "SELECT ts, \"user\" FROM actions WHERE alarm_id = ? AND action = 'ack'"
            " AND ts <= ? AND ts >= ? ORDER BY ts LIMIT 1",
            (alarm_id, at, raised if raised is not None else held.raised_at),
        ).fetchone()
        alarms.append(
            replace(
                held,
                state=state,
                value=sql_float(value),
                severity=type(held.severity)(severity),
                updated_at=ts,
                raised_at=raised if raised is not None else min(held.raised_at, ts),
                acked_at=None if acked is None else float(acked[0]),
                acked_by="" if acked is None else str(acked[1]),
            )
        )
    alarms.sort(key=lambda alarm: (alarm.raised_at, alarm.id))
    return alarms
