"""Merging shared operator actions into the alarm store, the same way on every workstation.

Merge rules (the README repeats them for other systems):

- an action applies to one alarm *occurrence* (its raise time); an action on an
  occurrence not raised here yet waits for it (up to :data:`PENDING_SHARED_ACTION_S`), one
  on an older occurrence is kept in the audit trail only;
- shelving (shelve, unshelve) and assignment resolve by action time: the newest wins
  (ties by action id); a newer shelve replaces an older one's end, person and reason;
- acknowledgement is monotonic within the occurrence's unshelved periods: an
  acknowledgement counts unless the occurrence was shelved before it and unshelved after it
  (by an operator, or by its shelving time running out), as the life cycle says an
  unshelved alarm must be acknowledged again; of the acknowledgements that count, the
  earliest names who (ties by user, then action id);
- comments append, deduplicated by action id.

Whatever order the actions arrive in, the book holds the same set, and after every change
the alarm is brought to what that set says (:meth:`SharingBook._reconcile`), not changed
step by step: so workstations that have seen the same actions, in any order, show the same
operator state (given the same readings). Written only by the ingest worker.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

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
from services.model import Alarm, AlarmState, OperatorAction
from services.sharing.protocol import APPLIED_KINDS, SharedAction, SharedState, SharingError

log = logging.getLogger(__name__)

PERMISSION_FOR_KIND: dict[str, Permission] = {
    "ack": Permission.ACKNOWLEDGE,
    "shelve": Permission.SHELVE,
    "unshelve": Permission.SHELVE,
    "comment": Permission.COMMENT,
    "assign": Permission.COMMENT,
    "out_of_service": Permission.OUT_OF_SERVICE,
    "in_service": Permission.OUT_OF_SERVICE,
}
"""The permission the role named in a shared action must have for its kind."""
MAX_ACKS_PER_OCCURRENCE = 50
"""Acknowledgements kept per occurrence (the earliest); there is about one per workstation."""
LOCAL_STEP_S = 0.001
"""How much later than the newest held action of its slot a local action is stamped when
this workstation's clock is behind (so the operator's action wins everywhere, as here)."""
_OTHERWISE_HIDDEN = (AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE)


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    """What merging some shared actions did: the alarms it changed and whether this
    workstation's state of an alarm is now richer than what was received."""

    changed: list[Alarm]
    republish: set[str]


@dataclass(slots=True)
class _Held:
    """What the book knows of one occurrence: its published state (``state.ack`` is the
    acknowledgement that counts now), every acknowledgement, the newest unshelve, and the
    comments already counted in the alarm's comment count."""

    state: SharedState
    acks: dict[str, SharedAction] = field(default_factory=dict)
    unshelved: SharedAction | None = None
    returned: SharedAction | None = None
    """The newest return to service (acknowledgements before it no longer count)."""
    counted: set[str] = field(default_factory=set)


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
        self._held: dict[str, _Held] = {}
        self._pending: OrderedDict[str, tuple[float, SharedAction]] = OrderedDict()
        self._pending_for = clock_window

    def state(self, alarm_id: str) -> SharedState | None:
        """The state to publish for an alarm's occurrence (None: nothing known)."""
        held = self._held.get(alarm_id)
        return None if held is None else held.state

    def _current(self, alarm: Alarm) -> _Held:
        held = self._held.get(alarm.id)
        if held is None or not same_occurrence(alarm, held.state.occurrence):
            held = _Held(SharedState(alarm.id, alarm.raised_at))
            self._held[alarm.id] = held
        return held

    def restore_counted(self, actions: Iterable[OperatorAction]) -> None:
        """Take note of comments the alarms held have counted already (the cache's actions
        at start), so that receiving them again (in a retained state) counts none twice."""
        for action in actions:
            if action.action != "comment" or not action.action_id:
                continue
            alarm = self._store.get(action.alarm_id)
            if alarm is not None and action.ts >= alarm.raised_at - OCCURRENCE_MATCH_S:
                self._current(alarm).counted.add(action.action_id)

    # -- this workstation's actions ------------------------------------------------------
    def action_time(self, kind: str, alarm: Alarm, now: float) -> float:
        """When a local action of ``kind`` on ``alarm`` counts as taken: ``now``, or just
        after the newest action held in its slot (shelving, assignment; for an
        acknowledgement, the newest unshelve) if that is not older (this clock is behind
        another workstation's)."""
        held = self._held.get(alarm.id)
        if held is None or not same_occurrence(alarm, held.state.occurrence):
            return now
        if kind == "ack":  # after the newest unshelve, or it would not count
            after, _before = _window(held, now)
            return now if now > after else after + LOCAL_STEP_S
        if kind in ("shelve", "unshelve"):
            slot = held.state.shelving
        elif kind == "assign":
            slot = held.state.assignment
        elif kind in ("out_of_service", "in_service"):
            slot = held.state.service
        else:
            return now
        return now if slot is None or now > slot.ts else slot.ts + LOCAL_STEP_S

    def record_local(self, action: SharedAction, now: float) -> list[Alarm]:
        """Note an action taken here (already applied to the store and stored); returns
        the alarms that the shared state then changed further (rarely any)."""
        alarm = self._store.get(action.alarm)
        if alarm is None or not same_occurrence(alarm, action.occurrence):
            return []
        held = self._current(alarm)
        if action.kind == "comment":
            held.counted.add(action.id)
        if not _take(held, action):
            return []
        return self._reconcile(held, now)

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
        (for the same or a newer occurrence) has an action the received one lacks (not
        merely another one: with clocks apart, two workstations may count different
        acknowledgements for a while, and answering each other would loop)."""
        changed = self.merge(received.actions(), now)
        republish: set[str] = set()
        alarm = self._store.get(received.alarm)
        held = self._held.get(received.alarm)
        if (
            alarm is not None
            and held is not None
            and alarm.raised_at >= received.occurrence - OCCURRENCE_MATCH_S
            and not _ids(held.state) <= _ids(received)
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

    def settle(self, alarms: Iterable[Alarm], now: float) -> list[Alarm]:
        """After alarms changed outside a batch (a shelving time ran out, a no-data alarm
        was raised): apply the actions waiting for occurrences raised, and bring the alarms
        back to what their shared state says now. Copies of the alarms that changed."""
        alarms = list(alarms)
        changed = {a.id: a for a in self.raised([a for a in alarms if a.state.needs_ack], now)}
        for alarm in alarms:
            held = self._held.get(alarm.id)
            if held is not None and same_occurrence(alarm, held.state.occurrence):
                changed.update((a.id, a) for a in self._reconcile(held, now))
        return list(changed.values())

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
            _since, dropped = self._pending.pop(key)
            log.warning(
                "shared %s by %s (%s) on %s dropped: no occurrence raised at %s here",
                dropped.kind,
                dropped.user,
                dropped.workstation,
                dropped.alarm,
                dropped.occurrence,
            )

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
        problem = shelve_problem(action, alarm)
        if problem:  # checked on arrival too, unless the alarm was not raised here yet
            log.warning("shared shelve by %s not applied: %s", action.user, problem)
            return []
        held = self._current(alarm)
        if not _take(held, action):
            return []
        changed: dict[str, Alarm] = {}
        if action.kind == "comment" and action.id not in held.counted:
            held.counted.add(action.id)
            changed.update((a.id, a) for a in self._store.comment([alarm.id], action.ts))
        changed.update((a.id, a) for a in self._reconcile(held, now))
        return list(changed.values())

    # -- the alarm as the shared state says ------------------------------------------------
    def _reconcile(self, held: _Held, now: float) -> list[Alarm]:
        """Bring the alarm's shelving, acknowledgement and assignment to what ``held`` says
        (in that order: unshelving withdraws an acknowledgement); copies of the alarm when
        it changed."""
        key = held.state.alarm
        changed: dict[str, Alarm] = {}
        for step in (self._service, self._shelving, self._acknowledgement, self._assignment):
            alarm = self._store.get(key)
            if alarm is None or not same_occurrence(alarm, held.state.occurrence):
                break
            changed.update((copy.id, copy) for copy in step(alarm, held, now) if copy)
        return list(changed.values())

    def _service(self, alarm: Alarm, held: _Held, _now: float) -> list[Alarm | None]:
        """Take out of service or return to service as the newest such action says, unless
        this store holds a newer change (from before a restart). Out of service wins over
        shelving whatever their times, so a shelve and an out-of-service taken at once end
        the same everywhere."""
        service = held.state.service
        if service is None:
            return []
        if alarm.state is not AlarmState.SHELVED and service.ts < alarm.shelve_changed_at:
            return []  # a newer change held here (e.g. from before a restart)
        store = self._store
        if service.kind == "out_of_service":
            if alarm.state is AlarmState.OUT_OF_SERVICE:
                return list(
                    store.restamp_out_of_service([alarm.id], service.user, service.ts, service.note)
                )
            return list(
                store.remove_from_service([alarm.id], service.user, service.ts, service.note)
            )
        if alarm.state is not AlarmState.OUT_OF_SERVICE:
            return []
        return list(store.return_to_service([alarm.id], service.ts))

    def _shelving(self, alarm: Alarm, held: _Held, now: float) -> list[Alarm | None]:
        """Shelve, reshelve or unshelve as the newest shelving action says, unless this
        store has a shelving change as new (e.g. from before a restart, the book empty). A
        shelve whose time has run out shelves nothing any more."""
        store, shelving = self._store, held.state.shelving
        if (
            shelving is None
            or alarm.state in _OTHERWISE_HIDDEN
            or shelving.ts < alarm.shelve_changed_at
        ):
            return []
        if shelving.kind == "unshelve":
            shelved = alarm.state is AlarmState.SHELVED
            return list(store.unshelve([alarm.id], shelving.ts)) if shelved else []
        until = math.inf if shelving.until is None else shelving.until
        if until <= now and alarm.state is not AlarmState.SHELVED:
            return []
        if alarm.state is AlarmState.SHELVED:
            return [
                store.reshelve(
                    alarm.id, shelving.user, shelving.ts, until=until, note=shelving.note
                )
            ]
        return list(
            store.shelve([alarm.id], shelving.user, shelving.ts, until=until, note=shelving.note)
        )

    def _acknowledgement(self, alarm: Alarm, held: _Held, now: float) -> list[Alarm | None]:
        """Acknowledge as the earliest acknowledgement that counts (or withdraw one that no
        longer counts); one stored here that the book has not seen (from before a restart)
        stays if it counts and is earlier."""
        floor = alarm.shelve_changed_at if not alarm.state.is_hidden else -math.inf
        counted = _counting_ack(held, now, floor)
        held.state.ack = counted
        target = None if counted is None else (counted.ts, counted.user)
        if alarm.acked_at is not None:
            mine = (alarm.acked_at, alarm.acked_by)
            counts = alarm.acked_at > floor and _counts(held, now, alarm.acked_at)
            if counts and (target is None or mine < target):
                target = mine
        return [self._store.share_acknowledgement(alarm.id, target)]

    def _assignment(self, alarm: Alarm, held: _Held, _now: float) -> list[Alarm | None]:
        assignment = held.state.assignment
        if (
            assignment is None
            or assignment.ts < alarm.assigned_at
            or (alarm.assignee, alarm.assigned_at) == (assignment.assignee, assignment.ts)
        ):
            return []
        return list(self._store.assign([alarm.id], assignment.assignee, assignment.ts))


def _window(held: _Held, now: float) -> tuple[float, float]:
    """The times between which an acknowledgement of the occurrence counts now (both
    excluded): after the newest unshelve (or the end of a timed shelve that is over), and
    before the shelve in force."""
    shelving = held.state.shelving
    after = max(
        (action.ts for action in (held.unshelved, held.returned) if action is not None),
        default=-math.inf,
    )
    if shelving is None or shelving.kind == "unshelve":
        return after, math.inf
    if shelving.until is not None and shelving.until <= now:
        return shelving.until, math.inf
    return after, shelving.ts


def _counts(held: _Held, now: float, ts: float) -> bool:
    after, before = _window(held, now)
    return after < ts < before


def _counting_ack(held: _Held, now: float, floor: float = -math.inf) -> SharedAction | None:
    """The earliest acknowledgement that counts now (and is later than ``floor``: the end
    of the alarm's last suppression, shelving or out-of-service here), or None."""
    counting = [ack for ack in held.acks.values() if ack.ts > floor and _counts(held, now, ack.ts)]
    return min(counting, key=_ack_order) if counting else None


def _ack_order(action: SharedAction) -> tuple[float, str, str]:
    """Acknowledgements by time, then user (as the alarm store compares them), then id."""
    return (action.ts, action.user, action.id)


def _ids(state: SharedState) -> set[str]:
    return {action.id for action in state.actions()}


def _newer(holder: object, slot: str, action: SharedAction) -> bool:
    """Put ``action`` in ``holder.slot`` if it is newer than what is there; whether it was."""
    held: SharedAction | None = getattr(holder, slot)
    if held is not None and held.key() >= action.key():
        return False
    setattr(holder, slot, action)
    return True


def _take(held: _Held, action: SharedAction) -> bool:
    """Add ``action`` to what ``held`` knows; whether that changed anything."""
    state = held.state
    if action.kind == "ack":
        if action.id in held.acks:
            return False
        held.acks[action.id] = action
        if len(held.acks) > MAX_ACKS_PER_OCCURRENCE:
            latest = max(held.acks.values(), key=_ack_order)
            del held.acks[latest.id]
            return latest.id != action.id
        return True
    if action.kind in ("shelve", "unshelve"):
        ended = action.kind == "unshelve" and _newer(held, "unshelved", action)
        return _newer(state, "shelving", action) | ended
    if action.kind == "assign":
        return _newer(state, "assignment", action)
    if action.kind in ("out_of_service", "in_service"):
        ended = action.kind == "in_service" and _newer(held, "returned", action)
        return _newer(state, "service", action) | ended
    if action.kind != "comment" or any(comment.id == action.id for comment in state.comments):
        return False
    state.comments.append(action)
    state.comments.sort(key=SharedAction.key)
    del state.comments[:-MAX_SHARED_COMMENTS]
    return True


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
