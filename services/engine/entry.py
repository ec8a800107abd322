"""The engine process's entry point, importable without the session behind it.

The window's process names this function when it spawns the engine; importing
:mod:`services.engine.child` there would load the whole session (feeds, decoders, alarms,
the cache) into a process that never runs it.
"""

from __future__ import annotations

from typing import Any


def run_engine(*args: Any, **kwargs: Any) -> None:
    """Run :func:`services.engine.child.engine_main` (in the engine process)."""
    from services.engine.child import engine_main

    engine_main(*args, **kwargs)
