"""OwnTracks location messages (``owntracks`` format).

Only ``{"_type": "location", ...}`` carries data: entity = ``<user>/<device>``, name =
``tid``, type ``vehicle``, position = ``lat``/``lon`` (both required), time = ``tst`` (epoch
seconds; ``received_at`` when absent; more than a day in the future is refused), and the
numeric fields ``batt`` (%), ``vel`` (km/h), ``acc`` (m), ``alt`` (m) and ``cog`` (°) become
readings.

Every other ``_type`` (transition, waypoint(s), lwt, card, status, cmd, ...) decodes to an
empty result on purpose: it is normal traffic on the same topics, not an error. An
``encrypted`` payload is refused (it cannot be read without the key), as is a message
without ``_type``.

The entity id comes from the topic ``owntracks/<user>/<device>``: the two levels after a
first level ``owntracks``; for another base topic, its last two levels. When the topic has
fewer than two levels or is a URL (HTTP mode), the payload's own ``topic`` field is tried
the same way, then ``tid``.
"""

from __future__ import annotations

from typing import Any

from services.config import FeedConfig
from services.decoders.base import Decoded, DecodeError, EntityUpdate
from services.decoders.common import (
    MAX_ID_LENGTH,
    checked_time,
    clip_text,
    number_value,
    parse_json_document,
)
from services.model import Reading

READING_FIELDS: dict[str, str] = {
    "batt": "%",
    "vel": "km/h",
    "acc": "m",
    "alt": "m",
    "cog": "°",
}
"""OwnTracks location fields that become readings, with their units."""
ENTITY_TYPE = "vehicle"


def _id_from_topic(topic: str) -> str | None:
    if "://" in topic:  # an HTTP feed passes its URL
        return None
    levels = [level.strip() for level in topic.split("/")]
    if len(levels) >= 3 and levels[0] == "owntracks":
        user, device = levels[1], levels[2]
    elif len(levels) >= 2:
        user, device = levels[-2], levels[-1]
    else:
        return None
    if not user or not device or "+" in (user, device) or "#" in (user, device):
        return None
    return f"{user}/{device}"


def _entity_id(document: dict[str, Any], topic: str) -> str:
    inner = document.get("topic")
    entity_id = (
        _id_from_topic(topic)
        or (_id_from_topic(inner) if isinstance(inner, str) else None)
        or clip_text(document.get("tid"))
    )
    if entity_id is None:
        raise DecodeError("no entity id: the topic is not owntracks/<user>/<device> and no 'tid'")
    if len(entity_id) > MAX_ID_LENGTH:
        raise DecodeError(f"entity id longer than {MAX_ID_LENGTH} characters")
    return entity_id


def _coordinate(document: dict[str, Any], key: str, limit: float) -> float:
    value = number_value(document.get(key))
    if value is None:
        raise DecodeError(f"location without a numeric {key!r}")
    if not -limit <= value <= limit:
        raise DecodeError(f"{key!r} out of range: {value:g}")
    return value


def decode_owntracks(payload: bytes, topic: str, feed: FeedConfig, received_at: float) -> Decoded:
    """Decode one OwnTracks message; only ``location`` messages give data."""
    document = parse_json_document(payload)
    if not isinstance(document, dict):
        raise DecodeError(f"expected a JSON object, got {type(document).__name__}")
    kind = document.get("_type")
    if not isinstance(kind, str):
        raise DecodeError("not an OwnTracks message: no '_type'")
    if kind == "encrypted":
        raise DecodeError("encrypted OwnTracks payload (no key to read it)")
    if kind != "location":
        return Decoded()
    entity_id = _entity_id(document, topic)
    lat = _coordinate(document, "lat", 90.0)
    lon = _coordinate(document, "lon", 180.0)
    raw_time = document.get("tst")
    ts = received_at if raw_time is None else checked_time(raw_time, received_at, "'tst'")
    readings = []
    for key, unit in READING_FIELDS.items():
        value = number_value(document.get(key))
        if value is not None:
            readings.append(
                Reading(
                    entity_id=entity_id, metric=key, value=value, ts=ts, feed=feed.name, unit=unit
                )
            )
    update = EntityUpdate(
        id=entity_id, name=clip_text(document.get("tid")), type=ENTITY_TYPE, lat=lat, lon=lon
    )
    return Decoded(readings=readings, entities=[update])
