"""Alert areas (CAP polygons and circles) made safe to draw before they go to the map page.

External alarms carry their area as GeoJSON from outside. :func:`clean_area_geojson`
keeps only what the page can draw, in bounds and in limited amounts, and never raises on
bad input; the page checks again when it draws.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

log = logging.getLogger(__name__)

MAX_AREA_VERTICES = 10_000
"""Most vertices drawn for one alert area (a circle counts as one); larger areas are thinned."""

MAX_AREA_RADIUS_KM = 5_000.0
"""Circles larger than this are drawn with this radius."""

MAX_AREA_TEXT = 500
"""Longest label or ``areaDesc`` sent to the page, in characters."""


_Ring = list[list[float]]


class _Shape(NamedTuple):
    """One drawable feature of an alert area: polygons, or a circle's centre."""

    properties: dict[str, Any]
    polygons: list[list[_Ring]]  # empty for a circle
    centre: list[float] | None  # [lon, lat] of a circle

    @property
    def vertices(self) -> int:
        return 1 if self.centre is not None else sum(len(r) for p in self.polygons for r in p)

    def geometry(self) -> dict[str, Any]:
        if self.centre is not None:
            return {"type": "Point", "coordinates": self.centre}
        if len(self.polygons) == 1:
            return {"type": "Polygon", "coordinates": self.polygons[0]}
        return {"type": "MultiPolygon", "coordinates": self.polygons}


def _number(value: Any) -> float | None:
    """``value`` as a finite float, or None (bools and strings are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _position(value: Any) -> list[float] | None:
    """A GeoJSON position as [lon, lat] if it is a usable one (extra axes are dropped)."""
    if not isinstance(value, list | tuple) or len(value) < 2:
        return None
    lon, lat = _number(value[0]), _number(value[1])
    if lon is None or lat is None or not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        return None
    return [lon, lat]


def _ring(value: Any) -> _Ring | None:
    """A linear ring without unusable positions, or None if fewer than 3 corners are left."""
    if not isinstance(value, list | tuple):
        return None
    ring: _Ring = []
    for item in value:
        point = _position(item)
        if point is not None and (not ring or ring[-1] != point):
            ring.append(point)
    corners = len(ring) - (1 if len(ring) > 1 and ring[0] == ring[-1] else 0)
    return ring if corners >= 3 else None


def _polygon(value: Any) -> list[_Ring] | None:
    """A polygon's rings (outer first); unusable holes are dropped, an unusable outer ring
    drops the polygon."""
    if not isinstance(value, list | tuple) or not value:
        return None
    outer = _ring(value[0])
    if outer is None:
        return None
    return [outer, *(hole for hole in (_ring(r) for r in value[1:]) if hole is not None)]


def _thin(ring: _Ring, keep: int) -> _Ring:
    """``keep`` (at least 2) evenly spaced positions of ``ring``, first and last included."""
    if keep >= len(ring):
        return ring
    last = len(ring) - 1
    return [ring[round(i * last / (keep - 1))] for i in range(keep)]


def area_text(value: Any) -> str:
    """``value`` cut to :data:`MAX_AREA_TEXT` characters if it is a string, else empty."""
    return value[:MAX_AREA_TEXT] if isinstance(value, str) else ""


def _shape(feature: Any) -> _Shape | None:
    """The drawable part of one GeoJSON feature, or None."""
    if not isinstance(feature, Mapping):
        return None
    geometry = feature.get("geometry")
    props = feature.get("properties")
    props = props if isinstance(props, Mapping) else {}
    if not isinstance(geometry, Mapping):
        return None
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    properties: dict[str, Any] = {}
    if isinstance(props.get("areaDesc"), str):
        properties["areaDesc"] = area_text(props["areaDesc"])
    if kind == "Point":
        centre, radius = _position(coords), _number(props.get("radius_km"))
        if centre is None or radius is None or radius < 0.0:
            return None
        properties["radius_km"] = min(radius, MAX_AREA_RADIUS_KM)
        return _Shape(properties, [], centre)
    polygons: list[list[_Ring]] = []
    if kind == "Polygon":
        polygon = _polygon(coords)
        polygons = [polygon] if polygon is not None else []
    elif kind == "MultiPolygon" and isinstance(coords, list | tuple):
        polygons = [p for p in (_polygon(c) for c in coords) if p is not None]
    return _Shape(properties, polygons, None) if polygons else None


def clean_area_geojson(
    geojson: Any, max_vertices: int = MAX_AREA_VERTICES
) -> tuple[dict[str, Any], int]:
    """A drawable copy of an alert area's GeoJSON, and how many features were left out.

    Keeps Polygon and MultiPolygon features, and Point features with a non-negative numeric
    ``radius_km`` property (circles), in lon/lat order. Positions that are not finite or out
    of range are dropped; features that are malformed or of other types are left out, and so
    are properties other than ``areaDesc`` and ``radius_km``. An area with more than
    ``max_vertices`` vertices (a circle counts as one) is thinned evenly, then cut off at that
    many. Never raises on bad input.
    """
    if isinstance(geojson, Mapping) and geojson.get("type") == "FeatureCollection":
        raw = geojson.get("features")
        candidates = list(raw) if isinstance(raw, list | tuple) else []
    elif isinstance(geojson, Mapping) and geojson.get("type") == "Feature":
        candidates = [geojson]
    else:
        candidates = []
    shapes = [s for s in (_shape(f) for f in candidates) if s is not None]
    dropped = len(candidates) - len(shapes)
    total = sum(s.vertices for s in shapes)
    if total > max_vertices:
        log.info("alert area: thinning %d vertices to at most %d", total, max_vertices)
        share = max_vertices / total
        shapes = [
            s._replace(
                polygons=[[_thin(r, max(4, int(len(r) * share))) for r in p] for p in s.polygons]
            )
            for s in shapes
        ]
    features: list[dict[str, Any]] = []
    used = 0
    for shape in shapes:
        if used + shape.vertices > max_vertices:
            dropped += 1
            continue
        used += shape.vertices
        features.append(
            {"type": "Feature", "geometry": shape.geometry(), "properties": shape.properties}
        )
    return {"type": "FeatureCollection", "features": features}, dropped
