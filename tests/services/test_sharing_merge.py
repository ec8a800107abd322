"""Merging shared operator actions: any arrival order gives the same operator state, actions
wait for occurrences not raised yet, and the book's limits hold."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import replace
from typing import Any

import pytest

from services.alarms.store import AlarmStore
from services.config import RuleConfig
from services.limits import MAX_PENDING_SHARED_ACTIONS, MAX_SHARED_COMMENTS
from services.model import Alarm, AlarmState, OperatorAction, Reading
from services.sharing.merge import SharingBook, check_allowed, shelve_problem
from services.sharing.protocol import SharedAction, SharedState, SharingError

RULES = (RuleConfig(metric="pm25", high=75, high_high=150),)
KEY = "aq-1|pm25|high"
RAISED = 100.0
NOW = 1_000.0
"""When the merges run: after every action below, before any shelving below ends."""


def raised_store(at: float = RAISED, value: float = 90.0) -> AlarmStore:
    """A store holding aq-1's PM2.5 high alarm, raised at ``at`` (medium: priority 3)."""
    store = AlarmStore(RULES)
    (alarm,) = store.evaluate([Reading("aq-1", "pm25", value, at, "air")])
    assert (alarm.id, alarm.state, alarm.raised_at) == (KEY, AlarmState.UNACKNOWLEDGED, at)
    return store


def act(kind: str, key: str, ts: float, user: str = "op-a", **fields: Any) -> SharedAction:
    """An action on the occurrence raised at RAISED; ``key`` is its id."""
    return SharedAction(
        id=key,
        kind=kind,
        alarm=fields.pop("alarm", KEY),
        occurrence=fields.pop("occurrence", RAISED),
        user=user,
        workstation=f"ws-{user}",
        account=f"acct-{user}",
        role=fields.pop("role", "operator"),
        ts=ts,
        **fields,
    )


def operator_view(alarm: Alarm | None) -> tuple[Any, ...]:
    """What every workstation must agree on."""
    assert alarm is not None
    return (
        alarm.state,
        alarm.acked_by,
        alarm.acked_at,
        alarm.shelved_until,
        alarm.shelved_by,
        alarm.shelve_note,
        alarm.assignee,
        alarm.comments,
    )


def merged(actions: list[SharedAction], *, one_by_one: bool = True) -> tuple[Any, ...]:
    store = raised_store()
    book = SharingBook(store)
    if one_by_one:
        for action in actions:
            book.merge([action], NOW)
    else:
        book.merge(actions, NOW)
    return operator_view(store.get(KEY))


def in_orders(actions: list[SharedAction], count: int, seed: int) -> set[tuple[Any, ...]]:
    """The operator views after merging ``actions`` in ``count`` shuffled orders."""
    rng = random.Random(seed)
    views = set()
    for _ in range(count):
        order = list(actions)
        rng.shuffle(order)
        views.add(merged(order))
    return views


C1 = act("comment", "c1", 111, "op-a", note="crew on the way")
C2 = act("comment", "c2", 113, "op-b", note="seen on camera 4")
C3 = act("comment", "c3", 116, "op-c", note="pump restarted")
COMMENTS = [C1, C2, C3, replace(C2, note="the same comment, delivered twice")]
ASSIGNS = [
    act("assign", "g1", 112, "op-a", assignee="li.wei"),
    act("assign", "g2", 118, "op-b", assignee="zhang.min"),
]

SCENARIOS: dict[str, tuple[list[SharedAction], tuple[Any, ...]]] = {
    # op-a acknowledges, op-c shelves, op-b (not knowing) acknowledges while it is shelved,
    # op-c unshelves: the alarm is back unacknowledged, as the life cycle says.
    "acks before and during the shelving": (
        [
            act("ack", "a1", 105, "op-a"),
            act("shelve", "s1", 110, "op-c", until=3_710.0, note="pump maintenance"),
            act("ack", "a2", 115, "op-b"),
            act("unshelve", "u1", 120, "op-c"),
            *ASSIGNS,
            *COMMENTS,
        ],
        (AlarmState.UNACKNOWLEDGED, "", None, None, "", "", "zhang.min", 3),
    ),
    # the second acknowledgement comes after the unshelve: it counts and names op-b.
    "an ack after the unshelve": (
        [
            act("ack", "a1", 105, "op-a"),
            act("shelve", "s1", 110, "op-c", until=3_710.0, note="pump maintenance"),
            act("unshelve", "u1", 120, "op-c"),
            act("ack", "a2", 125, "op-b"),
            *ASSIGNS,
            *COMMENTS,
        ],
        (AlarmState.ACKNOWLEDGED, "op-b", 125.0, None, "", "", "zhang.min", 3),
    ),
    # two acknowledgements, the shelving still in force: shelved, the earlier one named.
    "shelved at the end": (
        [
            act("ack", "a2", 107, "op-b"),
            act("ack", "a1", 105, "op-a"),
            act("shelve", "s1", 110, "op-c", until=3_710.0, note="pump maintenance"),
            *ASSIGNS,
            *COMMENTS,
        ],
        (AlarmState.SHELVED, "op-a", 105.0, 3_710.0, "op-c", "pump maintenance", "zhang.min", 3),
    ),
    # two operators shelve it at about the same time: the newer shelve is the one in force.
    "two shelves": (
        [
            act("shelve", "s1", 110, "op-a", until=1_910.0, note="flushing"),
            act("shelve", "s2", 111, "op-b", until=None, note="until it clears"),
            act("ack", "a1", 105, "op-c"),
            *COMMENTS,
        ],
        (AlarmState.SHELVED, "op-c", 105.0, math.inf, "op-b", "until it clears", "", 3),
    ),
    # unshelved, shelved again, unshelved again; acknowledged between and after.
    "shelved twice": (
        [
            act("shelve", "s1", 110, "op-a", until=1_910.0, note="flushing"),
            act("unshelve", "u1", 120, "op-a"),
            act("ack", "a1", 125, "op-b"),
            act("shelve", "s2", 130, "op-c", until=1_930.0, note="again"),
            act("unshelve", "u2", 140, "op-c"),
            act("ack", "a2", 150, "op-a"),
            act("ack", "a3", 135, "op-b"),
            *ASSIGNS,
        ],
        (AlarmState.ACKNOWLEDGED, "op-a", 150.0, None, "", "", "zhang.min", 0),
    ),
    # acknowledgements at the same time by two people: the same one named everywhere.
    "a tie": (
        [act("ack", "z", 105, "op-b"), act("ack", "a", 105, "op-c"), act("ack", "m", 105, "op-a")],
        (AlarmState.ACKNOWLEDGED, "op-a", 105.0, None, "", "", "", 0),
    ),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_any_arrival_order_gives_the_same_operator_state(name: str) -> None:
    actions, expected = SCENARIOS[name]
    in_time_order = sorted(actions, key=lambda a: (a.ts, a.id))
    assert merged(in_time_order) == expected, "in the order they were taken"
    assert in_orders(actions, 400, seed=len(name)) == {expected}
    assert merged(actions, one_by_one=False) == expected, "all in one batch"


def test_every_permutation_of_acks_shelving_and_assignment_converges() -> None:
    actions = [
        act("ack", "a1", 105, "op-a"),
        act("shelve", "s1", 110, "op-c", until=3_710.0, note="pump maintenance"),
        act("unshelve", "u1", 120, "op-c"),
        act("ack", "a2", 125, "op-b"),
        act("assign", "g1", 112, "op-a", assignee="li.wei"),
        act("assign", "g2", 118, "op-b", assignee="zhang.min"),
    ]
    views = {merged(list(order)) for order in itertools.permutations(actions)}
    assert views == {(AlarmState.ACKNOWLEDGED, "op-b", 125.0, None, "", "", "zhang.min", 0)}


def test_actions_delivered_twice_change_nothing_more() -> None:
    actions, expected = SCENARIOS["acks before and during the shelving"]
    rng = random.Random(7)
    for _ in range(50):
        twice = actions + actions
        rng.shuffle(twice)
        assert merged(twice) == expected


def test_an_action_for_an_occurrence_not_raised_yet_waits_for_it() -> None:
    store = AlarmStore(RULES)
    book = SharingBook(store)
    ack = act("ack", "a1", 105, "op-b")
    comment = act("comment", "c1", 106, "op-b", note="seen")
    assert book.merge([ack, comment], NOW) == []
    assert book.pending == 2 and store.get(KEY) is None
    (alarm,) = store.evaluate([Reading("aq-1", "pm25", 90.0, RAISED, "air")])
    (changed,) = book.raised([alarm], NOW)
    assert (changed.state, changed.acked_by, changed.acked_at, changed.comments) == (
        AlarmState.ACKNOWLEDGED, "op-b", 105.0, 1,
    )  # fmt: skip
    assert book.pending == 0
    assert operator_view(store.get(KEY)) == operator_view(changed)


def test_an_action_for_the_next_occurrence_waits_and_one_for_an_earlier_changes_nothing() -> None:
    store = raised_store()
    book = SharingBook(store)
    before = operator_view(store.get(KEY))
    assert book.merge([act("ack", "old", 95, "op-b", occurrence=50.0)], NOW) == []
    assert book.pending == 0, "an earlier occurrence is over: nothing to wait for"
    assert operator_view(store.get(KEY)) == before
    later = act("ack", "next", 305, "op-b", occurrence=300.0)
    assert book.merge([later], NOW) == []
    assert book.pending == 1 and operator_view(store.get(KEY)) == before
    # this occurrence ends (acknowledged and cleared); the next one raises at 300
    store.acknowledge([KEY], "op-a", 150.0)
    store.evaluate([Reading("aq-1", "pm25", 20.0, 200.0, "air")])
    (alarm,) = store.evaluate([Reading("aq-1", "pm25", 90.0, 300.0, "air")])
    assert (alarm.state, alarm.raised_at, alarm.acked_by) == (AlarmState.UNACKNOWLEDGED, 300.0, "")
    (changed,) = book.raised([alarm], NOW)
    assert (changed.state, changed.acked_by, changed.acked_at) == (
        AlarmState.ACKNOWLEDGED, "op-b", 305.0,
    )  # fmt: skip


def test_pending_actions_are_bounded_the_oldest_going_first() -> None:
    store = AlarmStore(RULES)
    book = SharingBook(store)
    extra = 5
    for index in range(MAX_PENDING_SHARED_ACTIONS + extra):
        book.merge([act("comment", f"c{index:05d}", 105 + index * 1e-3, note="x")], NOW)
    assert book.pending == MAX_PENDING_SHARED_ACTIONS
    (alarm,) = store.evaluate([Reading("aq-1", "pm25", 90.0, RAISED, "air")])
    (changed,) = book.raised([alarm], NOW)
    assert changed.comments == MAX_PENDING_SHARED_ACTIONS, "the first five were dropped"
    state = book.state(KEY)
    assert state is not None
    assert state.comments[-1].id == f"c{MAX_PENDING_SHARED_ACTIONS + extra - 1:05d}"


def test_pending_actions_expire() -> None:
    store = AlarmStore(RULES)
    book = SharingBook(store, clock_window=60.0)
    book.merge([act("ack", "early", 105, "op-b")], NOW)
    book.merge([act("comment", "late", 106, "op-b", note="x")], NOW + 30)
    (alarm,) = store.evaluate([Reading("aq-1", "pm25", 90.0, RAISED, "air")])
    (changed,) = book.raised([alarm], NOW + 61)
    assert (changed.state, changed.comments) == (AlarmState.UNACKNOWLEDGED, 1)
    assert book.pending == 0


def test_merge_state_asks_to_republish_only_when_ours_is_richer() -> None:
    store = raised_store()
    book = SharingBook(store)
    ack = act("ack", "a1", 105, "op-a")
    comment = act("comment", "c1", 106, "op-a", note="seen")
    book.merge([ack, comment], NOW)
    poorer = SharedState(KEY, RAISED, ack=ack)
    outcome = book.merge_state(poorer, NOW)
    assert (outcome.changed, outcome.republish) == ([], {KEY})
    same = SharedState(KEY, RAISED, ack=ack, comments=[comment])
    assert book.merge_state(same, NOW).republish == set()
    richer = SharedState(
        KEY, RAISED, ack=ack, comments=[comment, act("comment", "c2", 107, "op-b", note="x")]
    )
    outcome = book.merge_state(richer, NOW)
    assert outcome.republish == set(), "ours now holds everything received"
    assert [alarm.comments for alarm in outcome.changed] == [2]
    # an acknowledgement that does not count (unshelved after it) is not what we hold
    book.merge([act("shelve", "s1", 110, "op-c", until=900.0), act("unshelve", "u1", 120)], NOW)
    stale = SharedState(KEY, RAISED, ack=ack, comments=richer.comments)
    assert book.merge_state(stale, NOW).republish == {KEY}
    held = book.state(KEY)
    assert held is not None and held.ack is None


def test_a_state_of_an_occurrence_not_raised_here_is_not_republished_over() -> None:
    store = raised_store()
    book = SharingBook(store)
    book.merge([act("comment", "c1", 106, "op-a", note="mine")], NOW)
    newer = SharedState(KEY, 300.0, ack=act("ack", "n", 305, "op-b", occurrence=300.0))
    outcome = book.merge_state(newer, NOW)
    assert (outcome.changed, outcome.republish, book.pending) == ([], set(), 1)


def test_a_comment_is_counted_once_even_after_it_left_the_state() -> None:
    store = raised_store()
    book = SharingBook(store)
    comments = [act("comment", f"c{i:02d}", 105 + i, note=f"{i}") for i in range(25)]
    book.merge(comments, NOW)
    state = book.state(KEY)
    assert state is not None and len(state.comments) == MAX_SHARED_COMMENTS
    book.merge([comments[0], comments[3]], NOW)  # redelivered, older than the state keeps
    alarm = store.get(KEY)
    assert alarm is not None and alarm.comments == 25


def test_comments_counted_before_a_restart_are_not_counted_again() -> None:
    store = raised_store()
    store.comment([KEY], 106.0)  # counted (and stored) before the restart
    book = SharingBook(store)
    book.restore_counted(
        [
            OperatorAction(KEY, "comment", "op-a", 106.0, "seen", "ws-a", "c1"),
            OperatorAction(KEY, "comment", "op-a", 50.0, "older occurrence", "ws-a", "c0"),
            OperatorAction(KEY, "ack", "op-a", 107.0, "", "ws-a", "k1"),
        ]
    )
    retained = SharedState(KEY, RAISED, comments=[act("comment", "c1", 106, note="seen")])
    book.merge_state(retained, NOW)
    book.merge([act("comment", "c2", 108, "op-b", note="new")], NOW)
    alarm = store.get(KEY)
    assert alarm is not None and alarm.comments == 2
    state = book.state(KEY)
    assert state is not None and [c.id for c in state.comments] == ["c1", "c2"]


def test_an_ack_held_from_before_a_restart_stays_when_earlier_and_counting() -> None:
    store = raised_store()
    store.acknowledge([KEY], "op-a", 104.0)  # the book does not know it (a restart)
    book = SharingBook(store)
    book.merge([act("ack", "a2", 106, "op-b")], NOW)
    alarm = store.get(KEY)
    assert alarm is not None and (alarm.acked_by, alarm.acked_at) == ("op-a", 104.0)
    book.merge([act("shelve", "s1", 110, "op-c", until=900.0), act("unshelve", "u1", 120)], NOW)
    alarm = store.get(KEY)
    assert alarm is not None and (alarm.state, alarm.acked_by) == (AlarmState.UNACKNOWLEDGED, "")


def test_an_older_shelving_action_does_not_undo_a_newer_one_stored_here() -> None:
    store = raised_store()
    store.shelve([KEY], "op-a", 130.0, until=1_930.0, note="stored before the restart")
    book = SharingBook(store)
    book.merge_state(SharedState(KEY, RAISED, shelving=act("unshelve", "u0", 120)), NOW)
    alarm = store.get(KEY)
    assert alarm is not None and (alarm.state, alarm.shelved_by) == (AlarmState.SHELVED, "op-a")


def test_a_timed_shelve_that_ran_out_ends_the_acks_before_it() -> None:
    store = raised_store()
    book = SharingBook(store)
    shelve = act("shelve", "s1", 110, "op-c", until=200.0, note="short")
    book.merge([act("ack", "a1", 105, "op-a"), shelve], 150.0)
    alarm = store.get(KEY)
    assert alarm is not None and (alarm.state, alarm.acked_by) == (AlarmState.SHELVED, "op-a")
    (back,) = store.unshelve_due(201.0)
    settled = book.settle([back], 201.0)
    assert settled == [] or settled[0].acked_by == ""
    alarm = store.get(KEY)
    assert alarm is not None and (alarm.state, alarm.acked_by) == (AlarmState.UNACKNOWLEDGED, "")
    # an acknowledgement taken while it was shelved arrives late: it does not count
    assert book.merge([act("ack", "a2", 150, "op-b")], 300.0) == []
    # one taken after the shelving ran out does
    (acked,) = book.merge([act("ack", "a3", 250, "op-b")], 300.0)
    assert (acked.state, acked.acked_by, acked.acked_at) == (AlarmState.ACKNOWLEDGED, "op-b", 250.0)
    # a late workstation that gets the shelve after it ran out agrees
    late = raised_store()
    late_book = SharingBook(late)
    late_book.merge([shelve, act("ack", "a2", 150, "op-b"), act("ack", "a1", 105)], 300.0)
    late_book.settle(late.unshelve_due(300.0), 300.0)
    late_book.merge([act("ack", "a3", 250, "op-b")], 300.0)
    assert operator_view(late.get(KEY)) == operator_view(store.get(KEY))


def test_a_pending_shelve_longer_than_the_priority_allows_is_not_applied_when_raised() -> None:
    store = AlarmStore(RULES)
    book = SharingBook(store)
    too_long = act("shelve", "s1", 110, "op-c", until=110 + 9 * 3600.0, note="all night")
    book.merge([too_long], NOW)
    (alarm,) = store.evaluate([Reading("aq-1", "pm25", 90.0, RAISED, "air")])
    assert shelve_problem(too_long, alarm).endswith("over its priority's limit of 480 min; ignored")
    assert book.raised([alarm], NOW) == []
    assert store.get(KEY).state is AlarmState.UNACKNOWLEDGED  # type: ignore[union-attr]


def test_a_local_action_on_a_clock_behind_is_stamped_after_what_it_follows() -> None:
    store = raised_store()
    book = SharingBook(store)
    book.merge([act("shelve", "s1", 110, "op-c", until=900.0), act("unshelve", "u1", 120)], NOW)
    alarm = store.get(KEY)
    assert alarm is not None
    assert book.action_time("shelve", alarm, 115.0) == pytest.approx(120.001)
    assert book.action_time("ack", alarm, 118.0) == pytest.approx(120.001)
    assert book.action_time("comment", alarm, 118.0) == 118.0
    assert book.action_time("shelve", alarm, 130.0) == 130.0


def test_roles_and_kinds_are_checked() -> None:
    check_allowed(act("ack", "a", 105, role="supervisor"))
    with pytest.raises(SharingError, match=r"op-a \(viewer\) may not acknowledge alarms"):
        check_allowed(act("ack", "a", 105, role="viewer"))
    with pytest.raises(SharingError, match="unknown role 'boss'"):
        check_allowed(act("ack", "a", 105, role="boss"))
    with pytest.raises(SharingError, match="'incident' actions are not supported"):
        check_allowed(act("incident", "i", 105))


def test_out_of_service_and_back_converge_and_need_a_supervisor() -> None:
    actions = [
        act("ack", "a1", 200.0),
        act("out_of_service", "o1", 300.0, user="zhang", role="supervisor", note="gauge swap"),
        act("comment", "c1", 350.0, note="checked"),
        act("in_service", "i1", 400.0, user="zhang", role="supervisor"),
        act("out_of_service", "o2", 500.0, user="zhang", role="supervisor", note="again"),
    ]
    views = {merged(list(order)) for order in itertools.permutations(actions)}
    assert len(views) == 1
    (view,) = views
    assert view[0] is AlarmState.OUT_OF_SERVICE
    assert (view[4], view[5]) == ("zhang", "again")  # who took it out, and why
    back = {merged(list(order)) for order in itertools.permutations(actions[:4])}
    assert len(back) == 1
    (view,) = back
    assert view[0] is AlarmState.UNACKNOWLEDGED  # back in service, condition present
    with pytest.raises(SharingError, match="operator"):
        check_allowed(act("out_of_service", "o3", 600.0, note="not mine to do"))
