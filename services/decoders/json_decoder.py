"""The ``json`` format: one flat object per message; numeric fields are metrics."""

from __future__ import annotations

import json
import math
from typing import Any

from services.config import FeedConfig
from services.decoders.base import Decoded, DecodeError, EntityUpdate
from services.model import Reading
from services.timeutil import parse_timestamp

RESERVED_FIELDS = frozenset({"id", "ts", "lat", "lon", "name", "type"})
MAX_ID_LENGTH = 128
MAX_TEXT_LENGTH = 200


def _reject_constant(name: str) -> Any:
    raise DecodeError(f"non-finite number {name} in payload")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise DecodeError(f"number out of range: {text[:30]}")
    return value


def parse_json_object(payload: bytes) -> dict[str, Any]:
    """Parse ``payload`` as one JSON object with finite numbers only."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DecodeError(f"payload is not UTF-8 text (byte {error.start})") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as error:
        raise DecodeError(
            f"not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise DecodeError("JSON nested too deeply") from None
    if not isinstance(document, dict):
        raise DecodeError(f"expected a JSON object, got {type(document).__name__}")
    return document


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


def entity_id_from(document: dict[str, Any], topic: str) -> str:
    """The ``id`` field, else the last level of the topic."""
    raw = document.get("id")
    if raw is None:
        entity_id = topic.rsplit("/", 1)[-1]
    elif isinstance(raw, str) or (isinstance(raw, int) and not isinstance(raw, bool)):
        entity_id = str(raw)
    else:
        raise DecodeError("field 'id' must be text or a whole number")
    entity_id = entity_id.strip()
    if not entity_id:
        raise DecodeError("no entity id: empty 'id' and no topic level")
    if len(entity_id) > MAX_ID_LENGTH:
        raise DecodeError(f"entity id longer than {MAX_ID_LENGTH} characters")
    return entity_id


def decode_json(payload: bytes, topic: str, feed: FeedConfig, received_at: float) -> Decoded:
    """Decode one ``json`` payload into readings and an entity update."""
    document = parse_json_object(payload)
    entity_id = entity_id_from(document, topic)
    if "ts" in document:
        try:
            ts = parse_timestamp(document["ts"])
        except ValueError as error:
            raise DecodeError(f"field 'ts': {error}") from None
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
