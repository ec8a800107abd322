"""The feed-health panel: one row per feed, and the dead letters of the selected feed.

:class:`FeedHealthModel` holds :class:`services.model.FeedHealth` values keyed by feed
name and the :class:`services.model.DeadLetter` lists the application hands it. The
panel never pauses or resumes a feed itself: it asks with ``pauseRequested`` /
``resumeRequested`` and the application decides.

Strings that come from feeds (names, details, topics, reasons, payloads) are only ever
shown through ``DisplayRole`` of item views, plain-text labels and a plain-text editor,
and tooltips carrying them are escaped, so they can never be rendered as markup.
"""

from __future__ import annotations

import copy
import enum
import html
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QGuiApplication,
    QHideEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from services.model import DeadLetter, FeedHealth, FeedState
from widgets.colors import (
    ALARM_COLOR,
    NORMAL_COLOR,
    STALE_COLOR,
    WARNING_COLOR,
    text_color_for,
)

log = logging.getLogger(__name__)

SORT_ROLE = Qt.ItemDataRole.UserRole
"""Raw sortable value of a cell: state rank, last-message epoch, rate, counters, ..."""
FEED_NAME_ROLE = Qt.ItemDataRole.UserRole + 1
"""The feed name of the row (same for every column)."""

_AnyIndex = QModelIndex | QPersistentModelIndex

DOWN_COLOR = "#8e1c1c"
"""Dark red: a feed that is down."""

STATE_COLORS: dict[FeedState, str] = {
    FeedState.CONNECTING: STALE_COLOR,
    FeedState.CONNECTED: NORMAL_COLOR,
    FeedState.PAUSED: STALE_COLOR,
    FeedState.STALE: WARNING_COLOR,
    FeedState.FAILING: ALARM_COLOR,
    FeedState.DOWN: DOWN_COLOR,
}
"""Background colour of the state cell of each feed state."""

STATE_TEXT: dict[FeedState, str] = {
    FeedState.CONNECTING: "Connecting",
    FeedState.CONNECTED: "Connected",
    FeedState.PAUSED: "Paused",
    FeedState.STALE: "Stale",
    FeedState.FAILING: "Failing",
    FeedState.DOWN: "Down",
}

# Larger means "worse", so a descending sort puts the feeds needing attention first.
STATE_RANK: dict[FeedState, int] = {
    FeedState.CONNECTED: 0,
    FeedState.PAUSED: 1,
    FeedState.CONNECTING: 1,
    FeedState.STALE: 2,
    FeedState.FAILING: 3,
    FeedState.DOWN: 4,
}

_MUTED_TEXT = "#8b949e"
_LINE_BREAKS = re.compile("\r\n|[\r\n\u2028\u2029]")


class Column(enum.IntEnum):
    """Columns of the feed table."""

    FEED = 0
    STATE = 1
    LAST_MESSAGE = 2
    RATE = 3
    MESSAGES = 4
    ERRORS = 5
    DETAIL = 6


HEADERS: dict[Column, str] = {
    Column.FEED: "Feed",
    Column.STATE: "State",
    Column.LAST_MESSAGE: "Last message",
    Column.RATE: "Rate (msg/s)",
    Column.MESSAGES: "Messages",
    Column.ERRORS: "Errors",
    Column.DETAIL: "Detail",
}

_NUMERIC = frozenset({Column.RATE, Column.MESSAGES, Column.ERRORS})
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class LetterColumn(enum.IntEnum):
    """Columns of the dead-letter table."""

    TIME = 0
    TOPIC = 1
    REASON = 2
    PAYLOAD = 3


LETTER_HEADERS: dict[LetterColumn, str] = {
    LetterColumn.TIME: "Time",
    LetterColumn.TOPIC: "Topic",
    LetterColumn.REASON: "Reason",
    LetterColumn.PAYLOAD: "Payload excerpt",
}


# --------------------------------------------------------------------------- text


def format_age(seconds: float | None) -> str:
    """How long ago, in words: ``"never"``, ``"just now"``, ``"3 s ago"``, ``"2 min ago"``..."""
    if seconds is None or math.isnan(seconds):
        return "never"
    if seconds < 1:
        return "just now"
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


def format_rate(rate: float) -> str:
    """Messages per second with one decimal (none from 100 up)."""
    if math.isnan(rate):
        return "NaN"
    return f"{rate:.0f}" if abs(rate) >= 100 else f"{rate:.1f}"


def exact_time(ts: float) -> str:
    """Local date and time of epoch ``ts`` with its UTC offset, to the second."""
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` verbatim.

    Qt guesses whether a tooltip is rich text, so text from a feed is escaped and wrapped
    in a paragraph that keeps its line breaks and spaces.
    """
    if not text:
        return ""
    return f'<p style="white-space:pre-wrap">{html.escape(text, quote=False)}</p>'


# --------------------------------------------------------------------------- models


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Contiguous ``(first, last)`` runs of sorted, distinct ``rows``."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


class FeedHealthModel(QAbstractTableModel):
    """Health of every feed, one row per feed name, plus each feed's dead letters.

    Ages in the "Last message" column are computed against ``clock`` (epoch seconds)
    when the view asks, so :meth:`refresh_ages` only has to announce that column.
    """

    countsChanged = Signal()
    """Emitted once after each batch that added feeds or changed a feed's state."""
    deadLettersChanged = Signal(str)
    """The dead letters of this feed were replaced."""

    def __init__(
        self, clock: Callable[[], float] = time.time, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._feeds: list[FeedHealth] = []
        self._rows: dict[str, int] = {}
        self._letters: dict[str, list[DeadLetter]] = {}
        self._brushes: dict[str, QBrush] = {}
        self._sort_keys = self._make_sort_keys()

    # ------------------------------------------------------------ Qt model API

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """Number of feeds (0 under a valid parent: this is a flat table)."""
        return 0 if parent.isValid() else len(self._feeds)

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
                return _RIGHT
        return None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, sort values, tooltips and the state colours."""
        if not index.isValid():
            return None
        row = index.row()
        if not 0 <= row < len(self._feeds):
            return None
        feed = self._feeds[row]
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(feed, column)
        if role == SORT_ROLE:
            return self._sort_keys[column](feed)
        if role == FEED_NAME_ROLE:
            return feed.name
        if role == Qt.ItemDataRole.BackgroundRole and column == Column.STATE:
            return self._brush(STATE_COLORS.get(feed.state, STALE_COLOR))
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(feed, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(feed, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column in _NUMERIC:
                return _RIGHT
            if column == Column.STATE:
                return int(Qt.AlignmentFlag.AlignCenter)
        return None

    # ------------------------------------------------------------------ content

    def age_text(self, feed: FeedHealth) -> str:
        """The "Last message" text of ``feed`` at the clock's current time."""
        if feed.last_message_at is None:
            return "never"
        return format_age(self._clock() - feed.last_message_at)

    def _display(self, feed: FeedHealth, column: Column) -> str:
        if column == Column.FEED:
            return feed.name
        if column == Column.STATE:
            return STATE_TEXT.get(feed.state, str(feed.state))
        if column == Column.LAST_MESSAGE:
            return self.age_text(feed)
        if column == Column.RATE:
            return format_rate(feed.rate)
        if column == Column.MESSAGES:
            return f"{feed.messages:,}"
        if column == Column.ERRORS:
            return f"{feed.errors:,}"
        return feed.detail

    def _make_sort_keys(self) -> list[Callable[[FeedHealth], int | float | str]]:
        keys: dict[Column, Callable[[FeedHealth], int | float | str]] = {
            Column.FEED: lambda f: f.name.casefold(),
            Column.STATE: lambda f: STATE_RANK.get(f.state, 0),
            Column.LAST_MESSAGE: lambda f: (
                -math.inf if f.last_message_at is None else float(f.last_message_at)
            ),
            Column.RATE: lambda f: float(f.rate),
            Column.MESSAGES: lambda f: int(f.messages),
            Column.ERRORS: lambda f: int(f.errors),
            Column.DETAIL: lambda f: f.detail.casefold(),
        }
        return [keys[column] for column in Column]

    def _brush(self, hex_color: str) -> QBrush:
        brush = self._brushes.get(hex_color)
        if brush is None:
            brush = self._brushes[hex_color] = QBrush(QColor(hex_color))
        return brush

    def _foreground(self, feed: FeedHealth, column: Column) -> QBrush | None:
        if column == Column.STATE:
            return self._brush(text_color_for(STATE_COLORS.get(feed.state, STALE_COLOR)))
        if column == Column.ERRORS and feed.errors > 0:
            return self._brush(ALARM_COLOR)
        if column == Column.LAST_MESSAGE and feed.last_message_at is None:
            return self._brush(_MUTED_TEXT)
        return None

    def _tooltip(self, feed: FeedHealth, column: Column) -> str:
        if column == Column.LAST_MESSAGE:
            if feed.last_message_at is None:
                return "No message received yet"
            return f"Last message at {exact_time(feed.last_message_at)}"
        if column == Column.STATE:
            state = STATE_TEXT.get(feed.state, str(feed.state))
            return plain_tooltip(f"{state}: {feed.detail}" if feed.detail else state)
        if column == Column.RATE:
            return f"{feed.rate:g} messages per second"
        if column == Column.DETAIL:
            return plain_tooltip(feed.detail)
        if column == Column.FEED:
            return plain_tooltip(feed.name)
        return ""

    # ------------------------------------------------------------------ queries

    def feed_at(self, row: int) -> FeedHealth:
        """The feed shown in source ``row`` (IndexError when out of range)."""
        if not 0 <= row < len(self._feeds):
            raise IndexError(f"no feed at row {row}")
        return self._feeds[row]

    def feed(self, name: str) -> FeedHealth | None:
        """The feed called ``name``, or None when it is not listed."""
        row = self._rows.get(name)
        return None if row is None else self._feeds[row]

    def row_of(self, name: str) -> int | None:
        """The source row of feed ``name``, or None."""
        return self._rows.get(name)

    def feeds(self) -> list[FeedHealth]:
        """Every feed, in source row order."""
        return list(self._feeds)

    def count_by_state(self) -> dict[FeedState, int]:
        """How many feeds are in each state (states with none are left out)."""
        counts: dict[FeedState, int] = {}
        for feed in self._feeds:
            counts[feed.state] = counts.get(feed.state, 0) + 1
        return counts

    def dead_letters(self, feed: str) -> list[DeadLetter]:
        """The dead letters last set for ``feed`` (empty when none)."""
        return list(self._letters.get(feed, ()))

    # ------------------------------------------------------------------ changes

    def update(self, feeds: Iterable[FeedHealth]) -> None:
        """Apply a batch of new or changed feed health values, keyed by feed name.

        Changed rows are announced with one ``dataChanged`` per run of adjacent rows, new
        feeds are appended with one insertion per batch; unchanged values send nothing.
        """
        latest: dict[str, FeedHealth] = {}
        for feed in feeds:
            latest[feed.name] = feed
        changed: list[int] = []
        added: list[FeedHealth] = []
        states_changed = False
        for name, feed in latest.items():
            row = self._rows.get(name)
            if row is None:
                added.append(copy.copy(feed))
                continue
            old = self._feeds[row]
            if old == feed:
                continue
            states_changed = states_changed or old.state != feed.state
            # A copy, so that callers mutating their objects cannot change rows behind
            # the views' backs.
            self._feeds[row] = copy.copy(feed)
            changed.append(row)
        last_column = len(Column) - 1
        for first, last in _runs(sorted(changed)):
            self.dataChanged.emit(self.index(first, 0), self.index(last, last_column))
        if added:
            first = len(self._feeds)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            for row, feed in enumerate(added, start=first):
                self._feeds.append(feed)
                self._rows[feed.name] = row
            self.endInsertRows()
        if added or states_changed:
            self.countsChanged.emit()

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
        if not self._feeds:
            return
        self.dataChanged.emit(
            self.index(0, Column.LAST_MESSAGE),
            self.index(len(self._feeds) - 1, Column.LAST_MESSAGE),
            [Qt.ItemDataRole.DisplayRole],
        )

    def remove(self, names: Iterable[str]) -> None:
        """Take feeds (and their dead letters) off the list; unknown names are ignored."""
        for name in names:
            row = self._rows.get(name)
            if self._letters.pop(name, None) is not None:
                self.deadLettersChanged.emit(name)
            if row is None:
                continue
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._feeds[row]
            self._rows = {feed.name: index for index, feed in enumerate(self._feeds)}
            self.endRemoveRows()
            self.countsChanged.emit()

    def clear(self) -> None:
        """Remove every feed and every dead letter."""
        if self._letters:
            names = list(self._letters)
            self._letters.clear()
            for name in names:
                self.deadLettersChanged.emit(name)
        if not self._feeds:
            return
        self.beginResetModel()
        self._feeds.clear()
        self._rows.clear()
        self.endResetModel()
        self.countsChanged.emit()


class FeedSortProxy(QSortFilterProxyModel):
    """Sorts by the clicked column's raw value, then by feed name."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)
        self._feed_model: FeedHealthModel | None = None

    def setSourceModel(self, model: QAbstractItemModel) -> None:
        """Set the source; a :class:`FeedHealthModel` gets the direct comparison path."""
        super().setSourceModel(model)
        self._feed_model = model if isinstance(model, FeedHealthModel) else None

    def lessThan(self, left: _AnyIndex, right: _AnyIndex) -> bool:
        """Compare by column value, then by feed name."""
        model = self._feed_model
        if model is None:
            return bool(super().lessThan(left, right))
        a = model.feed_at(left.row())
        b = model.feed_at(right.row())
        key = model._sort_keys[left.column()]
        a_key = key(a)
        b_key = key(b)
        if a_key != b_key:
            return a_key < b_key  # type: ignore[operator]
        return a.name < b.name


class DeadLetterModel(QAbstractTableModel):
    """The dead letters of one feed, newest first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._letters: list[DeadLetter] = []

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """Number of dead letters shown."""
        return 0 if parent.isValid() else len(self._letters)

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """Number of columns (see :class:`LetterColumn`)."""
        return 0 if parent.isValid() else len(LetterColumn)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(LetterColumn)
        ):
            return LETTER_HEADERS[LetterColumn(section)]
        return None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text (verbatim feed strings) and escaped tooltips."""
        if not index.isValid() or not 0 <= index.row() < len(self._letters):
            return None
        letter = self._letters[index.row()]
        column = LetterColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            if column == LetterColumn.TIME:
                return datetime.fromtimestamp(letter.received_at).strftime("%H:%M:%S")
            if column == LetterColumn.TOPIC:
                return letter.topic
            if column == LetterColumn.REASON:
                return letter.reason
            return letter.payload_excerpt
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == LetterColumn.TIME:
                return f"Received at {exact_time(letter.received_at)}"
            if column == LetterColumn.TOPIC:
                return plain_tooltip(letter.topic)
            if column == LetterColumn.REASON:
                return plain_tooltip(letter.reason)
            return plain_tooltip(letter.payload_excerpt)
        if role == Qt.ItemDataRole.ForegroundRole and column == LetterColumn.TIME:
            return QBrush(QColor(_MUTED_TEXT))
        return None

    def letter_at(self, row: int) -> DeadLetter:
        """The dead letter in ``row`` (IndexError when out of range)."""
        if not 0 <= row < len(self._letters):
            raise IndexError(f"no dead letter at row {row}")
        return self._letters[row]

    def letters(self) -> list[DeadLetter]:
        """The letters shown, in row order."""
        return list(self._letters)

    def set_letters(self, letters: Sequence[DeadLetter]) -> None:
        """Show ``letters``, newest first."""
        new = sorted(letters, key=lambda letter: letter.received_at, reverse=True)
        if new == self._letters:
            return
        self.beginResetModel()
        self._letters = new
        self.endResetModel()


class _SingleLineDelegate(QStyledItemDelegate):
    """Paints cell text on one line (line breaks shown as a return sign), never as markup."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: _AnyIndex) -> None:
        """Fill ``option`` as usual, then fold line breaks into return signs."""
        super().initStyleOption(option, index)
        # The base class has already turned "\n" into U+2028, which the style would draw
        # as a second line, clipped, in a one-line row.
        text = option.text
        if _LINE_BREAKS.search(text):
            option.text = _LINE_BREAKS.sub("\u23ce", text)


class _StateCellDelegate(_SingleLineDelegate):
    """Keeps the state colour of a selected row's state cell instead of the highlight."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: _AnyIndex) -> None:
        """Fill ``option`` as usual, but never as a selected cell."""
        super().initStyleOption(option, index)
        option.state &= ~QStyle.StateFlag.State_Selected


# --------------------------------------------------------------------------- panel


def _configure_table(table: QTableView, row_height: int) -> None:
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
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
    horizontal.setStretchLastSection(True)
    horizontal.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)


def _plain_label(text: str = "") -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


class FeedHealthPanel(QWidget):
    """Feed table (sortable) on top, the selected feed's dead letters below.

    The panel only asks: :attr:`pauseRequested` / :attr:`resumeRequested` carry the
    selected feed's name, and :attr:`feedSelected` tells which feed the operator is
    looking at (so that the application can load its dead letters).
    """

    pauseRequested = Signal(str)
    """The operator asked to pause this feed."""
    resumeRequested = Signal(str)
    """The operator asked to resume this feed."""
    feedSelected = Signal(str)
    """The selected feed changed; the new feed's name, or ``""`` when none is selected."""

    AGE_REFRESH_MS = 1000

    def __init__(self, model: FeedHealthModel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model if model is not None else FeedHealthModel(parent=self)
        self._proxy = FeedSortProxy(self)
        self._proxy.setSourceModel(self._model)
        self._letters_model = DeadLetterModel(self)
        self._shown_feed: str | None = None
        row_height = self.fontMetrics().height() + 8

        # Feed actions, on buttons and in the table's context menu.
        self._pause_action = QAction("Pause feed", self)
        self._pause_action.setToolTip("Ask to stop taking messages from the selected feed")
        self._pause_action.triggered.connect(self.request_pause)
        self._resume_action = QAction("Resume feed", self)
        self._resume_action.setToolTip("Ask to take messages from the selected feed again")
        self._resume_action.triggered.connect(self.request_resume)
        self._pause_button = QPushButton("Pause")
        self._pause_button.setObjectName("pauseFeedButton")
        self._pause_button.setToolTip(self._pause_action.toolTip())
        self._pause_button.clicked.connect(self.request_pause)
        self._resume_button = QPushButton("Resume")
        self._resume_button.setObjectName("resumeFeedButton")
        self._resume_button.setToolTip(self._resume_action.toolTip())
        self._resume_button.clicked.connect(self.request_resume)

        self._summary = _plain_label()
        self._summary.setObjectName("feedSummary")
        font = self._summary.font()
        font.setBold(True)
        self._summary.setFont(font)

        top_line = QHBoxLayout()
        top_line.setContentsMargins(0, 0, 0, 0)
        top_line.addWidget(self._summary, 1)
        top_line.addWidget(self._pause_button)
        top_line.addWidget(self._resume_button)

        self._table = QTableView()
        self._table.setObjectName("feedTable")
        self._table.setModel(self._proxy)
        _configure_table(self._table, row_height)
        self._table.setItemDelegate(_SingleLineDelegate(self._table))
        self._table.setItemDelegateForColumn(Column.STATE, _StateCellDelegate(self._table))
        horizontal = self._table.horizontalHeader()
        widths = {
            Column.FEED: 170,
            Column.STATE: 92,
            Column.LAST_MESSAGE: 100,
            Column.RATE: 92,
            Column.MESSAGES: 84,
            Column.ERRORS: 60,
        }
        for column, width in widths.items():
            horizontal.resizeSection(column, width)
        self._table.setSortingEnabled(True)
        self._table.sortByColumn(Column.FEED, Qt.SortOrder.AscendingOrder)
        self._table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self._table.addAction(self._pause_action)
        self._table.addAction(self._resume_action)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(4)
        top_layout.addLayout(top_line)
        top_layout.addWidget(self._table)

        # Dead letters of the selected feed.
        self._copy_action = QAction("Copy payload", self)
        self._copy_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Copy))
        self._copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self._copy_action.setToolTip("Copy the selected dead letter's payload excerpt")
        self._copy_action.triggered.connect(self.copy_selected_payload)
        self._copy_button = QPushButton("Copy payload")
        self._copy_button.setObjectName("copyPayloadButton")
        self._copy_button.setToolTip(self._copy_action.toolTip())
        self._copy_button.clicked.connect(self.copy_selected_payload)

        self._letters_title = _plain_label()
        self._letters_title.setObjectName("deadLettersTitle")
        letters_line = QHBoxLayout()
        letters_line.setContentsMargins(0, 0, 0, 0)
        letters_line.addWidget(self._letters_title, 1)
        letters_line.addWidget(self._copy_button)

        self._letters_view = QTableView()
        self._letters_view.setObjectName("deadLetterTable")
        self._letters_view.setModel(self._letters_model)
        _configure_table(self._letters_view, row_height)
        self._letters_view.setItemDelegate(_SingleLineDelegate(self._letters_view))
        letter_header = self._letters_view.horizontalHeader()
        letter_header.resizeSection(LetterColumn.TIME, 70)
        letter_header.resizeSection(LetterColumn.TOPIC, 200)
        letter_header.resizeSection(LetterColumn.REASON, 220)
        self._letters_view.addAction(self._copy_action)
        self._letters_view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

        self._payload_view = QPlainTextEdit()
        self._payload_view.setObjectName("payloadPreview")
        self._payload_view.setReadOnly(True)
        self._payload_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self._payload_view.setPlaceholderText("Select a dead letter to see its payload excerpt")
        self._payload_view.setMaximumHeight(6 * row_height)

        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.setSpacing(4)
        bottom_layout.addLayout(letters_line)
        bottom_layout.addWidget(self._letters_view, 1)
        bottom_layout.addWidget(self._payload_view)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

        self._age_timer = QTimer(self)
        self._age_timer.setInterval(self.AGE_REFRESH_MS)
        self._age_timer.timeout.connect(self._model.refresh_ages)

        self._table.selectionModel().selectionChanged.connect(self._on_feed_selection)
        self._letters_view.selectionModel().selectionChanged.connect(self._on_letter_selection)
        self._model.countsChanged.connect(self._refresh_summary)
        self._model.modelReset.connect(self._refresh_summary)
        self._model.modelReset.connect(self._sync_selected_feed)
        self._model.deadLettersChanged.connect(self._on_dead_letters_changed)
        self._refresh_summary()
        self._show_letters_of(None)
        self._update_feed_actions()
        self._update_copy_enabled()

    # ------------------------------------------------------------------ public API

    @property
    def model(self) -> FeedHealthModel:
        """The source model of the feed table."""
        return self._model

    @property
    def proxy(self) -> QSortFilterProxyModel:
        """The sorting proxy between the model and the feed table."""
        return self._proxy

    @property
    def table(self) -> QTableView:
        """The feed table (its model is the sorting proxy)."""
        return self._table

    @property
    def letters_view(self) -> QTableView:
        """The dead-letter table of the selected feed."""
        return self._letters_view

    @property
    def letters_model(self) -> DeadLetterModel:
        """The model of :attr:`letters_view`."""
        return self._letters_model

    @property
    def payload_view(self) -> QPlainTextEdit:
        """Read-only, plain-text preview of the selected dead letter's payload excerpt."""
        return self._payload_view

    @property
    def letters_title(self) -> QLabel:
        """The plain-text title above the dead letters."""
        return self._letters_title

    @property
    def summary_label(self) -> QLabel:
        """The plain-text line counting feeds by state."""
        return self._summary

    @property
    def pause_button(self) -> QPushButton:
        """Asks to pause the selected feed."""
        return self._pause_button

    @property
    def resume_button(self) -> QPushButton:
        """Asks to resume the selected feed."""
        return self._resume_button

    @property
    def pause_action(self) -> QAction:
        """Pause the selected feed (context menu)."""
        return self._pause_action

    @property
    def resume_action(self) -> QAction:
        """Resume the selected feed (context menu)."""
        return self._resume_action

    @property
    def copy_button(self) -> QPushButton:
        """Copies the selected dead letter's payload excerpt."""
        return self._copy_button

    @property
    def copy_action(self) -> QAction:
        """Copy payload (Ctrl+C in the dead-letter table)."""
        return self._copy_action

    @property
    def age_timer(self) -> QTimer:
        """The 1 s timer refreshing the ages; it runs while the panel is shown."""
        return self._age_timer

    def update_feeds(self, feeds: Iterable[FeedHealth]) -> None:
        """Apply a batch of feed health values (see :meth:`FeedHealthModel.update`)."""
        self._model.update(feeds)

    def set_dead_letters(self, feed: str, letters: Sequence[DeadLetter]) -> None:
        """Replace the dead letters of ``feed``; shown at once when it is selected."""
        self._model.set_dead_letters(feed, letters)

    def selected_feed(self) -> str | None:
        """The name of the selected feed, or None."""
        rows = self._table.selectionModel().selectedRows()
        if not rows:
            return None
        name = rows[0].data(FEED_NAME_ROLE)
        return str(name) if name is not None else None

    def select_feed(self, name: str) -> bool:
        """Select feed ``name`` in the table; False when it is not listed."""
        row = self._model.row_of(name)
        if row is None:
            return False
        index = self._proxy.mapFromSource(self._model.index(row, 0))
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
            | QItemSelectionModel.SelectionFlag.Current
        )
        self._table.selectionModel().setCurrentIndex(index, flags)
        self._table.scrollTo(index)
        return True

    def selected_letter(self) -> DeadLetter | None:
        """The selected dead letter, or None."""
        rows = self._letters_view.selectionModel().selectedRows()
        if not rows:
            return None
        return self._letters_model.letter_at(rows[0].row())

    def copy_selected_payload(self) -> str | None:
        """Put the selected dead letter's payload excerpt on the clipboard and return it."""
        letter = self.selected_letter()
        if letter is None:
            return None
        QGuiApplication.clipboard().setText(letter.payload_excerpt)
        log.debug(
            "copied dead-letter payload of feed %s (%d chars)",
            letter.feed,
            len(letter.payload_excerpt),
        )
        return letter.payload_excerpt

    def request_pause(self) -> None:
        """Ask to pause the selected feed (nothing happens when none is selected)."""
        name = self.selected_feed()
        if name is not None:
            log.debug("pause requested for feed %s", name)
            self.pauseRequested.emit(name)

    def request_resume(self) -> None:
        """Ask to resume the selected feed (nothing happens when none is selected)."""
        name = self.selected_feed()
        if name is not None:
            log.debug("resume requested for feed %s", name)
            self.resumeRequested.emit(name)

    # ------------------------------------------------------------------ events

    def showEvent(self, event: QShowEvent) -> None:
        """Refresh the ages at once and every second while shown."""
        super().showEvent(event)
        self._model.refresh_ages()
        self._age_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        """Stop refreshing ages nobody sees."""
        super().hideEvent(event)
        self._age_timer.stop()

    # ------------------------------------------------------------------ internals

    def _on_feed_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._sync_selected_feed()

    def _sync_selected_feed(self) -> None:
        name = self.selected_feed()
        self._update_feed_actions()
        if name != self._shown_feed:
            self._show_letters_of(name)
            self.feedSelected.emit(name or "")

    def _on_dead_letters_changed(self, feed: str) -> None:
        if feed == self._shown_feed:
            self._show_letters_of(feed)

    def _show_letters_of(self, feed: str | None) -> None:
        keep = self.selected_letter() if feed == self._shown_feed else None
        self._shown_feed = feed
        letters = self._model.dead_letters(feed) if feed is not None else []
        self._letters_model.set_letters(letters)
        if feed is None:
            self._letters_title.setText("Dead letters: select a feed")
        else:
            self._letters_title.setText(f"Dead letters of {feed}: {len(letters)}")
        if keep is not None and self.selected_letter() != keep:
            shown = self._letters_model.letters()
            if keep in shown:
                self._letters_view.selectRow(shown.index(keep))
        self._on_letter_selection()

    def _on_letter_selection(
        self, _selected: QItemSelection | None = None, _deselected: QItemSelection | None = None
    ) -> None:
        letter = self.selected_letter()
        self._payload_view.setPlainText("" if letter is None else letter.payload_excerpt)
        self._update_copy_enabled()

    def _update_copy_enabled(self) -> None:
        enabled = self.selected_letter() is not None
        self._copy_action.setEnabled(enabled)
        self._copy_button.setEnabled(enabled)

    def _update_feed_actions(self) -> None:
        enabled = self.selected_feed() is not None
        for action in (self._pause_action, self._resume_action):
            action.setEnabled(enabled)
        for button in (self._pause_button, self._resume_button):
            button.setEnabled(enabled)

    def _refresh_summary(self) -> None:
        total = self._model.rowCount()
        counts = self._model.count_by_state()
        parts = [f"{total} feed" + ("" if total == 1 else "s")]
        for state in (
            FeedState.CONNECTED,
            FeedState.PAUSED,
            FeedState.CONNECTING,
            FeedState.STALE,
            FeedState.FAILING,
            FeedState.DOWN,
        ):
            if counts.get(state):
                parts.append(f"{counts[state]} {STATE_TEXT[state].lower()}")
        self._summary.setText(" \u00b7 ".join(parts))
