"""Merging shared operator actions into the alarm store, the same way on every workstation.

Merge rules (the README repeats them for other systems):

- an action applies to one alarm *occurrence* (its raise time); an action on an
  occurrence not raised here yet waits for it (up to :data:`PENDING_SHARED_ACTION_S`), one
  on an older occurrence is kept in the audit trail only;
- acknowledgement is monotonic: once acknowledged, an occurrence stays so; of two
  acknowledgements the earlier names who acknowledged;
- shelving (shelve, unshelve) and assignment resolve by action time: the newest wins
  (ties by action id);
- comments append, deduplicated by action id.

Because every rule is commutative and idempotent, workstations that have seen the same
actions, in any order, hold the same operator state. Written only by the ingest worker.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from services.alarms.store import AlarmStore
from services.auth.roles import Permission, Role, allowed
from services.config.schema import SEVERITY_PRIORITY
from services.limits import (
    MAX_PENDING_SHARED_ACTIONS,
    MAX_SHARED_COMMENTS,
    MAX_SHELVE_S_BY_PRIORITY,
    OCCURRENCE_MATCH_S,
    PENDING_SHARED_ACTION_S,
)
from services.model import Alarm
from services.sharing.protocol import APPLIED_KINDS, SharedAction, SharedState, SharingError

log = logging.getLogger(__name__)

PERMISSION_FOR_KIND: dict[str, Permission] = {
    "ack": Permission.ACKNOWLEDGE,
    "shelve": Permission.SHELVE,
    "unshelve": Permission.SHELVE,
    "comment": Permission.COMMENT,
    "assign": Permission.COMMENT,
}
"""The permission the role named in a shared action must have for its kind."""


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    """What merging some shared actions did: the alarms it changed and whether this
    workstation's state of an alarm is now richer than what was received."""

    changed: list[Alarm]
    republish: set[str]


def check_allowed(action: SharedAction) -> None:
    """SharingError unless this version applies the action's kind and its role may do it."""
    if action.kind not in APPLIED_KINDS:
        raise SharingError(f"{action.kind!r} actions are not supported by this workstation yet")
    try:
        role = Role.parse(action.role)
    except ValueError as error:
        raise SharingError(str(error)) from None
    permission = PERMISSION_FOR_KIND[action.kind]
    if not allowed(role, permission):
        raise SharingError(f"{action.user} ({role.value}) may not {permission.value} alarms")


def same_occurrence(alarm: Alarm, occurrence: float) -> bool:
    return abs(alarm.raised_at - occurrence) < OCCURRENCE_MATCH_S


class SharingBook:
    """The merged shared state of each alarm's current occurrence, and the actions waiting
    for an occurrence this workstation has not raised yet."""

    def __init__(self, store: AlarmStore, clock_window: float = PENDING_SHARED_ACTION_S) -> None:
        self._store = store
        self._states: dict[str, SharedState] = {}
        self._pending: OrderedDict[str, tuple[float, SharedAction]] = OrderedDict()
        self._pending_for = clock_window

    def state(self, alarm_id: str) -> SharedState | None:
        return self._states.get(alarm_id)

    def _current(self, alarm: Alarm) -> SharedState:
        held = self._states.get(alarm.id)
        if held is None or not same_occurrence(alarm, held.occurrence):
            held = SharedState(alarm.id, alarm.raised_at)
            self._states[alarm.id] = held
        return held

    # -- this workstation's actions ------------------------------------------------------
    def record_local(self, action: SharedAction) -> None:
        """Note an action taken here (already applied to the store)."""
        alarm = self._store.get(action.alarm)
        if alarm is not None and same_occurrence(alarm, action.occurrence):
            _take(self._current(alarm), action)

    # -- other workstations' actions -----------------------------------------------------
    def merge(self, actions: Iterable[SharedAction], now: float) -> list[Alarm]:
        """Apply received actions; returns copies of the alarms that changed."""
        changed: dict[str, Alarm] = {}
        for action in actions:
            for alarm in self._merge_one(action, now):
                changed[alarm.id] = alarm
        return list(changed.values())

    def merge_state(self, received: SharedState, now: float) -> MergeOutcome:
        """Apply a retained state; ``republish`` names the alarm when the state held here
        (for the same or a newer occurrence) has something the received one lacks."""
        changed = self.merge(received.actions(), now)
        republish: set[str] = set()
        alarm = self._store.get(received.alarm)
        held = self._states.get(received.alarm)
        if (
            alarm is not None
            and held is not None
            and alarm.raised_at >= received.occurrence - OCCURRENCE_MATCH_S
            and _ids(held) != _ids(received)
        ):
            republish.add(received.alarm)
        return MergeOutcome(changed, republish)

    def raised(self, alarms: Iterable[Alarm], now: float) -> list[Alarm]:
        """Apply the waiting actions of occurrences that have just been raised here."""
        self._expire(now)
        raised = {alarm.id: alarm for alarm in alarms}
        due = [
            action
            for _since, action in self._pending.values()
            if action.alarm in raised and same_occurrence(raised[action.alarm], action.occurrence)
        ]
        for action in due:
            self._pending.pop(action.id, None)
        return self.merge(due, now) if due else []

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _expire(self, now: float) -> None:
        while self._pending:
            key, (since, _action) = next(iter(self._pending.items()))
            if now - since <= self._pending_for and len(self._pending) <= (
                MAX_PENDING_SHARED_ACTIONS
            ):
                break
            del self._pending[key]

    def _merge_one(self, action: SharedAction, now: float) -> list[Alarm]:
        alarm = self._store.get(action.alarm)
        if alarm is None or alarm.raised_at < action.occurrence - OCCURRENCE_MATCH_S:
            self._pending[action.id] = (now, action)
            self._pending.move_to_end(action.id)
            self._expire(now)
            return []
        if not same_occurrence(alarm, action.occurrence):
            log.debug("shared %s on an earlier occurrence of %s: audit only", action.kind, alarm.id)
            return []
        held = self._current(alarm)
        if not _take(held, action):
            return []
        return _apply(self._store, alarm, action)


def _ids(state: SharedState) -> set[str]:
    return {action.id for action in state.actions()}


def _take(state: SharedState, action: SharedAction) -> bool:
    """Put ``action`` into its slot of ``state`` if it wins there; whether it did."""
    if action.kind == "ack":
        if state.ack is not None and state.ack.key() <= action.key():
            return False
        state.ack = action
        return True
    if action.kind in ("shelve", "unshelve"):
        if state.shelving is not None and state.shelving.key() >= action.key():
            return False
        state.shelving = action
        return True
    if action.kind == "assign":
        if state.assignment is not None and state.assignment.key() >= action.key():
            return False
        state.assignment = action
        return True
    if any(comment.id == action.id for comment in state.comments):
        return False
    state.comments.append(action)
    state.comments.sort(key=SharedAction.key)
    del state.comments[:-MAX_SHARED_COMMENTS]
    return True


def _apply(store: AlarmStore, alarm: Alarm, action: SharedAction) -> list[Alarm]:
    """Change the store as a winning ``action`` says; copies of what changed."""
    key = alarm.id
    if action.kind == "ack":
        merged = store.merge_acknowledge(key, action.user, action.ts)
        return [merged] if merged is not None else []
    if action.kind in ("shelve", "unshelve"):
        if action.ts <= alarm.shelve_changed_at:
            return []  # a later shelving change is held already (e.g. from before a restart)
        if action.kind == "unshelve":
            return store.unshelve([key], action.ts)
        until = math.inf if action.until is None else action.until
        return store.shelve([key], action.user, action.ts, until=until, note=action.note)
    if action.kind == "assign":
        return store.assign([key], action.assignee, action.ts)
    return store.comment([key], action.ts)


def shelve_problem(action: SharedAction, alarm: Alarm | None) -> str:
    """Why a received shelve is longer than its alarm's priority allows ("" if it is not)."""
    if action.kind != "shelve" or action.until is None or alarm is None:
        return ""
    limit = MAX_SHELVE_S_BY_PRIORITY[SEVERITY_PRIORITY[alarm.severity]]
    if action.until - action.ts > limit + 1.0:
        return (
            f"shelves {alarm.id} for {(action.until - action.ts) / 60:.0f} min, over its"
            f" priority's limit of {limit / 60:g} min; ignored"
        )
    return ""
