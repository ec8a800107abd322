"""SenML (RFC 8428) JSON packs: base fields, times, value kinds, names and refusals."""

from __future__ import annotations

import json

import pytest

from services.decoders import Decoded, DecodeError
from services.decoders.senml import decode_senml, split_name
from tests.helpers.decoders import RECEIVED_AT, fixture, make_feed, readings_by_key
from tests.helpers.paths import SHARED_INTEROP

T_0755 = RECEIVED_AT - 300


def decode(payload: bytes, topic: str = "yiyang/senml/gw-1") -> Decoded:
    return decode_senml(payload, topic, make_feed("senml"), RECEIVED_AT)


def test_base_fields_value_kinds_and_position() -> None:
    result = decode(fixture("senml/pack-base-fields.json"))
    mac = "urn:dev:mac:0024befffe804ff1"
    ow = "urn:dev:ow:10e2073a0108006b"
    assert [(r.entity_id, r.metric, r.value, r.unit, r.ts) for r in result.readings] == [
        (mac, "temp", 12.5, "Cel", T_0755),
        (mac, "temp", 12.75, "Cel", T_0755 + 60),
        (mac, "humidity", 81.0, "%RH", T_0755 + 60),
        (mac, "door", 1.0, "", T_0755 + 60),  # vb true -> 1.0
        (mac, "energy.sum", 5120.5, "J", T_0755 + 60),  # a sum
        (ow, "level", 102.5, "cm", T_0755),  # bv 100 + v 2.5
        (ow, "level", 98.5, "cm", T_0755 + 120),
    ]
    assert all(r.feed == "city" for r in result.readings)
    first, second = result.entities
    assert (first.id, first.lat, first.lon) == (mac, 28.5711, 112.3867)
    assert (second.id, second.lat, second.lon) == (ow, None, None)


def test_relative_times_and_base_unit() -> None:
    result = decode(fixture("senml/pack-relative.json"))
    assert [(r.entity_id, r.metric, r.value, r.unit, r.ts) for r in result.readings] == [
        ("yiyang-pump-07", "pressure", 312.4, "kPa", RECEIVED_AT - 30),
        ("yiyang-pump-07", "pressure", 309.9, "kPa", RECEIVED_AT - 40),
        ("yiyang-pump-07", "flow", 0.42, "m3/s", RECEIVED_AT - 30),
    ]


def test_full_names_are_split() -> None:
    readings = readings_by_key(decode(fixture("senml/full-names.json")))
    assert set(readings) == {
        ("urn:dev:mac:0024befffe804ff1", "voltage"),
        ("urn:dev:ow:10e2073a01080063", "temp"),
        ("urn:dev:ow:10e2073a01080064", "value"),  # a bare device URN
        ("gw-1", "battery"),  # no separator: the topic names the device
    }
    assert readings["urn:dev:mac:0024befffe804ff1", "voltage"].value == 229.4
    assert readings["gw-1", "battery"].ts == RECEIVED_AT - 240


@pytest.mark.parametrize(
    ("base", "name", "expected"),
    [
        ("urn:dev:ow:1:", "temp", ("urn:dev:ow:1", "temp")),
        ("dev/", "a/b", ("dev", "a/b")),
        ("urn:dev:ow:10e2073a01080063:temp", "", ("urn:dev:ow:10e2073a01080063", "temp")),
        ("", "urn:dev:imei:35209900176148", ("urn:dev:imei:35209900176148", "value")),
        ("", "room1/co2", ("room1", "co2")),
        ("", "co2", ("t1", "co2")),
    ],
)
def test_split_name(base: str, name: str, expected: tuple[str, str]) -> None:
    assert split_name(base, name, "a/t1") == expected


def test_single_record_object_is_a_pack_of_one() -> None:
    [reading] = decode(b'{"n": "urn:dev:ow:1:temp", "v": 3}').readings
    assert (reading.entity_id, reading.metric, reading.ts) == ("urn:dev:ow:1", "temp", RECEIVED_AT)


def test_records_without_values_are_skipped() -> None:
    result = decode(b'[{"bn": "d/", "bt": 1795247000}, {"n": "x", "vs": "on"}, {"n": "y", "v": 1}]')
    assert [(r.metric, r.ts) for r in result.readings] == [("y", 1_795_247_000.0)]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"42", "array of records"),
        (b'[{"n": "a:b", "v": 1}, 7]', "record 1 is int"),
        (b'[{"n": 5, "v": 1}]', "'n' must be text"),
        (b'[{"n": "a:b", "v": "12"}]', "'v' must be a number"),
        (b'[{"n": "a:b", "vb": 1}]', "'vb' must be true or false"),
        (b'[{"bver": 11, "n": "a:b", "v": 1}]', "version 11"),
        (b'[{"bver": true, "n": "a:b", "v": 1}]', "'bver'"),
        (b'[{"n": "a:b", "v": 1, "crit_": 1}]', "must-understand"),
        (b'[{"v": 1}]', "no name"),
        (b'[{"n": "a:b", "v": 1, "t": 1895248000}]', "in the future"),
        (b'[{"n": "a:b", "v": 1, "t": 200000}]', "in the future"),
        (b'[{"n": "a:b", "v": 1, "t": -1e12}]', "before 1970"),
        (b'[{"n": "a:lat", "u": "lat", "v": 95}]', "lat out of range"),
        (b'[{"bv": 1e308, "n": "a:b", "v": 1e308}]', "value out of range"),
        (b'[{"n": "a:b", "v": NaN}]', "non-finite"),
        (b'[{"n": "' + b"d" * 200 + b':m", "v": 1}]', "longer than 128"),
    ],
)
def test_refusals(payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode(payload)


def test_name_without_device_and_no_topic_is_refused() -> None:
    with pytest.raises(DecodeError, match="cannot tell the device"):
        decode(b'[{"n": "temp", "v": 1}]', topic="")


def test_size_limit() -> None:
    pack = [{"bn": "d/"}] + [{"n": f"m{i}", "v": i} for i in range(10_000)]
    with pytest.raises(DecodeError, match="more than 10000 records"):
        decode(json.dumps(pack, separators=(",", ":")).encode())
    assert (
        len(decode(json.dumps(pack[1:], separators=(",", ":")).encode(), "a/dev").readings)
        == 10_000
    )


# --- RFC 8428 examples, when present -------------------------------------------------------

INTEROP = SHARED_INTEROP / "senml"
needs_interop = pytest.mark.skipif(not INTEROP.is_dir(), reason="no ../shared/interop/senml")


@needs_interop
def test_interop_single_datapoint() -> None:
    result = decode((INTEROP / "ex1.json").read_bytes())
    [reading] = result.readings
    assert (reading.entity_id, reading.metric, reading.value, reading.unit, reading.ts) == (
        "urn:dev:ow:10e2073a01080063",
        "value",
        23.1,
        "Cel",
        RECEIVED_AT,
    )
    assert [entity.id for entity in result.entities] == ["urn:dev:ow:10e2073a01080063"]


@needs_interop
def test_interop_multiple_datapoints_with_base_name() -> None:
    result = decode((INTEROP / "ex2.json").read_bytes())
    assert [(r.entity_id, r.metric, r.value, r.unit) for r in result.readings] == [
        ("urn:dev:ow:10e2073a01080063", "voltage", 120.1, "V"),
        ("urn:dev:ow:10e2073a01080063", "current", 1.2, "A"),
    ]
    assert all(r.ts == RECEIVED_AT for r in result.readings)
