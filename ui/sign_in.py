"""The sign-in dialog: at start (unless single-user) and for a shift change (switch user).

The checking, the accounts and the back-off after failures live in
:mod:`services.auth.signin`; the dialog shows the outcome and, while a name must wait, keeps
its Sign in button off with a countdown. Every text is plain: user names are never markup.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from services.auth.roles import Principal
from services.auth.signin import Authenticator, SignInResult
from ui.i18n_terms import role_text
from widgets.i18n import translate
from widgets.palette import STATUS_ALARM_TEXT_COLOR
from widgets.plain_text import plain_label

COUNTDOWN_MS = 250
"""How often the wait after failed attempts is checked while it lasts."""


class SignInDialog(QDialog):
    """Asks for a user name and password; :attr:`principal` is who signed in once accepted."""

    def __init__(
        self,
        authenticator: Authenticator,
        parent: QWidget | None = None,
        *,
        switching_from: Principal | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self._authenticator = authenticator
        self.principal: Principal | None = None
        self.last_result: SignInResult | None = None
        switching = switching_from is not None
        self.setWindowTitle(
            translate("SignInDialog", "Switch user — CityOps")
            if switching
            else translate("SignInDialog", "Sign in — CityOps")
        )
        if switching_from is not None:
            intro = translate(
                "SignInDialog",
                "Signed in now: {user} ({role}). Sign in as the next person on this workstation.",
            ).format(user=switching_from.user, role=role_text(switching_from.role))
        else:
            intro = translate("SignInDialog", "Sign in to work on this workstation.")
        self.intro_label = plain_label(intro)
        self.intro_label.setWordWrap(True)
        self.workstation_label = plain_label(authenticator.workstation)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("signInName")
        self.name_edit.setMaxLength(64)
        self.name_edit.textChanged.connect(self._update_wait)
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("signInPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setMaxLength(1024)
        self.message_label = plain_label()
        self.message_label.setObjectName("signInMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet(f"color:{STATUS_ALARM_TEXT_COLOR}")
        self.message_label.setMinimumWidth(320)

        buttons = QDialogButtonBox()
        self.sign_in_button = QPushButton(translate("SignInDialog", "Sign in"))
        self.sign_in_button.setObjectName("signInButton")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.setAutoDefault(True)
        buttons.addButton(self.sign_in_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(
            translate("SignInDialog", "Cancel") if switching else translate("SignInDialog", "Quit"),
            QDialogButtonBox.ButtonRole.RejectRole,
        )
        buttons.accepted.connect(self.attempt)
        buttons.rejected.connect(self.reject)

        form = QFormLayout(self)
        form.addRow(self.intro_label)
        form.addRow(translate("SignInDialog", "Workstation"), self.workstation_label)
        form.addRow(translate("SignInDialog", "&User name"), self.name_edit)
        form.addRow(translate("SignInDialog", "&Password"), self.password_edit)
        form.addRow(self.message_label)
        form.addRow(buttons)

        self._countdown = QTimer(self)
        self._countdown.setInterval(COUNTDOWN_MS)
        self._countdown.timeout.connect(self._update_wait)
        self.name_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def attempt(self) -> bool:
        """Try the name and password typed; accepts the dialog when they are right."""
        if not self.sign_in_button.isEnabled():
            return False
        name = self.name_edit.text()
        result = self._authenticator.sign_in(name, self.password_edit.text())
        self.last_result = result
        if result.ok:
            self.principal = result.principal
            self.password_edit.clear()
            self.message_label.clear()
            self.accept()
            return True
        self.password_edit.clear()
        self.message_label.setText(result.message)
        self._update_wait()
        (self.password_edit if name.strip() else self.name_edit).setFocus()
        return False

    def _update_wait(self) -> None:
        """While the name typed must wait after failures, the button is off and says how
        long; the countdown stops when the wait is over."""
        wait = self._authenticator.wait_for(self.name_edit.text())
        waiting = wait > 0
        self.sign_in_button.setEnabled(not waiting)
        if waiting:
            self.sign_in_button.setText(
                translate("SignInDialog", "Wait {seconds} s").format(seconds=math.ceil(wait))
            )
            if not self._countdown.isActive():
                self._countdown.start()
            return
        self._countdown.stop()
        sign_in = translate("SignInDialog", "Sign in")
        if self.sign_in_button.text() != sign_in:
            self.sign_in_button.setText(sign_in)
            self.password_edit.setFocus()

    def waiting(self) -> bool:
        """Whether the name typed must wait before its next attempt."""
        return not self.sign_in_button.isEnabled()
