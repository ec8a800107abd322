"""Payload decoders, chosen per feed by its ``format``."""

from __future__ import annotations

from collections.abc import Callable

from services.config import FeedConfig
from services.decoders.base import Decoded, DecodeError, EntityUpdate, ExternalAlarm
from services.decoders.cap import decode_cap
from services.decoders.json_decoder import decode_json

DecoderFunction = Callable[[bytes, str, FeedConfig, float], Decoded]
"""``decode(payload, topic, feed, received_at)``: raises DecodeError with a reason."""

DECODERS: dict[str, DecoderFunction] = {"json": decode_json, "cap": decode_cap}


def get_decoder(format_name: str) -> DecoderFunction:
    """The decoder for ``format_name``; KeyError when there is none."""
    return DECODERS[format_name]


__all__ = [
    "DECODERS",
    "DecodeError",
    "Decoded",
    "EntityUpdate",
    "ExternalAlarm",
    "get_decoder",
]
