"""The alarm list: a table model of the alarms needing attention, and its view.

The model holds :class:`services.model.Alarm` values keyed by alarm id and is fed in
batches with :meth:`AlarmTableModel.upsert`; alarms that return to ``normal`` leave the
list. The view never changes alarm state itself: it asks for acknowledgement with the
``acknowledgeRequested`` signal, and the application feeds the acknowledged versions
back through ``upsert``.
"""

from __future__ import annotations

import copy
import enum
import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionRange,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from services.model import Alarm, AlarmState, Condition
from widgets.colors import SEVERITY_COLORS, text_color_for

log = logging.getLogger(__name__)

SORT_ROLE = Qt.ItemDataRole.UserRole
"""Raw sortable value of a cell: severity int, raised_at epoch float, count int, ..."""
ALARM_ID_ROLE = Qt.ItemDataRole.UserRole + 1
"""The alarm id of the row (same for every column)."""

_AnyIndex = QModelIndex | QPersistentModelIndex

# At most this many dataChanged signals per batch and column span: nearby runs of changed
# rows are merged until the count fits.
_MAX_SIGNAL_RUNS = 256


class Column(enum.IntEnum):
    """Columns of the alarm table."""

    SEVERITY = 0
    STATE = 1
    ENTITY = 2
    METRIC = 3
    CONDITION = 4
    VALUE = 5
    THRESHOLD = 6
    RAISED = 7
    COUNT = 8


HEADERS: dict[Column, str] = {
    Column.SEVERITY: "Severity",
    Column.STATE: "State",
    Column.ENTITY: "Entity",
    Column.METRIC: "Metric",
    Column.CONDITION: "Condition",
    Column.VALUE: "Value",
    Column.THRESHOLD: "Threshold",
    Column.RAISED: "Raised",
    Column.COUNT: "Count",
}

STATE_TEXT: dict[AlarmState, str] = {
    AlarmState.NORMAL: "Normal",
    AlarmState.UNACKNOWLEDGED: "Unacknowledged",
    AlarmState.ACKNOWLEDGED: "Acknowledged",
    AlarmState.RTN_UNACKNOWLEDGED: "Cleared, unack.",
    AlarmState.SHELVED: "Shelved",
    AlarmState.SUPPRESSED: "Suppressed",
    AlarmState.OUT_OF_SERVICE: "Out of service",
}

# Larger means "needs attention sooner", so a descending sort puts those first.
STATE_RANK: dict[AlarmState, int] = {
    AlarmState.UNACKNOWLEDGED: 6,
    AlarmState.RTN_UNACKNOWLEDGED: 5,
    AlarmState.ACKNOWLEDGED: 4,
    AlarmState.SHELVED: 3,
    AlarmState.SUPPRESSED: 2,
    AlarmState.OUT_OF_SERVICE: 1,
    AlarmState.NORMAL: 0,
}

CONDITION_TEXT: dict[Condition, str] = {
    Condition.LOW_LOW: "Low-low",
    Condition.LOW: "Low",
    Condition.HIGH: "High",
    Condition.HIGH_HIGH: "High-high",
    Condition.EXTERNAL: "External",
}
CONDITION_RANK: dict[Condition, int] = {
    Condition.LOW: 1,
    Condition.HIGH: 1,
    Condition.LOW_LOW: 2,
    Condition.HIGH_HIGH: 2,
    Condition.EXTERNAL: 3,
}

_NUMERIC = frozenset({Column.VALUE, Column.THRESHOLD, Column.COUNT})
_DIMMED_STATES = frozenset({AlarmState.SHELVED, AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE})


def format_number(value: float) -> str:
    """Compact text for a measured value or threshold."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Contiguous ``(first, last)`` runs of sorted, distinct ``rows``."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def _coalesce(rows: list[int], max_runs: int) -> list[tuple[int, int]]:
    """Runs of sorted ``rows``, merging across the smallest gaps until at most ``max_runs``."""
    runs = _runs(rows)
    if len(runs) <= max_runs:
        return runs
    gaps = sorted(runs[i + 1][0] - runs[i][1] for i in range(len(runs) - 1))
    widest_merged_gap = gaps[len(runs) - max_runs - 1]
    merged = [runs[0]]
    for first, last in runs[1:]:
        if first - merged[-1][1] <= widest_merged_gap:
            merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return merged


_LAST_COLUMN = len(Column) - 1


def _changed_columns(old: Alarm, new: Alarm) -> tuple[tuple[int, int], ...]:
    """Spans of adjacent columns whose cells look different for ``new`` than for ``old``."""
    if (
        old.severity != new.severity
        or old.state != new.state
        or old.raised_at != new.raised_at
        or old.entity_id != new.entity_id
    ):
        # Colours and fonts of the whole row, or the tie-break of every sort, changed.
        return ((0, _LAST_COLUMN),)
    columns: list[int] = []
    if old.acked_at != new.acked_at or old.acked_by != new.acked_by:
        columns.append(Column.STATE)
    if old.value != new.value or old.message != new.message:
        columns.append(Column.VALUE)
    if old.threshold != new.threshold:
        columns.append(Column.THRESHOLD)
    if old.count != new.count:
        columns.append(Column.COUNT)
    # Nothing listed: only tooltip details (updated_at) changed, which need no signal.
    return tuple(_runs(columns))


class AlarmTableModel(QAbstractTableModel):
    """Alarms that need attention (every state but ``normal``), one row per alarm id."""

    countsChanged = Signal()
    """Emitted once after each batch that changed the rows or their states."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._alarms: list[Alarm] = []
        self._rows: dict[str, int] = {}
        self._counts: Counter[AlarmState] = Counter()
        self._names: dict[str, str] = {}
        self._fonts = self._make_fonts()
        self._sort_keys = self._make_sort_keys()

    @staticmethod
    def _make_fonts() -> dict[tuple[bool, bool], QFont]:
        fonts: dict[tuple[bool, bool], QFont] = {}
        for bold in (False, True):
            for italic in (False, True):
                font = QFont()
                font.setBold(bold)
                font.setItalic(italic)
                fonts[bold, italic] = font
        return fonts

    # ------------------------------------------------------------ Qt model API

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """Number of alarms in the list (0 under a valid parent: this is a flat table)."""
        return 0 if parent.isValid() else len(self._alarms)

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """Number of columns (see :class:`Column`)."""
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(Column):
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[Column(section)]
            if role == Qt.ItemDataRole.TextAlignmentRole and Column(section) in _NUMERIC:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, sort values, tooltips, colours and fonts."""
        if not index.isValid():
            return None
        row = index.row()
        if not 0 <= row < len(self._alarms):
            return None
        alarm = self._alarms[row]
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(alarm, column)
        if role == SORT_ROLE:
            return self.sort_value(alarm, column)
        if role == ALARM_ID_ROLE:
            return alarm.id
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._background(alarm, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(alarm, column)
        if role == Qt.ItemDataRole.FontRole:
            return self._fonts[alarm.state.needs_ack, alarm.state == AlarmState.RTN_UNACKNOWLEDGED]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(alarm, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # ------------------------------------------------------------------ content

    def entity_name(self, entity_id: str) -> str:
        """The entity's name when known, else its id."""
        return self._names.get(entity_id) or entity_id

    def _display(self, alarm: Alarm, column: Column) -> str:
        if column == Column.SEVERITY:
            return alarm.severity.label.capitalize()
        if column == Column.STATE:
            return STATE_TEXT.get(alarm.state, str(alarm.state))
        if column == Column.ENTITY:
            return self.entity_name(alarm.entity_id)
        if column == Column.METRIC:
            return alarm.metric
        if column == Column.CONDITION:
            return CONDITION_TEXT.get(alarm.condition, str(alarm.condition))
        if column == Column.VALUE:
            return format_number(alarm.value)
        if column == Column.THRESHOLD:
            return format_number(alarm.threshold)
        if column == Column.RAISED:
            return datetime.fromtimestamp(alarm.raised_at).strftime("%H:%M:%S")
        return str(alarm.count)

    def sort_value(self, alarm: Alarm, column: Column | int) -> int | float | str:
        """The raw value :data:`SORT_ROLE` gives for ``alarm`` in ``column``."""
        return self._sort_keys[column](alarm)

    def _make_sort_keys(self) -> list[Callable[[Alarm], int | float | str]]:
        names = self._names
        keys: dict[Column, Callable[[Alarm], int | float | str]] = {
            Column.SEVERITY: lambda a: int(a.severity),
            Column.STATE: lambda a: STATE_RANK.get(a.state, 0),
            Column.ENTITY: lambda a: (names.get(a.entity_id) or a.entity_id).casefold(),
            Column.METRIC: lambda a: a.metric.casefold(),
            Column.CONDITION: lambda a: CONDITION_RANK.get(a.condition, 0),
            Column.VALUE: lambda a: float(a.value),
            Column.THRESHOLD: lambda a: float(a.threshold),
            Column.RAISED: lambda a: float(a.raised_at),
            Column.COUNT: lambda a: int(a.count),
        }
        return [keys[column] for column in Column]

    def _tooltip(self, alarm: Alarm, column: Column) -> str:
        if column == Column.RAISED:
            raised = datetime.fromtimestamp(alarm.raised_at).astimezone()
            text = raised.isoformat(timespec="seconds")
            if alarm.updated_at and alarm.updated_at != alarm.raised_at:
                updated = datetime.fromtimestamp(alarm.updated_at).astimezone()
                text += f"\nlast update {updated.isoformat(timespec='seconds')}"
            return text
        if column == Column.ENTITY:
            return alarm.entity_id
        if column == Column.STATE and alarm.acked_at is not None:
            acked = datetime.fromtimestamp(alarm.acked_at).astimezone()
            who = f" by {alarm.acked_by}" if alarm.acked_by else ""
            return f"acknowledged{who} at {acked.isoformat(timespec='seconds')}"
        return alarm.message or ""

    def _background(self, alarm: Alarm, column: Column) -> QBrush | None:
        hex_color = SEVERITY_COLORS.get(alarm.severity)
        if hex_color is None:
            return None
        if column == Column.SEVERITY:
            return QBrush(QColor(hex_color))
        # A light tint of the severity hue keeps the rest of the row readable on light
        # and dark palettes alike.
        color = QColor(hex_color)
        faded = alarm.state == AlarmState.RTN_UNACKNOWLEDGED or alarm.state in _DIMMED_STATES
        color.setAlpha(22 if faded else 48)
        return QBrush(color)

    def _foreground(self, alarm: Alarm, column: Column) -> QBrush | None:
        hex_color = SEVERITY_COLORS.get(alarm.severity)
        if column == Column.SEVERITY and hex_color is not None:
            return QBrush(QColor(text_color_for(hex_color)))
        if alarm.state == AlarmState.RTN_UNACKNOWLEDGED or alarm.state in _DIMMED_STATES:
            return QBrush(QColor("#8b949e"))
        return None

    # ------------------------------------------------------------------ queries

    def alarm_at(self, row: int) -> Alarm:
        """The alarm shown in source ``row`` (IndexError when out of range)."""
        if not 0 <= row < len(self._alarms):
            raise IndexError(f"no alarm at row {row}")
        return self._alarms[row]

    def alarm(self, alarm_id: str) -> Alarm | None:
        """The alarm with ``alarm_id``, or None when it is not in the list."""
        row = self._rows.get(alarm_id)
        return None if row is None else self._alarms[row]

    def row_of(self, alarm_id: str) -> int | None:
        """The source row of ``alarm_id``, or None."""
        return self._rows.get(alarm_id)

    def alarms(self) -> list[Alarm]:
        """Every alarm in the list, in source row order."""
        return list(self._alarms)

    def row_count_by_state(self) -> dict[AlarmState, int]:
        """How many alarms of each state are in the list (states with none are left out)."""
        return {state: n for state, n in self._counts.items() if n > 0}

    def needs_ack_count(self) -> int:
        """How many alarms are waiting for acknowledgement."""
        return self._counts[AlarmState.UNACKNOWLEDGED] + self._counts[AlarmState.RTN_UNACKNOWLEDGED]

    # ------------------------------------------------------------------ changes

    def set_entity_names(self, names: Mapping[str, str]) -> None:
        """Show these entity names instead of ids, adding to (or changing) the names known so
        far; ids without a name stay as they are."""
        changed = {key: name for key, name in names.items() if self._names.get(key) != name}
        if not changed:
            return
        # Updated in place: the entity sort key reads this dict.
        self._names.update(changed)
        rows = sorted(row for row in self._rows.values() if self._alarms[row].entity_id in changed)
        if rows:
            self.dataChanged.emit(
                self.index(rows[0], Column.ENTITY), self.index(rows[-1], Column.ENTITY)
            )

    def clear(self) -> None:
        """Remove every alarm."""
        if not self._alarms:
            return
        self.beginResetModel()
        self._alarms.clear()
        self._rows.clear()
        self._counts.clear()
        self.endResetModel()
        self.countsChanged.emit()

    def upsert(self, alarms: Iterable[Alarm]) -> None:
        """Apply a batch of new or changed alarms; ``normal`` ones leave the list.

        New rows are appended with one insertion per batch. Changed rows are announced
        with ``dataChanged`` over runs of adjacent rows and only the columns that changed,
        merging nearby runs so that a batch sends a bounded number of signals; removed
        rows go with one removal per run of adjacent rows (a layout change would make the
        sorting proxy re-sort every row), or one reset when most of the list goes.
        """
        latest: dict[str, Alarm] = {}
        for alarm in alarms:
            latest[alarm.id] = alarm
        changed: dict[tuple[tuple[int, int], ...], list[int]] = {}
        removed: list[int] = []
        added: list[Alarm] = []
        for alarm_id, alarm in latest.items():
            row = self._rows.get(alarm_id)
            if row is None:
                if alarm.state != AlarmState.NORMAL:
                    added.append(copy.copy(alarm))
            elif alarm.state == AlarmState.NORMAL:
                removed.append(row)
            else:
                old = self._alarms[row]
                if old == alarm:
                    continue
                self._counts[old.state] -= 1
                self._counts[alarm.state] += 1
                # A copy, so that callers mutating their objects cannot change rows
                # behind the views' backs.
                self._alarms[row] = copy.copy(alarm)
                spans = _changed_columns(old, alarm)
                if spans:
                    changed.setdefault(spans, []).append(row)
        for spans, rows in changed.items():
            for first, last in _coalesce(sorted(rows), _MAX_SIGNAL_RUNS):
                for first_column, last_column in spans:
                    self.dataChanged.emit(
                        self.index(first, first_column), self.index(last, last_column)
                    )
        self._remove_rows(sorted(removed))
        self._append(added)
        if changed or removed or added:
            self.countsChanged.emit()

    def _remove_rows(self, rows: list[int]) -> None:
        if not rows:
            return
        for row in rows:
            self._counts[self._alarms[row].state] -= 1
        runs = _runs(rows)
        if len(runs) > _MAX_SIGNAL_RUNS and 2 * len(rows) > len(self._alarms):
            # Most of the list goes: one reset is cheaper than many removals.
            gone = set(rows)
            self.beginResetModel()
            self._alarms = [a for row, a in enumerate(self._alarms) if row not in gone]
            self._rows = {a.id: row for row, a in enumerate(self._alarms)}
            self.endResetModel()
            return
        for first, last in reversed(runs):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._alarms[first : last + 1]
            self.endRemoveRows()
        self._reindex(rows[0])

    def _reindex(self, start: int) -> None:
        rows = self._rows
        for alarm_id in [a_id for a_id, row in rows.items() if row >= start]:
            del rows[alarm_id]
        for row in range(start, len(self._alarms)):
            rows[self._alarms[row].id] = row

    def _append(self, alarms: list[Alarm]) -> None:
        if not alarms:
            return
        first = len(self._alarms)
        self.beginInsertRows(QModelIndex(), first, first + len(alarms) - 1)
        self._alarms.extend(alarms)
        for row, alarm in enumerate(alarms, start=first):
            self._rows[alarm.id] = row
            self._counts[alarm.state] += 1
        self.endInsertRows()


RESORT_DELAY_MS = 500
"""Changes are put in sort order at most this long after they arrive."""


class AlarmSortProxy(QSortFilterProxyModel):
    """Sorts by the clicked column's raw value, then by raise time, then by alarm id.

    A descending sort reverses the tie-breaks too, so the default sort (severity,
    descending) lists the newest alarm first within each severity.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        # Re-sorting on every change makes a busy list jump and costs most of an upsert;
        # the view re-sorts on a short timer instead (see AlarmTableView).
        self.setDynamicSortFilter(False)
        self._alarm_model: AlarmTableModel | None = None

    def setSourceModel(self, model: QAbstractItemModel) -> None:
        """Set the source; an :class:`AlarmTableModel` gets the fast comparison path."""
        super().setSourceModel(model)
        self._alarm_model = model if isinstance(model, AlarmTableModel) else None

    def lessThan(self, left: _AnyIndex, right: _AnyIndex) -> bool:
        """Compare by column value, then raise time, then id."""
        model = self._alarm_model
        if model is None:
            return bool(super().lessThan(left, right))
        rows = model._alarms
        a = rows[left.row()]
        b = rows[right.row()]
        key = model._sort_keys[left.column()]
        a_key = key(a)
        b_key = key(b)
        if a_key != b_key:
            return a_key < b_key  # type: ignore[operator]
        if a.raised_at != b.raised_at:
            return a.raised_at < b.raised_at
        return a.id < b.id


class AlarmTableView(QWidget):
    """The alarm list: counts line, acknowledge controls and a sortable table.

    Emits :attr:`acknowledgeRequested` with the ids of the alarms to acknowledge; it
    never changes alarm state itself.
    """

    acknowledgeRequested = Signal(list)
    """Alarm ids (``list[str]``) that the operator asked to acknowledge."""

    def __init__(self, model: AlarmTableModel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model if model is not None else AlarmTableModel(self)
        self._proxy = AlarmSortProxy(self)
        self._proxy.setSourceModel(self._model)

        self._counts_label = QLabel()
        self._counts_label.setObjectName("alarmCounts")
        font = self._counts_label.font()
        font.setBold(True)
        self._counts_label.setFont(font)

        self._ack_action = QAction("Acknowledge", self)
        self._ack_action.setShortcut(QKeySequence("Ctrl+K"))
        self._ack_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._ack_action.setToolTip("Acknowledge the selected alarms (Ctrl+K)")
        self._ack_action.triggered.connect(self.acknowledge_selected)
        self.addAction(self._ack_action)

        self._ack_all_action = QAction("Acknowledge all visible", self)
        self._ack_all_action.setToolTip("Acknowledge every alarm listed that needs it")
        self._ack_all_action.triggered.connect(self.acknowledge_all_visible)

        self._ack_button = QPushButton("Acknowledge")
        self._ack_button.setObjectName("acknowledgeButton")
        self._ack_button.setToolTip(self._ack_action.toolTip())
        self._ack_button.clicked.connect(self.acknowledge_selected)
        self._ack_all_button = QToolButton()
        self._ack_all_button.setDefaultAction(self._ack_all_action)

        header_line = QHBoxLayout()
        header_line.setContentsMargins(0, 0, 0, 0)
        header_line.addWidget(self._counts_label, 1)
        header_line.addWidget(self._ack_button)
        header_line.addWidget(self._ack_all_button)

        self._table = QTableView()
        self._table.setObjectName("alarmTable")
        self._table.setModel(self._proxy)
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.setAlternatingRowColors(False)
        self._table.setShowGrid(False)
        self._table.setWordWrap(False)
        self._table.setCornerButtonEnabled(False)
        vertical = self._table.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 8)
        horizontal = self._table.horizontalHeader()
        horizontal.setHighlightSections(False)
        horizontal.setStretchLastSection(False)
        horizontal.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        widths = {
            Column.SEVERITY: 72,
            Column.STATE: 136,
            Column.ENTITY: 190,
            Column.METRIC: 110,
            Column.CONDITION: 78,
            Column.VALUE: 70,
            Column.THRESHOLD: 76,
            Column.RAISED: 70,
            Column.COUNT: 52,
        }
        for column, width in widths.items():
            horizontal.resizeSection(column, width)
        horizontal.setSectionResizeMode(Column.ENTITY, QHeaderView.ResizeMode.Stretch)
        horizontal.setSortIndicator(Column.SEVERITY, Qt.SortOrder.DescendingOrder)
        self._table.setSortingEnabled(True)
        self._table.sortByColumn(Column.SEVERITY, Qt.SortOrder.DescendingOrder)

        self._resort_timer = QTimer(self)
        self._resort_timer.setSingleShot(True)
        self._resort_timer.setInterval(RESORT_DELAY_MS)
        self._resort_timer.timeout.connect(self.resort)
        for signal in (
            self._model.rowsInserted,
            self._model.rowsRemoved,
            self._model.dataChanged,
            self._model.modelReset,
        ):
            signal.connect(self._schedule_resort)

        # Space acknowledges too, but only while the table has the focus.
        self._space = QShortcut(
            QKeySequence(Qt.Key.Key_Space), self._table, context=Qt.ShortcutContext.WidgetShortcut
        )
        self._space.activated.connect(self.acknowledge_selected)
        self._table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self._table.addAction(self._ack_action)
        self._table.addAction(self._ack_all_action)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(header_line)
        layout.addWidget(self._table)

        selection = self._table.selectionModel()
        selection.selectionChanged.connect(self._on_selection_changed)
        self._model.countsChanged.connect(self._refresh)
        self._model.modelReset.connect(self._refresh)
        self._refresh()

    # ------------------------------------------------------------------ public API

    @property
    def model(self) -> AlarmTableModel:
        """The source model of the table."""
        return self._model

    @property
    def table(self) -> QTableView:
        """The table view (its model is the sorting proxy)."""
        return self._table

    @property
    def proxy(self) -> QSortFilterProxyModel:
        """The sorting proxy between the model and the table."""
        return self._proxy

    @property
    def acknowledge_button(self) -> QPushButton:
        """The button acknowledging the selected alarms."""
        return self._ack_button

    @property
    def acknowledge_action(self) -> QAction:
        """Acknowledge selected (Ctrl+K)."""
        return self._ack_action

    @property
    def acknowledge_all_action(self) -> QAction:
        """Acknowledge every listed alarm that needs it."""
        return self._ack_all_action

    def counts_text(self) -> str:
        """The text of the counts line."""
        return self._counts_label.text()

    def _selected_rows(self) -> list[int]:
        """Selected proxy rows, in table order (read from ranges: cheap for big selections)."""
        rows: set[int] = set()
        selection = cast(Iterable[QItemSelectionRange], self._table.selectionModel().selection())
        for selection_range in selection:
            rows.update(range(selection_range.top(), selection_range.bottom() + 1))
        return sorted(rows)

    def _alarm_at_proxy_row(self, row: int) -> Alarm:
        source = self._proxy.mapToSource(self._proxy.index(row, 0))
        return self._model.alarm_at(source.row())

    def select_alarm(self, alarm_id: str) -> bool:
        """Select and scroll to the row of ``alarm_id``; False when it is not in the list."""
        row = self._model.row_of(alarm_id)
        if row is None:
            return False
        index = self._proxy.mapFromSource(self._model.index(row, 0))
        self._table.clearSelection()
        self._table.selectRow(index.row())
        self._table.scrollTo(index)
        return True

    def _schedule_resort(self, *_args: object) -> None:
        if not self._resort_timer.isActive():
            self._resort_timer.start()

    def resort(self) -> None:
        """Put the rows back in the order of the current sort column now."""
        self._resort_timer.stop()
        header = self._table.horizontalHeader()
        self._proxy.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())

    def selected_alarm_ids(self) -> list[str]:
        """Ids of the selected alarms, in the table's order."""
        return [self._alarm_at_proxy_row(row).id for row in self._selected_rows()]

    def selected_ids_needing_ack(self) -> list[str]:
        """Ids of the selected alarms whose state needs acknowledgement, in table order."""
        alarms = (self._alarm_at_proxy_row(row) for row in self._selected_rows())
        return [alarm.id for alarm in alarms if alarm.state.needs_ack]

    def visible_ids_needing_ack(self) -> list[str]:
        """Ids of every listed alarm (after filtering) that needs acknowledgement."""
        alarms = (self._alarm_at_proxy_row(row) for row in range(self._proxy.rowCount()))
        return [alarm.id for alarm in alarms if alarm.state.needs_ack]

    def acknowledge_selected(self) -> None:
        """Ask for acknowledgement of the selected alarms that need it."""
        ids = self.selected_ids_needing_ack()
        if ids:
            log.debug("acknowledge requested for %d selected alarms", len(ids))
            self.acknowledgeRequested.emit(ids)

    def acknowledge_all_visible(self) -> None:
        """Ask for acknowledgement of every listed alarm that needs it."""
        ids = self.visible_ids_needing_ack()
        if ids:
            log.debug("acknowledge requested for %d listed alarms", len(ids))
            self.acknowledgeRequested.emit(ids)

    # ------------------------------------------------------------------ internals

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_ack_enabled()

    def _update_ack_enabled(self) -> None:
        enabled = any(
            self._alarm_at_proxy_row(row).state.needs_ack for row in self._selected_rows()
        )
        self._ack_button.setEnabled(enabled)
        self._ack_action.setEnabled(enabled)

    def _refresh(self) -> None:
        counts = self._model.row_count_by_state()
        active = counts.get(AlarmState.UNACKNOWLEDGED, 0) + counts.get(AlarmState.ACKNOWLEDGED, 0)
        needs_ack = self._model.needs_ack_count()
        parts = [f"{active} active", f"{needs_ack} unacknowledged"]
        for state, word in (
            (AlarmState.SHELVED, "shelved"),
            (AlarmState.SUPPRESSED, "suppressed"),
            (AlarmState.OUT_OF_SERVICE, "out of service"),
        ):
            if counts.get(state):
                parts.append(f"{counts[state]} {word}")
        self._counts_label.setText(" \u00b7 ".join(parts))
        self._ack_all_action.setEnabled(needs_ack > 0)
        self._update_ack_enabled()
