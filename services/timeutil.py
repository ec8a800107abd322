"""Timestamp parsing and formatting shared by decoders, export and the CLI."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def parse_timestamp(value: object) -> float:
    """Epoch seconds (UTC) from ISO-8601 text or epoch seconds (int, float or numeric text).

    Raises ValueError with a short reason when ``value`` is neither.
    """
    if isinstance(value, bool):
        raise ValueError("timestamp is a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            seconds = _parse_iso(text)
    else:
        raise ValueError(f"timestamp has type {type(value).__name__}")
    if not math.isfinite(seconds):
        raise ValueError("timestamp is not finite")
    return seconds


def _parse_iso(text: str) -> float:
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO-8601 time or epoch seconds: {text[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def format_timestamp(seconds: float | None) -> str:
    """ISO-8601 UTC text with millisecond precision; empty for None."""
    if seconds is None:
        return ""
    return (
        datetime.fromtimestamp(seconds, tz=UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
