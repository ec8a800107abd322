"""Decoding a payload where it is received (an MQTT receiver process), so that the app's
own process is handed readings instead of bytes to parse.

:func:`predecode` gives what the ingest worker would have found: the :class:`Decoded`
contents, or the reason the payload is refused (the worker dead-letters it with that
reason, as if it had decoded it itself).
"""

from __future__ import annotations

import logging

from services.config import FeedConfig
from services.decoders import get_decoder
from services.decoders.base import Decoded, DecodeError
from services.limits import MAX_PAYLOAD_BYTES, payload_too_large

log = logging.getLogger(__name__)


def predecode(payload: bytes, topic: str, feed: FeedConfig, received_at: float) -> Decoded | str:
    """The payload's contents for ``feed``, or why it is refused."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return payload_too_large(len(payload))
    try:
        return get_decoder(feed.format)(payload, topic, feed, received_at)
    except DecodeError as error:
        return str(error)
    except Exception as error:  # a decoder bug must not stop the receiver
        log.exception("decoder %r failed on feed %r", feed.format, feed.name)
        return f"decoder failed: {type(error).__name__}: {error}"
