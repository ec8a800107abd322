"""The alarm journal: every alarm transition and operator action in a window (the last
hour, 8 hours or 24 hours), filterable by typed text, exportable, newest first."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from services.model import TimelineEntry
from widgets.i18n import QT_TRANSLATE_NOOP, translate
from widgets.incidents_view import TimelineModel
from widgets.plain_text import plain_label
from widgets.table_model import configure_table
from widgets.text_match import fold

WINDOWS: tuple[tuple[str, float], ...] = (
    (QT_TRANSLATE_NOOP("Journal", "Last hour"), 3_600.0),
    (QT_TRANSLATE_NOOP("Journal", "Last 8 hours (a shift)"), 8 * 3_600.0),
    (QT_TRANSLATE_NOOP("Journal", "Last 24 hours"), 24 * 3_600.0),
)
"""What the window box offers: a label and seconds back from now."""

Fetch = Callable[[float, float], Sequence[TimelineEntry]]
"""Reads the journal of [since, until] (the window gives it the cache's)."""


class JournalView(QWidget):
    """The alarm journal of a window, newest first; double-click or Enter on a row asks for
    its alarm (:attr:`alarmActivated`); Export… asks for the window (:attr:`exportRequested`)."""

    alarmActivated = Signal(str)
    momentActivated = Signal(float)
    """A row was activated: the moment of its transition or action (a replay moves there)."""
    replayRequested = Signal(float)
    """Replay from the selected row's moment (the Replay button)."""
    exportRequested = Signal(float, float)
    """The window (since, until) to export."""

    def __init__(
        self,
        fetch: Fetch | None = None,
        entity_name: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.time,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self._clock = clock
        self._entries: list[TimelineEntry] = []
        self._window = (0.0, 0.0)
        self.model = TimelineModel(entity_name, self)
        self.window_box = QComboBox()
        for label, _seconds in WINDOWS:
            self.window_box.addItem(translate("Journal", label))
        self.window_box.setCurrentIndex(1)
        self.window_box.currentIndexChanged.connect(lambda _index: self.refresh())
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(
            translate("Journal", "Filter: alarm, state, action, person, note…")
        )
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(lambda _text: self._show())
        self.refresh_button = QPushButton(translate("Journal", "Refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button = QPushButton(translate("Journal", "Export…"))
        self.export_button.setToolTip(translate("Journal", "Save this window's journal as CSV"))
        self.export_button.clicked.connect(lambda: self.exportRequested.emit(*self._window))
        self.replay_button = QPushButton(translate("Journal", "Replay from here"))
        self.replay_button.setToolTip(
            translate("Journal", "Show the city as it was at the selected entry")
        )
        self.replay_button.clicked.connect(self._replay_selected)
        self.count_label = plain_label()
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.window_box)
        controls.addWidget(self.filter_edit, 1)
        controls.addWidget(self.refresh_button)
        controls.addWidget(self.export_button)
        controls.addWidget(self.replay_button)
        self.table = QTableView()
        self.table.setObjectName("journalTable")
        self.table.setModel(self.model)
        configure_table(self.table, self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in ((0, 80), (1, 380), (2, 170)):  # time, what, who; note stretches
            header.resizeSection(column, width)
        self.table.doubleClicked.connect(self._activated)
        self.table.activated.connect(self._activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.count_label)
        layout.addWidget(self.table)
        self.export_button.setEnabled(fetch is not None)
        self.refresh_button.setEnabled(fetch is not None)

    @property
    def window_seconds(self) -> float:
        return WINDOWS[max(0, self.window_box.currentIndex())][1]

    def refresh(self) -> None:
        """Read the window's journal again (up to now)."""
        if self._fetch is None:
            return
        until = self._clock()
        since = until - self.window_seconds
        self._window = (since, until)
        self._entries = list(self._fetch(since, until))
        self._show()

    def _show(self) -> None:
        wanted = fold(self.filter_edit.text().strip())
        shown = [
            entry
            for entry in reversed(self._entries)  # newest first
            if not wanted or wanted in fold(self._row_text(entry))
        ]
        self.model.reset_items(shown)
        self.count_label.setText(
            translate("Journal", "{shown} of {total} entries").format(
                shown=len(shown), total=len(self._entries)
            )
        )

    def _row_text(self, entry: TimelineEntry) -> str:
        return " ".join(
            (
                self.model.what_text(entry),
                self.model.who_text(entry),
                self.model.note_text(entry),
                entry.alarm_id,
            )
        )

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            entry = self.model.item_at(index.row())
            if entry.alarm_id:
                self.alarmActivated.emit(entry.alarm_id)
            self.momentActivated.emit(entry.ts)

    def _replay_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        index = rows[0] if rows else self.table.currentIndex()
        if index.isValid():
            self.replayRequested.emit(self.model.item_at(index.row()).ts)

    def showEvent(self, event: QShowEvent) -> None:
        """Fresh every time it is shown."""
        super().showEvent(event)
        self.refresh()


__all__ = ["WINDOWS", "JournalView"]
