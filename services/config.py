"""The TOML configuration: schema, defaults and validation with clear errors."""

from __future__ import annotations

import itertools
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from services.broker_url import BrokerAddress, parse_broker_url
from services.model import Severity

FORMATS = ("json",)
DOMAINS = (
    "traffic",
    "environment",
    "water",
    "energy",
    "safety",
    "transport",
    "health",
    "city",
    "other",
)
TOP_LEVEL_KEYS = ("app", "map", "broker", "feeds", "rules", "kpis", "cache")
AGGREGATES = ("mean", "max", "min", "sum", "count")
DEFAULT_RULE_SEVERITIES = {
    "low_low": Severity.HIGH,
    "low": Severity.MEDIUM,
    "high": Severity.MEDIUM,
    "high_high": Severity.HIGH,
}


class ConfigError(Exception):
    """A configuration problem, naming the file, the key and what is wrong."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        where = f"{source}: {key}: " if key else f"{source}: "
        super().__init__(where + problem)


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Where to connect and as whom."""

    url: str
    address: BrokerAddress
    username: str = ""
    password_env: str = ""
    client_id: str = ""
    keepalive: int = 30

    def password(self) -> str | None:
        """The password, read from the environment variable named in the config."""
        if not self.password_env:
            return None
        return os.environ.get(self.password_env)


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """One subscription and how to read what arrives on it."""

    name: str
    topic: str
    format: str = "json"
    domain: str = "other"
    qos: int = 0


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """Threshold rule on one metric, optionally limited to some entities."""

    metric: str
    entity: str = "*"
    low_low: float | None = None
    low: float | None = None
    high: float | None = None
    high_high: float | None = None
    deadband: float = 0.0
    severities: Mapping[str, Severity] = field(
        default_factory=lambda: dict(DEFAULT_RULE_SEVERITIES)
    )


@dataclass(frozen=True, slots=True)
class KpiConfig:
    """A city KPI shown as a gauge: one metric aggregated over all entities."""

    name: str
    metric: str
    aggregate: str = "mean"
    minimum: float = 0.0
    maximum: float = 100.0
    unit: str = ""
    warn: float | None = None
    alarm: float | None = None


@dataclass(frozen=True, slots=True)
class MapConfig:
    """Initial map view."""

    center: tuple[float, float] = (28.57, 112.36)
    zoom: int = 12


@dataclass(frozen=True, slots=True)
class AppConfig:
    """The whole validated configuration."""

    source: str
    title: str = "CityOps"
    operator: str = "operator"
    broker: BrokerConfig | None = None
    feeds: tuple[FeedConfig, ...] = ()
    rules: tuple[RuleConfig, ...] = ()
    kpis: tuple[KpiConfig, ...] = ()
    map: MapConfig = field(default_factory=MapConfig)
    retention_days: float = 7.0
    demo: bool = False


T = TypeVar("T")


class _Reader:
    """Typed access to one TOML table, raising ConfigError with the full key path."""

    def __init__(self, source: str, table: Mapping[str, Any], prefix: str) -> None:
        self.source = source
        self.table = table
        self.prefix = prefix
        self._used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.source, self.key(name), problem)

    def _get(self, name: str, kind: type | tuple[type, ...], kind_name: str) -> Any:
        self._used.add(name)
        if name not in self.table:
            return None
        value = self.table[name]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.fail(name, f"must be {kind_name}, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(name, f"must be {kind_name}, got {_describe(value)}")
        return value

    def text(self, name: str, default: str | None = None) -> str:
        value = self._get(name, str, "a string")
        if value is None:
            if default is None:
                raise self.fail(name, "is required")
            return default
        if not value.strip():
            raise self.fail(name, "must not be empty")
        return str(value)

    def optional_text(self, name: str) -> str:
        value = self._get(name, str, "a string")
        return "" if value is None else str(value)

    def number(self, name: str, default: float | None = None) -> float | None:
        value = self._get(name, (int, float), "a number")
        if value is None:
            return default
        if not math.isfinite(value):
            raise self.fail(name, f"must be a finite number, got {value!r}")
        return float(value)

    def integer(self, name: str, default: int) -> int:
        value = self._get(name, int, "a whole number")
        return default if value is None else int(value)

    def choice(self, name: str, options: tuple[str, ...], default: str) -> str:
        value = self.text(name, default)
        if value not in options:
            raise self.fail(name, f"must be one of {', '.join(options)}; got {value!r}")
        return value

    def table_list(self, name: str) -> list[_Reader]:
        value = self._get(name, list, "a list of tables ([[" + name + "]])")
        if value is None:
            return []
        readers = []
        for index, item in enumerate(value):
            key = f"{self.key(name)}[{index}]"
            if not isinstance(item, dict):
                raise ConfigError(self.source, key, f"must be a table, got {_describe(item)}")
            readers.append(_Reader(self.source, item, key))
        return readers

    def sub_table(self, name: str) -> _Reader | None:
        value = self._get(name, dict, "a table ([" + name + "])")
        return None if value is None else _Reader(self.source, value, self.key(name))

    def reject_unknown(self) -> None:
        unknown = sorted(set(self.table) - self._used)
        if unknown:
            raise self.fail(unknown[0], "is not a known setting (check the spelling)")


def _describe(value: object) -> str:
    kinds = {str: "text", int: "a number", float: "a number", bool: "true/false", list: "a list"}
    return f"{kinds.get(type(value), type(value).__name__)} ({value!r})"[:80]


def load_config(path: str | os.PathLike[str]) -> AppConfig:
    """Read and validate a TOML config file; raises ConfigError naming file, key and problem."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(source, "", "file not found") from None
    except OSError as error:
        raise ConfigError(source, "", f"cannot be read ({error.strerror})") from None
    return parse_config(data, source)


def load_demo_config() -> AppConfig:
    """The configuration that ships with the app for the demo city."""
    text = resources.files("resources").joinpath("demo.toml").read_bytes()
    return replace(parse_config(text, "resources/demo.toml"), demo=True)


def parse_config(data: bytes, source: str) -> AppConfig:
    """Validate TOML ``data``; ``source`` names it in error messages."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(source, "", f"is not UTF-8 text (byte {error.start})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, "", f"is not valid TOML: {error}") from None
    root = _Reader(source, document, "")
    for key in document:
        if key not in TOP_LEVEL_KEYS:
            raise root.fail(key, "is not a known setting (check the spelling)")

    app = root.sub_table("app")
    title, operator = "CityOps", "operator"
    if app is not None:
        title = app.text("title", title)
        operator = app.text("operator", operator)
        app.reject_unknown()

    broker = _read_broker(root.sub_table("broker"))
    feeds = tuple(_read_feed(reader) for reader in root.table_list("feeds"))
    _ensure_unique(source, "feeds", [feed.name for feed in feeds])
    if feeds and broker is None:
        raise ConfigError(source, "broker", "is required when [[feeds]] are configured")
    rules = tuple(_read_rule(reader) for reader in root.table_list("rules"))
    kpis = tuple(_read_kpi(reader) for reader in root.table_list("kpis"))
    _ensure_unique(source, "kpis", [kpi.name for kpi in kpis])
    map_config = _read_map(root.sub_table("map"))

    retention_days = 7.0
    cache = root.sub_table("cache")
    if cache is not None:
        retention_days = _positive(cache, "retention_days", 7.0)
        cache.reject_unknown()

    root.reject_unknown()
    return AppConfig(
        source=source,
        title=title,
        operator=operator,
        broker=broker,
        feeds=feeds,
        rules=rules,
        kpis=kpis,
        map=map_config,
        retention_days=retention_days,
    )


def _ensure_unique(source: str, key: str, names: list[str]) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            raise ConfigError(source, f"{key}[{index}].name", f"{name!r} is used twice")
        seen.add(name)


def _positive(reader: _Reader, name: str, default: float) -> float:
    value = reader.number(name, default)
    assert value is not None
    if value <= 0:
        raise reader.fail(name, f"must be greater than 0, got {value:g}")
    return value


def _read_broker(reader: _Reader | None) -> BrokerConfig | None:
    if reader is None:
        return None
    url = reader.text("url")
    try:
        address = parse_broker_url(url)
    except ValueError as error:
        raise reader.fail("url", str(error)) from None
    if "password" in reader.table:
        raise reader.fail(
            "password",
            "passwords are never stored in the config; name an environment variable "
            "with password_env instead",
        )
    keepalive = reader.integer("keepalive", 30)
    if not 5 <= keepalive <= 3600:
        raise reader.fail("keepalive", f"must be between 5 and 3600 seconds, got {keepalive}")
    config = BrokerConfig(
        url=url,
        address=address,
        username=reader.optional_text("username"),
        password_env=reader.optional_text("password_env"),
        client_id=reader.optional_text("client_id"),
        keepalive=keepalive,
    )
    reader.reject_unknown()
    return config


def _read_feed(reader: _Reader) -> FeedConfig:
    topic = reader.text("topic")
    problem = _topic_filter_problem(topic)
    if problem:
        raise reader.fail("topic", problem)
    qos = reader.integer("qos", 0)
    if qos not in (0, 1, 2):
        raise reader.fail("qos", f"must be 0, 1 or 2, got {qos}")
    feed = FeedConfig(
        name=reader.text("name"),
        topic=topic,
        format=reader.choice("format", FORMATS, "json"),
        domain=reader.choice("domain", DOMAINS, "other"),
        qos=qos,
    )
    reader.reject_unknown()
    return feed


def _topic_filter_problem(topic: str) -> str:
    levels = topic.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return f"'#' must be a whole last level in an MQTT topic filter: {topic!r}"
        if "+" in level and level != "+":
            return f"'+' must be a whole level in an MQTT topic filter: {topic!r}"
    return ""


def _read_rule(reader: _Reader) -> RuleConfig:
    metric = reader.text("metric")
    limits = {name: reader.number(name) for name in ("low_low", "low", "high", "high_high")}
    if all(value is None for value in limits.values()):
        raise reader.fail("high", "a rule needs at least one of low_low, low, high, high_high")
    order = [(name, value) for name, value in limits.items() if value is not None]
    for (lower_name, lower), (upper_name, upper) in itertools.pairwise(order):
        if lower is not None and upper is not None and lower >= upper:
            raise reader.fail(
                upper_name, f"must be greater than {lower_name} ({lower:g}), got {upper:g}"
            )
    deadband = reader.number("deadband", 0.0)
    assert deadband is not None
    if deadband < 0:
        raise reader.fail("deadband", f"must not be negative, got {deadband:g}")
    severities = dict(DEFAULT_RULE_SEVERITIES)
    for band in severities:
        key = f"{band}_severity"
        text = reader.optional_text(key)
        if not text:
            continue
        try:
            severities[band] = Severity.parse(text)
        except ValueError as error:
            raise reader.fail(key, str(error)) from None
    rule = RuleConfig(
        metric=metric,
        entity=reader.text("entity", "*"),
        deadband=deadband,
        severities=severities,
        **limits,
    )
    reader.reject_unknown()
    return rule


def _read_kpi(reader: _Reader) -> KpiConfig:
    minimum = reader.number("min", 0.0)
    assert minimum is not None
    maximum = reader.number("max", 100.0)
    assert maximum is not None
    if maximum <= minimum:
        raise reader.fail("max", f"must be greater than min ({minimum:g}), got {maximum:g}")
    kpi = KpiConfig(
        name=reader.text("name"),
        metric=reader.text("metric"),
        aggregate=reader.choice("aggregate", AGGREGATES, "mean"),
        minimum=minimum,
        maximum=maximum,
        unit=reader.optional_text("unit"),
        warn=reader.number("warn"),
        alarm=reader.number("alarm"),
    )
    reader.reject_unknown()
    return kpi


def _read_map(reader: _Reader | None) -> MapConfig:
    if reader is None:
        return MapConfig()
    center = MapConfig().center
    raw = reader._get("center", list, "a list [latitude, longitude]")
    if raw is not None:
        if len(raw) != 2 or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in raw
        ):
            raise reader.fail("center", f"must be [latitude, longitude], got {raw!r}")
        lat, lon = float(raw[0]), float(raw[1])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise reader.fail("center", f"is not a valid latitude/longitude: {raw!r}")
        center = (lat, lon)
    zoom = reader.integer("zoom", MapConfig().zoom)
    if not 1 <= zoom <= 19:
        raise reader.fail("zoom", f"must be between 1 and 19, got {zoom}")
    reader.reject_unknown()
    return MapConfig(center=center, zoom=zoom)
