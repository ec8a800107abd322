"""Dashboard trend: nothing drawn before refresh(), the window clip, peak downsampling (a
spike among 100,000 points survives, the point count stays near twice the width), replace,
limit lines and the alarm band on the bad side, the stale word and fading, no repaint when
nothing changed, no mouse, and its colours in a grab (the alarm colour in the band and not
outside it, grey curves), not pixel-exact goldens."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QContextMenuEvent, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from tests.helpers.pixels import PaintCounter, close, has_color
from widgets import palette
from widgets.dashboard_trend import (
    BAND_ALPHA,
    CURVE_WIDTH,
    STALE_OPACITY,
    DashboardTrend,
    peak_downsample,
)
from widgets.palette import Theme

NOW = 1_760_000_000.0
WINDOW = 600.0


def make_trend(
    qtbot: QtBot,
    *,
    warn: float | None = 75.0,
    alarm: float | None = 150.0,
    thresholds: tuple[float, ...] = (),
    high_is_bad: bool | None = None,
    keys: tuple[str, ...] = ("a",),
    max_points: int = 100_000,
) -> DashboardTrend:
    trend = DashboardTrend(
        "PM2.5 over Heshan",
        "µg/m³",
        WINDOW,
        warn,
        alarm,
        thresholds,
        high_is_bad,
        max_points=max_points,
    )
    qtbot.addWidget(trend)
    for key in keys:
        trend.add_series(key, f"Station {key.upper()}")
    trend.resize(800, 360)
    return trend


def show(qtbot: QtBot, trend: DashboardTrend) -> None:
    trend.show()
    qtbot.waitExposed(trend)


def flat(value: float, count: int = 61, end: float = NOW) -> list[tuple[float, float]]:
    """``count`` points ten seconds apart up to ``end``, all at ``value``."""
    return [(end - 10 * (count - 1 - i), value) for i in range(count)]


class SetDataCounter:
    """Wraps ``setData`` of one curve instance and counts the calls."""

    def __init__(self, curve: pg.PlotDataItem) -> None:
        self.calls = 0
        original = curve.setData

        def counting(*args: object, **kwargs: object) -> None:
            self.calls += 1
            original(*args, **kwargs)

        curve.setData = counting


# --------------------------------------------------------------------------- data


def test_appended_points_are_drawn_by_refresh_not_before(qtbot: QtBot) -> None:
    trend = make_trend(qtbot)
    trend.refresh(NOW)
    assert trend.drawn_points("a")[0].size == 0
    for i, value in enumerate((40.0, 41.0, 42.0)):
        trend.append("a", NOW - 30 + 10 * i, value)
    x, _ = trend.curve("a").getOriginalDataset()
    assert x is None or len(x) == 0
    assert trend.drawn_points("a")[0].size == 0

    trend.refresh(NOW)
    x, y = trend.drawn_points("a")
    assert x.tolist() == [NOW - 30, NOW - 20, NOW - 10]
    assert y.tolist() == [40.0, 41.0, 42.0]
    curve_x, _ = trend.curve("a").getOriginalDataset()
    assert list(curve_x) == x.tolist()


def test_points_outside_the_window_are_not_drawn(qtbot: QtBot) -> None:
    trend = make_trend(qtbot)
    trend.set_points(
        "a",
        [
            (NOW - WINDOW - 10, 1.0),
            (NOW - WINDOW, 2.0),
            (NOW - 10, 3.0),
            (NOW + 5, 4.0),  # from a clock ahead of ours: not yet
        ],
    )
    trend.refresh(NOW)
    x, y = trend.drawn_points("a")
    assert x.tolist() == [NOW - WINDOW, NOW - 10]
    assert y.tolist() == [2.0, 3.0]

    trend.refresh(NOW + 60)
    x, _ = trend.drawn_points("a")
    assert x.tolist() == [NOW - 10, NOW + 5]


def test_the_time_axis_shows_the_window(qtbot: QtBot) -> None:
    trend = make_trend(qtbot)
    show(qtbot, trend)
    trend.refresh(NOW)
    low, high = trend.x_range()
    step = WINDOW / trend.plot_columns()
    assert high - low == pytest.approx(WINDOW)
    assert NOW <= high < NOW + step + 1e-6


def test_peak_downsampling_keeps_a_spike_and_bounds_the_count(qtbot: QtBot) -> None:
    trend = make_trend(qtbot, keys=("a", "b"))
    show(qtbot, trend)
    count = 100_000
    ts = NOW - WINDOW + (np.arange(count) + 0.5) * (WINDOW / count)
    wave = 40.0 + 5.0 * np.sin(np.arange(count) / 500.0)
    spiky = wave.copy()
    spiky[54_321] = 1000.0
    spiky[12_345] = -1000.0
    trend.set_points("a", list(zip(ts.tolist(), spiky.tolist(), strict=True)))
    trend.set_points("b", list(zip(ts.tolist(), wave.tolist(), strict=True)))
    trend.refresh(NOW)

    columns = trend.plot_columns()
    assert columns > 500  # the plot's width, not the lower bound
    for key in ("a", "b"):
        x, y = trend.drawn_points(key)
        assert columns < x.size <= 2 * (columns + 1)
        assert bool(np.all((x >= NOW - WINDOW) & (x <= NOW)))
        assert bool(np.all(np.diff(x) >= 0))
    x, y = trend.drawn_points("a")
    assert float(y.max()) == 1000.0
    assert float(y.min()) == -1000.0
    spike_at = float(x[int(np.argmax(y))])
    assert abs(spike_at - ts[54_321]) <= WINDOW / columns
    _, y_b = trend.drawn_points("b")
    assert float(y_b.max()) == pytest.approx(45.0, abs=0.01)
    assert trend.y_range()[1] > 1000.0
    assert trend.y_range()[0] < -1000.0


def test_few_points_are_drawn_as_they_are(qtbot: QtBot) -> None:
    trend = make_trend(qtbot)
    show(qtbot, trend)
    count = 2 * trend.plot_columns()
    points = [(NOW - WINDOW + (i + 1) * WINDOW / count, math.sin(i)) for i in range(count)]
    trend.set_points("a", points)
    trend.refresh(NOW)
    x, y = trend.drawn_points("a")
    assert x.tolist() == [t for t, _ in points]
    assert y.tolist() == [v for _, v in points]


def test_peak_downsample_by_time_buckets() -> None:
    ts = np.arange(100, dtype=np.float64)
    vals = ts % 10
    vals[55] = np.nan
    vals[70:80] = np.nan
    x, y = peak_downsample(ts, vals, 10.0)
    assert x.tolist()[:4] == [0.0, 9.0, 10.0, 19.0]
    assert y[0::2].tolist()[:7] == [0.0] * 7
    assert y[1::2].tolist()[:7] == [9.0] * 7  # a NaN among numbers is skipped
    assert math.isnan(y[14]) and math.isnan(y[15])  # a bucket of NaN only stays a gap
    # Buckets are aligned to absolute time: a later start changes only the first bucket.
    later_x, later_y = peak_downsample(ts[3:], vals[3:], 10.0)
    assert later_x.tolist()[:2] == [3.0, 9.0]
    assert later_x.tolist()[2:] == x.tolist()[2:]
    assert np.array_equal(later_y[2:], y[2:], equal_nan=True)


def test_set_points_replaces_points_and_pending_ones(qtbot: QtBot) -> None:
    trend = make_trend(qtbot)
    trend.set_points("a", flat(40.0))
    trend.refresh(NOW)
    assert trend.drawn_points("a")[0].size == 61
    trend.append("a", NOW - 1, 99.0)
    trend.set_points("a", [(NOW - 20, 7.0), (NOW - 40, 6.0)])  # any order
    trend.refresh(NOW)
    x, y = trend.drawn_points("a")
    assert x.tolist() == [NOW - 40, NOW - 20]
    assert y.tolist() == [6.0, 7.0]


def test_each_series_keeps_at_most_max_points(qtbot: QtBot) -> None:
    trend = make_trend(qtbot, max_points=10)
    for i in range(25):
        trend.append("a", NOW - 25 + i, float(i))
    trend.refresh(NOW)
    assert trend.drawn_points("a")[1].tolist() == [float(i) for i in range(15, 25)]


def test_series_need_unique_keys(qtbot: QtBot) -> None:
    trend = make_trend(qtbot)
    with pytest.raises(ValueError, match="exists"):
        trend.add_series("a", "again")
    with pytest.raises(KeyError):
        trend.append("nope", NOW, 1.0)
    with pytest.raises(ValueError, match="window_s"):
        DashboardTrend("x", "", 0.0)


def test_a_series_can_be_renamed_once_its_name_is_known(qtbot: QtBot) -> None:
    trend = make_trend(qtbot, keys=("a", "b"))
    trend.set_series_label("b", "<i>Zi River</i> · level")
    assert trend.series_label("b") == "<i>Zi River</i> · level"
    assert trend.legend_texts() == ["Station A", "<i>Zi River</i> · level"]  # plain, in order


# --------------------------------------------------------------------------- limits


def test_limit_lines_band_above_and_range_when_high_is_bad(qtbot: QtBot) -> None:
    trend = make_trend(qtbot, thresholds=(100.0, 120.0))
    trend.set_points("a", flat(40.0))
    trend.refresh(NOW)
    assert trend.threshold_lines() == [
        ("warn", 75.0),
        ("alarm", 150.0),
        ("threshold", 100.0),
        ("threshold", 120.0),
    ]
    low, high = trend.y_range()
    assert low < 40.0
    assert high > 150.0  # the limits are in view even while the data is far from them
    band = trend.alarm_band()
    assert band is not None
    assert band[0] == 150.0
    assert band[1] > high


@pytest.mark.parametrize(
    ("warn", "alarm", "high_is_bad"),
    [(85.0, 70.0, None), (None, 70.0, False)],
    ids=["warn above alarm", "told"],
)
def test_the_band_is_below_when_low_is_bad(
    qtbot: QtBot, warn: float | None, alarm: float, high_is_bad: bool | None
) -> None:
    trend = make_trend(qtbot, warn=warn, alarm=alarm, high_is_bad=high_is_bad)
    trend.set_points("a", flat(90.0))
    trend.refresh(NOW)
    assert trend.limits()[2] is False
    low, _ = trend.y_range()
    band = trend.alarm_band()
    assert band is not None
    assert band[1] == 70.0
    assert band[0] < low


def test_no_alarm_limit_no_band(qtbot: QtBot) -> None:
    trend = make_trend(qtbot, alarm=None)
    trend.refresh(NOW)
    assert trend.alarm_band() is None
    assert trend.threshold_lines() == [("warn", 75.0)]


# --------------------------------------------------------------------------- style


def test_series_are_greys_told_apart_by_dashes_and_the_legend(qtbot: QtBot, theme: Theme) -> None:
    trend = make_trend(qtbot, keys=("a", "b", "c"))
    assert trend.series_keys() == ["a", "b", "c"]
    assert trend.legend_texts() == ["Station A", "Station B", "Station C"]
    pens = [trend.curve(key).opts["pen"] for key in trend.series_keys()]
    greys = {QColor(theme.chart_text).name(), QColor(theme.chart_value).name()}
    assert {pen.color().name() for pen in pens} <= greys
    assert all(pen.widthF() == CURVE_WIDTH for pen in pens)
    patterns = [
        tuple(pen.dashPattern()) if pen.style() != Qt.PenStyle.SolidLine else () for pen in pens
    ]
    assert len(set(patterns)) == 3


def test_legend_text_is_plain(qtbot: QtBot) -> None:
    trend = make_trend(qtbot, keys=())
    trend.add_series("x", "<b>A&B</b>")
    assert trend.legend_texts() == ["<b>A&B</b>"]


def test_stale_says_so_and_fades_the_curves(qtbot: QtBot) -> None:
    trend = make_trend(qtbot, keys=("a", "b"))
    trend.refresh(NOW)
    trend.set_stale(True)
    assert not trend.is_stale()  # shown by the next refresh
    assert trend.stale_word() == ""
    trend.refresh(NOW)
    assert trend.is_stale()
    assert trend.stale_word() == "STALE"
    assert all(trend.curve(key).opacity() == STALE_OPACITY for key in ("a", "b"))
    trend.add_series("c", "later")
    assert trend.curve("c").opacity() == STALE_OPACITY
    trend.set_stale(False)
    trend.refresh(NOW)
    assert trend.stale_word() == ""
    assert all(trend.curve(key).opacity() == 1.0 for key in ("a", "b", "c"))


def test_wall_theme_has_larger_type(qtbot: QtBot) -> None:
    operator = make_trend(qtbot)
    palette.use_theme("wall")
    try:
        wall = make_trend(qtbot)
    finally:
        palette.use_theme(palette.DEFAULT_THEME)
    title = "dashboardTrendTitle"
    wall_px = wall.findChild(QLabel, title).font().pixelSize()
    operator_px = operator.findChild(QLabel, title).font().pixelSize()
    assert wall_px > operator_px


# --------------------------------------------------------------------------- repaints


def test_refresh_redraws_only_what_changed(qtbot: QtBot) -> None:
    trend = make_trend(qtbot)
    # Clear of the window's ends, so that moving "now" by a pixel changes no point.
    trend.set_points("a", flat(40.0, count=50, end=NOW - 20))
    show(qtbot, trend)
    trend.refresh(NOW)
    viewport = trend.plot_viewport()
    counter = PaintCounter()
    viewport.installEventFilter(counter)
    set_data = SetDataCounter(trend.curve("a"))
    qtbot.wait(50)
    counter.count = 0

    # Nothing new: no data given to the curve, nothing painted.
    trend.refresh(NOW)
    qtbot.wait(100)
    assert counter.count == 0
    assert set_data.calls == 0

    # A point without a refresh: nothing painted either.
    trend.append("a", NOW - 5, 41.0)
    qtbot.wait(100)
    assert counter.count == 0

    trend.refresh(NOW)
    assert set_data.calls == 1
    qtbot.waitUntil(lambda: counter.count > 0)

    # Time moving within the same pixel column moves nothing.
    step = WINDOW / trend.plot_columns()
    end = trend.x_range()[1]
    assert end - step < NOW <= end
    qtbot.wait(50)
    counter.count = 0
    trend.refresh(end - step / 2)
    qtbot.wait(100)
    assert counter.count == 0
    assert set_data.calls == 1
    assert trend.x_range()[1] == end

    # The next column: the axis moves and the plot repaints; the points shown are the same.
    trend.refresh(end + step / 2)
    assert trend.x_range()[1] == pytest.approx(end + step)
    qtbot.waitUntil(lambda: counter.count > 0)
    assert set_data.calls == 1
    viewport.removeEventFilter(counter)


def test_no_mouse_pan_zoom_or_menu(qtbot: QtBot) -> None:
    trend = make_trend(qtbot)
    trend.set_points("a", flat(40.0))
    show(qtbot, trend)
    trend.refresh(NOW)
    before = (trend.x_range(), trend.y_range())
    viewport = trend.plot_viewport()
    middle = viewport.rect().center()
    wheel = QWheelEvent(
        QPointF(middle),
        QPointF(viewport.mapToGlobal(middle)),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, wheel)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=middle)
    qtbot.mouseMove(viewport, middle + QPoint(120, 40))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=middle + QPoint(120, 40))
    menu = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse,
        middle,
        viewport.mapToGlobal(middle),
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, menu)
    qtbot.wait(50)
    assert (trend.x_range(), trend.y_range()) == before
    assert QApplication.activePopupWidget() is None


# --------------------------------------------------------------------------- pictures


def _grab(qtbot: QtBot, trend: DashboardTrend) -> QImage:
    show(qtbot, trend)
    image = trend.grab().toImage()
    return image.scaled(trend.size())  # one image pixel per widget pixel, whatever the DPR


def _blend(front: str, back: str, alpha: float) -> str:
    a, b = QColor(front), QColor(back)
    mixed = QColor(
        round(alpha * a.red() + (1 - alpha) * b.red()),
        round(alpha * a.green() + (1 - alpha) * b.green()),
        round(alpha * a.blue() + (1 - alpha) * b.blue()),
    )
    return mixed.name()


def _around(image: QImage, point: QPoint, radius: int = 1) -> list[QColor]:
    return [
        image.pixelColor(point.x() + dx, point.y() + dy)
        for dy in range(-radius, radius + 1)
        for dx in range(-radius, radius + 1)
    ]


def _rows(image: QImage, top: int, bottom: int, left: int, right: int) -> QImage:
    return image.copy(left, top, right - left, bottom - top)


@pytest.mark.parametrize("high_is_bad", [True, False])
def test_the_alarm_colour_is_in_the_band_and_not_outside(
    qtbot: QtBot, theme: Theme, high_is_bad: bool
) -> None:
    if high_is_bad:
        trend = make_trend(qtbot, warn=75.0, alarm=150.0)
        data, outside = 40.0, 110.0
    else:
        trend = make_trend(qtbot, warn=85.0, alarm=70.0)
        data, outside = 120.0, 100.0
    trend.resize(800, 400)
    show(qtbot, trend)
    trend.set_points("a", flat(data))
    trend.refresh(NOW)
    low, high = trend.y_range()
    band_color = _blend(theme.alarm, theme.chart_background, BAND_ALPHA)
    image = _grab(qtbot, trend)
    mid_time = NOW - WINDOW * 0.4  # clear of the legend (left) and the line labels (right)
    band_value = (high + 150.0) / 2 if high_is_bad else (low + 70.0) / 2
    in_band = trend.data_to_widget(mid_time, band_value)
    assert close(image.pixelColor(in_band), band_color), image.pixelColor(in_band).name()
    between = trend.data_to_widget(mid_time, outside)
    assert close(image.pixelColor(between), theme.chart_background)

    # The alarm line itself is drawn in the alarm colour, the warning line in its own.
    alarm = trend.limits()[1]
    warn = trend.limits()[0]
    assert alarm is not None and warn is not None
    line = trend.data_to_widget(mid_time, alarm)
    assert any(close(c, theme.alarm) for c in _around(image, line))
    line = trend.data_to_widget(mid_time, warn)
    assert any(close(c, theme.warning) for c in _around(image, line))

    # Between the limits and on the good side there is neither band nor alarm colour.
    plot_left = trend.data_to_widget(NOW - WINDOW, data).x() + 2
    plot_right = trend.data_to_widget(NOW, data).x() - 2
    a = trend.data_to_widget(mid_time, alarm).y()
    good_end = trend.data_to_widget(mid_time, low if high_is_bad else high).y()
    top, bottom = sorted((a, good_end))
    good_side = _rows(image, top + 3, bottom - 3, plot_left, plot_right)
    assert not has_color(good_side, band_color, 8, step=2)
    assert not has_color(good_side, theme.alarm, 30, step=2)


def test_curves_are_grey_without_severity_colours(qtbot: QtBot, theme: Theme) -> None:
    trend = make_trend(qtbot, warn=None, alarm=None, keys=("a", "b", "c"))
    for offset, key in enumerate(("a", "b", "c")):
        trend.set_points(key, [(t, v + 10 * offset + 5 * math.sin(t)) for t, v in flat(40.0)])
    trend.refresh(NOW)
    image = _grab(qtbot, trend)
    for severity in theme.severities.values():
        assert not has_color(image, severity, 30, step=2), severity
    point = trend.data_to_widget(NOW - 300, 40.0 + 5 * math.sin(NOW - 300))
    assert any(close(c, theme.chart_text, 40) for c in _around(image, point, 2))


def test_a_stale_curve_is_faded_in_the_picture(qtbot: QtBot, theme: Theme) -> None:
    trend = make_trend(qtbot, warn=None, alarm=None)
    trend.set_points("a", [(NOW - 590, 50.0), (NOW, 50.0)])
    trend.refresh(NOW)
    image = _grab(qtbot, trend)
    on_line = trend.data_to_widget(NOW - 250, 50.0)
    assert any(close(c, theme.chart_text) for c in _around(image, on_line))
    assert trend.stale_word() == ""

    trend.set_stale(True)
    trend.refresh(NOW)
    image = _grab(qtbot, trend)
    faded = _blend(theme.chart_text, theme.chart_background, STALE_OPACITY)
    assert not any(close(c, theme.chart_text) for c in _around(image, on_line))
    assert any(close(c, faded) for c in _around(image, on_line))
    assert trend.stale_word() == "STALE"
