"""OwnTracks: location messages, entity ids from topics, other message types."""

from __future__ import annotations

import json

import pytest

from services.decoders import Decoded, DecodeError
from services.decoders.owntracks import decode_owntracks
from tests.helpers.decoders import RECEIVED_AT, fixture, make_feed, readings_by_key


def decode(payload: bytes, topic: str = "owntracks/bus/b7-phone") -> Decoded:
    return decode_owntracks(payload, topic, make_feed("owntracks"), RECEIVED_AT)


def test_location_message() -> None:
    result = decode(fixture("owntracks/location.json"))
    [entity] = result.entities
    assert (entity.id, entity.name, entity.type) == ("bus/b7-phone", "B7", "vehicle")
    assert (entity.lat, entity.lon) == (28.5862, 112.3504)
    readings = readings_by_key(result)
    assert {metric: (r.value, r.unit) for (_, metric), r in readings.items()} == {
        "batt": (76.0, "%"),
        "vel": (32.0, "km/h"),
        "acc": (12.0, "m"),
        "alt": (44.0, "m"),
        "cog": (270.0, "°"),
    }
    assert all(r.ts == RECEIVED_AT - 60 and r.feed == "city" for r in result.readings)


@pytest.mark.parametrize("name", ["owntracks/transition.json", "owntracks/lwt.json"])
def test_other_message_types_decode_to_nothing(name: str) -> None:
    assert decode(fixture(name)) == Decoded()


@pytest.mark.parametrize(
    ("topic", "entity_id"),
    [
        ("owntracks/bus/b7-phone/event", "bus/b7-phone"),
        ("city/fleet/truck/t9", "truck/t9"),
        ("", "B7"),
        ("single", "B7"),
        ("owntracks//x", "B7"),
    ],
)
def test_entity_id_rules(topic: str, entity_id: str) -> None:
    assert decode(fixture("owntracks/location.json"), topic).entities[0].id == entity_id


def test_http_mode_uses_the_topic_in_the_payload() -> None:
    result = decode(fixture("owntracks/http-location.json"), "https://ops.example.cn/owntracks/pub")
    [entity] = result.entities
    assert (entity.id, entity.name) == ("ambulance/unit-3", "A3")
    assert [(r.metric, r.value, r.ts) for r in result.readings] == [("vel", 64.0, RECEIVED_AT - 10)]


def test_missing_tst_uses_received_at() -> None:
    result = decode(b'{"_type": "location", "lat": 28.5, "lon": 112.3, "batt": 50}')
    assert result.readings[0].ts == RECEIVED_AT


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"_type": "location", "lon": 112.3}, "numeric 'lat'"),
        ({"_type": "location", "lat": "28.5", "lon": 112.3}, "numeric 'lat'"),
        ({"_type": "location", "lat": 28.5, "lon": 190}, "'lon' out of range"),
        ({"_type": "location", "lat": 28.5, "lon": 112, "tst": 1895248000}, "in the future"),
        ({"_type": "location", "lat": 28.5, "lon": 112, "tst": "noon"}, "'tst'"),
        ({"lat": 28.5, "lon": 112}, "no '_type'"),
        ({"_type": "encrypted", "data": "bXlzZWNyZXQ="}, "encrypted"),
    ],
)
def test_refusals(payload: dict[str, object], reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode(json.dumps(payload).encode())


def test_no_entity_id_at_all_is_refused() -> None:
    with pytest.raises(DecodeError, match="no entity id"):
        decode(b'{"_type": "location", "lat": 1, "lon": 2}', "")


def test_array_is_refused() -> None:
    with pytest.raises(DecodeError, match="expected a JSON object"):
        decode(b'[{"_type": "location"}]')
