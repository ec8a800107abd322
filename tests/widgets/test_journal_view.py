"""The alarm journal view: newest first, typed-text filter, a row asks for its alarm."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from services.model import TimelineEntry, TimelineKind
from widgets.journal_view import JournalView

T0 = 1_800_000_000.0
ENTRIES = [
    TimelineEntry(T0, TimelineKind.ALARM, "unacknowledged", "aq-1|pm25|high",
                  state="unacknowledged"),
    TimelineEntry(T0 + 60, TimelineKind.ACTION, "ack", "aq-1|pm25|high", user="wang.fang",
                  workstation="ws-2", note="crew sent", state="acknowledged",
                  previous="unacknowledged"),
    TimelineEntry(T0 + 90, TimelineKind.ALARM, "rtn_unacknowledged", "ws-7|level|high_high",
                  state="rtn_unacknowledged", previous="unacknowledged"),
]  # fmt: skip


def test_the_journal_shows_the_window_newest_first_and_filters(qtbot: QtBot) -> None:
    asked: list[tuple[float, float]] = []

    def fetch(since: float, until: float) -> list[TimelineEntry]:
        asked.append((since, until))
        return ENTRIES

    view = JournalView(fetch, {"aq-1": "Heshan AQ 01"}.get, clock=lambda: T0 + 100)
    qtbot.addWidget(view)
    view.refresh()
    assert asked[-1] == (T0 + 100 - 8 * 3600, T0 + 100)  # the shift by default
    model = view.model
    assert model.rowCount() == 3
    assert model.item_at(0).alarm_id == "ws-7|level|high_high"  # newest first
    assert "→" in model.what_text(model.item_at(0))  # from → to
    view.filter_edit.setText("WANG")  # typed text, any case
    assert model.rowCount() == 1 and model.item_at(0).user == "wang.fang"
    assert view.count_label.text() == "1 of 3 entries"
    with qtbot.waitSignal(view.alarmActivated) as blocker:
        view.table.doubleClicked.emit(model.index(0, 1))
    assert blocker.args == ["aq-1|pm25|high"]
    view.window_box.setCurrentIndex(0)  # the last hour: read again
    assert asked[-1] == (T0 + 100 - 3600, T0 + 100)
    with qtbot.waitSignal(view.exportRequested) as blocker:
        view.export_button.click()
    assert blocker.args == [T0 + 100 - 3600, T0 + 100]
