"""A "top N" table for dashboards and walls: a title over the few entities that lead by a
metric ("worst stations", "busiest checkpoints"), one row each with its rank, name and value.

The caller orders the rows and cuts them to N; :class:`TopTable` only shows them. Updates
follow the views' timer discipline: :meth:`TopTable.set_rows` only stores,
:meth:`TopTable.refresh` (from the dashboard's shared timer) applies them to the model, and
only when they changed.

In the high-performance (ISA-101) manner, normal rows are plain. A row with an alarm
priority is tinted with that priority's colour and names the priority in words, in the
value cell and in the tooltip, so colour is never the only cue. Data that is not live is
faded and italic, with "(stale)" after the value. Names come from feeds: they are shown
through ``DisplayRole`` and escaped tooltips, never as markup. With no rows the table gives
way to a "No data" line.

Colours and the type size come from the theme active when the table is built
(:func:`widgets.palette.current_theme`); the wall theme's ``font_scale`` makes the type larger.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QBrush, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from services.model import Severity
from widgets.format import format_value
from widgets.i18n import QT_TRANSLATE_NOOP, smallest_text_px, translate
from widgets.palette import ROW_TINT_ALPHA, Theme, current_theme
from widgets.plain_text import SingleLineDelegate, plain_label, plain_tooltip
from widgets.table_model import CENTER, RIGHT, KeyedTableModel, TableColumn, configure_table
from widgets.terms import severity_text

log = logging.getLogger(__name__)

STALE_SUFFIX = QT_TRANSLATE_NOOP("TopTable", " (stale)")
"""After the value of a row whose data is not live (text, not only the fading)."""

PRIORITY_TEMPLATE = QT_TRANSLATE_NOOP("TopTable", "{value} · {priority}")
"""The value cell of a row with an alarm priority: the priority in words after the value."""

NO_DATA = QT_TRANSLATE_NOOP("TopTable", "No data")
"""Shown instead of the table while there are no rows."""

# Pixel sizes at font_scale 1; each grows with the theme's font_scale.
_TITLE_PX = 15.0
_BODY_PX = 13.0
_ROW_PAD_PX = 6.0

_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


@dataclass(frozen=True)
class TopRow:
    """One entity of a top list: its id, name, value with unit, and how far to trust it.

    ``severity`` is the priority of an alarm the entity is in (None: normal); ``stale`` is
    set when the value is not live.
    """

    entity_id: str
    name: str
    value: float
    unit: str = ""
    stale: bool = False
    severity: Severity | None = None


@dataclass(frozen=True)
class RankedRow:
    """A :class:`TopRow` with its 1-based place in the list: what the model holds."""

    rank: int
    row: TopRow


class TopColumn(enum.IntEnum):
    """Columns of the top table."""

    RANK = 0
    NAME = 1
    VALUE = 2


def _value_key(item: RankedRow) -> float:
    value = float(item.row.value)
    return -math.inf if math.isnan(value) else value


def value_text(row: TopRow) -> str:
    """The value cell: the value with its unit, "(stale)" when not live, the priority in
    words when in alarm (``182 µg/m³ (stale) · High``)."""
    text = format_value(row.value, row.unit)
    if row.stale:
        text += translate("TopTable", STALE_SUFFIX)
    if row.severity is not None:
        text = translate("TopTable", PRIORITY_TEMPLATE).format(
            value=text, priority=severity_text(row.severity)
        )
    return text


def _same(old: Sequence[TopRow], new: Sequence[TopRow]) -> bool:
    """Whether two row lists show the same (a NaN value equals a NaN value)."""

    def key(row: TopRow) -> tuple[object, ...]:
        value = None if math.isnan(row.value) else row.value
        return (row.entity_id, row.name, value, row.unit, row.stale, row.severity)

    return len(old) == len(new) and all(key(a) == key(b) for a, b in zip(old, new, strict=True))


class TopTableModel(KeyedTableModel[RankedRow]):
    """The rows of a top list in the caller's order, keyed by entity id."""

    def __init__(self, theme: Theme | None = None, parent: QObject | None = None) -> None:
        columns = {
            TopColumn.RANK: TableColumn(
                QT_TRANSLATE_NOOP("Column", "#"), lambda r: str(r.rank), lambda r: r.rank, CENTER
            ),
            TopColumn.NAME: TableColumn(
                QT_TRANSLATE_NOOP("Column", "Name"),
                lambda r: r.row.name,
                lambda r: r.row.name.casefold(),
                _LEFT,
            ),
            TopColumn.VALUE: TableColumn(
                QT_TRANSLATE_NOOP("Column", "Value"), lambda r: value_text(r.row), _value_key, RIGHT
            ),
        }
        super().__init__([columns[column] for column in TopColumn], parent)
        self._theme = theme if theme is not None else current_theme()
        italic = QFont()
        italic.setItalic(True)
        self._italic = italic

    # ------------------------------------------------------------ keyed rows

    def key_of(self, item: RankedRow) -> str:
        """The entity id."""
        return item.row.entity_id

    def category(self, item: RankedRow) -> Severity | None:
        """Rows are counted by priority (None: normal)."""
        return item.row.severity

    def tie_key(self, item: RankedRow) -> tuple[int]:
        """The caller's order."""
        return (item.rank,)

    # ------------------------------------------------------------------ content

    def background(self, item: RankedRow, column: int) -> QBrush | None:
        """The priority's row tint across the whole row; nothing for normal rows."""
        severity = item.row.severity
        if severity is None:
            return None
        return self.brush(self._theme.severity(severity), ROW_TINT_ALPHA)

    def foreground(self, item: RankedRow, column: int) -> QBrush | None:
        """Stale rows are faded (the theme's dimmed text, still readable)."""
        return self.brush(self._theme.dim_text) if item.row.stale else None

    def font(self, item: RankedRow, column: int) -> QFont | None:
        """Stale rows are italic."""
        return self._italic if item.row.stale else None

    def tooltip(self, item: RankedRow, column: int) -> str:
        """The name, the value, the priority and whether it is live, escaped."""
        row = item.row
        lines = [
            translate("TopTable", "{rank}. {name}").format(rank=item.rank, name=row.name),
            format_value(row.value, row.unit),
        ]
        if row.severity is not None:
            lines.append(
                translate("TopTable", "Priority: {priority}").format(
                    priority=severity_text(row.severity)
                )
            )
        if row.stale:
            lines.append(translate("TopTable", "Stale: the value is not live"))
        return plain_tooltip("\n".join(lines))

    # ------------------------------------------------------------------ queries

    def rows(self) -> list[TopRow]:
        """The rows shown, in rank order."""
        return [item.row for item in self._items]

    # ------------------------------------------------------------------ changes

    def set_rows(self, rows: Sequence[TopRow]) -> bool:
        """Show ``rows`` ranked 1..N in the given order; returns whether anything changed.

        The same entities in the same order are updated in place (``dataChanged`` for the
        rows that differ); any other change resets the model (a top list is short). An
        entity listed twice keeps its first place.
        """
        ranked: list[RankedRow] = []
        seen: set[str] = set()
        for row in rows:
            if row.entity_id in seen:
                log.warning("top table: %r listed twice, keeping its first place", row.entity_id)
                continue
            seen.add(row.entity_id)
            ranked.append(RankedRow(len(ranked) + 1, row))
        if _same(self.rows(), [item.row for item in ranked]):
            return False
        if [self.key_of(item) for item in ranked] == [self.key_of(item) for item in self._items]:
            self.upsert(ranked)
        else:
            self.reset_items(ranked)
            self.countsChanged.emit()
        return True


class TopTable(QWidget):
    """A title over a small table of the top N entities by a metric: rank, name, value."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = current_theme()
        self._title = title
        self._pending: tuple[TopRow, ...] = ()
        self._model = TopTableModel(self._theme, self)

        scale = self._theme.font_scale
        legible = smallest_text_px()
        title_font = QFont()
        title_font.setPixelSize(max(legible, round(_TITLE_PX * scale)))
        title_font.setBold(True)
        body_font = QFont()
        body_font.setPixelSize(max(legible, round(_BODY_PX * scale)))

        self._title_label = plain_label(title, self)
        self._title_label.setObjectName("topTableTitle")
        self._title_label.setFont(title_font)

        self._table = QTableView(self)
        self._table.setObjectName("topTable")
        self._table.setFont(body_font)
        self._table.horizontalHeader().setFont(body_font)
        self._table.setModel(self._model)
        self._table.setItemDelegate(SingleLineDelegate(self._table))
        row_height = QFontMetrics(body_font).height() + round(_ROW_PAD_PX * scale)
        configure_table(self._table, row_height)
        # Read from across the room: nothing to select, nothing to sort (the caller ranks).
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self._table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._table.setSortingEnabled(False)
        self._table.setAccessibleName(title)
        header = self._table.horizontalHeader()
        header.setSectionResizeMode(TopColumn.RANK, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(TopColumn.NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(TopColumn.VALUE, QHeaderView.ResizeMode.ResizeToContents)

        self._empty_label = plain_label(translate("TopTable", NO_DATA), self)
        self._empty_label.setObjectName("topTableEmpty")
        self._empty_label.setFont(body_font)
        self._empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self._stack = QStackedWidget(self)
        self._stack.addWidget(self._empty_label)
        self._stack.addWidget(self._table)

        layout = QVBoxLayout(self)
        margin = round(4 * scale)
        layout.setContentsMargins(margin, margin, margin, margin)
        layout.setSpacing(margin)
        layout.addWidget(self._title_label)
        layout.addWidget(self._stack, 1)

        self.setAccessibleName(title)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._show_empty_or_table()

    # ----------------------------------------------------------------- public API

    def title(self) -> str:
        """The title above the table."""
        return self._title

    def set_rows(self, rows: Sequence[TopRow]) -> None:
        """Keep ``rows``, already ordered and cut to N by the caller. Nothing is shown until
        :meth:`refresh`."""
        self._pending = tuple(rows)

    def refresh(self) -> bool:
        """Show what :meth:`set_rows` stored; the model changes only when the rows did (and
        says whether they did). Call it from the dashboard's shared timer."""
        if not self._model.set_rows(self._pending):
            return False
        self._show_empty_or_table()
        return True

    def rows(self) -> list[TopRow]:
        """The rows shown (as of the last :meth:`refresh`), in rank order."""
        return self._model.rows()

    def model(self) -> TopTableModel:
        """The table's model."""
        return self._model

    def table(self) -> QTableView:
        """The table view."""
        return self._table

    def is_empty(self) -> bool:
        """Whether the "No data" line is shown instead of the table."""
        return self._stack.currentWidget() is self._empty_label

    def empty_text(self) -> str:
        """The line shown while there are no rows."""
        return self._empty_label.text()

    # ------------------------------------------------------------------ internals

    def _show_empty_or_table(self) -> None:
        empty = self._model.rowCount() == 0
        self._stack.setCurrentWidget(self._empty_label if empty else self._table)
