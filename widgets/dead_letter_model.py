"""The dead-letter table's model: the payloads of one feed that could not be decoded.

Topics, reasons and payload excerpts come from feeds: they are shown verbatim through
``DisplayRole`` and in escaped tooltips, never as markup.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence

from PySide6.QtCore import QObject
from PySide6.QtGui import QBrush

from services.model import DeadLetter
from widgets.format import format_clock, format_timestamp
from widgets.i18n import QT_TRANSLATE_NOOP, translate
from widgets.palette import DIM_TEXT_COLOR
from widgets.plain_text import plain_tooltip
from widgets.table_model import RowTableModel, TableColumn

log = logging.getLogger(__name__)


class LetterColumn(enum.IntEnum):
    """Columns of the dead-letter table."""

    TIME = 0
    TOPIC = 1
    REASON = 2
    PAYLOAD = 3


_COLUMNS: dict[LetterColumn, TableColumn[DeadLetter]] = {
    LetterColumn.TIME: TableColumn(
        QT_TRANSLATE_NOOP("Column", "Time"),
        lambda d: format_clock(d.received_at),
        lambda d: d.received_at,
    ),
    LetterColumn.TOPIC: TableColumn(
        QT_TRANSLATE_NOOP("Column", "Topic"), lambda d: d.topic, lambda d: d.topic
    ),
    LetterColumn.REASON: TableColumn(
        QT_TRANSLATE_NOOP("Column", "Reason"), lambda d: d.reason, lambda d: d.reason
    ),
    LetterColumn.PAYLOAD: TableColumn(
        QT_TRANSLATE_NOOP("Column", "Payload excerpt"),
        lambda d: d.payload_excerpt,
        lambda d: d.payload_excerpt,
    ),
}


class DeadLetterModel(RowTableModel[DeadLetter]):
    """The dead letters of one feed, newest first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__([_COLUMNS[column] for column in LetterColumn], parent)

    def tooltip(self, item: DeadLetter, column: int) -> str:
        """The exact time received; the feed's strings escaped."""
        if column == LetterColumn.TIME:
            return translate("DeadLetters", "Received at {time}").format(
                time=format_timestamp(item.received_at)
            )
        if column == LetterColumn.TOPIC:
            return plain_tooltip(item.topic)
        if column == LetterColumn.REASON:
            return plain_tooltip(item.reason)
        return plain_tooltip(item.payload_excerpt)

    def foreground(self, item: DeadLetter, column: int) -> QBrush | None:
        """The time is dimmed."""
        return self.brush(DIM_TEXT_COLOR) if column == LetterColumn.TIME else None

    def letter_at(self, row: int) -> DeadLetter:
        """The dead letter in ``row`` (IndexError when out of range)."""
        return self.item_at(row)

    def letters(self) -> list[DeadLetter]:
        """The letters shown, in row order."""
        return self.items()

    def set_letters(self, letters: Sequence[DeadLetter]) -> None:
        """Show ``letters``, newest first."""
        new = sorted(letters, key=lambda letter: letter.received_at, reverse=True)
        if new != self._items:
            self.reset_items(new)
