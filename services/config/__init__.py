"""The configuration: schema (``schema``), reading TOML files (``loader``) and secrets.

Everything a caller needs is importable from here.
"""

from __future__ import annotations

from services.config.loader import feed_from_table, load_config, load_demo_config
from services.config.schema import (
    DOMAINS,
    FORMATS,
    AppConfig,
    BrokerConfig,
    ConfigError,
    FeedConfig,
    GeofenceConfig,
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
    "BrokerConfig",
    "ConfigError",
    "FeedConfig",
    "GeofenceConfig",
    "HttpSettings",
    "JsonMapping",
    "KpiConfig",
    "MapConfig",
    "MonitoringConfig",
    "RuleConfig",
    "feed_from_table",
    "load_config",
    "load_demo_config",
    "rule_for",
]
