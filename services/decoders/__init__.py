"""Payload decoders, chosen per feed by its ``format``."""

from __future__ import annotations

from collections.abc import Callable

from services.config import FeedConfig
from services.decoders.base import Decoded, DecodeError, EntityUpdate, ExternalAlarm
from services.decoders.cap import decode_cap
from services.decoders.json_decoder import decode_json
from services.decoders.ngsi import decode_ngsi_ld, decode_ngsi_v2
from services.decoders.owntracks import decode_owntracks
from services.decoders.senml import decode_senml
from services.decoders.sensorthings import decode_sensorthings

DecoderFunction = Callable[[bytes, str, FeedConfig, float], Decoded]
"""``decode(payload, topic, feed, received_at)``: raises DecodeError with a reason."""

DECODERS: dict[str, DecoderFunction] = {
    "json": decode_json,
    "ngsi-v2": decode_ngsi_v2,
    "ngsi-ld": decode_ngsi_ld,
    "sensorthings": decode_sensorthings,
    "senml": decode_senml,
    "cap": decode_cap,
    "owntracks": decode_owntracks,
}


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
