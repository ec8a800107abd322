"""Dashboard figures: counts by priority, domain and district, and the top N entities."""

from __future__ import annotations

import math

import pytest

from services.config.schema import DistrictConfig, Group
from services.ingest.figures import Category, Subject, count_by, top_entities
from services.ingest.kpi import DistrictIndex
from services.model import Entity, Reading, Severity

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
