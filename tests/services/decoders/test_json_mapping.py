"""The ``json`` decoder with a field mapping (dot paths into nested payloads)."""

from __future__ import annotations

import json

import pytest

from services.config import JsonMapping
from services.decoders import Decoded, DecodeError
from services.decoders.json_decoder import decode_json, resolve_path
from tests.helpers.decoders import RECEIVED_AT, fixture, make_feed, readings_by_key

STATION = JsonMapping(
    id="meta.station.id",
    ts="meta.observed",
    lat="position.lat",
    lon="position.lng",
    name="meta.station.label",
    type="meta.station.kind",
    metrics=(
        "readings.0.pm25",
        "readings.0.pm10",
        "readings.1.no2",
        "status.battery",
        "status.ok",
        "status.note",
        "missing.path",
    ),
)


def decode(payload: bytes, mapping: JsonMapping | None, topic: str = "yiyang/env/x") -> Decoded:
    return decode_json(payload, topic, make_feed("json", mapping=mapping), RECEIVED_AT)


def test_nested_paths_and_listed_metrics() -> None:
    result = decode(fixture("json/mapped-station.json"), STATION)
    [entity] = result.entities
    assert (entity.id, entity.name, entity.type) == ("YY-ENV-0007", "桃花仑 监测点", "air")
    assert (entity.lat, entity.lon) == (28.5649, 112.348)  # numeric text accepted for lat
    assert [(r.metric, r.value) for r in result.readings] == [
        ("readings.0.pm25", 55.0),
        ("readings.0.pm10", 88.0),
        ("readings.1.no2", 41.2),  # numeric text at a listed path
        ("status.battery", 3.6),
    ]
    expected_ts = RECEIVED_AT - 8 * 3600 - 5 * 60  # 07:55+08:00
    assert all(
        r.entity_id == "YY-ENV-0007" and r.ts == expected_ts and r.feed == "city"
        for r in result.readings
    )


def test_empty_metrics_take_top_level_numbers() -> None:
    mapping = JsonMapping(id="meta.station.id", lat="position.lat", lon="position.lng")
    result = decode(fixture("json/mapped-station.json"), mapping)
    assert {(r.metric, r.value) for r in result.readings} == {("rssi", -71.0), ("seq", 1042.0)}
    assert result.readings[0].ts == RECEIVED_AT  # "ts" path absent


def test_fields_used_for_the_entity_are_not_metrics() -> None:
    mapping = JsonMapping(id="dev", ts="time", lat="latitude", lon="longitude")
    payload = b'{"dev": 17, "time": 1795247000, "latitude": 28.5, "longitude": 112.3, "pm25": 5}'
    result = decode(payload, mapping)
    assert [(r.entity_id, r.metric, r.value, r.ts) for r in result.readings] == [
        ("17", "pm25", 5.0, 1_795_247_000.0)
    ]


def test_missing_id_path_falls_back_to_the_topic() -> None:
    result = decode(b'{"v": 1}', JsonMapping(id="a.b"), topic="yiyang/env/aq-9")
    assert readings_by_key(result).keys() == {("aq-9", "v")}


def test_resolve_path() -> None:
    document = {"a": {"b": [10, {"c": 3}]}, "0": "zero", "x": 1}
    assert resolve_path(document, "a.b.1.c") == 3
    assert resolve_path(document, "a.b.0") == 10
    assert resolve_path(document, "0") == "zero"
    assert resolve_path(document, "a.b.5") is None
    assert resolve_path(document, "a.b.x") is None
    assert resolve_path(document, "x.y") is None
    assert resolve_path(document, "a.b.-1") is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"meta": {"observed": "2026-11-23T08:00:00Z"}}', "in the future"),
        (b'{"meta": {"observed": "then"}}', "field 'meta.observed'"),
        (b'{"meta": {"station": {"id": {"x": 1}}}}', "field 'meta.station.id'"),
        (b'{"position": {"lat": "north", "lng": 1}}', "field 'position.lat' must be a number"),
        (b'{"position": {"lat": 28}}', "must come together"),
        (b'{"position": {"lat": 28, "lng": 181}}', "out of range"),
        (b'{"readings": [{"pm25": "NaN"}]}', "non-finite"),
        (b'{"meta": {"station": {"label": 5}}}', "'meta.station.label' must be text"),
        (b'{"deep": ' + b"[" * 40 + b"]" * 40 + b"}", "nested deeper"),
        (b"[]", "expected a JSON object"),
    ],
)
def test_refusals(payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode(payload, STATION)


def test_size_limit() -> None:
    many = json.dumps({f"m{i}": i for i in range(10_001)}).encode()
    with pytest.raises(DecodeError, match="more than 10000 readings"):
        decode(many, JsonMapping())


def test_without_mapping_nested_values_are_ignored_as_before() -> None:
    result = decode(fixture("json/mapped-station.json"), None, topic="a/station-1")
    assert {(r.entity_id, r.metric) for r in result.readings} == {
        ("station-1", "rssi"),
        ("station-1", "seq"),
    }


def test_huge_integers_are_refused_not_crashing() -> None:
    for mapping in (None, JsonMapping()):
        with pytest.raises(DecodeError, match="out of range"):
            decode(b'{"v": 1' + b"0" * 400 + b"}", mapping)
        with pytest.raises(DecodeError, match="out of range"):
            decode(b'{"v": 1' + b"0" * 5000 + b"}", mapping)
