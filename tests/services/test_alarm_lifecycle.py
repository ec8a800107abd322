"""The alarm life cycle, driven by its transition table, and rule delays."""

from __future__ import annotations

import itertools
import math

import pytest

from services.alarms.lifecycle import TRANSITIONS, AlarmEvent, next_state
from services.alarms.store import AlarmStore
from services.config import RuleConfig
from services.config.schema import Suppression
from services.model import Alarm, AlarmState, Condition, Reading

KEY = "aq-1|pm25|high"
HIGH = 75.0
MAINTENANCE = Suppression("maintenance", "==", 1.0)


class Driver:
    """An alarm store with one high rule, driven one reading at a time."""

    def __init__(self, rule: RuleConfig | None = None) -> None:
        self.store = AlarmStore(
            [rule or RuleConfig(metric="pm25", high=HIGH, suppressed_when=MAINTENANCE)]
        )
        self.ts = 0.0

    def reading(self, value: float, step: float = 1.0) -> list[Alarm]:
        self.ts += step
        return self.store.evaluate([Reading("aq-1", "pm25", value, self.ts, "air")])

    def apply(self, event: AlarmEvent) -> None:
        if event is AlarmEvent.RAISE:
            self.reading(HIGH + 10)
        elif event is AlarmEvent.CLEAR:
            self.reading(HIGH - 10)
        elif event is AlarmEvent.SHELVE:
            self.ts += 1
            self.store.shelve([KEY], "li.wei", self.ts, until=self.ts + 3600, note="pump test")
        elif event in (AlarmEvent.SUPPRESS, AlarmEvent.UNSUPPRESS):
            self.ts += 1
            on = 1.0 if event is AlarmEvent.SUPPRESS else 0.0
            self.store.evaluate([Reading("aq-1", "maintenance", on, self.ts, "air")])
        elif event is AlarmEvent.REMOVE_FROM_SERVICE:
            self.ts += 1
            self.store.remove_from_service([KEY], "zhang.min", self.ts, "sensor fault")
        elif event is AlarmEvent.RETURN_TO_SERVICE:
            self.ts += 1
            self.store.return_to_service([KEY], self.ts)
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
    AlarmState.SHELVED: [AlarmEvent.RAISE, AlarmEvent.SHELVE],
    AlarmState.SUPPRESSED: [AlarmEvent.RAISE, AlarmEvent.SUPPRESS],
    AlarmState.OUT_OF_SERVICE: [AlarmEvent.RAISE, AlarmEvent.REMOVE_FROM_SERVICE],
}
# Unshelving, unsuppressing and returning to service depend on the condition underneath;
# they have their own tests below.
DRIVEN_EVENTS = (
    AlarmEvent.RAISE,
    AlarmEvent.CLEAR,
    AlarmEvent.ACKNOWLEDGE,
    AlarmEvent.SHELVE,
    AlarmEvent.SUPPRESS,
    AlarmEvent.REMOVE_FROM_SERVICE,
)


@pytest.mark.parametrize(("state", "event"), list(itertools.product(AlarmState, DRIVEN_EVENTS)))
def test_the_store_follows_the_transition_table(state: AlarmState, event: AlarmEvent) -> None:
    driver = Driver()
    for step in REACH[state]:
        driver.apply(step)
    before = driver.store.get(KEY)
    assert before is not None and before.state is state
    driver.apply(event)
    expected = next_state(state, event) or state
    assert driver.state() is expected
    alarm = driver.store.get(KEY)
    assert alarm is not None
    raised_again = event is AlarmEvent.RAISE and not before.condition_present
    assert alarm.count == before.count + (1 if raised_again else 0)


def test_every_state_is_reached_and_every_event_is_in_the_table() -> None:
    assert set(REACH) == set(AlarmState)
    assert {event for _state, event in TRANSITIONS} == set(AlarmEvent)


def shelved(until: float) -> Driver:
    """A driver whose alarm raised at t=1 and was shelved at t=2 until ``until``."""
    driver = Driver()
    driver.apply(AlarmEvent.RAISE)
    driver.ts += 1
    driver.store.shelve([KEY], "li.wei", driver.ts, until=until, note="pump test")
    return driver


def test_a_timed_shelve_ends_by_itself_unacknowledged_while_the_condition_is_present() -> None:
    driver = shelved(until=602.0)
    driver.store.acknowledge([KEY], "li.wei", 3.0)  # a shelved alarm is not acknowledged
    assert driver.state() is AlarmState.SHELVED
    assert driver.store.unshelve_due(601.9) == []
    (back,) = driver.store.unshelve_due(602.0)
    assert (back.state, back.shelved_until, back.shelved_by, back.acked_by) == (
        AlarmState.UNACKNOWLEDGED, None, "", "",
    )  # fmt: skip


def test_a_timed_shelve_of_an_alarm_that_cleared_meanwhile_ends_in_normal() -> None:
    driver = shelved(until=602.0)
    driver.apply(AlarmEvent.CLEAR)
    assert driver.state() is AlarmState.SHELVED
    (back,) = driver.store.unshelve_due(700.0)
    assert back.state is AlarmState.NORMAL


def test_raised_again_while_shelved_it_stays_shelved_and_counts() -> None:
    driver = shelved(until=602.0)
    driver.apply(AlarmEvent.CLEAR)
    driver.apply(AlarmEvent.RAISE)
    alarm = driver.store.get(KEY)
    assert alarm is not None and (alarm.state, alarm.count) == (AlarmState.SHELVED, 2)
    assert alarm.condition_present


def test_shelved_until_it_clears_ends_when_it_clears_and_the_next_raise_is_new() -> None:
    driver = shelved(until=math.inf)
    assert driver.store.unshelve_due(1e12) == []
    driver.apply(AlarmEvent.CLEAR)
    assert driver.state() is AlarmState.NORMAL
    driver.apply(AlarmEvent.RAISE)
    alarm = driver.store.get(KEY)
    assert alarm is not None and (alarm.state, alarm.count) == (AlarmState.UNACKNOWLEDGED, 2)


def test_an_operator_unshelves_and_a_normal_alarm_cannot_be_shelved() -> None:
    driver = shelved(until=602.0)
    (back,) = driver.store.unshelve([KEY], 10.0)
    assert back.state is AlarmState.UNACKNOWLEDGED
    assert driver.store.unshelve([KEY], 11.0) == []  # no longer shelved: nothing to do
    driver.apply(AlarmEvent.CLEAR)  # returned, unacknowledged: nothing left to clear
    assert driver.store.shelve([KEY], "li.wei", 20.0, until=math.inf) == []
    for event in REACH[AlarmState.NORMAL][1:]:
        driver.apply(event)
    assert driver.store.shelve([KEY], "li.wei", 20.0, until=100.0) == []


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


@pytest.mark.parametrize("state", [AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED])
def test_a_latched_alarm_waits_for_acknowledgement_after_it_clears(state: AlarmState) -> None:
    driver = Driver(RuleConfig(metric="pm25", high=HIGH, latch=True))
    for step in REACH[state]:
        driver.apply(step)
    driver.apply(AlarmEvent.CLEAR)
    assert driver.state() is next_state(state, AlarmEvent.CLEAR_LATCHED)
    assert driver.state() is AlarmState.RTN_UNACKNOWLEDGED
    driver.apply(AlarmEvent.ACKNOWLEDGE)  # the operator resets it
    assert driver.state() is AlarmState.NORMAL


def test_a_rate_of_change_alarm_raises_on_a_fast_rise_and_clears_when_it_levels() -> None:
    rule = RuleConfig(metric="level", rate_limit=0.5, rate_window=600)  # 0.5 per minute
    store = AlarmStore([rule])
    key = "wl-1|level|rate"

    def level(value: float, ts: float) -> list[Alarm]:
        return store.evaluate([Reading("wl-1", "level", value, ts, "water")])

    assert level(3.0, 0.0) == [] and level(6.0, 120.0) == []  # 120 s: under half the window
    assert level(3.0, 240.0) == []  # back where it started: no rate over 240 s
    (rising,) = level(8.0, 360.0)  # 5 in 6 min
    assert (rising.id, rising.state, rising.threshold) == (key, AlarmState.UNACKNOWLEDGED, 0.5)
    assert rising.value == pytest.approx(5.0 / 6.0)
    for minute in range(7, 20):
        level(8.0, minute * 60.0)
    alarm = store.get(key)
    assert alarm is not None and alarm.state is AlarmState.RTN_UNACKNOWLEDGED
    falling = store.evaluate([Reading("wl-1", "level", 0.0, 20 * 60.0, "water")])
    assert [a.id for a in falling] == [key]  # a fast fall counts too


@pytest.mark.parametrize("present", [True, False])
def test_suppression_ends_in_unacknowledged_or_normal(present: bool) -> None:
    driver = Driver()
    driver.apply(AlarmEvent.RAISE)
    driver.apply(AlarmEvent.ACKNOWLEDGE)
    driver.apply(AlarmEvent.SUPPRESS)
    assert driver.state() is AlarmState.SUPPRESSED
    if not present:
        driver.apply(AlarmEvent.CLEAR)  # a suppressed alarm that clears is done
        assert driver.state() is AlarmState.NORMAL
        return
    driver.apply(AlarmEvent.RAISE)  # still present: stays suppressed, nothing to announce
    assert driver.state() is AlarmState.SUPPRESSED
    driver.apply(AlarmEvent.UNSUPPRESS)
    assert driver.state() is AlarmState.UNACKNOWLEDGED  # back, to be acknowledged again
    alarm = driver.store.get(KEY)
    assert alarm is not None and alarm.acked_by == ""


def test_an_alarm_raised_during_maintenance_is_suppressed_from_the_start() -> None:
    driver = Driver()
    driver.apply(AlarmEvent.SUPPRESS)
    changed = driver.reading(HIGH + 10)
    assert [alarm.state for alarm in changed] == [AlarmState.SUPPRESSED]
    assert driver.store.worst_active_severity("aq-1") is None  # no colour on the map


@pytest.mark.parametrize(
    ("present", "after"), [(True, AlarmState.UNACKNOWLEDGED), (False, AlarmState.NORMAL)]
)
def test_return_to_service_follows_the_condition(present: bool, after: AlarmState) -> None:
    driver = Driver()
    driver.apply(AlarmEvent.RAISE)
    driver.apply(AlarmEvent.REMOVE_FROM_SERVICE)
    alarm = driver.store.get(KEY)
    assert alarm is not None and alarm.state is AlarmState.OUT_OF_SERVICE
    assert (alarm.shelved_by, alarm.shelve_note) == ("zhang.min", "sensor fault")
    driver.apply(AlarmEvent.CLEAR)
    assert driver.state() is AlarmState.OUT_OF_SERVICE  # followed underneath, not announced
    if present:
        driver.apply(AlarmEvent.RAISE)
    driver.apply(AlarmEvent.RETURN_TO_SERVICE)
    assert driver.state() is after


def test_no_data_and_return_to_service_are_suppressed_during_maintenance() -> None:
    rule = RuleConfig(metric="pm25", high=HIGH, no_data_after=60.0, suppressed_when=MAINTENANCE)
    driver = Driver(rule)
    driver.apply(AlarmEvent.SUPPRESS)  # maintenance on
    driver.reading(HIGH - 10)
    silent = driver.store.check_silence(driver.ts + 61)  # the station goes quiet
    assert [alarm.state for alarm in silent] == [AlarmState.SUPPRESSED]
    driver.apply(AlarmEvent.RAISE)
    assert driver.state() is AlarmState.SUPPRESSED
    driver.apply(AlarmEvent.REMOVE_FROM_SERVICE)
    driver.apply(AlarmEvent.RETURN_TO_SERVICE)  # maintenance still on: suppressed, silent
    assert driver.state() is AlarmState.SUPPRESSED
