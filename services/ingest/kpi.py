"""City KPIs: one metric aggregated over every entity's latest value."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from services.config import KpiConfig
from services.model import Reading


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


def compute_kpis(kpis: Sequence[KpiConfig], latest: Iterable[Reading]) -> dict[str, float | None]:
    """The value of every KPI over the latest readings."""
    by_metric: dict[str, list[float]] = {}
    for reading in latest:
        by_metric.setdefault(reading.metric, []).append(reading.value)
    return {kpi.name: aggregate(by_metric.get(kpi.metric, []), kpi.aggregate) for kpi in kpis}
