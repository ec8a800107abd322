"""The Journal dock: the alarm journal of the last hours, read from the offline cache;
a row selects its alarm in the list; Export… writes the window as CSV."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMessageBox

from services.engine.remote import EngineError
from services.model import TimelineEntry
from services.store.cache import CacheError
from widgets.i18n import translate
from widgets.journal_view import Fetch, JournalView
from widgets.plain_text import plain_message_box

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)

ExportJournal = Callable[[Path, float, float], int]
"""Writes the journal of (since, until) to a CSV file; returns the rows written."""


class JournalControls:
    """Puts the journal dock in ``window``; without ``fetch`` (no cache) it stays empty."""

    def __init__(
        self, window: MainWindow, fetch: Fetch | None, export: ExportJournal | None
    ) -> None:
        self.window = window
        self._export = export
        self._fetch = fetch
        self.view = JournalView(None if fetch is None else self._read, self.window.entity_name)
        self.view.alarmActivated.connect(window.select_alarm)
        self.view.exportRequested.connect(self.export_dialog)
        self.view.export_button.setEnabled(fetch is not None and export is not None)
        window.dock_panels.add("journal", translate("MainWindow", "Journal"), self.view)

    def _read(self, since: float, until: float) -> Sequence[TimelineEntry]:
        """The journal from the cache; nothing (and why, in the status bar) when it cannot
        be read."""
        assert self._fetch is not None
        try:
            return self._fetch(since, until)
        except CacheError as error:
            log.warning("journal not read: %s", error)
            self.window.statusBar().showMessage(
                translate("MainWindow", "Journal not read: {error}").format(error=error), 8000
            )
            return []

    def export_dialog(self, since: float, until: float) -> None:
        """Ask where to write the window's journal as CSV, then write it."""
        if self._export is None:
            return
        path, _filter = QFileDialog.getSaveFileName(
            self.window,
            translate("MainWindow", "Export the alarm journal"),
            "alarm-journal.csv",
            translate("MainWindow", "CSV files (*.csv)"),
        )
        if path:
            self.export(Path(path), since, until)

    def export(self, path: Path, since: float, until: float) -> bool:
        """Write the journal of (since, until) to ``path``; False (and a message) on failure."""
        assert self._export is not None
        try:
            count = self._export(path, since, until)
        except (OSError, CacheError, EngineError) as error:
            text = translate("MainWindow", "Could not write {path}:\n{error}").format(
                path=path, error=error
            )
            title = translate("MainWindow", "Export failed")
            plain_message_box(self.window, QMessageBox.Icon.Critical, title, text).open()
            return False
        self.window.statusBar().showMessage(
            translate("MainWindow", "Exported {count} journal entries to {path}").format(
                count=count, path=path
            ),
            8000,
        )
        return True
