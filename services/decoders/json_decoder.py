"""The ``json`` format, and the JSON helpers that every JSON-based decoder shares.

Without a field mapping a message is one flat object: ``id``, ``ts``, ``lat``, ``lon``,
``name`` and ``type`` are top-level fields and every other numeric field is a metric.

With a :class:`~services.config.JsonMapping` those six are dot-separated paths into nested
objects (``"meta.station.id"``; a part made of digits indexes a list, ``"points.0.lat"``),
missing paths mean "not given", and:

- ``metrics`` lists metric paths and the metric is named by its path; numeric text
  (``"81.5"``) is accepted there and at the ``lat``/``lon`` paths; other values (and
  missing paths) at metric paths are skipped, at ``lat``/``lon`` they are refused;
- an empty ``metrics`` takes every top-level number except the fields used for
  id/ts/lat/lon/name/type;
- a timestamp more than a day after ``received_at`` (or before 1970) is refused (see
  :func:`checked_time`), and the size, depth and count limits below apply.

Without a mapping nothing changed, except that integers over 300 digits are now refused
instead of crashing the decoder (no time-range check there, as before).

Shared rules for the other decoders live here too: :func:`parse_json_document` (size,
depth and number limits), :func:`checked_time`, :func:`number_value`,
:func:`geojson_position` and the limits ``MAX_READINGS`` and ``MAX_DEPTH``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from services.config import FeedConfig, JsonMapping
from services.decoders.base import Decoded, DecodeError, EntityUpdate
from services.model import Reading
from services.timeutil import format_timestamp, parse_timestamp

RESERVED_FIELDS = frozenset({"id", "ts", "lat", "lon", "name", "type"})
MAX_ID_LENGTH = 128
MAX_TEXT_LENGTH = 200
MAX_METRIC_LENGTH = 128
MAX_PAYLOAD_BYTES = 8 * 1024 * 1024
"""Largest payload :func:`parse_json_document` reads."""
MAX_DEPTH = 32
"""Deepest nesting of arrays and objects :func:`parse_json_document` accepts."""
MAX_READINGS = 10_000
"""Most readings (and entities) one payload may carry; more is refused, not truncated."""
MAX_INT_DIGITS = 300
"""Longer integers are refused while parsing (so every integer converts to a finite float)."""
MAX_POSITIONS = 100_000
FUTURE_TOLERANCE = 86_400.0
"""Timestamps later than ``received_at`` plus this (one day) are refused."""


def _reject_constant(name: str) -> Any:
    raise DecodeError(f"non-finite number {name} in payload")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise DecodeError(f"number out of range: {text[:30]}")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise DecodeError(f"number out of range: integer with more than {MAX_INT_DIGITS} digits")
    return int(text)


def _load(payload: bytes) -> Any:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DecodeError(f"payload is not UTF-8 text (byte {error.start})") from None
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except json.JSONDecodeError as error:
        raise DecodeError(
            f"not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise DecodeError("JSON nested too deeply") from None


def parse_json_object(payload: bytes) -> dict[str, Any]:
    """Parse ``payload`` as one JSON object with finite numbers only."""
    document = _load(payload)
    if not isinstance(document, dict):
        raise DecodeError(f"expected a JSON object, got {type(document).__name__}")
    return document


def parse_json_document(payload: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``payload`` as any JSON value, within the size, depth and number limits."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise DecodeError(f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
    document = _load(payload)
    check_depth(document, max_depth)
    return document


def check_depth(document: Any, limit: int = MAX_DEPTH) -> None:
    """Refuse arrays and objects nested more than ``limit`` levels (the top one is level 1)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            raise DecodeError(f"JSON nested deeper than {limit} levels")
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def check_count(count: int, what: str = "readings") -> None:
    """Refuse a payload with more than ``MAX_READINGS`` readings (or entities)."""
    if count > MAX_READINGS:
        raise DecodeError(f"more than {MAX_READINGS} {what} in one payload")


def number_value(value: object) -> float | None:
    """``value`` as a finite float when it is a JSON number (not a boolean), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        result = float(value)
    except OverflowError:
        return None
    return result if math.isfinite(result) else None


def _describe_time(seconds: float) -> str:
    try:
        return format_timestamp(seconds)
    except (OverflowError, ValueError, OSError):
        return f"{seconds:g}"


def check_time(seconds: float, received_at: float, what: str) -> float:
    """Return ``seconds`` unless it is more than a day in the future or before 1970."""
    if seconds > received_at + FUTURE_TOLERANCE:
        raise DecodeError(
            f"{what}: timestamp {_describe_time(seconds)} is more than 1 day in the future"
        )
    if seconds < 0:
        raise DecodeError(f"{what}: timestamp {_describe_time(seconds)} is before 1970")
    return seconds


def parse_time(value: object, what: str) -> float:
    """Epoch seconds from ISO-8601 text or epoch seconds, without range checks.

    An ISO-8601 interval ``start/end`` gives its end; ``start/duration`` gives its start.
    """
    if isinstance(value, str) and "/" in value:
        start, _, end = value.partition("/")
        end = end.strip()
        value = start if not end or end[:1] in "Pp" else end
    try:
        return parse_timestamp(value)
    except (ValueError, OverflowError) as error:
        raise DecodeError(f"{what}: {error}") from None


def checked_time(value: object, received_at: float, what: str) -> float:
    """:func:`parse_time`, refusing times more than a day in the future or before 1970."""
    return check_time(parse_time(value, what), received_at, what)


def clip_text(value: object) -> str | None:
    """Text values cut to ``MAX_TEXT_LENGTH``; None for anything else or blank text."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:MAX_TEXT_LENGTH]


def checked_metric(name: str) -> str:
    """A metric name, refused when empty or longer than ``MAX_METRIC_LENGTH``."""
    if not name:
        raise DecodeError("empty metric name")
    if len(name) > MAX_METRIC_LENGTH:
        raise DecodeError(f"metric name longer than {MAX_METRIC_LENGTH} characters")
    return name


GEOMETRY_NESTING = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}
"""GeoJSON geometry types read, with how many array levels hold their positions."""


def _position_of(raw: object) -> list[float]:
    if not isinstance(raw, list) or len(raw) < 2:
        raise DecodeError("GeoJSON position must be [longitude, latitude]")
    lon, lat = number_value(raw[0]), number_value(raw[1])
    if lon is None or lat is None:
        raise DecodeError("GeoJSON position must hold numbers")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise DecodeError(f"GeoJSON position out of range: [{lon:g}, {lat:g}]")
    return [lon, lat]


def _clean_coordinates(raw: object, levels: int, budget: list[int]) -> list[Any]:
    if levels == 0:
        budget[0] -= 1
        if budget[0] < 0:
            raise DecodeError(f"GeoJSON geometry with more than {MAX_POSITIONS} positions")
        return _position_of(raw)
    if not isinstance(raw, list):
        raise DecodeError("GeoJSON coordinates must be arrays")
    return [_clean_coordinates(item, levels - 1, budget) for item in raw]


def clean_geometry(geometry: object) -> dict[str, Any] | None:
    """A validated copy of a GeoJSON geometry (a Feature's geometry is taken), else None.

    Only the six single geometry types are read; positions become ``[lon, lat]`` floats
    (altitude dropped) and must be in range, else DecodeError. Other types give None.
    """
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict):
        return None
    kind = geometry.get("type")
    if not isinstance(kind, str) or kind not in GEOMETRY_NESTING:
        return None
    coordinates = _clean_coordinates(
        geometry.get("coordinates"), GEOMETRY_NESTING[kind], [MAX_POSITIONS]
    )
    return {"type": kind, "coordinates": coordinates}


def _outer_vertices(ring: list[list[float]]) -> list[list[float]]:
    return ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring


def geometry_position(geometry: dict[str, Any]) -> tuple[float, float] | None:
    """(lat, lon) of a geometry from :func:`clean_geometry`, as in :func:`geojson_position`."""
    kind, coordinates = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        return coordinates[1], coordinates[0]
    if kind in ("MultiPoint", "LineString"):
        positions = coordinates
    elif kind == "MultiLineString":
        positions = [position for line in coordinates for position in line]
    elif kind == "Polygon":
        positions = _outer_vertices(coordinates[0]) if coordinates else []
    else:
        positions = [
            position
            for polygon in coordinates
            if polygon
            for position in _outer_vertices(polygon[0])
        ]
    if not positions:
        return None
    return (
        math.fsum(lat for _, lat in positions) / len(positions),
        math.fsum(lon for lon, _ in positions) / len(positions),
    )


def geojson_position(geometry: object) -> tuple[float, float] | None:
    """(lat, lon) where a GeoJSON geometry (or Feature) should be drawn as one marker.

    A Point gives its position. For MultiPoint, LineString, MultiLineString, Polygon and
    MultiPolygon it is the plain mean of the vertices (a ring's closing vertex counted once,
    holes ignored) - not the area centroid, and not correct across the antimeridian, but
    inside the shape for the small convex shapes of city objects. Other geometry types
    (and empty ones) give None; malformed coordinates raise DecodeError.
    """
    cleaned = clean_geometry(geometry)
    return None if cleaned is None else geometry_position(cleaned)


def _text_field(document: dict[str, Any], key: str) -> str | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DecodeError(f"field {key!r} must be text")
    return value[:MAX_TEXT_LENGTH]


def _coordinate(document: dict[str, Any], key: str, limit: float) -> float | None:
    value = document.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DecodeError(f"field {key!r} must be a number")
    if not -limit <= value <= limit:
        raise DecodeError(f"field {key!r} out of range: {value}")
    return float(value)


def entity_id_value(raw: object, topic: str, key: str = "id") -> str:
    """An entity id from the value of field ``key``; None means the last level of the topic."""
    if raw is None:
        entity_id = topic.rsplit("/", 1)[-1]
    elif isinstance(raw, str) or (isinstance(raw, int) and not isinstance(raw, bool)):
        entity_id = str(raw)
    else:
        raise DecodeError(f"field {key!r} must be text or a whole number")
    entity_id = entity_id.strip()
    if not entity_id:
        raise DecodeError(f"no entity id: empty {key!r} and no topic level")
    if len(entity_id) > MAX_ID_LENGTH:
        raise DecodeError(f"entity id longer than {MAX_ID_LENGTH} characters")
    return entity_id


def entity_id_from(document: dict[str, Any], topic: str) -> str:
    """The ``id`` field, else the last level of the topic."""
    return entity_id_value(document.get("id"), topic)


def resolve_path(document: Any, path: str) -> Any:
    """The value at a dot-separated ``path`` (digit parts index lists); None when absent."""
    node = document
    for part in path.split("."):
        if isinstance(node, dict):
            if part not in node:
                return None
            node = node[part]
        elif isinstance(node, list) and part.isascii() and part.isdigit() and len(part) < 10:
            index = int(part)
            if index >= len(node):
                return None
            node = node[index]
        else:
            return None
    return node


def _mapped_number(value: object, path: str) -> float | None:
    """A number, or numeric text, at a configured path; None for anything else."""
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        if not math.isfinite(number):
            raise DecodeError(f"non-finite number at {path!r}: {value[:30]!r}")
        return number
    return number_value(value)


def _mapped_coordinate(document: Any, path: str, limit: float) -> float | None:
    value = resolve_path(document, path)
    if value is None:
        return None
    number = _mapped_number(value, path)
    if number is None:
        raise DecodeError(f"field {path!r} must be a number")
    if not -limit <= number <= limit:
        raise DecodeError(f"field {path!r} out of range: {number:g}")
    return number


def _mapped_text(document: Any, path: str) -> str | None:
    value = resolve_path(document, path)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DecodeError(f"field {path!r} must be text")
    return value[:MAX_TEXT_LENGTH]


def _decode_mapped(
    document: dict[str, Any], topic: str, feed: FeedConfig, mapping: JsonMapping, received_at: float
) -> Decoded:
    check_depth(document)
    entity_id = entity_id_value(resolve_path(document, mapping.id), topic, mapping.id)
    raw_ts = resolve_path(document, mapping.ts)
    ts = (
        received_at
        if raw_ts is None
        else checked_time(raw_ts, received_at, f"field {mapping.ts!r}")
    )
    lat = _mapped_coordinate(document, mapping.lat, 90.0)
    lon = _mapped_coordinate(document, mapping.lon, 180.0)
    if (lat is None) != (lon is None):
        raise DecodeError(f"{mapping.lat!r} and {mapping.lon!r} must come together")
    update = EntityUpdate(
        id=entity_id,
        name=_mapped_text(document, mapping.name),
        type=_mapped_text(document, mapping.type),
        lat=lat,
        lon=lon,
    )
    values: list[tuple[str, float]] = []
    if mapping.metrics:
        for path in mapping.metrics:
            number = _mapped_number(resolve_path(document, path), path)
            if number is not None:
                values.append((path, number))
    else:
        used = {mapping.id, mapping.ts, mapping.lat, mapping.lon, mapping.name, mapping.type}
        for key, value in document.items():
            number = number_value(value)
            if key not in used and number is not None:
                values.append((key, number))
    check_count(len(values))
    readings = [
        Reading(entity_id=entity_id, metric=checked_metric(key), value=value, ts=ts, feed=feed.name)
        for key, value in values
    ]
    return Decoded(readings=readings, entities=[update])


def decode_json(payload: bytes, topic: str, feed: FeedConfig, received_at: float) -> Decoded:
    """Decode one ``json`` payload into readings and an entity update.

    With ``feed.mapping`` set, fields are found by path (see the module notes).
    """
    if feed.mapping is not None:
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise DecodeError(f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
        return _decode_mapped(parse_json_object(payload), topic, feed, feed.mapping, received_at)
    document = parse_json_object(payload)
    entity_id = entity_id_from(document, topic)
    if "ts" in document:
        try:
            ts = parse_timestamp(document["ts"])
        except ValueError as error:
            raise DecodeError(f"field 'ts': {error}") from None
        check_time(ts, received_at, "field 'ts'")
    else:
        ts = received_at
    lat = _coordinate(document, "lat", 90.0)
    lon = _coordinate(document, "lon", 180.0)
    if (lat is None) != (lon is None):
        raise DecodeError("'lat' and 'lon' must come together")
    update = EntityUpdate(
        id=entity_id,
        name=_text_field(document, "name"),
        type=_text_field(document, "type"),
        lat=lat,
        lon=lon,
    )
    readings = [
        Reading(entity_id=entity_id, metric=key, value=float(value), ts=ts, feed=feed.name)
        for key, value in document.items()
        if key not in RESERVED_FIELDS
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ]
    return Decoded(readings=readings, entities=[update])
