"""What the health endpoint reports: an immutable snapshot of the app's state as shown.

Built on the GUI thread (the only reader of deltas and views), read by the metrics server's
threads; being frozen, it is shared without locks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from services.model import Alarm, CacheHealth, FeedHealth, FeedState, Severity


@dataclass(frozen=True, slots=True)
class FeedSample:
    """One feed's health at the moment of the snapshot."""

    name: str
    state: FeedState
    messages: int
    dead_letters: int
    last_message_at: float | None

    @classmethod
    def of(cls, health: FeedHealth) -> FeedSample:
        return cls(
            name=health.name,
            state=health.state,
            messages=health.messages,
            dead_letters=health.errors,
            last_message_at=health.last_message_at,
        )

    @property
    def up(self) -> bool:
        """Connected and delivering (not connecting, down, failing, stale or paused)."""
        return self.state is FeedState.CONNECTED


@dataclass(frozen=True, slots=True)
class BrokerSample:
    """One broker connection's state."""

    name: str
    state: FeedState

    @property
    def up(self) -> bool:
        return self.state is FeedState.CONNECTED


def count_alarms(alarms: Iterable[Alarm]) -> tuple[dict[Severity, int], int]:
    """Active alarms per priority (every priority present, maybe 0) and how many wait for an
    acknowledgement."""
    active = dict.fromkeys(Severity, 0)
    unacknowledged = 0
    for alarm in alarms:
        if alarm.state.is_active:
            active[alarm.severity] += 1
        if alarm.state.needs_ack:
            unacknowledged += 1
    return active, unacknowledged


@dataclass(frozen=True, slots=True)
class KioskSample:
    """What a wall (``cityops --kiosk``) shows: its pages, the one showing, how often it
    rotated and how often its web view was restarted after its renderer crashed."""

    pages: tuple[str, ...]
    showing: str
    rotations: int
    webview_restarts: int


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """Everything the endpoint reports about the app, as the window shows it.

    ``taken_at`` is wall-clock time, ``taken_monotonic`` the monotonic clock at the same
    moment (to tell how old the snapshot is even if the wall clock jumps).
    """

    taken_at: float
    taken_monotonic: float
    display_live: bool
    feeds: tuple[FeedSample, ...] = ()
    brokers: tuple[BrokerSample, ...] = ()
    cache: CacheHealth = field(default_factory=CacheHealth)
    alarms_active: tuple[tuple[Severity, int], ...] = tuple((s, 0) for s in Severity)
    alarms_unacknowledged: int = 0
    event_loop_lag: float = 0.0
    """The longest the GUI event loop was late over the last few seconds."""
    kiosk: KioskSample | None = None
    """The wall, when this is one."""
