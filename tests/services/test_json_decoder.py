"""The ``json`` decoder: ids, timestamps, metrics, and refusals with reasons."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.config import FeedConfig
from services.decoders import Decoded, DecodeError, get_decoder

decode_feed = get_decoder("json")


def decode(payload: bytes, topic: str, feed: str, received_at: float) -> Decoded:
    return decode_feed(payload, topic, FeedConfig(name=feed, topic="#"), received_at)


def test_metrics_entity_and_iso_timestamp() -> None:
    payload = json.dumps(
        {
            "id": "aq-01",
            "name": "资阳区 AQ 01",
            "type": "air",
            "lat": 28.6,
            "lon": 112.3,
            "ts": "2026-11-21T08:00:00Z",
            "pm25": 81.5,
            "aqi": 120,
            "ok": True,
            "note": "text",
        }
    ).encode()
    result = decode(payload, "yiyang/env/air/aq-01", "air", 1_795_248_000.0)
    assert {(r.metric, r.value) for r in result.readings} == {("pm25", 81.5), ("aqi", 120.0)}
    assert all(r.entity_id == "aq-01" and r.feed == "air" for r in result.readings)
    assert result.readings[0].ts == 1_795_248_000.0
    entity = result.entities[0]
    assert (entity.name, entity.type, entity.lat, entity.lon) == (
        "资阳区 AQ 01",
        "air",
        28.6,
        112.3,
    )


def test_id_from_topic_and_epoch_ts_and_default_time() -> None:
    result = decode(b'{"ts": 1700000000, "v": 1}', "a/b/station-9", "f", 1_700_000_100.0)
    assert result.readings[0].entity_id == "station-9"
    assert result.readings[0].ts == 1_700_000_000.0
    assert decode(b'{"v": 2}', "a/x", "f", 42.0).readings[0].ts == 42.0


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"v": NaN}', "non-finite"),
        (b'{"v": Infinity}', "non-finite"),
        (b'{"v": 1e999}', "out of range"),
        (b'{"ts": "yesterday", "v": 1}', "field 'ts'"),
        (b'{"ts": 1e12, "v": 1}', "in the future"),
        (b'{"ts": -5, "v": 1}', "before 1970"),
        (b'{"lat": 95, "lon": 1}', "out of range"),
        (b'{"lat": 5}', "must come together"),
        (b'{"id": {"x": 1}}', "field 'id'"),
        (b"\xff\xfe", "UTF-8"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_bad_payloads_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode(payload, "t/x", "f", 0.0)


@given(st.binary(max_size=300))
def test_random_bytes_never_crash(payload: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode(payload, "t/x", "f", 0.0)


@given(
    st.dictionaries(
        st.text(max_size=8),
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
        max_size=6,
    )
)
def test_random_objects_decode_or_refuse(document: dict[str, object]) -> None:
    payload = json.dumps(document).encode()
    try:
        result = decode(payload, "t/x", "f", 0.0)
    except DecodeError:
        return
    for reading in result.readings:
        assert reading.value == reading.value  # never NaN


@pytest.mark.parametrize("fmt", ["json", "ngsi-v2", "senml"])
def test_a_lone_surrogate_escape_is_refused_but_a_pair_is_text(fmt: str) -> None:
    feed = FeedConfig(name="f", topic="t", format=fmt)
    lone = b'{"id": "aq-\\ud800", "type": "T", "pm25": 1}'
    if fmt == "senml":
        lone = b'[{"bn": "urn:dev:x:\\udfff:", "n": "pm25", "v": 1}]'
    with pytest.raises(DecodeError, match="lone surrogate"):
        get_decoder(fmt)(lone, "t", feed, 1_790_000_000.0)
    pair = json.dumps({"id": "aq-\U0001f600", "pm25": 1}).encode()  # ensure_ascii: a pair
    assert b"\\ud83d\\ude00" in pair
    decoded = get_decoder("json")(pair, "t", FeedConfig(name="f", topic="t"), 1_790_000_000.0)
    assert decoded.readings[0].entity_id == "aq-\U0001f600"
