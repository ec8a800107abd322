"""The feed-health panel: the feed table on top, the selected feed's dead letters below.

The rows come from :class:`widgets.feed_model.FeedHealthModel` and the letters from
:class:`widgets.dead_letter_model.DeadLetterModel`. The panel never pauses or resumes a
feed itself: it asks with ``pauseRequested`` / ``resumeRequested`` and the application
decides.

Strings that come from feeds (names, details, topics, reasons, payloads) are only ever
shown through ``DisplayRole`` of item views, plain-text labels and a plain-text editor,
and tooltips carrying them are escaped, so they can never be rendered as markup.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QGuiApplication, QHideEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from services.model import DeadLetter, FeedHealth, FeedState
from widgets.dead_letter_model import DeadLetterModel, LetterColumn
from widgets.feed_model import FEED_NAME_ROLE, Column, FeedHealthModel, FeedSortProxy
from widgets.i18n import translate
from widgets.plain_text import SingleLineDelegate, plain_label
from widgets.table_model import configure_table
from widgets.terms import feed_state_word

log = logging.getLogger(__name__)


class _StateCellDelegate(SingleLineDelegate):
    """Keeps the state colour of a selected row's state cell instead of the highlight."""

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        """Fill ``option`` as usual, but never as a selected cell."""
        super().initStyleOption(option, index)
        option.state &= ~QStyle.StateFlag.State_Selected


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
        self._pause_action = QAction(translate("FeedHealth", "Pause feed"), self)
        self._pause_action.setToolTip(
            translate("FeedHealth", "Ask to stop taking messages from the selected feed")
        )
        self._pause_action.triggered.connect(self.request_pause)
        self._resume_action = QAction(translate("FeedHealth", "Resume feed"), self)
        self._resume_action.setToolTip(
            translate("FeedHealth", "Ask to take messages from the selected feed again")
        )
        self._resume_action.triggered.connect(self.request_resume)
        self._pause_button = QPushButton(translate("FeedHealth", "Pause"))
        self._pause_button.setObjectName("pauseFeedButton")
        self._pause_button.setToolTip(self._pause_action.toolTip())
        self._pause_button.clicked.connect(self.request_pause)
        self._resume_button = QPushButton(translate("FeedHealth", "Resume"))
        self._resume_button.setObjectName("resumeFeedButton")
        self._resume_button.setToolTip(self._resume_action.toolTip())
        self._resume_button.clicked.connect(self.request_resume)

        self._summary = plain_label()
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
        configure_table(self._table, row_height)
        self._table.horizontalHeader().setStretchLastSection(True)
        self._table.setItemDelegate(SingleLineDelegate(self._table))
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
        self._copy_action = QAction(translate("FeedHealth", "Copy payload"), self)
        self._copy_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Copy))
        self._copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self._copy_action.setToolTip(
            translate("FeedHealth", "Copy the selected dead letter's payload excerpt")
        )
        self._copy_action.triggered.connect(self.copy_selected_payload)
        self._copy_button = QPushButton(translate("FeedHealth", "Copy payload"))
        self._copy_button.setObjectName("copyPayloadButton")
        self._copy_button.setToolTip(self._copy_action.toolTip())
        self._copy_button.clicked.connect(self.copy_selected_payload)

        self._letters_title = plain_label()
        self._letters_title.setObjectName("deadLettersTitle")
        letters_line = QHBoxLayout()
        letters_line.setContentsMargins(0, 0, 0, 0)
        letters_line.addWidget(self._letters_title, 1)
        letters_line.addWidget(self._copy_button)

        self._letters_view = QTableView()
        self._letters_view.setObjectName("deadLetterTable")
        self._letters_view.setModel(self._letters_model)
        configure_table(self._letters_view, row_height)
        self._letters_view.horizontalHeader().setStretchLastSection(True)
        self._letters_view.setItemDelegate(SingleLineDelegate(self._letters_view))
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
        self._payload_view.setPlaceholderText(
            translate("FeedHealth", "Select a dead letter to see its payload excerpt")
        )
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
            self._letters_title.setText(translate("FeedHealth", "Dead letters: select a feed"))
        else:
            self._letters_title.setText(
                translate("FeedHealth", "Dead letters of {feed}: {count}").format(
                    feed=feed, count=len(letters)
                )
            )
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
        parts = [
            translate("FeedHealth", "1 feed")
            if total == 1
            else translate("FeedHealth", "{count} feeds").format(count=total)
        ]
        for state in (
            FeedState.CONNECTED,
            FeedState.PAUSED,
            FeedState.CONNECTING,
            FeedState.STALE,
            FeedState.FAILING,
            FeedState.DOWN,
        ):
            if counts.get(state):
                parts.append(f"{counts[state]} {feed_state_word(state)}")
        self._summary.setText(" \u00b7 ".join(parts))
