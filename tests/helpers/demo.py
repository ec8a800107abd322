"""The demo configuration, and simulated messages routed to its feeds as the MQTT client does."""

from __future__ import annotations

import paho.mqtt.client as mqtt

from services.config import FeedConfig, load_demo_config
from services.decoders import Decoded, get_decoder
from services.messages import RawMessage

START = 1_767_225_600.0
"""2026-01-01 00:00 UTC = 08:00 in Yiyang: where simulated clocks start."""

DEMO = load_demo_config()


def feed_of(topic: str) -> FeedConfig:
    """The demo config's feed for a topic (exactly one must match)."""
    feeds = [feed for feed in DEMO.feeds if mqtt.topic_matches_sub(feed.topic, topic)]
    assert len(feeds) == 1, (topic, [feed.name for feed in feeds])
    return feeds[0]


def decode(topic: str, payload: bytes, at: float) -> Decoded:
    """Decode a simulated message with the decoder of its demo feed."""
    feed = feed_of(topic)
    return get_decoder(feed.format)(payload, topic, feed, at)


def raw(messages: list[tuple[str, bytes]], at: float) -> list[RawMessage]:
    """Simulated ``(topic, payload)`` messages as the raw messages the pipeline takes."""
    return [RawMessage(feed_of(topic).name, topic, payload, at) for topic, payload in messages]
