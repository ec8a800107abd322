"""The question an operator answers to open an incident: its title, priority and a first note."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from services.model import INCIDENT_PRIORITIES
from widgets.i18n import translate
from widgets.incident_terms import priority_text

TITLE_CHARS = 200
"""How many characters the title box takes (the services' limit)."""


class NewIncidentDialog(QDialog):
    """Asks for a title (OK stays off without one), a priority and an optional first note."""

    def __init__(self, alarms: int, priority: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newIncidentDialog")
        self.setWindowTitle(
            translate("IncidentDialog", "Open incident from {count} alarm(s)").format(count=alarms)
            if alarms
            else translate("IncidentDialog", "Open incident")
        )
        self.title_edit = QLineEdit()
        self.title_edit.setMaxLength(TITLE_CHARS)
        self.title_edit.setMinimumWidth(360)
        self.title_edit.setPlaceholderText(
            translate("IncidentDialog", "What happened, e.g. smoke over Heshan district")
        )
        self.priority_box = QComboBox()
        for level in INCIDENT_PRIORITIES:
            self.priority_box.addItem(priority_text(level), level)
        self.priority_box.setCurrentIndex(max(0, self.priority_box.findData(priority)))
        self.note_edit = QPlainTextEdit()
        self.note_edit.setPlaceholderText(translate("IncidentDialog", "First note (optional)"))
        self.note_edit.setFixedHeight(self.fontMetrics().height() * 5)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self._ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self._ok.setEnabled(False)
        self.title_edit.textChanged.connect(lambda text: self._ok.setEnabled(bool(text.strip())))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(translate("IncidentDialog", "Title:"), self.title_edit)
        form.addRow(translate("IncidentDialog", "Priority:"), self.priority_box)
        form.addRow(translate("IncidentDialog", "Note:"), self.note_edit)
        form.addRow(buttons)
        self.title_edit.setFocus()

    def answer(self) -> tuple[str, int, str]:
        """The title, the priority (1 most urgent) and the note ("" for none)."""
        return (
            self.title_edit.text().strip(),
            int(self.priority_box.currentData()),
            self.note_edit.toPlainText().strip(),
        )


def ask_new_incident(
    alarms: int, priority: int, parent: QWidget | None = None
) -> tuple[str, int, str] | None:
    """Show the dialog modally; (title, priority, note), or None when cancelled."""
    dialog = NewIncidentDialog(alarms, priority, parent)
    return dialog.answer() if dialog.exec() == QDialog.DialogCode.Accepted else None
