"""The table skeleton every CityOps list builds on: column definitions, a keyed model fed in
batches, its sort/filter proxy and the settings their table views share.

* :class:`TableColumn`: a column's title, cell text, raw sort value and alignment.
* :class:`RowTableModel`: a flat, read-only table of plain values (one per row) shown
  through column definitions; subclasses add tooltips, colours and fonts by overriding
  :meth:`~RowTableModel.tooltip`, :meth:`~RowTableModel.background`,
  :meth:`~RowTableModel.foreground` and :meth:`~RowTableModel.font`.
* :class:`KeyedTableModel`: rows keyed by a string id, changed with batched
  :meth:`~KeyedTableModel.upsert` and :meth:`~KeyedTableModel.remove` that send few
  signals, row lookup by key, and counts of rows by category (a state, say).
* :class:`KeyedSortProxy`: sorts by the raw value of the clicked column, ties broken by
  the model's :meth:`~KeyedTableModel.tie_key`; optionally filters rows by a predicate.
* :func:`configure_table`: one-line rows, row selection, no grid, no editing.

Models keep their own copies of the values they are given, so that callers mutating
their objects cannot change rows behind the views' backs.
"""

from __future__ import annotations

import copy
import logging
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

log = logging.getLogger(__name__)

SORT_ROLE = Qt.ItemDataRole.UserRole
"""Raw sortable value of a cell (a rank, an epoch time, a count, a casefolded name...)."""
KEY_ROLE = Qt.ItemDataRole.UserRole + 1
"""The key of the row (same for every column)."""

RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
"""Alignment of numeric columns."""
CENTER = int(Qt.AlignmentFlag.AlignCenter)
"""Alignment of short status columns."""

MAX_INSERT_PLACES = 4
"""New rows going to more places than this in a sorted model are inserted at once and
sorted in one layout change: each insertion moves a view's selection and runs its
listeners again (thousands of selected alarms made a flood of new ones take seconds)."""

MAX_SIGNAL_RUNS = 256
"""At most this many ``dataChanged`` signals per batch and column span: nearby runs of
changed rows are merged until the count fits."""

AnyIndex = QModelIndex | QPersistentModelIndex
SortValue = int | float | str
ColumnSpans = tuple[tuple[int, int], ...]

T = TypeVar("T")


@dataclass(frozen=True)
class TableColumn(Generic[T]):
    """One column: its title, the text of a cell, the raw value it sorts by, its alignment."""

    title: str
    text: Callable[[T], str]
    sort_key: Callable[[T], SortValue]
    alignment: int | None = None
    """Alignment of the cells and the header (None: the style's default)."""


def runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Contiguous ``(first, last)`` runs of sorted, distinct ``rows``."""
    found: list[tuple[int, int]] = []
    for row in rows:
        if found and row == found[-1][1] + 1:
            found[-1] = (found[-1][0], row)
        else:
            found.append((row, row))
    return found


def coalesce(rows: Sequence[int], max_runs: int) -> list[tuple[int, int]]:
    """Runs of sorted ``rows``, merging across the smallest gaps until at most ``max_runs``."""
    found = runs(rows)
    if len(found) <= max_runs:
        return found
    gaps = sorted(found[i + 1][0] - found[i][1] for i in range(len(found) - 1))
    widest_merged_gap = gaps[len(found) - max_runs - 1]
    merged = [found[0]]
    for first, last in found[1:]:
        if first - merged[-1][1] <= widest_merged_gap:
            merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return merged


class RowTableModel(QAbstractTableModel, Generic[T]):
    """A flat, read-only table: one plain value per row, shown through column definitions."""

    def __init__(self, columns: Sequence[TableColumn[T]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._columns = tuple(columns)
        self._sort_keys = [column.sort_key for column in self._columns]
        self._items: list[T] = []
        self._brushes: dict[tuple[str, int], QBrush] = {}

    # ------------------------------------------------------------ Qt model API

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """Number of rows (0 under a valid parent: this is a flat table)."""
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """Number of columns."""
        return 0 if parent.isValid() else len(self._columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles and alignments."""
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return QCoreApplication.translate("Column", self._columns[section].title)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._columns[section].alignment
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, raw sort values, the row's key, tooltips, colours, fonts, alignment."""
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if not (0 <= row < len(self._items) and 0 <= column < len(self._columns)):
            return None
        item = self._items[row]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._columns[column].text(item)
        if role == SORT_ROLE:
            return self._sort_keys[column](item)
        if role == KEY_ROLE:
            return self.key_of(item)
        if role == Qt.ItemDataRole.BackgroundRole:
            return self.background(item, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.foreground(item, column)
        if role == Qt.ItemDataRole.FontRole:
            return self.font(item, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(item, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._columns[column].alignment
        return None

    # ------------------------------------------------------------ for subclasses

    def key_of(self, item: T) -> Any:
        """What :data:`KEY_ROLE` gives for ``item``'s row (None: rows have no key)."""
        return None

    def tooltip(self, item: T, column: int) -> str | None:
        """Tooltip of a cell (None: none)."""
        return None

    def background(self, item: T, column: int) -> QBrush | None:
        """Background of a cell (None: the view's)."""
        return None

    def foreground(self, item: T, column: int) -> QBrush | None:
        """Text colour of a cell (None: the view's)."""
        return None

    def font(self, item: T, column: int) -> QFont | None:
        """Font of a cell (None: the view's)."""
        return None

    def brush(self, hex_color: str, alpha: int = 255) -> QBrush:
        """A brush of ``hex_color`` at opacity ``alpha`` (0-255), made once and reused."""
        brush = self._brushes.get((hex_color, alpha))
        if brush is None:
            color = QColor(hex_color)
            color.setAlpha(alpha)
            brush = self._brushes[hex_color, alpha] = QBrush(color)
        return brush

    # ------------------------------------------------------------------ queries

    def item_at(self, row: int) -> T:
        """The value shown in source ``row`` (IndexError when out of range)."""
        if not 0 <= row < len(self._items):
            raise IndexError(f"no row {row}")
        return self._items[row]

    def items(self) -> list[T]:
        """Every value, in source row order."""
        return list(self._items)

    def sort_value(self, item: T, column: int) -> SortValue:
        """The raw value :data:`SORT_ROLE` gives for ``item`` in ``column``."""
        return self._sort_keys[column](item)

    # ------------------------------------------------------------------ changes

    def reset_items(self, items: Iterable[T]) -> None:
        """Show exactly ``items`` (copies of them), with one model reset."""
        self._reset([copy.copy(item) for item in items])

    def _reset(self, items: list[T]) -> None:
        self.beginResetModel()
        self._items = items
        self._after_reset()
        self.endResetModel()

    def _after_reset(self) -> None:
        """Rebuild what subclasses derive from the rows (called inside the reset)."""


class KeyedTableModel(RowTableModel[T]):
    """Rows keyed by a string id, changed in batches with few signals.

    Subclasses say what the key of a value is (:meth:`key_of`), which values stay listed
    (:meth:`keeps`), what the rows are counted by (:meth:`category`), which columns a
    change touches (:meth:`changed_columns`) and how ties sort (:meth:`tie_key`).
    """

    countsChanged = Signal()
    """Emitted once after each batch that added or removed rows or changed a category."""

    def __init__(self, columns: Sequence[TableColumn[T]], parent: QObject | None = None) -> None:
        super().__init__(columns, parent)
        self._rows: dict[str, int] = {}
        self._counts: Counter[Hashable] = Counter()
        self._sorted_by: tuple[int, bool] | None = None
        """(column, descending) of :meth:`sort_rows`; None: rows in the order they came."""
        self._sorted_keys: list[tuple[SortValue, tuple[SortValue, ...]]] | None = None
        """Each row's sort key when it was sorted or inserted (sorted, row for row)."""

    # ------------------------------------------------------------ for subclasses

    def key_of(self, item: T) -> str:
        """The key of ``item``'s row."""
        raise NotImplementedError

    def keeps(self, item: T) -> bool:
        """Whether ``item`` stays listed; an upsert of a value that does not removes its row."""
        return True

    def category(self, item: T) -> Hashable:
        """What :meth:`count_by_category` counts ``item`` under (a state, say)."""
        return None

    def changed_columns(self, old: T, new: T) -> ColumnSpans:
        """Spans of adjacent columns whose cells differ for ``new`` (empty: none to repaint)."""
        return ((0, len(self._columns) - 1),)

    def tie_key(self, item: T) -> tuple[SortValue, ...]:
        """What rows with equal sort values are ordered by (the key by default)."""
        return (self.key_of(item),)

    # ------------------------------------------------------------------ queries

    def item(self, key: str) -> T | None:
        """The value of the row keyed ``key``, or None when there is none."""
        row = self._rows.get(key)
        return None if row is None else self._items[row]

    def row_of(self, key: str) -> int | None:
        """The source row keyed ``key``, or None."""
        return self._rows.get(key)

    def count_by_category(self) -> dict[Any, int]:
        """How many rows are in each category (categories with none are left out)."""
        return {category: n for category, n in self._counts.items() if n > 0}

    # ------------------------------------------------------------------ changes

    def upsert(self, items: Iterable[T]) -> None:
        """Apply a batch of new or changed values; the last value of a key in it wins.

        New rows are appended with one insertion per batch. Changed rows are announced
        with ``dataChanged`` over runs of adjacent rows and only the columns that changed,
        merging nearby runs so that a batch sends a bounded number of signals; values the
        model does not keep take their rows away (see :meth:`_remove_rows`). Unchanged
        values send nothing.
        """
        latest: dict[str, T] = {}
        for item in items:
            latest[self.key_of(item)] = item
        changed: dict[ColumnSpans, list[int]] = {}
        removed: list[int] = []
        added: list[T] = []
        recounted = False
        for key, item in latest.items():
            row = self._rows.get(key)
            if row is None:
                if self.keeps(item):
                    added.append(copy.copy(item))
            elif not self.keeps(item):
                removed.append(row)
            else:
                old = self._items[row]
                if old == item:
                    continue
                new = self._items[row] = copy.copy(item)
                old_category, new_category = self.category(old), self.category(new)
                if old_category != new_category:
                    self._counts[old_category] -= 1
                    self._counts[new_category] += 1
                    recounted = True
                spans = self.changed_columns(old, new)
                if spans:
                    changed.setdefault(spans, []).append(row)
        for spans, rows in changed.items():
            for first, last in coalesce(sorted(rows), MAX_SIGNAL_RUNS):
                for first_column, last_column in spans:
                    self.dataChanged.emit(
                        self.index(first, first_column), self.index(last, last_column)
                    )
        self._remove_rows(sorted(removed))
        self._append(added)
        if recounted or removed or added:
            self.countsChanged.emit()

    def remove(self, keys: Iterable[str]) -> None:
        """Take the rows of ``keys`` off the list; unknown keys are ignored."""
        rows = sorted({row for row in (self._rows.get(key) for key in keys) if row is not None})
        self._remove_rows(rows)
        if rows:
            self.countsChanged.emit()

    def clear(self) -> None:
        """Remove every row."""
        if not self._items:
            return
        self._reset([])
        self.countsChanged.emit()

    def _after_reset(self) -> None:
        if self._sorted_by is not None:  # inside the reset: no layout change to send
            keys = self._order_keys(self._items)
            order = sorted(range(len(keys)), key=keys.__getitem__, reverse=self._sorted_by[1])
            self._items[:] = [self._items[row] for row in order]
            self._sorted_keys = [keys[row] for row in order]
        self._rows = {self.key_of(item): row for row, item in enumerate(self._items)}
        self._counts = Counter(self.category(item) for item in self._items)

    def _order_keys(self, items: Sequence[T]) -> list[tuple[SortValue, tuple[SortValue, ...]]]:
        """What ``items`` sort by under :attr:`_sorted_by`."""
        assert self._sorted_by is not None
        sort_key, tie_key = self._sort_keys[self._sorted_by[0]], self.tie_key
        return [(sort_key(item), tie_key(item)) for item in items]

    @property
    def sorted_by(self) -> tuple[int, bool] | None:
        """(column, descending) the rows were last put in order by (None: as they came)."""
        return self._sorted_by

    def sort_rows(self, column: int, *, descending: bool) -> bool:
        """Put the rows in the order of ``column``'s sort value, ties by :meth:`tie_key`
        (both reversed when ``descending``), as one layout change that moves persistent
        indexes (selections) along; nothing is sent when the order is already right.
        Returns whether rows moved. From then on new rows are inserted where that order
        puts them, while changed rows keep their places until the next sort.

        Sorting here, in one Python ``sorted``, costs a few milliseconds for thousands of
        rows, where a sorting proxy calls back into Python for every comparison."""
        if not 0 <= column < len(self._columns):
            return False
        self._sorted_by = (column, descending)
        items = self._items
        keys = self._order_keys(items)
        order = sorted(range(len(items)), key=keys.__getitem__, reverse=descending)
        self._sorted_keys = [keys[row] for row in order]
        if all(old == new for new, old in enumerate(order)):
            return False
        self.layoutAboutToBeChanged.emit()
        moved_to = [0] * len(order)
        for new, old in enumerate(order):
            moved_to[old] = new
        before = self.persistentIndexList()
        create = self.createIndex  # index() would ask rowCount() for each one
        after = [create(moved_to[index.row()], index.column()) for index in before]
        self._items = [items[row] for row in order]
        self._rows = {self.key_of(item): row for row, item in enumerate(self._items)}
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()
        return True

    def _remove_rows(self, rows: list[int]) -> None:
        """Remove sorted, distinct ``rows``: one removal per run of adjacent rows (a layout
        change would make a sorting proxy re-sort every row), or one reset when most of a
        long list goes."""
        if not rows:
            return
        found = runs(rows)
        if len(found) > MAX_SIGNAL_RUNS and 2 * len(rows) > len(self._items):
            gone = set(rows)
            self._reset([item for row, item in enumerate(self._items) if row not in gone])
            return
        for row in rows:
            self._counts[self.category(self._items[row])] -= 1
        keys = self._sorted_keys
        for first, last in reversed(found):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._items[first : last + 1]
            if keys is not None:
                del keys[first : last + 1]
            self.endRemoveRows()
        self._reindex(rows[0])

    def _reindex(self, start: int) -> None:
        index = self._rows
        for key in [key for key, row in index.items() if row >= start]:
            del index[key]
        for row in range(start, len(self._items)):
            index[self.key_of(self._items[row])] = row

    def _append(self, items: list[T]) -> None:
        if not items:
            return
        if self._sorted_by is not None and self._sorted_keys is not None:
            self._insert_sorted(items)
            return
        first = len(self._items)
        self.beginInsertRows(QModelIndex(), first, first + len(items) - 1)
        self._items.extend(items)
        for row, item in enumerate(items, start=first):
            self._rows[self.key_of(item)] = row
            self._counts[self.category(item)] += 1
        self.endInsertRows()

    def _insert_sorted(self, items: list[T]) -> None:
        """Insert new rows where the current sort puts them: one insertion per place, or,
        past :data:`MAX_INSERT_PLACES` places, all at the end followed by one sort."""
        assert self._sorted_by is not None and self._sorted_keys is not None
        column, descending = self._sorted_by
        keys = self._sorted_keys
        new_keys = self._order_keys(items)
        order = sorted(range(len(items)), key=new_keys.__getitem__, reverse=descending)
        places: list[tuple[int, list[int]]] = []  # (insertion row, new items going there)
        for index in order:
            place = _insertion_row(keys, new_keys[index], descending=descending)
            if places and places[-1][0] == place:
                places[-1][1].append(index)
            else:
                places.append((place, [index]))
        for item in items:
            self._counts[self.category(item)] += 1
        if len(places) > MAX_INSERT_PLACES:
            first = len(self._items)
            self.beginInsertRows(QModelIndex(), first, first + len(items) - 1)
            self._items.extend(items)
            keys.extend(new_keys)  # out of order until the sort just below
            self._reindex(first)
            self.endInsertRows()
            self.sort_rows(column, descending=descending)
            return
        for place, indexes in reversed(places):
            self.beginInsertRows(QModelIndex(), place, place + len(indexes) - 1)
            self._items[place:place] = [items[index] for index in indexes]
            keys[place:place] = [new_keys[index] for index in indexes]
            self.endInsertRows()
        self._reindex(places[0][0])  # once: row_of() is right again after the last insertion


class KeyedSortProxy(QSortFilterProxyModel):
    """Sorts by the clicked column's raw value, then by the model's tie key.

    A descending sort reverses the tie-breaks too. With ``dynamic=False`` the rows keep
    their places until :meth:`sort` is called again (a busy list then holds still), and
    the sorting is done by the model (see :meth:`sort`).
    """

    def __init__(self, parent: QObject | None = None, *, dynamic: bool = True) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(dynamic)
        self._keyed: KeyedTableModel[Any] | None = None
        self._accepts: Callable[[Any], bool] | None = None

    def setSourceModel(self, model: QAbstractItemModel) -> None:
        """Set the source; a :class:`KeyedTableModel` gets the direct comparison path."""
        super().setSourceModel(model)
        self._keyed = model if isinstance(model, KeyedTableModel) else None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by ``column``. A static proxy over a :class:`KeyedTableModel` has the model
        put its own rows in order (:meth:`KeyedTableModel.sort_rows`) and itself keeps the
        model's order, so no comparison calls back into Python; rows added later go where
        that order puts them, changed ones keep their places until the next sort. Otherwise
        Qt sorts, calling :meth:`lessThan`."""
        model = self._keyed
        if self.dynamicSortFilter() or model is None:
            super().sort(column, order)
            return
        if column >= 0:
            model.sort_rows(column, descending=order == Qt.SortOrder.DescendingOrder)

    def set_row_filter(self, accepts: Callable[[Any], bool] | None) -> None:
        """Show only the rows whose value ``accepts``; None shows every row."""
        if hasattr(self, "beginFilterChange"):  # Qt 6.9 and later
            self.beginFilterChange()
            self._accepts = accepts
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # Qt 6.8: deprecated from 6.9 on
            self._accepts = accepts
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        """Apply the row filter (see :meth:`set_row_filter`)."""
        accepts, model = self._accepts, self._keyed
        if accepts is None or model is None:
            return True
        return bool(accepts(model.item_at(source_row)))

    def lessThan(self, left: AnyIndex, right: AnyIndex) -> bool:
        """Compare by column value, then by tie key."""
        model = self._keyed
        if model is None:
            return bool(super().lessThan(left, right))
        items = model._items
        a = items[left.row()]
        b = items[right.row()]
        key = model._sort_keys[left.column()]
        a_key = key(a)
        b_key = key(b)
        if a_key != b_key:
            return a_key < b_key  # type: ignore[operator]
        return model.tie_key(a) < model.tie_key(b)


def configure_table(table: QTableView, row_height: int, *, multi_select: bool = False) -> None:
    """Settings every CityOps table shares: read-only one-line rows of ``row_height``
    pixels, whole-row selection (one row, or several with ``multi_select``), no grid, no
    row numbers, interactive column widths."""
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(
        QAbstractItemView.SelectionMode.ExtendedSelection
        if multi_select
        else QAbstractItemView.SelectionMode.SingleSelection
    )
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(False)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setCornerButtonEnabled(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    vertical = table.verticalHeader()
    vertical.setVisible(False)
    vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    vertical.setDefaultSectionSize(row_height)
    horizontal = table.horizontalHeader()
    horizontal.setHighlightSections(False)
    horizontal.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)


def _insertion_row(
    keys: Sequence[tuple[SortValue, tuple[SortValue, ...]]],
    key: tuple[SortValue, tuple[SortValue, ...]],
    *,
    descending: bool,
) -> int:
    """Where ``key`` goes in ``keys`` (sorted, descending or not): after its equals."""
    low, high = 0, len(keys)
    while low < high:
        middle = (low + high) // 2
        before = keys[middle] >= key if descending else keys[middle] <= key
        if before:
            low = middle + 1
        else:
            high = middle
    return low
