"""Top table: rows only after refresh(), ranks 1..N, values with units, stale rows faded and
worded, alarm rows tinted and worded (normal rows plain), names never markup, "No data",
larger type on the wall."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QLabel
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from services.model import Severity
from widgets import palette
from widgets.table_model import KEY_ROLE
from widgets.top_table import TopColumn, TopRow, TopTable, TopTableModel

ROWS = [
    TopRow("aq-01", "Heshan AQ 01", 182.44, "µg/m³", severity=Severity.HIGH),
    TopRow("aq-07", "Ziyang AQ 07", 95.2, "µg/m³", stale=True),
    TopRow("aq-03", "Taojiang AQ 03", 48.23, "µg/m³"),
]


@pytest.fixture
def table(qtbot: QtBot) -> TopTable:
    widget = TopTable("Worst stations")
    qtbot.addWidget(widget)
    return widget


def cell(table: TopTable, row: int, column: int, role: int = Qt.ItemDataRole.DisplayRole) -> object:
    model = table.model()
    return model.data(model.index(row, column), role)


def test_rows_are_shown_only_after_refresh(table: TopTable) -> None:
    assert table.title() == "Worst stations"
    table.set_rows(ROWS)
    assert table.model().rowCount() == 0
    assert table.rows() == []
    assert table.is_empty()
    table.refresh()
    assert table.model().rowCount() == 3
    assert table.rows() == ROWS
    assert not table.is_empty()
    assert [cell(table, r, TopColumn.NAME) for r in range(3)] == [r.name for r in ROWS]
    assert [cell(table, r, 0, KEY_ROLE) for r in range(3)] == ["aq-01", "aq-07", "aq-03"]


def test_ranks_run_from_one_in_the_callers_order(table: TopTable) -> None:
    table.set_rows(ROWS)
    table.refresh()
    assert [cell(table, r, TopColumn.RANK) for r in range(3)] == ["1", "2", "3"]
    table.set_rows(list(reversed(ROWS)))
    table.refresh()
    assert [cell(table, r, TopColumn.RANK) for r in range(3)] == ["1", "2", "3"]
    assert [cell(table, r, TopColumn.NAME) for r in range(3)] == [
        "Taojiang AQ 03",
        "Ziyang AQ 07",
        "Heshan AQ 01",
    ]


def test_value_is_formatted_with_its_unit(table: TopTable) -> None:
    table.set_rows(
        [
            TopRow("aq-03", "Taojiang AQ 03", 48.23, "µg/m³"),
            TopRow("cp-1", "North checkpoint", 1912.4, "veh/h"),
            TopRow("cp-2", "South checkpoint", 7.0),
            TopRow("cp-3", "East checkpoint", float("nan"), "veh/h"),
        ]
    )
    table.refresh()
    assert [cell(table, r, TopColumn.VALUE) for r in range(4)] == [
        "48.2 µg/m³",
        "1912 veh/h",
        "7.00",
        "\u2014",
    ]
    alignment = cell(table, 0, TopColumn.VALUE, Qt.ItemDataRole.TextAlignmentRole)
    assert isinstance(alignment, int)
    assert alignment & int(Qt.AlignmentFlag.AlignRight)


def test_stale_rows_are_faded_italic_and_say_so(table: TopTable) -> None:
    table.set_rows(ROWS)
    table.refresh()
    assert cell(table, 1, TopColumn.VALUE) == "95.2 µg/m³ (stale)"
    for column in TopColumn:
        font = cell(table, 1, column, Qt.ItemDataRole.FontRole)
        assert isinstance(font, QFont) and font.italic()
        brush = cell(table, 1, column, Qt.ItemDataRole.ForegroundRole)
        assert isinstance(brush, QBrush)
        assert brush.color() == QColor(palette.current_theme().dim_text)
    tooltip = cell(table, 1, TopColumn.NAME, Qt.ItemDataRole.ToolTipRole)
    assert isinstance(tooltip, str) and "not live" in tooltip
    # A live row is neither.
    assert cell(table, 2, TopColumn.VALUE) == "48.2 µg/m³"
    assert cell(table, 2, TopColumn.NAME, Qt.ItemDataRole.FontRole) is None
    assert cell(table, 2, TopColumn.NAME, Qt.ItemDataRole.ForegroundRole) is None


def test_alarm_rows_are_tinted_and_name_the_priority(table: TopTable) -> None:
    table.set_rows(ROWS)
    table.refresh()
    expected = QColor(palette.current_theme().severities[Severity.HIGH])
    expected.setAlpha(palette.ROW_TINT_ALPHA)
    for column in TopColumn:
        brush = cell(table, 0, column, Qt.ItemDataRole.BackgroundRole)
        assert isinstance(brush, QBrush)
        assert brush.color() == expected
        tooltip = cell(table, 0, column, Qt.ItemDataRole.ToolTipRole)
        assert isinstance(tooltip, str) and "Priority: High" in tooltip
    # Never colour alone: the priority is written in the row.
    assert cell(table, 0, TopColumn.VALUE) == "182 µg/m³ · High"
    # Normal rows are plain.
    for row in (1, 2):
        for column in TopColumn:
            assert cell(table, row, column, Qt.ItemDataRole.BackgroundRole) is None
        tooltip = cell(table, row, TopColumn.NAME, Qt.ItemDataRole.ToolTipRole)
        assert isinstance(tooltip, str) and "Priority" not in tooltip


def test_each_priority_gets_its_own_tint(table: TopTable) -> None:
    table.set_rows([TopRow(f"e{s.value}", s.label, 1.0, severity=s) for s in Severity])
    table.refresh()
    for row, severity in enumerate(Severity):
        brush = cell(table, row, TopColumn.NAME, Qt.ItemDataRole.BackgroundRole)
        assert isinstance(brush, QBrush)
        assert brush.color().rgb() == QColor(palette.SEVERITY_COLORS[severity]).rgb()


def test_markup_in_a_name_is_shown_literally(table: TopTable) -> None:
    table.set_rows([TopRow("x", "<b>x</b> & <i>y</i>", 1.0)])
    table.refresh()
    assert cell(table, 0, TopColumn.NAME) == "<b>x</b> & <i>y</i>"
    tooltip = cell(table, 0, TopColumn.NAME, Qt.ItemDataRole.ToolTipRole)
    assert isinstance(tooltip, str)
    assert "&lt;b&gt;x&lt;/b&gt; &amp; &lt;i&gt;y&lt;/i&gt;" in tooltip
    assert "<b>" not in tooltip


def test_title_is_plain_text(qtbot: QtBot) -> None:
    widget = TopTable("<b>Busiest</b> checkpoints")
    qtbot.addWidget(widget)
    label = widget.findChild(QLabel, "topTableTitle")
    assert label is not None
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert label.text() == "<b>Busiest</b> checkpoints"


def test_no_data_line_when_empty(table: TopTable) -> None:
    assert table.is_empty()
    assert table.empty_text() == "No data"
    table.set_rows(ROWS)
    table.refresh()
    assert not table.is_empty()
    table.set_rows([])
    assert not table.is_empty()  # not before refresh
    table.refresh()
    assert table.is_empty()
    assert table.model().rowCount() == 0


def test_refresh_changes_the_model_only_when_the_rows_changed(
    table: TopTable, qtbot: QtBot
) -> None:
    model = table.model()
    table.set_rows(ROWS)
    table.refresh()
    with qtbot.assertNotEmitted(model.modelReset), qtbot.assertNotEmitted(model.dataChanged):
        table.set_rows(list(ROWS))
        table.refresh()
        table.refresh()
    # A changed value of the same entities in the same order: one dataChanged, no reset.
    changed = [ROWS[0], TopRow("aq-07", "Ziyang AQ 07", 99.0, "µg/m³", stale=True), ROWS[2]]
    with (
        qtbot.waitSignal(model.dataChanged, timeout=0),
        qtbot.assertNotEmitted(model.modelReset),
    ):
        table.set_rows(changed)
        table.refresh()
    assert cell(table, 1, TopColumn.VALUE) == "99.0 µg/m³ (stale)"
    # NaN equals NaN here: no endless repaints of a missing value.
    nan_rows = [TopRow("cp-3", "East checkpoint", float("nan"))]
    table.set_rows(nan_rows)
    table.refresh()
    with qtbot.assertNotEmitted(model.modelReset), qtbot.assertNotEmitted(model.dataChanged):
        table.set_rows([TopRow("cp-3", "East checkpoint", float("nan"))])
        table.refresh()


def test_an_entity_listed_twice_keeps_its_first_place(table: TopTable) -> None:
    table.set_rows([ROWS[0], ROWS[2], ROWS[0]])
    table.refresh()
    assert table.rows() == [ROWS[0], ROWS[2]]


def test_model_passes_qt_model_tester(qtmodeltester: ModelTester) -> None:
    model = TopTableModel()
    model.set_rows(ROWS)
    qtmodeltester.check(model, force_py=True)


@pytest.fixture
def wall() -> Iterator[palette.Theme]:
    yield palette.use_theme("wall")
    palette.use_theme(palette.DEFAULT_THEME)


def test_wall_theme_has_larger_type_and_its_own_tints(qtbot: QtBot, wall: palette.Theme) -> None:
    wall_table = TopTable("Worst stations")
    qtbot.addWidget(wall_table)
    palette.use_theme(palette.DEFAULT_THEME)
    operator_table = TopTable("Worst stations")
    qtbot.addWidget(operator_table)
    assert wall_table.table().font().pixelSize() > operator_table.table().font().pixelSize()
    assert (
        wall_table.table().verticalHeader().defaultSectionSize()
        > operator_table.table().verticalHeader().defaultSectionSize()
    )
    wall_table.set_rows(ROWS)
    wall_table.refresh()
    brush = cell(wall_table, 1, TopColumn.NAME, Qt.ItemDataRole.ForegroundRole)
    assert isinstance(brush, QBrush)
    assert brush.color() == QColor(wall.dim_text)


def test_refresh_says_whether_the_rows_changed(table: TopTable) -> None:
    table.set_rows(ROWS)
    assert table.refresh() is True
    table.set_rows(list(ROWS))  # a new but equal list
    assert table.refresh() is False
    table.set_rows(ROWS[:2])
    assert table.refresh() is True
