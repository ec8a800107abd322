"""The sign-in dialog, switching user at a shift change, and what a role is offered."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from services.auth.roles import Principal, Role
from services.auth.signin import WRONG, Authenticator
from services.config import AppConfig, FeedConfig, RuleConfig
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.model import AlarmState
from services.store.cache import OfflineCache
from tests.helpers.accounts import PASSWORD, FakeClock, authenticator
from tests.helpers.cli import run_cityops
from ui.main_window import MainWindow
from ui.runtime import record_sign_ins, sign_in_at_start
from ui.sign_in import SignInDialog

CONFIG = AppConfig(
    source="test",
    operator="duty",
    workstation="WS-07",
    feeds=(FeedConfig(name="air", topic="a/#", domain="environment"),),
    rules=(RuleConfig(metric="pm25", high=75, high_high=150),),
)
USERS = {"li.wei": Role.OPERATOR, "zhang.min": Role.VIEWER, "<b>boss</b>": Role.SUPERVISOR}


def message(entity: str, pm25: float, ts: float) -> RawMessage:
    payload = {"id": entity, "lat": 28.57, "lon": 112.36, "pm25": pm25, "ts": ts}
    return RawMessage("air", f"a/{entity}", json.dumps(payload).encode(), ts)


@pytest.fixture
def auth(tmp_path: Path) -> tuple[Authenticator, FakeClock]:
    return authenticator(tmp_path / "room", USERS)


@pytest.fixture
def pipeline(cache_dir: Path) -> Iterator[IngestPipeline]:
    cache = OfflineCache(cache_dir)
    pipe = IngestPipeline(CONFIG, cache, flush_interval=0.0)
    yield pipe
    pipe.stop()
    cache.close()


def open_window(
    qtbot: QtBot,
    pipeline: IngestPipeline,
    principal: Principal,
    authenticator: Authenticator | None = None,
) -> MainWindow:
    """A window whose acknowledge reads its principal at the time of the action (as
    ui.runtime.build_window wires it), with two unacknowledged alarms listed."""
    window: MainWindow

    def acknowledge(ids: list[str], note: str) -> object:
        return pipeline.acknowledge(ids, window.principal, note)

    window = MainWindow(
        CONFIG, acknowledge=acknowledge, principal=principal, authenticator=authenticator
    )
    qtbot.addWidget(window)
    pipeline.process_batch([message("s1", 100, 1), message("s2", 200, 1)])
    window.apply_delta(pipeline.take_delta())
    return window


def sign_in(qtbot: QtBot, dialog: SignInDialog, name: str, password: str) -> None:
    dialog.name_edit.clear()
    qtbot.keyClicks(dialog.name_edit, name)
    dialog.password_edit.clear()
    qtbot.keyClicks(dialog.password_edit, password)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)


def test_the_right_password_signs_in(
    qtbot: QtBot, auth: tuple[Authenticator, FakeClock], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dialog = SignInDialog(auth[0])
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.windowTitle() == "Sign in — CityOps"
    assert dialog.workstation_label.text() == "WS-07"
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        sign_in(qtbot, dialog, "li.wei", PASSWORD)
    assert dialog.principal == Principal("li.wei", Role.OPERATOR, "WS-07")
    assert dialog.password_edit.text() == ""
    assert PASSWORD not in caplog.text


def test_a_wrong_password_waits_longer_each_time(
    qtbot: QtBot, auth: tuple[Authenticator, FakeClock], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    authenticator, clock = auth
    dialog = SignInDialog(authenticator)
    qtbot.addWidget(dialog)
    dialog.show()
    sign_in(qtbot, dialog, "li.wei", "not the password")
    assert dialog.result() != SignInDialog.DialogCode.Accepted and dialog.principal is None
    assert dialog.message_label.text() == WRONG
    assert dialog.password_edit.text() == ""
    assert dialog.waiting() and dialog.sign_in_button.text() == "Wait 1 s"
    # While it waits, Enter and clicks try nothing (the right password would not count).
    qtbot.keyClicks(dialog.password_edit, PASSWORD)
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and authenticator.failures("li.wei") == 1
    # Another name need not wait.
    dialog.name_edit.setText("zhang.min")
    assert not dialog.waiting() and dialog.sign_in_button.text() == "Sign in"
    dialog.name_edit.setText("li.wei")
    assert dialog.waiting()
    clock.advance(1.0)
    qtbot.waitUntil(lambda: not dialog.waiting(), timeout=2000)  # the countdown notices
    sign_in(qtbot, dialog, "li.wei", "still not it")
    assert dialog.sign_in_button.text() == "Wait 2 s"
    clock.advance(2.0)
    qtbot.waitUntil(lambda: not dialog.waiting(), timeout=2000)
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        sign_in(qtbot, dialog, "li.wei", PASSWORD)
    assert authenticator.failures("li.wei") == 0
    assert PASSWORD not in caplog.text and "still not it" not in caplog.text
    assert "failed sign-in as 'li.wei' on 'WS-07': wrong password (2 in a row)" in caplog.text


def test_switch_user_changes_who_acts_and_the_status_bar(
    qtbot: QtBot,
    pipeline: IngestPipeline,
    auth: tuple[Authenticator, FakeClock],
    caplog: pytest.LogCaptureFixture,
    cache_dir: Path,
) -> None:
    caplog.set_level(logging.INFO)
    first = Principal("li.wei", Role.OPERATOR, "WS-07")
    window = open_window(qtbot, pipeline, first, auth[0])
    record_sign_ins(window, SimpleNamespace(cache=pipeline.cache))  # type: ignore[arg-type]
    assert window.user_label.text() == "li.wei · operator · WS-07"
    action = window.menus.switch_user
    assert action.isEnabled() and action.shortcut().toString() == "Ctrl+Shift+L"
    action.trigger()
    dialog = window.findChild(SignInDialog)
    assert isinstance(dialog, SignInDialog)
    assert dialog.windowTitle() == "Switch user — CityOps"
    assert dialog.intro_label.text().startswith("Signed in now: li.wei (operator).")
    # A markup name stays plain text everywhere.
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        sign_in(qtbot, dialog, "<b>boss</b>", PASSWORD)
    assert window.principal == Principal("<b>boss</b>", Role.SUPERVISOR, "WS-07")
    assert window.user_label.text() == "<b>boss</b> · supervisor · WS-07"
    assert window.user_label.textFormat() is Qt.TextFormat.PlainText
    assert (
        "user on 'WS-07' switched from 'li.wei' (operator) to '<b>boss</b>' (supervisor)"
        in caplog.text
    )
    assert PASSWORD not in caplog.text
    # The next action is recorded under the new person.
    window.alarm_view.table.selectRow(0)
    window.alarm_view.acknowledge_selected()
    with OfflineCache(cache_dir) as reader:
        actions = reader.query_actions()
    assert [(a.user, a.workstation) for a in actions] == [("<b>boss</b>", "WS-07")]
    # Who worked when is kept for the handover report: the start, the shift change, the close.
    window.close()
    with OfflineCache(cache_dir) as reader:
        kept = reader.sign_ins(0, time.time() + 1)
    assert [(r.event, r.user, r.role, r.workstation) for r in kept] == [
        ("sign-in", "li.wei", "operator", "WS-07"),
        ("sign-out", "li.wei", "operator", "WS-07"),
        ("sign-in", "<b>boss</b>", "supervisor", "WS-07"),
        ("sign-out", "<b>boss</b>", "supervisor", "WS-07"),
    ]
    assert [r.ts for r in kept] == sorted(r.ts for r in kept)


def test_cancelling_a_switch_keeps_the_person_signed_in(
    qtbot: QtBot, pipeline: IngestPipeline, auth: tuple[Authenticator, FakeClock]
) -> None:
    first = Principal("li.wei", Role.OPERATOR, "WS-07")
    window = open_window(qtbot, pipeline, first, auth[0])
    dialog = window.switch_user()
    assert dialog is not None
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert window.principal == first


def test_single_user_mode_has_no_switch(qtbot: QtBot, pipeline: IngestPipeline) -> None:
    window = MainWindow(CONFIG, acknowledge=lambda ids, note: None)
    qtbot.addWidget(window)
    assert window.principal.user == "duty" and window.principal.role is Role.OPERATOR
    assert window.user_label.text() == "duty · operator · WS-07"
    assert not window.menus.switch_user.isEnabled()
    assert window.switch_user() is None


def test_a_viewer_is_not_offered_acknowledge_and_ctrl_k_says_why(
    qtbot: QtBot, pipeline: IngestPipeline, auth: tuple[Authenticator, FakeClock]
) -> None:
    viewer = Principal("zhang.min", Role.VIEWER, "WS-07")
    window = open_window(qtbot, pipeline, viewer, auth[0])
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    view = window.alarm_view
    table = view.table
    table.selectAll()  # the list would turn the controls on for a selection
    table.setFocus()
    why = "zhang.min is signed in as viewer: acknowledge needs the operator role or higher"
    for control in (view.acknowledge_button, view.acknowledge_action, view.acknowledge_all_action):
        assert not control.isEnabled()
        assert control.toolTip() == f"Not allowed: {why}"

    qtbot.keyClick(table, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage() == f"Not done: {why}"
    window.statusBar().clearMessage()
    qtbot.keyClick(table, Qt.Key.Key_Space)  # the list's own key asks the window, refused too
    assert window.statusBar().currentMessage() == f"Not done: {why}"
    delta = pipeline.take_delta()
    assert not delta.action_results and not delta.alarms  # nothing reached the services
    model = view.model
    assert {model.alarm_at(r).state for r in range(model.rowCount())} == {AlarmState.UNACKNOWLEDGED}

    # A shift change to an operator offers acknowledge again, and Ctrl+K does it.
    window.set_principal(Principal("li.wei", Role.OPERATOR, "WS-07"))
    assert view.acknowledge_action.isEnabled() and view.acknowledge_button.isEnabled()
    assert view.acknowledge_action.toolTip() == "Acknowledge the selected alarms (Ctrl+K)"
    qtbot.keyClick(table, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    window.apply_delta(pipeline.take_delta())
    qtbot.waitUntil(
        lambda: (
            {model.alarm_at(r).state for r in range(model.rowCount())} == {AlarmState.ACKNOWLEDGED}
        )
    )


def test_the_sign_in_dialog_shows_user_names_as_text(
    qtbot: QtBot, auth: tuple[Authenticator, FakeClock]
) -> None:
    who = Principal("<i>x</i>", Role.VIEWER, "<b>WS</b>")
    dialog = SignInDialog(auth[0], switching_from=who)
    qtbot.addWidget(dialog)
    labels = dialog.findChildren(QLabel)
    plain = [label for label in labels if "<" in label.text()]
    assert plain and all(label.textFormat() is Qt.TextFormat.PlainText for label in plain)
    assert QApplication.instance() is not None


def answer_modal_sign_in(name: str, password: str | None) -> None:
    """Fill in (or, with no password, cancel) the sign-in dialog once it runs modally."""

    def answer() -> None:
        dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, SignInDialog)]
        for dialog in dialogs:
            if not dialog.isVisible():
                continue
            if password is None:
                dialog.reject()
                return
            dialog.name_edit.setText(name)
            dialog.password_edit.setText(password)
            if not dialog.attempt():
                dialog.reject()
            return
        QTimer.singleShot(20, answer)

    QTimer.singleShot(0, answer)


def test_sign_in_at_start_says_who_works_or_that_nobody_does(
    qtbot: QtBot, auth: tuple[Authenticator, FakeClock]
) -> None:
    answer_modal_sign_in("zhang.min", PASSWORD)
    assert sign_in_at_start(auth[0]) == Principal("zhang.min", Role.VIEWER, "WS-07")
    answer_modal_sign_in("zhang.min", None)
    assert sign_in_at_start(auth[0]) is None


def test_the_window_does_not_start_when_nobody_could_sign_in(tmp_path: Path) -> None:
    config = tmp_path / "city.toml"
    config.write_text('[auth]\nmode = "sign-in"\nusers_file = "nobody.json"\n')
    started = run_cityops("--config", str(config), "--log-level", "WARNING")
    assert started.returncode == 2
    assert started.stderr.splitlines() == [
        f"cityops: sign-in is required but {tmp_path / 'nobody.json'} has no accounts: add one "
        f"with `cityops users add NAME --role admin --config {config}`"
    ]
