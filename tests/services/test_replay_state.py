"""What the views show in a replay (services.store.replay.ViewState): built from the parts
of a past moment, and the delta between two moments, removals included."""

from __future__ import annotations

from dataclasses import replace

from services.model import Alarm, AlarmState, Condition, Entity, Reading, Severity
from services.store.replay import REPLAY_STALE_S, ViewState, step_time

T0 = 1_800_000_000.0
STATION = Entity("aq-1", "AQ 1", "station", "environment", 28.5, 112.3, "air", T0)
OTHER = Entity("aq-2", "AQ 2", "station", "environment", 28.6, 112.4, "air", T0)


def alarm(state: AlarmState, revision: int = 3) -> Alarm:
    return Alarm(
        "aq-1", "pm25", Condition.HIGH, Severity.HIGH, state, 90.0, 75.0, T0, T0, revision=revision
    )


def test_the_newest_reading_of_a_metric_wins_across_feeds() -> None:
    known = {"aq-1": STATION}
    readings = [
        Reading("aq-1", "pm25", 10.0, T0 + 50, "feed-a"),
        Reading("aq-1", "pm25", 99.0, T0 - 400, "feed-b"),
    ]
    state = ViewState.from_parts(known, readings, [], T0 + 60)
    assert state.latest[("aq-1", "pm25")].value == 10.0
    entity = state.entities["aq-1"]
    assert entity.updated_at == T0 + 50 and not entity.stale
    assert STATION.updated_at == T0  # the template is never changed


def test_entities_are_stale_and_coloured_as_they_were_then() -> None:
    known = {"aq-1": STATION, "aq-2": OTHER}
    readings = [Reading("aq-1", "pm25", 90.0, T0, "air")]  # aq-2 not heard of yet
    at = T0 + REPLAY_STALE_S + 1
    state = ViewState.from_parts(known, readings, [alarm(AlarmState.UNACKNOWLEDGED)], at)
    assert list(state.entities) == ["aq-1"]
    assert state.entities["aq-1"].stale
    assert state.entities["aq-1"].worst_severity is Severity.HIGH


def test_a_move_sends_only_what_changed_and_removes_what_was_not_there() -> None:
    known = {"aq-1": STATION, "aq-2": OTHER}
    later = ViewState.from_parts(
        known,
        [Reading("aq-1", "pm25", 90.0, T0, "air"), Reading("aq-2", "pm25", 5.0, T0, "air")],
        [alarm(AlarmState.UNACKNOWLEDGED)],
        T0 + 10,
    )
    earlier = ViewState.from_parts(
        known, [Reading("aq-1", "pm25", 40.0, T0 - 60, "air")], [], T0 - 50, previous=later
    )
    delta = later.delta_to(earlier)
    assert delta.removed_entities == {"aq-2"}
    assert set(delta.latest) == {("aq-1", "pm25")}
    assert delta.removed_readings == set()  # aq-2's reading goes with aq-2
    assert delta.alarms["aq-1|pm25|high"].state is AlarmState.NORMAL  # the list drops it
    # aq-1 looks the same (not stale, but no alarm now): it is sent as its look changed
    assert set(delta.entities) == {"aq-1"}
    same = ViewState.from_parts(
        known, [Reading("aq-1", "pm25", 41.0, T0 - 30, "air")], [], T0 - 20, previous=earlier
    )
    assert same.entities["aq-1"] is earlier.entities["aq-1"]  # only a value moved
    assert earlier.delta_to(same).entities == {}


def test_the_live_shadow_takes_deltas_and_forgets_normal_alarms() -> None:
    state = ViewState()
    raised = alarm(AlarmState.UNACKNOWLEDGED, revision=4)
    state.apply(ViewState().delta_to(ViewState({"aq-1": STATION}, {}, {raised.id: raised})))
    assert raised.id in state.alarms
    older = replace(raised, state=AlarmState.NORMAL, revision=3)
    state.apply(ViewState().delta_to(ViewState({}, {}, {older.id: older})))
    assert raised.id in state.alarms  # an older revision does not undo a newer one


def test_stepping_to_the_previous_and_next_alarm() -> None:
    times = [10.0, 20.0, 30.0]
    assert step_time(times, 20.0, 1) == 30.0
    assert step_time(times, 20.2, -1) == 10.0  # within half a second of 20: skipped
    assert step_time(times, 30.0, 1) is None
    assert step_time(times, 10.0, -1) is None
