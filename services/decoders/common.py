"""Checks every JSON-based decoder shares: size, depth and number limits, timestamps,
metric names, text clipping and GeoJSON positions."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from services.decoders.base import DecodeError
from services.limits import MAX_PAYLOAD_BYTES, payload_too_large
from services.timeutil import format_timestamp, parse_timestamp

MAX_ID_LENGTH = 128
MAX_TEXT_LENGTH = 200
MAX_METRIC_LENGTH = 128
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


_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_bounded_int
)
"""One decoder with the number checks, built once (``json.loads`` with hooks builds one per
call)."""

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""A JSON escape of a UTF-16 surrogate: only a valid pair may become text."""


def _load(payload: bytes) -> Any:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DecodeError(f"payload is not UTF-8 text (byte {error.start})") from None
    try:
        document = _DECODER.decode(text)
        if _SURROGATE_ESCAPE.search(text):
            # "\ud800" alone decodes to a string that no UTF-8 file or database can hold.
            json.dumps(document, ensure_ascii=False).encode("utf-8")
        return document
    except UnicodeEncodeError:
        raise DecodeError("text with a lone surrogate (\\ud800-\\udfff) escape") from None
    except json.JSONDecodeError as error:
        raise DecodeError(
            f"not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise DecodeError("JSON nested too deeply") from None


def check_size(payload: bytes) -> None:
    """Refuse a payload over the shared limit (feeds refuse them earlier; this guards
    direct callers)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise DecodeError(payload_too_large(len(payload)))


def parse_json_object(payload: bytes) -> dict[str, Any]:
    """Parse ``payload`` as one JSON object with finite numbers only."""
    check_size(payload)
    document = _load(payload)
    if not isinstance(document, dict):
        raise DecodeError(f"expected a JSON object, got {type(document).__name__}")
    return document


def parse_json_document(payload: bytes) -> Any:
    """Parse ``payload`` as any JSON value, within the size, depth and number limits."""
    check_size(payload)
    document = _load(payload)
    if payload.count(b"{") + payload.count(b"[") > MAX_DEPTH:  # else it cannot be deeper
        check_depth(document)
    return document


def check_depth(document: Any) -> None:
    """Refuse arrays and objects nested more than ``MAX_DEPTH`` levels (the top one is 1)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            raise DecodeError(f"JSON nested deeper than {MAX_DEPTH} levels")
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
