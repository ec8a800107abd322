"""Which priority-1 alarms hold the wall, and until when (plain logic, no window)."""

from __future__ import annotations

from dataclasses import replace

from services.model import Alarm, AlarmState, Condition, Severity
from ui.kiosk_alarm import PriorityOneWatch

T0 = 1_800_000_000.0


def p1(entity: str, state: AlarmState, raised: float = T0) -> Alarm:
    return Alarm(
        entity, "level", Condition.HIGH_HIGH, Severity.CRITICAL, state, 40, 38, raised, raised
    )


def held(watch: PriorityOneWatch, alarms: list[Alarm], now: float) -> list[str]:
    return [item.alarm.entity_id for item in watch.update(alarms, now)]


def test_a_new_one_holds_until_acknowledged_also_after_returning_to_normal() -> None:
    watch = PriorityOneWatch(timeout=300)
    old = p1("river-1", AlarmState.UNACKNOWLEDGED)
    assert held(watch, [old], T0) == []  # waiting when the wall first looked: not new
    new = p1("river-2", AlarmState.UNACKNOWLEDGED, T0 + 10)
    assert held(watch, [old, new], T0 + 10) == ["river-2"]
    back = replace(new, state=AlarmState.RTN_UNACKNOWLEDGED)  # normal, not acknowledged
    assert held(watch, [old, back], T0 + 20) == ["river-2"]
    done = replace(new, state=AlarmState.NORMAL)  # acknowledged after returning
    assert held(watch, [old, done], T0 + 30) == []
    medium = replace(p1("aq-1", AlarmState.UNACKNOWLEDGED, T0 + 40), severity=Severity.MEDIUM)
    shelved = p1("river-3", AlarmState.SHELVED, T0 + 40)
    assert held(watch, [old, medium, shelved], T0 + 40) == []


def test_an_occurrence_interrupts_once_and_a_new_raise_again() -> None:
    watch = PriorityOneWatch(timeout=60)
    assert held(watch, [], T0) == []
    alarm = p1("river-4", AlarmState.UNACKNOWLEDGED, T0 + 1)
    assert held(watch, [alarm], T0 + 1) == ["river-4"]
    assert held(watch, [alarm], T0 + 62) == []  # timed out
    flapping = replace(alarm, state=AlarmState.RTN_UNACKNOWLEDGED)
    assert held(watch, [flapping], T0 + 70) == []
    assert held(watch, [alarm], T0 + 80) == []  # the same occurrence: not again
    assert held(watch, [replace(alarm, state=AlarmState.NORMAL)], T0 + 90) == []
    again = p1("river-4", AlarmState.UNACKNOWLEDGED, T0 + 100)  # raised anew
    assert held(watch, [again], T0 + 100) == ["river-4"]
