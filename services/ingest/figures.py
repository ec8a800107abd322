"""Dashboard figures beyond the KPIs: counts by category (alarms, incidents or entities by
domain, district or priority) and the top N entities by a metric — computed here, drawn by
the dashboard widgets."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.config.schema import Group
from services.ingest.kpi import DistrictIndex, in_group
from services.model import Entity, Reading, Severity

OTHER = "other"
"""The category of what has no domain."""


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
    subjects: Iterable[Subject],
    by: str,
    entities: Mapping[str, Entity],
    districts: DistrictIndex,
    district_names: Iterable[str],
) -> list[Category]:
    """Count ``subjects`` by ``priority`` (every priority, most urgent first, zeros kept),
    ``domain`` (most first) or ``district`` (each declared district, in order; a subject
    whose entity has no position is in none)."""
    listed = list(subjects)
    if by == "priority":
        counts = Counter(subject.severity for subject in listed if subject.severity is not None)
        ordered = sorted(Severity, reverse=True)
        return [Category(severity.label, severity, counts.get(severity, 0)) for severity in ordered]
    if by == "domain":
        domains = Counter(
            (entity.domain if (entity := entities.get(s.entity_id)) and entity.domain else OTHER)
            for s in listed
        )
        return [Category(name, None, n) for name, n in domains.most_common()]
    if by == "district":
        result = []
        for name in district_names:
            inside = 0
            for subject in listed:
                entity = entities.get(subject.entity_id)
                if entity is not None and in_group(Group(district=name), entity, districts):
                    inside += 1
            result.append(Category(name, None, inside))
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
) -> list[Reading]:
    """The ``n`` readings of ``metric`` with the highest (or lowest) values among the entities
    of ``group``; one per entity (its newest), ties by entity id."""
    newest: dict[str, Reading] = {}
    for reading in latest:
        if reading.metric != metric or reading.value != reading.value:  # NaN: no value
            continue
        if group and not in_group(group, entities.get(reading.entity_id), districts):
            continue
        held = newest.get(reading.entity_id)
        if held is None or reading.ts > held.ts:
            newest[reading.entity_id] = reading
    ordered = sorted(
        newest.values(),
        key=lambda r: (-r.value if highest else r.value, r.entity_id),
    )
    return ordered[: max(0, n)]
