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


def compute_kpis(
    kpis: Sequence[KpiConfig],
    latest: Iterable[Reading],
    entities: Iterable[Entity],
    districts: Sequence[DistrictConfig],
) -> dict[str, float | None]:
    """The value of every KPI over the latest readings of the entities in its group."""
    by_metric: dict[str, list[Reading]] = {}
    for reading in latest:
        by_metric.setdefault(reading.metric, []).append(reading)
    known = {entity.id: entity for entity in entities}
    index = district_index(tuple(districts))
    values: dict[str, float | None] = {}
    for kpi in kpis:
        readings = by_metric.get(kpi.metric, [])
        if kpi.group:
            readings = [r for r in readings if in_group(kpi.group, known.get(r.entity_id), index)]
        values[kpi.name] = aggregate([reading.value for reading in readings], kpi.aggregate)
    return values
