"""The incidents panel: table, details, actions asked for, timeline, ISA-101 colours."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from services.model import (
    Incident,
    IncidentStatus,
    Severity,
    TimelineEntry,
    TimelineKind,
)
from widgets.incident_dialog import NewIncidentDialog
from widgets.incidents_view import IncidentColumn, IncidentsView
from widgets.palette import SEVERITY_COLORS

T0 = 1_790_000_000.0


def incident(key: str = "a1", **changes: object) -> Incident:
    base = Incident(
        id=key,
        title="Smoke over Heshan",
        priority=2,
        status=IncidentStatus.OPEN,
        owner="ops",
        opened_at=T0,
        opened_by="ops",
        updated_at=T0,
        alarm_ids=("aq-1|pm25|high",),
        entity_ids=("aq-1",),
        notes=1,
        revision=1,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def make_view(qtbot: QtBot) -> IncidentsView:
    view = IncidentsView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    return view


def cell(view: IncidentsView, key: str, column: IncidentColumn, role: int) -> object:
    row = view.model.row_of(key)
    assert row is not None
    return view.model.index(row, column).data(role)


def test_incidents_are_listed_counted_and_never_go_back_to_an_older_version(
    qtbot: QtBot,
) -> None:
    view = make_view(qtbot)
    view.apply([incident("a1"), incident("b2", status=IncidentStatus.IN_PROGRESS, priority=4)])
    assert view.counts_text() == "1 open · 1 in progress · 0 resolved"
    assert cell(view, "a1", IncidentColumn.PRIORITY, Qt.ItemDataRole.DisplayRole) == "2 · High"
    assert cell(view, "b2", IncidentColumn.STATUS, Qt.ItemDataRole.DisplayRole) == "In progress"
    assert cell(view, "a1", IncidentColumn.ALARMS, Qt.ItemDataRole.DisplayRole) == "1"
    view.apply([incident("a1", title="Newer", revision=3)])
    view.apply([incident("a1", title="Older", revision=2)])
    assert view.model.incident("a1").title == "Newer"
    # closed ones are hidden unless asked for
    view.apply([incident("b2", status=IncidentStatus.CLOSED, revision=2)])
    assert view.table.model().rowCount() == 1
    view.findChild(type(view._show_closed), "showClosedIncidents").setChecked(True)
    assert view.table.model().rowCount() == 2


def test_only_the_priority_of_an_active_incident_has_colour_and_it_says_it_in_words(
    qtbot: QtBot,
) -> None:
    view = make_view(qtbot)
    view.apply(
        [
            incident("a1", priority=1),
            incident("b2", priority=1, status=IncidentStatus.RESOLVED),
        ]
    )
    background = Qt.ItemDataRole.BackgroundRole
    colour = cell(view, "a1", IncidentColumn.PRIORITY, background)
    assert colour is not None and colour.color().name() == SEVERITY_COLORS[Severity.CRITICAL]
    assert cell(view, "a1", IncidentColumn.PRIORITY, Qt.ItemDataRole.DisplayRole) == "1 · Critical"
    for column in IncidentColumn:
        if column is not IncidentColumn.PRIORITY:
            assert cell(view, "a1", column, background) is None  # grey: no row tint
        assert cell(view, "b2", column, background) is None  # resolved: no colour at all
    assert cell(view, "b2", IncidentColumn.PRIORITY, Qt.ItemDataRole.DisplayRole) == "1 · Critical"
    assert cell(view, "a1", IncidentColumn.TITLE, Qt.ItemDataRole.FontRole).bold()


def test_the_details_offer_the_allowed_moves_and_ask_before_asking_for_changes(
    qtbot: QtBot,
) -> None:
    view = make_view(qtbot)
    view.apply([incident("a1")])
    assert view.title_label.text().startswith("Select an incident")
    assert view.select_incident("a1")
    assert view.title_label.text() == "Smoke over Heshan"
    assert "Priority 2 · High · Open · owner ops" in view.facts_label.text()
    enabled = {status for status, action in view.status_buttons.items() if action.isEnabled()}
    assert enabled == {IncidentStatus.IN_PROGRESS, IncidentStatus.RESOLVED, IncidentStatus.CLOSED}
    asked: list[tuple[str, ...]] = []
    view.statusRequested.connect(lambda key, status: asked.append(("status", key, status)))
    view.ownerRequested.connect(lambda key, owner: asked.append(("owner", key, owner)))
    view.priorityRequested.connect(lambda key, level: asked.append(("priority", key, str(level))))
    view.noteRequested.connect(lambda key, text: asked.append(("note", key, text)))
    view.linkRequested.connect(lambda key: asked.append(("link", key)))
    view.ask_owner = lambda current: " zhang.min "
    view.ask_priority = lambda current: 1
    view.ask_note = lambda title: "crew on site"
    view.status_buttons[IncidentStatus.IN_PROGRESS].trigger()
    view.owner_button.trigger()
    view.priority_button.trigger()
    view.note_button.trigger()
    view.link_button.trigger()
    view.ask_note = lambda title: None  # cancelled: nothing asked
    view.note_button.trigger()
    assert asked == [
        ("status", "a1", "in_progress"),
        ("owner", "a1", "zhang.min"),
        ("priority", "a1", "1"),
        ("note", "a1", "crew on site"),
        ("link", "a1"),
    ]
    view.apply([incident("a1", status=IncidentStatus.CLOSED, revision=2)])
    enabled = {status for status, action in view.status_buttons.items() if action.isEnabled()}
    assert enabled == {IncidentStatus.OPEN}  # only reopening
    assert not view.note_button.isEnabled() and not view.owner_button.isEnabled()


def test_the_timeline_reads_in_words_and_a_click_on_an_alarm_names_it(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    alarm = "aq-1|pm25|high"
    entries = [
        TimelineEntry(
            T0 - 60, TimelineKind.ALARM, "unacknowledged", alarm_id=alarm, state="unacknowledged"
        ),
        TimelineEntry(T0, TimelineKind.INCIDENT, "incident_open", user="ops", note="Smoke"),
        TimelineEntry(
            T0 + 5,
            TimelineKind.ACTION,
            "ack",
            alarm_id=alarm,
            user="ops",
            workstation="ws-1",
            note="seen on camera",
            state="acknowledged",
        ),
        TimelineEntry(
            T0 + 9, TimelineKind.INCIDENT, "incident_status", user="li.wei", note="resolved"
        ),
        TimelineEntry(
            T0 + 9,
            TimelineKind.NOTE,
            "incident_note",
            user="li.wei",
            workstation="ws-3",
            note="all clear",
        ),
    ]
    asked: list[str] = []
    view.timeline_source = lambda key: asked.append(key) or entries
    view.set_entity_name(lambda key: {"aq-1": "Heshan AQ 01"}.get(key, key))
    view.apply([incident("a1")])
    view.select_incident("a1")
    assert asked == ["a1"]
    texts = view.timeline_texts()
    assert [(t["what"], t["who"], t["note"]) for t in texts] == [
        ("Heshan AQ 01 · pm25 High: Unacknowledged", "", ""),
        ("Incident opened", "ops", "Smoke"),
        ("Acknowledged: Heshan AQ 01 · pm25 High", "ops (ws-1)", "seen on camera"),
        ("Status changed", "li.wei", "Resolved"),
        ("Note", "li.wei (ws-3)", "all clear"),
    ]
    clicked: list[str] = []
    view.alarmActivated.connect(clicked.append)
    model = view.timeline_model
    view.timeline.clicked.emit(model.index(2, 1))
    view.timeline.clicked.emit(model.index(3, 1))  # the incident's own change: no alarm
    assert clicked == [alarm]


def test_the_new_incident_dialog_needs_a_title_and_suggests_the_priority(qtbot: QtBot) -> None:
    dialog = NewIncidentDialog(3, 1)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Open incident from 3 alarm(s)"
    assert dialog.priority_box.currentData() == 1
    assert not dialog._ok.isEnabled()
    dialog.title_edit.setText("  Burst main ")
    dialog.note_edit.setPlainText("valve closed")
    assert dialog._ok.isEnabled()
    assert dialog.answer() == ("Burst main", 1, "valve closed")


def test_the_replay_button_asks_for_the_opening_of_the_current_incident(qtbot: QtBot) -> None:
    view = make_view(qtbot)
    view.apply([incident("a1", opened_at=T0 + 42)])
    assert view.replay_button.isHidden()  # until a window that can replay shows it
    view.replay_button.show()
    with qtbot.assertNotEmitted(view.replayRequested):
        view.replay_button.click()  # nothing selected yet
    assert view.select_incident("a1")
    with qtbot.waitSignal(view.replayRequested) as asked:
        view.replay_button.click()
    assert asked.args == [T0 + 42]
