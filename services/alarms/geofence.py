"""Geofences: whether a position is inside a polygon, and when entities raise or clear a
geofence alarm by entering or leaving one. No Qt, no I/O.

Coordinates are ``(longitude, latitude)`` as in GeoJSON, taken as a plane (fine at a city's
scale; polygons across the antimeridian are not supported). A point exactly on an edge may
count as inside or outside.

How an alarm follows an entity (what :class:`GeofenceEvaluator` decides):

- ``trigger = "enter"``: the alarm condition is present while the entity is inside.
- ``trigger = "leave"``: the alarm condition is present while the entity is outside, but
  only once it has been seen inside this geofence (an entity that was never inside has not
  left it). An alarm still present (e.g. restored from the cache after a restart) counts as
  having been inside, so it is not cleared for want of that history.
- ``dwell``: the entity must be on the alarm side for that many seconds of its own update
  time before the alarm raises, measured from its first update on that side; an update on
  the other side starts the wait again. The raise comes with the first update at least
  ``dwell`` seconds later (an entity that stops reporting does not raise). Clearing needs
  no dwell: the first update on the other side clears.
- An update whose time is not after the last one evaluated for that entity and geofence
  is ignored. The ingest pipeline's update time is when the message was received, so a
  message delivered again later counts as a new report of that position.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from services.config.schema import GeofenceConfig, Position

log = logging.getLogger(__name__)

_MAX_BANDS = 512
"""A ring's edges are indexed in at most this many latitude bands."""
_EDGES_PER_BAND = 8
"""About how many edges one band holds (fewer bands for small rings)."""


def point_in_ring(lon: float, lat: float, ring: Sequence[Position]) -> bool:
    """Ray casting: whether the point is inside the ring (closed or not; even-odd rule)."""
    inside = False
    count = len(ring)
    for index in range(count):
        x0, y0 = ring[index - 1]
        x1, y1 = ring[index]
        if (y0 > lat) != (y1 > lat) and lon < x0 + (lat - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def point_in_polygon(lon: float, lat: float, rings: Sequence[Sequence[Position]]) -> bool:
    """Whether the point is inside a polygon's outer ring (the first) and none of its holes."""
    if not rings or not point_in_ring(lon, lat, rings[0]):
        return False
    return not any(point_in_ring(lon, lat, hole) for hole in rings[1:])


_Edge = tuple[float, float, float, float]
"""An edge that is not horizontal: (lat0, lat1, lon0, longitude change per latitude)."""


def _band_of(lat: float, south: float, height: float, count: int) -> int:
    """The latitude band (of ``count``, each ``height`` high from ``south``) of ``lat``."""
    return min(max(int((lat - south) / height), 0), count - 1)


def _entries(edges: list[_Edge], south: float, height: float, count: int) -> int:
    """How many (band, edge) entries ``count`` bands would hold."""
    total = 0
    for y0, y1, _, _ in edges:
        low, high = (y0, y1) if y0 < y1 else (y1, y0)
        total += _band_of(high, south, height, count) - _band_of(low, south, height, count) + 1
    return total


class _Ring:
    """A ring prepared for many point tests: its bounding box, and its edges indexed by
    latitude band, so that a test looks only at the edges a horizontal ray can cross."""

    __slots__ = ("_bands", "_height", "max_lat", "max_lon", "min_lat", "min_lon")

    def __init__(self, points: Sequence[Position]) -> None:
        lons = [lon for lon, _ in points]
        lats = [lat for _, lat in points]
        self.min_lon, self.max_lon = min(lons), max(lons)
        self.min_lat, self.max_lat = min(lats), max(lats)
        edges = [
            (y0, y1, x0, (x1 - x0) / (y1 - y0))
            for (x0, y0), (x1, y1) in zip(points, [*points[1:], points[0]], strict=True)
            if y0 != y1  # a horizontal edge never crosses a horizontal ray
        ]
        span = self.max_lat - self.min_lat
        count = max(1, min(_MAX_BANDS, len(edges) // _EDGES_PER_BAND)) if span > 0 else 1
        # Long edges sit in many bands: use fewer bands while that multiplies the entries.
        while count > 1 and _entries(edges, self.min_lat, span / count, count) > 4 * len(edges):
            count //= 2
        self._height = span / count if span > 0 else 1.0
        self._bands: list[list[_Edge]] = [[] for _ in range(count)]
        for edge in edges:
            low, high = sorted(edge[:2])
            for band in range(self._band(low), self._band(high) + 1):
                self._bands[band].append(edge)

    def _band(self, lat: float) -> int:
        return _band_of(lat, self.min_lat, self._height, len(self._bands))

    def contains(self, lon: float, lat: float) -> bool:
        """Whether the point is inside (even-odd rule)."""
        if not (self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon):
            return False
        inside = False
        for y0, y1, x0, slope in self._bands[self._band(lat)]:
            if (y0 > lat) != (y1 > lat) and lon < x0 + (lat - y0) * slope:
                inside = not inside
        return inside


class Shape:
    """Polygons with holes (a GeoJSON MultiPolygon's coordinates) prepared for fast tests."""

    def __init__(self, polygons: Iterable[Sequence[Sequence[Position]]]) -> None:
        self._polygons = [[_Ring(ring) for ring in rings] for rings in polygons if rings]
        outers = [rings[0] for rings in self._polygons]
        self._box = (
            min((ring.min_lon for ring in outers), default=math.inf),
            min((ring.min_lat for ring in outers), default=math.inf),
            max((ring.max_lon for ring in outers), default=-math.inf),
            max((ring.max_lat for ring in outers), default=-math.inf),
        )

    def contains(self, lon: float, lat: float) -> bool:
        """Whether the point is inside any polygon (inside its outer ring, in none of its
        holes)."""
        west, south, east, north = self._box
        if not (south <= lat <= north and west <= lon <= east):
            return False
        return any(
            rings[0].contains(lon, lat) and not any(hole.contains(lon, lat) for hole in rings[1:])
            for rings in self._polygons
        )


class Positioned(Protocol):
    """What the evaluator needs of an entity (:class:`services.model.Entity` has it)."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def lat(self) -> float | None: ...
    @property
    def lon(self) -> float | None: ...
    @property
    def updated_at(self) -> float: ...


@dataclass(frozen=True, slots=True)
class GeofenceChange:
    """A geofence alarm of an entity that should raise (``active``) or clear, as of ``ts``
    (the entity's update time); ``inside`` says where the entity is."""

    entity_id: str
    geofence: GeofenceConfig
    active: bool
    inside: bool
    ts: float


class _Track:
    """What is known of one entity against one geofence."""

    __slots__ = ("inside", "last_ts", "lat", "lon", "seen_inside", "waiting_since")

    def __init__(self) -> None:
        self.last_ts = -math.inf
        self.lon = math.nan
        self.lat = math.nan
        self.inside = False
        self.seen_inside = False
        self.waiting_since: float | None = None
        """Since when (update time) the entity has been on the alarm side, waiting for the
        dwell; None when not waiting."""


class GeofenceEvaluator:
    """Decides, from entity positions, which geofence alarms should raise or clear (see the
    module docstring for the rules). Not thread-safe: its owner (the alarm store) calls it
    under its own lock."""

    def __init__(self, geofences: Sequence[GeofenceConfig]) -> None:
        self._fences = [(fence, Shape(fence.polygons)) for fence in geofences]
        self._tracks: dict[tuple[str, str], _Track] = {}
        self._watching: dict[tuple[str, str], list[tuple[GeofenceConfig, Shape]]] = {}
        """Per (entity id, type): the geofences that apply to it."""

    def __bool__(self) -> bool:
        return bool(self._fences)

    def _applying(self, entity_id: str, entity_type: str) -> list[tuple[GeofenceConfig, Shape]]:
        key = (entity_id, entity_type)
        fences = self._watching.get(key)
        if fences is None:
            fences = [pair for pair in self._fences if pair[0].applies_to(entity_id, entity_type)]
            self._watching[key] = fences
        return fences

    def evaluate(
        self, entities: Iterable[Positioned], present: Callable[[str, str], bool]
    ) -> list[GeofenceChange]:
        """The alarms to raise or clear after these entity updates. ``present(entity id,
        geofence name)`` says whether that alarm's condition is present now."""
        changes: list[GeofenceChange] = []
        for entity in entities:
            lon, lat = entity.lon, entity.lat
            if lon is None or lat is None:
                continue
            for fence, shape in self._applying(entity.id, entity.type):
                change = self._update(
                    entity.id,
                    fence,
                    shape,
                    position=(lon, lat),
                    ts=entity.updated_at,
                    present=present,
                )
                if change is not None:
                    changes.append(change)
        return changes

    def _update(
        self,
        entity_id: str,
        fence: GeofenceConfig,
        shape: Shape,
        *,
        position: Position,
        ts: float,
        present: Callable[[str, str], bool],
    ) -> GeofenceChange | None:
        """Follow one entity update against one geofence; the change it makes, if any."""
        track = self._tracks.get((entity_id, fence.name))
        if track is None:
            track = self._tracks[(entity_id, fence.name)] = _Track()
        if ts <= track.last_ts:
            return None
        track.last_ts = ts
        if position != (track.lon, track.lat):  # positions repeat: test only new ones
            track.lon, track.lat = position
            track.inside = shape.contains(*position)
        inside = track.inside
        track.seen_inside = track.seen_inside or inside
        was = present(entity_id, fence.name)
        # enter: alarm while inside; leave: while outside, once seen inside (or in alarm)
        leave = not inside and (track.seen_inside or was)
        wanted = inside if fence.trigger == "enter" else leave
        if wanted == was:
            track.waiting_since = None
            return None
        if wanted:
            if track.waiting_since is None:
                track.waiting_since = ts
            if ts - track.waiting_since < fence.dwell:
                return None
        track.waiting_since = None
        log.debug("%s %s geofence %r", entity_id, "inside" if inside else "outside of", fence.name)
        return GeofenceChange(entity_id, fence, wanted, inside, ts)


def geofence_message(fence: GeofenceConfig) -> str:
    """A geofence alarm's message: its description, else ``entered <name>`` or ``left
    <name>``."""
    if fence.description:
        return fence.description
    return f"{'entered' if fence.trigger == 'enter' else 'left'} {fence.name}"
