"""The Add feed dialog validates like the config file does."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from ui.feed_dialog import AddFeedDialog


def test_valid_fields_make_a_feed(qtbot: QtBot) -> None:
    dialog = AddFeedDialog(["city", "buses"])
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("bus")
    dialog.broker_box.setCurrentText("buses")
    dialog.topic_edit.setText("owntracks/#")
    dialog.format_box.setCurrentText("owntracks")
    dialog.qos_box.setValue(1)
    dialog.accept()
    assert dialog.feed is not None
    assert (dialog.feed.name, dialog.feed.broker, dialog.feed.format, dialog.feed.qos) == (
        "bus",
        "buses",
        "owntracks",
        1,
    )


def test_bad_topic_keeps_the_dialog_open_with_the_reason(qtbot: QtBot) -> None:
    dialog = AddFeedDialog(["city"])
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("x")
    dialog.topic_edit.setText("a/#/b")
    dialog.accept()
    assert dialog.feed is None
    assert "topic" in dialog.error_label.text() and "#" in dialog.error_label.text()
