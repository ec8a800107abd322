"""Alarm-system KPIs (EEMUA 191 / ISA-18.2): rate, flood, standing, stale, chattering,
most frequent, priority distribution. Fed by the ingest worker with every changed alarm;
it detects raises (a new alarm, or a count that went up) and keeps 24 h of them."""

from __future__ import annotations

import bisect
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass

from services.model import Alarm, AlarmState, AlarmSystemKpis, Severity

DAY_S = 86_400.0
TEN_MINUTES_S = 600.0
FLOOD_STARTS_ABOVE = 10
"""More than this many raises in ten minutes start a flood."""
FLOOD_ENDS_BELOW = 5
"""Fewer than this many raises in ten minutes end it."""
CHATTER_RAISES = 3
CHATTER_WINDOW_S = 60.0
TOP_COUNT = 10


@dataclass(frozen=True, slots=True)
class Raise:
    """One annunciation of an alarm."""

    ts: float
    alarm_id: str
    severity: Severity


class AlarmStatistics:
    """Raises of the last 24 h and the flood state. Only the ingest worker uses it."""

    def __init__(
        self, chatter_raises: int = CHATTER_RAISES, chatter_window: float = CHATTER_WINDOW_S
    ) -> None:
        self.chatter_raises = chatter_raises
        self.chatter_window = chatter_window
        self._raises: deque[Raise] = deque()
        self._counts: dict[str, int] = {}
        self._flood_since: float | None = None

    def seed(self, raises: Iterable[Raise]) -> None:
        """Raises remembered from before a restart (oldest first)."""
        self._raises.extend(sorted(raises, key=lambda r: r.ts))

    def record(self, alarms: Iterable[Alarm], now: float) -> None:
        """Note the alarms that were raised (again) among ``alarms``, which changed."""
        for alarm in alarms:
            seen = self._counts.get(alarm.id)
            self._counts[alarm.id] = alarm.count
            raised = alarm.state is AlarmState.UNACKNOWLEDGED and (
                seen is None or alarm.count > seen
            )
            if raised:
                self._raises.append(Raise(alarm.updated_at or now, alarm.id, alarm.severity))
        self._trim(now)
        self._update_flood(now)

    def _trim(self, now: float) -> None:
        while self._raises and self._raises[0].ts < now - DAY_S:
            self._raises.popleft()

    def _since(self, start: float) -> list[Raise]:
        times = [r.ts for r in self._raises]
        return list(self._raises)[bisect.bisect_left(times, start) :]

    def _update_flood(self, now: float) -> None:
        recent = len(self._since(now - TEN_MINUTES_S))
        if self._flood_since is None and recent > FLOOD_STARTS_ABOVE:
            self._flood_since = now
        elif self._flood_since is not None and recent < FLOOD_ENDS_BELOW:
            self._flood_since = None

    def kpis(self, alarms: Iterable[Alarm], now: float) -> AlarmSystemKpis:
        """The KPIs at ``now``, with ``alarms`` the alarms known now."""
        self._trim(now)
        self._update_flood(now)
        day = list(self._raises)
        hour = self._since(now - 3600.0)
        by_alarm = Counter(r.alarm_id for r in day)
        chattering = sorted(
            {
                key
                for key, times in _times_by_alarm(day).items()
                if _most_within(times, self.chatter_window) >= self.chatter_raises
            }
        )
        current = list(alarms)
        active = [a for a in current if a.state.is_active]
        return AlarmSystemKpis(
            at=now,
            raises_10min=len(self._since(now - TEN_MINUTES_S)),
            hourly_rate_per_10min=len(hour) / 6.0,
            flood=self._flood_since is not None,
            flood_since=self._flood_since,
            active=len(active),
            standing=sum(1 for a in active if now - a.raised_at > DAY_S),
            stale=sum(1 for a in current if a.state.needs_ack and now - a.raised_at > DAY_S),
            shelved=sum(1 for a in current if a.state is AlarmState.SHELVED),
            suppressed=sum(1 for a in current if a.state is AlarmState.SUPPRESSED),
            out_of_service=sum(1 for a in current if a.state is AlarmState.OUT_OF_SERVICE),
            top=tuple(by_alarm.most_common(TOP_COUNT)),
            chattering=tuple(chattering),
            by_priority=dict(Counter(r.severity for r in day)),
            raises_24h=len(day),
        )


def _times_by_alarm(raises: Iterable[Raise]) -> dict[str, list[float]]:
    grouped: dict[str, list[float]] = {}
    for r in raises:
        grouped.setdefault(r.alarm_id, []).append(r.ts)
    return grouped


def _most_within(times: list[float], window: float) -> int:
    """The most raises that fall within any ``window`` seconds (times sorted)."""
    most, start = 0, 0
    for end, ts in enumerate(times):
        while ts - times[start] > window:
            start += 1
        most = max(most, end - start + 1)
    return most
