"""First-out grouping: which alarm of a burst came first.

A burst is the alarms of one domain raised within :data:`FIRST_OUT_WINDOW_S` of its first
alarm; in a plant (or a city block losing power) the first is usually the cause and
the rest its consequences. No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from services.model import Alarm

FIRST_OUT_WINDOW_S = 5.0
"""Alarms of one domain raised within this many seconds of the first form a burst."""


@dataclass(frozen=True, slots=True)
class Burst:
    """The burst an alarm belongs to: its first alarm, when that was raised, and its size."""

    first: str
    first_raised_at: float
    size: int
    first_entity: str = ""
    first_metric: str = ""


def first_out_groups(
    alarms: Iterable[Alarm],
    domain_of: Callable[[str], str],
    window: float = FIRST_OUT_WINDOW_S,
) -> dict[str, Burst]:
    """Every alarm in a burst of two or more, mapped to its burst (the first maps to its own)."""
    by_domain: dict[str, list[Alarm]] = {}
    for alarm in alarms:
        by_domain.setdefault(domain_of(alarm.entity_id), []).append(alarm)
    groups: dict[str, Burst] = {}
    for members in by_domain.values():
        members.sort(key=lambda a: (a.raised_at, a.id))
        runs: list[list[Alarm]] = []
        for alarm in members:
            if runs and alarm.raised_at - runs[-1][0].raised_at <= window:
                runs[-1].append(alarm)
            else:
                runs.append([alarm])
        for run in runs:
            if len(run) > 1:
                head = run[0]
                burst = Burst(head.id, head.raised_at, len(run), head.entity_id, head.metric)
                groups.update((member.id, burst) for member in run)
    return groups
