"""The wire format of shared operator actions: what round-trips, and what is refused and why."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from services.limits import MAX_NOTE_CHARS, MAX_PAYLOAD_BYTES, MAX_SHARED_COMMENTS
from services.sharing.protocol import (
    APPLIED_KINDS,
    SharedAction,
    SharedState,
    SharingError,
    action_topic,
    decode_action,
    decode_state,
    encode_action,
    encode_state,
    state_topic,
    subscriptions,
    topic_level,
)

PREFIX = "cityops/yiyang"
ALARM = "aq-1|pm25|high"
RAISED = 1_700_000_000.25


def action(kind: str = "ack", **fields: Any) -> SharedAction:
    base = SharedAction(
        id="a1",
        kind=kind,
        alarm=ALARM,
        occurrence=RAISED,
        user="li.wei",
        workstation="ws-a",
        account="acct-a",
        role="operator",
        ts=RAISED + 30.5,
    )
    extra: dict[str, Any] = {}
    if kind == "shelve":
        extra["until"] = RAISED + 1830.5
    if kind == "assign":
        extra["assignee"] = "zhang.min"
    return replace(base, **{**extra, **fields})


def body(of: str = "ack", **fields: Any) -> dict[str, Any]:
    """The JSON object of an ``of`` action, with ``fields`` replaced (None: key removed)."""
    data: dict[str, Any] = json.loads(encode_action(action(of)))
    for key, value in fields.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def decode(data: object, topic: str | None = None) -> SharedAction:
    payload = data if isinstance(data, bytes) else json.dumps(data).encode()
    return decode_action(topic or action_topic(PREFIX, "acct-a", "ws-a"), payload, PREFIX)


@pytest.mark.parametrize(
    "shared",
    [
        action("ack", note="pump checked"),
        action("shelve", note="maintenance"),
        action("shelve", until=None, note="until it clears"),
        action("unshelve"),
        action("comment", note="crew on the way 🚒, ETA 10 min"),
        action("assign", note="yours"),
        action("assign", assignee=""),
        action("out_of_service", role="supervisor", note="gauge swap"),
        action("in_service", role="supervisor"),
    ],
    ids=lambda a: f"{a.kind}-{a.until}-{a.assignee}",
)
def test_each_applied_kind_round_trips(shared: SharedAction) -> None:
    topic = action_topic(PREFIX, shared.account, shared.workstation)
    assert topic == f"{PREFIX}/actions/acct-a/ws-a"
    assert decode_action(topic, encode_action(shared).encode(), PREFIX) == shared


def test_every_applied_kind_is_covered_above() -> None:
    assert {
        "ack",
        "shelve",
        "unshelve",
        "comment",
        "assign",
        "out_of_service",
        "in_service",
    } == APPLIED_KINDS


def test_a_state_round_trips_on_its_alarm_topic() -> None:
    state = SharedState(ALARM, RAISED)
    state.ack = action("ack", id="k")
    state.shelving = action("shelve", id="s", until=None)
    state.assignment = action("assign", id="g")
    state.service = action("out_of_service", id="o", role="supervisor", note="gauge swap")
    state.comments = [action("comment", id=f"c{i}", note=f"note {i}") for i in range(3)]
    topic = state_topic(PREFIX, ALARM)
    assert topic == f"{PREFIX}/alarm-state/aq-1%7Cpm25%7Chigh"
    decoded = decode_state(topic, encode_state(state).encode(), PREFIX)
    assert decoded == state


def test_a_state_carries_only_the_newest_comments() -> None:
    state = SharedState(ALARM, RAISED)
    state.comments = [action("comment", id=f"c{i}", ts=RAISED + i) for i in range(30)]
    decoded = decode_state(state_topic(PREFIX, ALARM), encode_state(state).encode(), PREFIX)
    assert [c.id for c in decoded.comments] == [
        f"c{i}" for i in range(30 - MAX_SHARED_COMMENTS, 30)
    ]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b'"ack"', "expected a JSON object, got str"),
        (b"null", "expected a JSON object, got NoneType"),
    ],
)
def test_a_payload_that_is_not_a_json_object_is_refused(payload: bytes, reason: str) -> None:
    with pytest.raises(SharingError, match=reason):
        decode(payload)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"id": None}, "'id' must be a non-empty string, got None"),
        ({"id": ""}, "'id' must be a non-empty string, got ''"),
        ({"kind": None}, "'kind' must be a non-empty string"),
        ({"alarm": "   "}, "'alarm' must be a non-empty string"),
        ({"user": None}, "'user' must be a non-empty string"),
        ({"workstation": 7}, "'workstation' must be a non-empty string, got 7"),
        ({"account": ["acct-a"]}, "'account' must be a non-empty string"),
        ({"role": 3}, "'role' must be a string, got 3"),
        ({"note": {"text": "x"}}, "'note' must be a string"),
        ({"occurrence": None}, "'occurrence' must be epoch seconds, got None"),
        ({"occurrence": "1700000000"}, "'occurrence' must be epoch seconds, got '1700000000'"),
        ({"occurrence": True}, "'occurrence' must be epoch seconds, got True"),
        ({"ts": -5}, "'ts' must not be negative"),
        ({"id": "x" * 101}, "'id' is longer than 100 characters"),
        ({"user": "u" * 201}, "'user' is longer than 200 characters"),
        ({"kind": "reset"}, "unknown kind 'reset' \\(expected one of ack, shelve"),
    ],
)
def test_a_bad_field_is_named(fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(SharingError, match=reason):
        decode(body("ack", **fields))


def test_infinite_and_nan_times_are_refused() -> None:
    for value in (b"Infinity", b"NaN"):
        raw = encode_action(action("ack")).replace(
            f'"ts":{RAISED + 30.5}', '"ts":' + value.decode()
        )
        with pytest.raises(SharingError, match="'ts' must be epoch seconds"):
            decode(raw.encode())


def test_a_shelve_needs_until_and_until_must_be_a_time_or_null() -> None:
    with pytest.raises(SharingError, match="a shelve needs 'until'"):
        decode(body("shelve", until=None))
    with pytest.raises(SharingError, match="'until' must be epoch seconds, got 'tomorrow'"):
        decode(body("shelve", until="tomorrow"))
    data = body("shelve")
    data["until"] = None  # JSON null: until it clears
    assert decode(data).until is None


def test_a_shelve_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(SharingError, match=r"'until' \(\d+\) is before the action's time"):
        decode(body("shelve", until=RAISED))


def test_an_assignment_needs_a_string_assignee() -> None:
    with pytest.raises(SharingError, match="'assignee' must be a string, got 5"):
        decode(body("assign", assignee=5))
    assert decode(body("assign", assignee="")).assignee == ""


def test_a_note_longer_than_the_limit_is_refused_and_one_at_the_limit_is_not() -> None:
    assert len(decode(body("comment", note="n" * MAX_NOTE_CHARS)).note) == MAX_NOTE_CHARS
    with pytest.raises(SharingError, match=f"'note' is longer than {MAX_NOTE_CHARS} characters"):
        decode(body("comment", note="n" * (MAX_NOTE_CHARS + 1)))


def test_a_payload_over_the_size_limit_is_refused_before_it_is_parsed() -> None:
    data = body("comment", note="n" * 10)
    data["padding"] = "x" * MAX_PAYLOAD_BYTES
    with pytest.raises(SharingError, match="exceeds 256 KiB"):
        decode(data)
    with pytest.raises(SharingError, match="exceeds 256 KiB"):
        decode_state(state_topic(PREFIX, ALARM), json.dumps(data).encode(), PREFIX)


def test_a_missing_role_is_an_operator() -> None:
    assert decode(body("ack", role=None)).role == "operator"


def test_the_topic_user_must_be_the_payload_account() -> None:
    forged = action_topic(PREFIX, "acct-b", "ws-a")
    with pytest.raises(
        SharingError,
        match=r"published by broker user 'acct-b' \(topic level\) but claims to be from 'acct-a'",
    ):
        decode(body("ack"), forged)


def test_a_percent_encoded_topic_user_cannot_pass_for_another_account() -> None:
    # A broker user literally named "acct%2Da" may write under actions/acct%2Da/ only; that
    # level must not stand for the account "acct-a" (whose own level is "acct-a").
    with pytest.raises(SharingError, match="published by broker user 'acct%2Da'"):
        decode(body("ack"), f"{PREFIX}/actions/acct%2Da/ws-a")
    odd = action(account="ops/night+1", workstation="desk #2")
    topic = action_topic(PREFIX, odd.account, odd.workstation)
    assert topic == f"{PREFIX}/actions/ops%2Fnight%2B1/desk%20%232"
    assert decode_action(topic, encode_action(odd).encode(), PREFIX) == odd


def test_the_topic_workstation_must_be_the_payload_workstation() -> None:
    with pytest.raises(
        SharingError, match=r"under workstation 'ws-x' \(topic level\) but claims 'ws-a'"
    ):
        decode(body("ack"), action_topic(PREFIX, "acct-a", "ws-x"))


@pytest.mark.parametrize(
    "topic",
    [
        f"{PREFIX}/actions/acct-a",
        f"{PREFIX}/actions/acct-a/ws-a/extra",
        f"{PREFIX}/events/acct-a/ws-a",
        "other/actions/acct-a/ws-a",
        f"{PREFIX}x/actions/acct-a/ws-a",
    ],
)
def test_an_action_on_a_topic_that_is_no_action_topic_is_refused(topic: str) -> None:
    with pytest.raises(SharingError, match="not an action topic under cityops/yiyang/actions"):
        decode(body("ack"), topic)


def test_a_state_on_the_topic_of_another_alarm_is_refused() -> None:
    state = SharedState(ALARM, RAISED, ack=action("ack"))
    payload = encode_state(state).encode()
    with pytest.raises(SharingError, match="the state of alarm 'aq-1\\|pm25\\|high' on the topic"):
        decode_state(state_topic(PREFIX, "aq-2|pm25|high"), payload, PREFIX)
    with pytest.raises(SharingError, match="not an alarm-state topic under cityops/yiyang"):
        decode_state(f"{PREFIX}/actions/acct-a/ws-a", payload, PREFIX)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"ack": action("comment", id="c")}, "'ack' holds a 'comment' action"),
        ({"shelving": action("ack", id="k")}, "'shelving' holds a 'ack' action"),
        ({"ack": action("ack", alarm="aq-2|pm25|high")}, "'ack' holds an action on another"),
        ({"ack": action("ack", occurrence=RAISED + 60)}, "'ack' holds an action on another"),
        ({"comments": [action("assign", id="g")]}, "'comments' holds a 'assign' action"),
    ],
)
def test_a_state_with_a_misplaced_action_is_refused(change: dict[str, Any], reason: str) -> None:
    state = SharedState(ALARM, RAISED)
    for slot, value in change.items():
        setattr(state, slot, value)
    with pytest.raises(SharingError, match=reason):
        decode_state(state_topic(PREFIX, ALARM), encode_state(state).encode(), PREFIX)


def test_a_state_part_with_a_bad_field_names_its_slot() -> None:
    data = json.loads(encode_state(SharedState(ALARM, RAISED, ack=action("ack"))))
    data["ack"]["user"] = ""
    with pytest.raises(SharingError, match="'ack': 'user' must be a non-empty string"):
        decode_state(state_topic(PREFIX, ALARM), json.dumps(data).encode(), PREFIX)
    data["ack"] = "li.wei"
    with pytest.raises(SharingError, match="'ack' must hold JSON objects"):
        decode_state(state_topic(PREFIX, ALARM), json.dumps(data).encode(), PREFIX)
    data["ack"], data["comments"] = None, {"c": 1}
    with pytest.raises(SharingError, match="'comments' must be a list"):
        decode_state(state_topic(PREFIX, ALARM), json.dumps(data).encode(), PREFIX)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("acct-a", "acct-a"),
        ("li.wei_2~x", "li.wei_2~x"),
        ("a/b", "a%2Fb"),
        ("a+b", "a%2Bb"),
        ("a#b", "a%23b"),
        ("100%", "100%25"),
        ("%2F", "%252F"),
        ("nul\x00", "nul%00"),
    ],
)
def test_topic_level_escapes_what_would_change_the_topic(text: str, level: str) -> None:
    assert topic_level(text) == level
    assert not any(c in topic_level(text) for c in "/+#\x00")


def test_topic_level_never_maps_two_names_to_one_level() -> None:
    names = ["a/b", "a%2Fb", "a%252Fb", "a+b", "a%2Bb", "x%", "x%25", "x"]
    assert len({topic_level(name) for name in names}) == len(names)


def test_a_workstation_subscribes_to_actions_and_states_under_its_prefix() -> None:
    assert subscriptions(PREFIX) == (f"{PREFIX}/actions/+/+", f"{PREFIX}/alarm-state/+")
