"""When alarms sound (no Qt): which alarm changes sound, which priority wins, the repeat of
critical alarms until they are acknowledged, and silencing.

An alarm sounds when a change makes it unacknowledged: it is new, it raised again (its count
went up or a new occurrence began) or it came back to unacknowledged. When several sound in
one delta the most urgent priority is played, once. A critical alarm that sounded repeats
every ``repeat_every`` seconds while it still needs acknowledging and nobody silenced it.
Silencing stops what sounds now; the next alarm that sounds is heard again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.model import Alarm, AlarmState, Severity

REPEAT_EVERY_S = 5.0
"""How often an unacknowledged critical alarm repeats, in seconds."""


@dataclass(frozen=True, slots=True)
class _Seen:
    revision: int
    state: AlarmState
    count: int
    raised_at: float


class Annunciator:
    """Decides what to play, from the alarms in each delta and a monotonic clock."""

    def __init__(self, repeat_every: float = REPEAT_EVERY_S) -> None:
        if repeat_every <= 0:
            raise ValueError(f"repeat_every must be above 0, got {repeat_every!r}")
        self.repeat_every = repeat_every
        self._seen: dict[str, _Seen] = {}
        self._repeating: set[str] = set()
        """Critical alarms that sounded, still need acknowledging and were not silenced."""
        self._next_repeat: float | None = None

    def update(self, alarms: Iterable[Alarm], now: float) -> Severity | None:
        """Take a delta's changed alarms; the priority to sound now, or None."""
        loudest: Severity | None = None
        for alarm in alarms:
            held = self._seen.get(alarm.id)
            if held is not None and alarm.revision < held.revision:
                continue  # an older version than one already taken
            if alarm.state is AlarmState.NORMAL:
                self._seen.pop(alarm.id, None)
            else:
                self._seen[alarm.id] = _Seen(
                    alarm.revision, alarm.state, alarm.count, alarm.raised_at
                )
            if not alarm.state.needs_ack:
                self._repeating.discard(alarm.id)
            if _becomes_unacknowledged(held, alarm):
                if loudest is None or alarm.severity > loudest:
                    loudest = alarm.severity
                if alarm.severity is Severity.CRITICAL:
                    self._repeating.add(alarm.id)
        if not self._repeating:
            self._next_repeat = None
        elif loudest is Severity.CRITICAL or self._next_repeat is None:
            self._next_repeat = now + self.repeat_every
        return loudest

    def due(self, now: float) -> Severity | None:
        """CRITICAL when the repeat is due at ``now`` (and schedules the next), else None."""
        if self._next_repeat is None or now < self._next_repeat:
            return None
        self._next_repeat = now + self.repeat_every
        return Severity.CRITICAL

    def next_repeat(self) -> float | None:
        """When the critical repeat is due next (the clock's time), or None."""
        return self._next_repeat

    @property
    def repeating(self) -> frozenset[str]:
        """The ids of the critical alarms that keep the repeat going."""
        return frozenset(self._repeating)

    def silence(self) -> None:
        """Stop the repeat of every alarm sounding now; new alarms sound again."""
        self._repeating.clear()
        self._next_repeat = None


def _becomes_unacknowledged(held: _Seen | None, alarm: Alarm) -> bool:
    """Whether this version of the alarm made it unacknowledged (new, raised again, or back)."""
    if alarm.state is not AlarmState.UNACKNOWLEDGED:
        return False
    if held is None:
        return True
    return (
        held.state is not AlarmState.UNACKNOWLEDGED
        or alarm.count > held.count
        or alarm.raised_at != held.raised_at
    )
