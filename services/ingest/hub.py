"""The state hub: entities, their latest values and a bounded history per series."""

from __future__ import annotations

import threading
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence

from services.decoders.base import EntityUpdate
from services.limits import (
    HUB_POINTS_BUDGET,
    HUB_SERIES_MIN_POINTS,
    MAX_TRACKED_ENTITIES,
    TRACK_POINTS,
    TRACK_SPACING_S,
)
from services.model import Entity, PositionRow, Reading, Severity, TrackPoint

SeriesKey = tuple[str, str]


class _SeriesBuffer:
    """The recent points of one series, as two arrays of doubles (16 bytes a point, where a
    deque of tuples takes about 110)."""

    __slots__ = ("times", "values")

    def __init__(self) -> None:
        self.times = array("d")
        self.values = array("d")

    def add(self, ts: float, value: float, cap: int) -> None:
        """Append a point, unless one with the same time is there (a redelivery); keep at
        most about ``cap`` points, the newest."""
        times = self.times
        index = len(times) - 1
        while index >= 0 and times[index] >= ts:
            if times[index] == ts:
                return
            index -= 1
        times.append(ts)
        self.values.append(value)
        excess = len(times) - cap
        if excess > cap // 8:  # trimmed in steps: each trim moves the whole array
            del times[:excess]
            del self.values[:excess]

    def points(self) -> list[tuple[float, float]]:
        return list(zip(self.times, self.values, strict=True))


class StateHub:
    """Latest known state of the city. Written by the ingest worker, read from any thread."""

    def __init__(self, series_length: int = 3600, points_budget: int = HUB_POINTS_BUDGET) -> None:
        self.series_length = series_length
        self.points_budget = points_budget
        self._lock = threading.Lock()
        self._entities: dict[str, Entity] = {}
        self._latest: dict[SeriesKey, Reading] = {}
        self._series: dict[SeriesKey, _SeriesBuffer] = {}
        self._series_cap = series_length
        self._tracks: dict[str, deque[TrackPoint]] = {}
        self._next_eviction = 0.0

    def restore(self, entities: Iterable[Entity], latest: Iterable[Reading]) -> None:
        """Seed the hub with the last known state from the offline cache."""
        with self._lock:
            for entity in entities:
                self._entities[entity.id] = entity
            for reading in latest:
                self._latest[(reading.entity_id, reading.metric)] = reading

    def _record(self, reading: Reading) -> SeriesKey:
        """Append a reading to its series' history (the lock is held); returns its key."""
        key = (reading.entity_id, reading.metric)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _SeriesBuffer()
            share = self.points_budget // len(self._series)
            self._series_cap = min(self.series_length, max(HUB_SERIES_MIN_POINTS, share))
        series.add(reading.ts, reading.value, self._series_cap)
        return key

    def restore_series(self, readings: Iterable[Reading]) -> None:
        """Seed the history of series with cached readings (oldest first)."""
        with self._lock:
            for reading in readings:
                self._record(reading)

    def apply_entities(
        self,
        updates: Iterable[EntityUpdate],
        feed: str,
        domain: str,
        now: float,
        *,
        intervals: list[float] | None = None,
        positions: list[PositionRow] | None = None,
    ) -> list[Entity]:
        """Merge entity updates; returns the entities that changed (fresh copies are kept).

        ``intervals`` collects, for entities that were already fresh, the seconds since
        their previous update (how often the feed reports each entity); ``positions`` the
        track points written or moved, as ``(entity id, time, lat, lon)`` (a point moved
        keeps its time: stored by entity and time, it replaces the one before)."""
        changed: list[Entity] = []
        with self._lock:
            for update in updates:
                entity = self._entities.get(update.id)
                if entity is None:
                    entity = Entity(id=update.id, name=update.name or update.id, feed=feed)
                    entity.domain = domain
                    self._entities[update.id] = entity
                if update.name is not None:
                    entity.name = update.name
                if update.type is not None:
                    entity.type = update.type
                if update.lat is not None and update.lon is not None:
                    if entity.lat is not None and (entity.lat, entity.lon) != (
                        update.lat,
                        update.lon,
                    ):
                        started = self._track(entity, now)
                        if started is not None and positions is not None:
                            positions.append((entity.id, *started))
                    entity.lat, entity.lon = update.lat, update.lon
                    track = self._tracks.get(entity.id)
                    if track is not None:
                        point = self._add_position(track, now, update.lat, update.lon)
                        if point is not None and positions is not None:
                            positions.append((entity.id, *point))
                if intervals is not None and not entity.stale and now > entity.updated_at > 0:
                    intervals.append(now - entity.updated_at)
                entity.feed = feed
                entity.domain = entity.domain or domain
                entity.updated_at = now
                entity.stale = False
                changed.append(entity)
        return changed

    def _track(self, entity: Entity, now: float) -> TrackPoint | None:
        """Start a track for an entity seen moving (from where it was; the lock is held);
        returns its first point, or None when it has one already or there is no room.
        When all the tracks are taken, those that have not moved for as long as a track
        lasts make room (looked for at most once per track step)."""
        if entity.id in self._tracks:
            return None
        if len(self._tracks) >= MAX_TRACKED_ENTITIES and now >= self._next_eviction:
            self._next_eviction = now + TRACK_SPACING_S
            oldest = now - TRACK_POINTS * TRACK_SPACING_S
            for key in [k for k, track in self._tracks.items() if track[-1][0] < oldest]:
                del self._tracks[key]
        if len(self._tracks) >= MAX_TRACKED_ENTITIES:
            return None
        assert entity.lat is not None and entity.lon is not None
        track: deque[TrackPoint] = deque(maxlen=TRACK_POINTS)
        first = (entity.updated_at or now, entity.lat, entity.lon)
        track.append(first)
        self._tracks[entity.id] = track
        return first

    @staticmethod
    def _add_position(
        track: deque[TrackPoint], now: float, lat: float, lon: float
    ) -> TrackPoint | None:
        """Follow the entity to ``(lat, lon)``; returns the point added or moved (None when
        it had not moved)."""
        last_ts, last_lat, last_lon = track[-1]
        if (lat, lon) == (last_lat, last_lon):
            return None
        point = (last_ts, lat, lon)
        if now - last_ts < TRACK_SPACING_S and len(track) > 1:
            track[-1] = point  # the newest point follows the entity
        else:
            point = (now, lat, lon)
            track.append(point)
        return point

    def restore_tracks(self, tracks: Mapping[str, Sequence[TrackPoint]]) -> None:
        """Seed the tracks with stored points (oldest first; ``tracks`` in the order to
        keep when there are more than :data:`MAX_TRACKED_ENTITIES`: the most recently moved
        last). Each track ends where its entity is known to be now."""
        with self._lock:
            for entity_id, points in list(tracks.items())[-MAX_TRACKED_ENTITIES:]:
                if not points:
                    continue
                track: deque[TrackPoint] = deque(points, maxlen=TRACK_POINTS)
                entity = self._entities.get(entity_id)
                if entity is not None and entity.lat is not None and entity.lon is not None:
                    last_ts, last_lat, last_lon = track[-1]
                    if (entity.lat, entity.lon) != (last_lat, last_lon):
                        track.append((max(last_ts, entity.updated_at), entity.lat, entity.lon))
                self._tracks[entity_id] = track

    def tracks(self, since: float) -> dict[str, list[TrackPoint]]:
        """The positions of moving entities since ``since``, oldest first, with the last one
        before it (so a track starts where the entity was then)."""
        result: dict[str, list[TrackPoint]] = {}
        with self._lock:
            for key, track in self._tracks.items():
                if track[-1][0] < since:
                    continue  # not moved since: no track shown
                recent: list[TrackPoint] = []
                for point in reversed(track):  # only the window's points are copied
                    recent.append(point)
                    if point[0] <= since:
                        break
                recent.reverse()
                result[key] = recent
        return result

    def apply_readings(self, readings: Iterable[Reading]) -> list[Reading]:
        """Record readings; returns those that are now the latest of their series."""
        fresh: list[Reading] = []
        with self._lock:
            for reading in readings:
                key = self._record(reading)
                current = self._latest.get(key)
                if current is None or reading.ts >= current.ts:
                    self._latest[key] = reading
                    fresh.append(reading)
        return fresh

    def mark_stale(self, is_stale: Callable[[Entity], bool]) -> list[Entity]:
        """Mark fresh entities for which ``is_stale`` holds as stale; returns copies of them."""
        marked: list[Entity] = []
        with self._lock:
            for entity in self._entities.values():
                if not entity.stale and is_stale(entity):
                    entity.stale = True
                    marked.append(entity.copy())
        return marked

    def set_worst_severity(self, entity_id: str, severity: Severity | None) -> Entity | None:
        """Record the entity's most severe active alarm; returns the entity if it changed."""
        with self._lock:
            entity = self._entities.get(entity_id)
            if entity is None or entity.worst_severity == severity:
                return None
            entity.worst_severity = severity
            return entity

    def entity(self, entity_id: str) -> Entity | None:
        with self._lock:
            return self._entities.get(entity_id)

    def entities(self) -> list[Entity]:
        with self._lock:
            return list(self._entities.values())

    def latest(self, entity_id: str, metric: str) -> Reading | None:
        with self._lock:
            return self._latest.get((entity_id, metric))

    def latest_values(self) -> dict[SeriesKey, Reading]:
        with self._lock:
            return dict(self._latest)

    def series(self, entity_id: str, metric: str) -> list[tuple[float, float]]:
        """(timestamp, value) pairs of one series, oldest first."""
        with self._lock:
            series = self._series.get((entity_id, metric))
            return series.points() if series is not None else []
