"""The ``json`` format: one object per message, flat or through a field mapping.

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
  :func:`~services.decoders.common.checked_time`), and the limits of
  :mod:`services.decoders.common` apply.

Without a mapping integers over 300 digits are refused, and no time-range check applies.
"""

from __future__ import annotations

import math
from typing import Any

from services.config import FeedConfig, JsonMapping
from services.decoders.base import Decoded, DecodeError, EntityUpdate
from services.decoders.common import (
    MAX_ID_LENGTH,
    MAX_TEXT_LENGTH,
    check_count,
    check_depth,
    check_time,
    checked_metric,
    checked_time,
    number_value,
    parse_json_object,
)
from services.model import Reading
from services.timeutil import parse_timestamp

RESERVED_FIELDS = frozenset({"id", "ts", "lat", "lon", "name", "type"})


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
    values = [
        (key, number)
        for key, value in document.items()
        if key not in RESERVED_FIELDS and (number := number_value(value)) is not None
    ]
    check_count(len(values))
    readings = [
        Reading(
            entity_id=entity_id, metric=checked_metric(key), value=number, ts=ts, feed=feed.name
        )
        for key, number in values
    ]
    return Decoded(readings=readings, entities=[update])
