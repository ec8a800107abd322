"""The alarm life cycle, driven by its transition table, and rule delays."""

from __future__ import annotations

import itertools

import pytest

from services.alarms.lifecycle import TRANSITIONS, AlarmEvent, next_state
from services.alarms.store import AlarmStore
from services.config import RuleConfig
from services.model import Alarm, AlarmState, Condition, Reading

KEY = "aq-1|pm25|high"
HIGH = 75.0


class Driver:
    """An alarm store with one high rule, driven one reading at a time."""

    def __init__(self, rule: RuleConfig | None = None) -> None:
        self.store = AlarmStore([rule or RuleConfig(metric="pm25", high=HIGH)])
        self.ts = 0.0

    def reading(self, value: float, step: float = 1.0) -> list[Alarm]:
        self.ts += step
        return self.store.evaluate([Reading("aq-1", "pm25", value, self.ts, "air")])

    def apply(self, event: AlarmEvent) -> None:
        if event is AlarmEvent.RAISE:
            self.reading(HIGH + 10)
        elif event is AlarmEvent.CLEAR:
            self.reading(HIGH - 10)
        else:
            self.ts += 1
            self.store.acknowledge([KEY], "li.wei", self.ts)

    def state(self) -> AlarmState | None:
        alarm = self.store.get(KEY)
        return None if alarm is None else alarm.state


# How to bring an alarm into each state with the events themselves.
REACH = {
    AlarmState.UNACKNOWLEDGED: [AlarmEvent.RAISE],
    AlarmState.ACKNOWLEDGED: [AlarmEvent.RAISE, AlarmEvent.ACKNOWLEDGE],
    AlarmState.RTN_UNACKNOWLEDGED: [AlarmEvent.RAISE, AlarmEvent.CLEAR],
    AlarmState.NORMAL: [AlarmEvent.RAISE, AlarmEvent.ACKNOWLEDGE, AlarmEvent.CLEAR],
}


@pytest.mark.parametrize(("state", "event"), list(itertools.product(AlarmState, AlarmEvent)))
def test_the_store_follows_the_transition_table(state: AlarmState, event: AlarmEvent) -> None:
    driver = Driver()
    for step in REACH[state]:
        driver.apply(step)
    assert driver.state() is state
    count = driver.store.get(KEY).count  # type: ignore[union-attr]
    driver.apply(event)
    expected = next_state(state, event) or state
    assert driver.state() is expected
    alarm = driver.store.get(KEY)
    assert alarm is not None
    raised_again = event is AlarmEvent.RAISE and (state, event) in TRANSITIONS
    assert alarm.count == count + (1 if raised_again else 0)


def test_a_cleared_and_acknowledged_alarm_raised_again_is_a_new_occurrence() -> None:
    driver = Driver()
    for event in REACH[AlarmState.NORMAL]:
        driver.apply(event)
    first = driver.store.get(KEY)
    driver.apply(AlarmEvent.RAISE)
    again = driver.store.get(KEY)
    assert first is not None and again is not None
    assert (again.state, again.count, again.acked_by) == (AlarmState.UNACKNOWLEDGED, 2, "")
    assert again.raised_at > first.raised_at


def test_the_deadband_holds_an_active_alarm_until_the_value_is_clear_of_it() -> None:
    driver = Driver(RuleConfig(metric="pm25", high=HIGH, deadband=5))
    driver.reading(80)
    driver.reading(72)  # below the limit, inside the deadband
    assert driver.state() is AlarmState.UNACKNOWLEDGED
    driver.reading(69)
    assert driver.state() is AlarmState.RTN_UNACKNOWLEDGED


def test_an_on_delay_in_seconds_must_hold_before_the_alarm_raises() -> None:
    driver = Driver(RuleConfig(metric="pm25", high=HIGH, on_delay=30))
    driver.reading(90)  # t=1: the band starts
    driver.reading(90, step=20)  # t=21: held 20 s
    assert driver.state() is None
    driver.reading(60, step=5)  # back out of the band: the wait starts again
    driver.reading(90, step=5)  # t=31
    driver.reading(90, step=29)  # t=60: held 29 s
    assert driver.state() is None
    raised = driver.reading(90, step=1)  # t=61: held 30 s
    assert [a.raised_at for a in raised] == [61.0]


def test_sample_counts_delay_raising_and_clearing() -> None:
    driver = Driver(RuleConfig(metric="pm25", high=HIGH, on_samples=3, off_samples=2))
    driver.reading(90)
    driver.reading(90)
    assert driver.state() is None
    driver.reading(90)
    assert driver.state() is AlarmState.UNACKNOWLEDGED
    driver.reading(50)
    assert driver.state() is AlarmState.UNACKNOWLEDGED  # one reading out is not enough
    driver.reading(50)
    assert driver.state() is AlarmState.RTN_UNACKNOWLEDGED


def test_an_off_delay_keeps_the_alarm_through_a_brief_dip() -> None:
    driver = Driver(RuleConfig(metric="pm25", high=HIGH, off_delay=60))
    driver.reading(90)
    driver.reading(50, step=10)
    driver.reading(90, step=10)  # back in the band before 60 s
    driver.reading(50, step=10)
    driver.reading(50, step=59)
    assert driver.state() is AlarmState.UNACKNOWLEDGED
    driver.reading(50, step=1)
    assert driver.state() is AlarmState.RTN_UNACKNOWLEDGED


def test_a_rule_description_is_the_alarm_message() -> None:
    rule = RuleConfig(metric="pm25", high=HIGH, id="pm25-high", description="PM2.5 above 75")
    driver = Driver(rule)
    (alarm,) = driver.reading(90)
    assert alarm.message == "PM2.5 above 75"
    assert rule.name == "pm25-high" and RuleConfig(metric="x", high=1).name == "x:*"


def test_a_silent_source_raises_a_no_data_alarm_and_its_next_reading_clears_it() -> None:
    rule = RuleConfig(metric="pm25", high=HIGH, no_data_after=600)
    driver = Driver(rule)
    driver.reading(20)  # t=1
    store = driver.store
    assert store.check_silence(601.0) == []  # exactly 600 s: not yet
    (silent,) = store.check_silence(700.0)
    assert (silent.condition, silent.state, silent.value, silent.threshold) == (
        Condition.NO_DATA,
        AlarmState.UNACKNOWLEDGED,
        699.0,
        600.0,
    )
    assert store.check_silence(800.0) == []  # raised once, not again each check
    (heard,) = driver.reading(21, step=800)
    assert (heard.id, heard.state) == (silent.id, AlarmState.RTN_UNACKNOWLEDGED)


def test_no_data_is_watched_from_the_restored_latest_reading() -> None:
    store = AlarmStore([RuleConfig(metric="pm25", no_data_after=60)])
    assert store.check_silence(1_000.0) == []  # never heard of: nothing to miss
    store.restore([], latest=[Reading("aq-1", "pm25", 20.0, 900.0, "air")])
    (silent,) = store.check_silence(1_000.0)
    assert silent.id == "aq-1|pm25|no_data"
