"""Feed health: per-feed state, counters, rates and dead letters, owned by the ingest worker.

The worker tells :class:`FeedHealthBook` what happened (a message decoded or rejected, a
connection event, a pause, a feed added or removed) and once a second asks it for the
feeds whose state or rate changed; the GUI sees copies in the delta only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace

from services.config import FeedConfig
from services.limits import DEAD_LETTER_EXCERPT_CHARS
from services.messages import ConnectionEvent, FeedChange, FeedPaused, RawMessage
from services.model import DeadLetter, FeedHealth, FeedState

log = logging.getLogger(__name__)

LOG_EVERY_SECONDS = 60.0
"""A feed's rejected payloads are logged at most once per this interval."""
MIN_STALE_AFTER_S = 30.0
"""A derived staleness limit is never shorter than this."""
STALE_AFTER_INTERVALS = 3.0
"""Without ``stale_after`` in its config a feed's values go stale after this many of its
usual intervals between two reports of one entity."""
_INTERVAL_WEIGHT = 0.1


def excerpt(payload: bytes, limit: int = DEAD_LETTER_EXCERPT_CHARS) -> str:
    """A printable, truncated rendering of a payload for the dead-letter list."""
    text = payload[:limit].decode("utf-8", errors="backslashreplace")
    printable = "".join(
        ch if ch.isprintable() or ch in "\n\t" else f"\\x{ord(ch):02x}" for ch in text
    )
    if len(payload) > limit:
        printable += f"… ({len(payload)} bytes)"
    return printable


class _FeedRecord:
    """One feed's health and the counters behind it."""

    def __init__(self, feed: FeedConfig) -> None:
        self.config = feed
        self.health = FeedHealth(name=feed.name)
        self.window_messages = 0
        self.window_errors = 0
        self.last_logged = 0.0
        self.unlogged_errors = 0
        self.connected = False
        self.paused = False
        self.interval: float | None = None

    def stale_after(self, default: float) -> float:
        configured = self.config.stale_after
        if configured is not None:
            return configured
        if self.interval is None:
            return default
        return max(MIN_STALE_AFTER_S, STALE_AFTER_INTERVALS * self.interval)

    @property
    def live(self) -> bool:
        """Connected and not paused. (A second of undecodable payloads on a connected feed
        shows the feed as failing, but does not make its good values stale: their age
        does.)"""
        return self.connected and not self.paused


class FeedHealthBook:
    """The health of every feed. Not thread-safe: only the ingest worker uses it."""

    def __init__(self, feeds: Iterable[FeedConfig], *, stale_after: float) -> None:
        self.stale_after_default = stale_after
        self._feeds = {feed.name: _FeedRecord(feed) for feed in feeds}

    def restore(self, last_message: dict[str, float]) -> list[str]:
        """Take over each feed's last message time from the cache; returns the feeds known."""
        restored = []
        for name, when in last_message.items():
            record = self._feeds.get(name)
            if record is not None and record.health.last_message_at is None:
                record.health.last_message_at = when
                restored.append(name)
        return restored

    def silences(self) -> list[tuple[str, float | None, float]]:
        """(feed, last message time or None, limit) of each feed with a ``no_data_after``."""
        return [
            (name, record.health.last_message_at, record.config.no_data_after)
            for name, record in self._feeds.items()
            if record.config.no_data_after is not None
        ]

    def config(self, name: str) -> FeedConfig | None:
        """The feed's config, or None for a feed that is not (or no longer) known."""
        record = self._feeds.get(name)
        return None if record is None else record.config

    def health(self, name: str) -> FeedHealth | None:
        """A copy of the feed's health (None when unknown)."""
        record = self._feeds.get(name)
        return None if record is None else replace(record.health)

    def message(self, name: str, received_at: float, intervals: Sequence[float] = ()) -> None:
        """A payload of the feed was decoded; ``intervals`` are the seconds since the
        previous report of each entity it updated."""
        record = self._feeds[name]
        record.health.messages += 1
        record.health.last_message_at = received_at
        record.window_messages += 1
        for interval in intervals:
            if record.interval is None:
                record.interval = interval
            else:
                record.interval += _INTERVAL_WEIGHT * (interval - record.interval)

    def counts(self) -> dict[str, tuple[int, int, int, int]]:
        """Each feed's message and error counters, to put back with :meth:`restore_counts`
        when a batch that counted them fails and is processed again item by item."""
        return {
            name: (r.health.messages, r.health.errors, r.window_messages, r.window_errors)
            for name, r in self._feeds.items()
        }

    def restore_counts(self, counts: dict[str, tuple[int, int, int, int]]) -> None:
        """Put back the counters of :meth:`counts` (feeds added since keep theirs)."""
        for name, (messages, errors, window_messages, window_errors) in counts.items():
            record = self._feeds.get(name)
            if record is not None:
                record.health.messages, record.health.errors = messages, errors
                record.window_messages, record.window_errors = window_messages, window_errors

    def stale_after(self, name: str) -> float:
        """How old a value of the feed may be before it is shown as stale."""
        record = self._feeds.get(name)
        return (
            self.stale_after_default
            if record is None
            else record.stale_after(self.stale_after_default)
        )

    def fresh(self, name: str, updated_at: float, now: float) -> bool:
        """Whether a value the feed delivered at ``updated_at`` is live and fresh at ``now``."""
        record = self._feeds.get(name)
        return (
            record is not None
            and record.live
            and now - updated_at <= record.stale_after(self.stale_after_default)
        )

    def rejected(self, item: RawMessage, reason: str) -> DeadLetter:
        """A payload of the feed was refused; returns its dead letter (logged now and then)."""
        record = self._feeds[item.feed]
        record.health.errors += 1
        record.window_errors += 1
        now = time.monotonic()
        if record.last_logged == 0.0 or now - record.last_logged >= LOG_EVERY_SECONDS:
            log.warning(
                "feed %r: payload on %r rejected: %s (%d more since the last report)",
                item.feed,
                item.topic,
                reason,
                record.unlogged_errors,
            )
            record.last_logged = now
            record.unlogged_errors = 0
        else:
            record.unlogged_errors += 1
        return DeadLetter(
            feed=item.feed,
            topic=item.topic,
            reason=reason,
            payload_excerpt=excerpt(item.payload),
            received_at=item.received_at,
        )

    def connection(self, event: ConnectionEvent) -> list[str]:
        """A broker's state changed; returns the feeds whose health changed."""
        touched = []
        for name in event.feeds:
            record = self._feeds.get(name)
            if record is None:
                continue
            record.connected = event.state is FeedState.CONNECTED
            if not record.paused:
                record.health.state = event.state
            record.health.detail = event.detail
            touched.append(name)
        return touched

    def pause(self, event: FeedPaused) -> list[str]:
        """The operator paused or resumed a feed; returns it when known."""
        record = self._feeds.get(event.feed)
        if record is None:
            return []
        record.paused = event.paused
        if event.paused:
            record.health.state = FeedState.PAUSED
        else:
            record.health.state = FeedState.CONNECTED if record.connected else FeedState.CONNECTING
        return [event.feed]

    def change(self, change: FeedChange) -> bool:
        """A feed added (True) or removed (False) at run time."""
        if change.feed is not None:
            self._feeds[change.name] = _FeedRecord(change.feed)
            return True
        self._feeds.pop(change.name, None)
        return False

    def tick(self, now: float, elapsed: float) -> dict[str, FeedHealth]:
        """Update rates and stale/failing states over the last ``elapsed`` seconds; returns
        copies of the feeds whose state or rounded rate changed."""
        changed: dict[str, FeedHealth] = {}
        for name, record in self._feeds.items():
            health = record.health
            before = (health.state, round(health.rate, 1), health.stale_after)
            health.rate = record.window_messages / elapsed
            health.stale_after = record.stale_after(self.stale_after_default)
            if record.connected and not record.paused:
                if record.window_errors and not record.window_messages:
                    health.state = FeedState.FAILING
                elif health.last_message_at is not None and (
                    now - health.last_message_at > health.stale_after
                ):
                    health.state = FeedState.STALE
                else:
                    health.state = FeedState.CONNECTED
            record.window_messages = 0
            record.window_errors = 0
            if (health.state, round(health.rate, 1), health.stale_after) != before:
                changed[name] = replace(health)
        return changed

    def copies(self, names: Sequence[str] | set[str]) -> dict[str, FeedHealth]:
        """Copies of the named feeds' health (unknown names are left out)."""
        return {name: replace(self._feeds[name].health) for name in names if name in self._feeds}
