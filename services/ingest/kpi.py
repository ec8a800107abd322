"""City KPIs: one metric aggregated over the latest values of a group of entities (every
entity, or those of a domain, a type, a district or an id glob)."""

from __future__ import annotations

import fnmatch
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache

from services.alarms.geofence import Shape
from services.config import DistrictConfig, Group, KpiConfig
from services.model import Entity, Reading

log = logging.getLogger(__name__)

MAX_CACHED_POSITIONS = 100_000
"""Positions remembered per set of districts before the memory starts afresh."""


def aggregate(values: Sequence[float], how: str) -> float | None:
    """Aggregate ``values`` by ``how`` (mean, max, min, sum, count); None when empty."""
    if how == "count":
        return float(len(values))
    if not values:
        return None
    if how == "mean":
        return sum(values) / len(values)
    if how == "max":
        return max(values)
    if how == "min":
        return min(values)
    if how == "sum":
        return float(sum(values))
    raise ValueError(f"unknown aggregate {how!r}")


class DistrictIndex:
    """Which districts a position is in: polygons prepared once, answers remembered per
    position (entities that do not move are tested once)."""

    def __init__(self, districts: Iterable[DistrictConfig]) -> None:
        self._shapes = {district.name: Shape(district.polygons) for district in districts}
        self._inside: dict[tuple[str, float, float], bool] = {}

    def contains(self, name: str, lon: float, lat: float) -> bool:
        """Whether (``lon``, ``lat``) is inside the district ``name`` (False when unknown)."""
        key = (name, lon, lat)
        inside = self._inside.get(key)
        if inside is None:
            shape = self._shapes.get(name)
            inside = shape is not None and shape.contains(lon, lat)
            if len(self._inside) >= MAX_CACHED_POSITIONS:
                self._inside.clear()
            self._inside[key] = inside
        return inside


@lru_cache(maxsize=4)
def district_index(districts: tuple[DistrictConfig, ...]) -> DistrictIndex:
    """The index of ``districts`` (one per configuration, kept between calls)."""
    return DistrictIndex(districts)


def in_group(group: Group, entity: Entity | None, districts: DistrictIndex) -> bool:
    """Whether ``entity`` belongs to ``group``; an unknown entity belongs only to the group
    of every entity, one without a position to no district."""
    if not group:
        return True
    if entity is None:
        return False
    if group.domain and entity.domain != group.domain:
        return False
    if group.type and entity.type != group.type:
        return False
    if group.entities and not fnmatch.fnmatchcase(entity.id, group.entities):
        return False
    if group.district:
        if entity.lat is None or entity.lon is None:
            return False
        return districts.contains(group.district, entity.lon, entity.lat)
    return True


def group_value(
    kpi: KpiConfig,
    values: Mapping[str, float],
    entity_of: Callable[[str], Entity | None],
    districts: DistrictIndex,
) -> tuple[float | None, list[str]]:
    """``kpi`` over the entities' values ({entity id: value}; NaN ones left out), only those
    in its group; with the ids of the entities that counted."""
    counted = [
        entity_id
        for entity_id, value in values.items()
        if not math.isnan(value)
        and (not kpi.group or in_group(kpi.group, entity_of(entity_id), districts))
    ]
    return aggregate([values[entity_id] for entity_id in counted], kpi.aggregate), counted


class GroupMembers:
    """Which entities belong to which groups (of KPIs, of dashboard widgets), kept between
    calls: an entity is tested again only when its domain, type or position changed (a
    group test is a glob match or a polygon test, and the KPIs and dashboards are computed
    every second over every entity). A group once given is followed from then on."""

    def __init__(self) -> None:
        self._looks: dict[str, _Looks] = {}
        self._sets: dict[Group, set[str]] = {}

    def update(
        self, known: Mapping[str, Entity], groups: Iterable[Group], districts: DistrictIndex
    ) -> None:
        """Follow the entities ``known`` now, for ``groups`` and every group of earlier
        calls."""
        looks = self._looks
        changed: list[Entity] = []
        for entity_id, entity in known.items():
            now = (entity.domain, entity.type, entity.lat, entity.lon)
            if looks.get(entity_id) != now:
                looks[entity_id] = now
                changed.append(entity)
        gone = looks.keys() - known.keys() if len(looks) != len(known) else set()
        for entity_id in gone:
            del looks[entity_id]
        if changed or gone:
            for group, members in self._sets.items():
                members.difference_update(gone)
                for entity in changed:
                    if in_group(group, entity, districts):
                        members.add(entity.id)
                    else:
                        members.discard(entity.id)
        for group in groups:
            if group not in self._sets:
                self._sets[group] = {
                    entity_id
                    for entity_id, entity in known.items()
                    if in_group(group, entity, districts)
                }

    def follows(self, group: Group) -> bool:
        """Whether ``group`` was given to :meth:`update` (its members are kept)."""
        return group in self._sets

    def members(self, group: Group) -> set[str]:
        """The ids of the entities in ``group`` (after :meth:`update` with it)."""
        return self._sets.get(group, set())


_Looks = tuple[str, str, float | None, float | None]


def compute_kpis(
    kpis: Sequence[KpiConfig],
    latest: Iterable[Reading],
    entities: Iterable[Entity] | Mapping[str, Entity],
    districts: Sequence[DistrictConfig] | DistrictIndex,
    members: GroupMembers | None = None,
) -> dict[str, float | None]:
    """The value of every KPI over the latest readings of the entities in its group
    (``members``: group memberships kept from earlier calls)."""
    by_metric: dict[str, list[Reading]] = {}
    for reading in latest:  # every latest reading, each second: no list made per reading
        same_metric = by_metric.get(reading.metric)
        if same_metric is None:
            by_metric[reading.metric] = [reading]
        else:
            same_metric.append(reading)
    known = entities if isinstance(entities, Mapping) else {e.id: e for e in entities}
    index = districts if isinstance(districts, DistrictIndex) else district_index(tuple(districts))
    members = members if members is not None else GroupMembers()
    members.update(known, {kpi.group for kpi in kpis if kpi.group}, index)
    selected: dict[tuple[str, Group], list[float]] = {}
    values: dict[str, float | None] = {}
    for kpi in kpis:
        key = (kpi.metric, kpi.group)
        column = selected.get(key)
        if column is None:
            readings = by_metric.get(kpi.metric, [])
            if kpi.group:
                inside = members.members(kpi.group)
                column = [reading.value for reading in readings if reading.entity_id in inside]
            else:
                column = [reading.value for reading in readings]
            selected[key] = column
        values[kpi.name] = aggregate(column, kpi.aggregate)
    return values
