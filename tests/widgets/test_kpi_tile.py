"""KPI tile: value and unit, the change and arrow against an hour ago, warning / alarm /
stale status with its word, no repaint before refresh(), and its colours in a grab (grey
while normal, the palette's colour for an abnormal band), not pixel-exact goldens."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from tests.helpers.pixels import PaintCounter, close, has_color
from widgets import palette
from widgets.format import NO_VALUE
from widgets.kpi_tile import ARROW_DOWN, ARROW_STEADY, ARROW_UP, KpiTile
from widgets.palette import Theme

NOW = 1_700_000_000.0


def make_tile(
    qtbot: QtBot,
    warn: float | None = 75.0,
    alarm: float | None = 150.0,
    decimals: int | None = None,
    unit: str = "µg/m³",
) -> KpiTile:
    tile = KpiTile("PM2.5 over Heshan", unit, warn, alarm, decimals)
    qtbot.addWidget(tile)
    return tile


def hour(start: float, end: float, count: int = 61) -> list[tuple[float, float]]:
    """Points a minute apart over the hour before NOW, from ``start`` to ``end``."""
    return [(NOW - 3600 + i * 60, start + (end - start) * i / (count - 1)) for i in range(count)]


def show(tile: KpiTile, value: float | None, *, stale: bool = False) -> None:
    tile.set_value(value, ts=NOW, stale=stale)
    tile.refresh()


def test_value_with_unit(qtbot: QtBot) -> None:
    tile = make_tile(qtbot)
    show(tile, 48.23)
    assert tile.value_text() == "48.2 µg/m³"
    assert tile.status() == "normal"
    assert tile.status_word() == ""


def test_fixed_decimals_and_no_unit(qtbot: QtBot) -> None:
    tile = make_tile(qtbot, decimals=0, unit="")
    show(tile, 1912.4)
    assert tile.value_text() == "1912"


def test_no_value_is_a_dash_and_stale(qtbot: QtBot) -> None:
    tile = make_tile(qtbot)
    assert tile.value_text() == NO_VALUE
    assert tile.status() == "stale"
    assert tile.status_word() == "NO DATA"
    show(tile, float("nan"))
    assert tile.value_text() == NO_VALUE
    assert tile.change_text() == ""
    assert tile.arrow() == ""


@pytest.mark.parametrize(
    ("then", "now", "arrow", "change"),
    [
        (36.0, 48.3, ARROW_UP, "+12.3 vs 1 h ago"),
        (60.0, 48.3, ARROW_DOWN, "-11.7 vs 1 h ago"),
        (48.32, 48.3, ARROW_STEADY, "±0.0 vs 1 h ago"),  # rounds to zero as shown
    ],
)
def test_change_against_an_hour_ago(
    qtbot: QtBot, then: float, now: float, arrow: str, change: str
) -> None:
    tile = make_tile(qtbot)
    tile.set_history(hour(then, now))
    show(tile, now)
    assert tile.arrow() == arrow
    assert tile.change_text() == change


def test_change_uses_the_point_nearest_to_an_hour_ago(qtbot: QtBot) -> None:
    tile = make_tile(qtbot, decimals=0, unit="veh/h")
    tile.set_history([(NOW - 3000, 500.0), (NOW - 3650, 1000.0), (NOW - 4300, 9.0)])
    show(tile, 1200.0)
    assert tile.change_text() == "+200 vs 1 h ago"


def test_no_point_near_an_hour_ago_shows_no_change(qtbot: QtBot) -> None:
    tile = make_tile(qtbot)
    tile.set_history([(NOW - 120, 40.0), (NOW - 60, 41.0)])
    show(tile, 42.0)
    assert tile.arrow() == ""
    assert tile.change_text() == f"{NO_VALUE} vs 1 h ago"


@pytest.mark.parametrize(
    ("value", "status", "word"),
    [
        (74.9, "normal", ""),
        (75.0, "warning", "WARNING"),
        (149.0, "warning", "WARNING"),
        (150.0, "alarm", "ALARM"),
    ],
)
def test_high_is_bad(qtbot: QtBot, value: float, status: str, word: str) -> None:
    tile = make_tile(qtbot)
    show(tile, value)
    assert tile.status() == status
    assert tile.status_word() == word


@pytest.mark.parametrize(("value", "status"), [(91.0, "normal"), (80.0, "warning"), (65, "alarm")])
def test_low_is_bad_when_warn_is_above_alarm(qtbot: QtBot, value: float, status: str) -> None:
    tile = make_tile(qtbot, warn=85.0, alarm=70.0, unit="%")
    assert tile.thresholds() == (85.0, 70.0, False)
    show(tile, value)
    assert tile.status() == status


def test_no_limits_is_normal(qtbot: QtBot) -> None:
    tile = make_tile(qtbot, warn=None, alarm=None)
    show(tile, 1e6)
    assert tile.status() == "normal"


def test_stale_wins_over_alarm_and_says_so(qtbot: QtBot) -> None:
    tile = make_tile(qtbot)
    show(tile, 200.0, stale=True)
    assert tile.status() == "stale"
    assert tile.status_word() == "STALE"
    assert tile.value_text() == "200 µg/m³"
    show(tile, 200.0)
    assert tile.status() == "alarm"


def test_set_value_waits_for_refresh(qtbot: QtBot) -> None:
    tile = make_tile(qtbot)
    tile.resize(240, 150)
    show(tile, 40.0)
    tile.show()
    qtbot.waitExposed(tile)
    counter = PaintCounter()
    tile.installEventFilter(counter)
    qtbot.wait(50)
    counter.count = 0

    tile.set_value(200.0, ts=NOW + 1)
    tile.set_history(hour(10.0, 200.0))
    qtbot.wait(100)
    assert counter.count == 0
    assert tile.value_text() == "40.0 µg/m³"
    assert tile.status() == "normal"

    tile.refresh()
    assert tile.value_text() == "200 µg/m³"
    assert tile.status() == "alarm"
    qtbot.waitUntil(lambda: counter.count > 0)

    # Nothing new: a refresh repaints nothing.
    qtbot.wait(50)
    counter.count = 0
    tile.refresh()
    qtbot.wait(100)
    assert counter.count == 0
    tile.removeEventFilter(counter)


# --------------------------------------------------------------------------- pictures


def _chroma(pixel: QColor) -> int:
    """How far from grey a pixel is (0 to 255), near black as well as in the mid-tones."""
    channels = (pixel.red(), pixel.green(), pixel.blue())
    return max(channels) - min(channels)


def _grab(qtbot: QtBot, tile: KpiTile, width: int = 260, height: int = 160) -> QImage:
    tile.resize(width, height)
    tile.show()
    qtbot.waitExposed(tile)
    image = tile.grab().toImage()
    return image.scaled(tile.size())  # one image pixel per widget pixel, whatever the DPR


def _band_middle(tile: KpiTile) -> QPoint:
    band = tile.band_rect()
    return QPoint(band.center().x(), band.center().y())


def test_normal_is_grey_without_severity_colours(qtbot: QtBot, theme: Theme) -> None:
    tile = make_tile(qtbot)
    tile.set_history(hour(30.0, 48.0))
    show(tile, 48.0)
    image = _grab(qtbot, tile)
    assert close(image.pixelColor(_band_middle(tile)), theme.normal)
    assert close(image.pixelColor(tile.width() - 4, 4), theme.chart_background)  # padding
    for severity in theme.severities.values():
        assert not has_color(image, severity, 30, step=2), severity
    coloured = [
        image.pixelColor(x, y).name()
        for y in range(image.height())
        for x in range(image.width())
        if _chroma(image.pixelColor(x, y)) > 40
    ]
    assert coloured == []


@pytest.mark.parametrize(("value", "status"), [(100.0, "warning"), (200.0, "alarm")])
def test_abnormal_band_and_border_take_the_palette_colour(
    qtbot: QtBot, theme: Theme, value: float, status: str
) -> None:
    tile = make_tile(qtbot)
    show(tile, value)
    assert tile.status() == status
    image = _grab(qtbot, tile)
    color = theme.alarm if status == "alarm" else theme.warning
    assert close(image.pixelColor(_band_middle(tile)), color)
    assert close(image.pixelColor(tile.width() // 2, 0), color)  # the border, top
    assert close(image.pixelColor(tile.width() - 1, tile.height() // 2), color)  # right
    other = theme.warning if status == "alarm" else theme.alarm
    assert not has_color(image, other, 6, step=2)


def test_stale_is_faded_without_severity_colour(qtbot: QtBot, theme: Theme) -> None:
    tile = make_tile(qtbot)
    show(tile, 200.0, stale=True)
    image = _grab(qtbot, tile)
    assert close(image.pixelColor(_band_middle(tile)), theme.stale)
    assert not has_color(image, theme.alarm, 30, step=2)
    assert not has_color(image, theme.warning, 30, step=2)
    # The value is faded: no pixel has the full text colour any more except the title's.
    value_area = image.copy(tile.band_rect().right() + 4, 50, tile.width() // 2, 50)
    assert not has_color(value_area, theme.chart_text, 8, step=2)


def test_the_sparkline_draws_the_last_hour(qtbot: QtBot) -> None:
    tile = make_tile(qtbot)
    tile.set_history(hour(30.0, 48.0))
    show(tile, 48.0)
    assert tile.sparkline().point_count() == 61
    image = _grab(qtbot, tile)
    spark = tile.sparkline().geometry()
    strip = image.copy(spark)
    assert has_color(strip, palette.CHART_TEXT_COLOR, 40, step=2)


def test_wall_theme_has_larger_type(qtbot: QtBot, tmp_path: Path) -> None:
    operator = make_tile(qtbot)
    palette.use_theme("wall")
    try:
        wall = make_tile(qtbot)
    finally:
        palette.use_theme(palette.DEFAULT_THEME)
    assert wall.minimumSizeHint().height() > operator.minimumSizeHint().height()
    show(wall, 200.0)
    image = _grab(qtbot, wall, 480, 270)
    assert close(image.pixelColor(_band_middle(wall)), palette.WALL.alarm)
    assert wall.grab().save(str(tmp_path / "kpi_tile_wall.png"))


def test_fits_at_its_minimum_size(qtbot: QtBot, theme: Theme) -> None:
    tile = make_tile(qtbot)
    tile.set_history(hour(30.0, 200.0))
    show(tile, 200.0)
    minimum = tile.minimumSizeHint()
    image = _grab(qtbot, tile, minimum.width(), minimum.height())
    assert tile.size() == minimum
    assert tile.sparkline().geometry().bottom() < tile.height()
    assert tile.sparkline().geometry().height() > 10
    assert close(image.pixelColor(_band_middle(tile)), theme.alarm)
