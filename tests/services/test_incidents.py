"""Incidents: the book's rules and refusals, the shared payload, the worker's commands (stored
before they show, restored after a restart, audited) and the timeline from the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.auth.roles import Principal, Role
from services.config import AppConfig, FeedConfig, RuleConfig
from services.config.schema import SEVERITY_PRIORITY
from services.incidents import book as book_module
from services.incidents.book import IncidentBook, IncidentError
from services.incidents.payload import apply_incident_payload, incident_payload
from services.ingest.pipeline import IngestPipeline
from services.limits import RECENT_INCIDENT_S
from services.messages import RawMessage
from services.model import (
    INCIDENT_MOVES,
    AlarmState,
    IncidentStatus,
    Severity,
    TimelineKind,
    priority_of,
    severity_of_priority,
)
from services.store.cache import OfflineCache

OPS = Principal("ops", Role.OPERATOR, "ws-1")
VIEWER = Principal("guest", Role.VIEWER, "wall-1")
BOSS = Principal("li.wei", Role.SUPERVISOR, "ws-3")
CONFIG = AppConfig(
    source="test",
    feeds=(FeedConfig(name="air", topic="yiyang/env/air/#", domain="environment"),),
    rules=(RuleConfig(metric="pm25", high=75, high_high=150, deadband=0),),
)
T0 = 1_790_000_000.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def message(entity: str, pm25: float, ts: float) -> RawMessage:
    payload = json.dumps({"id": entity, "pm25": pm25, "ts": ts}).encode()
    return RawMessage("air", f"yiyang/env/air/{entity}", payload, ts)


# -- the book ------------------------------------------------------------------------------


def opened(book: IncidentBook, who: Principal = OPS, now: float = T0) -> str:
    change = book.open(who, "Smoke over Heshan", 2, now, alarms=[("aq-1|pm25|high", "aq-1")])
    book.put(change.incident)
    return change.incident.id


def test_opening_checks_title_priority_and_role_and_plans_without_keeping() -> None:
    book = IncidentBook()
    for title in ("", "   "):
        with pytest.raises(IncidentError, match="an incident needs a title"):
            book.open(OPS, title, 2, T0)
    for priority in (0, 5, True, "2"):
        with pytest.raises(IncidentError, match="priority is 1 \\(most urgent\\) to 4"):
            book.open(OPS, "Flood", priority, T0)  # type: ignore[arg-type]
    with pytest.raises(IncidentError, match="at most 200 characters, not 201"):
        book.open(OPS, "x" * 201, 2, T0)
    with pytest.raises(IncidentError) as refused:
        book.open(VIEWER, "Flood", 2, T0)
    assert str(refused.value) == (
        "guest (viewer) may not open incidents: that needs the operator role or higher"
    )
    change = book.open(
        OPS,
        "  Smoke   over Heshan ",
        2,
        T0,
        alarms=[("aq-1|pm25|high", "aq-1"), ("aq-2|pm25|high", "aq-2"), ("aq-1|pm25|high", "aq-1")],
        entity_ids=["cam-7"],
        note="crew called",
    )
    incident = change.incident
    assert len(book) == 0  # planned, not kept until stored
    assert (incident.title, incident.priority, incident.status) == (
        "Smoke over Heshan",
        2,
        IncidentStatus.OPEN,
    )
    assert (incident.owner, incident.opened_by, incident.notes, incident.revision) == (
        "ops",
        "ops",
        1,
        1,
    )
    assert incident.alarm_ids == ("aq-1|pm25|high", "aq-2|pm25|high")
    assert incident.entity_ids == ("aq-1", "aq-2", "cam-7")
    assert [kind for kind, _text in change.entries] == [
        "incident_open",
        "incident_link_alarm",
        "incident_link_alarm",
        "incident_link_entity",
        "incident_note",
    ]
    assert change.note is not None and change.note.text == "crew called"
    assert book.put(incident) and book.get(incident.id) == incident


def test_status_moves_and_closing_is_for_supervisors() -> None:
    book = IncidentBook()
    key = opened(book)
    for status in (IncidentStatus.IN_PROGRESS, IncidentStatus.RESOLVED, IncidentStatus.OPEN):
        change = book.update(OPS, key, T0 + 1, status=status)
        assert change.entries == (("incident_status", status.value),)
        book.put(change.incident)
    assert book.get(key).revision == 4
    with pytest.raises(IncidentError) as refused:
        book.update(OPS, key, T0 + 2, status="closed")
    assert str(refused.value) == (
        "ops (operator) may not close incidents: that needs the supervisor role or higher"
    )
    book.put(book.update(BOSS, key, T0 + 3, status=IncidentStatus.CLOSED).incident)
    closed = book.get(key)
    assert closed.status is IncidentStatus.CLOSED and closed.updated_at == T0 + 3
    # closed is final: nothing changes, no notes, no links; only a supervisor reopens it
    for attempt in (
        lambda: book.update(BOSS, key, T0 + 4, title="Other"),
        lambda: book.update(BOSS, key, T0 + 4, status="in_progress"),
        lambda: book.add_note(BOSS, key, "late news", T0 + 4),
        lambda: book.link(BOSS, key, T0 + 4, entity_ids=["cam-1"]),
    ):
        with pytest.raises(IncidentError, match="is closed: nothing about it changes"):
            attempt()
    with pytest.raises(IncidentError, match="may not reopen a closed incident: that needs the"):
        book.update(OPS, key, T0 + 4, status="open")
    reopened = book.update(BOSS, key, T0 + 5, status="open", owner="zhang.min")
    assert reopened.entries == (("incident_status", "open"), ("incident_owner", "zhang.min"))


def test_updates_notes_and_links_are_checked() -> None:
    book = IncidentBook()
    key = opened(book)
    with pytest.raises(IncidentError, match="there is no incident 'nope'"):
        book.update(OPS, "nope", T0, title="x")
    with pytest.raises(IncidentError, match="nothing to change in incident 'Smoke over Heshan'"):
        book.update(OPS, key, T0, title="Smoke over Heshan", priority=2, owner="ops")
    with pytest.raises(IncidentError, match="unknown incident status 'done'"):
        book.update(OPS, key, T0, status="done")
    with pytest.raises(IncidentError, match="may not change incidents"):
        book.update(VIEWER, key, T0, priority=1)
    change = book.update(OPS, key, T0 + 1, title="Fire", priority=1, owner="")
    assert change.entries == (
        ("incident_title", "Fire"),
        ("incident_priority", "1"),
        ("incident_owner", ""),
    )
    with pytest.raises(IncidentError, match="a note needs some text"):
        book.add_note(OPS, key, "  ", T0)
    with pytest.raises(IncidentError, match="a note may have at most 2000 characters"):
        book.add_note(OPS, key, "x" * 2001, T0)
    with pytest.raises(IncidentError, match="may not write notes on incidents"):
        book.add_note(VIEWER, key, "hello", T0)
    with pytest.raises(IncidentError, match="linked to incident 'Smoke over Heshan' already"):
        book.link(OPS, key, T0, alarms=[("aq-1|pm25|high", "aq-1")])
    linked = book.link(OPS, key, T0 + 2, alarms=[("aq-3|pm25|high", "aq-3")], entity_ids=["aq-1"])
    assert linked.incident.alarm_ids == ("aq-1|pm25|high", "aq-3|pm25|high")
    assert linked.incident.entity_ids == ("aq-1", "aq-3")
    assert linked.entries == (("incident_link_alarm", "aq-3|pm25|high"),)


def test_an_incident_has_a_bounded_number_of_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(book_module, "MAX_INCIDENT_NOTES", 2)
    book = IncidentBook()
    key = opened(book)
    for n in range(2):
        book.put(book.add_note(OPS, key, f"note {n}", T0 + n).incident)
    with pytest.raises(IncidentError, match="has 2 notes, the most it may have"):
        book.add_note(OPS, key, "one more", T0 + 3)


def test_every_status_but_closed_moves_anywhere_and_priorities_match_severities() -> None:
    for status, moves in INCIDENT_MOVES.items():
        expected = (
            {IncidentStatus.OPEN}
            if status is IncidentStatus.CLOSED
            else set(IncidentStatus) - {status}
        )
        assert moves == expected
    assert [priority_of(s) for s in (Severity.CRITICAL, Severity.LOW)] == [1, 4]
    assert all(severity_of_priority(priority_of(s)) is s for s in Severity)
    assert all(priority_of(s) == SEVERITY_PRIORITY[s] for s in Severity)  # rules' scale


# -- sharing payloads ------------------------------------------------------------------------


def test_a_payload_carries_the_change_and_merges_by_revision_keeping_notes() -> None:
    here, there = IncidentBook(), IncidentBook()
    first = here.open(OPS, "Burst main", 1, T0, alarms=[("w-1|flow|high", "w-1")], note="go")
    here.put(first.incident)
    body = json.loads(json.dumps(incident_payload(first, OPS, T0)))
    assert {key: body[key] for key in ("kind", "incident", "status", "user", "workstation")} == {
        "kind": "incident",
        "incident": first.incident.id,
        "status": "open",
        "user": "ops",
        "workstation": "ws-1",
    }
    received, change = apply_incident_payload(there, body)
    assert change is not None and there.get(first.incident.id) == first.incident
    assert received.note == first.note
    later = here.update(OPS, first.incident.id, T0 + 5, status="in_progress")
    here.put(later.incident)
    apply_incident_payload(there, incident_payload(later, OPS, T0 + 5))
    assert there.get(first.incident.id).status is IncidentStatus.IN_PROGRESS
    # the older version again changes nothing; a note it brings is still kept
    without_note = {key: value for key, value in body.items() if key != "note"}
    assert apply_incident_payload(there, without_note)[1] is None
    _again, kept = apply_incident_payload(there, body)
    assert kept is not None and kept.note == first.note
    assert kept.incident.status is IncidentStatus.IN_PROGRESS
    closing = here.update(BOSS, first.incident.id, T0 + 9, status="closed")
    as_operator = incident_payload(closing, OPS, T0 + 9)
    with pytest.raises(IncidentError, match="ops \\(operator\\) may not close incidents"):
        apply_incident_payload(there, as_operator)
    with pytest.raises(IncidentError, match="'title' must be a non-empty string"):
        apply_incident_payload(there, {**body, "title": 3})
    apply_incident_payload(there, incident_payload(closing, BOSS, T0 + 9))
    assert there.get(first.incident.id).status is IncidentStatus.CLOSED


# -- the worker's commands ---------------------------------------------------------------------


@pytest.fixture
def cache(cache_dir: Path) -> OfflineCache:
    store = OfflineCache(cache_dir)
    yield store
    store.close()


def test_commands_are_stored_then_published_and_refusals_change_nothing(
    cache: OfflineCache,
) -> None:
    clock = Clock(T0)
    pipe = IngestPipeline(CONFIG, cache, flush_interval=0.0, clock=clock)
    pipe.start()
    try:
        pipe.put_many([message("aq-1", 90, T0 - 60), message("aq-2", 160, T0 - 50)])
        assert pipe.wait_idle(10)
        pipe.take_delta()
        alarms = ["aq-1|pm25|high", "aq-2|pm25|high_high"]
        refused = pipe.open_incident(VIEWER, "Smoke", 2, alarms).wait(10)
        assert refused is not None and refused.changed == ()
        assert refused.error.startswith("guest (viewer) may not open incidents")
        unknown = pipe.open_incident(OPS, "Smoke", 2, ["no|such|alarm"]).wait(10)
        assert unknown.error == "unknown alarm(s): no|such|alarm; nothing was done"
        delta = pipe.take_delta()
        assert delta.incidents == {} and delta.action_results == [refused, unknown]
        assert cache.load_incidents(0) == []

        done = pipe.open_incident(OPS, "Smoke over Heshan", 2, alarms, "crew called").wait(10)
        assert done is not None and not done.error and done.action == "incident_open"
        (key,) = done.changed
        delta = pipe.take_delta()
        incident = delta.incidents[key]
        assert delta.action_results == [done]
        assert incident.alarm_ids == tuple(alarms) and incident.entity_ids == ("aq-1", "aq-2")
        assert cache.load_incidents(0) == [incident]  # committed before it was published

        clock.now = T0 + 10
        result = pipe.update_incident(OPS, key, status="in_progress", owner="zhang.min").wait(10)
        assert result.changed == (key,)
        clock.now = T0 + 20
        assert pipe.add_incident_note(OPS, key, "wind from the north").wait(10).changed == (key,)
        clock.now = T0 + 30
        closing = pipe.update_incident(OPS, key, status="closed").wait(10)
        assert "may not close incidents: that needs the supervisor role" in closing.error
        latest = pipe.take_delta().incidents[key]
        assert (latest.status, latest.owner, latest.notes, latest.revision) == (
            IncidentStatus.IN_PROGRESS,
            "zhang.min",
            2,
            3,
        )
        assert pipe.update_incident(BOSS, key, status="closed").wait(10).changed == (key,)
        with pytest.raises(ValueError, match="incidents have no field\\(s\\) colour"):
            pipe.update_incident(OPS, key, colour="red")
        # every change is in the audit trail, keyed by the incident, and the chain holds
        kinds = [
            (entry.kind, entry.note)
            for entry in cache.audit_entries()
            if entry.alarm_id == f"incident:{key}"
        ]
        assert kinds == [
            ("incident_open", "Smoke over Heshan"),
            ("incident_link_alarm", alarms[0]),
            ("incident_link_alarm", alarms[1]),
            ("incident_note", "crew called"),
            ("incident_status", "in_progress"),
            ("incident_owner", "zhang.min"),
            ("incident_note", "wind from the north"),
            ("incident_status", "closed"),
        ]
        assert {e.user for e in cache.audit_entries() if e.kind == "incident_status"} == {
            "ops",
            "li.wei",
        }
        assert cache.verify_audit().intact
    finally:
        pipe.stop()


def test_incidents_come_back_after_a_restart(cache_dir: Path) -> None:
    clock = Clock(T0)
    with OfflineCache(cache_dir) as cache:
        pipe = IngestPipeline(CONFIG, cache, flush_interval=0.0, clock=clock)
        pipe.process_batch([message("aq-1", 90, T0 - 5)])
        keys = []
        for n, title in enumerate(("Old fire", "Recent flood", "Open smoke")):
            clock.now = T0 + n
            result = pipe.open_incident(OPS, title, 3, ["aq-1|pm25|high"]).wait(5)
            keys.append(result.changed[0])
        clock.now = T0 + 10
        pipe.update_incident(BOSS, keys[0], status="closed").wait(5)
        clock.now = T0 + 10 + RECENT_INCIDENT_S
        pipe.update_incident(BOSS, keys[1], status="closed").wait(5)
        pipe.add_incident_note(OPS, keys[2], "still smoking").wait(5)
        pipe.stop()
    with OfflineCache(cache_dir) as cache:
        clock.now = T0 + 20 + RECENT_INCIDENT_S
        second = IngestPipeline(CONFIG, cache, flush_interval=0.0, clock=clock)
        second.restore_from_cache()
        restored = second.take_delta().incidents
        assert set(restored) == {keys[1], keys[2]}  # the old closed one stays in the cache
        assert restored[keys[1]].status is IncidentStatus.CLOSED
        smoke = restored[keys[2]]
        assert (smoke.title, smoke.notes, smoke.alarm_ids) == ("Open smoke", 1, ("aq-1|pm25|high",))
        assert second.incident_desk.book.get(keys[2]) == smoke
        # and the restored book goes on from there
        after = second.update_incident(OPS, keys[2], priority=1).wait(5)
        assert after.changed == (keys[2],)
        assert second.take_delta().incidents[keys[2]].revision == smoke.revision + 1
        second.stop()


def test_the_timeline_merges_alarm_transitions_actions_and_notes_in_time_order(
    cache: OfflineCache,
) -> None:
    clock = Clock(T0)
    pipe = IngestPipeline(CONFIG, cache, flush_interval=0.0, clock=clock)
    alarm = "aq-1|pm25|high"
    other = "aq-9|pm25|high"  # not linked: stays out
    pipe.process_batch([message("aq-1", 90, T0 - 100), message("aq-9", 90, T0 - 90)])
    pipe.process_batch([message("aq-1", 95, T0 - 80)])  # a new value, no transition
    pipe.flush_cache(force=True)
    key = pipe.open_incident(OPS, "Smoke", 2, [alarm], "crew called").wait(5).changed[0]
    clock.now = T0 + 10
    pipe.acknowledge([alarm], OPS, note="seen on camera")
    pipe.acknowledge([other], OPS)
    clock.now = T0 + 20
    pipe.comment([alarm], BOSS, "sending a van")
    pipe.process_batch([message("aq-1", 20, T0 + 30)])  # clears: back to normal
    clock.now = T0 + 40
    pipe.update_incident(OPS, key, status="resolved")
    pipe.add_incident_note(OPS, key, "all clear")
    pipe.flush_cache(force=True)
    lines = [
        (entry.ts - T0, entry.kind, entry.what, entry.user, entry.note, entry.state)
        for entry in cache.incident_timeline(key)
    ]
    assert lines == [
        (-100, TimelineKind.ALARM, "unacknowledged", "", "", "unacknowledged"),
        (0, TimelineKind.INCIDENT, "incident_open", "ops", "Smoke", ""),
        (0, TimelineKind.INCIDENT, "incident_link_alarm", "ops", alarm, ""),
        (0, TimelineKind.NOTE, "incident_note", "ops", "crew called", ""),
        (10, TimelineKind.ACTION, "ack", "ops", "seen on camera", "acknowledged"),
        (20, TimelineKind.ACTION, "comment", "li.wei", "sending a van", ""),
        (30, TimelineKind.ALARM, "normal", "", "", "normal"),
        (40, TimelineKind.INCIDENT, "incident_status", "ops", "resolved", ""),
        (40, TimelineKind.NOTE, "incident_note", "ops", "all clear", ""),
    ]
    (first, *_rest) = cache.incident_timeline(key)
    assert first.alarm_id == alarm and first.value == 90
    assert cache.incident_timeline(key, limit=2)[-1].note == "all clear"
    assert cache.incident_timeline("unknown") == []
    assert pipe.alarms.get(alarm).state is AlarmState.NORMAL
    assert cache.verify_audit().intact
    pipe.stop()
