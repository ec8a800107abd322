"""Incidents in the window: Ctrl+I opens one from the selected alarms, the Incidents dock shows
it with its timeline, roles are told why not, and a timeline row selects its alarm."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from services.auth.roles import Principal, Role
from services.config import AppConfig, FeedConfig, RuleConfig
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.model import ActionResult, IncidentStatus
from services.store.cache import OfflineCache
from ui.incidents import IncidentActions
from ui.main_window import MainWindow

OPS = Principal("tester", Role.OPERATOR, "ws-test")
BOSS = Principal("li.wei", Role.SUPERVISOR, "ws-3")
VIEWER = Principal("guest", Role.VIEWER, "wall-1")
CONFIG = AppConfig(
    source="test",
    feeds=(FeedConfig(name="air", topic="a/#", domain="environment"),),
    rules=(RuleConfig(metric="pm25", high=75, high_high=150),),
)


def message(entity: str, pm25: float, ts: float) -> RawMessage:
    payload = {"id": entity, "name": f"Station {entity}", "pm25": pm25, "ts": ts}
    return RawMessage("air", f"a/{entity}", json.dumps(payload).encode(), ts)


@pytest.fixture
def pipeline(cache_dir: Path) -> Iterator[IngestPipeline]:
    cache = OfflineCache(cache_dir)
    pipe = IngestPipeline(CONFIG, cache, flush_interval=0.0)
    yield pipe
    pipe.stop()
    cache.close()


def make_window(qtbot: QtBot, pipeline: IngestPipeline, who: Principal = OPS) -> MainWindow:
    holder: list[MainWindow] = []
    window = MainWindow(
        CONFIG,
        acknowledge=lambda ids, note: pipeline.acknowledge(ids, holder[0].principal, note),
        principal=who,
        incidents=IncidentActions.for_pipeline(pipeline, lambda: holder[0].principal),
    )
    holder.append(window)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    pipeline.process_batch([message("s1", 100, 1), message("s2", 200, 2), message("s3", 90, 3)])
    pipeline.flush_cache(force=True)  # the worker does this after each batch
    window.apply_delta(pipeline.take_delta())
    return window


def select(window: MainWindow, *alarm_ids: str) -> None:
    view = window.alarm_view
    view.table.clearSelection()
    for key in alarm_ids:
        row = view.model.row_of(key)
        assert row is not None
        index = view.proxy.mapFromSource(view.model.index(row, 0))
        view.table.selectionModel().select(
            index,
            view.table.selectionModel().SelectionFlag.Select
            | view.table.selectionModel().SelectionFlag.Rows,
        )


def test_ctrl_i_opens_an_incident_from_the_selected_alarms_and_the_dock_shows_it(
    qtbot: QtBot, pipeline: IngestPipeline
) -> None:
    window = make_window(qtbot, pipeline)
    controls = window.incidents
    assert controls.open_action in window.alarm_view.table.actions()  # the context menu
    assert controls.open_action in window.menus.actions()  # Go menu, palette, F1
    asked: list[tuple[int, int]] = []
    controls.ask_incident = lambda count, priority: (
        asked.append((count, priority)) or ("Smoke over Heshan", priority, "crew called")
    )
    select(window, "s1|pm25|high", "s2|pm25|high_high")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.alarm_view.table.setFocus()
    qtbot.keyClick(window.alarm_view.table, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    assert asked == [(2, 2)]  # high-high is high severity: priority 2, the most urgent
    window.apply_delta(pipeline.take_delta())
    (incident,) = controls.view.model.incidents()
    assert incident.alarm_ids == ("s2|pm25|high_high", "s1|pm25|high")  # in the list's order
    assert (incident.title, incident.priority, incident.owner) == ("Smoke over Heshan", 2, "tester")
    assert window.dock_panels.docks["incidents"].isVisible()
    assert controls.view.current_incident() == incident
    assert window.statusBar().currentMessage() == "Incident opened"
    assert controls.view.counts_text().startswith("1 open")
    whats = [row["what"] for row in controls.view.timeline_texts()]
    assert whats[:2] == [
        "Station s1 · pm25 High: Unacknowledged",
        "Station s2 · pm25 High-high: Unacknowledged",
    ]
    assert "Incident opened" in whats and whats[-1] == "Note"


def test_the_incident_changes_through_the_dock_and_a_timeline_row_selects_its_alarm(
    qtbot: QtBot, pipeline: IngestPipeline
) -> None:
    window = make_window(qtbot, pipeline)
    controls = window.incidents
    controls.ask_incident = lambda count, priority: ("Smoke", priority, "")
    select(window, "s1|pm25|high")
    controls.open_action.trigger()
    window.apply_delta(pipeline.take_delta())
    view = controls.view
    key = view.current_incident().id
    window.acknowledge_alarms(["s1|pm25|high"], "seen")
    view.status_buttons[IncidentStatus.IN_PROGRESS].trigger()
    view.ask_note = lambda title: "wind from the north"
    view.note_button.trigger()
    select(window, "s3|pm25|high")
    view.link_button.trigger()
    window.apply_delta(pipeline.take_delta())
    shown = view.current_incident()
    assert (shown.status, shown.notes, shown.alarm_ids) == (
        IncidentStatus.IN_PROGRESS,
        1,
        ("s1|pm25|high", "s3|pm25|high"),
    )
    assert "In progress" in view.facts_label.text()
    # an operator may not close it: told why, nothing changes
    view.status_buttons[IncidentStatus.CLOSED].trigger()
    assert window.statusBar().currentMessage() == (
        "Not done: tester is signed in as operator: close incident needs the supervisor role"
        " or higher"
    )
    assert pipeline.take_delta().incidents == {}
    window.set_principal(BOSS)
    view.status_buttons[IncidentStatus.CLOSED].trigger()
    pipeline.flush_cache(force=True)
    window.apply_delta(pipeline.take_delta())
    assert pipeline.incident_desk.book.get(key).status is IncidentStatus.CLOSED
    assert view.current_incident().status is IncidentStatus.CLOSED  # still shown
    view.refresh_timeline()
    rows = view.timeline_texts()
    assert ("Acknowledged: Station s1 · pm25 High", "seen") in [
        (row["what"], row["note"]) for row in rows
    ]
    # a timeline row of an alarm selects it in the alarm list
    row = next(n for n, r in enumerate(rows) if r["what"].startswith("Station s1"))
    window.alarm_view.table.clearSelection()
    view.timeline.clicked.emit(view.timeline_model.index(row, 1))
    assert window.alarm_view.selected_alarm_ids() == ["s1|pm25|high"]


def test_a_viewer_is_told_why_and_a_refusal_from_the_services_is_shown(
    qtbot: QtBot, pipeline: IngestPipeline, cache_dir: Path
) -> None:
    window = make_window(qtbot, pipeline, VIEWER)
    controls = window.incidents
    asked: list[int] = []
    controls.ask_incident = lambda count, priority: asked.append(count) or ("x", 3, "")
    select(window, "s1|pm25|high")
    controls.open_action.trigger()
    assert asked == []
    assert window.statusBar().currentMessage() == (
        "Not done: guest is signed in as viewer: work on incidents needs the operator role"
        " or higher"
    )
    window.statusBar().clearMessage()
    controls.view.new_button.click()  # an empty one: refused the same way
    assert asked == [] and "work on incidents needs" in window.statusBar().currentMessage()
    assert pipeline.take_delta().incidents == {}
    assert pipeline.incident_desk.book.incidents() == []
    # what the services refuse (here: a title the dialog would not give) is shown in a box
    controls.report(ActionResult("incident_open", "guest", error="an incident needs a title"))
    box = window.findChild(QMessageBox)
    assert box is not None and "an incident needs a title" in box.text()
    box.close()
