"""Operator commands for the ingest worker: what they carry, when they are refused, and how
they change the alarm store. The worker runs them (see ``pipeline``); this module decides."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence

from services.alarms.store import AlarmStore
from services.auth.roles import Permission, Principal
from services.config import AppConfig
from services.config.schema import SEVERITY_PRIORITY
from services.limits import MAX_NOTE_CHARS, MAX_SHELVE_S_BY_PRIORITY
from services.model import ActionResult, Alarm

log = logging.getLogger(__name__)

PERMISSION_FOR: dict[str, Permission] = {
    "ack": Permission.ACKNOWLEDGE,
    "shelve": Permission.SHELVE,
    "unshelve": Permission.SHELVE,
    "comment": Permission.COMMENT,
    "assign": Permission.COMMENT,
    "out_of_service": Permission.OUT_OF_SERVICE,
    "in_service": Permission.OUT_OF_SERVICE,
}
"""The permission each command kind needs."""


class AwaitedCommand:
    """A command handed to the ingest worker whose caller may wait for its result (which
    arrives in a delta too)."""

    def __init__(self) -> None:
        self.result: ActionResult | None = None
        self._done = threading.Event()

    def finish(self, result: ActionResult) -> None:
        self.result = result
        self._done.set()

    def wait(self, timeout: float | None = None) -> ActionResult | None:
        """The result once the worker has handled (and stored) it; None on time-out."""
        self._done.wait(timeout)
        return self.result


class PendingAction(AwaitedCommand):
    """An operator command on alarms handed to the ingest worker."""

    def __init__(
        self,
        action: str,
        alarm_ids: Sequence[str],
        who: Principal,
        note: str = "",
        duration: float | None = None,
        *,
        assignee: str = "",
    ) -> None:
        super().__init__()
        if action not in PERMISSION_FOR:
            raise ValueError(f"unknown operator command {action!r}")
        self.action = action
        self.alarm_ids = tuple(alarm_ids)
        self.who = who
        self.note = note
        self.duration = duration
        """For ``shelve``: seconds, or None for until each alarm clears."""
        self.assignee = assignee
        """For ``assign``: who ("": nobody)."""


def refusal(command: PendingAction, alarms: Sequence[Alarm], config: AppConfig) -> str:
    """Why ``command`` may not go ahead at all (on ``alarms``, as they are now), or "" when
    it may: the person's role, a missing required note, a shelving time over the limit."""
    who = command.who
    permission = PERMISSION_FOR[command.action]
    if not who.may(permission):
        log.warning("%s (%s) may not %s; refused", who.user, who.role, command.action)
        return f"{who.user} ({who.role.value}) may not {permission.value} alarms"
    if len(command.note) > MAX_NOTE_CHARS:
        return f"a note may have at most {MAX_NOTE_CHARS} characters, not {len(command.note)}"
    if command.action == "comment" and not command.note:
        return "a comment needs some text; nothing was added"
    if command.action == "out_of_service" and not command.note:
        return "taking alarms out of service needs a reason; nothing was changed"
    if command.action == "ack":
        return _note_missing(command, alarms, config.note_required_priority)
    if command.action == "shelve" and command.duration is not None:
        return _too_long(command.duration, alarms)
    return ""


def _note_missing(command: PendingAction, alarms: Sequence[Alarm], required: int) -> str:
    if command.note or not required:
        return ""
    urgent = [
        alarm
        for alarm in alarms
        if alarm.state.needs_ack and SEVERITY_PRIORITY[alarm.severity] <= required
    ]
    if not urgent:
        return ""
    return (
        f"a note is required to acknowledge priority {required} alarms or more urgent ones"
        f" ({len(urgent)} selected); nothing was acknowledged"
    )


def _too_long(duration: float, alarms: Sequence[Alarm]) -> str:
    if duration <= 0:
        return f"a shelving time must be positive, got {duration:g} s"
    limits = [MAX_SHELVE_S_BY_PRIORITY[SEVERITY_PRIORITY[alarm.severity]] for alarm in alarms]
    over = [limit for limit in limits if duration > limit]
    if not over:
        return ""
    return (
        f"{len(over)} of the alarms may be shelved for at most {min(over) / 60:g} min"
        f" (their priority's limit), not {duration / 60:g} min; nothing was shelved"
    )


def apply(command: PendingAction, store: AlarmStore, ids: list[str], now: float) -> list[Alarm]:
    """Change the alarm store as ``command`` says; copies of the alarms that changed."""
    user = command.who.user
    if command.action == "shelve":
        end = shelve_until(command, now)
        until = math.inf if end is None else end
        return store.shelve(ids, user, now, until=until, note=command.note)
    if command.action == "unshelve":
        return store.unshelve(ids, now)
    if command.action == "comment":
        return store.comment(ids, now)
    if command.action == "assign":
        return store.assign(ids, command.assignee, now)
    if command.action == "out_of_service":
        return store.remove_from_service(ids, user, now, command.note)
    if command.action == "in_service":
        return store.return_to_service(ids, now)
    return store.acknowledge(ids, user, now)


def shelve_until(command: PendingAction, now: float) -> float | None:
    """When a ``shelve`` command's shelving ends (None: when each alarm clears)."""
    return None if command.duration is None else now + command.duration
