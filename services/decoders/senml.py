"""SenML packs in JSON, RFC 8428 (``senml`` format).

A pack is an array of records (a single record object is accepted as a pack of one). Base
fields ``bn``, ``bt``, ``bu``, ``bv``, ``bs`` and ``bver`` apply to their record and every
later record until replaced. Per record:

- name = ``bn`` + ``n``; a record with a value but no resulting name is refused;
- time = ``bt`` + ``t``; a result below 2**28 is relative to ``received_at`` (RFC 8428
  section 4.5.3); more than a day in the future is refused;
- values: ``v`` (+ ``bv``) is the reading; ``vb`` becomes 1.0 or 0.0; ``vs`` and ``vd``
  are skipped; a sum ``s`` (+ ``bs``) becomes a second reading named ``<metric>.sum``.
  ``bv`` and ``bs`` only apply to records that carry ``v`` or ``s`` themselves;
- unit = ``u``, else ``bu``;
- records whose unit is ``lat`` or ``lon`` (SenML units registry) set the entity position
  instead of making readings;
- a field whose label ends in ``_`` (must-understand extension) and ``bver`` above 10 are
  refused; other unknown fields are ignored.

Entity and metric (see :func:`split_name`): when the record's ``bn`` and ``n`` are both
non-empty, entity = ``bn`` without trailing ``:`` or ``/`` and metric = ``n``. Otherwise the
whole name, without trailing separators, is used: a bare device URN (``urn:dev:ow:10e2...``,
RFC 9039) is the entity and the metric is ``value``; else it is split at its last ``:`` or
``/``; a name with neither separator is a metric of the entity named by the last topic level.
"""

from __future__ import annotations

import math
import re
from typing import Any

from services.config import FeedConfig
from services.decoders.base import Decoded, DecodeError, EntityUpdate
from services.decoders.common import (
    MAX_ID_LENGTH,
    check_count,
    check_time,
    checked_metric,
    number_value,
    parse_json_document,
)
from services.model import Reading

RELATIVE_TIME_LIMIT = 2.0**28
SENML_VERSION = 10
DEVICE_URN = re.compile(r"urn:dev:[A-Za-z0-9]+:[^:/]+")
BARE_METRIC = "value"
MAX_UNIT_LENGTH = 32


def _topic_entity(topic: str) -> str | None:
    levels = [level for level in topic.split("/") if level.strip()]
    return levels[-1].strip() if levels else None


def split_name(base_name: str, name: str, topic: str) -> tuple[str, str]:
    """(entity id, metric) of a record's base name and name, by the rule in the module notes."""
    entity = base_name.rstrip(":/")
    if entity and name:
        return entity, name
    full = (base_name + name).rstrip(":/")
    if DEVICE_URN.fullmatch(full):
        return full, BARE_METRIC
    cut = max(full.rfind(":"), full.rfind("/"))
    if cut > 0:
        return full[:cut].rstrip(":/") or full[:cut], full[cut + 1 :]
    device = _topic_entity(topic)
    if device is None or not full:
        raise DecodeError(f"cannot tell the device of SenML name {full[:40]!r}")
    return device, full


def _text(record: dict[str, Any], key: str, index: int) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DecodeError(f"record {index}: {key!r} must be text")
    return value


def _number(record: dict[str, Any], key: str, index: int) -> float | None:
    value = record.get(key)
    if value is None:
        return None
    number = number_value(value)
    if number is None:
        raise DecodeError(f"record {index}: {key!r} must be a number")
    return number


def _finite(number: float, index: int) -> float:
    if not math.isfinite(number):
        raise DecodeError(f"record {index}: value out of range")
    return number


def _check_fields(record: dict[str, Any], index: int) -> None:
    for key in record:
        if key.endswith("_"):
            raise DecodeError(f"record {index}: unsupported must-understand field {key[:30]!r}")
    if "bver" in record:
        version = record["bver"]
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise DecodeError(f"record {index}: 'bver' must be a positive whole number")
        if version > SENML_VERSION:
            raise DecodeError(f"record {index}: SenML version {version} is not supported")
    if "vb" in record and not isinstance(record["vb"], bool):
        raise DecodeError(f"record {index}: 'vb' must be true or false")
    _text(record, "vs", index)
    _text(record, "vd", index)


def decode_senml(payload: bytes, topic: str, feed: FeedConfig, received_at: float) -> Decoded:
    """Decode one SenML JSON pack into readings and entity updates."""
    document = parse_json_document(payload)
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise DecodeError(f"SenML JSON must be an array of records, got {type(document).__name__}")
    check_count(len(document), "records")
    base_name, base_unit = "", ""
    base_time, base_value, base_sum = 0.0, 0.0, 0.0
    readings: list[Reading] = []
    positions: dict[str, dict[str, float]] = {}
    for index, record in enumerate(document):
        if not isinstance(record, dict):
            raise DecodeError(f"record {index} is {type(record).__name__}, not an object")
        _check_fields(record, index)
        if "bn" in record:
            base_name = _text(record, "bn", index) or ""
        if "bu" in record:
            base_unit = _text(record, "bu", index) or ""
        if "bt" in record:
            base_time = _number(record, "bt", index) or 0.0
        if "bv" in record:
            base_value = _number(record, "bv", index) or 0.0
        if "bs" in record:
            base_sum = _number(record, "bs", index) or 0.0
        value = _number(record, "v", index)
        total = _number(record, "s", index)
        if value is not None:
            value = _finite(value + base_value, index)
        if total is not None:
            total = _finite(total + base_sum, index)
        boolean = record.get("vb")
        if value is None and total is None and boolean is None:
            continue
        name = _text(record, "n", index) or ""
        if not base_name + name:
            raise DecodeError(f"record {index} has a value but no name")
        if len(base_name + name) > 2 * MAX_ID_LENGTH:
            raise DecodeError(f"record {index}: name longer than {2 * MAX_ID_LENGTH} characters")
        entity_id, metric = split_name(base_name, name, topic)
        if len(entity_id) > MAX_ID_LENGTH:
            raise DecodeError(f"record {index}: device id longer than {MAX_ID_LENGTH} characters")
        ts = base_time + (_number(record, "t", index) or 0.0)
        if ts < RELATIVE_TIME_LIMIT:
            ts += received_at
        check_time(ts, received_at, f"record {index}")
        unit = (_text(record, "u", index) or base_unit)[:MAX_UNIT_LENGTH]
        if value is not None and unit in ("lat", "lon"):
            limit = 90.0 if unit == "lat" else 180.0
            if not -limit <= value <= limit:
                raise DecodeError(f"record {index}: {unit} out of range")
            positions.setdefault(entity_id, {})[unit] = value
            continue
        found: list[tuple[str, float]] = []
        if value is not None:
            found.append((metric, value))
        elif isinstance(boolean, bool):
            found.append((metric, 1.0 if boolean else 0.0))
        if total is not None:
            found.append((f"{metric}.sum", total))
        for metric_name, number in found:
            readings.append(
                Reading(
                    entity_id=entity_id,
                    metric=checked_metric(metric_name),
                    value=number,
                    ts=ts,
                    feed=feed.name,
                    unit=unit,
                )
            )
        check_count(len(readings))
    entities: dict[str, EntityUpdate] = {}
    for reading in readings:
        entities.setdefault(reading.entity_id, EntityUpdate(id=reading.entity_id))
    for entity_id, position in positions.items():
        update = entities.setdefault(entity_id, EntityUpdate(id=entity_id))
        if "lat" in position and "lon" in position:
            update.lat, update.lon = position["lat"], position["lon"]
    return Decoded(readings=readings, entities=list(entities.values()))
