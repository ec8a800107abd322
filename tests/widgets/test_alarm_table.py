"""Alarm table: the model's batches and roles, and the view's sorting and acknowledge controls."""

from __future__ import annotations

import math
import random
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QTextDocument
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from services.alarms.lifecycle import TRANSITIONS, AlarmEvent
from services.model import Alarm, AlarmState, Condition, Severity
from tests.widgets.model_signals import SignalLog
from widgets.alarm_model import ALARM_ID_ROLE, AlarmTableModel, Column
from widgets.alarm_table import SHELVABLE_STATES, AlarmTableView
from widgets.palette import DIM_TEXT_COLOR, SEVERITY_COLORS, text_color_for
from widgets.table_model import SORT_ROLE

T0 = 1_760_000_000.0


def shown(rich_text: str) -> str:
    """What a tooltip shows: Qt renders it as rich text."""
    document = QTextDocument()
    document.setHtml(rich_text)
    return document.toPlainText()


def make_alarm(
    entity: str,
    *,
    severity: Severity = Severity.HIGH,
    state: AlarmState = AlarmState.UNACKNOWLEDGED,
    raised: float = 0.0,
    metric: str = "pm25",
    condition: Condition = Condition.HIGH,
    value: float = 180.0,
    count: int = 1,
) -> Alarm:
    return Alarm(
        entity_id=entity,
        metric=metric,
        condition=condition,
        severity=severity,
        state=state,
        value=value,
        threshold=150.0,
        raised_at=T0 + raised,
        updated_at=T0 + raised,
        count=count,
    )


def cell(model: AlarmTableModel, alarm_id: str, column: Column, role: int) -> object:
    row = model.row_of(alarm_id)
    assert row is not None
    return model.index(row, column).data(role)


def proxy_ids(view: AlarmTableView) -> list[str]:
    proxy = view.proxy
    return [proxy.index(row, 0).data(ALARM_ID_ROLE) for row in range(proxy.rowCount())]


def select_ids(view: AlarmTableView, ids: list[str]) -> None:
    selection = view.table.selectionModel()
    selection.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row, alarm_id in enumerate(proxy_ids(view)):
        if alarm_id in ids:
            selection.select(view.proxy.index(row, 0), flags)


# --------------------------------------------------------------------------- model


def test_model_passes_qt_model_tester(qtmodeltester: ModelTester) -> None:
    model = AlarmTableModel()
    model.upsert([make_alarm(f"e{i}", raised=i) for i in range(5)])
    qtmodeltester.check(model, force_py=True)


def test_upsert_inserts_one_batch_with_one_signal() -> None:
    model = AlarmTableModel()
    log = SignalLog(model)
    model.upsert([make_alarm(f"e{i}") for i in range(3)])
    assert model.rowCount() == 3
    assert log.inserted == [(0, 2)]
    assert model.alarm("e1|pm25|high") is not None
    assert model.alarm_at(2).entity_id == "e2"
    with pytest.raises(IndexError):
        model.alarm_at(3)


def test_upsert_updates_only_changed_cells(qtbot: QtBot) -> None:
    model = AlarmTableModel()
    model.upsert([make_alarm("a"), make_alarm("b")])
    log = SignalLog(model)
    with qtbot.waitSignal(model.dataChanged):
        model.upsert([make_alarm("b", count=4, value=210.0)])
    # Only the cells that changed: value and count of row 1.
    assert sorted(log.changed) == [
        (1, 1, Column.VALUE, Column.VALUE),
        (1, 1, Column.COUNT, Column.COUNT),
    ]
    log.changed.clear()
    model.upsert([make_alarm("b", count=4, value=210.0, state=AlarmState.ACKNOWLEDGED)])
    assert log.changed == [(1, 1, 0, len(Column) - 1)]  # fonts and colours of the whole row
    assert log.inserted == [] and log.removed == []
    assert cell(model, "b|pm25|high", Column.COUNT, Qt.ItemDataRole.DisplayRole) == "4"
    assert cell(model, "b|pm25|high", Column.VALUE, Qt.ItemDataRole.DisplayRole) == "210"
    # The same version again is not a change.
    model.upsert([make_alarm("b", count=4, value=210.0, state=AlarmState.ACKNOWLEDGED)])
    assert len(log.changed) == 1


def test_model_keeps_its_own_copy() -> None:
    model = AlarmTableModel()
    alarm = make_alarm("a")
    model.upsert([alarm])
    alarm.count = 99
    stored = model.alarm(alarm.id)
    assert stored is not None and stored.count == 1
    model.upsert([alarm])
    stored = model.alarm(alarm.id)
    assert stored is not None and stored.count == 99


def test_normal_alarms_leave_the_list() -> None:
    model = AlarmTableModel()
    model.upsert([make_alarm(f"e{i}") for i in range(4)])
    log = SignalLog(model)
    model.upsert(
        [
            make_alarm("e1", state=AlarmState.NORMAL),
            make_alarm("e3", state=AlarmState.NORMAL),
            make_alarm("never-seen", state=AlarmState.NORMAL),
        ]
    )
    assert model.rowCount() == 2
    assert [model.alarm_at(r).entity_id for r in range(2)] == ["e0", "e2"]
    assert sorted(log.removed) == [(1, 1), (3, 3)]
    assert model.alarm("e1|pm25|high") is None
    assert model.row_of("e2|pm25|high") == 1


def test_last_version_in_a_batch_wins() -> None:
    model = AlarmTableModel()
    model.upsert([make_alarm("a"), make_alarm("a", state=AlarmState.ACKNOWLEDGED)])
    assert model.rowCount() == 1
    assert model.alarm_at(0).state == AlarmState.ACKNOWLEDGED
    model.upsert([make_alarm("a", state=AlarmState.NORMAL), make_alarm("a", count=2)])
    assert model.rowCount() == 1 and model.alarm_at(0).count == 2


def test_counts_by_state_and_clear() -> None:
    model = AlarmTableModel()
    model.upsert(
        [
            make_alarm("a"),
            make_alarm("b", state=AlarmState.ACKNOWLEDGED),
            make_alarm("c", state=AlarmState.RTN_UNACKNOWLEDGED),
            make_alarm("d", state=AlarmState.NORMAL),
            make_alarm("e"),
        ]
    )
    assert model.row_count_by_state() == {
        AlarmState.UNACKNOWLEDGED: 2,
        AlarmState.ACKNOWLEDGED: 1,
        AlarmState.RTN_UNACKNOWLEDGED: 1,
    }
    assert model.needs_ack_count() == 3
    model.upsert([make_alarm("a", state=AlarmState.ACKNOWLEDGED)])
    assert model.row_count_by_state()[AlarmState.ACKNOWLEDGED] == 2
    model.clear()
    assert model.rowCount() == 0
    assert model.row_count_by_state() == {}


def test_display_text_and_raised_tooltip() -> None:
    model = AlarmTableModel()
    alarm = make_alarm(
        "station-7", severity=Severity.CRITICAL, condition=Condition.HIGH_HIGH, value=12.345
    )
    model.upsert([alarm])

    def text(column: Column) -> object:
        return model.index(0, column).data(Qt.ItemDataRole.DisplayRole)

    assert text(Column.SEVERITY) == "Critical"
    assert text(Column.STATE) == "Unacknowledged"
    assert text(Column.ENTITY) == "station-7"
    assert text(Column.METRIC) == "pm25"
    assert text(Column.CONDITION) == "High-high"
    assert text(Column.VALUE) == "12.3"  # as the map and the gauges write it (widgets.format)
    assert text(Column.THRESHOLD) == "150"
    assert text(Column.COUNT) == "1"
    local = datetime.fromtimestamp(alarm.raised_at)
    assert text(Column.RAISED) == local.strftime("%H:%M:%S")
    tooltip = shown(model.index(0, Column.RAISED).data(Qt.ItemDataRole.ToolTipRole))
    assert tooltip.startswith(local.astimezone().isoformat(timespec="seconds"))
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in Column]
    assert headers == [
        "Severity",
        "State",
        "Entity",
        "Metric",
        "Condition",
        "Value",
        "Threshold",
        "Raised",
        "Count",
        "Assignee",
        "Shelved until",
        "Notes",
        "First out",
    ]


def test_sort_role_gives_raw_values() -> None:
    model = AlarmTableModel()
    model.upsert([make_alarm("a", severity=Severity.MEDIUM, raised=12.5, value=3.25, count=7)])
    assert model.index(0, Column.SEVERITY).data(SORT_ROLE) == int(Severity.MEDIUM)
    assert model.index(0, Column.RAISED).data(SORT_ROLE) == T0 + 12.5
    assert model.index(0, Column.VALUE).data(SORT_ROLE) == 3.25
    assert model.index(0, Column.COUNT).data(SORT_ROLE) == 7


@pytest.mark.parametrize("severity", list(Severity))
def test_severity_colours(severity: Severity) -> None:
    model = AlarmTableModel()
    model.upsert([make_alarm("a", severity=severity)])
    background = model.index(0, Column.SEVERITY).data(Qt.ItemDataRole.BackgroundRole)
    foreground = model.index(0, Column.SEVERITY).data(Qt.ItemDataRole.ForegroundRole)
    assert background.color() == QColor(SEVERITY_COLORS[severity])
    assert foreground.color() == QColor(text_color_for(SEVERITY_COLORS[severity]))
    tint = model.index(0, Column.METRIC).data(Qt.ItemDataRole.BackgroundRole).color()
    hue = QColor(SEVERITY_COLORS[severity])
    assert (tint.red(), tint.green(), tint.blue()) == (hue.red(), hue.green(), hue.blue())
    assert 0 < tint.alpha() < 255


def test_fonts_by_state() -> None:
    model = AlarmTableModel()
    model.upsert(
        [
            make_alarm("unack"),
            make_alarm("ack", state=AlarmState.ACKNOWLEDGED),
            make_alarm("rtn", state=AlarmState.RTN_UNACKNOWLEDGED),
        ]
    )

    def font(entity: str) -> QFont:
        value = cell(model, f"{entity}|pm25|high", Column.ENTITY, Qt.ItemDataRole.FontRole)
        assert isinstance(value, QFont)
        return value

    assert font("unack").bold() and not font("unack").italic()
    assert not font("ack").bold()
    assert font("rtn").italic()
    rtn_text = cell(model, "rtn|pm25|high", Column.ENTITY, Qt.ItemDataRole.ForegroundRole)
    ack_text = cell(model, "ack|pm25|high", Column.ENTITY, Qt.ItemDataRole.ForegroundRole)
    assert rtn_text is not None and ack_text is None


def test_entity_names(qtbot: QtBot) -> None:
    model = AlarmTableModel()
    model.upsert([make_alarm("st-1"), make_alarm("st-2")])
    with qtbot.waitSignal(model.dataChanged) as blocker:
        model.set_entity_names({"st-1": "Heping Rd station"})
    assert blocker.args[0].column() == Column.ENTITY == blocker.args[1].column()
    assert cell(model, "st-1|pm25|high", Column.ENTITY, 0) == "Heping Rd station"
    assert cell(model, "st-2|pm25|high", Column.ENTITY, 0) == "st-2"
    tooltip = cell(model, "st-1|pm25|high", Column.ENTITY, Qt.ItemDataRole.ToolTipRole)
    assert shown(tooltip) == "st-1"
    model.set_entity_names({"st-2": "Yingbin Rd station"})  # adds; st-1 keeps its name
    assert cell(model, "st-1|pm25|high", Column.ENTITY, 0) == "Heping Rd station"
    assert cell(model, "st-2|pm25|high", Column.ENTITY, 0) == "Yingbin Rd station"
    with qtbot.assertNotEmitted(model.dataChanged):
        model.set_entity_names({"st-2": "Yingbin Rd station", "elsewhere": "No alarm here"})


def test_ten_thousand_alarms_in_batches() -> None:
    model = AlarmTableModel()
    view = AlarmTableView(model)
    log = SignalLog(model)
    alarms = [
        make_alarm(f"e{i:05d}", severity=Severity(1 + i % 4), raised=float(i))
        for i in range(10_000)
    ]
    for start in range(0, 10_000, 1_000):
        model.upsert(alarms[start : start + 1_000])
    assert model.rowCount() == 10_000
    assert view.proxy.rowCount() == 10_000
    # Each batch goes in where the sort (priority, then newest) puts it: one insertion per
    # place (its four priorities), never a reset or a re-sort of the whole list.
    assert 10 <= len(log.inserted) <= 40
    assert log.resets == 0 and log.layouts == 0
    assert proxy_ids(view)[:2] == ["e09999|pm25|high", "e09995|pm25|high"]

    rng = random.Random(7)
    picked = rng.sample(range(10_000), 1_000)
    del log.changed[:]  # the first-out column of each inserted batch
    model.upsert(
        make_alarm(f"e{i:05d}", severity=Severity(1 + i % 4), raised=float(i), count=2)
        for i in picked
    )
    assert model.rowCount() == 10_000
    assert 0 < len(log.changed) <= 256
    changed_rows = {r for first, last, _c0, _c1 in log.changed for r in range(first, last + 1)}
    assert {model.row_of(f"e{i:05d}|pm25|high") for i in picked} <= changed_rows

    gone = rng.sample(range(10_000), 1_000)
    model.upsert(make_alarm(f"e{i:05d}", state=AlarmState.NORMAL) for i in gone)
    assert model.rowCount() == 9_000
    assert view.proxy.rowCount() == 9_000
    assert model.row_count_by_state() == {AlarmState.UNACKNOWLEDGED: 9_000}
    for row in (0, 4_500, 8_999):
        alarm = model.alarm_at(row)
        assert model.row_of(alarm.id) == row
    assert log.resets == 0
    view.deleteLater()


def test_removing_most_of_a_big_list_resets_once() -> None:
    model = AlarmTableModel()
    model.upsert(make_alarm(f"e{i:04d}") for i in range(2_000))
    log = SignalLog(model)
    model.upsert(make_alarm(f"e{i:04d}", state=AlarmState.NORMAL) for i in range(0, 2_000, 3))
    model.upsert(make_alarm(f"e{i:04d}", state=AlarmState.NORMAL) for i in range(1, 2_000, 3))
    assert model.rowCount() == 666
    assert log.resets == 1  # the second batch took most of what was left
    assert all(model.alarm_at(r).entity_id.endswith(("2", "5", "8")) for r in range(0, 666, 50))


# ---------------------------------------------------------------------------- view


@pytest.fixture
def view(qtbot: QtBot) -> AlarmTableView:
    widget = AlarmTableView()
    qtbot.addWidget(widget)
    widget.resize(900, 320)
    widget.model.upsert(
        [
            make_alarm("low-old", severity=Severity.LOW, raised=10),
            make_alarm("crit-old", severity=Severity.CRITICAL, raised=20),
            make_alarm("crit-new", severity=Severity.CRITICAL, raised=300),
            make_alarm(
                "med-acked", severity=Severity.MEDIUM, raised=40, state=AlarmState.ACKNOWLEDGED
            ),
            make_alarm(
                "high-rtn", severity=Severity.HIGH, raised=50, state=AlarmState.RTN_UNACKNOWLEDGED
            ),
            make_alarm("low-acked", severity=Severity.LOW, raised=5, state=AlarmState.ACKNOWLEDGED),
        ]
    )
    return widget


def ids(*entities: str) -> list[str]:
    return [f"{entity}|pm25|high" for entity in entities]


def test_view_properties(view: AlarmTableView) -> None:
    assert isinstance(view.model, AlarmTableModel)
    assert view.table.model() is view.proxy
    assert view.proxy.sourceModel() is view.model
    assert view.proxy.sortRole() == SORT_ROLE
    behaviour = view.table.selectionBehavior()
    assert behaviour == view.table.SelectionBehavior.SelectRows
    assert view.table.selectionMode() == view.table.SelectionMode.ExtendedSelection
    # The context menu offers the acknowledge actions, once each.
    assert view.table.actions() == [
        view.acknowledge_action,
        view.acknowledge_note_action,
        view.acknowledge_all_action,
        view.shelve_action,
        view.unshelve_action,
        view.comment_action,
        view.assign_action,
        view.out_of_service_action,
        view.in_service_action,
        view.replay_action,  # hidden unless the window can replay
    ]
    assert not view.replay_action.isVisible()
    assert view.acknowledge_action.shortcut().toString() == "Ctrl+K"


def test_default_sort_is_severity_then_newest(view: AlarmTableView) -> None:
    assert proxy_ids(view) == ids(
        "crit-new", "crit-old", "high-rtn", "med-acked", "low-old", "low-acked"
    )


def test_sort_by_raised_and_back(view: AlarmTableView) -> None:
    view.table.sortByColumn(Column.RAISED, Qt.SortOrder.AscendingOrder)
    assert proxy_ids(view) == ids(
        "low-acked", "low-old", "crit-old", "med-acked", "high-rtn", "crit-new"
    )
    view.table.sortByColumn(Column.RAISED, Qt.SortOrder.DescendingOrder)
    assert proxy_ids(view)[0] == ids("crit-new")[0]


def test_sort_follows_model_changes_after_a_short_delay(qtbot: QtBot, view: AlarmTableView) -> None:
    view.model.upsert([make_alarm("low-old", severity=Severity.CRITICAL, raised=10)])
    qtbot.waitUntil(lambda: proxy_ids(view)[:3] == ids("crit-new", "crit-old", "low-old"))
    view.model.upsert([make_alarm("newest", severity=Severity.CRITICAL, raised=900)])
    assert proxy_ids(view)[0] == ids("newest")[0]  # a new alarm takes its place at once
    view.model.upsert([make_alarm("crit-old", severity=Severity.CRITICAL, raised=950)])
    assert proxy_ids(view)[:2] == ids("newest", "crit-new")  # a changed one holds still
    qtbot.waitUntil(lambda: proxy_ids(view)[0] == ids("crit-old")[0])
    view.model.upsert([make_alarm("crit-new", state=AlarmState.NORMAL)])
    assert ids("crit-new")[0] not in proxy_ids(view)


def test_resort_now(view: AlarmTableView) -> None:
    view.model.upsert([make_alarm("newest", severity=Severity.CRITICAL, raised=900)])
    view.resort()
    assert proxy_ids(view)[0] == ids("newest")[0]


def test_counts_line(view: AlarmTableView) -> None:
    # Active: unacknowledged or acknowledged; unacknowledged includes returned-to-normal.
    assert view.counts_text() == "5 active · 4 unacknowledged"
    view.model.upsert(
        [
            make_alarm(
                "crit-new", severity=Severity.CRITICAL, raised=300, state=AlarmState.ACKNOWLEDGED
            )
        ]
    )
    assert view.counts_text() == "5 active · 3 unacknowledged"
    view.model.clear()
    assert view.counts_text() == "0 active · 0 unacknowledged"


def test_ack_button_follows_selection(qtbot: QtBot, view: AlarmTableView) -> None:
    button = view.acknowledge_button
    assert not button.isEnabled()
    select_ids(view, ids("med-acked", "low-acked"))
    assert not button.isEnabled()
    assert not view.acknowledge_action.isEnabled()
    select_ids(view, ids("med-acked", "high-rtn", "crit-old"))
    assert button.isEnabled()
    with qtbot.waitSignal(view.acknowledgeRequested) as blocker:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert blocker.args == [ids("crit-old", "high-rtn")]


def test_ack_flow_through_the_model(qtbot: QtBot, view: AlarmTableView) -> None:
    select_ids(view, ids("crit-old"))
    assert view.acknowledge_button.isEnabled()
    with qtbot.waitSignal(view.acknowledgeRequested) as blocker:
        view.acknowledge_button.click()
    # The app acknowledges through the services and feeds the new version back.
    acked = [
        make_alarm("crit-old", severity=Severity.CRITICAL, raised=20, state=AlarmState.ACKNOWLEDGED)
    ]
    assert [a.id for a in acked] == blocker.args[0]
    view.model.upsert(acked)
    assert view.selected_alarm_ids() == ids("crit-old")
    assert not view.acknowledge_button.isEnabled()


def test_ctrl_k_acknowledges_selected(qtbot: QtBot, view: AlarmTableView) -> None:
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    view.table.setFocus()
    select_ids(view, ids("low-old", "crit-new", "med-acked"))
    with qtbot.waitSignal(view.acknowledgeRequested, timeout=2000) as blocker:
        qtbot.keyClick(view.table, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert blocker.args == [ids("crit-new", "low-old")]
    with qtbot.waitSignal(view.acknowledgeRequested, timeout=2000) as blocker:
        qtbot.keyClick(view.table, Qt.Key.Key_Space)
    assert blocker.args == [ids("crit-new", "low-old")]


def test_ctrl_k_with_nothing_to_ack_emits_nothing(qtbot: QtBot, view: AlarmTableView) -> None:
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    view.table.setFocus()
    select_ids(view, ids("med-acked"))
    with qtbot.assertNotEmitted(view.acknowledgeRequested, wait=100):
        qtbot.keyClick(view.table, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)


def test_ack_all_visible_asks_first_and_cancel_acknowledges_nothing(
    qtbot: QtBot, view: AlarmTableView
) -> None:
    def cancel_the_question() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QMessageBox) and "4" in dialog.text()
        questions.append(dialog.text())
        dialog.reject()

    questions: list[str] = []
    QTimer.singleShot(0, cancel_the_question)  # runs inside the dialog's own event loop
    with qtbot.assertNotEmitted(view.acknowledgeRequested, wait=100):
        view.acknowledge_all_action.trigger()
    assert len(questions) == 1


def test_ack_all_visible(qtbot: QtBot, view: AlarmTableView) -> None:
    assert view.acknowledge_all_action.isEnabled()
    asked: list[int] = []
    view.confirm_ack_all = lambda count: asked.append(count) is None
    with qtbot.waitSignal(view.acknowledgeRequested) as blocker:
        view.acknowledge_all_action.trigger()
    assert blocker.args == [ids("crit-new", "crit-old", "high-rtn", "low-old")]
    assert asked == [4]
    view.model.upsert(
        [
            make_alarm(
                a.entity_id,
                severity=a.severity,
                raised=a.raised_at - T0,
                state=AlarmState.ACKNOWLEDGED,
            )
            for a in view.model.alarms()
            if a.state == AlarmState.UNACKNOWLEDGED
        ]
        + [make_alarm("high-rtn", state=AlarmState.NORMAL)]
    )
    assert not view.acknowledge_all_action.isEnabled()


def test_view_renders(qtbot: QtBot, view: AlarmTableView, tmp_path: Path) -> None:
    view.model.set_entity_names({"crit-new": "Taohualun Rd & Kangfu Rd"})
    view.show()
    qtbot.waitExposed(view)
    image = view.grab().toImage()
    assert not image.isNull()
    assert view.grab().save(str(tmp_path / "alarms.png"))
    first = view.table.visualRect(view.proxy.index(0, Column.SEVERITY))
    point = view.table.viewport().mapTo(view, first.center())
    color = image.pixelColor(point.x() - first.width() // 3, point.y())
    # The top row is critical: its severity cell is painted in the critical colour.
    assert color.red() > 150 and color.green() < 90


def test_invalid_parent_has_no_rows() -> None:
    model = AlarmTableModel()
    model.upsert([make_alarm("a")])
    assert model.rowCount(model.index(0, 0)) == 0
    assert model.columnCount(model.index(0, 0)) == 0
    assert model.data(QModelIndex()) is None


def test_select_alarm_selects_its_row(qtbot: QtBot, view: AlarmTableView) -> None:
    target = ids("low-old")[0]
    assert view.select_alarm(target)
    assert view.selected_alarm_ids() == [target]
    assert not view.select_alarm("no|such|alarm")


def test_an_older_revision_never_replaces_a_newer_one() -> None:
    model = AlarmTableModel()
    acked = replace(make_alarm("a", state=AlarmState.ACKNOWLEDGED), revision=3)
    model.upsert([acked])
    model.upsert([replace(make_alarm("a"), revision=2)])  # late, older version
    assert model.alarm("a|pm25|high") == acked
    cleared = replace(acked, state=AlarmState.NORMAL, revision=4)
    model.upsert([cleared])
    assert model.rowCount() == 0
    model.upsert([replace(make_alarm("a"), revision=3)])  # must not come back
    assert model.rowCount() == 0
    model.upsert([replace(make_alarm("a"), revision=5)])  # a new raise does
    assert model.alarm("a|pm25|high") is not None


def test_feed_text_in_tooltips_is_shown_literally() -> None:
    model = AlarmTableModel()
    hostile = "<h1>big</h1><img src=x>"
    alarm = replace(make_alarm(hostile), message=f"{hostile} & <b>more</b>")
    model.upsert([alarm])
    assert shown(model.index(0, Column.ENTITY).data(Qt.ItemDataRole.ToolTipRole)) == hostile
    message = shown(model.index(0, Column.METRIC).data(Qt.ItemDataRole.ToolTipRole))
    assert message == f"{hostile} & <b>more</b>"


def test_values_of_stale_entities_say_so_in_text_and_dim() -> None:
    model = AlarmTableModel()
    model.upsert([make_alarm("a"), make_alarm("b")])
    row = {model.alarm_at(r).entity_id: r for r in range(model.rowCount())}
    value = model.index(row["a"], Column.VALUE)
    assert value.data() == "180"
    model.set_stale_entities({"a": True, "b": False})
    assert value.data() == "180 (stale)"
    assert model.index(row["b"], Column.VALUE).data() == "180"
    assert value.data(Qt.ItemDataRole.ForegroundRole).color() == QColor(DIM_TEXT_COLOR)
    model.set_stale_entities({"a": False})
    assert value.data() == "180"


def test_acknowledge_with_note_asks_for_it_and_an_empty_note_does_nothing(
    qtbot: QtBot, view: AlarmTableView
) -> None:
    select_ids(view, ids("crit-new", "med-acked", "high-rtn"))
    asked: list[int] = []
    view.ask_note = lambda count: asked.append(count) or "  crew on site "
    with qtbot.waitSignal(view.acknowledgeWithNoteRequested) as blocker:
        view.acknowledge_note_action.trigger()
    assert blocker.args == [ids("crit-new", "high-rtn"), "crew on site"]
    assert asked == [2]  # the acknowledged one needs nothing
    for answer in ("   ", None):
        view.ask_note = lambda count, answer=answer: answer
        with qtbot.assertNotEmitted(view.acknowledgeWithNoteRequested, wait=50):
            view.acknowledge_note_action.trigger()


def test_s_shelves_the_selection_after_asking_and_u_unshelves(
    qtbot: QtBot, view: AlarmTableView
) -> None:
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    view.table.setFocus()
    select_ids(view, ids("crit-new", "med-acked", "low-acked"))
    assert view.shelve_action.isEnabled() and not view.unshelve_action.isEnabled()
    asked: list[int] = []
    view.ask_shelve = lambda count: asked.append(count) or (900.0, " maintenance ")
    with qtbot.waitSignal(view.shelveRequested, timeout=2000) as blocker:
        qtbot.keyClick(view.table, Qt.Key.Key_S)
    assert blocker.args == [ids("crit-new", "med-acked", "low-acked"), 900.0, "maintenance"]
    assert asked == [3]
    view.ask_shelve = lambda count: None  # cancelled
    with qtbot.assertNotEmitted(view.shelveRequested, wait=50):
        view.shelve_action.trigger()

    shelved = make_alarm("crit-new", severity=Severity.CRITICAL, state=AlarmState.SHELVED)
    shelved.shelved_until = math.inf
    view.model.upsert([shelved])
    select_ids(view, ids("crit-new"))
    assert view.unshelve_action.isEnabled() and not view.shelve_action.isEnabled()
    row = view.model.row_of(shelved.id)
    assert view.model.data(view.model.index(row, Column.SHELVED_UNTIL)) == "until it clears"
    with qtbot.waitSignal(view.unshelveRequested, timeout=2000) as blocker:
        qtbot.keyClick(view.table, Qt.Key.Key_U)
    assert blocker.args == [ids("crit-new")]


def test_chattering_alarms_are_marked_in_words_beside_their_count(view: AlarmTableView) -> None:
    model = view.model
    key = ids("crit-new")[0]
    model.set_chattering([key])
    row = model.row_of(key)
    assert row is not None
    index = model.index(row, Column.COUNT)
    assert model.data(index).endswith("\u27f3")
    tooltip = shown(model.data(index, Qt.ItemDataRole.ToolTipRole))
    assert "Chattering" in tooltip
    model.set_chattering([])
    assert not model.is_chattering(key) and model.data(index) == "1"


def test_the_list_offers_shelving_exactly_where_the_life_cycle_allows_it() -> None:
    allowed = {state for state, event in TRANSITIONS if event is AlarmEvent.SHELVE}
    assert allowed == SHELVABLE_STATES


def test_c_comments_and_a_assigns_the_selection_after_asking(
    qtbot: QtBot, view: AlarmTableView
) -> None:
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    view.table.setFocus()
    select_ids(view, ids("crit-new", "med-acked"))
    assert view.comment_action.isEnabled() and view.assign_action.isEnabled()
    view.ask_comment = lambda count: f" {count} checked by the crew "
    with qtbot.waitSignal(view.commentRequested, timeout=2000) as blocker:
        qtbot.keyClick(view.table, Qt.Key.Key_C)
    assert blocker.args == [ids("crit-new", "med-acked"), "2 checked by the crew"]
    asked: list[tuple[int, str]] = []
    view.ask_assignee = lambda count, current: asked.append((count, current)) or " li.wei "
    with qtbot.waitSignal(view.assignRequested, timeout=2000) as blocker:
        qtbot.keyClick(view.table, Qt.Key.Key_A)
    assert blocker.args == [ids("crit-new", "med-acked"), "li.wei"]
    assert asked == [(2, "")]
    for cancelled in (None, "   "):
        view.ask_comment = lambda count, answer=cancelled: answer
        with qtbot.assertNotEmitted(view.commentRequested, wait=50):
            view.comment_action.trigger()
    view.commenting_enabled = False
    view.ask_comment = lambda count: "never asked"
    with qtbot.assertNotEmitted(view.commentRequested, wait=50):
        qtbot.keyClick(view.table, Qt.Key.Key_C)


def test_assignee_shelved_until_and_notes_have_columns(view: AlarmTableView) -> None:
    model = view.model
    shelved = make_alarm("crit-new", severity=Severity.CRITICAL, state=AlarmState.SHELVED)
    shelved.shelved_until = datetime(2026, 11, 30, 14, 5).timestamp()
    shelved.shelved_by = "wang.fang"
    shelved.shelve_note = "pump swap"
    shelved.assignee = "li.wei"
    shelved.comments = 3
    shelved.revision = 99
    model.upsert([shelved])
    row = model.row_of(shelved.id)

    def cell(column: Column, role: Qt.ItemDataRole = Qt.ItemDataRole.DisplayRole) -> object:
        return model.data(model.index(row, column), role)

    assert cell(Column.ASSIGNEE) == "li.wei"
    assert cell(Column.SHELVED_UNTIL) == "14:05:00"
    assert "wang.fang" in str(cell(Column.SHELVED_UNTIL, Qt.ItemDataRole.ToolTipRole))
    assert "pump swap" in str(cell(Column.SHELVED_UNTIL, Qt.ItemDataRole.ToolTipRole))
    assert cell(Column.NOTES) == "3"
    assert cell(Column.STATE) == "Shelved"
    active = make_alarm("med-acked", severity=Severity.MEDIUM, state=AlarmState.ACKNOWLEDGED)
    active.revision = 99
    model.upsert([active])
    other = model.row_of(active.id)
    assert model.data(model.index(other, Column.SHELVED_UNTIL)) == ""
    assert model.data(model.index(other, Column.NOTES)) == ""


def test_bursts_are_worked_out_again_at_most_once_a_second(qtbot: QtBot) -> None:
    """A busy list is not regrouped every batch: a change within a second of the last
    regrouping shows within the next second; a change of value alone needs none."""
    model = AlarmTableModel()
    model.set_entity_domains({"s1": "water", "s2": "water", "s3": "water"})
    model.upsert([make_alarm("s1", raised=0.0)])

    def text(entity: str) -> object:
        return model.data(model.index(model.row_of(f"{entity}|pm25|high"), Column.FIRST_OUT))

    started = time.monotonic()
    model.upsert([make_alarm("s2", raised=2.0)])  # within the second: waits
    assert text("s1") == ""
    qtbot.waitUntil(lambda: text("s1") == "first out of 2", timeout=3000)
    assert time.monotonic() - started >= 0.5
    log = SignalLog(model)
    model.upsert([make_alarm("s2", raised=2.0, value=190.0)])  # no new raise
    qtbot.wait(1200)
    model.upsert([make_alarm("s2", raised=2.0, value=191.0)])
    assert log.changed and all(
        last_column < Column.FIRST_OUT for _r, _l, _c, last_column in log.changed
    )
    assert text("s2") == "\u21b3 s1 · pm25"


def test_the_first_alarm_of_a_burst_is_marked_and_the_rest_point_to_it() -> None:
    model = AlarmTableModel()
    model.set_entity_domains({"s1": "water", "s2": "water", "s3": "water", "t1": "traffic"})
    model.set_entity_names({"s1": "Pump 1"})
    model.upsert(
        [
            make_alarm("s2", raised=3.0),
            make_alarm("s1", raised=0.0),
            make_alarm("s3", raised=4.5),  # within 5 s of the first: the same burst
            make_alarm("t1", raised=1.0),  # another domain: not part of it
        ]
    )

    def text(entity: str) -> object:
        return model.data(model.index(model.row_of(f"{entity}|pm25|high"), Column.FIRST_OUT))

    assert text("s1") == "first out of 3"
    assert text("s2") == text("s3") == "\u21b3 Pump 1 · pm25"
    assert text("t1") == ""
    model.upsert([make_alarm("s4", raised=5.5)])  # 5.5 s after the first: not in its burst
    assert text("s4") == ""
    keys = [
        model.data(model.index(model.row_of(f"{e}|pm25|high"), Column.FIRST_OUT), SORT_ROLE)
        for e in ("s1", "s2", "s3")
    ]
    assert keys == sorted(keys)
