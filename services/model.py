"""Plain data types shared by services, widgets and ui. No Qt, no I/O."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any, TypeVar

_Pickled = TypeVar("_Pickled")


def pickled_by_fields(cls: type[_Pickled]) -> type[_Pickled]:
    """Pickle a slotted dataclass as its constructor's arguments: its instances cross from
    the engine process to the window's thousands of times a second, and the default for
    slotted dataclasses (``__getstate__``/``__setstate__`` through ``fields()``) takes about
    twice as long both ways."""
    values = attrgetter(*(each.name for each in fields(cls)))  # type: ignore[arg-type]

    def __reduce__(self: _Pickled) -> tuple[type[_Pickled], tuple[Any, ...]]:
        return cls, values(self)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign,assignment]
    return cls


class Severity(enum.IntEnum):
    """Alarm priority, ordered so that a larger value is more urgent."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Return the severity named by ``text`` (case-insensitive); ValueError otherwise."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of {names})") from None


class Condition(enum.StrEnum):
    """A threshold band of a metric, ``no_data`` for a silent one, or ``external`` for alarms
    raised outside CityOps."""

    LOW_LOW = "low_low"
    LOW = "low"
    HIGH = "high"
    HIGH_HIGH = "high_high"
    EXTERNAL = "external"
    NO_DATA = "no_data"
    RATE = "rate"
    """The metric changes faster than its rule's ``rate_limit`` per minute."""
    """No reading of the metric for longer than its rule's ``no_data_after``."""
    GEOFENCE = "geofence"
    """An entity inside (``trigger = "enter"``) or outside (``"leave"``) a geofence; the
    alarm's metric is the geofence's name."""


THRESHOLD_CONDITIONS = (Condition.LOW_LOW, Condition.LOW, Condition.HIGH, Condition.HIGH_HIGH)


class AlarmState(enum.StrEnum):
    """ISA-18.2 alarm states. Shelved, suppressed (by design, a rule's ``suppressed_when``)
    and out-of-service alarms keep following their condition underneath (see
    :attr:`Alarm.shelved_active`) but are not annunciated."""

    NORMAL = "normal"
    UNACKNOWLEDGED = "unacknowledged"
    ACKNOWLEDGED = "acknowledged"
    RTN_UNACKNOWLEDGED = "rtn_unacknowledged"
    SHELVED = "shelved"
    SUPPRESSED = "suppressed"
    OUT_OF_SERVICE = "out_of_service"

    @property
    def is_active(self) -> bool:
        """True while the alarm condition itself is present."""
        return self in (AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED)

    @property
    def needs_ack(self) -> bool:
        return self in (AlarmState.UNACKNOWLEDGED, AlarmState.RTN_UNACKNOWLEDGED)

    @property
    def is_hidden(self) -> bool:
        """Not annunciated (shelved, suppressed or out of service), its condition tracked."""
        return self in HIDDEN_STATES


HIDDEN_STATES = frozenset({AlarmState.SHELVED, AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE})


class FeedState(enum.StrEnum):
    """Health of one configured feed."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    PAUSED = "paused"
    STALE = "stale"
    FAILING = "failing"
    DOWN = "down"


TrackPoint = tuple[float, float, float]
"""(time, lat, lon): where a moving entity was (a point of its track)."""
PositionRow = tuple[str, float, float, float]
"""(entity id, time, lat, lon): a track point as it is stored."""


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one metric of one entity at one time (epoch seconds, UTC)."""

    entity_id: str
    metric: str
    value: float
    ts: float
    feed: str
    unit: str = ""


@pickled_by_fields
@dataclass(slots=True)
class Entity:
    """A thing in the city: station, camera, bus, checkpoint, ..."""

    id: str
    name: str
    type: str = ""
    domain: str = ""
    lat: float | None = None
    lon: float | None = None
    feed: str = ""
    updated_at: float = 0.0
    stale: bool = False
    worst_severity: Severity | None = None

    @property
    def has_location(self) -> bool:
        return self.lat is not None and self.lon is not None

    def copy(self) -> Entity:
        """A copy of it (``dataclasses.replace`` is several times slower on the hot path)."""
        return Entity(
            self.id,
            self.name,
            self.type,
            self.domain,
            self.lat,
            self.lon,
            self.feed,
            self.updated_at,
            self.stale,
            self.worst_severity,
        )


@pickled_by_fields
@dataclass(slots=True)
class Alarm:
    """One alarm per source (entity + metric) and condition; repeats are counted."""

    entity_id: str
    metric: str
    condition: Condition
    severity: Severity
    state: AlarmState
    value: float
    threshold: float
    raised_at: float
    updated_at: float
    count: int = 1
    acked_at: float | None = None
    acked_by: str = ""
    message: str = ""
    revision: int = 0
    """Bumped by the alarm store on every change; consumers keep the highest they saw."""
    shelved_until: float | None = None
    """While shelved: when it unshelves by itself (``math.inf``: once its condition clears)."""
    shelved_by: str = ""
    shelve_note: str = ""
    """Why it was shelved."""
    shelved_active: bool = False
    """While shelved, suppressed or out of service: whether its condition is present (what
    the end of it returns the alarm to)."""
    shelve_changed_at: float = 0.0
    """When it was last shelved or unshelved by someone (the newest such action wins when
    workstations share actions)."""
    assignee: str = ""
    """Who is working on it ("": nobody)."""
    assigned_at: float = 0.0
    """When it was last assigned (the newest assignment wins)."""
    comments: int = 0
    """How many comments its occurrences have (the texts are in the actions table)."""

    @property
    def condition_present(self) -> bool:
        """Whether the alarm condition is present, shelved or not."""
        return self.state.is_active or (self.state.is_hidden and self.shelved_active)

    @property
    def id(self) -> str:
        return alarm_id(self.entity_id, self.metric, self.condition)


def newer_alarm(held: Alarm | None, incoming: Alarm) -> bool:
    """Whether ``incoming`` should replace ``held`` (it is not an older revision)."""
    return held is None or incoming.revision >= held.revision


def alarm_id(entity_id: str, metric: str, condition: Condition | str) -> str:
    """The stable key of an alarm: its source and condition."""
    return f"{entity_id}|{metric}|{condition}"


def priority_of(severity: Severity) -> int:
    """An alarm's severity as a priority, 1 (most urgent) to 4: critical 1, high 2, medium
    3, low 4 (the scale of rule priorities and of incidents)."""
    return len(Severity) + 1 - int(severity)


def severity_of_priority(priority: int) -> Severity:
    """The severity a priority (1 to 4) stands for: its colour and its word."""
    return Severity(len(Severity) + 1 - priority)


INCIDENT_PRIORITIES = (1, 2, 3, 4)
"""The priorities an incident may have, most urgent first."""
INCIDENT_KEY_PREFIX = "incident:"
"""What an incident's entries in the actions table and the audit trail are keyed by, before
its id (their ``alarm_id`` column)."""


class IncidentStatus(enum.StrEnum):
    """Where an incident stands. The moves between them are :data:`INCIDENT_MOVES`; closing
    one, and reopening a closed one, need a supervisor."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_active(self) -> bool:
        """True while someone still has to work on it (open or in progress)."""
        return self in (IncidentStatus.OPEN, IncidentStatus.IN_PROGRESS)

    @property
    def moves(self) -> frozenset[IncidentStatus]:
        """The statuses it may move to from this one."""
        return INCIDENT_MOVES[self]


INCIDENT_MOVES: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.OPEN: frozenset(
        {IncidentStatus.IN_PROGRESS, IncidentStatus.RESOLVED, IncidentStatus.CLOSED}
    ),
    IncidentStatus.IN_PROGRESS: frozenset(
        {IncidentStatus.OPEN, IncidentStatus.RESOLVED, IncidentStatus.CLOSED}
    ),
    IncidentStatus.RESOLVED: frozenset(
        {IncidentStatus.OPEN, IncidentStatus.IN_PROGRESS, IncidentStatus.CLOSED}
    ),
    IncidentStatus.CLOSED: frozenset({IncidentStatus.OPEN}),
}
"""Every status move allowed (the services enforce it, the window offers only these):
anything not closed may move to any other status; a closed incident is final, except that a
supervisor may reopen it (back to open)."""


@dataclass(frozen=True, slots=True)
class Incident:
    """An operator-opened record that groups alarms, entities, notes and actions."""

    id: str
    """A random hex id (uuid4)."""
    title: str
    priority: int
    """1 (most urgent) to 4, like alarm priorities."""
    status: IncidentStatus
    owner: str
    """Who works on it ("": nobody yet)."""
    opened_at: float
    opened_by: str
    updated_at: float
    alarm_ids: tuple[str, ...] = ()
    entity_ids: tuple[str, ...] = ()
    """The entities it concerns: those of its alarms and any linked on their own."""
    notes: int = 0
    """How many notes it has (their texts are in the offline cache)."""
    revision: int = 0
    """Bumped on every change; consumers keep the highest they saw."""

    @property
    def key(self) -> str:
        """Its key in the actions table and the audit trail: ``incident:<id>``."""
        return INCIDENT_KEY_PREFIX + self.id


def newer_incident(held: Incident | None, incoming: Incident) -> bool:
    """Whether ``incoming`` should replace ``held``: a higher revision, or the same revision
    changed later (two workstations that changed it at once)."""
    return held is None or (incoming.revision, incoming.updated_at) >= (
        held.revision,
        held.updated_at,
    )


@dataclass(frozen=True, slots=True)
class IncidentNote:
    """A note written on an incident."""

    id: str
    incident_id: str
    ts: float
    user: str
    workstation: str
    text: str


class TimelineKind(enum.StrEnum):
    """What an entry of an incident's timeline is."""

    ALARM = "alarm"
    """A linked alarm changed state (from the alarm history)."""
    ACTION = "action"
    """Someone acted on a linked alarm (acknowledged, shelved, commented, …)."""
    INCIDENT = "incident"
    """Someone changed the incident itself (opened it, its status, owner, …)."""
    NOTE = "note"
    """Someone wrote a note on the incident."""


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of an incident's timeline, oldest first."""

    ts: float
    kind: TimelineKind
    what: str
    """ALARM: the state the alarm took; ACTION: the action (``ack``, ``shelve``, …);
    INCIDENT: the change (``incident_open``, ``incident_status``, …); NOTE: ``incident_note``."""
    alarm_id: str = ""
    """The alarm concerned (ALARM and ACTION entries)."""
    user: str = ""
    workstation: str = ""
    note: str = ""
    """An action's note or reason, a note's text, or the new value of an incident change."""
    value: float | None = None
    """ALARM: the alarm's value at that moment."""
    state: str = ""
    """The state the alarm took (ALARM, and ACTION when the action changed it)."""
    previous: str = ""
    """The state it left ("" when not known or for its first one; the alarm journal)."""


@dataclass(frozen=True, slots=True)
class OperatorAction:
    """Something an operator did to an alarm (ack, shelve, comment, ...)."""

    alarm_id: str
    action: str
    user: str
    ts: float
    comment: str = ""
    workstation: str = ""
    action_id: str = ""
    """The action's unique id, as shared with other workstations ("" for older entries)."""


@dataclass(frozen=True, slots=True)
class SignInRecord:
    """Someone starting or ending work at a workstation (kept for the handover report)."""

    ts: float
    user: str
    role: str
    workstation: str
    event: str
    """``sign-in`` or ``sign-out``."""


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What became of an operator's command, reported back in a :class:`Delta`.

    ``changed`` lists the alarms the action changed (committed to the cache before this
    result was published), ``skipped`` those it left alone (already acknowledged, or
    unknown), and ``error`` says why nothing was done at all.
    """

    action: str
    user: str
    changed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    error: str = ""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A payload that could not be decoded, kept for the operator to inspect."""

    feed: str
    topic: str
    reason: str
    payload_excerpt: str
    received_at: float


@pickled_by_fields
@dataclass(slots=True)
class FeedHealth:
    """Counters and state of one feed."""

    name: str
    state: FeedState = FeedState.CONNECTING
    messages: int = 0
    errors: int = 0
    rate: float = 0.0
    last_message_at: float | None = None
    detail: str = ""
    stale_after: float | None = None
    """Seconds after which the feed's values are shown as stale (configured or derived)."""


class CacheState(enum.StrEnum):
    """Whether the offline cache is keeping what arrives."""

    OK = "ok"
    DEGRADED = "degraded"
    """Writes fail (disk full, I/O errors): data waits in memory, up to a bound."""
    DAMAGED = "damaged"
    """SQLite reports the file corrupt: it is moved aside at the next start."""


@dataclass(frozen=True, slots=True)
class CacheHealth:
    """The offline cache's state as the operator must see it."""

    state: CacheState = CacheState.OK
    detail: str = ""
    since: float | None = None
    backlog_readings: int = 0
    dropped_readings: int = 0


@dataclass(frozen=True, slots=True)
class AlertArea:
    """Where an external alarm applies (a CAP area), to draw on the map.

    ``geojson`` is a GeoJSON FeatureCollection in lon/lat order; circles are Point features
    with a ``radius_km`` property.
    """

    alarm_id: str
    severity: Severity
    label: str
    geojson: dict[str, object]


@dataclass(frozen=True, slots=True)
class AlarmSystemKpis:
    """How healthy the alarm system itself is (EEMUA 191 / ISA-18.2), over recent raises.

    ``raises_10min``: alarms raised in the last 10 minutes (the benchmark rate is about one;
    two is the most that stays manageable); ``hourly_rate_per_10min``: the mean over the last
    hour; ``flood``: more than ten in ten minutes started it, fewer than five ends it;
    ``standing``: active for more than 24 h; ``stale``: waiting for acknowledgement for more
    than 24 h; ``top``: the most frequent alarms of the last 24 h with their raise counts;
    ``chattering``: alarms raised three or more times within a minute; ``by_priority``:
    raises per severity over 24 h (the guideline: about 80 % low, 15 % medium, 5 % high and
    critical together).
    """

    at: float
    raises_10min: int = 0
    hourly_rate_per_10min: float = 0.0
    flood: bool = False
    flood_since: float | None = None
    active: int = 0
    standing: int = 0
    stale: int = 0
    shelved: int = 0
    """Alarms shelved now."""
    suppressed: int = 0
    """Alarms suppressed by design now."""
    out_of_service: int = 0
    """Alarms out of service now."""
    top: tuple[tuple[str, int], ...] = ()
    chattering: tuple[str, ...] = ()
    by_priority: dict[Severity, int] = field(default_factory=dict)
    raises_24h: int = 0


@dataclass(slots=True)
class Delta:
    """Everything that changed since the previous UI tick, coalesced.

    ``latest`` keeps only the newest reading per (entity, metric); ``alarms`` the newest
    version of each changed alarm.
    """

    entities: dict[str, Entity] = field(default_factory=dict)
    latest: dict[tuple[str, str], Reading] = field(default_factory=dict)
    alarms: dict[str, Alarm] = field(default_factory=dict)
    feeds: dict[str, FeedHealth] = field(default_factory=dict)
    removed_feeds: set[str] = field(default_factory=set)
    brokers: dict[str, FeedState] = field(default_factory=dict)
    areas: dict[str, AlertArea | None] = field(default_factory=dict)
    dead_letters: dict[str, list[DeadLetter]] = field(default_factory=dict)
    """New dead letters per feed, oldest first (the newest few of each feed)."""
    action_results: list[ActionResult] = field(default_factory=list)
    cache: CacheHealth | None = None
    alarm_kpis: AlarmSystemKpis | None = None
    messages: int = 0
    incidents: dict[str, Incident] = field(default_factory=dict)
    """The newest version of each changed incident."""
    removed_entities: set[str] = field(default_factory=set)
    """Entities the views no longer show (a replay going back before they were heard of)."""
    removed_readings: set[tuple[str, str]] = field(default_factory=set)
    """(entity, metric) series the views no longer show a value for."""

    def is_empty(self) -> bool:
        return not (
            self.entities
            or self.latest
            or self.alarms
            or self.feeds
            or self.removed_feeds
            or self.brokers
            or self.areas
            or self.dead_letters
            or self.action_results
            or self.cache is not None
            or self.alarm_kpis is not None
            or self.messages
            or self.incidents
            or self.removed_entities
            or self.removed_readings
        )

    def split(self, max_items: int) -> list[Delta]:
        """This delta as parts of at most ``max_items`` entities, readings and alarms, in
        the order views take them (entities, then readings, then alarms); the last part
        carries everything else (feeds, results, removals, counts). Itself when small."""
        if len(self.entities) + len(self.latest) + len(self.alarms) <= max_items:
            return [self]
        parts = [Delta()]
        room = max_items

        def place() -> Delta:
            nonlocal room
            if room == 0:
                parts.append(Delta())
                room = max_items
            room -= 1
            return parts[-1]

        for key, entity in self.entities.items():
            place().entities[key] = entity
        for series, reading in self.latest.items():
            place().latest[series] = reading
        for key, alarm in self.alarms.items():
            place().alarms[key] = alarm
        last = parts[-1]
        last.feeds = self.feeds
        last.removed_feeds = self.removed_feeds
        last.brokers = self.brokers
        last.areas = self.areas
        last.dead_letters = self.dead_letters
        last.action_results = self.action_results
        last.cache = self.cache
        last.alarm_kpis = self.alarm_kpis
        last.messages = self.messages
        last.incidents = self.incidents
        last.removed_entities = self.removed_entities
        last.removed_readings = self.removed_readings
        return parts

    def put_alarm(self, alarm: Alarm) -> None:
        """Record a changed alarm unless a newer revision of it is already here."""
        if newer_alarm(self.alarms.get(alarm.id), alarm):
            self.alarms[alarm.id] = alarm

    def put_incident(self, incident: Incident) -> None:
        """Record a changed incident unless a newer version of it is already here."""
        if newer_incident(self.incidents.get(incident.id), incident):
            self.incidents[incident.id] = incident


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The last known state, as loaded from the offline cache at start."""

    entities: list[Entity]
    latest: list[Reading]
    alarms: list[Alarm]
    areas: tuple[AlertArea, ...] = ()
    feed_last_message: dict[str, float] = field(default_factory=dict)
    """When each feed last delivered a message (epoch seconds)."""


def transform_geojson(value: Any, transform: Callable[[float, float], tuple[float, float]]) -> Any:
    """A copy of a GeoJSON object with every position in ``coordinates`` (``[lon, lat]``
    order) given by ``transform((lat, lon))`` (a change of datum); other members
    (properties, a circle's ``radius_km``) unchanged."""
    if isinstance(value, dict):
        return {
            key: _transform_positions(item, transform)
            if key == "coordinates"
            else transform_geojson(item, transform)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [transform_geojson(item, transform) for item in value]
    return value


def _transform_positions(
    value: Any, transform: Callable[[float, float], tuple[float, float]]
) -> Any:
    if (
        isinstance(value, list)
        and len(value) >= 2
        and all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in value[:2])
    ):
        lat, lon = transform(float(value[1]), float(value[0]))
        return [lon, lat, *value[2:]]
    if isinstance(value, list):
        return [_transform_positions(item, transform) for item in value]
    return value
