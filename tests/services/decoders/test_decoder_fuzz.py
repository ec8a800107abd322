"""Every decoder, fed random and damaged payloads, either decodes sanely or raises DecodeError.

"Sanely" means: finite values and times, coordinates in range, at most 10,000 readings,
times no more than a day ahead (except the unmapped ``json`` format, which keeps its old
behaviour) and the same result when decoded twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.config import FeedConfig, JsonMapping
from services.decoders import Decoded, DecodeError
from services.decoders.json_decoder import decode_json
from services.decoders.ngsi import decode_ngsi_ld, decode_ngsi_v2
from services.decoders.owntracks import decode_owntracks
from services.decoders.senml import decode_senml
from services.decoders.sensorthings import decode_sensorthings
from services.limits import MAX_PAYLOAD_BYTES
from tests.helpers.decoders import FIXTURES, RECEIVED_AT, make_feed
from tests.helpers.paths import SHARED_INTEROP

Decoder = Callable[[bytes, str, FeedConfig, float], Decoded]

STATION_MAPPING = JsonMapping(
    id="meta.station.id",
    ts="meta.observed",
    lat="position.lat",
    lon="position.lng",
    name="meta.station.label",
    metrics=("readings.0.pm25", "readings.1.no2", "status.battery"),
)
DECODERS: dict[str, tuple[Decoder, FeedConfig]] = {
    "json": (decode_json, make_feed("json", "fuzz")),
    "json-mapped": (decode_json, make_feed("json", "fuzz", STATION_MAPPING)),
    "json-mapped-auto": (decode_json, make_feed("json", "fuzz", JsonMapping(id="dev"))),
    "ngsi-v2": (decode_ngsi_v2, make_feed("ngsi-v2", "fuzz")),
    "ngsi-ld": (decode_ngsi_ld, make_feed("ngsi-ld", "fuzz")),
    "sensorthings": (decode_sensorthings, make_feed("sensorthings", "fuzz")),
    "senml": (decode_senml, make_feed("senml", "fuzz")),
    "owntracks": (decode_owntracks, make_feed("owntracks", "fuzz")),
}
NAMES = sorted(DECODERS)


SEED_DECODERS = {
    "json": ["json", "json-mapped", "json-mapped-auto"],
    "ngsi": ["ngsi-v2", "ngsi-ld"],
    "sensorthings": ["sensorthings"],
    "senml": ["senml"],
    "owntracks": ["owntracks"],
}
"""Which decoders each fixture folder is written for."""


def _seed_files() -> list[tuple[str, bytes]]:
    paths = sorted(FIXTURES.rglob("*.json*"))
    for folder in ("ngsi", "senml"):
        if (SHARED_INTEROP / folder).is_dir():  # read in place, never copied
            paths.extend(sorted((SHARED_INTEROP / folder).glob("*.json*")))
    return [(path.parent.name, path.read_bytes()) for path in paths]


SEED_FILES = _seed_files()
SEEDS = [payload for _, payload in SEED_FILES]
TOPICS = st.one_of(
    st.sampled_from(
        [
            "v1.1/Datastreams(12)/Observations",
            "v1.0/Things(3)/Datastreams('x')/Observations",
            "https://sta.example.cn/v1.1/Datastreams(1)/Observations?$top=5",
            "owntracks/bus/b7",
            "yiyang/env/aq-01",
            "",
            "/",
            "a//b",
        ]
    ),
    st.text(max_size=40),
)
KEYS = [
    "id", "type", "value", "location", "coordinates", "name", "data", "subscriptionId",
    "observedAt", "unitCode", "metadata", "TimeInstant", "dateObserved", "@value", "object",
    "datasetId", "severity", "category", "subCategory", "alertSource", "dateIssued", "validTo",
    "result", "phenomenonTime", "resultTime", "Datastream", "Thing", "@iot.id", "@iot.nextLink",
    "FeatureOfInterest", "feature", "Observations", "Datastreams", "Locations", "ObservedProperty",
    "unitOfMeasurement", "symbol", "bn", "n", "v", "vb", "vs", "s", "t", "bt", "bv", "bs", "bver",
    "u", "bu", "_type", "lat", "lon", "tst", "tid", "batt", "topic", "meta", "station", "observed",
    "position", "lng", "readings", "status", "dev", "ts",
]  # fmt: skip
TEXTS = [
    "Point", "Polygon", "LineString", "MultiPolygon", "Feature", "Property", "GeoProperty",
    "Relationship", "geo:json", "geo:point", "28.5, 112.3", "Alert", "Notification", "location",
    "critical", "2026-11-21T07:00:00Z", "2099-01-01T00:00:00Z", "1969-01-01T00:00:00Z",
    "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "2026-11-21T07:00:00Z/PT5M",
    "a/b", "/", "1e300", "-1e300", "NaN", "inf", "urn:dev:ow:1", "urn:dev:ow:1:", "x:", ":",
    "lat", "lon", "http://x", "",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.sampled_from([10**299, -(10**300), 10**301, 2**63, -(2**64), 2**28, 2**28 - 1]),
    st.floats(),  # NaN and infinities come out as JSON NaN / Infinity literals
    st.sampled_from(TEXTS),
    st.text(max_size=12),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), children, max_size=6
        ),
    ),
    max_leaves=25,
)
FRAGMENTS = [
    b"NaN", b"-Infinity", b"1e999", b"9" * 5000, b"[[[[[", b"]]", b"\xff\xfe", b'"', b"{", b"}",
    b",", b":", b"null", b"true", b'"2099-01-01T00:00:00Z"', b"-1e308", b"\\u0000", b"\\ud800",
]  # fmt: skip


def check(name: str, payload: bytes, topic: str) -> None:
    """Decode; only DecodeError may escape, and what comes out must be sane and repeatable."""
    decoder, feed = DECODERS[name]
    try:
        result = decoder(payload, topic, feed, RECEIVED_AT)
    except DecodeError as error:
        assert str(error)  # every refusal has a reason
        return
    assert isinstance(result, Decoded)
    assert len(result.readings) <= 10_000
    for reading in result.readings:
        assert math.isfinite(reading.value), reading
        assert math.isfinite(reading.ts), reading
        assert reading.feed == "fuzz"
        assert reading.entity_id and isinstance(reading.metric, str)
        if name != "json":
            assert 0 <= reading.ts <= RECEIVED_AT + 86_400, reading
    for entity in result.entities:
        assert entity.id
        assert (entity.lat is None) == (entity.lon is None)
        if entity.lat is not None and entity.lon is not None:
            assert -90 <= entity.lat <= 90 and -180 <= entity.lon <= 180, entity
    for alarm in result.alarms:
        assert alarm.entity_id and alarm.source_id and alarm.event
        assert math.isfinite(alarm.sent_at)
    assert decoder(payload, topic, feed, RECEIVED_AT) == result  # deterministic


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.extend(_paths(child, (*prefix, index)))
    return found


def _replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        return {
            key: (_replaced(child, rest, value) if key == head else child)
            for key, child in node.items()
        }
    return [
        (_replaced(child, rest, value) if index == head else child)
        for index, child in enumerate(node)
    ]


@st.composite
def damaged_bytes(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(["flip", "delete", "insert", "duplicate"]))
        start = draw(st.integers(0, len(data)))
        if operation == "flip" and start < len(data):
            data[start] ^= 1 << draw(st.integers(0, 7))
        elif operation == "delete":
            del data[start : start + draw(st.integers(1, 40))]
        elif operation == "insert":
            data[start:start] = draw(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=8)))
        else:
            data[start:start] = data[start : start + draw(st.integers(1, 60))]
    return bytes(data)


@st.composite
def mutated_documents(draw: st.DrawFn) -> bytes:
    document = json.loads(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        document = _replaced(document, path, draw(JSON_VALUES))
    return json.dumps(document, ensure_ascii=draw(st.booleans())).encode()


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(NAMES), payload=st.binary(max_size=400), topic=TOPICS)
def test_random_bytes(name: str, payload: bytes, topic: str) -> None:
    check(name, payload, topic)


@settings(max_examples=300, deadline=None)
@given(payload=damaged_bytes(), topic=TOPICS)
def test_damaged_fixtures(payload: bytes, topic: str) -> None:
    for name in NAMES:
        check(name, payload, topic)


@settings(max_examples=400, deadline=None)
@given(payload=mutated_documents(), topic=TOPICS)
def test_mutated_fixture_documents(payload: bytes, topic: str) -> None:
    for name in NAMES:
        check(name, payload, topic)


@settings(max_examples=300, deadline=None)
@given(document=JSON_VALUES, topic=TOPICS)
def test_random_json_documents(document: object, topic: str) -> None:
    payload = json.dumps(document).encode()
    for name in NAMES:
        check(name, payload, topic)


LEAF_VALUES: list[object] = [
    None, True, 0, -1, 2**28 - 1, 2**28, 1e308, -1e308, 10**299, 10**300, 5e-324, float("nan"),
    "", "x", "2099-01-01T00:00:00Z", "2026-11-21T07:00:00Z/2099-01-01T00:00:00Z",
    "9999-12-31T23:59:59-23:59", "P1D/2026-11-21T07:00:00Z", [], {}, [[]], [1, 2, 3],
    {"type": "Point", "coordinates": [500, 500]}, {"type": "Polygon", "coordinates": [[1, 2]]},
    {"@value": "2099-01-01T00:00:00Z"}, {"value": 1e308, "observedAt": "2099-01-01T00:00:00Z"},
]  # fmt: skip


@pytest.mark.parametrize(("folder", "seed"), SEED_FILES, ids=range(len(SEED_FILES)))
def test_every_leaf_replaced(folder: str, seed: bytes) -> None:
    """Systematically: every value in a fixture, replaced by each awkward value in turn."""
    document = json.loads(seed)
    for path in _paths(document):
        for value in LEAF_VALUES:
            payload = json.dumps(_replaced(document, path, value)).encode()
            for name in SEED_DECODERS[folder]:
                check(name, payload, "v1.1/Datastreams(1)/Observations")


def test_seeds_decode_cleanly() -> None:
    """The unmutated fixtures are valid for at least one decoder each (the fuzzing is fair)."""
    assert len(SEEDS) >= 20
    for payload in SEEDS:
        decoded_by = []
        for name in NAMES:
            decoder, feed = DECODERS[name]
            try:
                result = decoder(payload, "v1.1/Datastreams(1)/Observations", feed, RECEIVED_AT)
            except DecodeError:
                continue
            if result.readings or result.alarms or name == "owntracks":
                decoded_by.append(name)
        assert decoded_by, payload[:80]


HOSTILE = [
    b"[" * 100_000,
    b'{"a":' * 50_000,
    b'{"v": ' + b"9" * 5000 + b"}",
    b'[{"n": "a:b", "v": ' + b"9" * 5000 + b"}]",
    b'{"id": "x", "v": 1e999}',
    b'{"id": "x", "v": -Infinity}',
    b'"' + b"\\u1234" * 10_000 + b'"',
    b'{"value": [' + b"{}," * 20_000 + b"{}]}",
    b'{"_type": "location", "lat": 1e400}',
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("payload", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_payloads(name: str, payload: bytes) -> None:
    check(name, payload, "yiyang/x")


@pytest.mark.parametrize("name", [name for name in NAMES if name != "json"])
def test_oversized_payload_is_refused(name: str) -> None:
    decoder, feed = DECODERS[name]
    payload = b"[" + b" " * MAX_PAYLOAD_BYTES + b"]"
    with pytest.raises(DecodeError, match="exceeds 256 KiB"):
        decoder(payload, "yiyang/x", feed, RECEIVED_AT)
