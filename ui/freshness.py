"""Whether what the window shows is live, and if not, why (plain logic; Qt only for the
translated words)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from services.model import FeedHealth, FeedState
from services.sharing.protocol import SHARING_FEED
from widgets.format import format_clock
from widgets.i18n import translate
from widgets.terms import feed_state_word

DOWN_FEED_STATES = (FeedState.DOWN, FeedState.FAILING)
"""States a wall calls FEED DOWN (the others of NOT_LIVE_FEED_STATES only NOT LIVE)."""
NOT_LIVE_FEED_STATES = (
    FeedState.DOWN,
    FeedState.STALE,
    FeedState.FAILING,
    FeedState.PAUSED,
    FeedState.CONNECTING,
)
MAX_FEEDS_NAMED = 3


@dataclass(frozen=True, slots=True)
class Freshness:
    """The verdict: live, or not live for the reasons given (most important first)."""

    live: bool
    reasons: tuple[str, ...] = ()
    down_since: float | None = None
    """When the first broker or feed that is down now went down (None: none is down)."""

    def banner(self) -> str | None:
        """The banner line, or None when live."""
        if self.live:
            return None
        return translate("Freshness", "NOT LIVE — {reasons}").format(
            reasons=translate("Freshness", "; ").join(self.reasons)
        )

    def wall_banner(self) -> str | None:
        """The banner line of a wall (short, read from across the room), or None when live:
        FEED DOWN since hh:mm when a broker or feed is down, else NOT LIVE."""
        if self.live:
            return None
        if self.down_since is None:
            return self.banner()
        return translate("Freshness", "FEED DOWN since {time} — {reasons}").format(
            time=format_clock(self.down_since),
            reasons=translate("Freshness", "; ").join(self.reasons),
        )


class FreshnessTracker:
    """Follows broker and feed states (with the time each went wrong) from the deltas."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._received = False
        self._restored = 0
        self._brokers: dict[str, tuple[FeedState, float]] = {}
        self._feeds: dict[str, tuple[FeedState, float]] = {}

    def restored(self, entities: int) -> None:
        """The window shows ``entities`` from the cache (the last known state)."""
        self._restored = entities

    def received(self) -> None:
        """Live data arrived."""
        self._received = True

    def brokers(self, states: Mapping[str, FeedState]) -> None:
        now = self._clock()
        for name, state in states.items():
            if name == SHARING_FEED:
                continue
            held = self._brokers.get(name)
            if held is None or held[0] is not state:
                self._brokers[name] = (state, now)

    def feeds(self, healths: Iterable[FeedHealth]) -> None:
        now = self._clock()
        for health in healths:
            if health.name == SHARING_FEED:
                continue  # other workstations' actions, not city data: shown on its own
            held = self._feeds.get(health.name)
            if held is None or held[0] is not health.state:
                self._feeds[health.name] = (health.state, now)

    def remove_feeds(self, names: Iterable[str]) -> None:
        for name in names:
            self._feeds.pop(name, None)

    def verdict(self) -> Freshness:
        """Live only when data has arrived and every broker and feed is connected."""
        reasons: list[str] = []
        brokers_down = False
        down_since = [
            since
            for state, since in (*self._brokers.values(), *self._feeds.values())
            if state in DOWN_FEED_STATES
        ]
        for name, (state, since) in sorted(self._brokers.items()):
            if state is not FeedState.CONNECTED:
                brokers_down = True
                reasons.append(
                    translate("Freshness", "broker {name} {state} since {time}").format(
                        name=name, state=feed_state_word(state), time=format_clock(since)
                    )
                )
        # With a broker down, its feeds are down too: count them instead of naming each.
        unconnected = (FeedState.DOWN, FeedState.CONNECTING) if brokers_down else ()
        troubled = [
            (name, state, since)
            for name, (state, since) in sorted(self._feeds.items())
            if state in NOT_LIVE_FEED_STATES and state not in unconnected
        ]
        for name, state, since in troubled[:MAX_FEEDS_NAMED]:
            reasons.append(
                translate("Freshness", "feed {name} {state} since {time}").format(
                    name=name, state=feed_state_word(state), time=format_clock(since)
                )
            )
        if len(troubled) > MAX_FEEDS_NAMED:
            reasons.append(
                translate("Freshness", "{count} more feeds not live").format(
                    count=len(troubled) - MAX_FEEDS_NAMED
                )
            )
        without_broker = sum(1 for state, _since in self._feeds.values() if state in unconnected)
        if without_broker:
            reasons.append(
                translate("Freshness", "{count} feeds cut off").format(count=without_broker)
                if without_broker > 1
                else translate("Freshness", "1 feed cut off")
            )
        if not self._received:
            reasons.append(
                translate(
                    "Freshness", "showing the last known state from the cache ({count} entities)"
                ).format(count=self._restored)
                if self._restored
                else translate("Freshness", "no live data yet")
            )
        return Freshness(
            live=not reasons,
            reasons=tuple(reasons),
            down_since=min(down_since) if down_since else None,
        )
