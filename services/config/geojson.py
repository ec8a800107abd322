"""Geofence polygons: checked from a config's ``polygon`` list or read from a GeoJSON file.

Points are ``[longitude, latitude]`` as in GeoJSON (RFC 7946). A ring needs at least three
distinct points and some area; it is closed here when its last point is not its first. A
GeoJSON file may hold a Polygon or MultiPolygon geometry, a Feature or a FeatureCollection;
from a collection either the features whose ``properties.name`` is asked for are taken, or
every Polygon and MultiPolygon in it (features of other geometries, or none, are skipped).
Orientation is not checked (RFC 7946 says parsers must not reject either winding).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from services.config.schema import PolygonRings, Position, Ring
from services.limits import MAX_GEOJSON_BYTES

POLYGON_TYPES = ("Polygon", "MultiPolygon")


class GeometryError(ValueError):
    """A polygon that cannot be used.

    ``where`` locates the problem in its input (``"[2]"``, ``"features[0].geometry"``, or
    ``""`` for the whole); ``setting`` is the config key it belongs to (``file`` or
    ``feature`` for a GeoJSON file).
    """

    def __init__(self, where: str, problem: str, setting: str = "file") -> None:
        self.where = where
        self.problem = problem
        self.setting = setting
        super().__init__(f"{where}: {problem}" if where else problem)


def _at(where: str, step: str | int) -> str:
    """``where`` one step further: a list index or an object key."""
    if isinstance(step, int):
        return f"{where}[{step}]"
    return f"{where}.{step}" if where else step


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    names: dict[type, str] = {str: "text", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _position(value: object, where: str, *, altitude: bool) -> Position:
    sizes = "two or three" if altitude else "two"
    if not isinstance(value, list | tuple) or not (2 <= len(value) <= (3 if altitude else 2)):
        raise GeometryError(
            where, f"must be a [longitude, latitude] point ({sizes} numbers), got {value!r:.80}"
        )
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise GeometryError(
            where, f"must be a [longitude, latitude] point of numbers, got {value!r:.80}"
        )
    lon, lat = float(value[0]), float(value[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise GeometryError(where, f"must be finite numbers, got {value!r:.80}")
    if not -180.0 <= lon <= 180.0:
        raise GeometryError(
            where, f"longitude {lon:g} is outside -180 to 180 (points are [longitude, latitude])"
        )
    if not -90.0 <= lat <= 90.0:
        raise GeometryError(
            where, f"latitude {lat:g} is outside -90 to 90 (points are [longitude, latitude])"
        )
    return (lon, lat)


def _doubled_area(points: list[Position]) -> float:
    """Twice the signed area of the ring through ``points`` (shoelace formula)."""
    total = 0.0
    for (x0, y0), (x1, y1) in zip(points, [*points[1:], points[0]], strict=True):
        total += x0 * y1 - x1 * y0
    return total


def ring_from_points(value: object, where: str = "", *, altitude: bool = False) -> Ring:
    """A closed ring from a list of ``[longitude, latitude]`` points (``altitude``: a third
    number is allowed and ignored, as in GeoJSON); GeometryError when it is not one."""
    if not isinstance(value, list | tuple):
        raise GeometryError(
            where, f"must be a list of [longitude, latitude] points, got {_kind(value)}"
        )
    points = [
        _position(item, _at(where, index), altitude=altitude) for index, item in enumerate(value)
    ]
    distinct = len(set(points))
    if distinct < 3:
        raise GeometryError(
            where, f"is not a polygon: it needs at least 3 distinct points, got {distinct}"
        )
    if points[0] == points[-1]:
        points.pop()
    if _doubled_area(points) == 0.0:
        raise GeometryError(where, "is not a polygon: its points are all on one line")
    points.append(points[0])
    return tuple(points)


def _polygon(value: object, where: str) -> PolygonRings:
    """A GeoJSON Polygon's coordinates: the outer ring, then its holes."""
    if not isinstance(value, list) or not value:
        raise GeometryError(where, f"must be a non-empty list of rings, got {value!r:.80}")
    return tuple(
        ring_from_points(ring, _at(where, index), altitude=True) for index, ring in enumerate(value)
    )


def _geometry_polygons(geometry: dict[str, object], where: str) -> list[PolygonRings]:
    """The polygons of a Polygon or MultiPolygon geometry object."""
    coordinates = geometry.get("coordinates")
    at = _at(where, "coordinates")
    if geometry.get("type") == "Polygon":
        return [_polygon(coordinates, at)]
    if not isinstance(coordinates, list) or not coordinates:
        raise GeometryError(at, f"must be a non-empty list of polygons, got {coordinates!r:.80}")
    return [_polygon(polygon, _at(at, index)) for index, polygon in enumerate(coordinates)]


def _feature_name(feature: dict[str, object]) -> object:
    properties = feature.get("properties")
    return properties.get("name") if isinstance(properties, dict) else None


def polygons_from_geojson(document: object, feature: str = "") -> tuple[PolygonRings, ...]:
    """The polygons of a parsed GeoJSON document: of the features named ``feature``, or all
    of them; GeometryError naming where and what is wrong."""
    if not isinstance(document, dict):
        raise GeometryError("", f"is not a GeoJSON object, got {_kind(document)}")
    kind = document.get("type")
    if kind in POLYGON_TYPES:
        if feature:
            raise GeometryError(
                "",
                f"is a bare {kind} geometry, with no named features to pick {feature!r} from",
                "feature",
            )
        return tuple(_geometry_polygons(document, ""))
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise GeometryError("features", f"must be a list of features, got {_kind(features)}")
        items = [(_at("features", index), item) for index, item in enumerate(features)]
    elif kind == "Feature":
        items = [("", document)]
    else:
        raise GeometryError(
            "type",
            f"is {kind!r}, not a Polygon, MultiPolygon, Feature or FeatureCollection"
            " (a geofence must be a polygon)",
        )
    polygons: list[PolygonRings] = []
    found: set[str] = set()
    names: list[str] = []
    for where, item in items:
        if not isinstance(item, dict) or item.get("type") != "Feature":
            raise GeometryError(where, f"is not a GeoJSON Feature, got {item!r:.80}")
        name = _feature_name(item)
        if isinstance(name, str) and name not in names:
            names.append(name)
        if feature and name != feature:
            continue
        geometry = item.get("geometry")
        at = _at(where, "geometry")
        if geometry is None:
            if feature:
                raise GeometryError(at, f"feature {feature!r} has no geometry", "feature")
            continue
        if not isinstance(geometry, dict):
            raise GeometryError(at, f"must be a geometry object, got {_kind(geometry)}")
        geometry_kind = geometry.get("type")
        if geometry_kind not in POLYGON_TYPES:
            if feature:
                raise GeometryError(
                    at,
                    f"feature {feature!r} is a {geometry_kind}, not a Polygon or MultiPolygon",
                    "feature",
                )
            found.add(str(geometry_kind))
            continue
        polygons.extend(_geometry_polygons(geometry, at))
    if feature and not polygons:
        known = ", ".join(repr(name) for name in names[:10]) or "none"
        more = ", …" if len(names) > 10 else ""
        raise GeometryError(
            "", f"has no feature named {feature!r} (names: {known}{more})", "feature"
        )
    if not polygons:
        others = f" (found: {', '.join(sorted(found))})" if found else ""
        raise GeometryError("", f"has no Polygon or MultiPolygon{others}")
    return tuple(polygons)


def read_geojson(path: Path) -> object:
    """The parsed JSON document in the file at ``path``; GeometryError when it cannot be
    read or is not JSON (a UTF-8 byte-order mark is allowed)."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_GEOJSON_BYTES + 1)
    except OSError as error:
        raise GeometryError("", f"cannot be read ({error.strerror or error})") from None
    if len(data) > MAX_GEOJSON_BYTES:
        raise GeometryError("", f"is larger than {MAX_GEOJSON_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise GeometryError("", f"is not UTF-8 text (byte {error.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise GeometryError("", f"is not valid JSON: {error}") from None
    except RecursionError:
        raise GeometryError("", "is not valid GeoJSON: nested too deeply") from None
    except ValueError as error:  # e.g. an integer with too many digits
        raise GeometryError("", f"is not valid JSON: {error}") from None
