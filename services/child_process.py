"""Child processes of the app: spawned (never forked: a process that runs Qt's threads must
not fork) with two one-way pipes, and started again after they die, waiting longer after
each one that did not last."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

SPAWN = multiprocessing.get_context("spawn")

RESTART_DELAY_S = 1.0
"""The pause before a child that died is started again (doubled after each child that did
not last :data:`STABLE_CHILD_S`, up to :data:`MAX_RESTART_DELAY_S`)."""
MAX_RESTART_DELAY_S = 30.0
STABLE_CHILD_S = 30.0


@dataclass(frozen=True, slots=True)
class SpawnedChild:
    """A started child and the parent's ends of its pipes."""

    process: Any
    commands: Connection
    """Parent → child."""
    events: Connection
    """Child → parent."""


def spawn_child(
    target: Callable[..., None], kwargs: dict[str, Any], *, name: str, daemon: bool
) -> SpawnedChild:
    """Start ``target(commands, events, **kwargs)`` in a spawned process (``daemon``: it
    ends with this one, and may not start children of its own). The child's ends of the
    pipes are closed here, so either side sees the other's end."""
    commands_in, commands_out = SPAWN.Pipe(duplex=False)
    events_in, events_out = SPAWN.Pipe(duplex=False)
    process = SPAWN.Process(
        target=target, args=(commands_in, events_out), kwargs=kwargs, name=name, daemon=daemon
    )
    try:
        process.start()
    except BaseException:
        for end in (commands_in, commands_out, events_in, events_out):
            end.close()
        raise
    commands_in.close()
    events_out.close()
    return SpawnedChild(process, commands_out, events_in)


class RestartBackoff:
    """How long to wait before starting a child again: :data:`RESTART_DELAY_S` after one
    that lasted, twice as long after each that did not (a crash loop must not spin)."""

    def __init__(self) -> None:
        self._started_at = 0.0
        self._quick_deaths = 0

    def started(self) -> None:
        """A child was started now."""
        self._started_at = time.monotonic()

    def ended(self) -> float:
        """A child ended now: the seconds to wait before the next."""
        lasted = time.monotonic() - self._started_at
        self._quick_deaths = 0 if lasted >= STABLE_CHILD_S else self._quick_deaths + 1
        delay: float = RESTART_DELAY_S * 2 ** max(0, self._quick_deaths - 1)
        return min(MAX_RESTART_DELAY_S, delay)
