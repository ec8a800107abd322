"""The one formatter: numbers, values with units, rates, counts, ages and times."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

import pytest

from services.model import Alarm, AlarmState, Condition, Severity
from widgets.format import (
    NO_VALUE,
    decimals_for_span,
    format_age,
    format_alarm_amount,
    format_clock,
    format_count,
    format_duration,
    format_exact,
    format_number,
    format_rate,
    format_timestamp,
    format_value,
)

T0 = 1_760_000_000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234.5, "1234"),  # never loses digits left of the point
        (123.456, "123"),
        (12.345, "12.3"),
        (1.234, "1.23"),
        (0.1234, "0.123"),
        (0.01234, "0.0123"),
        (180.0, "180"),
        (7.0, "7.00"),
        (0.0, "0"),
        (-0.0, "0"),
        (-12.34, "-12.3"),
        (-0.0001234, "-0.000123"),
        (99.96, "100"),  # rounds up into the next magnitude: fewer decimals, not "100.0"
        (9.996, "10.0"),
        (0.9996, "1.00"),
    ],
)
def test_format_number_keeps_about_three_significant_digits(value: float, expected: str) -> None:
    assert format_number(value) == expected


def test_format_number_with_fixed_decimals() -> None:
    assert format_number(42.345, 0) == "42"
    assert format_number(7.256, 1) == "7.3"
    assert format_number(1234.5, 2) == "1234.50"
    assert format_number(-0.001, 2) == "0.00"  # no minus sign on a value shown as zero
    assert format_number(-35.0, 0) == "-35"


@pytest.mark.parametrize("missing", [None, math.nan])
def test_missing_values_are_a_dash(missing: float | None) -> None:
    assert format_number(missing) == NO_VALUE == "\u2014"
    assert format_number(missing, 2) == NO_VALUE
    assert format_value(missing, "µg/m³") == NO_VALUE  # no unit without a value


def test_infinities() -> None:
    assert format_number(math.inf) == "\u221e"
    assert format_number(-math.inf, 1) == "-\u221e"
    assert format_value(math.inf, "m") == "\u221e m"


def test_format_value_appends_the_unit() -> None:
    # The same cases the main window checks for its map tooltips.
    assert format_value(123.456, "m") == "123 m"
    assert format_value(12.34) == "12.3"
    assert format_value(1.234, "%") == "1.23 %"
    assert format_value(float("nan")) == "\u2014"
    assert format_value(7.256, "pH", decimals=1) == "7.3 pH"


def test_format_exact_and_scale_decimals() -> None:
    assert format_exact(4.25) == "4.25"
    assert format_exact(500.0) == "500"
    assert format_exact(1234.4) == "1234.4"
    assert format_exact(math.nan) == NO_VALUE
    assert [decimals_for_span(span) for span in (500, 100, 14, 10, 5, 0.5)] == [0, 0, 1, 1, 2, 2]


def test_counts_and_rates() -> None:
    assert format_count(12_345) == "12,345"
    assert format_count(7) == "7"
    assert format_rate(4.25) == "4.2"
    assert format_rate(1234.4) == "1234"
    assert format_rate(99.94) == "99.9"
    assert format_rate(math.nan) == NO_VALUE


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (None, "never"),
        (math.nan, "never"),
        (0.0, "just now"),
        (-5.0, "just now"),  # a sender clock slightly ahead of ours
        (3.7, "3 s ago"),
        (59.9, "59 s ago"),
        (60.0, "1 min ago"),
        (150.0, "2 min ago"),
        (3 * 3600 + 5, "3 h ago"),
        (2 * 86400 + 1, "2 d ago"),
    ],
)
def test_format_age(seconds: float | None, expected: str) -> None:
    assert format_age(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0.0, "0 s"), (-3.0, "0 s"), (59.9, "59 s"), (699.0, "11 min"), (7300.0, "2 h"),
     (86400.0, "1 d"), (math.nan, "—")],
)  # fmt: skip
def test_format_duration(seconds: float, expected: str) -> None:
    assert format_duration(seconds) == expected


def test_a_no_data_alarm_shows_durations_other_alarms_numbers() -> None:
    silent = Alarm("aq-1", "pm25", Condition.NO_DATA, Severity.MEDIUM,
                   AlarmState.UNACKNOWLEDGED, 699.0, 600.0, 1.0, 1.0)  # fmt: skip
    high = replace(silent, condition=Condition.HIGH, value=80.25)
    assert format_alarm_amount(silent, silent.value) == "11 min"
    assert format_alarm_amount(high, high.value) == format_number(80.25)
    rate = replace(silent, condition=Condition.RATE, value=0.8)
    assert format_alarm_amount(rate, rate.value) == format_number(0.8) + "/min"
    inside = replace(silent, condition=Condition.GEOFENCE, value=1.0, threshold=math.nan)
    assert format_alarm_amount(inside, inside.value) == "inside"
    assert format_alarm_amount(inside, 0.0) == "outside"
    assert format_alarm_amount(inside, inside.threshold) == "—"


def test_times_are_local() -> None:
    local = datetime.fromtimestamp(T0)
    assert format_clock(T0) == local.strftime("%H:%M:%S")
    stamp = format_timestamp(T0 + 0.7)
    assert stamp == local.astimezone().isoformat(timespec="seconds")
    assert datetime.fromisoformat(stamp).timestamp() == T0  # to the second, with its offset
