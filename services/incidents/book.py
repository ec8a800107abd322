"""The incident book: every incident this workstation knows, and the rules for changing them.

The ingest worker owns the book (it is the only writer). Each command is planned first
(:meth:`IncidentBook.open`, :meth:`~IncidentBook.update`, :meth:`~IncidentBook.link`,
:meth:`~IncidentBook.add_note` return an :class:`IncidentChange` and leave the book as it
was, or raise :class:`IncidentError` saying why not); the worker stores the change in the
cache and only then :meth:`~IncidentBook.put` s the new version, so a change the cache did
not take never shows.

Rules:

- operators and above may open incidents, change their title, priority, owner and status,
  link alarms and entities and write notes (:attr:`Permission.WORK_ON_INCIDENTS`); viewers
  may not;
- the status moves are :data:`services.model.INCIDENT_MOVES`: anything not closed may move
  to any other status; closing needs a supervisor (:attr:`Permission.CLOSE_INCIDENT`);
- a closed incident is final: nothing about it changes and no note is added, except that a
  supervisor may reopen it (back to open, possibly changing other fields at once);
- a title is 1 to :data:`MAX_INCIDENT_TITLE_CHARS` characters, a priority 1 to 4, an owner
  at most :data:`MAX_INCIDENT_OWNER_CHARS`, a note 1 to :data:`MAX_NOTE_CHARS`; an incident
  has at most :data:`MAX_INCIDENT_NOTES` notes and :data:`MAX_INCIDENT_ALARMS` alarms (and
  as many entities); a command that changes nothing is refused.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from services.auth.roles import LEAST_ROLE, Permission, Principal
from services.limits import (
    MAX_INCIDENT_ALARMS,
    MAX_INCIDENT_NOTES,
    MAX_INCIDENT_OWNER_CHARS,
    MAX_INCIDENT_TITLE_CHARS,
    MAX_NOTE_CHARS,
)
from services.model import (
    INCIDENT_PRIORITIES,
    Incident,
    IncidentNote,
    IncidentStatus,
    newer_incident,
)

log = logging.getLogger(__name__)

OPEN = "incident_open"
TITLE = "incident_title"
PRIORITY = "incident_priority"
STATUS = "incident_status"
OWNER = "incident_owner"
LINK_ALARM = "incident_link_alarm"
LINK_ENTITY = "incident_link_entity"
NOTE = "incident_note"
ENTRY_KINDS = (OPEN, TITLE, PRIORITY, STATUS, OWNER, LINK_ALARM, LINK_ENTITY, NOTE)
"""The audit-trail kinds of incident changes; each entry's note is the new value (the
title, the priority, the status, the owner, the linked alarm or entity id, the note)."""


class IncidentError(ValueError):
    """An incident command that may not go ahead; the text says why (nothing was done)."""


@dataclass(frozen=True, slots=True)
class IncidentChange:
    """What one command does to one incident: its new version, the audit entries it makes
    as (kind, new value) in order, and the note it adds, if any."""

    incident: Incident
    previous: Incident | None
    entries: tuple[tuple[str, str], ...]
    note: IncidentNote | None = None


def new_id() -> str:
    """A fresh random id (32 hex digits)."""
    return uuid.uuid4().hex


def refusal(who: Principal, permission: Permission, what: str) -> str:
    """The words for ``who`` not being allowed ``what``, naming the role it needs."""
    return (
        f"{who.user} ({who.role.value}) may not {what}: that needs the"
        f" {LEAST_ROLE[permission].value} role or higher"
    )


def check_title(title: str) -> str:
    text = " ".join(title.split())
    if not text:
        raise IncidentError("an incident needs a title")
    if len(text) > MAX_INCIDENT_TITLE_CHARS:
        raise IncidentError(
            f"an incident title may have at most {MAX_INCIDENT_TITLE_CHARS} characters,"
            f" not {len(text)}"
        )
    return text


def check_priority(priority: object) -> int:
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise IncidentError(f"an incident's priority is 1 (most urgent) to 4, not {priority!r}")
    if priority not in INCIDENT_PRIORITIES:
        raise IncidentError(f"an incident's priority is 1 (most urgent) to 4, not {priority!r}")
    return priority


def check_owner(owner: str) -> str:
    text = owner.strip()
    if len(text) > MAX_INCIDENT_OWNER_CHARS:
        raise IncidentError(
            f"an owner's name may have at most {MAX_INCIDENT_OWNER_CHARS} characters,"
            f" not {len(text)}"
        )
    return text


def check_note(text: str) -> str:
    note = text.strip()
    if not note:
        raise IncidentError("a note needs some text; nothing was added")
    if len(note) > MAX_NOTE_CHARS:
        raise IncidentError(f"a note may have at most {MAX_NOTE_CHARS} characters, not {len(note)}")
    return note


def check_status(status: object) -> IncidentStatus:
    try:
        if not isinstance(status, str):
            raise ValueError(status)
        return IncidentStatus(status)
    except ValueError:
        names = ", ".join(s.value for s in IncidentStatus)
        raise IncidentError(f"unknown incident status {status!r} (one of {names})") from None


class IncidentBook:
    """The incidents this workstation knows, by id. No Qt, no I/O; one writer (the ingest
    worker)."""

    def __init__(self, make_id: Callable[[], str] = new_id) -> None:
        self._incidents: dict[str, Incident] = {}
        self._make_id = make_id

    # -- reading -------------------------------------------------------------------------
    def get(self, incident_id: str) -> Incident | None:
        return self._incidents.get(incident_id)

    def incidents(self) -> list[Incident]:
        """Every incident known, oldest first."""
        return sorted(self._incidents.values(), key=lambda i: (i.opened_at, i.id))

    def __len__(self) -> int:
        return len(self._incidents)

    # -- writing -------------------------------------------------------------------------
    def restore(self, incidents: Iterable[Incident]) -> None:
        """Take over incidents loaded from the offline cache."""
        for incident in incidents:
            self.put(incident)

    def put(self, incident: Incident) -> bool:
        """Keep ``incident`` unless a newer version is held; whether it was kept."""
        if not newer_incident(self._incidents.get(incident.id), incident):
            return False
        self._incidents[incident.id] = incident
        return True

    # -- planning commands -----------------------------------------------------------------
    def open(
        self,
        who: Principal,
        title: str,
        priority: int,
        now: float,
        *,
        alarms: Sequence[tuple[str, str]] = (),
        entity_ids: Sequence[str] = (),
        note: str = "",
        owner: str | None = None,
    ) -> IncidentChange:
        """A new incident opened by ``who``, linking ``alarms`` ((alarm id, its entity id))
        and ``entity_ids``, with a first note; its owner is ``who`` unless given."""
        self._may_work(who, "open incidents")
        text = check_title(title)
        level = check_priority(priority)
        first_note = check_note(note) if note.strip() else ""
        alarm_ids = tuple(dict.fromkeys(key for key, _entity in alarms))
        entities = tuple(
            dict.fromkeys([*(entity for _key, entity in alarms if entity), *entity_ids])
        )
        self._check_counts(alarm_ids, entities)
        incident = Incident(
            id=self._make_id(),
            title=text,
            priority=level,
            status=IncidentStatus.OPEN,
            owner=who.user if owner is None else check_owner(owner),
            opened_at=now,
            opened_by=who.user,
            updated_at=now,
            alarm_ids=alarm_ids,
            entity_ids=entities,
            notes=1 if first_note else 0,
            revision=1,
        )
        entries = [(OPEN, text)]
        entries += [(LINK_ALARM, key) for key in alarm_ids]
        entries += [(LINK_ENTITY, key) for key in dict.fromkeys(entity_ids)]
        if incident.owner != who.user:
            entries.append((OWNER, incident.owner))
        note_made = None
        if first_note:
            note_made = IncidentNote(
                self._make_id(), incident.id, now, who.user, who.workstation, first_note
            )
            entries.append((NOTE, first_note))
        return IncidentChange(incident, None, tuple(entries), note_made)

    def update(
        self,
        who: Principal,
        incident_id: str,
        now: float,
        *,
        title: str | None = None,
        priority: int | None = None,
        status: IncidentStatus | str | None = None,
        owner: str | None = None,
    ) -> IncidentChange:
        """``incident_id`` with a new title, priority, status and/or owner (None: as it
        is), as ``who`` asks."""
        held = self._known(incident_id)
        self._may_work(who, "change incidents")
        new_status, new_title, new_priority, new_owner = (
            held.status,
            held.title,
            held.priority,
            held.owner,
        )
        entries: list[tuple[str, str]] = []
        target = None if status is None else check_status(status)
        reopening = held.status is IncidentStatus.CLOSED and target is IncidentStatus.OPEN
        if held.status is IncidentStatus.CLOSED and not reopening:
            raise IncidentError(
                f"incident {held.title!r} is closed: nothing about it changes, except that a"
                f" {LEAST_ROLE[Permission.CLOSE_INCIDENT].value} may reopen it"
            )
        if target is not None and target is not held.status:
            if target not in held.status.moves:
                raise IncidentError(
                    f"incident {held.title!r} cannot go from {held.status.value} to {target.value}"
                )
            if target is IncidentStatus.CLOSED and not who.may(Permission.CLOSE_INCIDENT):
                raise IncidentError(refusal(who, Permission.CLOSE_INCIDENT, "close incidents"))
            if reopening and not who.may(Permission.CLOSE_INCIDENT):
                raise IncidentError(
                    refusal(who, Permission.CLOSE_INCIDENT, "reopen a closed incident")
                )
            new_status = target
            entries.append((STATUS, target.value))
        if title is not None and (text := check_title(title)) != held.title:
            new_title = text
            entries.append((TITLE, text))
        if priority is not None and (level := check_priority(priority)) != held.priority:
            new_priority = level
            entries.append((PRIORITY, str(level)))
        if owner is not None and (person := check_owner(owner)) != held.owner:
            new_owner = person
            entries.append((OWNER, person))
        if not entries:
            raise IncidentError(f"nothing to change in incident {held.title!r}")
        incident = replace(
            held,
            title=new_title,
            priority=new_priority,
            status=new_status,
            owner=new_owner,
            updated_at=max(now, held.updated_at),
            revision=held.revision + 1,
        )
        return IncidentChange(incident, held, tuple(entries))

    def link(
        self,
        who: Principal,
        incident_id: str,
        now: float,
        *,
        alarms: Sequence[tuple[str, str]] = (),
        entity_ids: Sequence[str] = (),
    ) -> IncidentChange:
        """``incident_id`` with more alarms ((alarm id, its entity id)) and entities; those
        linked already are left out."""
        held = self._known(incident_id)
        self._may_work(who, "change incidents")
        self._not_closed(held)
        new_alarms = tuple(
            key for key in dict.fromkeys(key for key, _e in alarms) if key not in held.alarm_ids
        )
        wanted = [*(entity for _key, entity in alarms if entity), *entity_ids]
        new_entities = tuple(e for e in dict.fromkeys(wanted) if e not in held.entity_ids)
        if not (new_alarms or new_entities):
            raise IncidentError(f"those are linked to incident {held.title!r} already")
        alarm_ids = held.alarm_ids + new_alarms
        entities = held.entity_ids + new_entities
        self._check_counts(alarm_ids, entities)
        incident = replace(
            held,
            alarm_ids=alarm_ids,
            entity_ids=entities,
            updated_at=max(now, held.updated_at),
            revision=held.revision + 1,
        )
        entries = [(LINK_ALARM, key) for key in new_alarms]
        entries += [(LINK_ENTITY, key) for key in dict.fromkeys(entity_ids) if key in new_entities]
        return IncidentChange(incident, held, tuple(entries))

    def add_note(self, who: Principal, incident_id: str, text: str, now: float) -> IncidentChange:
        """``incident_id`` with one more note by ``who``."""
        held = self._known(incident_id)
        self._may_work(who, "write notes on incidents")
        self._not_closed(held)
        note = check_note(text)
        if held.notes >= MAX_INCIDENT_NOTES:
            raise IncidentError(
                f"incident {held.title!r} has {held.notes} notes, the most it may have"
            )
        made = IncidentNote(self._make_id(), held.id, now, who.user, who.workstation, note)
        incident = replace(
            held,
            notes=held.notes + 1,
            updated_at=max(now, held.updated_at),
            revision=held.revision + 1,
        )
        return IncidentChange(incident, held, ((NOTE, note),), made)

    # -- checks --------------------------------------------------------------------------
    def _known(self, incident_id: str) -> Incident:
        held = self._incidents.get(incident_id)
        if held is None:
            raise IncidentError(f"there is no incident {incident_id!r}")
        return held

    @staticmethod
    def _may_work(who: Principal, what: str) -> None:
        if not who.may(Permission.WORK_ON_INCIDENTS):
            log.warning("%s (%s) may not %s; refused", who.user, who.role, what)
            raise IncidentError(refusal(who, Permission.WORK_ON_INCIDENTS, what))

    @staticmethod
    def _not_closed(held: Incident) -> None:
        if held.status is IncidentStatus.CLOSED:
            raise IncidentError(
                f"incident {held.title!r} is closed: nothing about it changes, except that a"
                f" {LEAST_ROLE[Permission.CLOSE_INCIDENT].value} may reopen it"
            )

    @staticmethod
    def _check_counts(alarm_ids: Sequence[str], entity_ids: Sequence[str]) -> None:
        for count, what in ((len(alarm_ids), "alarms"), (len(entity_ids), "entities")):
            if count > MAX_INCIDENT_ALARMS:
                raise IncidentError(
                    f"an incident may link at most {MAX_INCIDENT_ALARMS} {what}, not {count}"
                )
