"""The ingest worker's side of sharing: this workstation's actions out, everyone's in.

Outgoing: each alarm an operator command changed becomes one :class:`SharedAction`, stored
in the cache's outbox in the same transaction as the action (so an action taken offline
goes out on reconnect, even after a restart), then handed to the channel together with the
alarm's merged state (retained). Incoming: messages of the ``sharing`` pseudo-feed are
checked (topic against payload, role against kind, shelving limits), recorded once in the
audit trail (by action id) and merged (:mod:`services.sharing.merge`); whatever cannot be
used is dead-lettered with the reason. Runs on the ingest worker only.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.alarms.store import AlarmStore
from services.auth.roles import Role
from services.incidents.payload import PAYLOAD_KIND as INCIDENT_KIND
from services.model import Alarm, OperatorAction
from services.sharing.merge import SharingBook, check_allowed, shelve_problem
from services.sharing.protocol import (
    APPLIED_KINDS,
    SharedAction,
    SharedState,
    SharingError,
    action_topic,
    decode_state,
    encode_action,
    encode_state,
    load_action_body,
    new_action_id,
    parse_action,
    state_topic,
)
from services.store.cache import CacheError, OfflineCache, OutboxMessage

log = logging.getLogger(__name__)

Publish = Callable[[Sequence[tuple[str, str, bytes, bool]]], None]
"""Hands (key, topic, payload, retain) messages to the broker connection."""
RECENT_IDS = 10_000
STATE_KEY = "state:"


@dataclass(frozen=True, slots=True)
class SharingIdentity:
    """Where this workstation publishes: the topic prefix, its broker user and its name."""

    prefix: str
    account: str
    workstation: str
    account_roles: Mapping[str, str] | None = None
    """``[sharing] accounts``: the highest role each broker account may act with (None:
    the role an action claims is believed)."""

    def role_problem(self, account: str, role: str) -> str:
        """Why ``account`` may not act as ``role`` ("" when it may)."""
        if self.account_roles is None:
            return ""
        highest = self.account_roles.get(account, Role.OPERATOR.value)
        try:
            if Role.parse(role).rank <= Role.parse(highest).rank:
                return ""
        except ValueError as error:
            return str(error)
        return (
            f"broker account {account!r} may act as {highest} at most ([sharing] accounts),"
            f" not as {role}; ignored"
        )


@dataclass(slots=True)
class Received:
    """What a batch of shared messages did."""

    changed: list[Alarm] = field(default_factory=list)
    audit: list[OperatorAction] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    """(index of the message in the batch, why it was refused)."""
    incidents: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """Incident changes (index of the message, its JSON object), checked against their
    topic, for the incident desk."""


class SharingDesk:
    """Shares this workstation's operator actions and merges the others'."""

    def __init__(
        self,
        alarms: AlarmStore,
        cache: OfflineCache | None,
        identity: SharingIdentity,
        publish: Publish,
    ) -> None:
        self.identity = identity
        self.book = SharingBook(alarms)
        self._alarms = alarms
        self._cache = cache
        self._publish = publish
        self._recent: deque[str] = deque(maxlen=RECENT_IDS)
        self._recent_set: set[str] = set()

    # -- outgoing ------------------------------------------------------------------------
    def resume(self) -> None:
        """Send what the cache's outbox still holds (actions taken while offline), and take
        note of the comments the restored alarms have counted already."""
        if self._cache is None:
            return
        try:
            waiting = self._cache.outbox()
            commented = [alarm.raised_at for alarm in self._alarms.alarms() if alarm.comments]
            if commented:  # only their comments, not every action since the oldest alarm
                since = min(commented) - 1.0
                self.book.restore_counted(self._cache.query_actions(since, kind="comment"))
        except CacheError as error:
            log.warning("sharing: the outbox or the actions could not be read: %s", error)
            return
        if not waiting:
            return
        log.info("sharing: %d actions taken offline are sent now", len(waiting))
        touched: list[str] = []
        for _key, _topic, payload in waiting:
            try:
                body = json.loads(payload)
                if body.get("kind") == INCIDENT_KIND:
                    continue
                action = parse_action(body)
            except (ValueError, SharingError) as error:
                log.warning("sharing: an outbox entry cannot be read back: %s", error)
                continue
            self._remember(action.id)
            self.book.record_local(action, action.ts)  # so the retained state has it too
            touched.append(action.alarm)
        self.send(waiting, touched)

    def outgoing(
        self,
        kind: str,
        changed: Sequence[Alarm],
        who: tuple[str, str],
        now: float,
        *,
        note: str = "",
        until: float | None = None,
        assignee: str = "",
    ) -> list[SharedAction]:
        """The shared actions for a local command that changed ``changed``; ``who`` is the
        (user, role). Kinds the other workstations would not apply are not shared. Nothing
        is recorded until :meth:`committed` (the command may still fail to be stored)."""
        if kind not in APPLIED_KINDS:
            return []
        user, role = who
        actions = []
        for alarm in changed:
            ts = self.book.action_time(kind, alarm, now)
            action = SharedAction(
                id=new_action_id(),
                kind=kind,
                alarm=alarm.id,
                occurrence=alarm.raised_at,
                user=user,
                workstation=self.identity.workstation,
                account=self.identity.account,
                role=role,
                ts=ts,
                note=note,
                until=None if until is None else until + (ts - now),
                assignee=assignee,
            )
            self._remember(action.id)
            actions.append(action)
        return actions

    def committed(self, actions: Iterable[SharedAction], now: float) -> list[Alarm]:
        """Local actions are stored: put them in the shared state; returns the alarms that
        changed further (when actions held were newer, e.g. with this clock behind)."""
        changed: dict[str, Alarm] = {}
        for action in actions:
            changed.update((alarm.id, alarm) for alarm in self.book.record_local(action, now))
        return list(changed.values())

    def incident_rows(self, payloads: Sequence[Mapping[str, Any]]) -> list[OutboxMessage]:
        """Outbox rows for incident changes (from the incident desk, which stores them with
        the change and then hands them to :meth:`send`), under this workstation's topic."""
        topic = action_topic(self.identity.prefix, self.identity.account, self.identity.workstation)
        rows: list[OutboxMessage] = []
        for payload in payloads:
            body = {
                **payload,
                "account": self.identity.account,
                "workstation": self.identity.workstation,
            }
            key = str(body.get("id") or new_action_id())
            self._remember(key)
            rows.append((key, topic, json.dumps(body, ensure_ascii=False, separators=(",", ":"))))
        return rows

    def outbox_rows(self, actions: Iterable[SharedAction]) -> list[OutboxMessage]:
        topic = action_topic(self.identity.prefix, self.identity.account, self.identity.workstation)
        return [(action.id, topic, encode_action(action)) for action in actions]

    def send(self, rows: Sequence[OutboxMessage], alarm_ids: Iterable[str]) -> None:
        """Publish stored actions and the merged state of the alarms they touched."""
        messages = [(key, topic, payload.encode(), False) for key, topic, payload in rows]
        self._publish(messages + self._states(alarm_ids))

    def _states(self, alarm_ids: Iterable[str]) -> list[tuple[str, str, bytes, bool]]:
        messages = []
        for alarm_id in dict.fromkeys(alarm_ids):
            state = self.book.state(alarm_id)
            if state is not None:
                topic = state_topic(self.identity.prefix, alarm_id)
                messages.append((STATE_KEY + alarm_id, topic, encode_state(state).encode(), True))
        return messages

    def sent(self, keys: Iterable[str]) -> None:
        """The broker has taken these messages: forget the stored actions among them."""
        actions = [key for key in keys if not key.startswith(STATE_KEY)]
        if actions and self._cache is not None:
            try:
                self._cache.drop_outbox(actions)
            except CacheError as error:  # they go out again after a restart: harmless
                log.warning("sharing: sent actions not removed from the outbox: %s", error)

    # -- incoming ------------------------------------------------------------------------
    def receive(
        self, messages: Sequence[tuple[str, bytes]], raised: Sequence[Alarm], now: float
    ) -> Received:
        """Check and merge (topic, payload) messages of the sharing pseudo-feed, then apply
        actions that waited for the occurrences in ``raised``."""
        result = Received()
        direct: list[SharedAction] = []
        states: list[SharedState] = []
        for index, (topic, payload) in enumerate(messages):
            if not payload:
                continue  # a retained state being cleared
            try:
                state = None
                if topic.startswith(f"{self.identity.prefix}/alarm-state/"):
                    state = decode_state(topic, payload, self.identity.prefix)
                    parts = state.actions()
                else:
                    body = load_action_body(topic, payload, self.identity.prefix)
                    if body.get("kind") == INCIDENT_KIND:
                        problem = self.identity.role_problem(
                            str(body.get("account")), str(body.get("role", "operator"))
                        )
                        if problem:
                            raise SharingError(problem)
                        result.incidents.append((index, body))
                        continue
                    parts = [parse_action(body)]
                for action in parts:
                    check_allowed(action)
                    problem = self.identity.role_problem(action.account, action.role)
                    if problem:
                        raise SharingError(problem)
                    problem = shelve_problem(action, self._alarms.get(action.alarm))
                    if problem:
                        raise SharingError(problem)
            except SharingError as error:
                result.rejected.append((index, str(error)))
                continue
            if state is None:
                direct.extend(parts)
            else:
                states.append(state)
        fresh = self._new([*direct, *(a for state in states for a in state.actions())])
        result.audit = [_audit_entry(action) for action in fresh]
        changed: dict[str, Alarm] = {}
        republish: set[str] = set()
        for alarm in self.book.merge(direct, now):
            changed[alarm.id] = alarm
        for state in states:
            outcome = self.book.merge_state(state, now)
            changed.update((alarm.id, alarm) for alarm in outcome.changed)
            republish |= outcome.republish
        if raised:
            changed.update((alarm.id, alarm) for alarm in self.book.raised(raised, now))
        result.changed = list(changed.values())
        if republish:
            self._publish(self._states(republish))
        return result

    def _new(self, actions: Sequence[SharedAction]) -> list[SharedAction]:
        """The actions not recorded here before (by id), each once."""
        candidates = {a.id: a for a in actions if a.id not in self._recent_set}
        if candidates and self._cache is not None:
            try:
                for known in self._cache.known_action_ids(candidates):
                    candidates.pop(known, None)
            except CacheError as error:
                log.warning("sharing: known actions not looked up: %s", error)
        for key in candidates:
            self._remember(key)
        return list(candidates.values())

    def _remember(self, key: str) -> None:
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(key)
        self._recent_set.add(key)


def _audit_entry(action: SharedAction) -> OperatorAction:
    text = action.note
    if action.kind == "assign":
        text = f"{action.assignee}: {action.note}" if action.note else action.assignee
    return OperatorAction(
        action.alarm, action.kind, action.user, action.ts, text, action.workstation, action.id
    )
