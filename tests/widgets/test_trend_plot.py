"""Trend plot: curves per metric, coalesced live appends, bounds, gaps, time axis and text."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from services.model import Reading
from widgets.trend_buffer import SeriesBuffer
from widgets.trend_plot import ALL_METRICS_TEXT, MAX_METRICS, TrendPlot

NOW = 1_760_000_000.0
WINDOW = 600.0


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_plot(qtbot: QtBot, clock: FakeClock | None = None, **kwargs: float) -> TrendPlot:
    plot = TrendPlot(
        window_seconds=kwargs.pop("window_seconds", WINDOW),
        max_points=int(kwargs.pop("max_points", 5000)),
        clock=clock or FakeClock(),
    )
    qtbot.addWidget(plot)
    plot.resize(800, 360)
    return plot


def readings(entity: str, metric: str, times: list[float], value: float = 1.0) -> list[Reading]:
    return [Reading(entity, metric, value + i, t, "feed", "") for i, t in enumerate(times)]


def curve_data(plot: TrendPlot, metric: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = plot.curve(metric).getOriginalDataset()
    assert x is not None
    assert y is not None
    return x, y


class SetDataCounter:
    """Wraps ``setData`` of one curve instance and counts the calls."""

    def __init__(self, curve: pg.PlotDataItem) -> None:
        self.calls = 0
        self._original = curve.setData

        def counting(*args: object, **kwargs: object) -> None:
            self.calls += 1
            self._original(*args, **kwargs)

        curve.setData = counting


def test_show_entity_builds_one_curve_per_metric_sorted(qtbot: QtBot) -> None:
    plot = make_plot(qtbot)
    plot.show_entity(
        "st-1",
        "Station 1",
        {
            "pm25": [(NOW - 30, 3.0), (NOW - 90, 1.0), (NOW - 60, 2.0)],
            "pressure": [(NOW - 60, 1012.0), (NOW - 30, 1013.0)],
        },
        {"pm25": "µg/m³", "pressure": "hPa"},
    )
    assert plot.entity_id() == "st-1"
    assert plot.title_text() == "Station 1"
    assert plot.metrics() == ["pm25", "pressure"]
    assert plot.point_count("pm25") == 3
    assert plot.point_count("pressure") == 2
    assert plot.curve("pm25") is not plot.curve("pressure")
    pens = {plot.curve(m).opts["pen"].color().name() for m in plot.metrics()}
    assert len(pens) == 2

    x, y = curve_data(plot, "pm25")
    np.testing.assert_array_equal(x, [NOW - 90, NOW - 60, NOW - 30])
    np.testing.assert_allclose(y, [0.0, 0.5, 1.0])  # normalised in "All" mode

    plot.set_selected_metric("pm25")
    assert plot.selected_metric() == "pm25"
    x, y = curve_data(plot, "pm25")
    np.testing.assert_array_equal(y, [1.0, 2.0, 3.0])  # real values on its own axis
    assert plot.y_label() == "pm25 (µg/m³)"
    assert plot.curve("pm25").isVisible()
    assert not plot.curve("pressure").isVisible()

    plot.set_selected_metric(None)
    assert plot.curve("pressure").isVisible()
    assert "normalised" in plot.y_label()
    with pytest.raises(KeyError):
        plot.set_selected_metric("nope")


def test_curves_are_configured_for_speed_and_gaps(qtbot: QtBot) -> None:
    plot = make_plot(qtbot)
    plot.show_entity("st-1", "S", {"pm25": [(NOW - 10, 1.0)]})
    curve = plot.curve("pm25")
    assert curve.opts["clipToView"] is True
    assert curve.opts["autoDownsample"] is True
    assert curve.opts["downsampleMethod"] == "peak"
    assert curve.opts["connect"] == "finite"
    assert isinstance(plot._plot.getAxis("bottom"), pg.DateAxisItem)


def test_append_for_another_entity_is_ignored(qtbot: QtBot) -> None:
    plot = make_plot(qtbot)
    plot.show_entity("st-1", "S", {"pm25": [(NOW - 60, 1.0)]})
    plot.append(readings("st-2", "pm25", [NOW - 5, NOW - 4]))
    plot.append(readings("st-2", "noise", [NOW - 5]))
    plot.append(readings("st-1", "pm25", [NOW - 3]))
    qtbot.waitUntil(lambda: plot.point_count("pm25") == 2)
    assert plot.metrics() == ["pm25"]
    x, _ = curve_data(plot, "pm25")
    np.testing.assert_array_equal(x, [NOW - 60, NOW - 3])


def test_append_before_show_entity_is_ignored(qtbot: QtBot) -> None:
    plot = make_plot(qtbot)
    plot.append(readings("st-1", "pm25", [NOW - 5]))
    assert plot.metrics() == []
    assert plot.entity_id() is None


def test_append_coalesces_until_the_timer_tick(qtbot: QtBot) -> None:
    plot = make_plot(qtbot)
    plot.show_entity("st-1", "S", {"pm25": [(NOW - 600, 1.0)], "no2": [(NOW - 600, 5.0)]})
    pm25 = SetDataCounter(plot.curve("pm25"))
    no2 = SetDataCounter(plot.curve("no2"))
    for batch in range(3):
        times = [NOW - 500 + batch * 100 + i * 0.1 for i in range(500)]
        plot.append(readings("st-1", "pm25", times))
    # Nothing is drawn per reading: the curve changes only when the timer fires.
    assert plot.point_count("pm25") == 1
    assert pm25.calls == 0
    qtbot.waitUntil(lambda: plot.point_count("pm25") == 1501)
    assert pm25.calls == 1
    assert no2.calls == 0  # unchanged curves are left alone
    x, _ = curve_data(plot, "pm25")
    assert bool(np.all(np.diff(x) >= 0))


def test_a_metric_appearing_later_gets_a_curve(qtbot: QtBot) -> None:
    plot = make_plot(qtbot)
    plot.show_entity("st-1", "S", {"pm25": [(NOW - 60, 1.0)]})
    plot.append([Reading("st-1", "noise", 55.0, NOW - 1, "feed", "dB")])
    assert plot.metrics() == ["pm25", "noise"]
    qtbot.waitUntil(lambda: plot.point_count("noise") == 1)
    assert plot.curve("noise").opts["pen"].color() != plot.curve("pm25").opts["pen"].color()
    plot.set_selected_metric("noise")
    assert plot.y_label() == "noise (dB)"


def test_units_from_show_entity_or_readings_reach_later_metrics(qtbot: QtBot) -> None:
    plot = make_plot(qtbot)
    plot.show_entity("st-1", "S", {"pm25": [(NOW - 60, 1.0)]}, {"no2": "ppb"})
    assert plot.metrics() == ["pm25"]  # a unit alone makes no curve
    plot.append(readings("st-1", "no2", [NOW - 2]))
    plot.append(readings("st-1", "pm25", [NOW - 1]))
    plot.append([Reading("st-1", "pm25", 3.0, NOW - 0.5, "feed", "µg/m³")])
    plot.set_selected_metric("no2")
    assert plot.y_label() == "no2 (ppb)"
    plot.set_selected_metric("pm25")
    qtbot.waitUntil(lambda: plot.point_count("pm25") == 3)
    assert plot.y_label() == "pm25 (µg/m³)"
    assert plot._selector.currentText() == "pm25 (µg/m³)"


def test_max_points_bound_keeps_the_newest_points(qtbot: QtBot) -> None:
    plot = make_plot(qtbot, max_points=100)
    history = [(NOW - 1000 + i, float(i)) for i in range(150)]
    plot.show_entity("st-1", "S", {"pm25": history})
    assert plot.point_count("pm25") == 100
    times = [NOW - 800 + i * 0.5 for i in range(1000)]
    for start in range(0, 1000, 70):
        plot.append(readings("st-1", "pm25", times[start : start + 70]))
    qtbot.waitUntil(lambda: curve_data(plot, "pm25")[0][-1] == times[-1])
    assert plot.point_count("pm25") == 100
    x, _ = curve_data(plot, "pm25")
    np.testing.assert_array_equal(x, times[-100:])


def test_late_points_are_inserted_in_time_order(qtbot: QtBot) -> None:
    plot = make_plot(qtbot)
    plot.show_entity("st-1", "S", {"pm25": [(NOW - 30, 3.0), (NOW - 10, 5.0)]})
    plot.append(readings("st-1", "pm25", [NOW - 20, NOW - 40, NOW - 5], value=10.0))
    qtbot.waitUntil(lambda: plot.point_count("pm25") == 5)
    plot.set_selected_metric("pm25")
    x, y = curve_data(plot, "pm25")
    np.testing.assert_array_equal(x, [NOW - 40, NOW - 30, NOW - 20, NOW - 10, NOW - 5])
    np.testing.assert_array_equal(y, [11.0, 3.0, 10.0, 5.0, 12.0])


batches = st.lists(
    st.lists(
        st.tuples(
            st.one_of(st.integers(0, 60).map(float), st.just(math.nan), st.just(math.inf)),
            st.one_of(st.floats(-1e6, 1e6), st.just(math.nan), st.just(-math.inf)),
        ),
        max_size=30,
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(max_points=st.integers(1, 20), batches=batches)
def test_series_buffer_matches_a_sorted_reference(
    qapp: QApplication, max_points: int, batches: list[list[tuple[float, float]]]
) -> None:
    buffer = SeriesBuffer(max_points, pg.PlotDataItem(), "")
    arrived: list[tuple[float, int, float]] = []
    for batch in batches:
        for ts, value in batch:
            buffer.pending_ts.append(ts)
            buffer.pending_vals.append(value)
            if math.isfinite(ts):
                clean = math.nan if math.isinf(value) else value
                arrived.append((ts, len(arrived), clean))
        buffer.flush()
        expected = sorted(arrived, key=lambda point: point[:2])[-max_points:]
        np.testing.assert_array_equal(buffer.times(), [p[0] for p in expected])
        np.testing.assert_array_equal(buffer.values(), [p[2] for p in expected])


def test_nan_gaps_empty_and_single_point_series_render(qtbot: QtBot) -> None:
    plot = make_plot(qtbot)
    plot.show_entity(
        "st-1",
        "S",
        {
            "pm25": [(NOW - 50, 1.0), (NOW - 40, math.nan), (NOW - 30, 3.0), (NOW - 20, 4.0)],
            "all_nan": [(NOW - 50, math.nan), (NOW - 40, math.nan)],
            "flat": [(NOW - 50, 7.0), (NOW - 40, 7.0)],
            "single": [(NOW - 25, 2.5)],
            "empty": [],
        },
    )
    plot.append(
        [
            Reading("st-1", "pm25", math.inf, NOW - 10, "feed"),
            Reading("st-1", "pm25", 9.0, math.nan, "feed"),
            Reading("st-1", "empty", math.nan, NOW - 5, "feed"),
        ]
    )
    plot.show()
    qtbot.waitExposed(plot)
    qtbot.waitUntil(lambda: plot.point_count("pm25") == 5)
    assert plot.point_count("all_nan") == 2
    assert plot.point_count("single") == 1
    assert plot.point_count("empty") == 1
    assert plot.point_count("unknown") == 0
    _, y = curve_data(plot, "pm25")
    assert math.isnan(y[1])
    assert math.isnan(y[-1])  # infinity is drawn as a gap
    _, flat = curve_data(plot, "flat")
    np.testing.assert_array_equal(flat, [0.5, 0.5])
    assert plot.curve("single").opts["symbol"] == "o"  # one point is drawn as a dot
    assert plot.curve("pm25").opts["symbol"] is None
    assert not plot.grab().isNull()
    for metric in plot.metrics():
        plot.set_selected_metric(metric)
        assert not plot.grab().isNull()


def test_x_range_follows_the_clock_only_when_following(qtbot: QtBot) -> None:
    clock = FakeClock()
    plot = make_plot(qtbot, clock)
    plot.show_entity("st-1", "S", {"pm25": [(NOW - 60, 1.0)]})
    assert plot.follow_live()
    assert plot.x_range() == pytest.approx((NOW - WINDOW, NOW))

    clock.now = NOW + 120
    qtbot.waitUntil(lambda: plot.x_range() == pytest.approx((NOW + 120 - WINDOW, NOW + 120)))

    plot.set_follow_live(False)
    clock.now = NOW + 500
    plot.append(readings("st-1", "pm25", [NOW + 499]))
    qtbot.waitUntil(lambda: plot.point_count("pm25") == 2)  # a tick has happened
    assert plot.x_range() == pytest.approx((NOW + 120 - WINDOW, NOW + 120))

    plot._follow.click()  # the operator ticks "Follow live" again: snap back at once
    assert plot.follow_live()
    assert plot.x_range() == pytest.approx((NOW + 500 - WINDOW, NOW + 500))


def test_zooming_the_time_axis_with_the_mouse_stops_following(qtbot: QtBot) -> None:
    clock = FakeClock()
    plot = make_plot(qtbot, clock)
    plot.show_entity("st-1", "S", {"pm25": [(NOW - 60, 1.0), (NOW - 30, 2.0)]})
    plot.show()
    qtbot.waitExposed(plot)
    viewport = plot._canvas.viewport()
    centre = QPointF(viewport.width() / 2, viewport.height() / 2)
    wheel = QWheelEvent(
        centre,
        QPointF(viewport.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, wheel)
    assert not plot.follow_live()
    zoomed = plot.x_range()
    assert zoomed[1] - zoomed[0] < WINDOW
    clock.now = NOW + 300
    plot.append(readings("st-1", "pm25", [NOW + 299]))
    qtbot.waitUntil(lambda: plot.point_count("pm25") == 3)
    assert plot.x_range() == pytest.approx(zoomed)


def test_thresholds_show_only_with_their_metric_on_its_own_axis(qtbot: QtBot) -> None:
    plot = make_plot(qtbot)
    plot.show_entity("st-1", "S", {"pm25": [(NOW - 60, 40.0)], "no2": [(NOW - 60, 20.0)]})
    plot.set_thresholds("pm25", 75.0, 115.0)
    assert plot.visible_thresholds() == {}  # normalised: no real unit to draw them in
    plot.set_selected_metric("pm25")
    assert plot.visible_thresholds() == {"warn": 75.0, "alarm": 115.0}
    assert plot._alarm_line.label.toPlainText() == "alarm 115"
    plot.set_thresholds("pm25", None, 100.0)
    assert plot.visible_thresholds() == {"alarm": 100.0}
    plot.set_selected_metric("no2")
    assert plot.visible_thresholds() == {}
    plot.set_selected_metric("pm25")
    plot.show_entity("st-2", "T", {"pm25": [(NOW - 60, 40.0)]})
    plot.set_selected_metric("pm25")
    assert plot.visible_thresholds() == {}


def test_hostile_title_and_metric_names_are_shown_verbatim(qtbot: QtBot) -> None:
    hostile = "<b>x</b><img src=y>"
    plot = make_plot(qtbot)
    plot.show_entity("st-1", hostile, {hostile: [(NOW - 60, 1.0), (NOW - 30, 2.0)]}, {})
    label = plot.findChild(QLabel, "trendTitle")
    assert label is not None
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert label.text() == hostile
    assert plot.title_text() == hostile
    legend_label = plot._legend.getLabel(plot.curve(hostile))
    assert legend_label.item.toPlainText().startswith(hostile)
    plot.set_selected_metric(hostile)
    assert plot._plot.getAxis("left").label.toPlainText().strip() == hostile
    assert not plot.grab().isNull()


def test_clear_empties_everything(qtbot: QtBot) -> None:
    plot = make_plot(qtbot)
    plot.show_entity("st-1", "S", {"pm25": [(NOW - 60, 1.0)], "no2": [(NOW - 60, 2.0)]})
    plot.set_selected_metric("no2")
    plot.set_thresholds("no2", 1.0, 2.0)
    curve = plot.curve("pm25")
    plot.clear()
    assert plot.entity_id() is None
    assert plot.metrics() == []
    assert plot.title_text() == ""
    assert plot.selected_metric() is None
    assert plot.visible_thresholds() == {}
    assert curve.scene() is None
    assert plot._legend.items == []
    assert plot._selector.count() == 1
    assert plot._selector.itemText(0) == ALL_METRICS_TEXT
    plot.append(readings("st-1", "pm25", [NOW - 1]))
    assert plot.metrics() == []


def test_show_entity_replaces_the_previous_entity(qtbot: QtBot) -> None:
    plot = make_plot(qtbot)
    plot.show_entity("st-1", "S", {"pm25": [(NOW - 60, 1.0)]})
    plot.show_entity("st-2", "T", {"no2": [(NOW - 60, 1.0), (NOW - 50, 2.0)]})
    assert plot.entity_id() == "st-2"
    assert plot.metrics() == ["no2"]
    assert plot.point_count("no2") == 2
    plot.append(readings("st-1", "pm25", [NOW - 1]))
    assert plot.metrics() == ["no2"]


def test_metric_count_is_capped(qtbot: QtBot) -> None:
    plot = make_plot(qtbot)
    plot.show_entity("st-1", "S", {})
    plot.append([Reading("st-1", f"m{i}", 1.0, NOW - 1, "feed") for i in range(MAX_METRICS + 10)])
    assert len(plot.metrics()) == MAX_METRICS
    assert plot._selector.count() == MAX_METRICS + 1


def test_rejects_bad_arguments(qtbot: QtBot) -> None:
    with pytest.raises(ValueError):
        TrendPlot(window_seconds=0)
    with pytest.raises(ValueError):
        TrendPlot(max_points=0)


def test_module_imports_only_the_model_from_services() -> None:
    source = Path(__file__).resolve().parents[2] / "widgets" / "trend_plot.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    modules |= {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not any(m and (m == "ui" or m.startswith("ui.")) for m in modules)
    services = {m for m in modules if m and m.startswith("services")}
    assert services == {"services.model"}


def test_many_points_with_gaps_render_in_every_mode(qtbot: QtBot) -> None:
    plot = make_plot(qtbot, window_seconds=3600.0, max_points=5000)
    rng = np.random.default_rng(7)
    times = np.sort(rng.uniform(NOW - 7200, NOW, 6000))
    values = rng.normal(size=times.size)
    values[rng.random(times.size) < 0.05] = np.nan
    mostly_nan = values.copy()
    mostly_nan[:5900] = np.nan
    plot.show_entity(
        "st-1",
        "S",
        {
            "a": list(zip(times, values, strict=True)),
            "b": list(zip(times, mostly_nan, strict=True)),
        },
    )
    plot.show()
    qtbot.waitExposed(plot)
    assert plot.point_count("a") == 5000
    for metric in [*plot.metrics(), None]:
        plot.set_selected_metric(metric)
        assert not plot.grab().isNull()
    plot.set_follow_live(False)
    plot._vb.setXRange(NOW - 9000, NOW - 8000, padding=0)  # a span with no data at all
    for metric in [*plot.metrics(), None]:
        plot.set_selected_metric(metric)
        assert not plot.grab().isNull()
