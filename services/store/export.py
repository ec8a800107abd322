"""Export of the offline cache's alarms and readings as JSON or CSV."""

from __future__ import annotations

import csv
import json
import logging
import math
import re
import time
from collections.abc import Iterable, Sequence
from typing import TextIO

from services.model import Alarm, AlarmState, Reading, Severity, TimelineEntry
from services.store.audit import AuditEntry
from services.store.cache import OfflineCache
from services.timeutil import format_timestamp

log = logging.getLogger(__name__)

ALARM_COLUMNS: tuple[str, ...] = (
    "entity",
    "metric",
    "condition",
    "severity",
    "state",
    "raised_at",
    "value",
    "threshold",
    "count",
    "acked_at",
    "acked_by",
    "updated_at",
    "message",
    "shelved_until",
    "shelved_by",
    "shelve_note",
)
READING_COLUMNS: tuple[str, ...] = ("ts", "entity", "metric", "value", "unit", "feed")
FORMATS: tuple[str, ...] = ("json", "csv")
ACTION_COLUMNS: tuple[str, ...] = (
    "seq",
    "ts",
    "action",
    "alarm",
    "user",
    "workstation",
    "note",
    "hash",
)
ALARM_EVENT_COLUMNS: tuple[str, ...] = (
    "ts",
    "alarm",
    "event",
    "state",
    "value",
    "severity",
    "user",
    "workstation",
    "note",
)
WHATS: tuple[str, ...] = (
    "alarms",
    "alarm-events",
    "readings",
    "actions",
    "series",
    "state",
    "journal",
)
JOURNAL_COLUMNS: tuple[str, ...] = (
    "ts",
    "alarm",
    "kind",
    "what",
    "from",
    "to",
    "value",
    "user",
    "workstation",
    "note",
)
"""A journal entry: an alarm's own transition (kind "alarm") or an operator action."""


def journal_rows(entries: Iterable[TimelineEntry]) -> list[dict[str, object]]:
    """One row per journal entry, keyed by :data:`JOURNAL_COLUMNS`."""
    return [
        {
            "ts": format_timestamp(entry.ts),
            "alarm": entry.alarm_id,
            "kind": str(entry.kind),
            "what": entry.what,
            "from": entry.previous,
            "to": entry.state,
            "value": entry.value,
            "user": entry.user,
            "workstation": entry.workstation,
            "note": entry.note,
        }
        for entry in entries
    ]


SERIES_COLUMNS: tuple[str, ...] = ("ts", "resolution", "value", "min", "max", "count", "last")
"""A series point: its time (a bucket's start), the resolution, and the value (a bucket's
mean) with its min, max, count and last value."""
SERIES_WINDOW_S = 86_400.0
"""The window of ``export series`` without ``--since``: the last 24 h."""


def export_series(  # noqa: PLR0917 - the CLI's arguments, in order
    cache: OfflineCache,
    entity_id: str,
    metric: str,
    fmt: str,
    out: TextIO,
    since: float | None,
    until: float | None,
    resolution: str,
    now: float,
) -> int:
    """Write a metric's series over [since, until] (default: the last 24 h) at
    ``resolution`` ("auto" picks raw, 1-minute or 15-minute buckets by the window) to
    ``out``; return the points written."""
    end = now if until is None else until
    start = end - SERIES_WINDOW_S if since is None else since
    chosen, points = cache.series(entity_id, metric, start, end, resolution=resolution, now=now)
    writer = _RowWriter(SERIES_COLUMNS, fmt, out)
    writer.begin()
    writer.write(
        [
            {
                "ts": format_timestamp(point.ts),
                "resolution": chosen,
                "value": _number(point.value),
                "min": _number(point.minimum),
                "max": _number(point.maximum),
                "count": point.count,
                "last": _number(point.last),
            }
            for point in points
        ]
    )
    writer.end()
    log.info("exported %d points of %s %s at %s", writer.count, entity_id, metric, chosen)
    return writer.count


def export_state(cache: OfflineCache, at: float, out: TextIO, now: float) -> int:
    """Write the state as of ``at`` as one JSON object (times UTC, ages in seconds at
    ``at``); returns the values written."""
    snapshot = cache.state_at(at)
    body = {
        "at": format_timestamp(at),
        "zone": "UTC",
        "written_at": format_timestamp(now),
        "entities": [
            {
                "id": e.id,
                "name": e.name,
                "type": e.type,
                "domain": e.domain,
                "lat": e.lat,
                "lon": e.lon,
            }
            for e in snapshot.entities
        ],
        "values": [
            {
                "entity": r.entity_id,
                "metric": r.metric,
                "value": _number(r.value),
                "unit": r.unit,
                "ts": format_timestamp(r.ts),
                "age_s": round(at - r.ts, 3),
                "feed": r.feed,
            }
            for r in snapshot.latest
        ],
        "alarms": [
            {
                "alarm": a.id,
                "entity": a.entity_id,
                "metric": a.metric,
                "condition": str(a.condition),
                "state": str(a.state),
                "severity": a.severity.label,
                "value": _number(a.value),
                "raised_at": format_timestamp(a.raised_at),
                "since": format_timestamp(a.updated_at),
                "acked_by": a.acked_by,
                "acked_at": _iso(a.acked_at),
            }
            for a in snapshot.alarms
        ],
        "not_kept": "entity positions are today's; CAP areas are not kept over time",
    }
    json.dump(body, out, ensure_ascii=False, indent=1)
    out.write("\n")
    return len(snapshot.latest)


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


# A spreadsheet treats a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# C0 and C1 controls but tab and line feed (quoted as RFC 4180 says), DEL, and the
# bidirectional-text controls (which can reorder what a cell shows).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else format_timestamp(seconds)


def _shelved_until(until: float | None) -> str | None:
    return "until it clears" if until == math.inf else _iso(until)


def alarm_rows(alarms: Iterable[Alarm]) -> list[dict[str, object]]:
    """One row per alarm, keyed by :data:`ALARM_COLUMNS`; times as ISO-8601 UTC text."""
    return [
        {
            "entity": alarm.entity_id,
            "metric": alarm.metric,
            "condition": str(alarm.condition),
            "severity": alarm.severity.label,
            "state": str(alarm.state),
            "raised_at": _iso(alarm.raised_at),
            "value": alarm.value,
            "threshold": alarm.threshold,
            "count": alarm.count,
            "acked_at": _iso(alarm.acked_at),
            "acked_by": alarm.acked_by,
            "updated_at": _iso(alarm.updated_at),
            "message": alarm.message,
            "shelved_until": _shelved_until(alarm.shelved_until),
            "shelved_by": alarm.shelved_by,
            "shelve_note": alarm.shelve_note,
        }
        for alarm in alarms
    ]


def reading_rows(readings: Iterable[Reading]) -> list[dict[str, object]]:
    """One row per reading, keyed by :data:`READING_COLUMNS`; ts as ISO-8601 UTC text."""
    return [
        {
            "ts": format_timestamp(reading.ts),
            "entity": reading.entity_id,
            "metric": reading.metric,
            "value": reading.value,
            "unit": reading.unit,
            "feed": reading.feed,
        }
        for reading in readings
    ]


def action_rows(entries: Iterable[AuditEntry]) -> list[dict[str, object]]:
    """One row per audited operator action, keyed by :data:`ACTION_COLUMNS`."""
    return [
        {
            "seq": entry.seq,
            "ts": format_timestamp(entry.ts),
            "action": entry.kind,
            "alarm": entry.alarm_id,
            "user": entry.user,
            "workstation": entry.workstation,
            "note": entry.note,
            "hash": entry.hash,
        }
        for entry in entries
    ]


_ACTION_EVENTS = {"ack": "acknowledge"}
"""Audited action kinds whose event name differs (shelve and unshelve keep theirs)."""


def _alarm_event(previous: str, state: str, action: str | None) -> str:
    """What made an alarm take ``state`` after ``previous``: an operator's ``action``
    (acknowledge, shelve, unshelve), raise, clear, unshelve (its time was up) or update
    (same state: a new value, severity or message)."""
    if action is not None:
        return _ACTION_EVENTS.get(action, action)
    if previous == AlarmState.SHELVED and state != previous:
        return "unshelve"
    if state == previous:
        return "update"
    if state == AlarmState.UNACKNOWLEDGED:
        return "raise"
    if state in (AlarmState.RTN_UNACKNOWLEDGED, AlarmState.NORMAL):
        return "clear"
    return "update"


def alarm_event_rows(
    events: Iterable[tuple[float, str, str, str, float | None, int]],
    actions: Iterable[AuditEntry],
) -> list[dict[str, object]]:
    """One row per alarm transition, keyed by :data:`ALARM_EVENT_COLUMNS`: the event that
    caused it and, for an operator's action, who did it and their note or reason (from the
    audit trail entry of the same alarm and time)."""
    by_alarm_time = {(entry.alarm_id, entry.ts): entry for entry in actions}
    rows: list[dict[str, object]] = []
    for ts, key, previous, state, value, severity in events:
        entry = by_alarm_time.get((key, ts))
        rows.append(
            {
                "ts": format_timestamp(ts),
                "alarm": key,
                "event": _alarm_event(previous, state, entry.kind if entry else None),
                "state": state,
                "value": value,
                "severity": Severity(severity).label,
                "user": entry.user if entry else "",
                "workstation": entry.workstation if entry else "",
                "note": entry.note if entry else "",
            }
        )
    return rows


def _json_value(value: object) -> object:
    """JSON has no NaN or infinity: those become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _escape_control(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _csv_value(value: object) -> object:
    """Defuse text a spreadsheet would run as a formula and escape control characters
    (NUL, escape sequences, carriage returns, bidi overrides …; tab and line feed stay, quoted)
    as ``\\xNN`` or ``\\uNNNN``; numbers pass through."""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_STARTS):
        value = "'" + value
    return _CONTROL.sub(_escape_control, value)


class _RowWriter:
    """Writes rows to ``out`` in one format, a chunk at a time."""

    def __init__(self, columns: Sequence[str], fmt: str, out: TextIO) -> None:
        if fmt not in FORMATS:
            raise ValueError(
                f"unknown export format {fmt!r} (expected one of {', '.join(FORMATS)})"
            )
        self.columns = tuple(columns)
        self.fmt = fmt
        self.out = out
        self.count = 0
        self._csv = csv.writer(out) if fmt == "csv" else None

    def begin(self) -> None:
        if self._csv is not None:
            self._csv.writerow(self.columns)
        else:
            self.out.write("[")

    def write(self, rows: Sequence[dict[str, object]]) -> None:
        if self._csv is not None:
            self._csv.writerows(
                [_csv_value(row.get(column)) for column in self.columns] for row in rows
            )
            self.count += len(rows)
            return
        for row in rows:
            item = {column: _json_value(row.get(column)) for column in self.columns}
            self.out.write("\n  " if self.count == 0 else ",\n  ")
            self.out.write(json.dumps(item, ensure_ascii=False))
            self.count += 1

    def end(self) -> None:
        if self._csv is None:
            self.out.write("\n]\n" if self.count else "]\n")


def write_rows(
    rows: Sequence[dict[str, object]], columns: Sequence[str], fmt: str, out: TextIO
) -> None:
    """Write ``rows`` (only ``columns``, in that order) to ``out`` as "json" or "csv".

    JSON is an array with one object per line; CSV has a header row. Text cells that a
    spreadsheet would evaluate (starting with = + - @) get a leading apostrophe in CSV.
    Open files for CSV with ``newline=""``. Raises ValueError for an unknown ``fmt``.
    """
    writer = _RowWriter(columns, fmt, out)
    writer.begin()
    writer.write(rows)
    writer.end()


def export(  # noqa: PLR0917 - signature shared with the CLI and the UI
    cache: OfflineCache,
    what: str,
    fmt: str,
    out: TextIO,
    since: float | None = None,
    until: float | None = None,
) -> int:
    """Write the cache's "alarms", "alarm-events", "readings" or "actions" in [since, until]
    to ``out``; return the rows written.

    Alarms are those active in the window (see :meth:`OfflineCache.query_alarms`); readings
    are streamed in batches so a long window does not have to fit in memory; actions come
    from the audit trail, with each entry's number and hash; alarm events are every
    transition, with who acknowledged and why.
    """
    if what not in WHATS:
        raise ValueError(f"unknown export {what!r} (expected one of {', '.join(WHATS)})")
    columns = {
        "alarms": ALARM_COLUMNS,
        "alarm-events": ALARM_EVENT_COLUMNS,
        "actions": ACTION_COLUMNS,
        "journal": JOURNAL_COLUMNS,
    }.get(what, READING_COLUMNS)
    writer = _RowWriter(columns, fmt, out)
    writer.begin()
    entries = (
        entry
        for entry in cache.audit_entries()
        if (since is None or entry.ts >= since) and (until is None or entry.ts <= until)
    )
    if what == "alarms":
        writer.write(alarm_rows(cache.query_alarms(since, until)))
    elif what == "alarm-events":
        writer.write(alarm_event_rows(cache.query_alarm_events(since, until), entries))
    elif what == "actions":
        writer.write(action_rows(entries))
    elif what == "journal":
        end = time.time() if until is None else until
        writer.write(journal_rows(cache.journal(end - 86_400.0 if since is None else since, end)))
    else:
        for batch in cache.iter_readings(since, until):
            writer.write(reading_rows(batch))
    writer.end()
    log.info("exported %d %s as %s", writer.count, what, fmt)
    return writer.count
