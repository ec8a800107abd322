"""The configuration: schema (``schema``), reading TOML files (``loader``) and secrets.

Everything a caller needs is importable from here.
"""

from __future__ import annotations

from services.config.loader import (
    feed_from_table,
    load_config,
    load_demo_config,
    parse_config,
)
from services.config.schema import (
    AGGREGATES,
    DEFAULT_RULE_SEVERITIES,
    DOMAINS,
    FEED_KINDS,
    FORMATS,
    HTTP_AUTH,
    MQTT_PROTOCOLS,
    TOP_LEVEL_KEYS,
    AppConfig,
    BrokerConfig,
    ConfigError,
    FeedConfig,
    HttpSettings,
    JsonMapping,
    KpiConfig,
    MapConfig,
    RuleConfig,
    rule_for,
)
from services.config.secrets import lookup_secret

__all__ = [
    "AGGREGATES",
    "DEFAULT_RULE_SEVERITIES",
    "DOMAINS",
    "FEED_KINDS",
    "FORMATS",
    "HTTP_AUTH",
    "MQTT_PROTOCOLS",
    "TOP_LEVEL_KEYS",
    "AppConfig",
    "BrokerConfig",
    "ConfigError",
    "FeedConfig",
    "HttpSettings",
    "JsonMapping",
    "KpiConfig",
    "MapConfig",
    "RuleConfig",
    "feed_from_table",
    "load_config",
    "load_demo_config",
    "lookup_secret",
    "parse_config",
    "rule_for",
]
