"""The incidents panel: a table of incidents, and the selected one's details and timeline.

:class:`IncidentTableModel` holds :class:`services.model.Incident` values keyed by id, fed
in batches with :meth:`~IncidentTableModel.upsert` (a view never goes back to an older
version). :class:`IncidentsView` shows them with a detail pane: the incident's facts,
buttons that ask for a status, owner, priority, note or link, and its timeline (alarm
transitions, actions on its alarms, its own changes and notes), read through the
:attr:`IncidentsView.timeline_source` the application provides. The view never changes an
incident itself: it asks with signals, and the application feeds the stored versions back.

ISA-101: rows are grey; only the priority cell of an open or in-progress incident has a
colour, and it always says the priority in words too. Resolved and closed rows are dimmed.
Every string from operators or feeds is shown as plain text.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QBrush, QFont, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from services.model import (
    INCIDENT_PRIORITIES,
    AlarmState,
    Condition,
    Incident,
    IncidentStatus,
    TimelineEntry,
    TimelineKind,
    newer_incident,
    severity_of_priority,
)
from widgets.format import format_clock, format_count, format_timestamp
from widgets.i18n import QT_TRANSLATE_NOOP, translate
from widgets.incident_terms import (
    alarm_action_text,
    incident_change_text,
    incident_status_text,
    priority_text,
)
from widgets.palette import DIM_TEXT_COLOR, SEVERITY_COLORS, text_color_for
from widgets.plain_text import SingleLineDelegate, plain_label, plain_tooltip
from widgets.table_model import (
    CENTER,
    KEY_ROLE,
    RIGHT,
    ColumnSpans,
    KeyedSortProxy,
    KeyedTableModel,
    RowTableModel,
    SortValue,
    TableColumn,
    configure_table,
)
from widgets.terms import alarm_state_text, condition_text

log = logging.getLogger(__name__)

TIMELINE_REFRESH_MS = 5000
"""How often the timeline shown is read again (its alarms change without the incident)."""
WIDE_RATIO = 2.5
"""Wider than this many times its height, the panel puts the details beside the table."""


class IncidentColumn(enum.IntEnum):
    """Columns of the incident table."""

    PRIORITY = 0
    TITLE = 1
    STATUS = 2
    OWNER = 3
    ALARMS = 4
    OPENED = 5
    UPDATED = 6


STATUS_RANK: dict[IncidentStatus, int] = {
    IncidentStatus.OPEN: 3,
    IncidentStatus.IN_PROGRESS: 2,
    IncidentStatus.RESOLVED: 1,
    IncidentStatus.CLOSED: 0,
}
"""Larger needs attention sooner (a descending sort puts those first)."""
_DIMMED = frozenset({IncidentStatus.RESOLVED, IncidentStatus.CLOSED})


def when_text(ts: float, now: float | None = None) -> str:
    """A time of today as ``14:03:27``, of another day as ``2026-05-14 14:03``."""
    moment = datetime.fromtimestamp(ts)
    today = datetime.fromtimestamp(time.time() if now is None else now).date()
    return format_clock(ts) if moment.date() == today else moment.strftime("%Y-%m-%d %H:%M")


def owner_text(owner: str) -> str:
    """An owner, or ``nobody``."""
    return owner or translate("Incidents", "nobody")


def _columns() -> list[TableColumn[Incident]]:
    columns: dict[IncidentColumn, TableColumn[Incident]] = {
        IncidentColumn.PRIORITY: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Priority"),
            lambda i: priority_text(i.priority),
            lambda i: -i.priority,
        ),
        IncidentColumn.TITLE: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Title"), lambda i: i.title, lambda i: i.title.casefold()
        ),
        IncidentColumn.STATUS: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Status"),
            lambda i: incident_status_text(i.status),
            lambda i: STATUS_RANK.get(i.status, 0),
        ),
        IncidentColumn.OWNER: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Owner"), lambda i: i.owner, lambda i: i.owner.casefold()
        ),
        IncidentColumn.ALARMS: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Alarms"),
            lambda i: format_count(len(i.alarm_ids)),
            lambda i: len(i.alarm_ids),
            RIGHT,
        ),
        IncidentColumn.OPENED: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Opened"),
            lambda i: when_text(i.opened_at),
            lambda i: i.opened_at,
            CENTER,
        ),
        IncidentColumn.UPDATED: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Updated"),
            lambda i: when_text(i.updated_at),
            lambda i: i.updated_at,
            CENTER,
        ),
    }
    return [columns[column] for column in IncidentColumn]


class IncidentTableModel(KeyedTableModel[Incident]):
    """Incidents, one row per id, counted by status; closed ones stay (the view hides them
    unless asked)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(_columns(), parent)
        bold = QFont()
        bold.setBold(True)
        self._bold = bold
        self._held: dict[str, Incident] = {}

    def upsert(self, items: Iterable[Incident]) -> None:
        """Apply new or changed incidents, dropping any version older than one seen."""
        newer = []
        for incident in items:
            if newer_incident(self._held.get(incident.id), incident):
                self._held[incident.id] = incident
                newer.append(incident)
        super().upsert(newer)

    def key_of(self, item: Incident) -> str:
        """The incident id."""
        return item.id

    def category(self, item: Incident) -> IncidentStatus:
        """Incidents are counted by status."""
        return item.status

    def tie_key(self, item: Incident) -> tuple[SortValue, ...]:
        """Equal values sort by opening time, then id."""
        return (item.opened_at, item.id)

    def changed_columns(self, old: Incident, new: Incident) -> ColumnSpans:
        """The whole row: colours and fonts follow the status and the priority."""
        return ((0, len(IncidentColumn) - 1),)

    def tooltip(self, item: Incident, column: int) -> str:
        """The whole title, exact times, who opened it."""
        if column == IncidentColumn.OPENED:
            return translate("Incidents", "Opened by {user} at {time}").format(
                user=item.opened_by, time=format_timestamp(item.opened_at)
            )
        if column == IncidentColumn.UPDATED:
            return format_timestamp(item.updated_at)
        return plain_tooltip(item.title)

    def background(self, item: Incident, column: int) -> QBrush | None:
        """The priority's colour on its cell while the incident is open or in progress."""
        if column != IncidentColumn.PRIORITY or not item.status.is_active:
            return None
        hex_color = self._priority_color(item.priority)
        return self.brush(hex_color) if hex_color else None

    def foreground(self, item: Incident, column: int) -> QBrush | None:
        """Readable text on the coloured cell; dimmed text for resolved and closed ones."""
        if column == IncidentColumn.PRIORITY and item.status.is_active:
            hex_color = self._priority_color(item.priority)
            if hex_color:
                return self.brush(text_color_for(hex_color))
        return self.brush(DIM_TEXT_COLOR) if item.status in _DIMMED else None

    def font(self, item: Incident, column: int) -> QFont | None:
        """Bold while open (nobody has started on it)."""
        return self._bold if item.status is IncidentStatus.OPEN else None

    @staticmethod
    def _priority_color(priority: int) -> str | None:
        try:
            return SEVERITY_COLORS.get(severity_of_priority(priority))
        except ValueError:
            return None

    def incident(self, incident_id: str) -> Incident | None:
        """The incident with ``incident_id``, or None."""
        return self.item(incident_id)

    def incidents(self) -> list[Incident]:
        """Every incident held, in source row order."""
        return self.items()


class TimelineColumn(enum.IntEnum):
    """Columns of the timeline."""

    TIME = 0
    WHAT = 1
    WHO = 2
    NOTE = 3


class TimelineModel(RowTableModel[TimelineEntry]):
    """An incident's timeline, oldest first; alarms are described with entity names."""

    def __init__(
        self, entity_name: Callable[[str], str] | None = None, parent: QObject | None = None
    ) -> None:
        columns = [
            TableColumn(
                QT_TRANSLATE_NOOP("Column", "Time"), lambda e: when_text(e.ts), lambda e: e.ts
            ),
            TableColumn(QT_TRANSLATE_NOOP("Column", "What"), self.what_text, self.what_text),
            TableColumn(QT_TRANSLATE_NOOP("Column", "Who"), self.who_text, self.who_text),
            TableColumn(QT_TRANSLATE_NOOP("Column", "Note"), self.note_text, self.note_text),
        ]
        super().__init__(columns, parent)
        self.entity_name: Callable[[str], str] = entity_name or (lambda key: key)
        italic = QFont()
        italic.setItalic(True)
        self._italic = italic

    def describe_alarm(self, alarm_id: str) -> str:
        """``Heshan AQ 01 · pm25 high``: an alarm by its entity's name, metric and condition."""
        parts = alarm_id.rsplit("|", 2)
        if len(parts) != 3:
            return alarm_id
        entity, metric, condition = parts
        try:
            band = condition_text(Condition(condition))
        except ValueError:
            band = condition
        return translate("Timeline", "{entity} · {metric} {condition}").format(
            entity=self.entity_name(entity), metric=metric, condition=band
        )

    def what_text(self, entry: TimelineEntry) -> str:
        """What happened, in words."""
        if entry.kind is TimelineKind.ALARM and entry.previous:
            return translate("Timeline", "{alarm}: {previous} → {state}").format(
                alarm=self.describe_alarm(entry.alarm_id),
                previous=_state_text(entry.previous),
                state=_state_text(entry.state),
            )
        if entry.kind is TimelineKind.ALARM:
            return translate("Timeline", "{alarm}: {state}").format(
                alarm=self.describe_alarm(entry.alarm_id), state=_state_text(entry.state)
            )
        if entry.kind is TimelineKind.ACTION:
            return translate("Timeline", "{action}: {alarm}").format(
                action=alarm_action_text(entry.what), alarm=self.describe_alarm(entry.alarm_id)
            )
        return incident_change_text(entry.what)

    @staticmethod
    def who_text(entry: TimelineEntry) -> str:
        """Who did it, and where (nobody for an alarm's own transition)."""
        if not entry.user:
            return ""
        if not entry.workstation:
            return entry.user
        return translate("Timeline", "{user} ({workstation})").format(
            user=entry.user, workstation=entry.workstation
        )

    def note_text(self, entry: TimelineEntry) -> str:
        """The note, reason or new value (statuses and priorities in words)."""
        if entry.kind is TimelineKind.ALARM:
            return ""
        if entry.what == "incident_status":
            try:
                return incident_status_text(IncidentStatus(entry.note))
            except ValueError:
                return entry.note
        if entry.what == "incident_priority" and entry.note.isdigit():
            return priority_text(int(entry.note))
        if entry.what == "incident_owner":
            return owner_text(entry.note)
        if entry.what == "incident_link_alarm":
            return self.describe_alarm(entry.note)
        if entry.what == "incident_link_entity":
            return self.entity_name(entry.note)
        return entry.note

    def tooltip(self, item: TimelineEntry, column: int) -> str:
        """The exact time; the whole note."""
        if column == TimelineColumn.TIME:
            return format_timestamp(item.ts)
        if column == TimelineColumn.NOTE:
            return plain_tooltip(self.note_text(item))
        if column == TimelineColumn.WHO:
            return plain_tooltip(self.who_text(item))
        return plain_tooltip(self.what_text(item))

    def font(self, item: TimelineEntry, column: int) -> QFont | None:
        """Alarms' own transitions in italics (nobody did them)."""
        return self._italic if item.kind is TimelineKind.ALARM else None

    def foreground(self, item: TimelineEntry, column: int) -> QBrush | None:
        """The time dimmed."""
        return self.brush(DIM_TEXT_COLOR) if column == TimelineColumn.TIME else None

    def key_of(self, item: TimelineEntry) -> str:
        """The alarm of the entry ("" when none)."""
        return item.alarm_id


def _state_text(state: str) -> str:
    try:
        return alarm_state_text(AlarmState(state))
    except ValueError:
        return state


class IncidentsView(QWidget):
    """The incidents panel: counts and buttons, the table, the selected one's details.

    It only asks, with signals carrying the incident id: :attr:`statusRequested`,
    :attr:`ownerRequested`, :attr:`priorityRequested`, :attr:`noteRequested`,
    :attr:`linkRequested`; :attr:`newRequested` for a new one; :attr:`alarmActivated` when
    the operator clicks a timeline entry of an alarm.
    """

    newRequested = Signal()
    """The operator asked for a new incident (the application asks what it is)."""
    statusRequested = Signal(str, str)
    """Incident id and the status (value) the operator asked for."""
    ownerRequested = Signal(str, str)
    """Incident id and the owner asked for ("": nobody)."""
    priorityRequested = Signal(str, int)
    """Incident id and the priority asked for."""
    noteRequested = Signal(str, str)
    """Incident id and the note written."""
    linkRequested = Signal(str)
    """Incident id: link the alarms selected in the alarm list to it."""
    alarmActivated = Signal(str)
    """An alarm id: the operator clicked a timeline entry of that alarm."""
    incidentSelected = Signal(str)
    replayRequested = Signal(float)
    """Replay the city from the current incident's opening (the Replay button)."""
    """The incident shown in the details ("" when none)."""

    def __init__(
        self, model: IncidentTableModel | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("incidentsView")
        self._model = model if model is not None else IncidentTableModel(self)
        self.timeline_source: Callable[[str], Sequence[TimelineEntry]] | None = None
        """Reads an incident's timeline (set by the application)."""
        self.ask_owner: Callable[[str], str | None] = self._ask_owner
        """Asked with the current owner for the new one (None: cancelled; "": nobody)."""
        self.ask_priority: Callable[[int], int | None] = self._ask_priority
        """Asked with the current priority for the new one (None: cancelled)."""
        self.ask_note: Callable[[str], str | None] = self._ask_note
        """Asked with the incident's title for a note (None: cancelled)."""
        self._shown: str | None = None
        self._arranged = False

        self._proxy = KeyedSortProxy(self)
        self._proxy.setSourceModel(self._model)
        self._show_closed = QCheckBox(translate("Incidents", "Show closed"))
        self._show_closed.setObjectName("showClosedIncidents")
        self._show_closed.toggled.connect(self._apply_filter)
        self._apply_filter(False)

        self._counts = plain_label()
        self._counts.setObjectName("incidentCounts")
        self._counts.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bold = self._counts.font()
        bold.setBold(True)
        self._counts.setFont(bold)
        self.new_button = QPushButton(translate("Incidents", "New incident…"))
        self.new_button.setObjectName("newIncidentButton")
        self.new_button.setToolTip(
            translate(
                "Incidents",
                "Open an incident without alarms (Ctrl+I in the alarm list opens one"
                " from the selected alarms)",
            )
        )
        self.new_button.clicked.connect(self.newRequested)
        self.replay_button = QPushButton(translate("Incidents", "Replay"))
        self.replay_button.setToolTip(
            translate("Incidents", "Show the city as it was when the selected incident opened")
        )
        self.replay_button.clicked.connect(self._replay_current)
        self.replay_button.hide()  # shown by a window that can replay
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self._counts, 1)
        top.addWidget(self._show_closed)
        top.addWidget(self.new_button)
        top.addWidget(self.replay_button)

        self._table = QTableView()
        self._table.setObjectName("incidentTable")
        self._table.setModel(self._proxy)
        configure_table(self._table, self.fontMetrics().height() + 8)
        self._table.setItemDelegate(SingleLineDelegate(self._table))
        header = self._table.horizontalHeader()
        for column, width in {
            IncidentColumn.PRIORITY: 96,
            IncidentColumn.TITLE: 200,
            IncidentColumn.STATUS: 92,
            IncidentColumn.OWNER: 84,
            IncidentColumn.ALARMS: 56,
            IncidentColumn.OPENED: 72,
            IncidentColumn.UPDATED: 72,
        }.items():
            header.resizeSection(column, width)
        header.setSectionResizeMode(IncidentColumn.TITLE, QHeaderView.ResizeMode.Stretch)
        self._table.setSortingEnabled(True)
        self._table.sortByColumn(IncidentColumn.PRIORITY, Qt.SortOrder.DescendingOrder)
        self._table.selectionModel().currentRowChanged.connect(self._current_changed)

        self._details = self._build_details()
        self._splitter = QSplitter(Qt.Orientation.Vertical)
        self._splitter.setChildrenCollapsible(False)
        self._splitter.addWidget(self._table)
        self._splitter.addWidget(self._details)
        self._splitter.setStretchFactor(0, 1)
        self._splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self._splitter, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(TIMELINE_REFRESH_MS)
        self._timer.timeout.connect(self._refresh_if_visible)
        self._timer.start()
        self._model.countsChanged.connect(self._refresh_counts)
        self._refresh_counts()
        self.show_incident(None)

    def _build_details(self) -> QWidget:
        pane = QWidget()
        pane.setObjectName("incidentDetails")
        self.title_label = plain_label()
        self.title_label.setObjectName("incidentTitle")
        self.title_label.setWordWrap(True)
        font = QFont(self.title_label.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title_label.setFont(font)
        self.facts_label = plain_label()
        self.facts_label.setObjectName("incidentFacts")
        self.facts_label.setWordWrap(True)
        self.facts_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        bar = QToolBar()
        bar.setObjectName("incidentActions")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.setIconSize(QSize(1, 1))

        def button(text: str, tooltip: str, slot: Callable[[], None]) -> QAction:
            made = QAction(text, self)
            made.setToolTip(tooltip)
            made.triggered.connect(lambda _checked=False: slot())
            bar.addAction(made)
            return made

        self.status_buttons: dict[IncidentStatus, QAction] = {
            IncidentStatus.IN_PROGRESS: button(
                translate("Incidents", "Start work"),
                translate("Incidents", "Someone is working on it: in progress"),
                lambda: self._ask_status(IncidentStatus.IN_PROGRESS),
            ),
            IncidentStatus.RESOLVED: button(
                translate("Incidents", "Resolve"),
                translate("Incidents", "The situation is under control: resolved"),
                lambda: self._ask_status(IncidentStatus.RESOLVED),
            ),
            IncidentStatus.CLOSED: button(
                translate("Incidents", "Close"),
                translate("Incidents", "Close it for good (supervisors only)"),
                lambda: self._ask_status(IncidentStatus.CLOSED),
            ),
            IncidentStatus.OPEN: button(
                translate("Incidents", "Reopen"),
                translate("Incidents", "Back to open (a closed one: supervisors only)"),
                lambda: self._ask_status(IncidentStatus.OPEN),
            ),
        }
        self.owner_button = button(
            translate("Incidents", "Owner…"),
            translate("Incidents", "Hand it to someone (empty: nobody)"),
            self._ask_owner_change,
        )
        self.priority_button = button(
            translate("Incidents", "Priority…"),
            translate("Incidents", "Change its priority"),
            self._ask_priority_change,
        )
        self.note_button = button(
            translate("Incidents", "Add note…"),
            translate("Incidents", "Write a note on it, for everyone"),
            self._ask_note_text,
        )
        self.link_button = button(
            translate("Incidents", "Link alarms"),
            translate("Incidents", "Add the alarms selected in the alarm list to it"),
            self._ask_link,
        )
        self.actions_bar = bar

        self.timeline_model = TimelineModel(parent=self)
        self.timeline = QTableView()
        self.timeline.setObjectName("incidentTimeline")
        self.timeline.setModel(self.timeline_model)
        configure_table(self.timeline, self.fontMetrics().height() + 6)
        self.timeline.setItemDelegate(SingleLineDelegate(self.timeline))
        header = self.timeline.horizontalHeader()
        for column, width in {
            TimelineColumn.TIME: 64,
            TimelineColumn.WHAT: 240,
            TimelineColumn.WHO: 120,
        }.items():
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        self.timeline.clicked.connect(self._timeline_clicked)
        self.timeline.activated.connect(self._timeline_clicked)

        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title_label)
        layout.addWidget(self.facts_label)
        layout.addWidget(bar)
        layout.addWidget(self.timeline, 1)
        return pane

    # ------------------------------------------------------------------ public API

    @property
    def model(self) -> IncidentTableModel:
        """The source model of the table."""
        return self._model

    @property
    def table(self) -> QTableView:
        """The incident table (its model is a sorting proxy)."""
        return self._table

    def apply(self, incidents: Iterable[Incident]) -> None:
        """Show new or changed incidents; the details follow the one shown."""
        changed = list(incidents)
        self._model.upsert(changed)
        if self._shown is not None and any(i.id == self._shown for i in changed):
            self.show_incident(self._shown)

    def current_incident(self) -> Incident | None:
        """The incident shown in the details, if any."""
        return None if self._shown is None else self._model.incident(self._shown)

    def select_incident(self, incident_id: str) -> bool:
        """Select (and show) ``incident_id``; False when it is not listed."""
        row = self._model.row_of(incident_id)
        if row is None:
            return False
        incident = self._model.incident(incident_id)
        if incident is not None and incident.status is IncidentStatus.CLOSED:
            self._show_closed.setChecked(True)
        index = self._proxy.mapFromSource(self._model.index(row, 0))
        self._table.setCurrentIndex(index)  # shows it in the details
        self._table.scrollTo(index)
        if self._shown != incident_id:
            self.show_incident(incident_id)
        return True

    def show_incident(self, incident_id: str | None) -> None:
        """Fill the details (and the timeline) for ``incident_id`` (None: none)."""
        incident = None if incident_id is None else self._model.incident(incident_id)
        previous, self._shown = self._shown, incident.id if incident is not None else None
        for made in (
            *self.status_buttons.values(),
            self.owner_button,
            self.priority_button,
            self.note_button,
            self.link_button,
        ):
            made.setEnabled(False)
        if incident is None:
            self.title_label.setText(
                translate("Incidents", "Select an incident, or open one from alarms with Ctrl+I")
            )
            self.facts_label.setText("")
            self.timeline_model.reset_items([])
        else:
            self.title_label.setText(incident.title)
            self.facts_label.setText(self.facts_text(incident))
            closed = incident.status is IncidentStatus.CLOSED
            for status, made in self.status_buttons.items():
                made.setEnabled(status in incident.status.moves)
            # "Reopen" is for what was finished; work not started yet stays in progress
            self.status_buttons[IncidentStatus.OPEN].setEnabled(
                incident.status in _DIMMED and IncidentStatus.OPEN in incident.status.moves
            )
            for made in (self.owner_button, self.priority_button, self.note_button):
                made.setEnabled(not closed)
            self.link_button.setEnabled(not closed)
            self.refresh_timeline()
        if previous != self._shown:
            self.incidentSelected.emit(self._shown or "")

    def facts_text(self, incident: Incident) -> str:
        """One paragraph of the incident's facts (priority and status in words)."""
        return translate(
            "Incidents",
            "Priority {priority} · {status} · owner {owner} · opened {opened} by {user}"
            " · updated {updated} · {alarms} alarm(s), {entities} entities, {notes} note(s)",
        ).format(
            priority=priority_text(incident.priority),
            status=incident_status_text(incident.status),
            owner=owner_text(incident.owner),
            opened=when_text(incident.opened_at),
            user=incident.opened_by,
            updated=when_text(incident.updated_at),
            alarms=format_count(len(incident.alarm_ids)),
            entities=format_count(len(incident.entity_ids)),
            notes=format_count(incident.notes),
        )

    def refresh_timeline(self) -> None:
        """Read the shown incident's timeline again."""
        source, shown = self.timeline_source, self._shown
        if source is None or shown is None:
            self.timeline_model.reset_items([])
            return
        entries = list(source(shown))
        if entries != self.timeline_model.items():
            self.timeline_model.reset_items(entries)
            self.timeline.scrollToBottom()

    def set_entity_name(self, entity_name: Callable[[str], str]) -> None:
        """How the timeline names entities (by id)."""
        self.timeline_model.entity_name = entity_name

    def counts_text(self) -> str:
        """The text of the counts line."""
        return self._counts.text()

    def timeline_texts(self) -> list[dict[str, str]]:
        """The timeline's cells by column (for tests and accessibility)."""
        model = self.timeline_model
        return [
            {
                column.name.lower(): str(model.index(row, column).data() or "")
                for column in TimelineColumn
            }
            for row in range(model.rowCount())
        ]

    # ------------------------------------------------------------------ asking

    def _ask_status(self, status: IncidentStatus) -> None:
        if self._shown is not None:
            self.statusRequested.emit(self._shown, status.value)

    def _ask_owner_change(self) -> None:
        incident = self.current_incident()
        if incident is None:
            return
        owner = self.ask_owner(incident.owner)
        if owner is not None:
            self.ownerRequested.emit(incident.id, owner.strip())

    def _ask_priority_change(self) -> None:
        incident = self.current_incident()
        if incident is None:
            return
        priority = self.ask_priority(incident.priority)
        if priority is not None and priority != incident.priority:
            self.priorityRequested.emit(incident.id, priority)

    def _ask_note_text(self) -> None:
        incident = self.current_incident()
        if incident is None:
            return
        text = self.ask_note(incident.title)
        if text is not None and text.strip():
            self.noteRequested.emit(incident.id, text.strip())

    def _ask_link(self) -> None:
        if self._shown is not None:
            self.linkRequested.emit(self._shown)

    def _ask_owner(self, current: str) -> str | None:
        owner, accepted = QInputDialog.getText(
            self,
            translate("Incidents", "Owner"),
            translate("Incidents", "Who works on this incident (empty: nobody):"),
            text=current,
        )
        return owner if accepted else None

    def _ask_priority(self, current: int) -> int | None:
        labels = [priority_text(level) for level in INCIDENT_PRIORITIES]
        chosen, accepted = QInputDialog.getItem(
            self,
            translate("Incidents", "Priority"),
            translate("Incidents", "Priority of this incident:"),
            labels,
            max(0, list(INCIDENT_PRIORITIES).index(current))
            if current in INCIDENT_PRIORITIES
            else 0,
            False,
        )
        return INCIDENT_PRIORITIES[labels.index(chosen)] if accepted else None

    def _ask_note(self, title: str) -> str | None:
        text, accepted = QInputDialog.getMultiLineText(
            self,
            translate("Incidents", "Add note"),
            translate("Incidents", "Note on “{title}”, seen by every workstation:").format(
                title=title
            ),
        )
        return text if accepted else None

    # ------------------------------------------------------------------ internals

    def _apply_filter(self, show_closed: bool) -> None:
        self._proxy.set_row_filter(
            None if show_closed else (lambda i: i.status is not IncidentStatus.CLOSED)
        )

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return  # filtered away (closed, say): its details stay until another is picked
        key = current.data(KEY_ROLE)
        self.show_incident(key if isinstance(key, str) else None)

    def _replay_current(self) -> None:
        incident = self.current_incident()
        if incident is not None:
            self.replayRequested.emit(incident.opened_at)

    def _timeline_clicked(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        entry = self.timeline_model.item_at(index.row())
        alarm = entry.alarm_id or (entry.note if entry.what == "incident_link_alarm" else "")
        if alarm:
            self.alarmActivated.emit(alarm)

    def _refresh_counts(self, *_args: Any) -> None:
        counts = self._model.count_by_category()
        parts = [
            translate("Incidents", "{count} open").format(count=counts.get(IncidentStatus.OPEN, 0)),
            translate("Incidents", "{count} in progress").format(
                count=counts.get(IncidentStatus.IN_PROGRESS, 0)
            ),
            translate("Incidents", "{count} resolved").format(
                count=counts.get(IncidentStatus.RESOLVED, 0)
            ),
        ]
        self._counts.setText(" \u00b7 ".join(parts))

    def _refresh_if_visible(self) -> None:
        if self.isVisible() and self._shown is not None:
            self.refresh_timeline()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._refresh_if_visible()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Details beside the table when the panel is wide, under it otherwise."""
        super().resizeEvent(event)
        size = event.size()
        wide = size.width() > WIDE_RATIO * max(size.height(), 1)
        wanted = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self._splitter.orientation() != wanted or not self._arranged:
            self._arranged = True
            self._splitter.setOrientation(wanted)
            total = size.width() if wide else size.height()
            share = 0.45 if wide else 0.3
            self._splitter.setSizes([int(total * share), int(total * (1 - share))])
