"""Dashboard figures beyond the KPIs: counts by category (alarms, incidents or entities by
domain, district or priority) and the top N entities by a metric — computed here, drawn by
the dashboard widgets."""

from __future__ import annotations

import heapq
import logging
from collections import Counter
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from services.config.schema import Group
from services.ingest.kpi import DistrictIndex, in_group
from services.model import Entity, Reading, Severity

log = logging.getLogger(__name__)

OTHER = "other"
"""The category of what has no domain."""


class Counted(Protocol):
    """What :func:`count_by` counts: a :class:`Subject`, or anything with the same two
    attributes (an :class:`~services.model.Alarm` is counted as it is, no copy made)."""

    @property
    def entity_id(self) -> str: ...
    @property
    def severity(self) -> Severity | None: ...


@dataclass(frozen=True, slots=True)
class Subject:
    """One thing counted: the entity it concerns ("" when none) and its priority, if any."""

    entity_id: str
    severity: Severity | None = None


@dataclass(frozen=True, slots=True)
class Category:
    """One bar: its label (a domain, a district; for a priority the severity's label), the
    severity when the category is a priority, and the count."""

    label: str
    severity: Severity | None
    count: int


def count_by(
    subjects: Iterable[Counted],
    by: str,
    entities: Mapping[str, Entity],
    districts: DistrictIndex,
    district_names: Iterable[str],
    *,
    district_members: Mapping[str, Container[str]] | None = None,
) -> list[Category]:
    """Count ``subjects`` by ``priority`` (every priority, most urgent first, zeros kept),
    ``domain`` (most first) or ``district`` (each declared district, in order; a subject
    whose entity has no position is in none). ``district_members``: the ids of the entities
    inside each district, when already known (else each entity is tested here)."""
    if by == "priority":
        counts = Counter(subject.severity for subject in subjects if subject.severity is not None)
        ordered = sorted(Severity, reverse=True)
        return [Category(severity.label, severity, counts.get(severity, 0)) for severity in ordered]
    if by == "domain":
        domains = Counter(
            (entity.domain if (entity := entities.get(s.entity_id)) and entity.domain else OTHER)
            for s in subjects
        )
        return [Category(name, None, n) for name, n in domains.most_common()]
    if by == "district":
        per_entity = Counter(subject.entity_id for subject in subjects)
        result = []
        for name in district_names:
            inside = district_members.get(name) if district_members is not None else None
            if inside is None:
                group = Group(district=name)
                inside = {
                    entity_id
                    for entity_id in per_entity
                    if in_group(group, entities.get(entity_id), districts)
                }
            result.append(
                Category(name, None, sum(n for eid, n in per_entity.items() if eid in inside))
            )
        return result
    raise ValueError(f"cannot count by {by!r}")


def top_entities(
    latest: Iterable[Reading],
    metric: str,
    group: Group,
    entities: Mapping[str, Entity],
    districts: DistrictIndex,
    *,
    n: int,
    highest: bool = True,
    members: Container[str] | None = None,
) -> list[Reading]:
    """The ``n`` readings of ``metric`` with the highest (or lowest) values among the entities
    of ``group``; one per entity (its newest), ties by entity id. ``members``: the ids of the
    entities of ``group``, when already known (else each entity is tested here)."""
    if n <= 0:
        return []
    if not group:
        candidates = [r for r in latest if r.metric == metric and r.value == r.value]  # no NaN
    elif members is not None:
        candidates = [
            r
            for r in latest
            if r.metric == metric and r.value == r.value and r.entity_id in members
        ]
    else:
        candidates = [
            r
            for r in latest
            if r.metric == metric
            and r.value == r.value
            and in_group(group, entities.get(r.entity_id), districts)
        ]
    if len({r.entity_id for r in candidates}) < len(candidates):  # an entity twice
        newest: dict[str, Reading] = {}
        for reading in candidates:
            held = newest.get(reading.entity_id)
            if held is None or reading.ts > held.ts:
                newest[reading.entity_id] = reading
        candidates = list(newest.values())
    return _best(candidates, n, highest)


def _best(readings: list[Reading], n: int, highest: bool) -> list[Reading]:
    """The first ``n`` of ``readings`` ordered by value (highest or lowest first), then by
    entity id: only those as good as the n-th best value are sorted (values compared as
    plain floats first, which is much cheaper than a sort key per reading)."""
    if len(readings) > n:
        values = [r.value for r in readings]
        if highest:
            bar = heapq.nlargest(n, values)[-1]
            readings = [r for r in readings if r.value >= bar]
        else:
            bar = heapq.nsmallest(n, values)[-1]
            readings = [r for r in readings if r.value <= bar]
    if highest:
        readings.sort(key=lambda r: (-r.value, r.entity_id))
    else:
        readings.sort(key=lambda r: (r.value, r.entity_id))
    return readings[:n]
