"""What feeds hand to the ingest worker: raw payloads and feed events.

Transports (``services.feeds``) and the demo produce these; ``services.ingest`` consumes
them. Neither side imports the other: this module is the contract between them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from services.config import FeedConfig
from services.model import FeedState


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A payload as it arrived from a feed, before decoding.

    ``ack``, when set, is called once the message is accounted for: its data committed to
    the offline cache (synced to disk), or it was dead-lettered (dead letters are not
    stored) and the batch it came in was written. Without a cache, or while the cache
    cannot be written, it is called once the message is applied (counted and logged).
    MQTT feeds with QoS 1/2 use it to acknowledge the message to the broker only then, so
    a crash before the commit makes the broker send it again. It must be cheap and
    thread-safe (it runs on the ingest worker).
    """

    feed: str
    topic: str
    payload: bytes
    received_at: float
    retained: bool = False
    ack: Callable[[], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    """A broker's connection state changed; it applies to the feeds it carries."""

    broker: str
    state: FeedState
    feeds: tuple[str, ...]
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FeedPaused:
    """The operator paused or resumed a feed."""

    feed: str
    paused: bool


@dataclass(frozen=True, slots=True)
class FeedChange:
    """A feed added (``feed`` set) or removed (``feed`` None) at run time."""

    name: str
    feed: FeedConfig | None


@dataclass(frozen=True, slots=True)
class OutboxSent:
    """The broker has taken these shared messages (by key); they need not be sent again."""

    keys: tuple[str, ...]


InboxItem = RawMessage | ConnectionEvent | FeedPaused | FeedChange | OutboxSent
