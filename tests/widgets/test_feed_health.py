"""Feed-health panel: the model's batches, ages and colours, and the panel's dead letters."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QLabel, QStyleOptionViewItem
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from services.model import DeadLetter, FeedHealth, FeedState
from tests.widgets.model_signals import SignalLog
from widgets.dead_letter_model import DeadLetterModel, LetterColumn
from widgets.feed_health import FeedHealthPanel
from widgets.feed_model import FEED_NAME_ROLE, Column, FeedHealthModel
from widgets.format import format_timestamp
from widgets.palette import (
    ALARM_COLOR,
    FEED_STATE_COLORS,
    NORMAL_COLOR,
    STALE_COLOR,
    WARNING_COLOR,
    text_color_for,
)
from widgets.table_model import SORT_ROLE

T0 = 1_760_000_000.0
DISPLAY = Qt.ItemDataRole.DisplayRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole
MARKUP = "<b>bold</b><img src=x>"


class Clock:
    """A settable clock to inject into the model."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def feed(
    name: str,
    state: FeedState = FeedState.CONNECTED,
    *,
    messages: int = 10,
    errors: int = 0,
    rate: float = 1.0,
    last: float | None = T0 - 3,
    detail: str = "",
) -> FeedHealth:
    return FeedHealth(
        name=name,
        state=state,
        messages=messages,
        errors=errors,
        rate=rate,
        last_message_at=last,
        detail=detail,
    )


def letter(
    feed_name: str, n: int, payload: str = '{"x": 1}', reason: str = "bad JSON"
) -> DeadLetter:
    return DeadLetter(
        feed=feed_name,
        topic=f"yiyang/{feed_name}/st-{n}",
        reason=reason,
        payload_excerpt=payload,
        received_at=T0 - 100 + n,
    )


def text(model: FeedHealthModel, name: str, column: Column, role: int = DISPLAY) -> object:
    row = model.row_of(name)
    assert row is not None
    return model.index(row, column).data(role)


def proxy_names(panel: FeedHealthPanel) -> list[str]:
    proxy = panel.proxy
    return [proxy.index(row, 0).data(FEED_NAME_ROLE) for row in range(proxy.rowCount())]


def select_letter(panel: FeedHealthPanel, row: int) -> None:
    flags = (
        QItemSelectionModel.SelectionFlag.ClearAndSelect
        | QItemSelectionModel.SelectionFlag.Rows
        | QItemSelectionModel.SelectionFlag.Current
    )
    index = panel.letters_model.index(row, 0)
    panel.letters_view.selectionModel().setCurrentIndex(index, flags)


# --------------------------------------------------------------------------- model


def test_models_pass_qt_model_tester(qtmodeltester: ModelTester) -> None:
    model = FeedHealthModel(clock=Clock())
    model.update([feed("a"), feed("b", FeedState.DOWN, last=None), feed("c", FeedState.STALE)])
    qtmodeltester.check(model, force_py=True)
    letters = DeadLetterModel()
    letters.set_letters([letter("a", 1), letter("a", 2)])
    qtmodeltester.check(letters, force_py=True)


def test_update_inserts_a_batch_with_one_signal() -> None:
    model = FeedHealthModel(clock=Clock())
    log = SignalLog(model)
    model.update([feed("air"), feed("traffic"), feed("water")])
    assert model.rowCount() == 3
    assert log.inserted == [(0, 2)]
    assert log.changed == []
    assert [model.feed_at(row).name for row in range(3)] == ["air", "traffic", "water"]
    assert model.row_of("traffic") == 1
    with pytest.raises(IndexError):
        model.feed_at(3)


def test_update_changes_existing_rows_and_appends_new_ones() -> None:
    model = FeedHealthModel(clock=Clock())
    model.update([feed("a"), feed("b"), feed("c"), feed("d")])
    log = SignalLog(model)
    model.update(
        [
            feed("b", messages=11),
            feed("c", messages=12),
            feed("a"),  # unchanged: no signal
            feed("e"),
            feed("f"),
        ]
    )
    last = len(Column) - 1
    # Rows 1 and 2 are adjacent: one signal for both; the new feeds in one insertion.
    assert log.changed == [(1, 2, 0, last)]
    assert log.roles == [[]]
    assert log.inserted == [(4, 5)]
    assert model.rowCount() == 6
    assert text(model, "c", Column.MESSAGES) == "12"
    assert model.feed_at(5).name == "f"
    assert log.resets == 0


def test_last_version_in_a_batch_wins_and_model_keeps_a_copy() -> None:
    model = FeedHealthModel(clock=Clock())
    mine = feed("a", errors=1)
    model.update([feed("a"), mine])
    assert model.rowCount() == 1
    mine.errors = 99
    stored = model.feed("a")
    assert stored is not None and stored.errors == 1
    model.update([mine])
    stored = model.feed("a")
    assert stored is not None and stored.errors == 99
    assert model.feed("missing") is None


def test_display_text_and_headers() -> None:
    model = FeedHealthModel(clock=Clock())
    model.update(
        [
            feed(
                "air",
                FeedState.FAILING,
                messages=12_345,
                errors=7,
                rate=4.25,
                last=T0 - 150,
                detail="decode error",
            ),
            feed("fast", rate=1234.4),
        ]
    )
    assert [text(model, "air", column) for column in Column] == [
        "air",
        "Failing",
        "2 min ago",
        "4.2",
        "12,345",
        "7",
        "decode error",
    ]
    assert text(model, "fast", Column.RATE) == "1234"
    headers = [model.headerData(column, Qt.Orientation.Horizontal) for column in Column]
    assert headers == [
        "Feed",
        "State",
        "Last message",
        "Rate (msg/s)",
        "Messages",
        "Errors",
        "Detail",
    ]
    assert text(model, "air", Column.ERRORS, SORT_ROLE) == 7
    assert text(model, "air", Column.LAST_MESSAGE, SORT_ROLE) == T0 - 150


def test_state_palette() -> None:
    assert FEED_STATE_COLORS[FeedState.CONNECTED] == NORMAL_COLOR
    assert FEED_STATE_COLORS[FeedState.STALE] == WARNING_COLOR
    assert FEED_STATE_COLORS[FeedState.FAILING] == ALARM_COLOR
    assert FEED_STATE_COLORS[FeedState.CONNECTING] == STALE_COLOR
    down = QColor(FEED_STATE_COLORS[FeedState.DOWN])
    failing = QColor(ALARM_COLOR)
    assert down.hue() in range(0, 10) or down.hue() > 350  # red ...
    assert down.lightness() < failing.lightness()  # ... and darker than failing


@pytest.mark.parametrize("state", list(FeedState))
def test_state_cell_colours_in_the_view(qtbot: QtBot, state: FeedState) -> None:
    panel = FeedHealthPanel(FeedHealthModel(clock=Clock()))
    qtbot.addWidget(panel)
    panel.update_feeds([feed("a", FeedState.CONNECTED)])
    panel.update_feeds([feed("a", state)])
    index = panel.proxy.index(0, Column.STATE)
    background = index.data(Qt.ItemDataRole.BackgroundRole)
    foreground = index.data(Qt.ItemDataRole.ForegroundRole)
    assert background.color() == QColor(FEED_STATE_COLORS[state])
    assert foreground.color() == QColor(text_color_for(FEED_STATE_COLORS[state]))
    # Only the state cell is coloured.
    assert panel.proxy.index(0, Column.FEED).data(Qt.ItemDataRole.BackgroundRole) is None


def test_age_text_follows_the_injected_clock(qtbot: QtBot) -> None:
    clock = Clock()
    model = FeedHealthModel(clock=clock)
    panel = FeedHealthPanel(model)
    qtbot.addWidget(panel)
    panel.update_feeds([feed("a", last=T0 - 3), feed("b", last=None)])
    age = panel.proxy.index(0, Column.LAST_MESSAGE)
    assert age.data(DISPLAY) == "3 s ago"
    assert panel.proxy.index(1, Column.LAST_MESSAGE).data(DISPLAY) == "never"
    clock.now = T0 + 117
    assert age.data(DISPLAY) == "2 min ago"
    # The exact time is in the tooltip.
    assert format_timestamp(T0 - 3) in age.data(TOOLTIP)
    assert format_timestamp(T0 - 3).startswith("20")  # a full ISO date, not just a clock time


def test_refresh_ages_announces_only_the_age_column(qtbot: QtBot) -> None:
    model = FeedHealthModel(clock=Clock())
    log = SignalLog(model)
    model.refresh_ages()
    assert log.changed == []  # nothing to announce without rows
    model.update([feed("a"), feed("b"), feed("c")])
    with qtbot.waitSignal(model.dataChanged):
        model.refresh_ages()
    assert log.changed == [(0, 2, Column.LAST_MESSAGE, Column.LAST_MESSAGE)]
    assert log.roles == [[int(Qt.ItemDataRole.DisplayRole)]]


def test_panel_timer_refreshes_ages_while_shown(qtbot: QtBot) -> None:
    clock = Clock()
    panel = FeedHealthPanel(FeedHealthModel(clock=clock))
    qtbot.addWidget(panel)
    panel.update_feeds([feed("a", last=T0 - 3)])
    assert panel.age_timer.interval() == 1000
    assert not panel.age_timer.isActive()
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.age_timer.isActive()
    clock.now = T0 + 60

    def age_column_only(top_left: QModelIndex, bottom_right: QModelIndex, _roles: object) -> bool:
        return top_left.column() == bottom_right.column() == Column.LAST_MESSAGE

    with qtbot.waitSignal(panel.model.dataChanged, timeout=3000, check_params_cb=age_column_only):
        pass
    assert panel.proxy.index(0, Column.LAST_MESSAGE).data(DISPLAY) == "1 min ago"
    panel.hide()
    assert not panel.age_timer.isActive()


def test_dead_letters_are_kept_per_feed() -> None:
    model = FeedHealthModel(clock=Clock())
    letters = [letter("a", 1), letter("a", 2)]
    model.set_dead_letters("a", letters)
    assert model.dead_letters("a") == letters
    assert model.dead_letters("b") == []
    model.dead_letters("a").clear()  # a copy: the model's list is untouched
    assert model.dead_letters("a") == letters
    model.set_dead_letters("a", [])
    assert model.dead_letters("a") == []


# --------------------------------------------------------------------------- panel


@pytest.fixture
def panel(qtbot: QtBot) -> FeedHealthPanel:
    widget = FeedHealthPanel(FeedHealthModel(clock=Clock()))
    qtbot.addWidget(widget)
    widget.resize(820, 520)
    widget.update_feeds(
        [
            feed("water", FeedState.FAILING, errors=57, detail="decode errors"),
            feed("air", errors=0),
            feed("traffic", FeedState.STALE, errors=2),
            feed("bus", FeedState.DOWN, errors=2, last=None),
        ]
    )
    widget.set_dead_letters("water", [letter("water", 1), letter("water", 2, payload=MARKUP)])
    widget.set_dead_letters("traffic", [letter("traffic", 5)])
    return widget


def test_panel_wiring(panel: FeedHealthPanel) -> None:
    assert panel.table.model() is panel.proxy
    assert panel.proxy.sourceModel() is panel.model
    assert panel.proxy.sortRole() == SORT_ROLE
    assert panel.table.isSortingEnabled()
    assert panel.letters_view.model() is panel.letters_model
    assert panel.table.actions() == [panel.pause_action, panel.resume_action]
    assert panel.copy_action in panel.letters_view.actions()
    assert panel.copy_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Copy)
    assert panel.summary_label.text() == "4 feeds · 1 connected · 1 stale · 1 failing · 1 down"
    assert panel.selected_feed() is None
    assert panel.letters_model.rowCount() == 0
    assert not panel.pause_button.isEnabled() and not panel.copy_button.isEnabled()


def test_sorting_by_errors(panel: FeedHealthPanel) -> None:
    assert proxy_names(panel) == ["air", "bus", "traffic", "water"]  # by name at first
    panel.table.sortByColumn(Column.ERRORS, Qt.SortOrder.DescendingOrder)
    # Ties (bus and traffic, 2 errors each) fall back to the name, reversed with the order.
    assert proxy_names(panel) == ["water", "traffic", "bus", "air"]
    panel.table.sortByColumn(Column.ERRORS, Qt.SortOrder.AscendingOrder)
    assert proxy_names(panel) == ["air", "bus", "traffic", "water"]
    # The order follows later updates.
    panel.update_feeds([feed("air", errors=500)])
    assert proxy_names(panel) == ["bus", "traffic", "water", "air"]
    panel.update_feeds([feed("zeta", errors=1)])
    assert proxy_names(panel) == ["zeta", "bus", "traffic", "water", "air"]


def test_selecting_a_feed_shows_its_dead_letters(qtbot: QtBot, panel: FeedHealthPanel) -> None:
    with qtbot.waitSignal(panel.feedSelected) as blocker:
        assert panel.select_feed("water")
    assert blocker.args == ["water"]
    assert panel.selected_feed() == "water"
    # Newest first.
    assert panel.letters_model.letters() == [letter("water", 2, payload=MARKUP), letter("water", 1)]
    topics = [
        panel.letters_model.index(row, LetterColumn.TOPIC).data(DISPLAY)
        for row in range(panel.letters_model.rowCount())
    ]
    assert topics == ["yiyang/water/st-2", "yiyang/water/st-1"]
    assert panel.letters_title.text() == "Dead letters of water: 2"

    # Clicking another row of the table switches the list.
    row = proxy_names(panel).index("traffic")
    rect = panel.table.visualRect(panel.proxy.index(row, Column.FEED))
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.selected_feed() == "traffic"
    assert panel.letters_model.letters() == [letter("traffic", 5)]

    # New letters for the selected feed show at once, for another feed they wait.
    panel.set_dead_letters("water", [letter("water", 9)])
    assert panel.letters_model.letters() == [letter("traffic", 5)]
    panel.set_dead_letters("traffic", [letter("traffic", 5), letter("traffic", 6)])
    assert panel.letters_model.rowCount() == 2
    assert panel.letters_title.text() == "Dead letters of traffic: 2"

    # A feed without letters shows an empty list.
    panel.select_feed("air")
    assert panel.letters_model.rowCount() == 0
    assert not panel.select_feed("no-such-feed")

    # Clearing the model clears the selection and the list.
    panel.model.clear()
    assert panel.selected_feed() is None
    assert panel.letters_model.rowCount() == 0


def test_markup_from_feeds_is_shown_verbatim(qtbot: QtBot, panel: FeedHealthPanel) -> None:
    panel.update_feeds([feed(MARKUP, FeedState.FAILING, detail=MARKUP)])
    panel.set_dead_letters(MARKUP, [DeadLetter(MARKUP, MARKUP, MARKUP, MARKUP, received_at=T0)])
    panel.select_feed(MARKUP)
    select_letter(panel, 0)

    letters = panel.letters_model
    for column in LetterColumn:
        if column != LetterColumn.TIME:
            assert letters.index(0, column).data(DISPLAY) == MARKUP
    row = panel.model.row_of(MARKUP)
    assert row is not None
    assert panel.model.index(row, Column.FEED).data(DISPLAY) == MARKUP
    assert panel.model.index(row, Column.DETAIL).data(DISPLAY) == MARKUP

    # What the delegate paints is the same text, unchanged.
    option = QStyleOptionViewItem()
    panel.letters_view.itemDelegate().initStyleOption(
        option, letters.index(0, LetterColumn.PAYLOAD)
    )
    assert option.text == MARKUP

    # Tooltips are rich text by guess, so the feed's text goes in escaped.
    tooltip = letters.index(0, LetterColumn.PAYLOAD).data(TOOLTIP)
    assert "&lt;b&gt;bold&lt;/b&gt;&lt;img src=x&gt;" in tooltip
    assert "<img" not in tooltip and "<b>" not in tooltip
    assert "<img" not in panel.model.index(row, Column.DETAIL).data(TOOLTIP)

    # The preview is a plain-text editor and the labels are plain text.
    assert panel.payload_view.toPlainText() == MARKUP
    assert MARKUP in panel.letters_title.text()
    labels = panel.findChildren(QLabel)
    assert labels
    for label in labels:
        assert label.textFormat() == Qt.TextFormat.PlainText


def test_multi_line_payload_is_painted_on_one_line(panel: FeedHealthPanel) -> None:
    panel.set_dead_letters("air", [letter("air", 1, payload='{"a": 1,\n "b": 2}')])
    panel.select_feed("air")
    index = panel.letters_model.index(0, LetterColumn.PAYLOAD)
    assert index.data(DISPLAY) == '{"a": 1,\n "b": 2}'
    option = QStyleOptionViewItem()
    panel.letters_view.itemDelegate().initStyleOption(option, index)
    assert option.text == '{"a": 1,\u23ce "b": 2}'


def test_copy_payload_button(qtbot: QtBot, panel: FeedHealthPanel) -> None:
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("something else")
    panel.select_feed("water")
    assert panel.copy_selected_payload() is None  # no letter selected yet
    assert not panel.copy_button.isEnabled()
    assert clipboard.text() == "something else"
    select_letter(panel, 0)
    assert panel.copy_button.isEnabled()
    qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    assert clipboard.text() == MARKUP
    select_letter(panel, 1)
    assert panel.copy_selected_payload() == '{"x": 1}'
    assert clipboard.text() == '{"x": 1}'


def test_ctrl_c_in_the_dead_letters_copies_the_payload(
    qtbot: QtBot, panel: FeedHealthPanel
) -> None:
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("something else")
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is not None)
    panel.select_feed("water")
    select_letter(panel, 0)
    panel.letters_view.setFocus()
    # The current cell is the time: a plain item-view copy would put the time there.
    qtbot.keyClick(panel.letters_view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert clipboard.text() == MARKUP


def test_selected_letter_survives_an_update(panel: FeedHealthPanel) -> None:
    panel.select_feed("water")
    select_letter(panel, 1)
    assert panel.selected_letter() == letter("water", 1)
    panel.set_dead_letters("water", [letter("water", 1), letter("water", 2), letter("water", 3)])
    assert panel.selected_letter() == letter("water", 1)
    assert panel.payload_view.toPlainText() == '{"x": 1}'


def test_pause_and_resume_carry_the_feed_name(qtbot: QtBot, panel: FeedHealthPanel) -> None:
    with qtbot.assertNotEmitted(panel.pauseRequested):
        panel.request_pause()  # nothing selected: nothing asked
    panel.select_feed("traffic")
    assert panel.pause_button.isEnabled() and panel.resume_action.isEnabled()
    with qtbot.waitSignal(panel.pauseRequested) as paused:
        qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert paused.args == ["traffic"]
    with qtbot.waitSignal(panel.resumeRequested) as resumed:
        qtbot.mouseClick(panel.resume_button, Qt.MouseButton.LeftButton)
    assert resumed.args == ["traffic"]
    panel.select_feed("bus")
    with qtbot.waitSignal(panel.pauseRequested) as from_menu:
        panel.pause_action.trigger()
    assert from_menu.args == ["bus"]
    with qtbot.waitSignal(panel.resumeRequested) as from_menu:
        panel.resume_action.trigger()
    assert from_menu.args == ["bus"]


def test_remove_takes_feeds_and_their_letters_off_the_list(qtbot: QtBot) -> None:
    model = FeedHealthModel(clock=lambda: 1000.0)
    qtbot.addWidget(FeedHealthPanel(model))
    model.update([FeedHealth(name=name) for name in ("a", "b", "c")])
    model.set_dead_letters("b", [DeadLetter("b", "t", "bad", "x", 1.0)])
    with qtbot.waitSignal(model.rowsRemoved, timeout=1000):
        model.remove(["b", "unknown"])
    assert [model.feed_at(row).name for row in range(model.rowCount())] == ["a", "c"]
    assert model.dead_letters("b") == []
    assert model.row_of("c") == 1
