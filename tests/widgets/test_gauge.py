"""Gauge widget: values, bands, stale and missing data, over-range, text layout, colours
by theme (grey while normal), and item reuse."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QGridLayout, QScrollArea, QWidget
from pytestqt.qtbot import QtBot

from tests.helpers.pixels import close, has_color
from widgets import palette
from widgets.format import NO_VALUE
from widgets.gauge import START_DEGREES, SWEEP_DEGREES, Gauge
from widgets.palette import Theme


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


def test_out_of_range_shows_a_mark_not_a_pinned_needle(qtbot: QtBot) -> None:
    gauge = make_gauge(qtbot)
    gauge.set_value(300.0)  # the end of the scale is still on it
    assert gauge.needle_fraction() == 1.0
    assert not gauge.over_range_visible()
    assert gauge.range_state() == ""
    gauge.set_value(420.0)
    assert gauge.value() == 420.0
    assert gauge.value_text() == "420"
    assert gauge.band() == "alarm"
    assert gauge.needle_fraction() is None
    assert gauge.over_range_visible()
    assert gauge.range_state() == "above"
    assert gauge.hint_text() == "above scale"
    gauge.set_value(-35.0, stale=True)
    assert gauge.value_text() == "-35"
    assert gauge.needle_fraction() is None
    assert gauge.range_state() == "below"
    assert gauge.hint_text() == "stale · below scale"
    gauge.set_value(150.0)
    assert gauge.needle_fraction() == pytest.approx(0.5)
    assert not gauge.over_range_visible()
    assert gauge.hint_text() == ""
    gauge.set_value(None)
    assert not gauge.over_range_visible()


@pytest.mark.parametrize(
    ("warn", "alarm", "value", "words"),
    [
        (75.0, 150.0, 74.0, ""),
        (75.0, 150.0, 80.0, "HIGH"),
        (75.0, 150.0, 150.0, "HIGH-HIGH"),
        (40.0, 20.0, 30.0, "LOW"),
        (40.0, 20.0, 5.0, "LOW-LOW"),
        (40.0, 20.0, 60.0, ""),
        (None, None, 299.0, ""),
    ],
)
def test_a_value_in_a_band_says_so_in_words(
    qtbot: QtBot, warn: float | None, alarm: float | None, value: float, words: str
) -> None:
    gauge = make_gauge(qtbot, warn=warn, alarm=alarm)
    gauge.set_value(value)
    assert gauge.state_text() == words
    gauge.set_value(None)
    assert gauge.state_text() == ""


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


def _is_green(pixel: QColor) -> bool:
    return 80 <= pixel.hslHue() <= 160 and pixel.hslSaturation() > 60 and pixel.lightness() > 40


def _point(gauge: Gauge, fraction: float, radius: float) -> QPoint:
    """The widget pixel at dial ``fraction`` (0 minimum, 1 maximum) and ``radius``."""
    angle = math.radians(START_DEGREES - SWEEP_DEGREES * fraction)
    scene = gauge.view_box.mapViewToScene(
        QPointF(radius * math.cos(angle), radius * math.sin(angle))
    )
    canvas = gauge.view_box.scene().views()[0]
    point: QPoint = canvas.mapFromScene(scene) + canvas.pos()
    return point


def _grab(qtbot: QtBot, gauge: Gauge, width: int = 220, height: int = 190) -> QImage:
    gauge.resize(width, height)
    gauge.show()
    qtbot.waitExposed(gauge)
    image = gauge.grab().toImage()
    return image.scaled(gauge.size())  # one image pixel per widget pixel, whatever the DPR


def test_normal_is_grey_and_only_abnormal_is_coloured(qtbot: QtBot, theme: Theme) -> None:
    gauge = make_gauge(qtbot)
    gauge.set_value(40.0)  # normal: 0.13 of the dial
    image = _grab(qtbot, gauge)
    arc = image.pixelColor(_point(gauge, 0.06, 0.78))
    assert close(arc, theme.chart_value), arc.name()
    assert arc.hslSaturation() < 40  # grey
    normal_ring = image.pixelColor(_point(gauge, 0.1, 0.95))
    assert close(normal_ring, theme.chart_track), normal_ring.name()
    warning_ring = image.pixelColor(_point(gauge, 0.37, 0.95))
    assert close(warning_ring, theme.chart_warning_band), warning_ring.name()
    assert warning_ring.hslSaturation() > 60  # the limits are coloured, muted or not
    assert not any(
        _is_green(image.pixelColor(x, y))
        for y in range(0, image.height(), 2)
        for x in range(0, image.width(), 2)
    )

    gauge.set_value(200.0)  # alarm: 0.67 of the dial
    image = _grab(qtbot, gauge)
    assert close(image.pixelColor(_point(gauge, 0.3, 0.78)), theme.alarm)
    assert gauge.state_text() == "HIGH-HIGH"

    gauge.set_value(200.0, stale=True)
    image = _grab(qtbot, gauge)
    assert close(image.pixelColor(_point(gauge, 0.3, 0.78)), theme.stale)


def test_limits_are_marked_without_colour(qtbot: QtBot, theme: Theme) -> None:
    gauge = make_gauge(qtbot)  # warn 75 (0.25), alarm 150 (0.5) of 0..300
    image = _grab(qtbot, gauge, 300, 260)
    for limit in (0.25, 0.5):
        tick = image.pixelColor(_point(gauge, limit, 1.05))
        assert close(tick, theme.chart_mark, 40), (limit, tick.name())
    # The alarm band is hatched: along its middle both the band and the strokes show.
    along = [image.pixelColor(_point(gauge, 0.55 + i * 0.002, 0.95)) for i in range(200)]
    assert any(close(p, theme.chart_alarm_band) for p in along)
    assert any(close(p, theme.chart_mark, 40) for p in along)
    # The warning band is not hatched.
    warning = [image.pixelColor(_point(gauge, 0.3 + i * 0.002, 0.95)) for i in range(80)]
    assert not any(close(p, theme.chart_mark, 40) for p in warning)


def _past_end(gauge: Gauge, *, above: bool) -> QPoint:
    """The pixel a few degrees past one end of the dial, on its track."""
    step = 8.0 / SWEEP_DEGREES
    return _point(gauge, 1.0 + step if above else -step, 0.84)


def test_over_range_mark_is_drawn_past_the_end(qtbot: QtBot, theme: Theme) -> None:
    gauge = make_gauge(qtbot)
    gauge.set_value(290.0)
    before = _grab(qtbot, gauge).pixelColor(_past_end(gauge, above=True))
    assert close(before, theme.chart_background), before.name()
    gauge.set_value(420.0)
    after = _grab(qtbot, gauge).pixelColor(_past_end(gauge, above=True))
    assert close(after, theme.alarm), after.name()
    gauge.set_value(-20.0)
    image = _grab(qtbot, gauge)
    assert close(image.pixelColor(_past_end(gauge, above=True)), theme.chart_background)
    below = image.pixelColor(_past_end(gauge, above=False))
    assert close(below, theme.chart_value), below.name()


@pytest.mark.parametrize(
    "size", [(160, 140), (170, 260), (200, 150), (240, 190), (420, 160), (640, 420)]
)
def test_text_never_overlaps(qtbot: QtBot, theme: Theme, size: tuple[int, int]) -> None:
    for title, unit, value in [
        ("Mean road occupancy", "%", 90.0),
        ("Longest clinic queue at the Central Hospital", "patients", 1234.5),
        ("Free parking", "", 2696.0),
    ]:
        gauge = make_gauge(qtbot, title=title, unit=unit, minimum=0.0, maximum=2000.0)
        gauge.set_value(value, stale=True)
        gauge.resize(*size)
        gauge.show()
        qtbot.waitExposed(gauge)
        rects = gauge.text_rects()
        assert {"title", "value", "minimum", "maximum", "hint"} <= set(rects)
        bounds = QRectF(gauge.rect())
        for name, rect in rects.items():
            assert bounds.contains(rect), (name, rect, bounds)
        names = sorted(rects)
        overlaps = [(a, b) for a in names for b in names if a < b and rects[a].intersects(rects[b])]
        assert overlaps == [], (title, size)
        # The title sits under the dial, below the scale's numbers.
        assert rects["title"].top() >= rects["minimum"].bottom()


def test_a_narrow_gauge_keeps_its_title_off_the_scale(qtbot: QtBot) -> None:
    gauge = make_gauge(qtbot, title="Mean road occupancy", maximum=100.0, unit="%")
    gauge.set_value(42.0)
    gauge.resize(160, 200)
    gauge.show()
    qtbot.waitExposed(gauge)
    rects = gauge.text_rects()
    for end in ("minimum", "maximum"):
        assert not rects["title"].intersects(rects[end])


def test_renders_band_colours(qtbot: QtBot, tmp_path: Path) -> None:
    gauge = make_gauge(qtbot)
    theme = palette.current_theme()
    gauge.resize(220, 190)
    gauge.show()
    qtbot.waitExposed(gauge)
    gauge.set_value(200.0)
    image = gauge.grab().toImage()
    assert image.width() >= 160 and image.height() >= 140
    for color in (theme.chart_track, theme.chart_warning_band, theme.chart_alarm_band):
        assert has_color(image, color, step=2), color
    assert has_color(image, palette.ALARM_COLOR, step=2)
    assert gauge.grab().save(str(tmp_path / "gauge.png"))

    gauge.set_value(200.0, stale=True)
    stale = gauge.grab().toImage()
    assert has_color(stale, palette.STALE_COLOR, step=2)
    assert not has_color(stale, palette.ALARM_COLOR, step=2)


def test_decimals_can_be_fixed(qtbot: QtBot) -> None:
    gauge = Gauge("Active incidents", 0, 6, decimals=0)
    qtbot.addWidget(gauge)
    gauge.set_value(3.0)
    assert gauge.value_text() == "3"


def test_gauges_in_a_scroll_area_keep_a_sensible_height(qtbot: QtBot) -> None:
    """The wrapping title must not make a scroll area ask for the canvas's large preferred
    height: a short panel scrolls over gauges of their minimum height."""
    panel = QWidget()
    grid = QGridLayout(panel)
    for index in range(9):
        gauge = Gauge("Mean road occupancy", 0.0, 100.0, "%", 70.0, 85.0)
        grid.addWidget(gauge, index // 3, index % 3)
    area = QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    qtbot.addWidget(area)
    area.resize(640, 250)
    area.show()
    qtbot.waitExposed(area)
    heights = {gauge.height() for gauge in panel.findChildren(Gauge)}
    assert max(heights) <= 160
    assert panel.height() < 3 * 160 + 40


def _render(gauge: Gauge, ratio: int) -> QImage:
    image = QImage(gauge.width() * ratio, gauge.height() * ratio, QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(ratio)
    image.fill(0)
    gauge.render(image)
    return image


def test_marks_keep_their_weight_on_a_hidpi_screen(qtbot: QtBot) -> None:
    """At device pixel ratio 2 the threshold tick covers four times the device pixels (a
    cosmetic one-pixel line would cover only twice as many)."""
    gauge = make_gauge(qtbot, maximum=100.0, warn=70.0, alarm=85.0)
    gauge.set_value(40.0)
    gauge.resize(200, 170)
    gauge.show()
    qtbot.waitExposed(gauge)
    mark = palette.current_theme().chart_mark
    tick = _point(gauge, 0.7, 0.97)
    counts = []
    for ratio in (1, 2):
        image = _render(gauge, ratio)
        assert image.width() == 200 * ratio
        box = range(-8 * ratio, 8 * ratio + 1)
        counts.append(
            sum(
                close(image.pixelColor(tick.x() * ratio + dx, tick.y() * ratio + dy), mark, 30)
                for dx in box
                for dy in box
            )
        )
    assert counts[0] >= 8
    assert counts[1] >= 3 * counts[0]
