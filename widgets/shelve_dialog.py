"""The question an operator answers to shelve alarms: for how long, and why."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QWidget,
)

from widgets.i18n import QT_TRANSLATE_NOOP, translate

SHELVE_CHOICES: tuple[tuple[str, float | None], ...] = (
    (QT_TRANSLATE_NOOP("ShelveDialog", "15 minutes"), 15 * 60.0),
    (QT_TRANSLATE_NOOP("ShelveDialog", "1 hour"), 3600.0),
    (QT_TRANSLATE_NOOP("ShelveDialog", "4 hours"), 4 * 3600.0),
    (QT_TRANSLATE_NOOP("ShelveDialog", "8 hours"), 8 * 3600.0),
    (QT_TRANSLATE_NOOP("ShelveDialog", "Until it clears"), None),
)
"""What the duration box offers: a label and seconds (None: until each alarm clears)."""


class ShelveDialog(QDialog):
    """Asks for a shelving time and a reason; OK stays off until a reason is given."""

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(
            translate("ShelveDialog", "Shelve {count} alarm(s)").format(count=count)
        )
        self.duration_box = QComboBox()
        for label, seconds in SHELVE_CHOICES:
            self.duration_box.addItem(translate("ShelveDialog", label), seconds)
        self.reason_edit = QLineEdit()
        self.reason_edit.setMinimumWidth(320)
        self.reason_edit.setPlaceholderText(
            translate("ShelveDialog", "Why, e.g. sensor under maintenance")
        )
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self._ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self._ok.setEnabled(False)
        self.reason_edit.textChanged.connect(lambda text: self._ok.setEnabled(bool(text.strip())))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(translate("ShelveDialog", "For:"), self.duration_box)
        form.addRow(translate("ShelveDialog", "Reason:"), self.reason_edit)
        form.addRow(buttons)
        self.reason_edit.setFocus()

    def answer(self) -> tuple[float | None, str]:
        """The chosen duration in seconds (None: until it clears) and the reason."""
        return self.duration_box.currentData(), self.reason_edit.text().strip()


def ask_shelve(count: int, parent: QWidget | None = None) -> tuple[float | None, str] | None:
    """Show the dialog modally; the answer, or None when cancelled."""
    dialog = ShelveDialog(count, parent)
    return dialog.answer() if dialog.exec() == QDialog.DialogCode.Accepted else None
