"""Wait for an event by polling for it, instead of sleeping for a guessed time."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(
    predicate: Callable[[], object],
    timeout: float = 10.0,
    what: str = "",
    interval: float = 0.02,
) -> None:
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds.

    The timeout is a safety net for a hung test, not a claim about speed: keep it generous.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout:g} s: {what or predicate!r}")


def wait_until_steady(
    value: Callable[[], object],
    quiet: float = 0.3,
    timeout: float = 10.0,
    interval: float = 0.02,
) -> object:
    """Poll ``value`` until it has not changed for ``quiet`` seconds; return it.

    For "nothing more happens" checks (no extra poll, no extra page, no message after a
    stop): wait until the count settles, then assert on it.
    """
    deadline = time.monotonic() + timeout
    last = value()
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(interval)
        current = value()
        if current != last:
            last, since = current, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return current
    raise AssertionError(f"value still changing after {timeout:g} s (last: {last!r})")
