"""The table skeleton: column definitions, keyed batches, counts, and the sort/filter proxy."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import pytest
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QTableView
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from tests.widgets.model_signals import SignalLog
from widgets.table_model import (
    KEY_ROLE,
    RIGHT,
    SORT_ROLE,
    KeyedSortProxy,
    KeyedTableModel,
    RowTableModel,
    TableColumn,
    coalesce,
    configure_table,
    runs,
)

DISPLAY = Qt.ItemDataRole.DisplayRole


@dataclass
class Row:
    key: str
    group: str = "a"
    value: float = 0.0
    keep: bool = True


class Col(enum.IntEnum):
    KEY = 0
    GROUP = 1
    VALUE = 2


COLUMNS: list[TableColumn[Row]] = [
    TableColumn("Key", lambda r: r.key, lambda r: r.key),
    TableColumn("Group", lambda r: r.group.upper(), lambda r: r.group),
    TableColumn("Value", lambda r: f"{r.value:g}", lambda r: r.value, RIGHT),
]


class RowModel(KeyedTableModel[Row]):
    """Rows keyed by ``key``, counted by ``group``; ``keep=False`` removes a row."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(COLUMNS, parent)

    def key_of(self, item: Row) -> str:
        return item.key

    def keeps(self, item: Row) -> bool:
        return item.keep

    def category(self, item: Row) -> str:
        return item.group

    def tooltip(self, item: Row, column: int) -> str:
        return f"{item.key} in {item.group}"


def keys(model: RowModel) -> list[str]:
    return [row.key for row in model.items()]


def test_runs_and_coalesce() -> None:
    assert runs([]) == []
    assert runs([1, 2, 3, 7, 9, 10]) == [(1, 3), (7, 7), (9, 10)]
    assert coalesce([1, 2, 3, 7, 9, 10], 3) == [(1, 3), (7, 7), (9, 10)]
    assert coalesce([1, 2, 3, 7, 9, 10], 2) == [(1, 3), (7, 10)]  # the smallest gap goes first
    assert coalesce([0, 10, 20], 1) == [(0, 20)]


def test_model_passes_qt_model_tester(qtmodeltester: ModelTester) -> None:
    model = RowModel()
    model.upsert([Row("x", value=1.5), Row("y", "b"), Row("z")])
    qtmodeltester.check(model, force_py=True)


def test_columns_give_text_sort_values_key_tooltip_and_alignment() -> None:
    model = RowModel()
    model.upsert([Row("x", "b", 2.5)])
    assert [model.index(0, c).data(DISPLAY) for c in Col] == ["x", "B", "2.5"]
    assert model.index(0, Col.GROUP).data(SORT_ROLE) == "b"
    assert model.index(0, Col.VALUE).data(SORT_ROLE) == 2.5
    assert model.index(0, Col.VALUE).data(KEY_ROLE) == "x"
    assert model.index(0, Col.KEY).data(Qt.ItemDataRole.ToolTipRole) == "x in b"
    assert model.index(0, Col.VALUE).data(Qt.ItemDataRole.TextAlignmentRole) == RIGHT
    assert model.index(0, Col.KEY).data(Qt.ItemDataRole.BackgroundRole) is None
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in Col]
    assert titles == ["Key", "Group", "Value"]
    assert model.headerData(Col.VALUE, Qt.Orientation.Horizontal, 7) == RIGHT  # alignment
    assert model.headerData(0, Qt.Orientation.Vertical) is None
    assert model.index(0, 5).data(DISPLAY) is None


def test_upsert_appends_changes_and_removes_in_one_batch() -> None:
    model = RowModel()
    model.upsert([Row("a"), Row("b"), Row("c"), Row("d")])
    log = SignalLog(model)
    model.upsert(
        [
            Row("b", value=1.0),
            Row("c", value=2.0),
            Row("a"),  # unchanged: nothing
            Row("d", keep=False),  # leaves the list
            Row("gone", keep=False),  # never listed: nothing
            Row("e"),
            Row("e", value=5.0),  # the last version in a batch wins
        ]
    )
    assert keys(model) == ["a", "b", "c", "e"]
    assert log.changed == [(1, 2, 0, len(Col) - 1)]  # adjacent rows: one signal
    assert log.removed == [(3, 3)]
    assert log.inserted == [(3, 3)]
    assert log.counts == 1
    assert model.row_of("e") == 3 and model.row_of("d") is None
    item = model.item("e")
    assert item is not None and item.value == 5.0
    assert model.item("d") is None


def test_model_keeps_its_own_copies() -> None:
    model = RowModel()
    mine = Row("a", value=1.0)
    model.upsert([mine])
    mine.value = 99.0
    assert model.item_at(0).value == 1.0
    with pytest.raises(IndexError):
        model.item_at(1)


def test_counts_by_category_and_when_they_are_announced() -> None:
    model = RowModel()
    log = SignalLog(model)
    model.upsert([Row("x", "a"), Row("y", "a"), Row("z", "b")])
    assert model.count_by_category() == {"a": 2, "b": 1}
    assert log.counts == 1
    model.upsert([Row("x", "a", value=3.0)])  # same category: no recount
    assert log.counts == 1
    model.upsert([Row("x", "b", value=3.0)])
    assert model.count_by_category() == {"a": 1, "b": 2}
    assert log.counts == 2
    model.remove(["y", "unknown"])
    assert model.count_by_category() == {"b": 2}
    assert log.counts == 3
    model.remove(["unknown"])
    assert log.counts == 3
    model.clear()
    assert model.count_by_category() == {}
    assert log.counts == 4 and log.resets == 1
    model.clear()  # already empty: nothing
    assert log.counts == 4 and log.resets == 1


def test_remove_sends_one_signal_per_run_and_reindexes() -> None:
    model = RowModel()
    model.upsert(Row(f"r{i}") for i in range(6))
    log = SignalLog(model)
    model.remove(["r1", "r2", "r4"])
    assert log.removed == [(4, 4), (1, 2)]  # last run first: earlier rows keep their places
    assert keys(model) == ["r0", "r3", "r5"]
    assert [model.row_of(key) for key in keys(model)] == [0, 1, 2]


def test_removing_most_of_a_long_list_resets_once() -> None:
    model = RowModel()
    model.upsert(Row(f"r{i:04d}", group=str(i % 3)) for i in range(1_000))
    log = SignalLog(model)
    # Two of every three rows: 333 runs, more than the signal budget, and most of the list.
    model.upsert(Row(f"r{i:04d}", keep=False) for i in range(1_000) if i % 3)
    assert log.resets == 1 and log.removed == []
    assert model.rowCount() == 334
    assert model.count_by_category() == {"0": 334}
    assert model.row_of("r0999") == 333


def test_row_table_model_resets_with_copies() -> None:
    model: RowTableModel[Row] = RowTableModel(COLUMNS)
    mine = [Row("b"), Row("a")]
    model.reset_items(mine)
    mine[0].value = 5.0
    assert [row.key for row in model.items()] == ["b", "a"]
    assert model.item_at(0).value == 0.0
    assert model.index(0, 0).data(KEY_ROLE) is None  # rows without keys


def proxy_keys(proxy: KeyedSortProxy) -> list[str]:
    return [proxy.index(row, 0).data(KEY_ROLE) for row in range(proxy.rowCount())]


def test_proxy_sorts_by_raw_value_then_tie_key() -> None:
    model = RowModel()
    model.upsert([Row("b", value=10.0), Row("c", value=2.0), Row("a", value=10.0)])
    proxy = KeyedSortProxy()
    proxy.setSourceModel(model)
    proxy.sort(Col.VALUE, Qt.SortOrder.AscendingOrder)
    assert proxy_keys(proxy) == ["c", "a", "b"]  # 2 < 10 = 10 (ties by key)
    proxy.sort(Col.VALUE, Qt.SortOrder.DescendingOrder)
    assert proxy_keys(proxy) == ["b", "a", "c"]  # ties reversed too
    model.upsert([Row("c", value=50.0)])  # dynamic by default: the order follows
    assert proxy_keys(proxy) == ["c", "b", "a"]


def test_static_proxy_holds_still_until_sorted_again() -> None:
    model = RowModel()
    model.upsert([Row("a", value=1.0), Row("b", value=2.0)])
    proxy = KeyedSortProxy(dynamic=False)
    proxy.setSourceModel(model)
    proxy.sort(Col.VALUE, Qt.SortOrder.AscendingOrder)
    model.upsert([Row("a", value=3.0)])
    assert proxy_keys(proxy) == ["a", "b"]
    proxy.sort(Col.VALUE, Qt.SortOrder.AscendingOrder)
    assert proxy_keys(proxy) == ["b", "a"]


def test_a_static_proxy_has_the_model_sort_and_selections_follow(qtbot: QtBot) -> None:
    """A static proxy leaves sorting to the model (one layout change, none when nothing
    moves); selected rows stay selected; new rows go where the order puts them."""
    model = RowModel()
    model.upsert([Row(key, value=value) for key, value in (("a", 3.0), ("b", 1.0), ("c", 2.0))])
    proxy = KeyedSortProxy(dynamic=False)
    proxy.setSourceModel(model)
    ModelTester(qtbot).check(proxy)
    table = QTableView()
    qtbot.addWidget(table)
    table.setModel(proxy)
    log = SignalLog(model)
    proxy.sort(Col.VALUE, Qt.SortOrder.AscendingOrder)
    assert proxy_keys(proxy) == ["b", "c", "a"] and proxy.sortColumn() == -1
    assert log.layouts == 1 and model.sorted_by == (Col.VALUE, False)
    proxy.sort(Col.VALUE, Qt.SortOrder.AscendingOrder)
    assert log.layouts == 1  # already in order: nothing sent

    table.selectRow(proxy_keys(proxy).index("a"))
    model.upsert([Row("a", value=0.5)])  # held still until sorted again
    assert proxy_keys(proxy) == ["b", "c", "a"]
    proxy.sort(Col.VALUE, Qt.SortOrder.DescendingOrder)
    assert proxy_keys(proxy) == ["c", "b", "a"]
    proxy.sort(Col.VALUE, Qt.SortOrder.AscendingOrder)
    assert proxy_keys(proxy) == ["a", "b", "c"]
    selected = [index.data(KEY_ROLE) for index in table.selectionModel().selectedRows()]
    assert selected == ["a"]  # the selection moved with its row

    model.upsert([Row("d", value=1.5), Row("e", value=9.0), Row("f", value=-1.0)])
    assert proxy_keys(proxy) == ["f", "a", "b", "d", "c", "e"]
    assert log.inserted == [(3, 3), (2, 2), (0, 0)]  # one per place, the last place first
    model.upsert([Row("b", keep=False)])
    model.upsert([Row("g", value=1.7)])
    assert proxy_keys(proxy) == ["f", "a", "d", "g", "c", "e"]
    model.reset_items([Row("y", value=2.0), Row("x", value=1.0)])
    assert proxy_keys(proxy) == ["x", "y"]  # a reset comes sorted too


def test_new_rows_for_many_places_are_one_insertion_and_selections_follow(qtbot: QtBot) -> None:
    """Each insertion moves a selection and runs its listeners again: new rows for more
    than a few places go in at once and are sorted in one layout change."""
    model = RowModel()
    model.upsert([Row(f"k{i:03d}", value=float(2 * i)) for i in range(100)])
    proxy = KeyedSortProxy(dynamic=False)
    proxy.setSourceModel(model)
    proxy.sort(Col.VALUE, Qt.SortOrder.AscendingOrder)
    table = QTableView()
    qtbot.addWidget(table)
    table.setModel(proxy)
    table.selectRow(0)
    log = SignalLog(model)
    model.upsert([Row(f"n{i:03d}", value=float(2 * i + 1)) for i in range(0, 100, 10)])
    assert len(log.inserted) == 1 and log.layouts == 1
    assert proxy_keys(proxy)[:3] == ["k000", "n000", "k001"]
    selected = [index.data(KEY_ROLE) for index in table.selectionModel().selectedRows()]
    assert selected == ["k000"]


def test_many_new_places_are_one_insertion_and_one_sort() -> None:
    model = RowModel()
    model.upsert([Row(f"k{i:04d}", value=float(2 * i)) for i in range(600)])
    proxy = KeyedSortProxy(dynamic=False)
    proxy.setSourceModel(model)
    proxy.sort(Col.VALUE, Qt.SortOrder.AscendingOrder)
    log = SignalLog(model)
    model.upsert([Row(f"n{i:04d}", value=float(2 * i + 1)) for i in range(600)])
    assert len(log.inserted) == 1 and log.layouts == 1  # not 600 insertions
    values = [
        model.item_at(proxy.mapToSource(proxy.index(row, 0)).row()).value for row in range(1200)
    ]
    assert values == [float(v) for v in range(1200)]


def test_proxy_row_filter() -> None:
    model = RowModel()
    model.upsert([Row("a", "x"), Row("b", "y"), Row("c", "x")])
    proxy = KeyedSortProxy()
    proxy.setSourceModel(model)
    proxy.sort(Col.KEY, Qt.SortOrder.AscendingOrder)
    proxy.set_row_filter(lambda row: row.group == "x")
    assert proxy_keys(proxy) == ["a", "c"]
    model.upsert([Row("d", "x"), Row("e", "y")])
    assert proxy_keys(proxy) == ["a", "c", "d"]
    proxy.set_row_filter(None)
    assert proxy_keys(proxy) == ["a", "b", "c", "d", "e"]


def test_configure_table(qtbot: QtBot) -> None:
    table = QTableView()
    qtbot.addWidget(table)
    configure_table(table, 23, multi_select=True)
    assert table.selectionBehavior() == QTableView.SelectionBehavior.SelectRows
    assert table.selectionMode() == QTableView.SelectionMode.ExtendedSelection
    assert table.editTriggers() == QTableView.EditTrigger.NoEditTriggers
    assert not table.showGrid() and not table.wordWrap()
    assert not table.verticalHeader().isVisible()
    assert table.verticalHeader().defaultSectionSize() == 23
    configure_table(table, 23)
    assert table.selectionMode() == QTableView.SelectionMode.SingleSelection
