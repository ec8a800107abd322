"""The NOT LIVE verdict and its reasons, from broker and feed states (no window needed)."""

from __future__ import annotations

from services.model import FeedHealth, FeedState
from ui.freshness import FreshnessTracker
from widgets.format import format_clock

T0 = 1_790_000_000.0


def tracker_at(now: float) -> tuple[FreshnessTracker, list[float]]:
    clock = [now]
    return FreshnessTracker(clock=lambda: clock[0]), clock


def test_live_only_with_data_and_every_broker_and_feed_connected() -> None:
    tracker, _clock = tracker_at(T0)
    assert tracker.verdict().reasons == ("no live data yet",)
    tracker.restored(7)
    assert tracker.verdict().banner() == (
        "NOT LIVE — showing the last known state from the cache (7 entities)"
    )
    tracker.brokers({"mqtt://a:1": FeedState.CONNECTED})
    tracker.feeds([FeedHealth("air", FeedState.CONNECTED)])
    tracker.received()
    assert tracker.verdict().live and tracker.verdict().banner() is None
    # The link that shares operator actions going down is not the city's data going down.
    tracker.brokers({"sharing": FeedState.DOWN})
    tracker.feeds([FeedHealth("sharing", FeedState.DOWN)])
    assert tracker.verdict().live


def test_a_down_broker_is_named_with_its_time_and_its_feeds_counted() -> None:
    tracker, clock = tracker_at(T0)
    tracker.received()
    tracker.brokers({"mqtt://a:1": FeedState.CONNECTED})
    tracker.feeds([FeedHealth(name, FeedState.CONNECTED) for name in ("air", "bus", "water")])
    clock[0] = T0 + 65
    tracker.brokers({"mqtt://a:1": FeedState.DOWN})
    tracker.feeds([FeedHealth(name, FeedState.DOWN) for name in ("air", "bus")])
    tracker.feeds([FeedHealth("water", FeedState.STALE)])
    reasons = tracker.verdict().reasons
    assert reasons == (
        f"broker mqtt://a:1 down since {format_clock(T0 + 65)}",
        f"feed water stale since {format_clock(T0 + 65)}",
        "2 feeds cut off",
    )


def test_many_troubled_feeds_are_summed_up() -> None:
    tracker, _clock = tracker_at(T0)
    tracker.received()
    tracker.feeds([FeedHealth(f"f{n}", FeedState.PAUSED) for n in range(5)])
    reasons = tracker.verdict().reasons
    assert len(reasons) == 4 and reasons[-1] == "2 more feeds not live"
    tracker.remove_feeds([f"f{n}" for n in range(5)])
    assert tracker.verdict().live


def test_a_wall_says_feed_down_since_the_first_that_went_down() -> None:
    tracker, clock = tracker_at(T0)
    tracker.received()
    tracker.feeds([FeedHealth(name, FeedState.CONNECTED) for name in ("air", "bus")])
    assert tracker.verdict().wall_banner() is None
    clock[0] = T0 + 60
    tracker.feeds([FeedHealth("bus", FeedState.STALE)])  # late, not down: NOT LIVE only
    assert tracker.verdict().wall_banner() == (
        f"NOT LIVE — feed bus stale since {format_clock(T0 + 60)}"
    )
    clock[0] = T0 + 120
    tracker.feeds([FeedHealth("air", FeedState.DOWN)])
    clock[0] = T0 + 300
    tracker.feeds([FeedHealth("bus", FeedState.FAILING)])
    verdict = tracker.verdict()
    assert verdict.down_since == T0 + 120
    banner = verdict.wall_banner()
    assert banner is not None
    assert banner.startswith(f"FEED DOWN since {format_clock(T0 + 120)} — feed air down")
    tracker.feeds([FeedHealth(name, FeedState.CONNECTED) for name in ("air", "bus")])
    assert tracker.verdict().wall_banner() is None
