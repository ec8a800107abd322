"""Bar chart: bars stored by set_bars() and shown after refresh(), no repaint before it (or
for a refresh that changes nothing), bars scaled to the largest value, the priority named in
the label when its colour is used, and the colours in a grab (grey for a normal bar, the
palette's colour for a priority above zero, grey for a priority at zero), not pixel-exact
goldens; "No data" when there are no bars."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from services.model import Severity
from tests.helpers.pixels import PaintCounter, close, has_color
from widgets import palette
from widgets.bar_chart import Bar, BarChart
from widgets.palette import Theme

BARS = (
    Bar("Heshan", 12),
    Bar("Ziyang", 30),
    Bar("Flooding", 4, Severity.CRITICAL),
    Bar("Fires", 0, Severity.CRITICAL),
    Bar("Anhua", 0),
)
HESHAN, ZIYANG, FLOODING, FIRES, ANHUA = range(len(BARS))


def make_chart(qtbot: QtBot, bars: tuple[Bar, ...] = BARS) -> BarChart:
    chart = BarChart("Open alarms by district")
    qtbot.addWidget(chart)
    chart.set_bars(bars)
    chart.refresh()
    return chart


def test_bars_are_stored_and_shown_after_refresh(qtbot: QtBot) -> None:
    chart = BarChart("Open alarms by district")
    qtbot.addWidget(chart)
    assert chart.title() == "Open alarms by district"
    chart.set_bars(list(BARS))
    assert chart.bars() == BARS
    assert chart.shown_count() == 0  # stored, not shown yet
    assert chart.empty_text() == "No data"
    chart.refresh()
    assert chart.shown_count() == len(BARS)
    assert chart.empty_text() == ""
    assert [chart.label_text(i) for i in (HESHAN, ZIYANG, ANHUA)] == ["Heshan", "Ziyang", "Anhua"]
    assert [chart.value_text(i) for i in range(len(BARS))] == ["12", "30", "4", "0", "0"]


def test_values_as_counts_or_numbers(qtbot: QtBot) -> None:
    chart = make_chart(qtbot, (Bar("a", 12345), Bar("b", 2.345), Bar("c", float("nan"))))
    assert [chart.value_text(i) for i in range(3)] == ["12,345", "2.35", "\u2014"]


def test_a_priority_above_zero_is_named_in_its_label(qtbot: QtBot) -> None:
    chart = make_chart(qtbot)
    assert chart.label_text(FLOODING) == "Flooding (Critical)"
    assert chart.bar_color(FLOODING) == palette.current_theme().severities[Severity.CRITICAL]
    # At zero the priority's colour is not used, so its word is not needed either.
    assert chart.label_text(FIRES) == "Fires"
    assert chart.bar_color(FIRES) == palette.current_theme().normal
    assert chart.bar_color(HESHAN) == palette.current_theme().normal
    # A bar per priority is not named twice.
    chart.set_bars([Bar("High", 3, Severity.HIGH)])
    chart.refresh()
    assert chart.label_text(0) == "High"


def test_the_largest_value_has_the_longest_bar(qtbot: QtBot) -> None:
    chart = make_chart(qtbot)
    chart.resize(480, chart.sizeHint().height())
    widths = [chart.bar_rect(i).width() for i in range(len(BARS))]
    assert max(widths) == widths[ZIYANG]
    assert widths[ZIYANG] > widths[HESHAN] > widths[FLOODING] > widths[FIRES]
    assert widths[HESHAN] == pytest.approx(widths[ZIYANG] * 12 / 30, abs=2)
    assert widths[FLOODING] == pytest.approx(widths[ZIYANG] * 4 / 30, abs=2)
    # Zero bars are thin stubs, all alike, starting where the others start.
    assert widths[FIRES] == widths[ANHUA] <= 3
    assert len({chart.bar_rect(i).left() for i in range(len(BARS))}) == 1
    # The longest bar leaves room for its value inside the chart.
    assert chart.bar_rect(ZIYANG).right() < chart.width() - 20
    # Rows go down in the order given, without overlapping.
    tops = [chart.bar_rect(i).top() for i in range(len(BARS))]
    assert tops == sorted(tops)
    assert all(chart.bar_rect(i).bottom() < tops[i + 1] for i in range(len(BARS) - 1))


def test_set_bars_waits_for_refresh(qtbot: QtBot) -> None:
    chart = make_chart(qtbot, (Bar("Heshan", 12),))
    chart.resize(400, 160)
    chart.show()
    qtbot.waitExposed(chart)
    counter = PaintCounter()
    chart.installEventFilter(counter)
    qtbot.wait(50)
    counter.count = 0

    chart.set_bars([Bar("Heshan", 40)])
    qtbot.wait(100)
    assert counter.count == 0
    assert chart.value_text(0) == "12"

    chart.refresh()
    assert chart.value_text(0) == "40"
    qtbot.waitUntil(lambda: counter.count > 0)

    # The same bars again (a new but equal list): a refresh repaints nothing.
    qtbot.wait(50)
    counter.count = 0
    chart.set_bars([Bar("Heshan", 40)])
    chart.refresh()
    qtbot.wait(100)
    assert counter.count == 0
    chart.removeEventFilter(counter)


# --------------------------------------------------------------------------- pictures


def _grab(qtbot: QtBot, chart: BarChart, width: int = 480) -> QImage:
    chart.resize(width, chart.sizeHint().height())
    chart.show()
    qtbot.waitExposed(chart)
    image = chart.grab().toImage()
    return image.scaled(chart.size())  # one image pixel per widget pixel, whatever the DPR


def _middle(chart: BarChart, index: int) -> QPoint:
    rect = chart.bar_rect(index)
    return QPoint(rect.center().x(), rect.center().y())


def test_colours_at_the_bars(qtbot: QtBot, theme: Theme) -> None:
    chart = make_chart(qtbot)
    image = _grab(qtbot, chart)
    critical = theme.severities[Severity.CRITICAL]
    assert close(image.pixelColor(_middle(chart, HESHAN)), theme.normal)
    assert close(image.pixelColor(_middle(chart, ZIYANG)), theme.normal)
    assert close(image.pixelColor(_middle(chart, FLOODING)), critical)
    assert close(image.pixelColor(_middle(chart, FIRES)), theme.normal)  # critical, but 0
    assert close(image.pixelColor(_middle(chart, ANHUA)), theme.normal)
    assert close(image.pixelColor(chart.width() - 3, chart.height() - 3), theme.chart_background)


def test_no_priority_colour_without_a_priority_above_zero(qtbot: QtBot, theme: Theme) -> None:
    chart = make_chart(qtbot, (Bar("Heshan", 12), Bar("Fires", 0, Severity.CRITICAL)))
    image = _grab(qtbot, chart)
    assert close(image.pixelColor(_middle(chart, 0)), theme.normal)
    assert close(image.pixelColor(_middle(chart, 1)), theme.normal)
    for severity in theme.severities.values():
        assert not has_color(image, severity, 30), severity


def test_no_data_when_empty(qtbot: QtBot, theme: Theme) -> None:
    chart = make_chart(qtbot, ())
    assert chart.shown_count() == 0
    assert chart.empty_text() == "No data"
    assert "No data" in chart.accessibleDescription()
    image = _grab(qtbot, chart)
    # The words sit below the title, in the middle of the chart.
    middle = image.copy(0, chart.height() // 2, chart.width(), chart.height() // 2)
    assert has_color(middle, theme.chart_dim_text, 40)
    with pytest.raises(IndexError):
        chart.bar_rect(0)


def test_wall_theme_has_larger_type(qtbot: QtBot, tmp_path: Path) -> None:
    operator = make_chart(qtbot)
    operator_hint = operator.sizeHint()
    operator.resize(640, operator_hint.height())
    operator_bar = operator.bar_rect(ZIYANG)
    palette.use_theme("wall")
    try:
        wall = make_chart(qtbot)
        assert wall.sizeHint().height() > operator_hint.height()
        assert wall.sizeHint().width() > operator_hint.width()
        image = _grab(qtbot, wall, 640)
        assert wall.bar_rect(ZIYANG).height() > operator_bar.height()
        assert close(
            image.pixelColor(_middle(wall, FLOODING)), palette.WALL.severities[Severity.CRITICAL]
        )
        assert wall.grab().save(str(tmp_path / "bar_chart_wall.png"))
    finally:
        palette.use_theme(palette.DEFAULT_THEME)


def test_refresh_says_whether_what_is_shown_changed(qtbot: QtBot) -> None:
    chart = make_chart(qtbot)
    chart.set_bars(list(BARS))  # a new but equal list
    assert chart.refresh() is False
    chart.set_bars([Bar("Heshan", 13)])
    assert chart.refresh() is True
