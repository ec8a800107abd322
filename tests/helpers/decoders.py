"""Decoder tests: the project's own payload fixtures, and feeds for calling a decoder."""

from __future__ import annotations

from services.config import FeedConfig, JsonMapping
from services.decoders import Decoded
from services.model import Reading
from tests.helpers.paths import PAYLOAD_FIXTURES

FIXTURES = PAYLOAD_FIXTURES
RECEIVED_AT = 1_795_248_000.0
"""2026-11-21T08:00:00Z: the moment every fixture is taken to arrive."""


def fixture(name: str) -> bytes:
    """The bytes of ``tests/fixtures/payloads/<name>``."""
    return (FIXTURES / name).read_bytes()


def make_feed(
    format_name: str, name: str = "city", mapping: JsonMapping | None = None
) -> FeedConfig:
    """A feed config for calling a decoder directly."""
    return FeedConfig(name=name, topic="#", format=format_name, mapping=mapping)


def readings_by_key(decoded: Decoded) -> dict[tuple[str, str], Reading]:
    """The readings keyed by (entity id, metric); fails on duplicates."""
    keyed = {(reading.entity_id, reading.metric): reading for reading in decoded.readings}
    assert len(keyed) == len(decoded.readings), "duplicate (entity, metric) readings"
    return keyed
