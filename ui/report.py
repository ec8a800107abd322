"""File ▸ Handover report…: a dialog for the window (this shift, the last 8 or 24 hours, or
custom) and the output file, then the report built and drawn in a worker thread with a
progress dialog that can cancel it; a status-bar message or an error box at the end.

The worker reads the cache through a read-only connection of its own and draws with
QTextDocument, QPdfWriter and QImage (no widgets); its progress and its end come back to the
GUI thread through queued signals. It is a ``QThread`` rather than a Python thread because
``QTextDocument.print_`` starts a timer, which needs the thread's Qt event dispatcher.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QDateTime, QObject, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QWidget,
)

from services.config import AppConfig
from services.report.handover import (
    OUTPUT_SUFFIXES,
    ReportCancelled,
    ReportError,
    build_report,
)
from services.timeutil import named_window
from ui.report_render import demo_districts, write_report
from widgets.i18n import translate
from widgets.plain_text import plain_message_box

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)


class WindowChoice(enum.Enum):
    """The windows the dialog offers."""

    SHIFT = "shift"
    LAST_8H = "8h"
    LAST_24H = "day"
    CUSTOM = "custom"


def window_of(
    choice: WindowChoice, now: float, config: AppConfig, custom: tuple[float, float]
) -> tuple[float, float]:
    """(since, until) of ``choice`` at ``now``; this shift starts at the latest of the
    config's ``[review] shifts``."""
    if choice is WindowChoice.CUSTOM:
        return custom
    return named_window(choice.value, now, config.review.shifts)


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What the dialog asked for."""

    since: float
    until: float
    path: Path


class ReportDialog(QDialog):
    """Asks for the report's window and the file to write (its suffix: PDF or HTML)."""

    def __init__(self, config: AppConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.setObjectName("handoverReportDialog")
        self.setWindowTitle(translate("HandoverReport", "Handover report"))
        self.choice = QComboBox()
        for choice, text in (
            (WindowChoice.SHIFT, translate("HandoverReport", "This shift")),
            (WindowChoice.LAST_8H, translate("HandoverReport", "Last 8 hours")),
            (WindowChoice.LAST_24H, translate("HandoverReport", "Last 24 hours")),
            (WindowChoice.CUSTOM, translate("HandoverReport", "Custom…")),
        ):
            self.choice.addItem(text, choice)
        now = QDateTime.currentDateTime()
        self.since_edit = QDateTimeEdit(now.addSecs(-8 * 3_600))
        self.until_edit = QDateTimeEdit(now)
        for edit in (self.since_edit, self.until_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.path_edit = QLineEdit(str(Path.home() / "handover-report.pdf"))
        browse = QPushButton(translate("HandoverReport", "Browse…"))
        browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path_edit, 1)
        file_row.addWidget(browse)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(
            translate("HandoverReport", "Make report")
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(translate("HandoverReport", "Window:"), self.choice)
        form.addRow(translate("HandoverReport", "From:"), self.since_edit)
        form.addRow(translate("HandoverReport", "To:"), self.until_edit)
        form.addRow(translate("HandoverReport", "File (.pdf or .html):"), file_row)
        form.addRow(buttons)
        self.choice.currentIndexChanged.connect(self._choice_changed)
        self._choice_changed()

    def _choice_changed(self) -> None:
        """Custom windows are typed in; the others are shown as they stand now."""
        choice = self.choice.currentData()
        custom = choice is WindowChoice.CUSTOM
        self.since_edit.setEnabled(custom)
        self.until_edit.setEnabled(custom)
        if not custom:
            since, until = window_of(choice, time.time(), self.config, (0.0, 0.0))
            self.since_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(since)))
            self.until_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(until)))

    def _browse(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self,
            translate("HandoverReport", "Save the handover report"),
            self.path_edit.text(),
            translate("HandoverReport", "PDF (*.pdf);;HTML (*.html)"),
        )
        if path:
            self.path_edit.setText(path)

    def problem(self, now: float) -> str:
        """Why the dialog's answer cannot be used ("" when it can)."""
        request = self.request(now)
        if request.since >= request.until:
            return translate("HandoverReport", "The window must start before it ends.")
        if request.path.suffix.lower() not in OUTPUT_SUFFIXES:
            return translate("HandoverReport", "Choose a file ending in .pdf or .html.")
        if not request.path.parent.is_dir():
            return translate("HandoverReport", "The folder {folder} does not exist.").format(
                folder=request.path.parent
            )
        return ""

    def request(self, now: float) -> ReportRequest:
        """The window and file as chosen (``now``: the end of the relative windows)."""
        custom = (
            self.since_edit.dateTime().toSecsSinceEpoch() * 1.0,
            self.until_edit.dateTime().toSecsSinceEpoch() * 1.0,
        )
        choice = self.choice.currentData()
        since, until = window_of(choice, now, self.config, custom)
        return ReportRequest(since, until, Path(self.path_edit.text().strip()).expanduser())

    def accept(self) -> None:
        """Close only with an answer that can be used; else say what is wrong."""
        problem = self.problem(time.time())
        if problem:
            title = translate("HandoverReport", "Handover report")
            plain_message_box(self, QMessageBox.Icon.Warning, title, problem).open()
            return
        super().accept()


class _Worker(QThread):
    """A thread that runs one function."""

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self._work = work

    def run(self) -> None:
        """The thread's body: the work."""
        self._work()


class ReportJob(QObject):
    """Builds and writes one report in a worker thread; its signals arrive queued in the
    thread the job was made in (the GUI's)."""

    progressed = Signal(int, int)
    """Steps done, steps in all."""
    succeeded = Signal(str)
    """The file written."""
    failed = Signal(str)
    """Why the report could not be made."""
    cancelled = Signal()

    def __init__(
        self,
        cache_path: Path,
        config: AppConfig,
        request: ReportRequest,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.cache_path = cache_path
        self.config = config
        self.request = request
        self._stop = False
        self._thread = _Worker(self._run)
        self._thread.setObjectName("cityops-report")
        app = QCoreApplication.instance()
        if app is not None:  # a quitting application waits for the worker to stop
            app.aboutToQuit.connect(self.stop)

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def cancel(self) -> None:
        """Ask the worker to stop at its next step."""
        self._stop = True

    def stopped(self) -> bool:
        """Whether the worker was asked to stop (read by the worker between steps)."""
        return self._stop

    def wait(self, timeout_s: float = 30.0) -> bool:
        """Wait for the worker to end; False on time-out."""
        return self._thread.wait(int(timeout_s * 1000))

    def stop(self) -> None:
        """Cancel and wait for the worker (the application is quitting)."""
        self.cancel()
        if not self.wait(10.0):
            log.warning("the handover report's worker did not stop in time")

    def _run(self) -> None:
        request = self.request
        try:
            report = build_report(
                self.cache_path,
                self.config,
                request.since,
                request.until,
                progress=self._progress,
                cancelled=self.stopped,
            )
            if self._stop:
                raise ReportCancelled("the handover report was cancelled")
            districts = demo_districts() if self.config.demo else None
            write_report(report, request.path, districts)
        except ReportCancelled:
            log.info("handover report cancelled")
            self.cancelled.emit()
        except ReportError as error:
            self.failed.emit(str(error))
        except OSError as error:
            self.failed.emit(
                translate("HandoverReport", "Could not write {path}: {error}").format(
                    path=request.path, error=error.strerror or error
                )
            )
        except Exception as error:  # the worker must always report its end
            log.exception("the handover report failed")
            self.failed.emit(str(error) or type(error).__name__)
        else:
            self.succeeded.emit(str(request.path))

    def _progress(self, done: int, total: int) -> None:
        # The last step is drawing and writing the file, after the build's own steps.
        self.progressed.emit(done, total + 1)


class HandoverReports:
    """File ▸ Handover report… of a window: the dialog, the job and its progress."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.job: ReportJob | None = None
        self.progress: QProgressDialog | None = None

    def cache_path(self) -> Path | None:
        """The offline cache file of the running session (None: the window has none)."""
        return self.window.cache_path

    def open_dialog(self) -> ReportDialog | None:
        """Ask for a window and a file, then make the report (None: no cache to read)."""
        if self.cache_path() is None:
            self._message(
                QMessageBox.Icon.Warning,
                translate("HandoverReport", "There is no offline cache to make a report from."),
            )
            return None
        dialog = ReportDialog(self.window.config, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.start(dialog.request(time.time())))
        dialog.open()
        return dialog

    def start(self, request: ReportRequest) -> ReportJob | None:
        """Make the report asked for in the background (one at a time)."""
        path = self.cache_path()
        if path is None or self.job is not None:
            return None
        job = ReportJob(path, self.window.config, request, self.window)
        progress = QProgressDialog(
            translate("HandoverReport", "Making the handover report…"),
            translate("HandoverReport", "Cancel"),
            0,
            0,
            self.window,
        )
        progress.setWindowTitle(translate("HandoverReport", "Handover report"))
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.canceled.connect(job.cancel)
        job.progressed.connect(self._show_progress)
        job.succeeded.connect(self._succeeded)
        job.failed.connect(self._failed)
        job.cancelled.connect(self._cancelled)
        self.job, self.progress = job, progress
        progress.show()
        job.start()
        return job

    def _show_progress(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress.setMaximum(total)
            self.progress.setValue(done)

    def _finish(self) -> None:
        if self.progress is not None:
            self.progress.canceled.disconnect()
            self.progress.close()
            self.progress.deleteLater()
        if self.job is not None:
            self.job.wait()  # its thread is returning: it sent its last signal
            self.job.deleteLater()
        self.job = self.progress = None

    def _succeeded(self, path: str) -> None:
        self._finish()
        self.window.statusBar().showMessage(
            translate("HandoverReport", "Handover report written to {path}").format(path=path),
            10_000,
        )

    def _failed(self, reason: str) -> None:
        self._finish()
        self._message(
            QMessageBox.Icon.Critical,
            translate("HandoverReport", "The handover report could not be made:\n{reason}").format(
                reason=reason
            ),
        )

    def _cancelled(self) -> None:
        self._finish()
        self.window.statusBar().showMessage(
            translate("HandoverReport", "Handover report cancelled"), 5_000
        )

    def _message(self, icon: QMessageBox.Icon, text: str) -> None:
        title = translate("HandoverReport", "Handover report")
        box = plain_message_box(self.window, icon, title, text)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
