"""The one way CityOps writes numbers, values, rates, ages and times as text.

A value reads the same wherever it is shown: in the alarm list, the map's tooltips, the
gauges and KPI labels, the trend's legend and the feed table. Missing values (None, NaN)
are a dash, :data:`NO_VALUE`.

Numbers without a fixed number of decimals get about three significant digits, and never
lose digits left of the decimal point: ``1234``, ``123``, ``12.3``, ``1.23``, ``0.123``,
``0.0123``. Times are local: a clock time (``14:03:27``) in tables, the full ISO date and
time with its UTC offset in tooltips.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

from services.model import Alarm, Condition
from widgets.i18n import QT_TRANSLATE_NOOP, current_locale, translate

log = logging.getLogger(__name__)

NO_VALUE = "\u2014"
"""What is shown for a missing value (None or NaN): an em dash."""


def _auto_decimals(magnitude: float) -> int:
    if magnitude >= 100:
        return 0
    if magnitude >= 10:
        return 1
    return 2


def format_number(value: float | None, decimals: int | None = None) -> str:
    """``value`` as text: with ``decimals`` fixed decimals, else about three significant digits.

    None and NaN give :data:`NO_VALUE`, infinities ``"∞"`` and ``"-∞"``; a value that rounds
    to zero never shows a minus sign.
    """
    if value is None:
        return NO_VALUE
    value = float(value)
    if math.isnan(value):
        return NO_VALUE
    if math.isinf(value):
        return "\u221e" if value > 0 else "-\u221e"
    if decimals is None:
        magnitude = abs(value)
        if magnitude == 0:
            return "0"
        if magnitude < 1 and abs(float(f"{value:.3g}")) < 1:
            return f"{value:.3g}"
        decimals = _auto_decimals(magnitude)
        # 99.96 is "100", not "100.0": the rounded value decides, like the reader would.
        decimals = min(decimals, _auto_decimals(abs(round(value, decimals))))
    text = f"{value:.{max(0, decimals)}f}"
    if text.startswith("-") and text.strip("-0.") == "":
        text = text[1:]
    return text


def format_value(value: float | None, unit: str = "", decimals: int | None = None) -> str:
    """A reading as an operator reads it: :func:`format_number` with its unit appended.

    A missing value is :data:`NO_VALUE` alone, without the unit.
    """
    text = format_number(value, decimals)
    if text == NO_VALUE or not unit:
        return text
    return f"{text} {unit}"


def format_exact(value: float) -> str:
    """``value`` without rounding to the display precision (tooltips, scale ends): ``4.25``."""
    value = float(value)
    if math.isnan(value):
        return NO_VALUE
    return f"{value:.12g}"


def decimals_for_span(span: float) -> int:
    """Decimals that suit values on a scale ``span`` wide (a gauge's range): 0, 1 or 2."""
    return _auto_decimals(abs(span))


def format_count(count: int) -> str:
    """A count with the chosen locale's thousands separators: ``12,345``."""
    count = int(count)
    if abs(count) >= 2**63:  # beyond what QLocale takes
        return f"{count:,}"
    return current_locale().toString(count)


def format_rate(rate: float) -> str:
    """Messages per second with one decimal (none from 100 up)."""
    if math.isnan(rate):
        return NO_VALUE
    return format_number(rate, 0 if abs(rate) >= 100 else 1)


_AGO = (
    QT_TRANSLATE_NOOP("Format", "{n} s ago"),
    QT_TRANSLATE_NOOP("Format", "{n} min ago"),
    QT_TRANSLATE_NOOP("Format", "{n} h ago"),
    QT_TRANSLATE_NOOP("Format", "{n} d ago"),
)
_FOR = (
    QT_TRANSLATE_NOOP("Format", "{n} s"),
    QT_TRANSLATE_NOOP("Format", "{n} min"),
    QT_TRANSLATE_NOOP("Format", "{n} h"),
    QT_TRANSLATE_NOOP("Format", "{n} d"),
)


def _in_largest_unit(seconds: float, templates: tuple[str, str, str, str]) -> str:
    """``seconds`` in whole seconds, minutes, hours or days, whichever is largest."""
    for template, limit, unit in zip(templates, (60, 3600, 86400), (1, 60, 3600), strict=False):
        if seconds < limit:
            return translate("Format", template).format(n=int(seconds // unit))
    return translate("Format", templates[3]).format(n=int(seconds // 86400))


def format_age(seconds: float | None) -> str:
    """How long ago, in words: ``"never"``, ``"just now"``, ``"3 s ago"``, ``"2 min ago"``..."""
    if seconds is None or math.isnan(seconds):
        return translate("Format", "never")
    if seconds < 1:
        return translate("Format", "just now")
    return _in_largest_unit(seconds, _AGO)


def format_duration(seconds: float) -> str:
    """How long, in words: ``"45 s"``, ``"11 min"``, ``"2 h"``, ``"3 d"``."""
    if math.isnan(seconds):
        return "—"
    return _in_largest_unit(max(seconds, 0.0), _FOR)


def format_alarm_amount(alarm: Alarm, number: float) -> str:
    """An alarm's value or limit: how long silent for a no-data alarm, a change per minute
    for a rate-of-change alarm, inside or outside for a geofence alarm (its limit: none),
    else the number."""
    if alarm.condition is Condition.NO_DATA:
        return format_duration(number)
    if alarm.condition is Condition.GEOFENCE:
        if math.isnan(number):
            return NO_VALUE
        return translate("Format", "inside") if number else translate("Format", "outside")
    if alarm.condition is Condition.RATE:
        return translate("Format", "{n}/min").format(n=format_number(number))
    return format_number(number)


def format_clock(ts: float) -> str:
    """Local clock time of epoch ``ts`` to the second: ``14:03:27``."""
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def format_timestamp(ts: float) -> str:
    """Local date and time of epoch ``ts`` with its UTC offset, to the second (ISO 8601)."""
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def format_axis_time(ts: float, span: float) -> str:
    """A time axis tick of a chart ``span`` seconds wide, local: ``14:05`` within a day,
    ``03-14 14:05`` beyond."""
    moment = datetime.fromtimestamp(ts)
    return moment.strftime("%H:%M" if span <= 86_400.0 else "%m-%d %H:%M")
