"""Suppression by design and out-of-service: two ways an alarm stops being annunciated while
its condition is still followed (like shelving, see :mod:`services.alarms.store`).

The functions change one alarm through the life-cycle table and return whether it changed;
the alarm store holds the lock and bumps revisions.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.alarms.lifecycle import AlarmEvent, next_state
from services.config import RuleConfig
from services.model import Alarm, AlarmState, Reading


def _clear_shelving(alarm: Alarm) -> None:
    alarm.shelved_until = None
    alarm.shelved_by = ""
    alarm.shelve_note = ""


def _back(alarm: Alarm, present: AlarmEvent, cleared: AlarmEvent) -> bool:
    """End a hidden state: unacknowledged if the condition is present, else normal."""
    state = next_state(alarm.state, present if alarm.shelved_active else cleared)
    if state is None:
        return False
    alarm.state = state
    alarm.shelved_active = False
    if state is AlarmState.UNACKNOWLEDGED:
        alarm.acked_at = None
        alarm.acked_by = ""
    return True


def suppress(alarm: Alarm, now: float) -> bool:
    """Suppress an alarm whose condition is present (its rule's ``suppressed_when`` holds)."""
    if not alarm.condition_present or alarm.state is AlarmState.SUPPRESSED:
        return False
    state = next_state(alarm.state, AlarmEvent.SUPPRESS)
    if state is None:
        return False
    alarm.state = state
    alarm.shelved_active = True
    _clear_shelving(alarm)
    alarm.updated_at = now
    alarm.shelve_changed_at = now  # acknowledgements before this no longer count
    return True


def unsuppress(alarm: Alarm, now: float) -> bool:
    """End a suppression (``suppressed_when`` no longer holds)."""
    if not _back(alarm, AlarmEvent.UNSUPPRESS, AlarmEvent.UNSUPPRESS_CLEARED):
        return False
    alarm.updated_at = now
    alarm.shelve_changed_at = now
    return True


def remove_from_service(alarm: Alarm, user: str, now: float, note: str) -> bool:
    """Take an alarm out of service (a supervisor's doing); who and why are kept in the
    shelving fields (``shelved_by``, ``shelve_note``) while it lasts."""
    present = alarm.condition_present
    state = next_state(alarm.state, AlarmEvent.REMOVE_FROM_SERVICE)
    if state is None:
        return False
    alarm.state = state
    alarm.shelved_active = present
    alarm.acked_at = None  # back in service it must be acknowledged again
    alarm.acked_by = ""
    _clear_shelving(alarm)
    alarm.shelved_by = user
    alarm.shelve_note = note
    alarm.updated_at = now
    alarm.shelve_changed_at = now
    return True


def restamp_out_of_service(alarm: Alarm, user: str, now: float, note: str) -> bool:
    """Record a newer out-of-service action on an alarm already out of service (who, why,
    when), as a workstation that saw the actions in another order would."""
    if alarm.state is not AlarmState.OUT_OF_SERVICE:
        return False
    if (alarm.shelved_by, alarm.shelve_note, alarm.shelve_changed_at) == (user, note, now):
        return False
    alarm.shelved_by = user
    alarm.shelve_note = note
    alarm.shelve_changed_at = now
    alarm.updated_at = max(alarm.updated_at, now)
    return True


def return_to_service(alarm: Alarm, now: float) -> bool:
    """Put an out-of-service alarm back in service."""
    if alarm.state is not AlarmState.OUT_OF_SERVICE:
        return False
    if not _back(alarm, AlarmEvent.RETURN_TO_SERVICE, AlarmEvent.RETURN_TO_SERVICE_CLEARED):
        return False
    _clear_shelving(alarm)
    alarm.updated_at = now
    alarm.shelve_changed_at = now
    return True


class SuppressionWatch:
    """The latest values of the metrics that rules' ``suppressed_when`` look at."""

    def __init__(self, rules: Iterable[RuleConfig]) -> None:
        self.metrics = {rule.suppressed_when.metric for rule in rules if rule.suppressed_when}
        self._values: dict[tuple[str, str], tuple[float, float]] = {}

    def note(self, reading: Reading) -> bool:
        """Keep a reading of a watched metric; whether it is one (and newer than held)."""
        if reading.metric not in self.metrics:
            return False
        key = (reading.entity_id, reading.metric)
        held = self._values.get(key)
        if held is not None and held[0] > reading.ts:
            return False
        self._values[key] = (reading.ts, reading.value)
        return True

    def holds(self, entity_id: str, rule: RuleConfig | None) -> bool:
        """Whether ``rule``'s ``suppressed_when`` holds for ``entity_id`` now."""
        condition = rule.suppressed_when if rule is not None else None
        if condition is None:
            return False
        held = self._values.get((entity_id, condition.metric))
        return held is not None and condition.holds(held[1])
