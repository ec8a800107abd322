"""Dashboard figures: counts by priority, domain and district, and the top N entities."""

from __future__ import annotations

import math
import random

import pytest

from services.config.schema import DistrictConfig, Group
from services.ingest.figures import Category, Subject, count_by, top_entities
from services.ingest.kpi import DistrictIndex
from services.model import Alarm, AlarmState, Condition, Entity, Reading, Severity

SQUARE = ((((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)),),)
INDEX = DistrictIndex([DistrictConfig("sq", SQUARE)])
ENTITIES = {
    "in": Entity("in", "Inside", "station", "environment", lat=0.5, lon=0.5),
    "out": Entity("out", "Outside", "station", "water", lat=5.0, lon=5.0),
    "nowhere": Entity("nowhere", "No position", "bus", ""),
}


def test_counts_by_priority_keep_every_priority_most_urgent_first() -> None:
    subjects = [Subject("in", Severity.HIGH), Subject("out", Severity.HIGH), Subject("in")]
    counts = count_by(subjects, "priority", ENTITIES, INDEX, ["sq"])
    assert [(c.severity, c.count) for c in counts] == [
        (Severity.CRITICAL, 0),
        (Severity.HIGH, 2),
        (Severity.MEDIUM, 0),
        (Severity.LOW, 0),
    ]


def test_counts_by_domain_and_by_district() -> None:
    subjects = [Subject("in"), Subject("out"), Subject("out"), Subject("nowhere"), Subject("x")]
    assert count_by(subjects, "domain", ENTITIES, INDEX, []) == [
        Category("water", None, 2),
        Category("other", None, 2),  # no domain, unknown entity
        Category("environment", None, 1),
    ]
    assert count_by(subjects, "district", ENTITIES, INDEX, ["sq"]) == [Category("sq", None, 1)]
    with pytest.raises(ValueError, match="cannot count by"):
        count_by(subjects, "colour", ENTITIES, INDEX, [])


def test_top_entities_by_a_metric_within_a_group() -> None:
    latest = [
        Reading("in", "pm25", 80.0, 10.0, "air"),
        Reading("in", "pm25", 90.0, 20.0, "air2"),  # its newest counts
        Reading("out", "pm25", 120.0, 10.0, "air"),
        Reading("nowhere", "pm25", math.nan, 10.0, "air"),  # no value
        Reading("out", "no2", 999.0, 10.0, "air"),
    ]
    top = top_entities(latest, "pm25", Group(), ENTITIES, INDEX, n=5)
    assert [(r.entity_id, r.value) for r in top] == [("out", 120.0), ("in", 90.0)]
    lowest = top_entities(latest, "pm25", Group(), ENTITIES, INDEX, n=1, highest=False)
    assert [r.entity_id for r in lowest] == ["in"]
    inside = top_entities(latest, "pm25", Group(district="sq"), ENTITIES, INDEX, n=5)
    assert [r.entity_id for r in inside] == ["in"]


def test_counts_by_district_take_known_members_and_alarms_as_they_are() -> None:
    alarms = [
        Alarm("in", "pm25", Condition.HIGH, Severity.HIGH, AlarmState.UNACKNOWLEDGED, 1, 1, 1, 1),
        Alarm("in", "no2", Condition.HIGH, Severity.LOW, AlarmState.ACKNOWLEDGED, 1, 1, 1, 1),
        Alarm("out", "pm25", Condition.HIGH, Severity.HIGH, AlarmState.UNACKNOWLEDGED, 1, 1, 1, 1),
    ]
    tested = count_by(alarms, "district", ENTITIES, INDEX, ["sq", "nowhere"])
    assert tested == [Category("sq", None, 2), Category("nowhere", None, 0)]
    known = {"sq": {"in"}, "nowhere": set()}
    assert (
        count_by(alarms, "district", ENTITIES, INDEX, ["sq", "nowhere"], district_members=known)
        == tested
    )
    told = {"sq": {"out"}}  # the members given are the ones counted ("nowhere" tested here)
    assert count_by(
        alarms, "district", ENTITIES, INDEX, ["sq", "nowhere"], district_members=told
    ) == [
        Category("sq", None, 1),
        Category("nowhere", None, 0),
    ]
    assert [c.count for c in count_by(alarms, "priority", ENTITIES, INDEX, [])] == [0, 2, 0, 1]


def test_top_entities_take_known_members_of_the_group() -> None:
    latest = [Reading("in", "pm25", 80.0, 10.0, "air"), Reading("out", "pm25", 120.0, 10.0, "air")]
    group = Group(district="sq")
    assert [r.entity_id for r in top_entities(latest, "pm25", group, ENTITIES, INDEX, n=5)] == [
        "in"
    ]
    told = top_entities(latest, "pm25", group, ENTITIES, INDEX, n=5, members={"out"})
    assert [r.entity_id for r in told] == ["out"]
    assert top_entities(latest, "pm25", Group(), ENTITIES, INDEX, n=0) == []


def _top_by_sorting(latest: list[Reading], metric: str, n: int, highest: bool) -> list[Reading]:
    """The top N as the first version worked it out: newest per entity, a full sort."""
    newest: dict[str, Reading] = {}
    for reading in latest:
        if reading.metric != metric or math.isnan(reading.value):
            continue
        held = newest.get(reading.entity_id)
        if held is None or reading.ts > held.ts:
            newest[reading.entity_id] = reading
    ordered = sorted(newest.values(), key=lambda r: (-r.value if highest else r.value, r.entity_id))
    return ordered[: max(0, n)]


@pytest.mark.parametrize("seed", range(20))
def test_top_entities_match_a_full_sort_with_ties_repeats_and_gaps(seed: int) -> None:
    chance = random.Random(seed)
    latest = [
        Reading(
            f"e{chance.randrange(60):02d}",
            chance.choice(["pm25", "no2"]),
            chance.choice([math.nan, -0.0, 0.0, 1.0, 2.5, 2.5, 7.0, math.inf, -math.inf])
            if chance.random() < 0.3
            else float(chance.randrange(20)),
            float(chance.randrange(5)),
            "air",
        )
        for _ in range(chance.randrange(0, 200))
    ]
    for n in (1, 3, 5, 10, 100):
        for highest in (True, False):
            got = top_entities(latest, "pm25", Group(), {}, INDEX, n=n, highest=highest)
            assert got == _top_by_sorting(latest, "pm25", n, highest), (n, highest)
