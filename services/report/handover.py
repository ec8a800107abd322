"""The shift handover report of a time window [since, until], built from the offline cache.

:func:`build_report` opens its own read-only connection to the cache file and reads
everything in one read transaction (a consistent picture while ingest keeps writing). What
the report says, and how each figure is defined:

- **summary**: alarms *raised* (transitions into unacknowledged from another state),
  *acknowledged* (``ack`` actions), *cleared* (transitions into normal or "cleared,
  unacknowledged" from any state but the latter: a condition that went away counts once),
  *operator actions* on alarms (every action of the alarm journal), *readings stored* (raw
  samples in the window; where the raw tier no longer reaches back, the 1-minute tier's
  counts), incidents *opened* and *closed* in the window;
- **raises by priority and by domain** (the entity's domain from the entities table);
- **alarm-system KPIs**: :class:`services.alarms.kpis.AlarmStatistics` seeded with the
  window's raises and asked at ``until``, so the EEMUA 191 figures cover the window (its
  last 24 h when the window is longer; the statistics keep one day);
- **standing alarms**: alarms whose condition is present at ``until`` and that were raised
  before ``since`` (active the whole window) or more than :data:`STANDING_AFTER_S` (24 h,
  the figure of the alarm-system KPIs) before ``until``;
- **chattering alarms**: the alarm-system KPIs' definition (``[alarms] chattering_raises``
  raises within ``chattering_window`` seconds), with their raises in the window;
- **to hand over**: alarms still waiting for an acknowledgement at ``until``;
- **incidents** open at ``until`` and those closed within the window, with their timelines
  (notes included) up to ``until``;
- **KPI trends**: each configured KPI at :data:`TREND_POINTS` moments across the window, as
  the gauges compute it (the aggregate of every entity's latest value of the metric), from
  the history tier that fits the window;
- **map**: entity positions (today's: positions are not kept over time) and each one's worst
  annunciated alarm at ``until``;
- **sign-ins** of the window.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from services.alarms.kpis import AlarmStatistics, Raise
from services.config import AppConfig, KpiConfig
from services.ingest.kpi import district_index, group_value
from services.model import (
    INCIDENT_KEY_PREFIX,
    Alarm,
    AlarmState,
    AlarmSystemKpis,
    Entity,
    Incident,
    IncidentStatus,
    Severity,
    SignInRecord,
    TimelineEntry,
    TimelineKind,
)
from services.store import history
from services.store.incidents import load_incidents, timeline
from services.store.journal import journal
from services.store.schema import ALARM_COLUMNS, ENTITY_COLUMNS, alarm_from_row, entity_from_row
from services.store.sign_ins import sign_ins
from services.store.state_at import state_at

log = logging.getLogger(__name__)

OUTPUT_SUFFIXES = (".pdf", ".html", ".htm")
"""The file suffixes a report can be written as (PDF, or standalone HTML)."""
DEFAULT_SPAN_S = 8 * 3_600.0
"""The window of a report when only its end is given: a shift of 8 hours."""
STANDING_AFTER_S = 86_400.0
"""An alarm active longer than this at the end of the window is standing (EEMUA 191's day)."""
TREND_CHUNK = 10
"""Trend moments read per query (the report can be cancelled between them)."""
TREND_POINTS = 100
"""Moments per KPI trend across the window."""
MAX_ENTRIES = 1_000_000
"""The most journal entries read for the counts (a window with more is counted in part,
and says so in :attr:`HandoverReport.truncated`)."""
MAX_INCIDENTS = 2_000
"""The most incidents the report lists."""
MAX_TIMELINE_ENTRIES = 500
"""The newest entries of each incident's timeline that the report shows."""

Progress = Callable[[int, int], None]
"""Called with (steps done, steps in all) as the report is built."""
Cancelled = Callable[[], bool]
"""Asked between steps: True stops the build with :class:`ReportCancelled`."""


class ReportCancelled(Exception):
    """The report's build was cancelled before it finished."""


class ReportError(Exception):
    """The report cannot be built: a bad window, or a cache that cannot be read."""


@dataclass(frozen=True, slots=True)
class Summary:
    """The window's headline figures (see the module's text for their definitions)."""

    alarms_raised: int = 0
    acknowledged: int = 0
    cleared: int = 0
    operator_actions: int = 0
    readings_stored: int = 0
    incidents_opened: int = 0
    incidents_closed: int = 0


@dataclass(frozen=True, slots=True)
class AlarmLine:
    """An alarm as the report lists it: its state at ``until``, its entity's name and
    domain, and how often it was raised in the window."""

    alarm: Alarm
    entity_name: str
    domain: str
    raises: int = 0


@dataclass(frozen=True, slots=True)
class IncidentSection:
    """An incident with its status at ``until`` and its timeline up to then."""

    incident: Incident
    status: IncidentStatus
    timeline: tuple[TimelineEntry, ...]
    closed_at: float | None = None


@dataclass(frozen=True, slots=True)
class KpiTrend:
    """A configured KPI across the window: (time, value or None when no entity had one)."""

    kpi: KpiConfig
    points: tuple[tuple[float, float | None], ...]
    resolution: str
    entities: int
    """How many entities report the metric."""


@dataclass(frozen=True, slots=True)
class MapPoint:
    """An entity on the map at ``until``, with its worst annunciated alarm (None: normal)."""

    entity_id: str
    name: str
    lat: float
    lon: float
    worst: Severity | None = None


@dataclass(frozen=True, slots=True)
class HandoverReport:
    """Everything the handover report shows, for one window."""

    title: str
    since: float
    until: float
    built_at: float
    summary: Summary
    raises_by_priority: dict[Severity, int]
    raises_by_domain: dict[str, int]
    alarm_kpis: AlarmSystemKpis
    standing: tuple[AlarmLine, ...]
    chattering: tuple[AlarmLine, ...]
    unacknowledged: tuple[AlarmLine, ...]
    incidents: tuple[IncidentSection, ...]
    trends: tuple[KpiTrend, ...]
    map_points: tuple[MapPoint, ...]
    sign_ins: tuple[SignInRecord, ...]
    entity_names: dict[str, str] = field(default_factory=dict)
    chatter_raises: int = 3
    chatter_window: float = 60.0
    """Chattering: this many raises within this many seconds."""
    truncated: bool = False
    """The window held more journal entries than :data:`MAX_ENTRIES`: counts are partial."""

    @property
    def open_incidents(self) -> tuple[IncidentSection, ...]:
        """Incidents not closed at ``until``."""
        return tuple(s for s in self.incidents if s.status is not IncidentStatus.CLOSED)

    @property
    def closed_incidents(self) -> tuple[IncidentSection, ...]:
        """Incidents closed within the window."""
        return tuple(s for s in self.incidents if s.status is IncidentStatus.CLOSED)

    def entity_name(self, entity_id: str) -> str:
        """The entity's name (its id when unknown)."""
        return self.entity_names.get(entity_id) or entity_id


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection of its own to the cache file at ``path``."""
    if not path.is_file():
        raise ReportError(f"no offline cache at {path}")
    try:
        conn = sqlite3.connect(
            path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None, timeout=5.0
        )
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as error:
        raise ReportError(f"cannot read the offline cache {path}: {error}") from error
    return conn


def build_report(
    cache_path: Path,
    config: AppConfig,
    since: float,
    until: float,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    now: float | None = None,
) -> HandoverReport:
    """The handover report of [since, until] from the cache file ``cache_path`` (see the
    module's text); ReportError for a bad window or an unreadable cache, ReportCancelled
    when ``cancelled`` says so."""
    if not (math.isfinite(since) and math.isfinite(until)) or since >= until:
        raise ReportError("the report's window must start before it ends")
    conn = open_read_only(cache_path)
    try:
        conn.execute("BEGIN")  # one read transaction: a consistent picture
        return _Builder(
            conn, config, since, until, progress=progress, cancelled=cancelled, now=now
        ).build()
    except sqlite3.Error as error:
        raise ReportError(f"cannot read the offline cache {cache_path}: {error}") from error
    finally:
        conn.close()


class _Builder:
    """One build: the steps in order, progress after each, cancellation between them."""

    STEPS = 7

    def __init__(
        self,
        conn: sqlite3.Connection,
        config: AppConfig,
        since: float,
        until: float,
        *,
        progress: Progress | None,
        cancelled: Cancelled | None,
        now: float | None,
    ) -> None:
        self.conn = conn
        self.config = config
        self.since = since
        self.until = until
        self.now = time.time() if now is None else now
        self._progress = progress or (lambda _done, _total: None)
        self._known: dict[str, Entity] | None = None
        self._values_cache: dict[
            tuple[str, tuple[float, ...]], dict[float, dict[str, tuple[float, float]]]
        ] = {}
        self._cancelled = cancelled or (lambda: False)
        self.total = self.STEPS + len(config.kpis)
        self.done = 0

    def check(self) -> None:
        """Raise ReportCancelled when the caller asked to stop."""
        if self._cancelled():
            raise ReportCancelled("the handover report was cancelled")

    def step(self) -> None:
        """One more step done."""
        self.done += 1
        self._progress(self.done, self.total)
        self.check()

    def build(self) -> HandoverReport:
        started = time.perf_counter()
        self._progress(0, self.total)
        self.check()
        names, domains = self._entities()
        entries = journal(self.conn, self.since, self.until, MAX_ENTRIES)
        truncated = len(entries) >= MAX_ENTRIES
        raises = [e for e in entries if _is_raise(e)]
        self.step()

        alarms = self._alarms({e.alarm_id for e in entries})
        raise_counts = Counter(e.alarm_id for e in raises)
        by_priority: Counter[Severity] = Counter()
        by_domain: Counter[str] = Counter()
        seeded: list[Raise] = []
        for entry in raises:
            alarm = alarms.get(entry.alarm_id)
            if alarm is None:
                continue
            by_priority[alarm.severity] += 1
            by_domain[domains.get(alarm.entity_id) or "other"] += 1
            seeded.append(Raise(entry.ts, entry.alarm_id, alarm.severity))
        self.step()

        readings = self._readings_stored()
        self.step()

        at_end = state_at(self.conn, self.until)
        self.step()

        statistics = AlarmStatistics(self.config.chattering_raises, self.config.chattering_window)
        statistics.seed(seeded)
        kpis = statistics.kpis(at_end.alarms, self.until)

        def line(alarm: Alarm) -> AlarmLine:
            return AlarmLine(
                alarm,
                names.get(alarm.entity_id) or alarm.entity_id,
                domains.get(alarm.entity_id, ""),
                raise_counts.get(alarm.id, 0),
            )

        standing = tuple(
            line(a)
            for a in at_end.alarms
            if a.condition_present
            and (a.raised_at <= self.since or self.until - a.raised_at > STANDING_AFTER_S)
        )
        chattering = tuple(line(alarms[key]) for key in kpis.chattering if key in alarms)
        unacknowledged = tuple(line(a) for a in at_end.alarms if a.state.needs_ack)
        worst: dict[str, Severity] = {}
        for alarm in at_end.alarms:
            if alarm.state.is_hidden:
                continue
            held = worst.get(alarm.entity_id)
            if held is None or alarm.severity > held:
                worst[alarm.entity_id] = alarm.severity
        map_points = tuple(
            MapPoint(e.id, e.name, float(e.lat), float(e.lon), worst.get(e.id))
            for e in at_end.entities
            if e.lat is not None and e.lon is not None
        )
        self.step()

        incidents, opened, closed = self._incidents()
        self.step()

        signed = tuple(sign_ins(self.conn, self.since, self.until))
        self.step()

        trends = []
        if self.config.kpis:
            for kpi in self.config.kpis:
                trends.append(self._trend(kpi))
                self.step()

        summary = Summary(
            alarms_raised=len(raises),
            acknowledged=sum(
                1 for e in entries if e.kind is TimelineKind.ACTION and e.what == "ack"
            ),
            cleared=sum(1 for e in entries if _is_clear(e)),
            operator_actions=sum(1 for e in entries if e.kind is TimelineKind.ACTION),
            readings_stored=readings,
            incidents_opened=opened,
            incidents_closed=closed,
        )
        report = HandoverReport(
            title=self.config.title,
            since=self.since,
            until=self.until,
            built_at=self.now,
            summary=summary,
            raises_by_priority=dict(by_priority),
            raises_by_domain=dict(by_domain),
            alarm_kpis=kpis,
            standing=standing,
            chattering=chattering,
            unacknowledged=unacknowledged,
            incidents=incidents,
            trends=tuple(trends),
            map_points=map_points,
            sign_ins=signed,
            entity_names=names,
            chatter_raises=self.config.chattering_raises,
            chatter_window=self.config.chattering_window,
            truncated=truncated,
        )
        log.info(
            "handover report of %.0f s built in %.2f s: %d raises, %d incidents",
            self.until - self.since,
            time.perf_counter() - started,
            summary.alarms_raised,
            len(incidents),
        )
        return report

    # -- the steps ------------------------------------------------------------------------

    def _entity(self, entity_id: str) -> Entity | None:
        """An entity as the cache knows it now (for the KPIs' groups), read once."""
        if self._known is None:
            self._known = {
                entity.id: entity
                for entity in map(
                    entity_from_row, self.conn.execute(f"SELECT {ENTITY_COLUMNS} FROM entities")
                )
            }
        return self._known.get(entity_id)

    def _entities(self) -> tuple[dict[str, str], dict[str, str]]:
        names: dict[str, str] = {}
        domains: dict[str, str] = {}
        for key, name, domain in self.conn.execute("SELECT id, name, domain FROM entities"):
            names[str(key)] = str(name)
            domains[str(key)] = str(domain)
        return names, domains

    def _alarms(self, keys: set[str]) -> dict[str, Alarm]:
        found: dict[str, Alarm] = {}
        ordered = sorted(keys)
        for start in range(0, len(ordered), 500):
            part = ordered[start : start + 500]
            marks = ", ".join("?" * len(part))
            for row in self.conn.execute(
                f"SELECT {ALARM_COLUMNS} FROM alarms WHERE id IN ({marks})", part
            ):
                alarm = alarm_from_row(row)
                if alarm is not None:
                    found[alarm.id] = alarm
        return found

    def _readings_stored(self) -> int:
        """Raw samples in the window; before the oldest raw sample, the 1-minute counts."""
        count = int(
            self.conn.execute(
                "SELECT count(*) FROM series s CROSS JOIN samples x"
                " ON x.series = s.id AND x.ts >= ? AND x.ts <= ?",
                (self.since, self.until),
            ).fetchone()[0]
        )
        oldest = history.oldest_sample(self.conn)
        raw_from = self.until if oldest is None else max(self.since, min(oldest, self.until))
        if raw_from > self.since:
            count += int(
                self.conn.execute(
                    "SELECT coalesce(sum(a.n), 0) FROM series s CROSS JOIN agg_1m a"
                    " ON a.series = s.id AND a.bucket >= ? AND a.bucket < ?",
                    (self.since, raw_from),
                ).fetchone()[0]
            )
        return count

    def _incidents(self) -> tuple[tuple[IncidentSection, ...], int, int]:
        """Incidents open at ``until`` or closed in the window; how many were opened and
        closed in the window."""
        sections: list[IncidentSection] = []
        opened = closed = 0
        for incident in load_incidents(self.conn, self.since, MAX_INCIDENTS):
            self.check()
            if incident.opened_at > self.until:
                continue
            entries = tuple(
                e
                for e in timeline(self.conn, incident.id, MAX_TIMELINE_ENTRIES)
                if e.ts <= self.until
            )
            status, closed_at = self._status_at(incident, entries)
            if status is IncidentStatus.CLOSED and (closed_at is None or closed_at < self.since):
                continue
            if incident.opened_at >= self.since:
                opened += 1
            if closed_at is not None and closed_at >= self.since:
                closed += 1
            sections.append(IncidentSection(incident, status, entries, closed_at))
        sections.sort(key=lambda s: (s.status is IncidentStatus.CLOSED, s.incident.opened_at))
        return tuple(sections), opened, closed

    def _status_at(
        self, incident: Incident, entries: Sequence[TimelineEntry]
    ) -> tuple[IncidentStatus, float | None]:
        """The status at ``until`` (its last status change by then, else open) and when it
        was closed (None: not closed by then)."""
        changes = [
            e for e in entries if e.kind is TimelineKind.INCIDENT and e.what == "incident_status"
        ]
        if not changes:
            # Without a recorded change (an older cache), believe the stored status.
            if incident.status is IncidentStatus.CLOSED and incident.updated_at <= self.until:
                return incident.status, incident.updated_at
            return (
                IncidentStatus.OPEN if incident.status is IncidentStatus.CLOSED else incident.status
            ), None
        try:
            status = IncidentStatus(changes[-1].note)
        except ValueError:
            status = incident.status
        return status, changes[-1].ts if status is IncidentStatus.CLOSED else None

    def _values_at(
        self, metric: str, moments: list[float]
    ) -> dict[float, dict[str, tuple[float, float]]]:
        """:func:`history.values_at`, read once per metric for the KPIs that share it."""
        key = (metric, tuple(moments))
        if key not in self._values_cache:
            self._values_cache[key] = history.values_at(self.conn, metric, moments)
        return self._values_cache[key]

    def _trend(self, kpi: KpiConfig) -> KpiTrend:
        """The KPI at :data:`TREND_POINTS` moments: each moment's aggregate of every
        entity's newest value of the metric by then (raw while the raw tier holds the
        moment, else the history tiers' buckets; see :func:`history.values_at`)."""
        step = (self.until - self.since) / (TREND_POINTS - 1)
        moments = [self.since + step * index for index in range(TREND_POINTS - 1)]
        moments.append(self.until)
        resolution = history.choose_resolution(
            self.since, self.until, self.now, self.config.retention_days
        )
        values: list[tuple[float, float | None]] = []
        entities: set[str] = set()
        index = district_index(tuple(self.config.districts))
        for first in range(0, len(moments), TREND_CHUNK):
            self.check()
            chunk = moments[first : first + TREND_CHUNK]
            found = self._values_at(kpi.metric, chunk)
            for moment in chunk:
                by_entity = {key: value for key, (_ts, value) in found[moment].items()}
                value, counted = group_value(kpi, by_entity, self._entity, index)
                entities.update(counted)
                values.append((moment, value if counted else None))
        return KpiTrend(kpi, tuple(values), resolution, len(entities))


def _is_raise(entry: TimelineEntry) -> bool:
    """An alarm transition into unacknowledged from another state (or its first)."""
    return (
        entry.kind is TimelineKind.ALARM
        and entry.state == AlarmState.UNACKNOWLEDGED
        and entry.previous != AlarmState.UNACKNOWLEDGED
        and not entry.alarm_id.startswith(INCIDENT_KEY_PREFIX)
    )


def _is_clear(entry: TimelineEntry) -> bool:
    """A transition that says the alarm's condition went away (counted once)."""
    cleared = (AlarmState.NORMAL, AlarmState.RTN_UNACKNOWLEDGED)
    return entry.state in cleared and entry.previous not in ("", *cleared)
