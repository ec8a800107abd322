"""The configuration: schema (``schema``), reading TOML files (``loader``) and secrets.

Everything a caller needs is importable from here.
"""

from __future__ import annotations

from services.config.basemaps import BasemapConfig
from services.config.dashboards import DashboardConfig, KioskConfig, SeriesRef, WidgetConfig
from services.config.errors import ConfigError
from services.config.loader import feed_from_table, load_config, load_demo_config
from services.config.schema import (
    DOMAINS,
    FORMATS,
    AppConfig,
    BrokerConfig,
    DistrictConfig,
    FeedConfig,
    GeofenceConfig,
    Group,
    HttpSettings,
    JsonMapping,
    KpiConfig,
    MapConfig,
    MonitoringConfig,
    RuleConfig,
    rule_for,
)

__all__ = [
    "DOMAINS",
    "FORMATS",
    "AppConfig",
    "BasemapConfig",
    "BrokerConfig",
    "ConfigError",
    "DashboardConfig",
    "DistrictConfig",
    "FeedConfig",
    "GeofenceConfig",
    "Group",
    "HttpSettings",
    "JsonMapping",
    "KioskConfig",
    "KpiConfig",
    "MapConfig",
    "MonitoringConfig",
    "RuleConfig",
    "SeriesRef",
    "WidgetConfig",
    "feed_from_table",
    "load_config",
    "load_demo_config",
    "rule_for",
]
