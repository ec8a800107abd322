"""Reading a TOML config into the schema, with errors naming the file, the key and the problem."""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from services.addresses import http_url_problem, parse_broker_url, topic_filter_problem
from services.config.basemaps import CRS_CHOICES, read_basemaps
from services.config.dashboards import read_dashboards, read_group, read_kiosk
from services.config.document import parse_document, read_config_bytes
from services.config.errors import ConfigError
from services.config.geojson import (
    GeometryError,
    polygons_from_geojson,
    read_geojson,
    ring_from_points,
)
from services.config.listen import parse_listen_address
from services.config.schema import (
    AGGREGATES,
    AUTH_MODES,
    DEFAULT_GEOFENCE_PRIORITY,
    DEFAULT_RULE_SEVERITIES,
    DEFAULT_SHIFTS,
    DOMAINS,
    FEED_KINDS,
    FORMATS,
    GEOFENCE_TRIGGERS,
    HTTP_AUTH,
    MQTT_PROTOCOLS,
    PRIORITY_SEVERITY,
    RENDERING_MODES,
    SUPPRESSION_OPERATORS,
    THEMES,
    TOP_LEVEL_KEYS,
    AppConfig,
    AuthConfig,
    BrokerConfig,
    DistrictConfig,
    FeedConfig,
    GeofenceConfig,
    HttpSettings,
    JsonMapping,
    KpiConfig,
    MapConfig,
    MonitoringConfig,
    PolygonRings,
    ReviewConfig,
    RuleConfig,
    SharingConfig,
    Suppression,
)
from services.geo.gcj02 import gcj02_to_wgs84
from services.limits import (
    ALARM_HISTORY_DAYS,
    HISTORY_DAYS,
    MAX_GEOFENCE_POINTS,
    MAX_GEOFENCES,
    MAX_RULE_DELAY_S,
    MAX_RULE_SAMPLES,
    RAW_RETENTION_DAYS,
)
from services.model import Severity
from services.timeutil import clock_minutes

MAX_RETENTION_DAYS = 3650.0
MAX_CACHE_MB = 16.0 * 1024 * 1024
"""The largest disk budget a config may give the cache (16 TiB)."""
RESERVED_FEED_NAME = "sharing"
"""The pseudo-feed of shared operator actions (``services.sharing.protocol.SHARING_FEED``)."""
MAX_STALE_AFTER_S = 366 * 86400.0
MAX_POLL_INTERVAL_S = 7 * 86400.0
MAX_TIMEOUT_S = 3600.0
"""Upper bounds of durations: longer ones are mistakes, and would overflow timestamps."""


class _Reader:
    """Typed access to one TOML table, raising ConfigError with the full key path."""

    def __init__(
        self, source: str, table: Mapping[str, Any], prefix: str, base_dir: Path | None = None
    ) -> None:
        self.source = source
        self.table = table
        self.prefix = prefix
        self.base_dir = base_dir
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

    def boolean(self, name: str, default: bool) -> bool:
        value = self._get(name, bool, "true or false")
        return default if value is None else bool(value)

    def path(self, name: str) -> Path | None:
        """A file path; relative paths are taken from the config file's folder."""
        text = self.optional_text(name)
        if not text:
            return None
        path = Path(text).expanduser()
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        if not path.is_file():
            raise self.fail(name, f"file not found: {path}")
        return path

    def text_list(self, name: str) -> tuple[str, ...]:
        value = self._get(name, list, "a list of strings")
        if value is None:
            return ()
        if not all(isinstance(item, str) and item for item in value):
            raise self.fail(name, f"must be a list of non-empty strings, got {value!r}")
        return tuple(value)

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
            readers.append(_Reader(self.source, item, key, self.base_dir))
        return readers

    def sub_table(self, name: str) -> _Reader | None:
        value = self._get(name, dict, "a table ([" + name + "])")
        return None if value is None else _Reader(self.source, value, self.key(name), self.base_dir)

    def reject_unknown(self) -> None:
        unknown = sorted(set(self.table) - self._used)
        if unknown:
            raise self.fail(unknown[0], "is not a known setting (check the spelling)")


def _describe(value: object) -> str:
    kinds = {str: "text", int: "a number", float: "a number", bool: "true/false", list: "a list"}
    return f"{kinds.get(type(value), type(value).__name__)} ({value!r})"[:80]


def load_config(path: str | os.PathLike[str]) -> AppConfig:
    """Read and validate a TOML config file; raises ConfigError naming file, key and problem."""
    data = read_config_bytes(path)
    return parse_config(data, str(path), base_dir=Path(path).resolve().parent)


def load_demo_config() -> AppConfig:
    """The configuration that ships with the app for the demo city."""
    folder = resources.files("resources")
    text = folder.joinpath("demo.toml").read_bytes()
    base_dir = folder if isinstance(folder, Path) else None  # its files sit next to it
    return replace(parse_config(text, "resources/demo.toml", base_dir), demo=True)


def parse_config(data: bytes, source: str, base_dir: Path | None = None) -> AppConfig:
    """Validate TOML ``data``; ``source`` names it in error messages, ``base_dir`` anchors
    relative file paths."""
    document = parse_document(data, source)
    root = _Reader(source, document, "", base_dir)
    for key in document:
        if key not in TOP_LEVEL_KEYS:
            raise root.fail(key, "is not a known setting (check the spelling)")

    app = root.sub_table("app")
    workstation = ""
    title, operator, theme = "CityOps", "operator", THEMES[0]
    sound = engine_process = True
    rendering = RENDERING_MODES[0]
    if app is not None:
        title = app.text("title", title)
        operator = app.text("operator", operator)
        workstation = app.text("workstation", workstation)
        theme = app.choice("theme", THEMES, theme)
        sound = app.boolean("sound", sound)
        engine_process = app.boolean("engine_process", engine_process)
        rendering = app.choice("rendering", RENDERING_MODES, rendering)
        app.reject_unknown()

    brokers = _read_brokers(root)
    broker_names = [broker.name for broker in brokers]
    feeds = tuple(_read_feed(reader, broker_names) for reader in root.table_list("feeds"))
    _ensure_unique(source, "feeds", [feed.name for feed in feeds])
    rules = tuple(_read_rule(reader) for reader in root.table_list("rules"))
    _ensure_rules_reachable(source, rules)
    geofences = _read_geofences(root)
    districts = _read_districts(root)
    district_names = [district.name for district in districts]
    kpis = tuple(_read_kpi(reader, district_names) for reader in root.table_list("kpis"))
    _ensure_unique(source, "kpis", [kpi.name for kpi in kpis])
    dashboards = read_dashboards(root, [kpi.name for kpi in kpis], district_names)
    kiosk = read_kiosk(root.sub_table("kiosk"), {d.name: d for d in dashboards})
    map_config = _read_map(root.sub_table("map"))

    retention_days = RAW_RETENTION_DAYS
    history_days = dict(HISTORY_DAYS)
    alarm_history_days = ALARM_HISTORY_DAYS
    max_size_mb = 4096.0
    cache = root.sub_table("cache")
    if cache is not None:
        retention_days = _positive(
            cache, "retention_days", retention_days, MAX_RETENTION_DAYS, "days"
        )
        max_size_mb = _positive(cache, "max_size_mb", max_size_mb, MAX_CACHE_MB, "MB")
        for tier, default in HISTORY_DAYS.items():
            history_days[tier] = _positive(
                cache, f"aggregate_{tier}_days", default, MAX_RETENTION_DAYS, "days"
            )
        alarm_history_days = _positive(
            cache, "alarm_history_days", alarm_history_days, MAX_RETENTION_DAYS, "days"
        )
        cache.reject_unknown()

    monitoring = _read_monitoring(root.sub_table("monitoring"))
    review = _read_review(root.sub_table("review"))
    sharing = _read_sharing(root.sub_table("sharing"), brokers)
    auth = _read_auth(root.sub_table("auth"))
    note_required_priority = 0
    chattering_raises, chattering_window = 3, 60.0
    alarms = root.sub_table("alarms")
    if alarms is not None:
        chattering_raises = alarms.integer("chattering_raises", chattering_raises)
        if not 2 <= chattering_raises <= MAX_RULE_SAMPLES:
            raise alarms.fail(
                "chattering_raises",
                f"must be between 2 and {MAX_RULE_SAMPLES}, got {chattering_raises}",
            )
        chattering_window = _positive(alarms, "chattering_window", 60.0, MAX_RULE_DELAY_S)
        note_required_priority = alarms.integer("note_required_priority", 0)
        if note_required_priority not in (0, *PRIORITY_SEVERITY):
            raise alarms.fail(
                "note_required_priority",
                f"must be 0 (never) or a priority 1 to 4, got {note_required_priority}",
            )
        alarms.reject_unknown()
    root.reject_unknown()
    return AppConfig(
        source=source,
        title=title,
        operator=operator,
        workstation=workstation,
        theme=theme,
        sound=sound,
        engine_process=engine_process,
        rendering=rendering,
        brokers=brokers,
        feeds=feeds,
        rules=rules,
        geofences=geofences,
        kpis=kpis,
        districts=districts,
        dashboards=dashboards,
        kiosk=kiosk,
        map=map_config,
        retention_days=retention_days,
        history_days=history_days,
        alarm_history_days=alarm_history_days,
        cache_max_mb=max_size_mb,
        monitoring=monitoring,
        review=review,
        auth=auth,
        note_required_priority=note_required_priority,
        sharing=sharing,
        chattering_raises=chattering_raises,
        chattering_window=chattering_window,
    )


def _ensure_rules_reachable(source: str, rules: Sequence[RuleConfig]) -> None:
    """Refuse a rule that can never apply: the first rule matching an entity's metric wins,
    so a later rule for the same metric with the same entity pattern, or after a rule for
    every entity ("*"), would be silently ignored (overlapping rules with other
    priorities)."""
    seen: dict[tuple[str, str], int] = {}
    for index, rule in enumerate(rules):
        earlier = seen.get((rule.metric, rule.entity), seen.get((rule.metric, "*")))
        if earlier is not None:
            raise ConfigError(
                source,
                f"rules[{index}].entity",
                f"rules[{earlier}] already applies to {rule.metric!r} of every entity this"
                f" rule names ({rule.entity!r}), and the first matching rule wins: this one"
                " would never apply (put the narrower rule first, or merge them)",
            )
        seen.setdefault((rule.metric, rule.entity), index)


def _ensure_unique(source: str, key: str, names: list[str]) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            raise ConfigError(source, f"{key}[{index}].name", f"{name!r} is used twice")
        seen.add(name)


def _positive(
    reader: _Reader, name: str, default: float, maximum: float, unit: str = "seconds"
) -> float:
    """A number above 0 and at most ``maximum`` (so timestamp arithmetic cannot overflow)."""
    value = reader.number(name, default)
    assert value is not None
    if value <= 0:
        raise reader.fail(name, f"must be greater than 0, got {value:g}")
    if value > maximum:
        raise reader.fail(name, f"must be at most {maximum:,.0f} {unit}, got {value:g}")
    return value


def _read_sharing(reader: _Reader | None, brokers: Sequence[BrokerConfig]) -> SharingConfig:
    """``[sharing]``: on unless ``enabled = false``; the topic prefix (``prefix``, or
    ``cityops/<site>``) and the broker (``broker``, by name; the first by default)."""
    if reader is None:
        return SharingConfig()
    enabled = reader.boolean("enabled", True)
    site = reader.text("site", "city")
    prefix = reader.text("prefix", f"cityops/{site}").strip().rstrip("/")
    problem = topic_filter_problem(prefix)
    if not problem and any(c in prefix for c in "+#"):
        problem = "must not contain MQTT wildcards (+ or #)"
    if problem or not prefix:
        raise reader.fail("prefix" if "prefix" in reader.table else "site", problem or "is empty")
    accounts = _sharing_accounts(reader)
    broker = reader.text("broker", "")
    if broker and broker not in [b.name for b in brokers]:
        names = ", ".join(b.name for b in brokers) or "none configured"
        raise reader.fail("broker", f"names no configured broker ({names})")
    reader.reject_unknown()
    return SharingConfig(enabled=enabled, prefix=prefix, broker=broker, accounts=accounts)


ROLE_NAMES = ("viewer", "operator", "supervisor", "admin")
"""The roles of ``services.auth.roles.Role``, least first (config reads no auth code)."""


def _sharing_accounts(reader: _Reader) -> dict[str, str] | None:
    """``[sharing] accounts = { "<broker user>" = "<highest role>", ... }``."""
    table = reader.sub_table("accounts")
    if table is None:
        return None
    accounts: dict[str, str] = {}
    for account in list(table.table):
        accounts[account] = table.choice(account, ROLE_NAMES, "operator")
    table.reject_unknown()
    return accounts


def _read_monitoring(reader: _Reader | None) -> MonitoringConfig:
    if reader is None:
        return MonitoringConfig()
    text = reader.text("listen")
    try:
        listen = parse_listen_address(text)
    except ValueError as error:
        raise reader.fail("listen", str(error)) from None
    reader.reject_unknown()
    return MonitoringConfig(listen=listen)


def _read_review(reader: _Reader | None) -> ReviewConfig:
    """``[review]``: the times shifts start (``HH:MM`` local time, at least one)."""
    if reader is None:
        return ReviewConfig()
    shifts = reader.text_list("shifts") or DEFAULT_SHIFTS
    for text in shifts:
        try:
            clock_minutes(text)
        except ValueError as error:
            raise reader.fail("shifts", str(error)) from None
    if len({clock_minutes(text) for text in shifts}) != len(shifts):
        raise reader.fail("shifts", "lists the same time twice")
    reader.reject_unknown()
    return ReviewConfig(shifts=tuple(shifts))


def _read_auth(reader: _Reader | None) -> AuthConfig:
    """``[auth]``: the sign-in mode and the accounts file (which need not exist yet: ``cityops
    users add`` creates it); a relative path is taken from the config file's folder."""
    if reader is None:
        return AuthConfig()
    mode = reader.choice("mode", AUTH_MODES, AUTH_MODES[0])
    users_file = None
    text = reader.optional_text("users_file")
    if text:
        if "\0" in text:
            raise reader.fail("users_file", "must not contain a NUL character")
        try:
            users_file = Path(text).expanduser()
            if not users_file.is_absolute() and reader.base_dir is not None:
                users_file = reader.base_dir / users_file
            is_folder = users_file.is_dir()
        except (OSError, RuntimeError) as error:  # an unknown ~user, a name too long
            raise reader.fail("users_file", f"cannot be used: {error}") from None
        if is_folder:
            raise reader.fail("users_file", f"is a folder, not a file: {users_file}")
    reader.reject_unknown()
    return AuthConfig(mode=mode, users_file=users_file)


def _read_brokers(root: _Reader) -> tuple[BrokerConfig, ...]:
    single = root.sub_table("broker")
    many = root.table_list("brokers")
    if single is not None and many:
        raise root.fail("brokers", "use either [broker] or [[brokers]], not both")
    brokers = (
        [_read_broker(single, "default")]
        if single is not None
        else [_read_broker(reader, "") for reader in many]
    )
    _ensure_unique(root.source, "brokers", [broker.name for broker in brokers])
    return tuple(brokers)


def _read_broker(reader: _Reader, default_name: str) -> BrokerConfig:
    url = reader.text("url")
    try:
        address = parse_broker_url(url)
    except ValueError as error:
        raise reader.fail("url", str(error)) from None
    if "password" in reader.table:
        raise reader.fail(
            "password",
            "passwords are never stored in the config; name an environment variable "
            "with password_env (or a keyring service with password_keyring) instead",
        )
    keepalive = reader.integer("keepalive", 30)
    if not 5 <= keepalive <= 3600:
        raise reader.fail("keepalive", f"must be between 5 and 3600 seconds, got {keepalive}")
    name = reader.text("name", default_name or None)
    clean_session = reader.boolean("clean_session", True)
    client_id = reader.optional_text("client_id")
    if not clean_session and not client_id:
        raise reader.fail(
            "client_id", "is required for a persistent session (clean_session = false)"
        )
    cert_file = reader.path("cert_file")
    key_file = reader.path("key_file")
    if (cert_file is None) != (key_file is None):
        raise reader.fail("key_file", "cert_file and key_file go together")
    ca_file = reader.path("ca_file")
    if (ca_file or cert_file) and not address.tls:
        raise reader.fail("url", "TLS files are set, so the URL must be mqtts:// or wss://")
    config = BrokerConfig(
        url=url,
        address=address,
        name=name,
        protocol=reader.choice("protocol", MQTT_PROTOCOLS, "3.1.1"),
        username=reader.optional_text("username"),
        password_env=reader.optional_text("password_env"),
        password_keyring=reader.optional_text("password_keyring"),
        client_id=client_id,
        keepalive=keepalive,
        clean_session=clean_session,
        ca_file=ca_file,
        cert_file=cert_file,
        key_file=key_file,
        verify_hostname=reader.boolean("verify_hostname", True),
        ws_path=reader.text("ws_path", "/mqtt"),
        separate_process=reader.boolean("separate_process", True),
    )
    reader.reject_unknown()
    return config


def _read_feed(reader: _Reader, broker_names: list[str]) -> FeedConfig:
    kind = reader.choice("kind", FEED_KINDS, "http" if "url" in reader.table else "mqtt")
    name = reader.text("name")
    if name == RESERVED_FEED_NAME:
        raise reader.fail(
            "name", f"{name!r} is the feed shared operator actions arrive on; choose another"
        )
    format_name = reader.choice("format", FORMATS, "json")
    domain = reader.choice("domain", DOMAINS, "other")
    mapping_table = reader.sub_table("mapping")
    mapping = _read_mapping(mapping_table) if mapping_table is not None else None
    if mapping is not None and format_name != "json":
        raise reader.fail("mapping", 'a field mapping applies to format = "json" only')
    stale_after = (
        _positive(reader, "stale_after", 0.0, MAX_STALE_AFTER_S)
        if "stale_after" in reader.table
        else None
    )
    no_data_after = (
        _positive(reader, "no_data_after", 0.0, MAX_RULE_DELAY_S)
        if "no_data_after" in reader.table
        else None
    )
    crs = reader.choice("crs", CRS_CHOICES, CRS_CHOICES[0])
    if kind == "http":
        feed = FeedConfig(
            crs=crs,
            no_data_after=no_data_after,
            name=name,
            format=format_name,
            domain=domain,
            kind="http",
            broker="",
            http=_read_http(reader),
            mapping=mapping,
            stale_after=stale_after,
        )
        reader.reject_unknown()
        return feed
    if not broker_names:
        raise ConfigError(reader.source, "broker", "is required when MQTT [[feeds]] are configured")
    broker = reader.text("broker", broker_names[0])
    if broker not in broker_names:
        raise reader.fail(
            "broker", f"no broker named {broker!r} (known: {', '.join(broker_names)})"
        )
    topic = reader.text("topic")
    problem = topic_filter_problem(topic)
    if problem:
        raise reader.fail("topic", problem)
    qos = reader.integer("qos", 0)
    if qos not in (0, 1, 2):
        raise reader.fail("qos", f"must be 0, 1 or 2, got {qos}")
    feed = FeedConfig(
        name=name,
        topic=topic,
        format=format_name,
        domain=domain,
        qos=qos,
        kind="mqtt",
        broker=broker,
        mapping=mapping,
        stale_after=stale_after,
        no_data_after=no_data_after,
        crs=crs,
    )
    reader.reject_unknown()
    return feed


def feed_from_table(
    table: Mapping[str, Any], broker_names: list[str], source: str = "new feed"
) -> FeedConfig:
    """Validate one feed given as a ``[[feeds]]`` table (e.g. from the Add feed dialog)."""
    return _read_feed(_Reader(source, table, ""), broker_names)


def _read_http(reader: _Reader) -> HttpSettings:
    url = reader.text("url")
    problem = http_url_problem(url)
    if problem:
        raise reader.fail("url", problem)
    retries = reader.integer("retries", 3)
    if not 0 <= retries <= 10:
        raise reader.fail("retries", f"must be between 0 and 10, got {retries}")
    auth = reader.choice("auth", HTTP_AUTH, "none")
    settings = HttpSettings(
        url=url,
        interval=_positive(reader, "interval", 30.0, MAX_POLL_INTERVAL_S),
        timeout=_positive(reader, "timeout", 10.0, MAX_TIMEOUT_S),
        retries=retries,
        auth=auth,
        username=reader.optional_text("username"),
        password_env=reader.optional_text("password_env"),
        password_keyring=reader.optional_text("password_keyring"),
        token_env=reader.optional_text("token_env"),
        verify=reader.boolean("verify", True),
        ca_file=reader.path("ca_file"),
    )
    if "password" in reader.table or "token" in reader.table:
        key = "password" if "password" in reader.table else "token"
        raise reader.fail(
            key, "secrets are never stored in the config; use password_env or token_env"
        )
    if auth == "basic" and not settings.username:
        raise reader.fail("username", 'is required with auth = "basic"')
    if auth == "bearer" and not settings.token_env:
        raise reader.fail("token_env", 'is required with auth = "bearer"')
    return settings


def _read_mapping(reader: _Reader) -> JsonMapping:
    defaults = JsonMapping()
    mapping = JsonMapping(
        id=reader.text("id", defaults.id),
        ts=reader.text("ts", defaults.ts),
        lat=reader.text("lat", defaults.lat),
        lon=reader.text("lon", defaults.lon),
        name=reader.text("name", defaults.name),
        type=reader.text("type", defaults.type),
        metrics=reader.text_list("metrics"),
    )
    reader.reject_unknown()
    return mapping


def _read_rule(reader: _Reader) -> RuleConfig:
    metric = reader.text("metric")
    limits = {name: reader.number(name) for name in ("low_low", "low", "high", "high_high")}
    no_data_after = reader.number("no_data_after")
    if no_data_after is not None and not 0 < no_data_after <= MAX_RULE_DELAY_S:
        raise reader.fail(
            "no_data_after",
            f"must be more than 0 and at most {MAX_RULE_DELAY_S:g} seconds, got {no_data_after:g}",
        )
    rate_limit = reader.number("rate_limit")
    if rate_limit is not None and rate_limit <= 0:
        raise reader.fail("rate_limit", f"must be more than 0 per minute, got {rate_limit:g}")
    rate_window = _bounded(reader, "rate_window", 300.0, MAX_RULE_DELAY_S, "seconds")
    if rate_window <= 0:
        raise reader.fail("rate_window", f"must be more than 0 seconds, got {rate_window:g}")
    if no_data_after is None and rate_limit is None and all(v is None for v in limits.values()):
        raise reader.fail(
            "high",
            "a rule needs at least one of low_low, low, high, high_high, no_data_after, rate_limit",
        )
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
    if "priority" in reader.table:
        priority = reader.integer("priority", 3)
        if priority not in PRIORITY_SEVERITY:
            raise reader.fail("priority", f"must be 1 (highest), 2, 3 or 4, got {priority}")
        severities = dict.fromkeys(severities, PRIORITY_SEVERITY[priority])
    for band in severities:
        key = f"{band}_severity"
        text = reader.optional_text(key)
        if not text:
            continue
        try:
            severities[band] = Severity.parse(text)
        except ValueError as error:
            raise reader.fail(key, str(error)) from None
    delays = {
        name: _bounded(reader, name, 0.0, MAX_RULE_DELAY_S, "seconds")
        for name in ("on_delay", "off_delay")
    }
    samples = {name: reader.integer(name, 1) for name in ("on_samples", "off_samples")}
    for name, count in samples.items():
        if not 1 <= count <= MAX_RULE_SAMPLES:
            raise reader.fail(name, f"must be between 1 and {MAX_RULE_SAMPLES}, got {count}")
    rule = RuleConfig(
        metric=metric,
        entity=reader.text("entity", "*"),
        deadband=deadband,
        severities=severities,
        id=reader.optional_text("id"),
        description=reader.optional_text("description"),
        guidance=reader.optional_text("guidance"),
        on_delay=delays["on_delay"],
        off_delay=delays["off_delay"],
        on_samples=samples["on_samples"],
        off_samples=samples["off_samples"],
        no_data_after=no_data_after,
        latch=reader.boolean("latch", False),
        rate_limit=rate_limit,
        rate_window=rate_window,
        suppressed_when=_suppression(reader),
        low_low=limits["low_low"],
        low=limits["low"],
        high=limits["high"],
        high_high=limits["high_high"],
    )
    reader.reject_unknown()
    return rule


def _suppression(reader: _Reader) -> Suppression | None:
    """A rule's ``suppressed_when``: "<metric> <operator> <number>", e.g. "maintenance == 1"."""
    text = reader.optional_text("suppressed_when")
    if not text:
        return None
    for operator in SUPPRESSION_OPERATORS:
        metric, found, number = text.partition(operator)
        if not found:
            continue
        metric = metric.strip()
        try:
            value = float(number.strip())
        except ValueError:
            value = math.nan
        if metric and " " not in metric and math.isfinite(value):
            return Suppression(metric, operator, value)
        break
    raise reader.fail(
        "suppressed_when",
        f"must read '<metric> <comparison> <number>' with one of"
        f" {', '.join(SUPPRESSION_OPERATORS)} (e.g. 'maintenance == 1'), got {text!r:.80}",
    )


def _read_geofences(root: _Reader) -> tuple[GeofenceConfig, ...]:
    """``[[geofences]]``: unique names, at most :data:`MAX_GEOFENCES` of them with at most
    :data:`MAX_GEOFENCE_POINTS` points in all; a GeoJSON file named twice is read once."""
    readers = root.table_list("geofences")
    if len(readers) > MAX_GEOFENCES:
        raise root.fail("geofences", f"at most {MAX_GEOFENCES} geofences, got {len(readers)}")
    documents: dict[Path, object] = {}
    fences: list[GeofenceConfig] = []
    points = 0
    for reader in readers:
        fence = _read_geofence(reader, documents)
        points += sum(len(ring) for polygon in fence.polygons for ring in polygon)
        if points > MAX_GEOFENCE_POINTS:
            raise reader.fail(
                "polygon" if fence.file is None else "file",
                f"brings the geofences' points to {points:,}; "
                f"at most {MAX_GEOFENCE_POINTS:,} are allowed in all",
            )
        fences.append(fence)
    _ensure_unique(root.source, "geofences", [fence.name for fence in fences])
    return tuple(fences)


def _read_geofence(reader: _Reader, documents: dict[Path, object]) -> GeofenceConfig:
    """One geofence: a ``polygon`` in the config or a GeoJSON ``file`` (parsed documents are
    kept in ``documents`` for the next geofence naming the same file)."""
    name = reader.text("name")
    if "|" in name:
        raise reader.fail("name", "must not contain '|' (it separates the parts of alarm ids)")
    polygons, path = _read_polygons(reader, documents)
    priority = reader.integer("priority", DEFAULT_GEOFENCE_PRIORITY)
    if priority not in PRIORITY_SEVERITY:
        raise reader.fail("priority", f"must be 1 (highest), 2, 3 or 4, got {priority}")
    fence = GeofenceConfig(
        name=name,
        polygons=polygons,
        trigger=reader.choice("trigger", GEOFENCE_TRIGGERS, GEOFENCE_TRIGGERS[0]),
        dwell=_bounded(reader, "dwell", 0.0, MAX_RULE_DELAY_S, "seconds"),
        entity=reader.text("entity", "*"),
        types=reader.text_list("types"),
        priority=priority,
        description=reader.optional_text("description"),
        guidance=reader.optional_text("guidance"),
        file=path,
    )
    reader.reject_unknown()
    return fence


def _read_polygons(
    reader: _Reader, documents: dict[Path, object]
) -> tuple[tuple[PolygonRings, ...], Path | None]:
    """The polygons of a geofence or district: a ``polygon`` in the config, or a GeoJSON
    ``file`` (its features named ``feature``; ``member``: the top-level key of a JSON file
    that holds the GeoJSON), and the file they came from. Parsed files are kept in
    ``documents`` for the next table naming the same file. ``crs = "gcj02"`` says the
    points are in GCJ-02 (as Chinese map providers give them): they are moved to WGS-84,
    the datum positions are compared and drawn in."""
    polygons, path = _read_polygons_as_given(reader, documents)
    if reader.choice("crs", CRS_CHOICES, CRS_CHOICES[0]) == "gcj02":
        polygons = tuple(
            tuple(tuple(_from_gcj02(point) for point in ring) for ring in polygon)
            for polygon in polygons
        )
    return polygons, path


def _from_gcj02(point: tuple[float, float]) -> tuple[float, float]:
    lat, lon = gcj02_to_wgs84(point[1], point[0])
    return (lon, lat)


def _read_polygons_as_given(
    reader: _Reader, documents: dict[Path, object]
) -> tuple[tuple[PolygonRings, ...], Path | None]:
    if "polygon" in reader.table and "file" in reader.table:
        raise reader.fail("file", "use either polygon or file, not both")
    feature = reader.optional_text("feature")
    path = None
    if "file" in reader.table:
        path = reader.path("file")
        if path is None:
            raise reader.fail("file", "must not be empty")
        try:
            if path not in documents:
                documents[path] = read_geojson(path)
            polygons = polygons_from_geojson(_member(reader, documents[path]), feature)
        except GeometryError as error:
            where = f"{error.where}: " if error.where else ""
            raise reader.fail(error.setting, f"{path}: {where}{error.problem}") from None
    else:
        if "feature" in reader.table:
            raise reader.fail("feature", "picks a feature of a GeoJSON file, but no file is set")
        if "member" in reader.table:
            raise reader.fail("member", "picks a member of a JSON file, but no file is set")
        raw = reader._get("polygon", list, "a list of [longitude, latitude] points")
        if raw is None:
            raise reader.fail("polygon", "is required (or a GeoJSON file)")
        try:
            polygons = ((ring_from_points(raw),),)
        except GeometryError as error:
            raise ConfigError(
                reader.source, reader.key("polygon") + error.where, error.problem
            ) from None
    return polygons, path


def _member(reader: _Reader, document: object) -> object:
    """The part of a JSON file's ``document`` named by ``member`` (all of it when unset)."""
    member = reader.optional_text("member")
    if not member:
        return document
    if not isinstance(document, dict) or member not in document:
        raise GeometryError("", f"has no top-level member {member!r}", "member")
    return document[member]


def _read_districts(root: _Reader) -> tuple[DistrictConfig, ...]:
    """``[[districts]]``: unique names, each a ``polygon`` or a GeoJSON ``file`` (``feature``
    and ``member`` as for geofences); at most :data:`MAX_GEOFENCES` of them, with at most
    :data:`MAX_GEOFENCE_POINTS` points in all."""
    readers = root.table_list("districts")
    if len(readers) > MAX_GEOFENCES:
        raise root.fail("districts", f"at most {MAX_GEOFENCES} districts, got {len(readers)}")
    documents: dict[Path, object] = {}
    districts: list[DistrictConfig] = []
    points = 0
    for reader in readers:
        name = reader.text("name")
        polygons, path = _read_polygons(reader, documents)
        points += sum(len(ring) for polygon in polygons for ring in polygon)
        if points > MAX_GEOFENCE_POINTS:
            raise reader.fail(
                "polygon" if path is None else "file",
                f"brings the districts' points to {points:,}; "
                f"at most {MAX_GEOFENCE_POINTS:,} are allowed in all",
            )
        reader.reject_unknown()
        districts.append(DistrictConfig(name=name, polygons=polygons, file=path))
    _ensure_unique(root.source, "districts", [district.name for district in districts])
    return tuple(districts)


def _bounded(reader: _Reader, name: str, default: float, upper: float, unit: str) -> float:
    value = reader.number(name, default)
    assert value is not None
    if not 0 <= value <= upper:
        raise reader.fail(name, f"must be between 0 and {upper:g} {unit}, got {value:g}")
    return value


def _read_kpi(reader: _Reader, districts: Sequence[str]) -> KpiConfig:
    minimum = reader.number("min", 0.0)
    assert minimum is not None
    maximum = reader.number("max", 100.0)
    assert maximum is not None
    if maximum <= minimum:
        raise reader.fail("max", f"must be greater than min ({minimum:g}), got {maximum:g}")
    aggregate = reader.choice("aggregate", AGGREGATES, "mean")
    kpi = KpiConfig(
        name=reader.text("name"),
        metric=reader.text("metric"),
        aggregate=aggregate,
        minimum=minimum,
        maximum=maximum,
        unit=reader.optional_text("unit"),
        warn=reader.number("warn"),
        alarm=reader.number("alarm"),
        decimals=_decimals(reader, aggregate),
        group=read_group(reader, districts),
    )
    reader.reject_unknown()
    return kpi


def _decimals(reader: _Reader, aggregate: str) -> int | None:
    if "decimals" not in reader.table:
        return 0 if aggregate == "count" else None
    decimals = reader.integer("decimals", 0)
    if not 0 <= decimals <= 6:
        raise reader.fail("decimals", f"must be between 0 and 6, got {decimals}")
    return decimals


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
    basemaps = read_basemaps(reader)
    reader.reject_unknown()
    return MapConfig(center=center, zoom=zoom, basemaps=basemaps)
