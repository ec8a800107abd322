"""Timestamp parsing and formatting shared by decoders, export and the CLI."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TypeGuard


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


_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "d": 86_400.0,
    "day": 86_400.0,
    "w": 604_800.0,
    "week": 604_800.0,
}
_COMPACT = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_AGO = re.compile(r"^(\d+(?:\.\d+)?|an?|one)\s*([a-z]+?)s?\s+ago$")


def _span(text: str) -> float | None:
    """Seconds in "8h", "1h30m", "90 min" (None when ``text`` is not such a span)."""
    text = text.strip().lower()
    position, total = 0, 0.0
    for match in _COMPACT.finditer(text):
        if text[position : match.start()].strip():
            return None
        unit = match.group(2)
        unit = unit[:-1] if unit.endswith("s") and unit[:-1] in _UNITS else unit
        if unit not in _UNITS:
            return None
        total += float(match.group(1)) * _UNITS[unit]
        position = match.end()
    return total if position and not text[position:].strip() else None


def parse_duration(text: str) -> float:
    """Seconds in a span of time as people write it: "5m", "1h30m", "24 hours", "90 min";
    ValueError when ``text`` is not one or is not more than zero."""
    seconds = _span(text)
    if seconds is None or seconds <= 0:
        raise ValueError(f"not a span of time: {text[:40]!r} (use e.g. 5m, 90s, 1h30m, 24h, 2d)")
    return seconds


def parse_time_argument(text: str, now: float, zone: tzinfo | None = None) -> float:
    """Epoch seconds from what a person types for ``--since`` / ``--until``:

    - relative: ``-8h``, ``-1h30m``, ``-2d``, ``8 hours ago``, ``an hour ago``, ``now``;
    - ``today`` / ``yesterday`` (local midnight), or a local clock time ``14:05`` (today);
    - an ISO-8601 time: with a zone (``Z``, ``+08:00``) as given, without one in local time
      (``zone``, default this machine's), as the window shows times;
    - epoch seconds.

    ValueError saying what is accepted otherwise.
    """
    raw = text.strip()
    lowered = raw.lower()
    local = zone or datetime.now().astimezone().tzinfo
    if lowered == "now":
        return now
    if lowered.startswith("-"):
        span = _span(lowered[1:])
        if span is not None:
            return now - span
    ago = _AGO.match(lowered)
    if ago:
        amount = 1.0 if ago.group(1) in ("a", "an", "one") else float(ago.group(1))
        span = _span(f"{amount}{ago.group(2)}")
        if span is not None:
            return now - span
    today = datetime.fromtimestamp(now, tz=local).replace(hour=0, minute=0, second=0, microsecond=0)
    if lowered in ("today", "yesterday"):
        return (today - timedelta(days=1 if lowered == "yesterday" else 0)).timestamp()
    clock = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", lowered)
    if clock:
        hour, minute, second = int(clock.group(1)), int(clock.group(2)), int(clock.group(3) or 0)
        if hour < 24 and minute < 60 and second < 60:
            return today.replace(hour=hour, minute=minute, second=second).timestamp()
    try:
        return float(raw) if math.isfinite(float(raw)) else _bad(raw)
    except ValueError:
        pass
    iso = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return _bad(raw)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local)
    return moment.timestamp()


def _bad(text: str) -> float:
    raise ValueError(
        f"not a time: {text[:40]!r} (use e.g. -8h, '1 hour ago', 14:05, today,"
        " 2026-11-30T14:05 (local), 2026-11-30T06:05Z, or epoch seconds)"
    )


def clock_minutes(text: str) -> int:
    """Minutes after midnight of a local clock time ``HH:MM`` (ValueError when it is not)."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{text!r} is not a time of day HH:MM (00:00 to 23:59)")
    return int(match[1]) * 60 + int(match[2])


def shift_start(now: float, shifts: tuple[str, ...], zone: tzinfo | None = None) -> float:
    """When the shift running at ``now`` began: the latest of the ``shifts`` start times
    (``HH:MM``, local time or ``zone``) at or before ``now``, today or yesterday."""
    moment = datetime.fromtimestamp(now, zone)
    starts = []
    for day in (moment.date() - timedelta(days=1), moment.date()):
        for text in shifts:
            minutes = clock_minutes(text)
            start = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60)
            starts.append(start.replace(tzinfo=zone).timestamp() if zone else start.timestamp())
    return max(start for start in starts if start <= now)


NAMED_WINDOWS = {"hour": 3_600.0, "8h": 8 * 3_600.0, "day": 86_400.0}
"""Review and report windows ending now, by name, and their length; ``shift`` is the other."""


def named_window(
    name: str, now: float, shifts: tuple[str, ...], zone: tzinfo | None = None
) -> tuple[float, float]:
    """(since, until) of a window ending at ``now``: ``hour``, ``8h``, ``day`` (24 h), or
    ``shift`` (since the running shift began; ``shifts`` as for :func:`shift_start`)."""
    if name == "shift":
        return shift_start(now, shifts, zone), now
    if name in NAMED_WINDOWS:
        return now - NAMED_WINDOWS[name], now
    raise ValueError(f"unknown window {name!r} (one of shift, {', '.join(NAMED_WINDOWS)})")


def finite_number(value: object) -> TypeGuard[int | float]:
    """A JSON number that is finite as a float: not a bool, not NaN or infinite, not an
    integer too large for a float (a 400-digit number is valid JSON)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
