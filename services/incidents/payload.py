"""Incident changes as shared between workstations: one JSON object per change.

:func:`incident_payload` turns a stored change into the dict to publish;
:func:`apply_incident_payload` checks a received one and merges it into the book. The
broker wiring (topic, QoS, outbox) belongs to the sharing desk, which calls these on the
ingest worker.

A payload carries the incident's whole state after the change, so the merge is by state:
the version with the higher revision wins (the same revision: the one changed later), and
every note is kept once (by its id) whichever version wins. The payload::

    {"id": "<change id>", "kind": "incident", "incident": "<incident id>",
     "changes": [["incident_status", "in_progress"], …],
     "title": "…", "priority": 2, "status": "in_progress", "owner": "li.wei",
     "opened_at": 1790000000.0, "opened_by": "li.wei", "updated_at": 1790000100.0,
     "alarms": ["aq-01|pm25|high"], "entities": ["aq-01"], "notes": 1, "revision": 3,
     "note": {"id": "…", "ts": …, "user": "…", "workstation": "…", "text": "…"},  # optional
     "user": "li.wei", "workstation": "ws-3", "role": "operator", "ts": 1790000100.0}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.auth.roles import Permission, Principal, Role
from services.incidents.book import (
    ENTRY_KINDS,
    IncidentBook,
    IncidentChange,
    IncidentError,
    check_note,
    check_owner,
    check_priority,
    check_status,
    check_title,
    new_id,
    refusal,
)
from services.limits import MAX_INCIDENT_ALARMS
from services.model import Incident, IncidentNote, IncidentStatus
from services.timeutil import finite_number

PAYLOAD_KIND = "incident"


def incident_payload(
    change: IncidentChange, who: Principal, ts: float, change_id: str | None = None
) -> dict[str, Any]:
    """The dict to share for ``change``, made by ``who`` at ``ts`` (JSON-ready: plain
    strings, numbers and lists); ``change_id`` names the change (a fresh id by default)."""
    incident = change.incident
    body: dict[str, Any] = {
        "id": change_id or new_id(),
        "kind": PAYLOAD_KIND,
        "incident": incident.id,
        "changes": [[kind, text] for kind, text in change.entries],
        "title": incident.title,
        "priority": incident.priority,
        "status": incident.status.value,
        "owner": incident.owner,
        "opened_at": incident.opened_at,
        "opened_by": incident.opened_by,
        "updated_at": incident.updated_at,
        "alarms": list(incident.alarm_ids),
        "entities": list(incident.entity_ids),
        "notes": incident.notes,
        "revision": incident.revision,
        "user": who.user,
        "workstation": who.workstation,
        "role": who.role.value,
        "ts": ts,
    }
    note = change.note
    if note is not None:
        body["note"] = {
            "id": note.id,
            "ts": note.ts,
            "user": note.user,
            "workstation": note.workstation,
            "text": note.text,
        }
    return body


@dataclass(frozen=True, slots=True)
class ReceivedIncident:
    """A checked incident payload."""

    id: str
    incident: Incident
    entries: tuple[tuple[str, str], ...]
    note: IncidentNote | None
    who: Principal
    ts: float


def _text(body: Mapping[str, Any], key: str, *, empty: bool = False) -> str:
    value = body.get(key)
    if not isinstance(value, str) or (not empty and not value):
        raise IncidentError(f"incident payload: {key!r} must be a non-empty string")
    return value


def _time(body: Mapping[str, Any], key: str) -> float:
    value = body.get(key)
    if not finite_number(value):
        raise IncidentError(f"incident payload: {key!r} must be a time (epoch seconds)")
    return float(value)


def _ids(body: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise IncidentError(f"incident payload: {key!r} must be a list of ids")
    if len(value) > MAX_INCIDENT_ALARMS:
        raise IncidentError(f"incident payload: more than {MAX_INCIDENT_ALARMS} {key}")
    return tuple(dict.fromkeys(value))


MAX_COUNT = 2**53
"""The largest count (a revision, a number of notes) a payload may carry: exact as a float
and well inside SQLite's integers."""


def _count(body: Mapping[str, Any], key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise IncidentError(f"incident payload: {key!r} must be a count")
    return value


def decode_incident_payload(body: Mapping[str, Any]) -> ReceivedIncident:
    """Check a received payload; IncidentError says what is wrong with it."""
    if body.get("kind") != PAYLOAD_KIND:
        raise IncidentError(f"incident payload: kind must be {PAYLOAD_KIND!r}")
    try:
        role = Role.parse(_text(body, "role"))
    except ValueError as error:
        raise IncidentError(f"incident payload: {error}") from None
    who = Principal(_text(body, "user"), role, _text(body, "workstation", empty=True))
    incident = Incident(
        id=_text(body, "incident"),
        title=check_title(_text(body, "title")),
        priority=check_priority(body.get("priority")),
        status=check_status(body.get("status")),
        owner=check_owner(_text(body, "owner", empty=True)),
        opened_at=_time(body, "opened_at"),
        opened_by=_text(body, "opened_by"),
        updated_at=_time(body, "updated_at"),
        alarm_ids=_ids(body, "alarms"),
        entity_ids=_ids(body, "entities"),
        notes=_count(body, "notes"),
        revision=_count(body, "revision"),
    )
    changes = body.get("changes", [])
    if not isinstance(changes, list) or not all(
        isinstance(c, list) and len(c) == 2 and c[0] in ENTRY_KINDS and isinstance(c[1], str)
        for c in changes
    ):
        raise IncidentError("incident payload: 'changes' must be [kind, value] pairs")
    note = None
    if "note" in body:
        raw = body["note"]
        if not isinstance(raw, Mapping):
            raise IncidentError("incident payload: 'note' must be an object")
        note = IncidentNote(
            _text(raw, "id"),
            incident.id,
            _time(raw, "ts"),
            _text(raw, "user"),
            _text(raw, "workstation", empty=True),
            check_note(_text(raw, "text")),
        )
    return ReceivedIncident(
        _text(body, "id"),
        incident,
        tuple((str(kind), str(text)) for kind, text in changes),
        note,
        who,
        _time(body, "ts"),
    )


def apply_incident_payload(
    book: IncidentBook, body: Mapping[str, Any]
) -> tuple[ReceivedIncident, IncidentChange | None]:
    """Check a received payload against the roles (a viewer's is refused; closing or
    reopening a closed incident needs a supervisor) and merge it into ``book``.

    Returns the checked payload and the change to store (its ``incident`` is the version
    the book now holds), or None for the change when the book holds a newer version already
    and the payload brings no note. Raises IncidentError (nothing merged) when the payload
    is malformed or its sender's role may not do what it says; the caller dead-letters it.
    """
    received = decode_incident_payload(body)
    who, incoming = received.who, received.incident
    if not who.may(Permission.WORK_ON_INCIDENTS):
        raise IncidentError(refusal(who, Permission.WORK_ON_INCIDENTS, "change incidents"))
    held = book.get(incoming.id)
    was = held.status if held is not None else None
    closing = incoming.status is IncidentStatus.CLOSED and was is not IncidentStatus.CLOSED
    reopening = was is IncidentStatus.CLOSED and incoming.status is not IncidentStatus.CLOSED
    if (closing or reopening) and not who.may(Permission.CLOSE_INCIDENT):
        what = "close incidents" if closing else "reopen a closed incident"
        raise IncidentError(refusal(who, Permission.CLOSE_INCIDENT, what))
    if book.put(incoming):
        return received, IncidentChange(incoming, held, received.entries, received.note)
    if received.note is not None and held is not None:
        return received, IncidentChange(held, held, received.entries, received.note)
    return received, None
