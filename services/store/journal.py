"""The alarm journal: every alarm transition and every operator action on alarms in a
time window, for the supervisor's look back over a shift (and its export)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from services.model import INCIDENT_KEY_PREFIX, TimelineEntry, TimelineKind


def journal(
    conn: sqlite3.Connection, since: float, until: float, limit: int
) -> list[TimelineEntry]:
    """Transitions (with the state left) and operator actions in [since, until], oldest
    first, at most ``limit`` (the newest); an action that made a transition is one entry."""
    actions = conn.execute(
        'SELECT rowid, ts, alarm_id, action, "user", workstation, comment FROM actions'
        " WHERE ts >= ? AND ts <= ? AND alarm_id NOT LIKE ? ORDER BY ts DESC, rowid DESC"
        " LIMIT ?",
        (since, until, INCIDENT_KEY_PREFIX + "%", limit),
    ).fetchall()
    events = conn.execute(
        "SELECT rowid, ts, alarm_id, state, value, previous FROM ("
        " SELECT rowid, ts, alarm_id, state, value,"
        "  coalesce(lag(state) OVER (PARTITION BY alarm_id ORDER BY ts, rowid), '') AS previous"
        "  FROM alarm_events WHERE ts <= ?)"
        " WHERE ts >= ? AND previous != state ORDER BY ts DESC, rowid DESC LIMIT ?",
        (until, since, limit),
    ).fetchall()
    keyed = merge_transitions(events, actions)
    keyed.sort(key=lambda item: item[:3])
    return [entry for *_order, entry in keyed[-limit:]]


Ordered = tuple[float, int, int, TimelineEntry]
"""An entry with what orders it: time, then transitions before actions, then row id."""


def merge_transitions(
    events: Sequence[Sequence[Any]], actions: Sequence[Sequence[Any]]
) -> list[Ordered]:
    """Alarm transitions (rowid, ts, alarm, state, value, previous state) and operator
    actions (rowid, ts, alarm, action, user, workstation, note) as journal entries, unsorted;
    an action and the transition it made (same alarm and time) are one entry."""
    acted = {(str(row[2]), float(row[1])): index for index, row in enumerate(actions)}
    moves: dict[int, tuple[str, str]] = {}
    keyed: list[Ordered] = []
    for rowid, ts, key, state, value, previous in events:
        index = acted.get((str(key), float(ts)))
        if index is not None and index not in moves:
            moves[index] = (str(previous or ""), str(state))  # the action's own transition
            continue
        entry = TimelineEntry(
            float(ts),
            TimelineKind.ALARM,
            str(state),
            alarm_id=str(key),
            value=None if value is None else float(value),
            state=str(state),
            previous=str(previous or ""),
        )
        keyed.append((float(ts), 0, int(rowid), entry))
    for index, (rowid, ts, key, action, user, workstation, comment) in enumerate(actions):
        previous, state = moves.get(index, ("", ""))
        entry = TimelineEntry(
            float(ts),
            TimelineKind.ACTION,
            str(action),
            alarm_id=str(key),
            user=str(user),
            workstation=str(workstation),
            note=str(comment),
            state=state,
            previous=previous,
        )
        keyed.append((float(ts), 1, int(rowid), entry))
    return keyed
