"""OGC SensorThings: MQTT observations, HTTP collections, expansions, paging."""

from __future__ import annotations

import json

import pytest

from services.decoders import Decoded, DecodeError
from services.decoders.sensorthings import decode_sensorthings
from tests.helpers.decoders import RECEIVED_AT, fixture, make_feed, readings_by_key

TOPIC = "v1.1/Datastreams(12)/Observations"
PAGE_URL = "https://sta.example.cn/FROST-Server/v1.1/Datastreams(12)/Observations?$top=3"
EXPANDED_URL = (
    "https://sta.example.cn/FROST-Server/v1.1/Observations"
    "?$expand=Datastream($expand=Thing,ObservedProperty),FeatureOfInterest"
)


def decode(payload: bytes, topic: str = TOPIC) -> Decoded:
    return decode_sensorthings(payload, topic, make_feed("sensorthings"), RECEIVED_AT)


def test_mqtt_observation_on_a_datastream_topic() -> None:
    result = decode(fixture("sensorthings/observation.json"))
    [reading] = result.readings
    assert (reading.entity_id, reading.metric, reading.value) == ("Datastream(12)", "result", 3.42)
    assert (reading.ts, reading.feed, reading.unit) == (RECEIVED_AT - 300, "city", "")
    [entity] = result.entities
    assert (entity.id, entity.type, entity.lat) == ("Datastream(12)", "Datastream", None)


@pytest.mark.parametrize(
    ("topic", "entity_id"),
    [
        ("v1.0/Datastreams(7)/Observations", "Datastream(7)"),
        ("v1.0/Things(3)/Datastreams('air-7')/Observations", "Datastream(air-7)"),
        ("city/sta/v1.1/Datastreams(9)/Observations", "Datastream(9)"),
    ],
)
def test_topic_forms(topic: str, entity_id: str) -> None:
    [reading] = decode(fixture("sensorthings/observation.json"), topic).readings
    assert reading.entity_id == entity_id


def test_interval_phenomenon_time_uses_its_end() -> None:
    [reading] = decode(fixture("sensorthings/observation-interval.json")).readings
    assert (reading.value, reading.ts) == (128.0, RECEIVED_AT - 30 * 60)


def test_result_time_when_no_phenomenon_time() -> None:
    payload = b'{"resultTime": "2026-11-21T07:59:00Z", "result": 1}'
    assert decode(payload).readings[0].ts == RECEIVED_AT - 60


def test_text_result_is_skipped() -> None:
    result = decode(fixture("sensorthings/observation-text-result.json"))
    assert result.readings == []
    assert [entity.id for entity in result.entities] == ["Datastream(12)"]


def test_http_page() -> None:
    result = decode(fixture("sensorthings/observations-page.json"), PAGE_URL)
    assert [(r.entity_id, r.value, r.ts) for r in result.readings] == [
        ("Datastream(12)", 0.61, RECEIVED_AT - 600),
        ("Datastream(12)", 0.58, RECEIVED_AT - 900),
    ]


def test_expanded_observations_use_thing_property_unit_and_feature() -> None:
    result = decode(fixture("sensorthings/observations-expanded.json"), EXPANDED_URL)
    assert [(r.entity_id, r.metric, r.value, r.unit, r.ts) for r in result.readings] == [
        ("Thing(12)", "speed", 41.5, "km/h", RECEIVED_AT - 20 * 60),
        ("Thing(12)", "speed", 28.0, "km/h", RECEIVED_AT - 15 * 60),
        ("Datastream(55)", "LAeq", 87.0, "dB", RECEIVED_AT - 16 * 60),
    ]
    bus, noise = result.entities
    assert (bus.id, bus.name, bus.type) == ("Thing(12)", "公交 12 路 湘H-12345", "Thing")
    assert (bus.lat, bus.lon) == (28.5720, 112.3350)  # the newer observation's feature
    assert (noise.id, noise.name, noise.lat) == ("Datastream(55)", "Heshan noise", None)


def test_datastreams_with_expanded_observations() -> None:
    url = "https://sta.example.cn/v1.1/Datastreams?$expand=Observations($top=1),ObservedProperty"
    result = decode(fixture("sensorthings/datastreams-latest.json"), url)
    [reading] = result.readings
    assert (reading.entity_id, reading.metric, reading.value, reading.unit) == (
        "Datastream(ds-level-zishui)",
        "waterLevel",
        34.12,
        "m",
    )
    assert [entity.name for entity in result.entities] == ["Zishui water level"]


def test_things_with_locations_and_datastreams() -> None:
    result = decode(
        fixture("sensorthings/things-expanded.json"), "https://sta.example.cn/v1.1/Things"
    )
    readings = readings_by_key(result)
    assert set(readings) == {("Thing(3)", "pm25"), ("Thing(3)", "Air temperature")}
    assert readings["Thing(3)", "pm25"].unit == "µg/m³"
    assert readings["Thing(3)", "Air temperature"].value == 9.5
    [thing] = result.entities
    assert (thing.name, thing.lat, thing.lon) == ("高新区 环境站", 28.6155, 112.4012)


@pytest.mark.parametrize(
    ("payload", "topic", "reason"),
    [
        (b'{"result": 1}', "sta/anything", "without its Datastream"),
        (b'{"phenomenonTime": "2026-11-23T08:00:00Z", "result": 1}', TOPIC, "in the future"),
        (b'{"phenomenonTime": "later", "result": 1}', TOPIC, "phenomenonTime"),
        (b"{}", TOPIC, "not a SensorThings Observation"),
        (b"5", TOPIC, "expected an Observation"),
        (b'{"value": [1]}', TOPIC, "collection member is int"),
        (b'{"result": 1, "Datastream": {"@iot.id": 1.5}}', TOPIC, "text or a whole number"),
        (
            b'{"result": 1, "FeatureOfInterest": {"feature": {"type": "Point", '
            b'"coordinates": [1, 99]}}}',
            TOPIC,
            "FeatureOfInterest",
        ),
        (b'{"result": Infinity}', TOPIC, "non-finite"),
        (b'{"result": 1e400}', TOPIC, "out of range"),
    ],
)
def test_refusals(payload: bytes, topic: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode(payload, topic)


def test_size_limit() -> None:
    page = {"value": [{"result": i} for i in range(10_001)]}
    with pytest.raises(DecodeError, match="more than 10000"):
        decode(json.dumps(page).encode())
    page["value"].pop()
    assert len(decode(json.dumps(page).encode()).readings) == 10_000
