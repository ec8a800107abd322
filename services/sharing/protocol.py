"""The wire format of operator actions shared between workstations through the broker.

Each action is one JSON object published with QoS 1 to
``<prefix>/actions/<broker user>/<workstation>``; the merged operator state of each alarm's
current occurrence is kept retained under ``<prefix>/alarm-state/<alarm id>`` (the id
percent-encoded into one topic level). The README documents both for other systems.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from services.limits import (
    MAX_NOTE_CHARS,
    MAX_PAYLOAD_BYTES,
    MAX_SHARED_COMMENTS,
    payload_too_large,
)
from services.timeutil import finite_number

KINDS = (
    "ack",
    "shelve",
    "unshelve",
    "comment",
    "assign",
    "out_of_service",
    "in_service",
    "incident",
)
"""Every kind of shared action the format names."""
APPLIED_KINDS = frozenset(
    {"ack", "shelve", "unshelve", "comment", "assign", "out_of_service", "in_service"}
)
"""The kinds this version applies to its alarms; others are refused as not supported yet."""
SHARING_FEED = "sharing"
"""The pseudo-feed shared actions arrive on (its health and dead letters show like a feed's)."""
ANONYMOUS_ACCOUNT = "anonymous"
"""The topic level used for the broker user when the broker has no user name."""
_TOPIC_UNSAFE = "/+#\x00"


class SharingError(ValueError):
    """A shared message that cannot be used; the text says why."""


@dataclass(frozen=True, slots=True)
class SharedAction:
    """One operator action on one alarm occurrence, as published."""

    id: str
    kind: str
    alarm: str
    occurrence: float
    """The raise time (epoch seconds) of the occurrence acted on."""
    user: str
    workstation: str
    account: str
    """The broker user it was published as (the topic level)."""
    role: str
    ts: float
    note: str = ""
    until: float | None = None
    """For ``shelve``: epoch seconds it ends, or None for until the alarm clears."""
    assignee: str = ""

    def key(self) -> tuple[float, str]:
        """The order in which actions of one slot (shelving, assignment) win: newest last."""
        return (self.ts, self.id)


@dataclass(slots=True)
class SharedState:
    """The merged operator state of one alarm occurrence: its acknowledgement, its latest
    shelving change and assignment, and its comments (newest last)."""

    alarm: str
    occurrence: float
    ack: SharedAction | None = None
    shelving: SharedAction | None = None
    assignment: SharedAction | None = None
    service: SharedAction | None = None
    """The newest out-of-service or in-service action."""
    comments: list[SharedAction] = field(default_factory=list)

    def actions(self) -> list[SharedAction]:
        parts = [self.ack, self.shelving, self.assignment, self.service, *self.comments]
        return [part for part in parts if part is not None]


def new_action_id() -> str:
    return uuid.uuid4().hex


def topic_level(text: str) -> str:
    """``text`` as one MQTT topic level (``/``, ``+``, ``#`` and ``%`` percent-encoded)."""
    return quote(text, safe="") if any(c in text for c in _TOPIC_UNSAFE + "%") else text


def action_topic(prefix: str, account: str, workstation: str) -> str:
    return f"{prefix}/actions/{topic_level(account)}/{topic_level(workstation)}"


def state_topic(prefix: str, alarm: str) -> str:
    return f"{prefix}/alarm-state/{quote(alarm, safe='')}"


def subscriptions(prefix: str) -> tuple[str, str]:
    """The topic filters a workstation subscribes to."""
    return (f"{prefix}/actions/+/+", f"{prefix}/alarm-state/+")


def _action_json(action: SharedAction) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": action.id,
        "kind": action.kind,
        "alarm": action.alarm,
        "occurrence": action.occurrence,
        "user": action.user,
        "workstation": action.workstation,
        "account": action.account,
        "role": action.role,
        "ts": action.ts,
    }
    if action.note:
        body["note"] = action.note
    if action.kind == "shelve":
        body["until"] = action.until
    if action.kind == "assign":
        body["assignee"] = action.assignee
    return body


def encode_action(action: SharedAction) -> str:
    return json.dumps(_action_json(action), ensure_ascii=False, separators=(",", ":"))


def encode_state(state: SharedState) -> str:
    body = {
        "alarm": state.alarm,
        "occurrence": state.occurrence,
        "ack": _action_json(state.ack) if state.ack else None,
        "shelving": _action_json(state.shelving) if state.shelving else None,
        "assignment": _action_json(state.assignment) if state.assignment else None,
        "service": _action_json(state.service) if state.service else None,
        "comments": [_action_json(c) for c in state.comments[-MAX_SHARED_COMMENTS:]],
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _load(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise SharingError(payload_too_large(len(payload)))
    try:
        body = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise SharingError("not UTF-8 text") from None
    except ValueError as error:
        raise SharingError(f"not JSON: {error}") from None
    except RecursionError:
        raise SharingError("not JSON: nested too deeply") from None
    if not isinstance(body, dict):
        raise SharingError(f"expected a JSON object, got {type(body).__name__}")
    return body


def _text(body: dict[str, Any], key: str, *, required: bool = True, limit: int = 200) -> str:
    value = body.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()):
        what = "a non-empty string" if required else "a string"
        raise SharingError(f"'{key}' must be {what}, got {value!r:.60}")
    if len(value) > limit:
        raise SharingError(f"'{key}' is longer than {limit} characters")
    return value


def _time(body: dict[str, Any], key: str) -> float:
    value = body.get(key)
    if not finite_number(value):
        raise SharingError(f"'{key}' must be epoch seconds, got {value!r:.60}")
    if value < 0:
        raise SharingError(f"'{key}' must not be negative")
    return float(value)


def parse_action(body: dict[str, Any]) -> SharedAction:
    """A :class:`SharedAction` from its JSON object; SharingError naming the bad field."""
    kind = _text(body, "kind")
    if kind not in KINDS:
        raise SharingError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    until: float | None = None
    if kind == "shelve":
        if "until" not in body:
            raise SharingError("a shelve needs 'until' (epoch seconds, or null: until it clears)")
        until = None if body["until"] is None else _time(body, "until")
        if until is not None and until <= _time(body, "ts"):
            raise SharingError(
                f"'until' ({until:.0f}) is before the action's time: a shelve must end later"
            )
    assignee = _text(body, "assignee", required=False) if kind == "assign" else ""
    return SharedAction(
        id=_text(body, "id", limit=100),
        kind=kind,
        alarm=_text(body, "alarm", limit=1000),
        occurrence=_time(body, "occurrence"),
        user=_text(body, "user"),
        workstation=_text(body, "workstation"),
        account=_text(body, "account"),
        role=_text(body, "role", required=False) or "operator",
        ts=_time(body, "ts"),
        note=_text(body, "note", required=False, limit=MAX_NOTE_CHARS),
        until=until,
        assignee=assignee,
    )


def load_action_body(topic: str, payload: bytes, prefix: str) -> dict[str, Any]:
    """The JSON object published on an action topic, checked against the topic: the broker
    user (``account``) and ``workstation`` the payload claims must be the topic's (a broker
    ACL lets each account write only under its own name, so the topic is what can be
    trusted). Alarm actions and incident changes (``kind`` "incident") alike."""
    levels = topic[len(prefix) + 1 :].split("/") if topic.startswith(prefix + "/") else []
    if len(levels) != 3 or levels[0] != "actions":
        raise SharingError(f"not an action topic under {prefix}/actions/<user>/<workstation>")
    body = _load(payload)
    account = _text(body, "account")
    workstation = _text(body, "workstation")
    # Compared as topic levels: decoding the topic's levels instead would let a broker user
    # literally named "acct%2Da" (whom the ACL lets write under that level) pass for "acct-a".
    if topic_level(account) != levels[1]:
        raise SharingError(
            f"published by broker user {levels[1]!r} (topic level) but claims to be from"
            f" {account!r}; ignored"
        )
    if topic_level(workstation) != levels[2]:
        raise SharingError(
            f"published under workstation {levels[2]!r} (topic level) but claims"
            f" {workstation!r}; ignored"
        )
    return body


def decode_action(topic: str, payload: bytes, prefix: str) -> SharedAction:
    """The alarm action published on ``topic`` (see :func:`load_action_body`)."""
    return parse_action(load_action_body(topic, payload, prefix))


def decode_state(topic: str, payload: bytes, prefix: str) -> SharedState:
    """The retained operator state on ``topic``; SharingError naming the bad field."""
    head = f"{prefix}/alarm-state/"
    if not topic.startswith(head):
        raise SharingError(f"not an alarm-state topic under {head}")
    body = _load(payload)
    alarm = _text(body, "alarm", limit=1000)
    if quote(alarm, safe="") != topic[len(head) :]:
        raise SharingError(f"the state of alarm {alarm!r} on the topic of another alarm")
    occurrence = _time(body, "occurrence")
    state = SharedState(alarm, occurrence)
    for slot, kinds in (
        ("ack", {"ack"}),
        ("shelving", {"shelve", "unshelve"}),
        ("assignment", {"assign"}),
        ("service", {"out_of_service", "in_service"}),
    ):
        part = body.get(slot)
        if part is None:
            continue
        action = _part(part, slot, alarm, occurrence)
        if action.kind not in kinds:
            raise SharingError(f"'{slot}' holds a {action.kind!r} action")
        setattr(state, slot, action)
    comments = body.get("comments", [])
    if not isinstance(comments, list):
        raise SharingError("'comments' must be a list")
    for part in comments[-MAX_SHARED_COMMENTS:]:
        action = _part(part, "comments", alarm, occurrence)
        if action.kind != "comment":
            raise SharingError(f"'comments' holds a {action.kind!r} action")
        state.comments.append(action)
    return state


def _part(part: object, slot: str, alarm: str, occurrence: float) -> SharedAction:
    if not isinstance(part, dict):
        raise SharingError(f"'{slot}' must hold JSON objects")
    try:
        action = parse_action(part)
    except SharingError as error:
        raise SharingError(f"'{slot}': {error}") from None
    if action.alarm != alarm or action.occurrence != occurrence:
        raise SharingError(f"'{slot}' holds an action on another alarm or occurrence")
    return action
