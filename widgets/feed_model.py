"""The feed table's model: the health of every feed, one row per feed name.

:class:`FeedHealthModel` holds :class:`services.model.FeedHealth` values keyed by feed
name, fed in batches with :meth:`~FeedHealthModel.update`, and keeps the
:class:`services.model.DeadLetter` lists the application hands it for each feed (shown
by :class:`widgets.dead_letter_model.DeadLetterModel`). :class:`FeedSortProxy` orders
it. The panel showing both is :class:`widgets.feed_health.FeedHealthPanel`.

Strings that come from feeds (names, details) are shown through ``DisplayRole`` and in
escaped tooltips, never as markup.
"""

from __future__ import annotations

import enum
import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QBrush

from services.model import DeadLetter, FeedHealth, FeedState
from widgets.format import format_age, format_count, format_exact, format_rate, format_timestamp
from widgets.i18n import QT_TRANSLATE_NOOP, translate
from widgets.palette import (
    ALARM_COLOR,
    DIM_TEXT_COLOR,
    FEED_STATE_COLORS,
    STALE_COLOR,
    text_color_for,
)
from widgets.plain_text import plain_tooltip
from widgets.table_model import (
    CENTER,
    KEY_ROLE,
    RIGHT,
    KeyedSortProxy,
    KeyedTableModel,
    TableColumn,
)
from widgets.terms import feed_state_text

log = logging.getLogger(__name__)

FEED_NAME_ROLE = KEY_ROLE
"""The feed name of the row (same for every column)."""

# Larger means "worse", so a descending sort puts the feeds needing attention first.
STATE_RANK: dict[FeedState, int] = {
    FeedState.CONNECTED: 0,
    FeedState.PAUSED: 1,
    FeedState.CONNECTING: 1,
    FeedState.STALE: 2,
    FeedState.FAILING: 3,
    FeedState.DOWN: 4,
}


class Column(enum.IntEnum):
    """Columns of the feed table."""

    FEED = 0
    STATE = 1
    LAST_MESSAGE = 2
    RATE = 3
    MESSAGES = 4
    ERRORS = 5
    DETAIL = 6


def _columns(age_text: Callable[[FeedHealth], str]) -> list[TableColumn[FeedHealth]]:
    """The feed table's columns, in :class:`Column` order."""
    columns: dict[Column, TableColumn[FeedHealth]] = {
        Column.FEED: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Feed"), lambda f: f.name, lambda f: f.name.casefold()
        ),
        Column.STATE: TableColumn(
            QT_TRANSLATE_NOOP("Column", "State"),
            lambda f: feed_state_text(f.state),
            lambda f: STATE_RANK.get(f.state, 0),
            CENTER,
        ),
        Column.LAST_MESSAGE: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Last message"),
            age_text,
            lambda f: -math.inf if f.last_message_at is None else float(f.last_message_at),
        ),
        Column.RATE: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Rate (msg/s)"),
            lambda f: format_rate(f.rate),
            lambda f: float(f.rate),
            RIGHT,
        ),
        Column.MESSAGES: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Messages"),
            lambda f: format_count(f.messages),
            lambda f: int(f.messages),
            RIGHT,
        ),
        Column.ERRORS: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Errors"),
            lambda f: format_count(f.errors),
            lambda f: int(f.errors),
            RIGHT,
        ),
        Column.DETAIL: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Detail"), lambda f: f.detail, lambda f: f.detail.casefold()
        ),
    }
    return [columns[column] for column in Column]


class FeedHealthModel(KeyedTableModel[FeedHealth]):
    """Health of every feed, one row per feed name, plus each feed's dead letters.

    Ages in the "Last message" column are computed against ``clock`` (epoch seconds)
    when the view asks, so :meth:`refresh_ages` only has to announce that column.
    :attr:`countsChanged` is emitted once after each batch that added or removed feeds
    or changed a feed's state.
    """

    deadLettersChanged = Signal(str)
    """The dead letters of this feed were replaced."""

    def __init__(
        self, clock: Callable[[], float] = time.time, parent: QObject | None = None
    ) -> None:
        super().__init__(_columns(self.age_text), parent)
        self._clock = clock
        self._letters: dict[str, list[DeadLetter]] = {}

    # ------------------------------------------------------------ keyed rows

    def key_of(self, item: FeedHealth) -> str:
        """The feed name."""
        return item.name

    def category(self, item: FeedHealth) -> FeedState:
        """Feeds are counted by state."""
        return item.state

    # ------------------------------------------------------------------ content

    def age_text(self, feed: FeedHealth) -> str:
        """The "Last message" text of ``feed`` at the clock's current time."""
        if feed.last_message_at is None:
            return translate("FeedTable", "never")
        return format_age(self._clock() - feed.last_message_at)

    def background(self, item: FeedHealth, column: int) -> QBrush | None:
        """The state colour, on the state cell only."""
        if column == Column.STATE:
            return self.brush(FEED_STATE_COLORS.get(item.state, STALE_COLOR))
        return None

    def foreground(self, item: FeedHealth, column: int) -> QBrush | None:
        """Readable text on the state colour, errors in the alarm colour, "never" dimmed."""
        if column == Column.STATE:
            return self.brush(text_color_for(FEED_STATE_COLORS.get(item.state, STALE_COLOR)))
        if column == Column.ERRORS and item.errors > 0:
            return self.brush(ALARM_COLOR)
        if column == Column.LAST_MESSAGE and item.last_message_at is None:
            return self.brush(DIM_TEXT_COLOR)
        return None

    def tooltip(self, item: FeedHealth, column: int) -> str:
        """The exact last-message time and rate; feed strings escaped."""
        if column == Column.LAST_MESSAGE:
            if item.last_message_at is None:
                return translate("FeedTable", "No message received yet")
            return translate("FeedTable", "Last message at {time}").format(
                time=format_timestamp(item.last_message_at)
            )
        if column == Column.STATE:
            state = feed_state_text(item.state)
            return plain_tooltip(f"{state}: {item.detail}" if item.detail else state)
        if column == Column.RATE:
            return translate("FeedTable", "{rate} messages per second").format(
                rate=format_exact(item.rate)
            )
        if column == Column.DETAIL:
            return plain_tooltip(item.detail)
        if column == Column.FEED:
            return plain_tooltip(item.name)
        return ""

    # ------------------------------------------------------------------ queries

    def feed_at(self, row: int) -> FeedHealth:
        """The feed shown in source ``row`` (IndexError when out of range)."""
        return self.item_at(row)

    def feed(self, name: str) -> FeedHealth | None:
        """The feed called ``name``, or None when it is not listed."""
        return self.item(name)

    def count_by_state(self) -> dict[FeedState, int]:
        """How many feeds are in each state (states with none are left out)."""
        return self.count_by_category()

    def dead_letters(self, feed: str) -> list[DeadLetter]:
        """The dead letters last set for ``feed`` (empty when none)."""
        return list(self._letters.get(feed, ()))

    # ------------------------------------------------------------------ changes

    def update(self, feeds: Iterable[FeedHealth]) -> None:
        """Apply a batch of new or changed feed health values, keyed by feed name.

        Changed rows are announced with one ``dataChanged`` per run of adjacent rows, new
        feeds are appended with one insertion per batch; unchanged values send nothing.
        """
        self.upsert(feeds)

    def set_dead_letters(self, feed: str, letters: Sequence[DeadLetter]) -> None:
        """Replace the dead letters kept for ``feed`` (the feed need not be listed yet)."""
        new = list(letters)
        if new == self._letters.get(feed, []):
            return
        if new:
            self._letters[feed] = new
        else:
            self._letters.pop(feed, None)
        self.deadLettersChanged.emit(feed)

    def refresh_ages(self) -> None:
        """Announce the "Last message" column (display text only): its ages moved on."""
        if not self._items:
            return
        self.dataChanged.emit(
            self.index(0, Column.LAST_MESSAGE),
            self.index(len(self._items) - 1, Column.LAST_MESSAGE),
            [Qt.ItemDataRole.DisplayRole],
        )

    def remove(self, keys: Iterable[str]) -> None:
        """Take feeds (and their dead letters) off the list; unknown names are ignored."""
        names = list(keys)
        for name in names:
            if self._letters.pop(name, None) is not None:
                self.deadLettersChanged.emit(name)
        super().remove(names)

    def clear(self) -> None:
        """Remove every feed and every dead letter."""
        names = list(self._letters)
        self._letters.clear()
        for name in names:
            self.deadLettersChanged.emit(name)
        super().clear()


class FeedSortProxy(KeyedSortProxy):
    """Sorts by the clicked column's raw value, then by feed name; follows changes at once."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent, dynamic=True)
