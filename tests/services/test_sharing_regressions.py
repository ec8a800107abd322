"""Two workstations exchanging what they publish, in the orders a review found wrong: they
must end the same, and stop talking once they agree."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from services.auth.roles import Principal, Role
from services.config import RuleConfig
from services.config.schema import Suppression
from services.ingest.sharing_desk import SharingIdentity
from services.messages import RawMessage
from services.model import AlarmState
from services.sharing.protocol import SHARING_FEED
from tests.services.test_sharing_pipeline import (
    CONFIG,
    KEY,
    OPS,
    PREFIX,
    T0,
    Clock,
    Workstation,
)

SUPERVISOR = Principal("boss", Role.SUPERVISOR, "ws-b")
OPERATOR_B = Principal("op-b", Role.OPERATOR, "ws-b")


def pair(tmp_path: Path, **config: object) -> tuple[Workstation, Workstation, Clock, Clock]:
    clocks = Clock(T0 + 100), Clock(T0 + 100)
    settings = replace(CONFIG, **config)  # type: ignore[arg-type]
    a, b = (
        Workstation(
            tmp_path / name,
            clock,
            identity=SharingIdentity(PREFIX, f"acct-{name}", f"ws-{name}"),
            config=settings,
        )
        for name, clock in zip("ab", clocks, strict=True)
    )
    a.published.clear()
    b.published.clear()
    return a, b, *clocks


def deliver(source: Workstation, target: Workstation, now: float) -> int:
    """Hand ``target`` what ``source`` published since the last call; how many messages."""
    messages, source.published[:] = list(source.published), []
    for _key, topic, payload, retain in messages:
        target.pipeline.process_batch([RawMessage(SHARING_FEED, topic, payload, now, retain)])
    return len(messages)


def test_out_of_service_and_a_concurrent_shelve_end_the_same_on_both(tmp_path: Path) -> None:
    a, b, clock_a, _clock_b = pair(tmp_path)
    try:
        b.pipeline.remove_from_service([KEY], SUPERVISOR, "pump maintenance")
        clock_a.now = T0 + 110  # later, but before A has heard of it
        a.pipeline.shelve([KEY], OPS, 900, "noisy")
        deliver(a, b, T0 + 111)
        deliver(b, a, T0 + 111)
        assert a.alarm().state is b.alarm().state is AlarmState.OUT_OF_SERVICE
        assert a.alarm().shelved_by == b.alarm().shelved_by == "boss"
    finally:
        a.close()
        b.close()


def test_clocks_apart_do_not_make_workstations_answer_each_other_forever(
    tmp_path: Path,
) -> None:
    a, b, clock_a, clock_b = pair(tmp_path)
    try:
        a.pipeline.shelve([KEY], OPS, 900, "noisy")
        deliver(a, b, T0 + 100)
        until = T0 + 100 + 900
        clock_a.now, clock_b.now = until + 0.5, until - 1.5  # A runs 2 s ahead
        a.pipeline.housekeeping(force=True)  # A: the shelving is over; B: not yet
        b.pipeline.housekeeping(force=True)
        a.published.clear()
        b.published.clear()
        a.pipeline.acknowledge([KEY], OPS)
        rounds = 0
        while deliver(a, b, clock_b.now) + deliver(b, a, clock_a.now) and rounds < 10:
            rounds += 1
        assert rounds <= 2, f"still exchanging states after {rounds} rounds"
        clock_b.now = until + 0.1
        b.pipeline.housekeeping(force=True)
        deliver(a, b, clock_b.now)
        deliver(b, a, clock_a.now)
        assert a.alarm().state is b.alarm().state is AlarmState.ACKNOWLEDGED
    finally:
        a.close()
        b.close()


def test_an_acknowledgement_from_before_a_suppression_does_not_come_back(tmp_path: Path) -> None:
    rule = RuleConfig(
        metric="pm25", high=75, high_high=150, suppressed_when=Suppression("maintenance", "==", 1)
    )
    a, b, _clock_a, clock_b = pair(tmp_path, rules=(rule,))

    def maintenance(on: int, ts: float) -> None:
        payload = json.dumps({"id": "aq-1", "maintenance": on, "ts": ts}).encode()
        for station in (a, b):
            station.pipeline.process_batch([RawMessage("air", "yiyang/env/air/aq-1", payload, ts)])

    try:
        a.pipeline.acknowledge([KEY], OPS)
        deliver(a, b, T0 + 101)
        assert b.alarm().state is AlarmState.ACKNOWLEDGED
        maintenance(1, T0 + 200)
        maintenance(0, T0 + 300)  # back, still high: to be acknowledged again
        assert a.alarm().state is b.alarm().state is AlarmState.UNACKNOWLEDGED
        clock_b.now = T0 + 310
        b.pipeline.comment([KEY], OPERATOR_B, "checking")
        deliver(b, a, T0 + 311)
        assert a.alarm().state is b.alarm().state is AlarmState.UNACKNOWLEDGED
        assert a.alarm().acked_by == b.alarm().acked_by == ""
    finally:
        a.close()
        b.close()


def test_a_late_acknowledgement_does_not_reset_a_latched_alarm(tmp_path: Path) -> None:
    rule = RuleConfig(metric="pm25", high=75, high_high=150, latch=True)
    a, b, _clock_a, _clock_b = pair(tmp_path, rules=(rule,))
    try:
        a.pipeline.acknowledge([KEY], OPS)  # queued: A is offline for now
        for station in (a, b):
            station.reading(10.0, T0 + 200)  # the condition goes; the alarm latches
        assert a.alarm().state is b.alarm().state is AlarmState.RTN_UNACKNOWLEDGED
        deliver(a, b, T0 + 300)  # A is back: its acknowledgement predates the return
        assert a.alarm().state is b.alarm().state is AlarmState.RTN_UNACKNOWLEDGED
    finally:
        a.close()
        b.close()
