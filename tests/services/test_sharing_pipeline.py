"""Shared operator actions through the ingest pipeline (no worker thread, a real offline
cache): what a local action publishes and stores, what a received one changes and audits,
and what is dead-lettered on the ``sharing`` pseudo-feed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from services.auth.roles import Principal, Role
from services.config import AppConfig, FeedConfig, RuleConfig
from services.ingest.pipeline import IngestPipeline
from services.ingest.sharing_desk import SharingIdentity
from services.messages import OutboxSent, RawMessage
from services.model import Alarm, AlarmState, Condition, alarm_id
from services.sharing.protocol import (
    SHARING_FEED,
    SharedAction,
    action_topic,
    decode_action,
    decode_state,
    encode_action,
    state_topic,
)
from services.store.cache import CacheError, OfflineCache

PREFIX = "cityops/yiyang"
ME = SharingIdentity(PREFIX, "acct-a", "ws-a")
OPS = Principal("li.wei", Role.OPERATOR, "ws-a")
KEY = "aq-1|pm25|high"
T0 = 1_700_000_000.0
CONFIG = AppConfig(
    source="test",
    feeds=(FeedConfig(name="air", topic="yiyang/env/air/#", domain="environment"),),
    rules=(RuleConfig(metric="pm25", high=75, high_high=150, no_data_after=600.0),),
)
Message = tuple[str, str, bytes, bool]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Workstation:
    """A pipeline on a cache folder, sharing through a publish call that records."""

    def __init__(
        self,
        folder: Path,
        clock: Clock,
        *,
        raise_alarm: bool = True,
        identity: SharingIdentity = ME,
        config: AppConfig = CONFIG,
    ) -> None:
        self.cache = OfflineCache(folder)
        self.pipeline = IngestPipeline(config, self.cache, clock=clock, flush_interval=0.0)
        self.pipeline.restore_from_cache()
        self.published: list[Message] = []
        self.desk = self.pipeline.attach_sharing(identity, self.record)
        if raise_alarm and self.pipeline.alarms.get(KEY) is None:
            self.reading(90.0, T0)
        self.pipeline.take_delta()

    def record(self, messages: Sequence[Message]) -> None:
        self.published.extend(messages)

    def reading(self, value: float, ts: float) -> None:
        payload = json.dumps({"id": "aq-1", "pm25": value, "ts": ts}).encode()
        self.pipeline.process_batch([RawMessage("air", "yiyang/env/air/aq-1", payload, ts)])

    def receive(self, topic: str, payload: bytes, *, retained: bool = False) -> None:
        self.pipeline.process_batch([RawMessage(SHARING_FEED, topic, payload, T0, retained)])

    def alarm(self) -> Alarm:
        alarm = self.pipeline.alarms.get(KEY)
        assert alarm is not None
        return alarm

    def close(self) -> None:
        self.pipeline.stop()
        self.cache.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + 60)


@pytest.fixture
def station(cache_dir: Path, clock: Clock) -> Iterator[Workstation]:
    workstation = Workstation(cache_dir, clock)
    yield workstation
    workstation.close()


def theirs(kind: str, key: str, ts: float, **fields: object) -> SharedAction:
    """An action of op-b at ws-b (broker user acct-b) on the occurrence raised at T0."""
    values: dict[str, object] = {
        "id": key,
        "kind": kind,
        "alarm": KEY,
        "occurrence": T0,
        "user": "op-b",
        "workstation": "ws-b",
        "account": "acct-b",
        "role": "operator",
        "ts": ts,
    }
    values.update(fields)
    return SharedAction(**values)  # type: ignore[arg-type]


def their_topic(account: str = "acct-b", workstation: str = "ws-b") -> str:
    return action_topic(PREFIX, account, workstation)


def test_a_local_ack_publishes_its_action_and_the_state_and_keeps_it_in_the_outbox(
    station: Workstation, clock: Clock
) -> None:
    result = station.pipeline.acknowledge([KEY], OPS, "pump checked").wait(1)
    assert result is not None and result.changed == (KEY,) and not result.error
    (action_message, state_message) = station.published
    key, topic, payload, retain = action_message
    assert (topic, retain) == (f"{PREFIX}/actions/acct-a/ws-a", False)
    action = decode_action(topic, payload, PREFIX)
    assert key == action.id
    assert (action.kind, action.alarm, action.occurrence, action.user, action.ts) == (
        "ack", KEY, T0, "li.wei", clock.now,
    )  # fmt: skip
    assert (action.workstation, action.account, action.role, action.note) == (
        "ws-a", "acct-a", "operator", "pump checked",
    )  # fmt: skip
    key, topic, payload, retain = state_message
    assert (key, topic, retain) == (f"state:{KEY}", state_topic(PREFIX, KEY), True)
    state = decode_state(topic, payload, PREFIX)
    assert state.ack == action and state.occurrence == T0
    assert station.cache.outbox() == [(action.id, action_message[1], action_message[2].decode())]
    (stored,) = station.cache.query_actions()
    assert (stored.action, stored.user, stored.action_id) == ("ack", "li.wei", action.id)

    station.pipeline.process_batch([OutboxSent((action.id, f"state:{KEY}"))])
    assert station.cache.outbox() == []


def test_an_action_not_sent_before_a_restart_is_sent_on_attach(
    cache_dir: Path, clock: Clock
) -> None:
    first = Workstation(cache_dir, clock)
    first.pipeline.comment([KEY], OPS, "crew on the way").wait(1)
    (sent, _state) = first.published
    first.close()  # the broker never took it

    again = Workstation(cache_dir, clock)
    try:
        assert again.published[0] == (sent[0], sent[1], sent[2], False)
        # ... and the retained state carries it, so a late starter catches up with it
        (state,) = again.published[1:]
        assert state[1] == state_topic(PREFIX, KEY) and state[3]
        assert sent[0] in {a.id for a in decode_state(state[1], state[2], PREFIX).actions()}
        assert again.cache.outbox() == [(sent[0], sent[1], sent[2].decode())]
        assert again.alarm().comments == 1
        again.pipeline.process_batch([OutboxSent((sent[0],))])
        assert again.cache.outbox() == []
    finally:
        again.close()


def test_a_received_action_changes_the_alarm_and_is_audited_once(
    station: Workstation, clock: Clock
) -> None:
    ack = theirs("ack", "b-ack-1", T0 + 30, note="seen on camera")
    payload = encode_action(ack).encode()
    station.receive(their_topic(), payload)
    delta = station.pipeline.take_delta()
    assert delta.alarms[KEY].state is AlarmState.ACKNOWLEDGED
    alarm = station.alarm()
    assert (alarm.state, alarm.acked_by, alarm.acked_at) == (
        AlarmState.ACKNOWLEDGED, "op-b", T0 + 30,
    )  # fmt: skip
    assert not delta.dead_letters
    station.receive(their_topic(), payload)  # a QoS 1 redelivery
    station.receive(their_topic(), payload)
    (stored,) = station.cache.query_actions()
    assert (stored.action, stored.user, stored.workstation, stored.action_id, stored.comment) == (
        "ack", "op-b", "ws-b", "b-ack-1", "seen on camera",
    )  # fmt: skip
    report = station.cache.verify_audit()
    assert report.intact and (report.entries, report.head_seq) == (1, 1)
    (entry,) = station.cache.audit_entries()
    assert (entry.kind, entry.user, entry.workstation, entry.note) == (
        "ack", "op-b", "ws-b", "seen on camera",
    )  # fmt: skip
    station.pipeline.flush_cache(force=True)
    (cached,) = [a for a in station.cache.query_alarms() if a.id == KEY]
    assert (cached.state, cached.acked_by) == (AlarmState.ACKNOWLEDGED, "op-b")
    assert station.published == [], "nothing of ours to publish"


def test_a_redelivery_after_a_restart_is_not_audited_again(cache_dir: Path, clock: Clock) -> None:
    first = Workstation(cache_dir, clock)
    payload = encode_action(theirs("comment", "b-c1", T0 + 30, note="x")).encode()
    first.receive(their_topic(), payload)
    first.close()
    again = Workstation(cache_dir, clock)
    try:
        again.receive(their_topic(), payload)
        assert len(again.cache.query_actions()) == 1
        assert again.cache.verify_audit().entries == 1
        assert again.alarm().comments == 1
    finally:
        again.close()


def test_our_retained_state_after_a_restart_counts_no_comment_twice(
    cache_dir: Path, clock: Clock
) -> None:
    first = Workstation(cache_dir, clock)
    first.pipeline.comment([KEY], OPS, "crew on the way").wait(1)
    first.receive(their_topic(), encode_action(theirs("comment", "b-c1", T0 + 40)).encode())
    first.pipeline.assign([KEY], OPS, "zhang.min").wait(1)
    *_, (_key, topic, retained, _retain) = first.published
    first.pipeline.flush_cache(force=True)
    assert first.alarm().comments == 2
    first.close()
    again = Workstation(cache_dir, clock)
    try:
        again.receive(topic, retained, retained=True)
        alarm = again.alarm()
        assert (alarm.comments, alarm.assignee) == (2, "zhang.min")
        assert not again.pipeline.take_delta().dead_letters
        report = again.cache.verify_audit()
        assert report.intact and report.entries == 3, "two of ours and one received"
    finally:
        again.close()


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (
            their_topic("acct-c"),
            encode_action(theirs("ack", "forged", T0 + 30)).encode(),
            "published by broker user 'acct-c' (topic level) but claims to be from 'acct-b'",
        ),
        (
            their_topic(),
            encode_action(theirs("ack", "viewer", T0 + 30, role="viewer")).encode(),
            "op-b (viewer) may not acknowledge alarms",
        ),
        (
            their_topic(),
            encode_action(
                theirs("shelve", "long", T0 + 30, until=T0 + 30 + 9 * 3600.0, note="all night")
            ).encode(),
            f"shelves {KEY} for 540 min, over its priority's limit of 480 min; ignored",
        ),
        (their_topic(), b"\x00\xff\xfegarbage", "not UTF-8 text"),
        (their_topic(), b"{garbage", "not JSON"),
        (
            state_topic(PREFIX, KEY),
            json.dumps(
                {
                    "alarm": KEY,
                    "occurrence": T0,
                    "ack": json.loads(encode_action(theirs("ack", "v", T0 + 5, role="viewer"))),
                }
            ).encode(),
            "op-b (viewer) may not acknowledge alarms",
        ),
        (
            f"{PREFIX}/alarm-state/aq-2%7Cpm25%7Chigh",
            json.dumps({"alarm": KEY, "occurrence": T0}).encode(),
            f"the state of alarm '{KEY}' on the topic of another alarm",
        ),
    ],
    ids=["forged-user", "viewer", "too-long-shelve", "bytes", "not-json", "viewer-state", "moved"],
)
def test_what_cannot_be_used_is_dead_lettered_and_changes_nothing(
    station: Workstation, topic: str, payload: bytes, reason: str
) -> None:
    before = station.alarm()
    station.receive(topic, payload)
    delta = station.pipeline.take_delta()
    (letter,) = delta.dead_letters[SHARING_FEED]
    assert letter.topic == topic and letter.reason.startswith(reason)
    health = delta.feeds[SHARING_FEED]
    assert (health.messages, health.errors) == (1, 1)
    assert KEY not in delta.alarms
    assert station.alarm() == before
    assert station.cache.query_actions() == []
    assert station.cache.verify_audit().entries == 0
    assert station.published == []


def test_our_own_echo_changes_nothing(station: Workstation) -> None:
    station.pipeline.shelve([KEY], OPS, 600.0, "pump maintenance").wait(1)
    station.pipeline.comment([KEY], OPS, "crew on the way").wait(1)
    before = station.alarm()
    actions = [message for message in station.published if not message[3]]
    latest_state = station.published[-1]
    assert latest_state[3] and len(actions) == 2
    station.published.clear()
    station.pipeline.take_delta()
    for _key, topic, payload, retained in [*actions, latest_state]:
        station.receive(topic, payload, retained=retained)
    delta = station.pipeline.take_delta()
    assert not delta.dead_letters and KEY not in delta.alarms
    assert station.alarm() == before
    assert (before.state, before.comments) == (AlarmState.SHELVED, 1)
    assert len(station.cache.query_actions()) == 2
    assert station.published == [], "the echoed state is ours: nothing to republish"


def test_a_poorer_retained_state_is_answered_with_ours(station: Workstation) -> None:
    station.pipeline.comment([KEY], OPS, "crew on the way").wait(1)
    station.published.clear()
    older = json.dumps({"alarm": KEY, "occurrence": T0, "comments": []}).encode()
    station.receive(state_topic(PREFIX, KEY), older, retained=True)
    ((key, topic, payload, retain),) = station.published
    assert (key, topic, retain) == (f"state:{KEY}", state_topic(PREFIX, KEY), True)
    assert [c.note for c in decode_state(topic, payload, PREFIX).comments] == ["crew on the way"]


def test_an_action_waiting_for_a_no_data_alarm_applies_when_housekeeping_raises_it(
    station: Workstation, clock: Clock
) -> None:
    silent = alarm_id("aq-1", "pm25", Condition.NO_DATA)
    raised_at = T0 + 600.0  # the last reading's time plus no_data_after: the same everywhere
    ack = theirs("ack", "b-nd", raised_at + 5, alarm=silent, occurrence=raised_at)
    station.receive(their_topic(), encode_action(ack).encode())
    assert station.pipeline.alarms.get(silent) is None and station.desk.book.pending == 1
    clock.now = T0 + 700.0
    station.pipeline.housekeeping(force=True)
    alarm = station.pipeline.alarms.get(silent)
    assert alarm is not None and alarm.raised_at == raised_at
    assert (alarm.state, alarm.acked_by) == (AlarmState.ACKNOWLEDGED, "op-b")
    delta = station.pipeline.take_delta()
    assert delta.alarms[silent].state is AlarmState.ACKNOWLEDGED


def test_an_action_that_could_not_be_stored_is_neither_shared_nor_held(
    station: Workstation, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_args: object, **_kwargs: object) -> None:
        raise CacheError("disk full")

    monkeypatch.setattr(station.cache, "record_actions", full)
    result = station.pipeline.acknowledge([KEY], OPS).wait(1)
    assert result is not None and result.error == "disk full"
    assert station.alarm().state is AlarmState.UNACKNOWLEDGED
    assert station.published == []
    assert station.desk.book.state(KEY) is None, "no action that never happened is shared"


def test_a_workstation_whose_clock_is_behind_still_agrees_with_the_others(
    tmp_path: Path,
) -> None:
    ahead, behind = Clock(T0 + 120), Clock(T0 + 100)
    b = Workstation(tmp_path / "b", ahead, identity=SharingIdentity(PREFIX, "acct-b", "ws-b"))
    a = Workstation(tmp_path / "a", behind)
    try:
        ops_b = Principal("op-b", Role.OPERATOR, "ws-b")
        ahead.now = T0 + 110
        b.pipeline.shelve([KEY], ops_b, 600.0, "flushing").wait(1)
        ahead.now = T0 + 120
        b.pipeline.unshelve([KEY], ops_b).wait(1)
        for _key, topic, payload, retained in b.published:
            a.receive(topic, payload, retained=retained)
        b.published.clear()
        assert a.alarm().state is AlarmState.UNACKNOWLEDGED
        # op-a, having seen the unshelve, shelves it again, on a clock 20 s behind
        assert a.pipeline.shelve([KEY], OPS, 900.0, "again").wait(1).changed == (KEY,)
        for _key, topic, payload, retained in a.published:
            b.receive(topic, payload, retained=retained)
        shelve = decode_action(a.published[0][1], a.published[0][2], PREFIX)
        assert shelve.ts == pytest.approx(T0 + 120.001) and shelve.until == pytest.approx(
            T0 + 120.001 + 900.0
        )
        views = [
            (x.state, x.shelved_by, x.shelved_until, x.shelve_note, x.acked_by)
            for x in (a.alarm(), b.alarm())
        ]
        assert views[0] == views[1]
        assert views[0][:2] == (AlarmState.SHELVED, "li.wei")
    finally:
        a.close()
        b.close()


def test_an_incident_opened_on_one_workstation_reaches_another_once(tmp_path: Path) -> None:
    clock = Clock(T0 + 60)
    a = Workstation(tmp_path / "a", clock)
    b = Workstation(tmp_path / "b", clock, identity=SharingIdentity(PREFIX, "acct-b", "ws-b"))
    try:
        result = a.pipeline.open_incident(OPS, "Smoke over Heshan", 2, [KEY], "crew sent")
        assert result.result is not None and not result.result.error, result.result
        (incident_id,) = result.result.changed
        shared = [m for m in a.published if m[1].startswith(f"{PREFIX}/actions/")]
        assert len(shared) == 1
        _key, topic, payload, retain = shared[0]
        assert topic == action_topic(PREFIX, "acct-a", "ws-a") and not retain
        body = json.loads(payload)
        assert (body["kind"], body["account"], body["incident"]) == (
            "incident",
            "acct-a",
            incident_id,
        )
        assert a.cache.outbox(), "kept until the broker has it"

        b.receive(topic, payload)
        b.receive(topic, payload)  # a redelivery: once
        held = b.pipeline.incident_desk.book.get(incident_id)
        assert held is not None and held.title == "Smoke over Heshan" and held.alarm_ids == (KEY,)
        assert len(b.cache.known_action_ids([body["id"]])) == 1
        assert b.pipeline.take_delta().incidents[incident_id].title == "Smoke over Heshan"

        a.receive(topic, payload)  # its own echo changes nothing
        assert not a.pipeline.take_delta().dead_letters

        forged = dict(body, account="acct-a")
        b.receive(action_topic(PREFIX, "acct-b", "ws-a"), json.dumps(forged).encode())
        letters = b.pipeline.take_delta().dead_letters[SHARING_FEED]
        assert "claims to be from 'acct-a'" in letters[-1].reason
    finally:
        a.close()
        b.close()


def test_sharing_accounts_cap_the_role_an_account_may_claim(tmp_path: Path) -> None:
    clock = Clock(T0 + 60)
    capped = SharingIdentity(PREFIX, "acct-a", "ws-a", {"acct-sup": "supervisor"})
    station = Workstation(tmp_path / "a", clock, identity=capped)
    try:
        claim = theirs("out_of_service", "o1", T0 + 10, role="supervisor", note="mine now")
        station.receive(their_topic(), encode_action(claim).encode())  # acct-b: operator at most
        assert station.alarm().state is AlarmState.UNACKNOWLEDGED
        letters = station.pipeline.take_delta().dead_letters[SHARING_FEED]
        assert "may act as operator at most" in letters[-1].reason
        allowed = replace(claim, id="o2", account="acct-sup", workstation="ws-sup")
        station.receive(their_topic("acct-sup", "ws-sup"), encode_action(allowed).encode())
        assert station.alarm().state is AlarmState.OUT_OF_SERVICE
    finally:
        station.close()
