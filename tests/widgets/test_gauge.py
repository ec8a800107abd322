"""Gauge widget: values, bands, stale and missing data, clamping, and item reuse."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from widgets.format import NO_VALUE
from widgets.gauge import Gauge
from widgets.palette import ALARM_COLOR, NORMAL_COLOR, STALE_COLOR, WARNING_COLOR


def make_gauge(qtbot: QtBot, **kwargs: float | str | None) -> Gauge:
    options: dict[str, float | str | None] = {
        "title": "PM2.5",
        "minimum": 0.0,
        "maximum": 300.0,
        "unit": "µg/m³",
        "warn": 75.0,
        "alarm": 150.0,
    }
    options.update(kwargs)
    gauge = Gauge(**options)  # type: ignore[arg-type]
    qtbot.addWidget(gauge)
    return gauge


def test_starts_empty(qtbot: QtBot) -> None:
    gauge = make_gauge(qtbot)
    assert gauge.value() is None
    assert gauge.value_text() == NO_VALUE
    assert gauge.band() == "none"
    assert not gauge.is_stale()
    assert gauge.needle_fraction() is None


@pytest.mark.parametrize(
    ("value", "band"),
    [(0.0, "normal"), (74.9, "normal"), (75.0, "warning"), (149.0, "warning"), (150.0, "alarm")],
)
def test_high_is_bad_bands(qtbot: QtBot, value: float, band: str) -> None:
    gauge = make_gauge(qtbot)
    gauge.set_value(value)
    assert gauge.value() == value
    assert gauge.band() == band


@pytest.mark.parametrize(("value", "band"), [(10.0, "alarm"), (30.0, "warning"), (60.0, "normal")])
def test_low_is_bad_when_warn_is_above_alarm(qtbot: QtBot, value: float, band: str) -> None:
    gauge = make_gauge(qtbot, title="Speed", maximum=120.0, unit="km/h", warn=40.0, alarm=20.0)
    assert gauge.thresholds() == (40.0, 20.0, False)
    gauge.set_value(value)
    assert gauge.band() == band


def test_single_threshold_means_high_is_bad(qtbot: QtBot) -> None:
    gauge = make_gauge(qtbot, warn=None, alarm=100.0)
    gauge.set_value(99.0)
    assert gauge.band() == "normal"
    gauge.set_value(100.0)
    assert gauge.band() == "alarm"


def test_no_thresholds_is_normal(qtbot: QtBot) -> None:
    gauge = make_gauge(qtbot, warn=None, alarm=None)
    gauge.set_value(299.0)
    assert gauge.band() == "normal"


def test_value_text_uses_decimals_for_the_range(qtbot: QtBot) -> None:
    wide = make_gauge(qtbot)
    wide.set_value(42.345)
    assert wide.value_text() == "42"
    narrow = make_gauge(qtbot, minimum=0.0, maximum=14.0, unit="pH", warn=None, alarm=None)
    narrow.set_value(7.256)
    assert narrow.value_text() == "7.3"
    tiny = make_gauge(qtbot, minimum=0.0, maximum=5.0, unit="m", warn=None, alarm=None)
    tiny.set_value(-0.001)
    assert tiny.value_text() == "0.00"


def test_none_and_nan_show_a_dash(qtbot: QtBot) -> None:
    gauge = make_gauge(qtbot)
    gauge.set_value(80.0)
    gauge.set_value(None)
    assert gauge.value() is None
    assert gauge.value_text() == NO_VALUE
    assert gauge.band() == "none"
    gauge.set_value(math.nan)
    assert gauge.value() is None
    assert gauge.value_text() == NO_VALUE


def test_out_of_range_clamps_needle_but_shows_true_number(qtbot: QtBot) -> None:
    gauge = make_gauge(qtbot)
    gauge.set_value(420.0)
    assert gauge.value() == 420.0
    assert gauge.value_text() == "420"
    assert gauge.band() == "alarm"
    assert gauge.needle_fraction() == 1.0
    gauge.set_value(-35.0)
    assert gauge.value_text() == "-35"
    assert gauge.needle_fraction() == 0.0
    gauge.set_value(150.0)
    assert gauge.needle_fraction() == pytest.approx(0.5)


def test_stale_greys_the_value_and_shows_a_hint(qtbot: QtBot) -> None:
    gauge = make_gauge(qtbot)
    gauge.set_value(90.0, stale=True)
    assert gauge.is_stale()
    assert gauge.hint_text() == "stale"
    assert gauge.value_text() == "90"
    assert gauge.band() == "warning"
    gauge.set_value(90.0)
    assert not gauge.is_stale()
    assert gauge.hint_text() == ""


def test_invalid_range_is_rejected() -> None:
    with pytest.raises(ValueError, match="minimum < maximum"):
        Gauge("bad", 10.0, 10.0)


def test_graphics_items_are_created_once(qtbot: QtBot) -> None:
    gauge = make_gauge(qtbot)
    gauge.show()
    qtbot.waitExposed(gauge)
    items = list(gauge.view_box.addedItems)
    scene_items = set(gauge.view_box.scene().items())
    for step in range(60):
        gauge.set_value(step * 7.5, stale=step % 5 == 0)
    gauge.set_value(None)
    gauge.set_value(1e9)
    gauge.set_thresholds(100.0, 200.0)
    after = list(gauge.view_box.addedItems)
    assert len(after) == len(items)
    assert all(a is b for a, b in zip(after, items, strict=True))
    assert set(gauge.view_box.scene().items()) == scene_items


def _has_color(image: QImage, hex_color: str, tolerance: int = 12) -> bool:
    wanted = QColor(hex_color)
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            pixel = image.pixelColor(x, y)
            if (
                abs(pixel.red() - wanted.red()) <= tolerance
                and abs(pixel.green() - wanted.green()) <= tolerance
                and abs(pixel.blue() - wanted.blue()) <= tolerance
            ):
                return True
    return False


def test_renders_band_colours(qtbot: QtBot, tmp_path: Path) -> None:
    gauge = make_gauge(qtbot)
    gauge.resize(220, 190)
    gauge.show()
    qtbot.waitExposed(gauge)
    gauge.set_value(200.0)
    image = gauge.grab().toImage()
    assert image.width() >= 160 and image.height() >= 140
    for color in (NORMAL_COLOR, WARNING_COLOR, ALARM_COLOR):
        assert _has_color(image, color), color
    assert gauge.grab().save(str(tmp_path / "gauge.png"))

    gauge.set_value(200.0, stale=True)
    stale = gauge.grab().toImage()
    assert _has_color(stale, STALE_COLOR)


def test_decimals_can_be_fixed(qtbot: QtBot) -> None:
    gauge = Gauge("Active incidents", 0, 6, decimals=0)
    qtbot.addWidget(gauge)
    gauge.set_value(3.0)
    assert gauge.value_text() == "3"
