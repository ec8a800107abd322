"""The config schema: the settings dataclasses, their allowed values and defaults."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from services.addresses import BrokerAddress
from services.config.basemaps import BasemapConfig
from services.config.listen import ListenAddress
from services.config.secrets import lookup_secret
from services.limits import ALARM_HISTORY_DAYS, HISTORY_DAYS, RAW_RETENTION_DAYS
from services.model import Severity

if TYPE_CHECKING:
    from services.config.dashboards import DashboardConfig, KioskConfig

FORMATS = ("json", "ngsi-v2", "ngsi-ld", "sensorthings", "senml", "cap", "owntracks")
FEED_KINDS = ("mqtt", "http")
MQTT_PROTOCOLS = ("3.1.1", "5")
HTTP_AUTH = ("none", "basic", "bearer")
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
TOP_LEVEL_KEYS = (
    "app",
    "map",
    "broker",
    "brokers",
    "feeds",
    "rules",
    "kpis",
    "cache",
    "monitoring",
    "auth",
    "alarms",
    "geofences",
    "sharing",
    "review",
    "districts",
    "dashboards",
    "kiosk",
)
AGGREGATES = ("mean", "max", "min", "sum", "count")
THEMES = ("operator", "dark", "wall")
"""The window's looks (``[app] theme``, ``--theme``); the first is the default."""
RENDERING_MODES = ("auto", "software", "gpu")
"""``[app] rendering``: how the window draws its web views (see ``ui.rendering``); the first
is the default."""
AUTH_MODES = ("auto", "sign-in", "single-user")
"""``[auth] mode``: auto signs in when the users file exists (single-user in the demo)."""
PRIORITY_SEVERITY = {
    1: Severity.CRITICAL,
    2: Severity.HIGH,
    3: Severity.MEDIUM,
    4: Severity.LOW,
}
"""A rule's ``priority`` (1 highest) as the alarm severity of every band it sets."""
GEOFENCE_TRIGGERS = ("enter", "leave")
"""``[[geofences]] trigger``: alarm while inside (enter) or outside (leave); the first is
the default."""
DEFAULT_GEOFENCE_PRIORITY = 3
"""A geofence's ``priority`` when none is given (medium, like most rule bands)."""
SEVERITY_PRIORITY = {severity: priority for priority, severity in PRIORITY_SEVERITY.items()}
"""An alarm's severity as its priority (1 highest)."""
DEFAULT_RULE_SEVERITIES = {
    "low_low": Severity.HIGH,
    "low": Severity.MEDIUM,
    "high": Severity.MEDIUM,
    "high_high": Severity.HIGH,
    "no_data": Severity.MEDIUM,
    "rate": Severity.MEDIUM,
}


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Where to connect, how (protocol, TLS, session) and as whom."""

    url: str
    address: BrokerAddress
    name: str = "default"
    protocol: str = "3.1.1"
    username: str = ""
    password_env: str = ""
    password_keyring: str = ""
    client_id: str = ""
    keepalive: int = 30
    clean_session: bool = True
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    verify_hostname: bool = True
    ws_path: str = "/mqtt"
    separate_process: bool = True
    """Receive this broker's messages in a child process of their own (``false``: on a
    thread of the app, sharing its GIL with ingest and the window)."""

    def password(self) -> str | None:
        """The password, from the environment variable or the OS keyring named in the config."""
        return lookup_secret(self.password_env, self.password_keyring, self.username)


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """How an HTTP feed is polled."""

    url: str
    interval: float = 30.0
    timeout: float = 10.0
    retries: int = 3
    auth: str = "none"
    username: str = ""
    password_env: str = ""
    password_keyring: str = ""
    token_env: str = ""
    verify: bool = True
    ca_file: Path | None = None

    def password(self) -> str | None:
        """The basic-auth password from the environment or the OS keyring."""
        return lookup_secret(self.password_env, self.password_keyring, self.username)

    def token(self) -> str | None:
        """The bearer token from the environment."""
        return os.environ.get(self.token_env) if self.token_env else None


@dataclass(frozen=True, slots=True)
class JsonMapping:
    """Where the ``json`` decoder finds things in a nested payload (dot-separated paths)."""

    id: str = "id"
    ts: str = "ts"
    lat: str = "lat"
    lon: str = "lon"
    name: str = "name"
    type: str = "type"
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """One source (an MQTT subscription or an HTTP poll) and how to read what it sends."""

    name: str
    topic: str = ""
    format: str = "json"
    domain: str = "other"
    qos: int = 0
    kind: str = "mqtt"
    broker: str = "default"
    http: HttpSettings | None = None
    mapping: JsonMapping | None = None
    stale_after: float | None = None
    """Seconds after which the feed's values are stale; None derives it from the feed."""
    no_data_after: float | None = None
    """Seconds without any message before a "no data" alarm of the whole feed raises."""
    crs: str = "wgs84"
    """The datum of the positions it sends: ``wgs84`` or ``gcj02`` (moved to WGS-84 as
    they arrive)."""


SUPPRESSION_OPERATORS = ("<=", ">=", "==", "!=", "<", ">")
"""The comparisons a rule's ``suppressed_when`` may use (longest first, for parsing)."""


@dataclass(frozen=True, slots=True)
class Suppression:
    """A rule's ``suppressed_when``: another metric of the same entity and a comparison,
    e.g. ``maintenance == 1``; while it holds, the rule's alarms are suppressed by design."""

    metric: str
    operator: str
    value: float

    def holds(self, value: float) -> bool:
        """Whether ``value`` (the metric's latest) meets the comparison."""
        return {
            "<": value < self.value,
            "<=": value <= self.value,
            ">": value > self.value,
            ">=": value >= self.value,
            "==": value == self.value,
            "!=": value != self.value,
        }[self.operator]

    def __str__(self) -> str:
        return f"{self.metric} {self.operator} {self.value:g}"


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
    id: str = ""
    """A name for the rule (default ``<metric>:<entity>``)."""
    description: str = ""
    """What the alarm means; shown as the alarm's message."""
    guidance: str = ""
    """What the operator should do, shown with the alarm."""
    on_delay: float = 0.0
    """Seconds a band must hold (by reading time) before the alarm raises."""
    off_delay: float = 0.0
    """Seconds the value must stay out of the band before the alarm clears."""
    on_samples: int = 1
    """Consecutive readings in the band needed to raise."""
    off_samples: int = 1
    """Consecutive readings out of the band needed to clear."""
    rate_limit: float | None = None
    """Units per minute: a rate-of-change alarm while the value changes faster than this
    (up or down) over ``rate_window``. None: no such alarm."""
    rate_window: float = 300.0
    """Seconds of readings the rate is measured over (it is judged once half are there)."""
    latch: bool = False
    """Whether its alarms latch: once cleared they wait for acknowledgement (reset), even if
    acknowledged while active."""
    suppressed_when: Suppression | None = None
    """While this holds for the entity, the rule's alarms are suppressed by design."""
    no_data_after: float | None = None
    """Seconds without a reading (by reading time, against the clock) before a no-data
    alarm raises; the next reading clears it. None: no such alarm."""

    @property
    def name(self) -> str:
        """The rule's id, or one made of its metric and entity pattern."""
        return self.id or f"{self.metric}:{self.entity}"


Position = tuple[float, float]
"""A point as ``(longitude, latitude)``, the GeoJSON order."""
Ring = tuple[Position, ...]
"""A closed ring of points: the last point repeats the first."""
PolygonRings = tuple[Ring, ...]
"""A polygon: its outer boundary first, then its holes (as in GeoJSON)."""


@dataclass(frozen=True, slots=True)
class GeofenceConfig:
    """An area whose entering (or leaving) by an entity raises an alarm.

    ``polygons`` are plain coordinates in GeoJSON order, (longitude, latitude), every ring
    closed: an entity is inside when it is inside any polygon's outer ring and none of that
    polygon's holes. ``dwell`` is how long (in seconds of the entity's update time) it must
    stay on the alarm side before the alarm raises.
    """

    name: str
    polygons: tuple[PolygonRings, ...]
    trigger: str = GEOFENCE_TRIGGERS[0]
    dwell: float = 0.0
    entity: str = "*"
    """A glob on entity ids."""
    types: tuple[str, ...] = ()
    """Entity types it applies to (empty: every type)."""
    priority: int = DEFAULT_GEOFENCE_PRIORITY
    description: str = ""
    """What the alarm means; shown as the alarm's message."""
    guidance: str = ""
    """What the operator should do, shown with the alarm."""
    file: Path | None = None
    """The GeoJSON file the polygons came from (None: given in the config)."""

    @property
    def severity(self) -> Severity:
        """The severity of its alarms (from ``priority``)."""
        return PRIORITY_SEVERITY[self.priority]

    def applies_to(self, entity_id: str, entity_type: str) -> bool:
        """Whether entities of this id and type are watched by this geofence."""
        if self.types and entity_type not in self.types:
            return False
        return self.entity == "*" or fnmatch.fnmatchcase(entity_id, self.entity)

    def geometry(self) -> dict[str, object]:
        """The polygons as a GeoJSON MultiPolygon geometry (plain lists, for the map)."""
        return {
            "type": "MultiPolygon",
            "coordinates": [
                [[list(point) for point in ring] for ring in polygon] for polygon in self.polygons
            ],
        }


@dataclass(frozen=True, slots=True)
class DistrictConfig:
    """``[[districts]]``: a named area (polygons as in :class:`GeofenceConfig`) that KPIs
    and dashboard widgets may be limited to."""

    name: str
    polygons: tuple[PolygonRings, ...]
    file: Path | None = None
    """The GeoJSON file the polygons came from (None: given in the config)."""


@dataclass(frozen=True, slots=True)
class Group:
    """Which entities a KPI (or a dashboard widget) covers; every filter given must hold,
    none given: every entity."""

    domain: str = ""
    """The entity's domain (empty: any)."""
    type: str = ""
    """The entity's type (empty: any)."""
    district: str = ""
    """A ``[[districts]]`` name: the entity's position is inside it (empty: anywhere)."""
    entities: str = ""
    """A glob on entity ids (empty: any)."""

    def __bool__(self) -> bool:
        return bool(self.domain or self.type or self.district or self.entities)


@dataclass(frozen=True, slots=True)
class KpiConfig:
    """A city KPI shown as a gauge: one metric aggregated over the entities of its group
    (every entity unless ``group`` limits them)."""

    name: str
    metric: str
    aggregate: str = "mean"
    minimum: float = 0.0
    maximum: float = 100.0
    unit: str = ""
    warn: float | None = None
    alarm: float | None = None
    decimals: int | None = None
    group: Group = field(default_factory=Group)
    """``domain``, ``type``, ``district``, ``entities``: the entities aggregated over."""


@dataclass(frozen=True, slots=True)
class MapConfig:
    """Initial map view."""

    center: tuple[float, float] = (28.57, 112.36)
    zoom: int = 12
    basemaps: tuple[BasemapConfig, ...] = ()
    """``[[map.basemaps]]``: tile sources to draw under the data (none: a plain background)."""


@dataclass(frozen=True, slots=True)
class MonitoringConfig:
    """The health endpoint (Prometheus metrics over HTTP); off unless ``listen`` is set."""

    listen: ListenAddress | None = None


DEFAULT_SHIFTS = ("07:00", "15:00", "23:00")
"""When shifts start by default (local time): three of eight hours."""


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    """``[review]``: the supervisor's review; ``shifts`` are the local times shifts start."""

    shifts: tuple[str, ...] = DEFAULT_SHIFTS


@dataclass(frozen=True, slots=True)
class SharingConfig:
    """``[sharing]``: operator actions shared with the other workstations on a broker."""

    enabled: bool = True
    """Whether to share (only ever when a broker is configured)."""
    prefix: str = "cityops/city"
    """The topic prefix: ``cityops/<site>`` unless given."""
    broker: str = ""
    """The broker to share through ("": the first one)."""
    accounts: Mapping[str, str] | None = None
    """``accounts``: the highest role each broker account may act with; accounts not
    named may act as operators at most. None: believe the role an action claims."""


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """Who works at this workstation: signed-in local accounts, or the configured operator."""

    mode: str = AUTH_MODES[0]
    users_file: Path | None = None
    """The accounts file (None: ``users.json`` in the platform's config folder)."""


def _default_kiosk() -> KioskConfig:
    """The kiosk settings of a config without ``[kiosk]`` (imported here: dashboards reads
    this module)."""
    from services.config.dashboards import KioskConfig

    return KioskConfig()


@dataclass(frozen=True, slots=True)
class AppConfig:
    """The whole validated configuration."""

    source: str
    title: str = "CityOps"
    operator: str = "operator"
    workstation: str = ""
    """This workstation's name in operator actions (empty: the host name)."""
    theme: str = THEMES[0]
    sound: bool = True
    """Whether alarms sound at this workstation (``[app] sound``; walls set it off)."""
    engine_process: bool = True
    """``[app] engine_process``: feeds, decoding, state, alarms and the cache run in a child
    process of the window's, which hands the window one coalesced delta per tick."""
    rendering: str = RENDERING_MODES[0]
    """``[app] rendering``: ``auto`` (software on a machine without a GPU), ``software`` or
    ``gpu``."""
    brokers: tuple[BrokerConfig, ...] = ()
    feeds: tuple[FeedConfig, ...] = ()
    rules: tuple[RuleConfig, ...] = ()
    geofences: tuple[GeofenceConfig, ...] = ()
    """``[[geofences]]``: areas entities raise alarms in by entering or leaving them."""
    kpis: tuple[KpiConfig, ...] = ()
    districts: tuple[DistrictConfig, ...] = ()
    """``[[districts]]``: named areas KPIs and dashboard widgets may be limited to."""
    dashboards: tuple[DashboardConfig, ...] = ()
    """``[[dashboards]]``: grids of widgets bound to KPIs and series (docks and wall pages)."""
    kiosk: KioskConfig = field(default_factory=_default_kiosk)
    """``[kiosk]``: the wall's rotation of pages (``cityops --kiosk``)."""
    map: MapConfig = field(default_factory=MapConfig)
    retention_days: float = RAW_RETENTION_DAYS
    """``[cache] retention_days``: how long raw readings are kept (48 hours by default)."""
    history_days: Mapping[str, float] = field(default_factory=lambda: dict(HISTORY_DAYS))
    alarm_history_days: float = ALARM_HISTORY_DAYS
    """``[cache] alarm_history_days``: how long alarm transitions and sign-ins are kept."""
    cache_max_mb: float = 4096.0
    """``[cache] max_size_mb``: the cache's disk budget; the oldest history goes beyond it."""
    """``[cache] aggregate_1m_days`` / ``aggregate_15m_days``: how long each history tier
    (1-minute, 15-minute buckets) is kept; ``retention_days`` is the raw tier's."""
    demo: bool = False
    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    sharing: SharingConfig = field(default_factory=SharingConfig)
    chattering_raises: int = 3
    """``[alarms] chattering_raises``: this many raises of one alarm within
    ``chattering_window`` seconds make it chattering."""
    chattering_window: float = 60.0
    note_required_priority: int = 0
    """``[alarms] note_required_priority``: acknowledging an alarm of this priority or a
    more urgent one (1 highest) needs a note; 0: never."""

    @property
    def sharing_broker(self) -> BrokerConfig | None:
        """The broker actions are shared through, or None when sharing is off."""
        if not self.sharing.enabled:
            return None
        name = self.sharing.broker
        return next((b for b in self.brokers if not name or b.name == name), None)

    @property
    def broker(self) -> BrokerConfig | None:
        """The first broker (most configs have exactly one)."""
        return self.brokers[0] if self.brokers else None

    def mqtt_feeds(self, broker: str) -> tuple[FeedConfig, ...]:
        """The MQTT feeds carried by the broker named ``broker``."""
        return tuple(f for f in self.feeds if f.kind == "mqtt" and f.broker == broker)

    def http_feeds(self) -> tuple[FeedConfig, ...]:
        return tuple(f for f in self.feeds if f.kind == "http")

    def geofence(self, name: str) -> GeofenceConfig | None:
        """The geofence called ``name`` (a geofence alarm's metric), or None."""
        return next((fence for fence in self.geofences if fence.name == name), None)


def rule_for(rules: Sequence[RuleConfig], entity_id: str, metric: str) -> RuleConfig | None:
    """The first rule that applies to ``metric`` of ``entity_id`` (rules are in priority order)."""
    return next(
        (
            rule
            for rule in rules
            if rule.metric == metric
            and (rule.entity == "*" or fnmatch.fnmatchcase(entity_id, rule.entity))
        ),
        None,
    )
