"""Incident commands for the ingest worker: what they carry, and how the worker runs them.

The GUI hands a command to :class:`~services.ingest.pipeline.IngestPipeline`
(``open_incident``, ``update_incident``, ``link_incident``, ``add_incident_note``); the
worker runs it between batches like an alarm command: the :class:`IncidentBook` plans the
change (or refuses it with a reason), the cache stores the incident, its note and one audit
entry per change in one durable transaction, and only then does the book keep the new
version and the delta carry it (``Delta.incidents``) with an :class:`ActionResult` whose
``changed`` is the incident's id. Received changes from other workstations go through
:meth:`IncidentDesk.receive`. Runs on the ingest worker only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from services.alarms.store import AlarmStore
from services.auth.roles import Principal
from services.incidents.book import IncidentBook, IncidentChange, IncidentError, new_id
from services.incidents.payload import (
    apply_incident_payload,
    decode_incident_payload,
    incident_payload,
)
from services.ingest.commands import AwaitedCommand
from services.limits import RECENT_INCIDENT_S
from services.model import ActionResult, Incident, IncidentStatus, OperatorAction
from services.store.cache import CacheError, OfflineCache, OutboxMessage

log = logging.getLogger(__name__)

OPEN = "incident_open"
UPDATE = "incident_update"
LINK = "incident_link"
NOTE = "incident_note"
COMMANDS = (OPEN, UPDATE, LINK, NOTE)
"""The incident commands (also the ``action`` of their :class:`ActionResult`)."""

Publish = Callable[[Sequence[Incident], ActionResult | None], None]
"""Puts changed incidents (and a command's result) in the worker's delta."""


class IncidentSharing(Protocol):
    """What the sharing desk offers incident changes: outbox rows made before the commit
    (stored in the same transaction), sent after it."""

    def incident_rows(self, payloads: Sequence[Mapping[str, Any]]) -> list[OutboxMessage]: ...

    def send(self, rows: Sequence[OutboxMessage], alarm_ids: Iterable[str]) -> None: ...


"""Hands committed incident changes, as payloads, to the sharing desk."""


class IncidentCommand(AwaitedCommand):
    """An incident command handed to the ingest worker; its result arrives in a delta too."""

    def __init__(
        self,
        action: str,
        who: Principal,
        *,
        incident_id: str = "",
        title: str | None = None,
        priority: int | None = None,
        status: IncidentStatus | str | None = None,
        owner: str | None = None,
        alarm_ids: Sequence[str] = (),
        entity_ids: Sequence[str] = (),
        text: str = "",
    ) -> None:
        super().__init__()
        if action not in COMMANDS:
            raise ValueError(f"unknown incident command {action!r}")
        self.action = action
        self.who = who
        self.incident_id = incident_id
        self.title = title
        self.priority = priority
        self.status = status
        self.owner = owner
        self.alarm_ids = tuple(alarm_ids)
        self.entity_ids = tuple(entity_ids)
        self.text = text
        """The first note (open) or the note (note)."""


UPDATE_FIELDS = frozenset({"title", "priority", "status", "owner"})
"""What :meth:`IngestPipeline.update_incident` may change."""


class IncidentDesk:
    """Runs incident commands on the ingest worker: the book, the cache, the delta."""

    def __init__(
        self,
        alarms: AlarmStore,
        cache: OfflineCache | None,
        publish: Publish,
        book: IncidentBook | None = None,
    ) -> None:
        self.book = book if book is not None else IncidentBook()
        self._alarms = alarms
        self._cache = cache
        self._publish = publish
        self.sharing: IncidentSharing | None = None
        """Called (on the worker) with the payloads of committed local changes; the sharing
        desk sets it to publish them (see :func:`services.incidents.payload.incident_payload`)."""

    def restore(self, now: float) -> list[Incident]:
        """Load the open incidents and those closed recently from the cache into the book
        and the delta."""
        if self._cache is None:
            return []
        try:
            incidents = self._cache.load_incidents(now - RECENT_INCIDENT_S)
        except CacheError as error:
            log.warning("incidents not restored from the cache: %s", error)
            return []
        self.book.restore(incidents)
        self._publish(incidents, None)
        log.info("restored %d incidents from the cache", len(incidents))
        return incidents

    def run(self, command: IncidentCommand, now: float) -> None:
        """Plan, store, keep and publish one command; its result always comes back."""
        who = command.who
        try:
            change = self._plan(command, now)
        except IncidentError as error:
            log.info("%s by %s refused: %s", command.action, who.user, error)
            self._finish(command, [], ActionResult(command.action, who.user, error=str(error)))
            return
        change_id = new_id()  # the same id in the audit trail and in the shared payload
        rows: list[OutboxMessage] = []
        if self.sharing is not None:
            rows = self.sharing.incident_rows([incident_payload(change, who, now, change_id)])
        try:
            self._store(change, who, now, change_id=change_id, outbox=rows)
        except Exception as error:
            log.exception("%s by %s could not be stored", command.action, who.user)
            self._finish(command, [], ActionResult(command.action, who.user, error=str(error)))
            return
        self.book.put(change.incident)
        result = ActionResult(command.action, who.user, changed=(change.incident.id,))
        self._finish(command, [change.incident], result)
        if self.sharing is not None and rows:
            self.sharing.send(rows, ())

    def receive(self, payloads: Sequence[Mapping[str, Any]]) -> list[tuple[int, str]]:
        """Merge incident changes received from other workstations (see
        :func:`services.incidents.payload.apply_incident_payload`), record each once in the
        cache and its audit trail (by change id), and publish what changed. Returns
        (index, reason) for each payload refused (to dead-letter)."""
        refused: list[tuple[int, str]] = []
        changed: dict[str, Incident] = {}
        for index, body in enumerate(payloads):
            try:  # a malformed payload is refused even when its id was seen before
                decode_incident_payload(body)
            except IncidentError as error:
                refused.append((index, str(error)))
                continue
            change_id = str(body.get("id", ""))
            if change_id and self._cache is not None:
                try:
                    if self._cache.known_action_ids([change_id]):
                        continue  # recorded already (a redelivery)
                except CacheError as error:
                    log.warning("shared incident changes not checked: %s", error)
            try:
                received, change = apply_incident_payload(self.book, body)
            except IncidentError as error:
                refused.append((index, str(error)))
                continue
            if change is None:
                continue
            try:
                self._store(change, received.who, received.ts, change_id=received.id)
            except CacheError as error:
                log.error("shared incident change %s not stored: %s", received.id, error)
            held = self.book.get(change.incident.id)
            if held is not None:
                changed[held.id] = held
        if changed:
            self._publish(list(changed.values()), None)
        return refused

    # -- inside -----------------------------------------------------------------------------
    def _plan(self, command: IncidentCommand, now: float) -> IncidentChange:
        book, who = self.book, command.who
        if command.action == OPEN:
            return book.open(
                who,
                command.title or "",
                command.priority if command.priority is not None else 0,
                now,
                alarms=self._alarms_of(command.alarm_ids),
                entity_ids=command.entity_ids,
                note=command.text,
                owner=command.owner,
            )
        if command.action == UPDATE:
            return book.update(
                who,
                command.incident_id,
                now,
                title=command.title,
                priority=command.priority,
                status=command.status,
                owner=command.owner,
            )
        if command.action == LINK:
            return book.link(
                who,
                command.incident_id,
                now,
                alarms=self._alarms_of(command.alarm_ids),
                entity_ids=command.entity_ids,
            )
        return book.add_note(who, command.incident_id, command.text, now)

    def _alarms_of(self, alarm_ids: Sequence[str]) -> list[tuple[str, str]]:
        """(alarm id, entity id) of each alarm; IncidentError naming those unknown."""
        found: list[tuple[str, str]] = []
        unknown: list[str] = []
        for key in dict.fromkeys(alarm_ids):
            alarm = self._alarms.get(key)
            if alarm is None:
                unknown.append(key)
            else:
                found.append((key, alarm.entity_id))
        if unknown:
            raise IncidentError(
                f"unknown alarm(s): {', '.join(unknown[:5])}"
                + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
                + "; nothing was done"
            )
        return found

    def _store(
        self,
        change: IncidentChange,
        who: Principal,
        now: float,
        *,
        change_id: str = "",
        outbox: Sequence[OutboxMessage] = (),
    ) -> None:
        """The incident, its note and its audit entries, in one durable transaction."""
        if self._cache is None:
            return
        key = change.incident.key
        actions = [
            OperatorAction(
                key, kind, who.user, now, text, who.workstation, change_id if n == 0 else ""
            )
            for n, (kind, text) in enumerate(change.entries)
        ]
        self._cache.record_actions(
            [(action, None) for action in actions],
            outbox,
            incidents=[(change.incident, change.note)],
        )

    def _finish(
        self, command: IncidentCommand, incidents: Sequence[Incident], result: ActionResult
    ) -> None:
        self._publish(incidents, result)
        command.finish(result)


def update_changes(changes: Mapping[str, object]) -> dict[str, Any]:
    """``changes`` checked to be fields :meth:`IngestPipeline.update_incident` may change
    (ValueError naming the others)."""
    unknown = sorted(set(changes) - UPDATE_FIELDS)
    if unknown:
        raise ValueError(
            f"incidents have no field(s) {', '.join(unknown)} to change"
            f" (one of {', '.join(sorted(UPDATE_FIELDS))})"
        )
    return dict(changes)
