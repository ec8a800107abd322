"""The offline cache's incident tables: writing a changed incident, loading incidents at
start, and building an incident's timeline. Functions of an open connection, called by
:class:`services.store.cache.OfflineCache` inside its transactions.

An incident's timeline merges, in time order: the transitions of its linked alarms (the
``alarm_events`` history), the operators' actions on those alarms (``actions``: ack, shelve,
comment, assign, …, with who, where and their note), the changes to the incident itself
(``actions`` keyed ``incident:<id>``, also in the audit trail) and its notes
(``incident_notes``). Only changes of state count as transitions (a new value or a repeat
in the same state does not). A transition recorded at the same moment as an action on the same
alarm (an acknowledgement makes both) is one entry: the action, with the state it made.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

from services.model import (
    INCIDENT_KEY_PREFIX,
    Incident,
    IncidentNote,
    IncidentStatus,
    TimelineEntry,
    TimelineKind,
)
from services.store.journal import merge_transitions

log = logging.getLogger(__name__)

INCIDENT_COLUMNS = (
    "id, title, priority, status, owner, opened_at, opened_by, updated_at, notes, revision"
)
UPSERT_INCIDENT = (
    f"INSERT INTO incidents ({INCIDENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET title = excluded.title, priority = excluded.priority,"
    " status = excluded.status, owner = excluded.owner, opened_at = excluded.opened_at,"
    " opened_by = excluded.opened_by, updated_at = excluded.updated_at,"
    " notes = excluded.notes, revision = excluded.revision"
    " WHERE (excluded.revision, excluded.updated_at) >= (incidents.revision, incidents.updated_at)"
)
NOTE_KIND = "incident_note"
_BATCH = 500


def write_incident(conn: sqlite3.Connection, incident: Incident, note: IncidentNote | None) -> None:
    """Store an incident's version (unless a newer one is stored: then only its note) with
    its links, and a new note (once, by id)."""
    taken = conn.execute(
        UPSERT_INCIDENT,
        (
            incident.id,
            incident.title,
            incident.priority,
            incident.status.value,
            incident.owner,
            incident.opened_at,
            incident.opened_by,
            incident.updated_at,
            incident.notes,
            incident.revision,
        ),
    ).rowcount
    if taken:
        conn.execute("DELETE FROM incident_alarms WHERE incident_id = ?", (incident.id,))
        conn.executemany(
            "INSERT OR IGNORE INTO incident_alarms (incident_id, alarm_id) VALUES (?, ?)",
            ((incident.id, key) for key in incident.alarm_ids),
        )
        conn.execute("DELETE FROM incident_entities WHERE incident_id = ?", (incident.id,))
        conn.executemany(
            "INSERT OR IGNORE INTO incident_entities (incident_id, entity_id) VALUES (?, ?)",
            ((incident.id, key) for key in incident.entity_ids),
        )
    if note is not None:
        conn.execute(
            'INSERT OR IGNORE INTO incident_notes (id, incident_id, ts, "user", workstation,'
            " text) VALUES (?, ?, ?, ?, ?, ?)",
            (note.id, note.incident_id, note.ts, note.user, note.workstation, note.text),
        )


def _incident(row: tuple[Any, ...], alarms: Sequence[str], entities: Sequence[str]) -> Incident:
    key, title, priority, status, owner, opened_at, opened_by, updated_at, notes, revision = row
    return Incident(
        id=key,
        title=title,
        priority=int(priority),
        status=IncidentStatus(status),
        owner=owner,
        opened_at=float(opened_at),
        opened_by=opened_by,
        updated_at=float(updated_at),
        alarm_ids=tuple(alarms),
        entity_ids=tuple(entities),
        notes=int(notes),
        revision=int(revision),
    )


def load_incidents(conn: sqlite3.Connection, since: float, limit: int) -> list[Incident]:
    """Incidents not closed, and closed ones changed at or after ``since``: at most
    ``limit``, the open ones first, then the most recently changed; oldest first."""
    rows = conn.execute(
        f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE status != ? OR updated_at >= ?"
        " ORDER BY status = ?, updated_at DESC LIMIT ?",
        (IncidentStatus.CLOSED.value, since, IncidentStatus.CLOSED.value, limit),
    ).fetchall()
    links: dict[str, tuple[list[str], list[str]]] = {str(row[0]): ([], []) for row in rows}
    keys = list(links)
    for start in range(0, len(keys), _BATCH):
        part = keys[start : start + _BATCH]
        marks = ", ".join("?" * len(part))
        for table, column, index in (
            ("incident_alarms", "alarm_id", 0),
            ("incident_entities", "entity_id", 1),
        ):
            for incident_id, linked in conn.execute(
                f"SELECT incident_id, {column} FROM {table}"
                f" WHERE incident_id IN ({marks}) ORDER BY rowid",
                part,
            ):
                links[incident_id][index].append(linked)
    found = []
    for row in rows:
        try:
            found.append(_incident(row, *links[str(row[0])]))
        except ValueError as error:
            log.warning("skipping incident %r in the cache: %s", row[0], error)
    found.sort(key=lambda incident: (incident.opened_at, incident.id))
    return found


def timeline(conn: sqlite3.Connection, incident_id: str, limit: int) -> list[TimelineEntry]:
    """The incident's timeline (see the module's text), oldest first, at most ``limit``
    entries (the newest); empty for an unknown incident."""
    row = conn.execute("SELECT opened_at FROM incidents WHERE id = ?", (incident_id,)).fetchone()
    if row is None:
        return []
    opened_at = float(row[0])
    alarm_ids = [
        str(key)
        for (key,) in conn.execute(
            "SELECT alarm_id FROM incident_alarms WHERE incident_id = ? ORDER BY rowid",
            (incident_id,),
        )
    ]
    # From the start of the oldest linked alarm's current occurrence (or the opening).
    since = opened_at
    keyed: list[tuple[float, int, int, TimelineEntry]] = []
    for start in range(0, len(alarm_ids), _BATCH):
        part = alarm_ids[start : start + _BATCH]
        marks = ", ".join("?" * len(part))
        raised = conn.execute(
            f"SELECT min(raised_at) FROM alarms WHERE id IN ({marks})", part
        ).fetchone()[0]
        if raised is not None:
            since = min(since, float(raised))
    for start in range(0, len(alarm_ids), _BATCH):
        part = alarm_ids[start : start + _BATCH]
        marks = ", ".join("?" * len(part))
        actions = conn.execute(
            'SELECT rowid, ts, alarm_id, action, "user", workstation, comment FROM actions'
            f" WHERE alarm_id IN ({marks}) AND ts >= ? ORDER BY ts DESC, rowid DESC LIMIT ?",
            [*part, since, limit],
        ).fetchall()
        events = conn.execute(
            "SELECT rowid, ts, alarm_id, state, value, previous FROM ("
            " SELECT rowid, ts, alarm_id, state, value,"
            "  lag(state) OVER (PARTITION BY alarm_id ORDER BY ts, rowid) AS previous"
            f"  FROM alarm_events WHERE alarm_id IN ({marks}))"
            " WHERE ts >= ? AND (previous IS NULL OR previous != state)"
            " ORDER BY ts DESC, rowid DESC LIMIT ?",
            [*part, since, limit],
        ).fetchall()
        keyed.extend(merge_transitions(events, actions))
    for rowid, ts, action, user, workstation, comment in conn.execute(
        'SELECT rowid, ts, action, "user", workstation, comment FROM actions'
        " WHERE alarm_id = ? AND action != ? ORDER BY ts DESC, rowid DESC LIMIT ?",
        (INCIDENT_KEY_PREFIX + incident_id, NOTE_KIND, limit),
    ):
        entry = TimelineEntry(
            float(ts),
            TimelineKind.INCIDENT,
            str(action),
            user=str(user),
            workstation=str(workstation),
            note=str(comment),
        )
        keyed.append((float(ts), 2, int(rowid), entry))
    for rowid, ts, user, workstation, text in conn.execute(
        'SELECT rowid, ts, "user", workstation, text FROM incident_notes'
        " WHERE incident_id = ? ORDER BY ts DESC, rowid DESC LIMIT ?",
        (incident_id, limit),
    ):
        entry = TimelineEntry(
            float(ts),
            TimelineKind.NOTE,
            NOTE_KIND,
            user=str(user),
            workstation=str(workstation),
            note=str(text),
        )
        keyed.append((float(ts), 3, int(rowid), entry))
    keyed.sort(key=lambda item: item[:3])
    return [entry for *_order, entry in keyed[-limit:]]
