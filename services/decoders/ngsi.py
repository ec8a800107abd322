"""FIWARE NGSI v2 and NGSI-LD entities (``ngsi-v2`` and ``ngsi-ld`` formats).

Both formats share one reader that accepts, per payload: one entity, an array of entities,
or a notification ``{"subscriptionId": ..., "data": [entities]}`` (NGSI-LD notifications,
``"type": "Notification"``, too). Attributes may be in normalized form (v2
``{"type": "Number", "value": 1, "metadata": {...}}``, LD ``{"type": "Property",
"value": 1, "unitCode": "GQ", "observedAt": ...}``, LD concise ``{"value": 1, ...}`` without
``type``) or key-values form (``"no2": 45``), mixed freely. JSON-LD value objects
``{"@type": ..., "@value": x}`` stand for ``x``. ``@context`` is ignored; attribute and type
names that are full URIs are shortened to their last path segment or fragment. The two
format names share all code: each accepts the other's shapes.

Rules:

- entity id = the NGSI ``id`` (required text, at most 256 characters); type = the NGSI
  ``type`` (first one of an LD type list); name = the ``name`` attribute when it is text;
- location = the ``location`` attribute: GeoJSON (v2 ``geo:json``, LD ``GeoProperty`` or
  plain key-values GeoJSON) placed by :func:`~services.decoders.json_decoder.geojson_position`
  (a Point, else the mean of the vertices), or v2 ``geo:point`` text ``"lat, lon"``;
- every other attribute whose value is a number becomes a reading named after the
  attribute; booleans, text, objects, relationships and date-times are skipped, not errors;
  for NGSI-LD multi-attributes (lists) the instance without ``datasetId`` is used;
- unit = the UN/CEFACT ``unitCode`` (LD attribute member, v2 ``metadata.unitCode``); the
  common codes in ``UNIT_CODES`` become symbols (GQ -> µg/m³), others are kept as the code;
- timestamp of a reading = the attribute's own ``observedAt`` (LD) or
  ``metadata.TimeInstant`` (v2), else the entity's ``observedAt``, ``dateObserved``,
  ``TimeInstant``, ``dateModified`` (first present), else ``received_at``. An interval
  ``start/end`` gives its end. Times more than a day in the future are refused;
- FIWARE ``Alert`` entities become an :class:`ExternalAlarm` (see :func:`_read_alert`), plus
  an entity update (id = the Alert id, type ``Alert``) at the Alert's own location when it
  has one, and no readings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.config import FeedConfig
from services.decoders.base import Decoded, DecodeError, EntityUpdate, ExternalAlarm
from services.decoders.common import (
    check_count,
    checked_metric,
    checked_time,
    clean_geometry,
    clip_text,
    geometry_position,
    number_value,
    parse_json_document,
    parse_time,
)
from services.model import Reading, Severity

MAX_NGSI_ID_LENGTH = 256
MAX_MESSAGE_LENGTH = 1000

UNIT_CODES: dict[str, str] = {
    "GQ": "µg/m³",
    "GP": "mg/m³",
    "CEL": "°C",
    "FAH": "°F",
    "KEL": "K",
    "P1": "%",
    "59": "ppm",
    "61": "ppb",
    "A97": "hPa",
    "PAL": "Pa",
    "KPA": "kPa",
    "BAR": "bar",
    "MTR": "m",
    "CMT": "cm",
    "MMT": "mm",
    "KMT": "km",
    "KMH": "km/h",
    "MTS": "m/s",
    "DD": "°",
    "SEC": "s",
    "MIN": "min",
    "HUR": "h",
    "WTT": "W",
    "KWT": "kW",
    "KWH": "kWh",
    "VLT": "V",
    "AMP": "A",
    "HTZ": "Hz",
    "LUX": "lx",
    "2N": "dB",
    "LTR": "l",
    "MTQ": "m³",
    "MQH": "m³/h",
    "KGM": "kg",
}
"""UN/CEFACT Recommendation 20 codes shown as symbols; other codes are shown as they are."""

ALERT_SEVERITIES: dict[str, Severity] = {
    "informational": Severity.LOW,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}
"""FIWARE Alert ``severity`` values; a missing or unknown one is MEDIUM."""

ENTITY_TIME_ATTRIBUTES = ("observedAt", "dateObserved", "TimeInstant", "dateModified")
NOT_READINGS = frozenset(
    {
        "id",
        "type",
        "@context",
        "name",
        "location",
        "observedAt",
        "createdAt",
        "modifiedAt",
        "dateCreated",
        "dateModified",
        "dateObserved",
        "TimeInstant",
    }
)
NOT_NUMBER_KINDS = frozenset(
    {"Relationship", "GeoProperty", "geo:json", "geo:point", "DateTime", "Date", "Time"}
)
NORMALIZED_MEMBERS = ("value", "object", "languageMap", "vocab", "json")
PROPERTY_MEMBERS = frozenset(
    {
        "value",
        "type",
        "metadata",
        "unitCode",
        "observedAt",
        "datasetId",
        "createdAt",
        "modifiedAt",
        "instanceId",
    }
)


@dataclass(frozen=True, slots=True)
class _Attribute:
    """One attribute, whatever its form: ``kind`` is the normalized ``type`` or None."""

    kind: str | None
    value: object
    unit: str | None = None
    observed_at: object = None


def _is_normalized(raw: object) -> bool:
    if not isinstance(raw, dict):
        return False
    if isinstance(raw.get("type"), str) and not raw.keys().isdisjoint(NORMALIZED_MEMBERS):
        return True
    return "value" in raw and set(raw) <= PROPERTY_MEMBERS


def _unwrap(value: object) -> object:
    """JSON-LD value objects ``{"@type": ..., "@value": x}`` stand for ``x``."""
    if isinstance(value, dict) and "@value" in value:
        return value["@value"]
    return value


def _attribute(raw: object) -> _Attribute:
    if isinstance(raw, list):
        instances = [item for item in raw if _is_normalized(item)]
        if not instances:
            return _Attribute(None, raw)
        raw = next((item for item in instances if "datasetId" not in item), instances[0])
    if not _is_normalized(raw):
        return _Attribute(None, _unwrap(raw))
    assert isinstance(raw, dict)
    kind = raw.get("type")
    value = raw["value"] if "value" in raw else raw.get("object")
    unit = raw.get("unitCode")
    observed_at = raw.get("observedAt")
    metadata = raw.get("metadata")
    if isinstance(metadata, dict):
        code = metadata.get("unitCode")
        unit = _attribute(code).value if unit is None and code is not None else unit
        instant = metadata.get("TimeInstant")
        if observed_at is None and instant is not None:
            observed_at = _attribute(instant).value
    return _Attribute(
        kind if isinstance(kind, str) else None,
        _unwrap(value),
        unit if isinstance(unit, str) else None,
        _unwrap(observed_at),
    )


def unit_text(code: str) -> str:
    """The symbol for a UN/CEFACT unit code, or the code itself when it is not a common one."""
    code = code.strip()
    return UNIT_CODES.get(code.upper(), code[:32])


def short_name(name: str) -> str:
    """An attribute or type name without its namespace when it is a full URI."""
    if "://" in name or name.startswith("urn:"):
        for separator in ("#", "/"):
            tail = name.rstrip("/").rsplit(separator, 1)
            if len(tail) == 2 and tail[1]:
                return tail[1]
    return name


def _entity_id(entity: dict[str, Any], index: int) -> str:
    raw = entity.get("id")
    if not isinstance(raw, str) or not raw.strip():
        raise DecodeError(f"entity {index}: 'id' must be non-empty text")
    if len(raw.strip()) > MAX_NGSI_ID_LENGTH:
        raise DecodeError(f"entity {index}: id longer than {MAX_NGSI_ID_LENGTH} characters")
    return raw.strip()


def _entity_type(entity: dict[str, Any]) -> str | None:
    raw = entity.get("type")
    if isinstance(raw, list):
        raw = next((item for item in raw if isinstance(item, str)), None)
    return clip_text(short_name(raw)) if isinstance(raw, str) else None


def _entity_time(entity: dict[str, Any], received_at: float) -> float:
    for key in ENTITY_TIME_ATTRIBUTES:
        if key in entity:
            value = _attribute(entity[key]).value
            if value is not None:
                return checked_time(value, received_at, f"attribute {key!r}")
    return received_at


def _geo_point(text: str) -> tuple[float, float]:
    parts = text.split(",")
    numbers = []
    for part in parts:
        try:
            numbers.append(float(part.strip()))
        except ValueError:
            break
    if len(parts) != 2 or len(numbers) != 2:
        raise DecodeError(f"geo:point must be 'lat, lon', got {text[:40]!r}")
    lat, lon = numbers
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise DecodeError(f"geo:point out of range: {text[:40]!r}")
    return lat, lon


def _location(raw: object) -> tuple[tuple[float, float] | None, dict[str, Any] | None]:
    """The marker position and the validated GeoJSON geometry of a ``location`` attribute."""
    if raw is None:
        return None, None
    attribute = _attribute(raw)
    value = attribute.value
    if isinstance(value, str) and attribute.kind == "geo:point":
        return _geo_point(value), None
    try:
        geometry = clean_geometry(value)
    except DecodeError as error:
        raise DecodeError(f"attribute 'location': {error}") from None
    if geometry is None:
        return None, None
    return geometry_position(geometry), geometry


def _alert_area(geometry: dict[str, Any] | None, label: str) -> dict[str, object] | None:
    """A FeatureCollection (as CAP areas are) for Alert locations that are lines or areas."""
    if geometry is None or geometry["type"] in ("Point", "MultiPoint"):
        return None
    feature = {"type": "Feature", "geometry": geometry, "properties": {"areaDesc": label}}
    return {"type": "FeatureCollection", "features": [feature]}


def _entities_of(document: Any) -> list[Any]:
    if isinstance(document, dict):
        data = document.get("data")
        is_notification = "subscriptionId" in document or document.get("type") == "Notification"
        if is_notification and isinstance(data, list):
            return data
        return [document]
    if isinstance(document, list):
        return document
    raise DecodeError(
        f"expected an NGSI entity, an array of entities or a notification, "
        f"got {type(document).__name__}"
    )


def _alert_target(source: object, alert_id: str) -> str:
    """``alertSource`` when it reads as an entity id (no spaces, not a URL), else the Alert."""
    if not isinstance(source, str):
        return alert_id
    text = source.strip()
    if (
        0 < len(text) <= MAX_NGSI_ID_LENGTH
        and "://" not in text
        and not any(character.isspace() for character in text)
    ):
        return text
    return alert_id


def _read_alert(
    entity: dict[str, Any], alert_id: str, received_at: float, decoded: Decoded
) -> None:
    """A FIWARE ``Alert`` as an external alarm.

    source_id = the Alert id; entity_id = ``alertSource`` when it reads as an entity id
    (text without spaces and not a URL; LD Relationship objects count), else the Alert id;
    event = ``subCategory``, else ``category``, else "alert"; severity from
    ``ALERT_SEVERITIES``; sent_at = ``dateIssued``, else the entity time; expires_at =
    ``validTo``; message = ``description``; area = the ``location`` when it is a line or an
    area, as a GeoJSON FeatureCollection like CAP areas (a point only places the entity).
    """

    def text(key: str) -> str | None:
        return clip_text(_attribute(entity.get(key)).value)

    event = text("subCategory") or text("category") or "alert"
    severity = ALERT_SEVERITIES.get((text("severity") or "").lower(), Severity.MEDIUM)
    issued = _attribute(entity.get("dateIssued")).value
    sent_at = (
        checked_time(issued, received_at, "attribute 'dateIssued'")
        if issued is not None
        else _entity_time(entity, received_at)
    )
    valid_to = _attribute(entity.get("validTo")).value
    expires_at = parse_time(valid_to, "attribute 'validTo'") if valid_to is not None else None
    description = _attribute(entity.get("description")).value
    position, geometry = _location(entity.get("location"))
    decoded.alarms.append(
        ExternalAlarm(
            source_id=alert_id,
            entity_id=_alert_target(_attribute(entity.get("alertSource")).value, alert_id),
            event=event,
            severity=severity,
            sent_at=sent_at,
            expires_at=expires_at,
            message=description[:MAX_MESSAGE_LENGTH] if isinstance(description, str) else "",
            area=_alert_area(geometry, event),
        )
    )
    if position is not None:
        decoded.entities.append(
            EntityUpdate(
                id=alert_id,
                name=text("name"),
                type="Alert",
                lat=position[0],
                lon=position[1],
            )
        )


def _read_entity(
    entity: dict[str, Any], index: int, feed: FeedConfig, received_at: float, decoded: Decoded
) -> None:
    entity_id = _entity_id(entity, index)
    entity_type = _entity_type(entity)
    if entity_type == "Alert":
        _read_alert(entity, entity_id, received_at, decoded)
        return
    entity_ts = _entity_time(entity, received_at)
    position, _ = _location(entity.get("location"))
    decoded.entities.append(
        EntityUpdate(
            id=entity_id,
            name=clip_text(_attribute(entity.get("name")).value),
            type=entity_type,
            lat=position[0] if position else None,
            lon=position[1] if position else None,
        )
    )
    for key, raw in entity.items():
        if key in NOT_READINGS:
            continue
        attribute = _attribute(raw)
        if attribute.kind in NOT_NUMBER_KINDS:
            continue
        value = number_value(attribute.value)
        if value is None:
            continue
        metric = checked_metric(short_name(key))
        ts = entity_ts
        if attribute.observed_at is not None:
            ts = checked_time(attribute.observed_at, received_at, f"{metric!r} observedAt")
        decoded.readings.append(
            Reading(
                entity_id=entity_id,
                metric=metric,
                value=value,
                ts=ts,
                feed=feed.name,
                unit=unit_text(attribute.unit) if attribute.unit else "",
            )
        )
        check_count(len(decoded.readings))


def _decode(payload: bytes, feed: FeedConfig, received_at: float) -> Decoded:
    entities = _entities_of(parse_json_document(payload))
    check_count(len(entities), "entities")
    decoded = Decoded()
    for index, entity in enumerate(entities):
        if not isinstance(entity, dict):
            raise DecodeError(f"entity {index} is {type(entity).__name__}, not an object")
        _read_entity(entity, index, feed, received_at, decoded)
    return decoded


def decode_ngsi_v2(payload: bytes, topic: str, feed: FeedConfig, received_at: float) -> Decoded:
    """Decode NGSI v2 entities (normalized or key-values) or a v2 notification."""
    return _decode(payload, feed, received_at)


def decode_ngsi_ld(payload: bytes, topic: str, feed: FeedConfig, received_at: float) -> Decoded:
    """Decode NGSI-LD entities (normalized or concise/key-values) or an LD notification."""
    return _decode(payload, feed, received_at)
