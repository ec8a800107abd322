"""The words for incidents in the chosen language: statuses, priorities and what each entry
of a timeline says happened. Marked with ``QT_TRANSLATE_NOOP`` here, translated when shown."""

from __future__ import annotations

from services.model import IncidentStatus, severity_of_priority
from widgets.i18n import QT_TRANSLATE_NOOP, translate
from widgets.terms import severity_text

INCIDENT_STATUS_TEXT: dict[IncidentStatus, str] = {
    IncidentStatus.OPEN: QT_TRANSLATE_NOOP("IncidentStatus", "Open"),
    IncidentStatus.IN_PROGRESS: QT_TRANSLATE_NOOP("IncidentStatus", "In progress"),
    IncidentStatus.RESOLVED: QT_TRANSLATE_NOOP("IncidentStatus", "Resolved"),
    IncidentStatus.CLOSED: QT_TRANSLATE_NOOP("IncidentStatus", "Closed"),
}
ALARM_ACTION_TEXT: dict[str, str] = {
    "ack": QT_TRANSLATE_NOOP("Timeline", "Acknowledged"),
    "shelve": QT_TRANSLATE_NOOP("Timeline", "Shelved"),
    "unshelve": QT_TRANSLATE_NOOP("Timeline", "Unshelved"),
    "comment": QT_TRANSLATE_NOOP("Timeline", "Comment"),
    "assign": QT_TRANSLATE_NOOP("Timeline", "Assigned"),
    "out_of_service": QT_TRANSLATE_NOOP("Timeline", "Taken out of service"),
    "in_service": QT_TRANSLATE_NOOP("Timeline", "Returned to service"),
}
"""Operators' actions on alarms, as a timeline says them."""
INCIDENT_CHANGE_TEXT: dict[str, str] = {
    "incident_open": QT_TRANSLATE_NOOP("Timeline", "Incident opened"),
    "incident_title": QT_TRANSLATE_NOOP("Timeline", "Title changed"),
    "incident_priority": QT_TRANSLATE_NOOP("Timeline", "Priority changed"),
    "incident_status": QT_TRANSLATE_NOOP("Timeline", "Status changed"),
    "incident_owner": QT_TRANSLATE_NOOP("Timeline", "Owner changed"),
    "incident_link_alarm": QT_TRANSLATE_NOOP("Timeline", "Alarm linked"),
    "incident_link_entity": QT_TRANSLATE_NOOP("Timeline", "Entity linked"),
    "incident_note": QT_TRANSLATE_NOOP("Timeline", "Note"),
}
"""Changes to an incident, as a timeline says them."""


def incident_status_text(status: IncidentStatus) -> str:
    """``In progress``: an incident's status in words."""
    return translate("IncidentStatus", INCIDENT_STATUS_TEXT.get(status, str(status)))


def priority_text(priority: int) -> str:
    """``2 · High``: an incident's priority as its number and word (never colour alone)."""
    try:
        word = severity_text(severity_of_priority(priority))
    except ValueError:
        return str(priority)
    return translate("Incident", "{priority} · {word}").format(priority=priority, word=word)


def alarm_action_text(action: str) -> str:
    """``Acknowledged``: what an operator did to an alarm."""
    text = ALARM_ACTION_TEXT.get(action)
    return translate("Timeline", text) if text else action


def incident_change_text(kind: str) -> str:
    """``Status changed``: what changed in an incident."""
    text = INCIDENT_CHANGE_TEXT.get(kind)
    return translate("Timeline", text) if text else kind
