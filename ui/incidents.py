"""The window's incidents: the Incidents dock, Go ▸ Open incident from selection (Ctrl+I, also
in the alarm list's context menu) and the commands handed to the services.

The dock is :class:`widgets.incidents_view.IncidentsView`; what it and Ctrl+I ask for goes
to the ingest worker through :class:`IncidentActions` (``ui.runtime`` wires the pipeline's),
as the person signed in. A role that may not do it is told why in the status bar (and the
services refuse it too); the stored incidents come back in the deltas.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox

from services.auth.roles import Permission, Principal
from services.config.schema import SEVERITY_PRIORITY
from services.model import ActionResult, Incident, IncidentStatus, TimelineEntry
from services.store.cache import CacheError
from widgets.i18n import translate
from widgets.incident_dialog import ask_new_incident
from widgets.incidents_view import IncidentsView
from widgets.plain_text import plain_message_box

if TYPE_CHECKING:
    from services.engine.remote import RemotePipeline
    from services.ingest.pipeline import IngestPipeline
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)

DEFAULT_PRIORITY = 3
"""An incident's priority when no alarm suggests one (medium)."""
INCIDENT_ACTIONS = ("incident_open", "incident_update", "incident_link", "incident_note")


@dataclass(frozen=True)
class IncidentActions:
    """Where the window's incident commands go (each returns at once; the outcome comes back
    in a delta) and where timelines are read."""

    open: Callable[[str, int, list[str], str], object]
    """Title, priority, alarm ids, first note."""
    update: Callable[[str, dict[str, object]], object]
    """Incident id and the fields to change (title, priority, status, owner)."""
    link: Callable[[str, list[str]], object]
    """Incident id and alarm ids."""
    note: Callable[[str, str], object]
    """Incident id and the note."""
    timeline: Callable[[str], Sequence[TimelineEntry]]

    @classmethod
    def for_pipeline(
        cls, pipeline: IngestPipeline | RemotePipeline, who: Callable[[], Principal]
    ) -> IncidentActions:
        """The pipeline's incident commands as ``who()`` (the person signed in when they act);
        timelines from its cache (none without one)."""

        def timeline(incident_id: str) -> Sequence[TimelineEntry]:
            if pipeline.cache is None:
                return []
            try:
                return pipeline.cache.incident_timeline(incident_id)
            except CacheError as error:
                log.warning("timeline of incident %s not read: %s", incident_id, error)
                return []

        return cls(
            open=lambda title, priority, ids, note: pipeline.open_incident(
                who(), title, priority, ids, note
            ),
            update=lambda key, changes: pipeline.update_incident(who(), key, **changes),
            link=lambda key, ids: pipeline.link_incident(who(), key, ids),
            note=lambda key, text: pipeline.add_incident_note(who(), key, text),
            timeline=timeline,
        )


class IncidentControls:
    """Builds the Incidents dock and the open-incident action of a :class:`MainWindow`."""

    def __init__(self, window: MainWindow, actions: IncidentActions | None) -> None:
        self.window = window
        self.actions = actions
        view = self.view = IncidentsView()
        view.set_entity_name(self.window.entity_name)
        view.timeline_source = actions.timeline if actions is not None else None
        window.dock_panels.add("incidents", translate("MainWindow", "Incidents"), view)
        self.ask_incident: Callable[[int, int], tuple[str, int, str] | None] = (
            lambda count, priority: ask_new_incident(count, priority, window)
        )
        """Asked with the number of alarms and the suggested priority for (title, priority,
        first note); None: cancelled."""
        self.open_action = QAction(translate("Incidents", "Open &incident from selection…"), window)
        self.open_action.setObjectName("openIncident")
        self.open_action.setShortcut(QKeySequence("Ctrl+I"))
        self.open_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.open_action.setToolTip(
            translate(
                "Incidents",
                "Open an incident grouping the selected alarms, asking its title and priority"
                " (Ctrl+I)",
            )
        )
        self.open_action.setEnabled(actions is not None)
        self.open_action.triggered.connect(self.open_from_selection)
        window.alarm_view.table.addAction(self.open_action)
        view.new_button.setEnabled(actions is not None)
        view.newRequested.connect(lambda: self.open_incident([]))
        view.statusRequested.connect(self.set_status)
        view.ownerRequested.connect(lambda key, owner: self._update(key, {"owner": owner}))
        view.priorityRequested.connect(
            lambda key, priority: self._update(key, {"priority": priority})
        )
        view.noteRequested.connect(self.add_note)
        view.linkRequested.connect(self.link_selection)
        view.alarmActivated.connect(self.show_alarm)
        self._opened_here = False

    # -- from the window -----------------------------------------------------------------
    def apply(self, incidents: Iterable[Incident]) -> None:
        """Show incidents that changed (from a delta)."""
        self.view.apply(incidents)

    def report(self, result: ActionResult) -> bool:
        """Tell the operator what an incident command did (False: not an incident's)."""
        if result.action not in INCIDENT_ACTIONS:
            return False
        window = self.window
        if result.error:
            box = plain_message_box(
                window,
                QMessageBox.Icon.Critical,
                translate("Incidents", "Incident not changed"),
                translate("MainWindow", "Nothing was done:\n{error}").format(error=result.error),
            )
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            return True
        done = {
            "incident_open": translate("Incidents", "Incident opened"),
            "incident_update": translate("Incidents", "Incident updated"),
            "incident_link": translate("Incidents", "Alarms linked to the incident"),
            "incident_note": translate("Incidents", "Note added to the incident"),
        }
        window.statusBar().showMessage(done[result.action], 5000)
        if result.action == "incident_open" and result.changed and self._opened_here:
            self._opened_here = False
            window.dock_panels.show("incidents")
            self.view.select_incident(result.changed[0])
        return True

    # -- commands ------------------------------------------------------------------------
    def open_from_selection(self) -> None:
        """Ask for a title and priority, then open an incident from the selected alarms."""
        self.open_incident(self.window.alarm_view.selected_alarm_ids())

    def open_incident(self, alarm_ids: list[str]) -> None:
        """Ask for a title and priority (suggested: the most urgent alarm's), then open an
        incident linking ``alarm_ids``."""
        if self.actions is None or self._refused(Permission.WORK_ON_INCIDENTS):
            return
        answer = self.ask_incident(len(alarm_ids), self.suggested_priority(alarm_ids))
        if answer is None or not answer[0].strip():
            return
        title, priority, note = answer
        self._opened_here = True
        self.actions.open(title.strip(), priority, list(alarm_ids), note.strip())

    def suggested_priority(self, alarm_ids: Sequence[str]) -> int:
        """The priority of the most urgent of the alarms (medium when none is known)."""
        model = self.window.alarm_view.model
        priorities = [
            SEVERITY_PRIORITY[alarm.severity]
            for alarm in (model.alarm(key) for key in alarm_ids)
            if alarm is not None
        ]
        return min(priorities, default=DEFAULT_PRIORITY)

    def set_status(self, incident_id: str, status: str) -> None:
        """Move an incident to ``status``; closing, or reopening a closed one, needs a
        supervisor."""
        held = self.view.model.incident(incident_id)
        target = IncidentStatus(status)
        supervised = target is IncidentStatus.CLOSED or (
            held is not None and held.status is IncidentStatus.CLOSED
        )
        if supervised and self._refused(Permission.CLOSE_INCIDENT):
            return
        self._update(incident_id, {"status": target.value})

    def add_note(self, incident_id: str, text: str) -> None:
        if self.actions is not None and not self._refused(Permission.WORK_ON_INCIDENTS):
            self.actions.note(incident_id, text)

    def link_selection(self, incident_id: str) -> None:
        """Link the alarms selected in the alarm list to the incident."""
        if self.actions is None or self._refused(Permission.WORK_ON_INCIDENTS):
            return
        ids = self.window.alarm_view.selected_alarm_ids()
        if not ids:
            self.window.statusBar().showMessage(
                translate("Incidents", "Select the alarms to link in the alarm list first"), 8000
            )
            return
        self.actions.link(incident_id, ids)

    def show_alarm(self, alarm_id: str) -> None:
        """Select an alarm of a timeline in the alarm list (and show its source)."""
        window = self.window
        window.dock_panels.show("alarms")
        if window.alarm_view.select_alarm(alarm_id):
            window.alarm_view.table.setFocus()
            return
        window.statusBar().showMessage(
            translate("Incidents", "That alarm is not in the list any more (back to normal)"),
            8000,
        )

    # -- inside --------------------------------------------------------------------------
    def _update(self, incident_id: str, changes: dict[str, object]) -> None:
        if self.actions is not None and not self._refused(Permission.WORK_ON_INCIDENTS):
            self.actions.update(incident_id, changes)

    def _refused(self, permission: Permission) -> bool:
        """Say in the status bar why the person signed in may not do ``permission``."""
        why = self.window.refusal(permission)
        if why:
            self.window.statusBar().showMessage(
                translate("MainWindow", "Not done: {why}").format(why=why), 10000
            )
        return bool(why)
