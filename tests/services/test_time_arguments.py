"""What people type for --since / --until: relative times, local clock times, ISO-8601."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.timeutil import clock_minutes, named_window, parse_time_argument, shift_start

NOW = datetime(2026, 11, 30, 22, 30, tzinfo=UTC).timestamp()
YIYANG = timezone(timedelta(hours=8))  # local time in Hunan: 06:30 on 1 December


@pytest.mark.parametrize(
    ("text", "seconds_before_now"),
    [
        ("now", 0),
        ("-8h", 8 * 3600),
        ("-1h30m", 5400),
        ("-90min", 5400),
        ("-2d", 2 * 86_400),
        ("-45s", 45),
        ("8 hours ago", 8 * 3600),
        ("1 hour ago", 3600),
        ("an hour ago", 3600),
        ("90 minutes ago", 5400),
        ("2 days ago", 2 * 86_400),
        ("today", 6.5 * 3600),  # local midnight, 06:30 earlier
        ("yesterday", 30.5 * 3600),
        ("05:00", 1.5 * 3600),  # a clock time today, local
        ("2026-12-01T05:00", 1.5 * 3600),  # ISO without a zone: local
        ("2026-11-30T21:00Z", 1.5 * 3600),  # with one: as given
        ("2026-12-01T05:00+08:00", 1.5 * 3600),
        (str(NOW - 60), 60),  # epoch seconds
    ],
)
def test_times_people_type(text: str, seconds_before_now: float) -> None:
    assert NOW - parse_time_argument(text, NOW, YIYANG) == pytest.approx(seconds_before_now)


@pytest.mark.parametrize("text", ["soon", "-8x", "25:00", "8 fortnights ago", "", "nan"])
def test_anything_else_says_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a time: .*-8h, '1 hour ago'"):
        parse_time_argument(text, NOW, YIYANG)


def test_the_shift_running_started_at_the_latest_start_time_before_now() -> None:
    shifts = ("07:00", "15:00", "23:00")
    zone = timezone(timedelta(hours=8))  # Yiyang's
    at = datetime(2026, 12, 1, 16, 30, tzinfo=zone).timestamp()
    assert shift_start(at, shifts, zone) == datetime(2026, 12, 1, 15, 0, tzinfo=zone).timestamp()
    night = datetime(2026, 12, 1, 2, 0, tzinfo=zone).timestamp()  # the shift began yesterday
    assert shift_start(night, shifts, zone) == datetime(2026, 11, 30, 23, tzinfo=zone).timestamp()
    exact = datetime(2026, 12, 1, 7, 0, tzinfo=zone).timestamp()
    assert shift_start(exact, shifts, zone) == exact
    assert clock_minutes("7:05") == 425
    with pytest.raises(ValueError, match="HH:MM"):
        clock_minutes("24:00")


def test_named_windows_end_now() -> None:
    shifts = ("07:00", "19:00")
    zone = timezone(timedelta(hours=8))
    now = datetime(2026, 12, 1, 9, 30, tzinfo=zone).timestamp()
    assert named_window("hour", now, shifts, zone) == (now - 3_600, now)
    assert named_window("8h", now, shifts, zone) == (now - 8 * 3_600, now)
    assert named_window("day", now, shifts, zone) == (now - 86_400, now)
    assert named_window("shift", now, shifts, zone) == (now - 2.5 * 3_600, now)
    with pytest.raises(ValueError, match="unknown window"):
        named_window("week", now, shifts, zone)
