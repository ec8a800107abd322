"""A KPI's dial gauge as the workstation and the dashboards show it."""

from __future__ import annotations

from services.config import KpiConfig
from ui.config_terms import config_text
from widgets.gauge import Gauge


def kpi_gauge(kpi: KpiConfig, title: str = "") -> Gauge:
    """A dial gauge for ``kpi`` (titled ``title``, else the KPI's name), showing no value yet."""
    gauge = Gauge(
        title or config_text(kpi.name),
        kpi.minimum,
        kpi.maximum,
        config_text(kpi.unit),
        kpi.warn,
        kpi.alarm,
        decimals=kpi.decimals,
    )
    gauge.set_value(None, stale=True)
    return gauge
