"""A delta as it crosses from the engine process to the window's: its model objects pickled
as their fields, and a large delta split into parts a view can take one at a time."""

from __future__ import annotations

import dataclasses
import math
import pickle

from services.model import (
    ActionResult,
    Alarm,
    AlarmState,
    Condition,
    Delta,
    Entity,
    FeedHealth,
    FeedState,
    Reading,
    Severity,
)


def alarm(entity_id: str) -> Alarm:
    return Alarm(
        entity_id,
        "pm25",
        Condition.HIGH,
        Severity.HIGH,
        next(iter(AlarmState)),
        120.0,
        75.0,
        1_000.0,
        1_001.0,
        count=3,
        acked_by="op",
        shelved_until=math.inf,
        comments=2,
    )


def test_model_objects_survive_pickling_field_for_field() -> None:
    objects = [
        Reading("aq-1", "pm25", 12.5, 1_000.0, "air", "µg/m³"),
        Entity(
            "aq-1", "站 1", "station", "environment", 28.5, 112.3, "air", 5.0, True, Severity.LOW
        ),
        alarm("aq-1"),
        FeedHealth("air", FeedState.DOWN, 10, 2, 1.5, 99.0, "gone", 30.0),
    ]
    for original in objects:
        copy = pickle.loads(pickle.dumps(original, pickle.HIGHEST_PROTOCOL))
        assert copy == original and copy is not original
        assert dataclasses.astuple(copy) == dataclasses.astuple(original)


def test_a_small_delta_is_one_part() -> None:
    delta = Delta(entities={"a": Entity("a", "A")}, messages=1)
    assert delta.split(10) == [delta]


def test_a_large_delta_splits_in_order_and_the_last_part_carries_the_rest() -> None:
    delta = Delta(messages=25)
    for index in range(10):
        key = f"e{index}"
        delta.entities[key] = Entity(key, key)
        delta.latest[(key, "pm25")] = Reading(key, "pm25", index, 1.0, "air")
        delta.alarms[f"{key}|pm25|high"] = alarm(key)
    delta.feeds["air"] = FeedHealth("air")
    delta.action_results.append(ActionResult("ack", "op", changed=("e0|pm25|high",)))
    delta.removed_entities.add("gone")

    parts = delta.split(7)

    assert [len(p.entities) + len(p.latest) + len(p.alarms) for p in parts] == [7, 7, 7, 7, 2]
    assert list(parts[0].entities) == [f"e{i}" for i in range(7)]
    assert list(parts[1].entities) == ["e7", "e8", "e9"] and len(parts[1].latest) == 4
    merged = Delta()
    for part in parts:
        merged.entities.update(part.entities)
        merged.latest.update(part.latest)
        merged.alarms.update(part.alarms)
    assert merged.entities == delta.entities
    assert merged.latest == delta.latest
    assert merged.alarms == delta.alarms
    last = parts[-1]
    assert last.feeds == delta.feeds and last.messages == 25
    assert last.action_results == delta.action_results
    assert last.removed_entities == {"gone"}
    assert all(not p.feeds and not p.messages and not p.action_results for p in parts[:-1])
