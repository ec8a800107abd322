"""Replay: the state the views showed at a past moment, handed to them as the same kind of
:class:`Delta` the live pipeline produces, so every view replays unchanged.

A :class:`ViewState` is what the views show (entities, each series' latest reading, the
alarms that are not normal). :meth:`ViewState.delta_to` gives the delta that turns the views
from one state into another — alarms that are normal in the target come as normal (the
alarm list drops them), entities and readings the target does not have as removals.
:class:`ReplaySource` reads past states from the offline cache over its own read-only
connection, so a replay never holds up the ingest worker's writes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from services.config import KpiConfig
from services.ingest.kpi import DistrictIndex, group_value
from services.limits import RAW_RETENTION_DAYS
from services.model import (
    Alarm,
    AlarmState,
    Delta,
    Entity,
    Reading,
    Severity,
    Snapshot,
    TrackPoint,
)
from services.store import history
from services.store.positions import placed, places_at, read_tracks
from services.store.schema import ENTITY_COLUMNS, entity_from_row
from services.store.state_at import alarms_at, latest_at

log = logging.getLogger(__name__)

REPLAY_STALE_S = 600.0
"""In a replay, an entity whose newest reading is older than this at the replayed moment is
shown stale (the live limits are per feed; the cache does not keep them over time)."""

RAISED = str(AlarmState.UNACKNOWLEDGED)


@dataclass(slots=True)
class ViewState:
    """What the views show: entities, the latest reading per (entity, metric), and every
    alarm that is not normal. Entities are copies: changing one never touches a view's."""

    entities: dict[str, Entity] = field(default_factory=dict)
    latest: dict[tuple[str, str], Reading] = field(default_factory=dict)
    alarms: dict[str, Alarm] = field(default_factory=dict)

    @classmethod
    def from_snapshot(
        cls, snapshot: Snapshot, at: float, previous: ViewState | None = None
    ) -> ViewState:
        """The views' state at ``at`` from a past snapshot (see :meth:`from_parts`)."""
        known = {entity.id: entity for entity in snapshot.entities}
        return cls.from_parts(known, snapshot.latest, snapshot.alarms, at, previous)

    @classmethod
    def from_parts(
        cls,
        known: Mapping[str, Entity],
        readings: Iterable[Reading],
        alarm_list: Iterable[Alarm],
        at: float,
        previous: ViewState | None = None,
    ) -> ViewState:
        """The views' state at ``at``: the entities of ``known`` (left unchanged) that have
        a reading then, updated when their newest reading then was taken, stale when it is
        older than :data:`REPLAY_STALE_S` then, coloured by their worst active alarm then.
        An entity that looks the same as in ``previous`` (all but its update time, which
        the details take from the readings) is ``previous``'s object, so a move changes
        only the entities whose look changed."""
        latest: dict[tuple[str, str], Reading] = {}
        for reading in readings:  # several feeds of one metric: the newest reading
            held_reading = latest.get((reading.entity_id, reading.metric))
            if held_reading is None or reading.ts > held_reading.ts:
                latest[(reading.entity_id, reading.metric)] = reading
        alarms = {a.id: a for a in alarm_list if a.state is not AlarmState.NORMAL}
        newest: dict[str, float] = {}
        for reading in latest.values():
            newest[reading.entity_id] = max(reading.ts, newest.get(reading.entity_id, 0.0))
        worst: dict[str, Severity] = {}
        for alarm in alarms.values():
            if alarm.state.is_active and (
                alarm.entity_id not in worst or alarm.severity > worst[alarm.entity_id]
            ):
                worst[alarm.entity_id] = alarm.severity
        before = previous.entities if previous is not None else {}
        entities: dict[str, Entity] = {}
        for entity_id in sorted(newest.keys() & known.keys()):
            template = known[entity_id]
            updated = newest[entity_id]
            stale = at - updated > REPLAY_STALE_S
            severity = worst.get(entity_id)
            held = before.get(entity_id)
            if held is not None and _shown_alike(held, template, stale, severity):
                entities[entity_id] = held
            else:
                entities[entity_id] = replace(
                    template, updated_at=updated, stale=stale, worst_severity=severity
                )
        return cls(entities, latest, alarms)

    def copy(self) -> ViewState:
        """A copy that shares nothing mutable with this one."""
        return ViewState(
            {key: replace(entity) for key, entity in self.entities.items()},
            dict(self.latest),
            dict(self.alarms),
        )

    def apply(self, delta: Delta) -> None:
        """Take in the state part of ``delta`` (entities, readings, alarms)."""
        for key, entity in delta.entities.items():
            self.entities[key] = replace(entity)
        self.latest.update(delta.latest)
        for alarm in delta.alarms.values():
            held = self.alarms.get(alarm.id)
            if held is not None and held.revision > alarm.revision:
                continue
            if alarm.state is AlarmState.NORMAL:
                self.alarms.pop(alarm.id, None)
            else:
                self.alarms[alarm.id] = alarm
        for entity_id in delta.removed_entities:
            self.entities.pop(entity_id, None)
        for series in delta.removed_readings:
            self.latest.pop(series, None)

    def delta_to(self, target: ViewState) -> Delta:
        """The delta that turns views showing this state into views showing ``target``."""
        delta = Delta()
        for key, entity in target.entities.items():
            held = self.entities.get(key)
            if held is not entity and held != entity:
                delta.entities[key] = replace(entity)
        delta.removed_entities = set(self.entities.keys() - target.entities.keys())
        for series, reading in target.latest.items():
            if self.latest.get(series) != reading:
                delta.latest[series] = reading
        delta.removed_readings = {
            series
            for series in self.latest.keys() - target.latest.keys()
            if series[0] not in delta.removed_entities
        }
        for alarm_id, alarm in target.alarms.items():
            if self.alarms.get(alarm_id) != alarm:
                delta.alarms[alarm_id] = alarm
        for alarm_id in self.alarms.keys() - target.alarms.keys():
            gone = self.alarms[alarm_id]
            delta.alarms[alarm_id] = replace(gone, state=AlarmState.NORMAL)
        return delta


def _shown_alike(held: Entity, template: Entity, stale: bool, worst: Severity | None) -> bool:
    """Whether ``held`` looks in the views as ``template`` would with ``stale`` and
    ``worst`` (update time aside)."""
    return (
        held.stale == stale
        and held.worst_severity == worst
        and held.lat == template.lat
        and held.lon == template.lon
        and held.name == template.name
        and held.type == template.type
        and held.domain == template.domain
        and held.feed == template.feed
    )


def state_part(delta: Delta) -> tuple[Delta, Delta]:
    """Split a live delta into its state part (entities, readings, alarms, removals) and
    the rest (feeds, brokers, dead letters, incidents, results, counts), which a replay
    does not rewind."""
    state = Delta(
        entities=delta.entities,
        latest=delta.latest,
        alarms=delta.alarms,
        removed_entities=delta.removed_entities,
        removed_readings=delta.removed_readings,
    )
    rest = replace(
        delta,
        entities={},
        latest={},
        alarms={},
        removed_entities=set(),
        removed_readings=set(),
    )
    return state, rest


class ReplaySource:
    """Past states, alarm times and series from the offline cache file, over a read-only
    connection of its own (one thread at a time; calls are serialised by a lock)."""

    def __init__(self, path: Path, raw_days: float = RAW_RETENTION_DAYS) -> None:
        self.path = path
        self.raw_days = raw_days
        self._lock = threading.Lock()
        self._entities: dict[str, Entity] = {}
        self._conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False, timeout=5.0
        )

    def state(self, at: float, previous: ViewState | None = None) -> ViewState:
        """What the views showed at ``at`` (epoch seconds); entities unchanged since
        ``previous`` are its objects. The entities' rows are read once (again when a
        reading names one not read yet); entities with stored track points are placed where
        they were at ``at``."""
        with self._lock:
            readings = latest_at(self._conn, at)
            alarms = alarms_at(self._conn, at)
            if any(reading.entity_id not in self._entities for reading in readings):
                self._read_entities()
            places = places_at(self._conn, at)
        known = placed(self._entities, places) if places else self._entities
        return ViewState.from_parts(known, readings, alarms, at, previous)

    def tracks(self, since: float, until: float) -> dict[str, list[TrackPoint]]:
        """The vehicle tracks from ``since`` to ``until`` (see
        :func:`services.store.positions.read_tracks`)."""
        with self._lock:
            return read_tracks(self._conn, since, until)

    def _read_entities(self) -> None:
        self._entities = {
            entity.id: entity
            for entity in (
                entity_from_row(row)
                for row in self._conn.execute(f"SELECT {ENTITY_COLUMNS} FROM entities")
            )
        }

    def kpi_series(
        self, kpi: KpiConfig, since: float, until: float, points: int, districts: DistrictIndex
    ) -> list[tuple[float, float]]:
        """``kpi`` at ``points`` moments evenly over [since, until]: each moment's aggregate
        of its group's newest values by then (see :func:`history.values_at`); moments with
        no value are left out."""
        step = (until - since) / max(1, points - 1)
        moments = [since + step * index for index in range(points)]
        with self._lock:
            found = history.values_at(self._conn, kpi.metric, moments)
            named = {key for by_entity in found.values() for key in by_entity}
            if not named <= self._entities.keys():  # entities heard of since the last read
                self._read_entities()
            entities = self._entities
        series: list[tuple[float, float]] = []
        for moment in moments:
            by_entity = {key: value for key, (_ts, value) in found[moment].items()}
            value, counted = group_value(kpi, by_entity, entities.get, districts)
            if counted and value is not None:
                series.append((moment, value))
        return series

    def series(
        self, entity_id: str, metric: str, since: float, until: float
    ) -> list[tuple[float, float]]:
        """A metric's (time, value) points over [since, until], at the resolution that fits
        the window (bucket means beyond the raw tier)."""
        resolution = history.choose_resolution(since, until, time.time(), self.raw_days)
        with self._lock:
            points = history.series_points(
                self._conn, entity_id, metric, since, until, resolution=resolution
            )
        return [(point.ts, point.value) for point in points]

    def alarm_times(self, since: float, until: float) -> list[float]:
        """When alarms were raised in [since, until], oldest first (for stepping)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT DISTINCT ts FROM alarm_events WHERE ts >= ? AND ts <= ? AND state = ?"
                " ORDER BY ts",
                (since, until, RAISED),
            ).fetchall()
        return [float(ts) for (ts,) in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def step_time(times: list[float], at: float, direction: int) -> float | None:
    """The first of ``times`` (sorted) after ``at`` (``direction`` 1) or before it (-1),
    ignoring anything within half a second of ``at``; None when there is none."""
    if direction > 0:
        return next((t for t in times if t > at + 0.5), None)
    return next((t for t in reversed(times) if t < at - 0.5), None)
