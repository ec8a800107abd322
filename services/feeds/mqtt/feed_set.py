"""The feeds one broker connection carries, which of them are paused, and the checks a
feed must pass to join: shared by the in-process client and its child-process form."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from services.addresses import topic_filter_problem
from services.config import BrokerConfig, FeedConfig


class BrokerFeeds:
    """A broker and its feeds (checked as they join), paused ones included, under a lock."""

    def __init__(self, broker: BrokerConfig, feeds: Sequence[FeedConfig]) -> None:
        self.broker = broker
        self._lock = threading.RLock()
        self._feeds: dict[str, FeedConfig] = {}
        self._paused: set[str] = set()
        for feed in feeds:
            self._check_new_feed(feed)
            self._feeds[feed.name] = feed

    @property
    def label(self) -> str:
        """How connection events name this broker (its URL)."""
        return self.broker.address.url

    @property
    def feeds(self) -> tuple[FeedConfig, ...]:
        """Every feed of this client, paused ones included, in the order they were added."""
        with self._lock:
            return tuple(self._feeds.values())

    @property
    def paused(self) -> frozenset[str]:
        """Names of the paused feeds."""
        with self._lock:
            return frozenset(self._paused)

    def _check_new_feed(self, feed: FeedConfig) -> None:
        """ValueError when ``feed`` can't join these feeds."""
        if feed.name in self._feeds:
            raise ValueError(f"a feed named {feed.name!r} already exists")
        problem = topic_filter_problem(feed.topic)
        if problem:
            raise ValueError(f"feed {feed.name!r}: {problem}: {feed.topic!r}")
        if feed.qos not in (0, 1, 2):
            raise ValueError(f"feed {feed.name!r}: qos must be 0, 1 or 2, got {feed.qos}")

    def _require(self, name: str) -> None:
        if name not in self._feeds:
            raise KeyError(f"no feed named {name!r} on {self.label}")

    def _active_feed_names(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(name for name in self._feeds if name not in self._paused)
