"""What the abuse suite found, held at unit level: an item-by-item retry does not count a
batch twice; unmapped JSON obeys the readings and metric-name limits; shared payloads with
impossible numbers are refused, not crashes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.config import AppConfig, FeedConfig
from services.decoders import DecodeError
from services.decoders.common import MAX_METRIC_LENGTH, MAX_READINGS
from services.decoders.json_decoder import decode_json
from services.incidents.book import IncidentError, check_priority
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.sharing.protocol import SharingError, load_action_body
from services.timeutil import finite_number

FEED = FeedConfig(name="air", topic="a/#")


def message(entity: str, value: float) -> RawMessage:
    body = json.dumps({"id": entity, "pm25": value}).encode()
    return RawMessage("air", f"a/{entity}", body, 1.0)


def test_a_failed_batch_retried_item_by_item_is_counted_once() -> None:
    pipeline = IngestPipeline(AppConfig(source="test", feeds=(FEED,)), None)
    evaluate = pipeline.alarms.evaluate
    calls = {"n": 0}

    def fail_once(readings: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug in the batch")
        return evaluate(readings)

    pipeline.alarms.evaluate = fail_once  # type: ignore[method-assign]
    bad = RawMessage("air", "a/bad", b"not json", 1.0)
    pipeline._process_safely([message(f"s{n}", 10.0 + n) for n in range(3)] + [bad])
    health = pipeline.feeds.health("air")
    assert health is not None
    assert (health.messages, health.errors) == (3, 1)
    assert pipeline.messages_rejected == 1
    letters = pipeline.take_delta().dead_letters["air"]
    assert [letter.topic for letter in letters] == ["a/bad"]  # once, not once per attempt
    pipeline.stop()


def test_unmapped_json_obeys_the_limits() -> None:
    many = {"id": "x", **{f"m{n}": n for n in range(MAX_READINGS + 1)}}
    with pytest.raises(DecodeError, match="more than"):
        decode_json(json.dumps(many).encode(), "a/x", FEED, 1.0)
    long_name = {"id": "x", "m" * (MAX_METRIC_LENGTH + 1): 1}
    with pytest.raises(DecodeError, match="metric name"):
        decode_json(json.dumps(long_name).encode(), "a/x", FEED, 1.0)
    with pytest.raises(DecodeError, match="out of range"):
        decode_json(b'{"id": "x", "inf": 1e999, "ok": 2}', "a/x", FEED, 1.0)


def test_impossible_numbers_in_shared_payloads_are_refused() -> None:
    assert not finite_number(10**400) and not finite_number(True) and finite_number(2.5)
    with pytest.raises(IncidentError):
        check_priority(2.0)
    assert check_priority(2) == 2
    with pytest.raises(SharingError, match="nested too deeply"):
        load_action_body("cityops/city/actions/a/w", b"[" * 100_000, "cityops/city")
