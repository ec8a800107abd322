"""The alarm list: a counts line, acknowledge controls and a sortable table of alarms.

The rows come from :class:`widgets.alarm_model.AlarmTableModel`, which the application
feeds in batches. The view never changes alarm state itself: it asks for acknowledgement
with the ``acknowledgeRequested`` signal, and the application feeds the acknowledged
versions back through ``upsert``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import cast

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QItemSelectionRange,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QMessageBox,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from services.model import Alarm, AlarmState
from widgets.alarm_filter_bar import AlarmFilterBar
from widgets.alarm_model import AlarmFilter, AlarmSortProxy, AlarmTableModel, Column
from widgets.i18n import translate
from widgets.plain_text import plain_label
from widgets.shelve_dialog import ask_shelve
from widgets.table_model import configure_table

log = logging.getLogger(__name__)

SHELVABLE_STATES = frozenset(
    {AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED, AlarmState.RTN_UNACKNOWLEDGED}
)
"""The states the services shelve from (the life-cycle table's shelve rows)."""

RESORT_DELAY_MS = 500
"""Changes are put in sort order at most this long after they arrive."""
FLASH_INTERVAL_MS = 500
"""Unacknowledged rows alternate between bold and marked, and regular, this often."""


class AlarmTableView(QWidget):
    """The alarm list: counts line, acknowledge controls and a sortable table.

    Emits :attr:`acknowledgeRequested` with the ids of the alarms to acknowledge; it
    never changes alarm state itself.
    """

    acknowledgeRequested = Signal(list)
    """Alarm ids (``list[str]``) that the operator asked to acknowledge."""
    acknowledgeWithNoteRequested = Signal(list, str)
    """Alarm ids and the note the operator asked to acknowledge them with."""
    shelveRequested = Signal(list, object, str)
    """Alarm ids, seconds to shelve them for (None: until each clears) and the reason."""
    unshelveRequested = Signal(list)
    """Alarm ids whose shelving the operator asked to end."""
    commentRequested = Signal(list, str)
    """Alarm ids and the comment the operator wrote on them."""
    assignRequested = Signal(list, str)
    """Alarm ids and the person to assign them to ("": nobody)."""
    outOfServiceRequested = Signal(list, str)
    """Alarm ids to take out of service, and why (supervisors)."""
    inServiceRequested = Signal(list)
    """Out-of-service alarm ids to put back in service."""
    alarmSelected = Signal(str)
    """The alarm id of the row that became current (keyboard or mouse)."""
    locateRequested = Signal(str)
    """The operator asked to find the alarm's source on the map (double-click or Enter)."""
    replayRequested = Signal(float)
    """Replay the city from when the current alarm was raised (its context menu)."""

    def __init__(self, model: AlarmTableModel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model if model is not None else AlarmTableModel(self)
        self.shelving_enabled = True
        """Whether shelving is offered at all (the window turns it off without a service)."""
        self.confirm_ack_all: Callable[[int], bool] = self._ask_ack_all
        """Asked with the number of alarms before "Acknowledge all visible" acts."""
        self.ask_note: Callable[[int], str | None] = self._ask_note
        self.ask_shelve: Callable[[int], tuple[float | None, str] | None] = lambda count: (
            ask_shelve(count, self)
        )
        """Asked with the number of alarms for a shelving time and reason (None: cancelled)."""
        """Asked with the number of alarms for the note to acknowledge them with (None:
        cancelled)."""
        self.ask_comment: Callable[[int], str | None] = self._ask_comment
        """Asked with the number of alarms for a comment (None: cancelled)."""
        self.ask_assignee: Callable[[int, str], str | None] = self._ask_assignee
        """Asked with the number of alarms and the current assignee for the person to
        assign them to (None: cancelled; "": nobody)."""
        self.commenting_enabled = True
        """Whether commenting and assigning are offered (off without a service)."""
        self.ask_service_reason: Callable[[int], str | None] = self._ask_service_reason
        """Asked with the number of alarms for why they go out of service (None: cancelled)."""
        self.service_enabled = True
        """Whether out-of-service is offered (off without a service)."""
        self._proxy = AlarmSortProxy(self)
        self._proxy.setSourceModel(self._model)

        self._counts_label = plain_label()
        self._counts_label.setObjectName("alarmCounts")
        font = self._counts_label.font()
        font.setBold(True)
        self._counts_label.setFont(font)
        self._filter = AlarmFilter()
        self.filter_bar = AlarmFilterBar()
        self.filter_bar.setObjectName("alarmFilterBar")
        self.filter_bar.filterChanged.connect(self.set_filter)

        self._ack_action = QAction(translate("AlarmTable", "Acknowledge"), self)
        self._ack_action.setShortcut(QKeySequence("Ctrl+K"))
        self._ack_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._ack_action.setToolTip(
            translate("AlarmTable", "Acknowledge the selected alarms (Ctrl+K)")
        )
        self._ack_action.triggered.connect(self.acknowledge_selected)
        self.addAction(self._ack_action)

        self._ack_note_action = QAction(translate("AlarmTable", "Acknowledge with note…"), self)
        self._ack_note_action.setShortcut(QKeySequence("Ctrl+Shift+K"))
        self._ack_note_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._ack_note_action.setToolTip(
            translate(
                "AlarmTable",
                "Acknowledge the selected alarms with a note for the journal (Ctrl+Shift+K)",
            )
        )
        self._ack_note_action.triggered.connect(self.acknowledge_selected_with_note)
        self.addAction(self._ack_note_action)

        self._shelve_action = QAction(translate("AlarmTable", "Shelve…"), self)
        self._shelve_action.setToolTip(
            translate("AlarmTable", "Shelve the selected alarms for a time, with a reason (S)")
        )
        self._shelve_action.triggered.connect(self.shelve_selected)
        self._unshelve_action = QAction(translate("AlarmTable", "Unshelve"), self)
        self._unshelve_action.setToolTip(
            translate("AlarmTable", "Return the selected shelved alarms to the list (U)")
        )
        self._unshelve_action.triggered.connect(self.unshelve_selected)
        self._shelve_action.setEnabled(False)
        self._unshelve_action.setEnabled(False)
        self._comment_action = QAction(translate("AlarmTable", "Comment…"), self)
        self._comment_action.setToolTip(
            translate("AlarmTable", "Add a comment to the selected alarms for everyone (C)")
        )
        self._comment_action.triggered.connect(self.comment_selected)
        self._assign_action = QAction(translate("AlarmTable", "Assign…"), self)
        self._assign_action.setToolTip(
            translate("AlarmTable", "Assign the selected alarms to a person (A)")
        )
        self._assign_action.triggered.connect(self.assign_selected)
        self._comment_action.setEnabled(False)
        self._assign_action.setEnabled(False)
        self._out_of_service_action = QAction(translate("AlarmTable", "Take out of service…"), self)
        self._out_of_service_action.setToolTip(
            translate(
                "AlarmTable",
                "Stop announcing the selected alarms until a supervisor returns them"
                " (supervisors; a reason is asked)",
            )
        )
        self._out_of_service_action.triggered.connect(self.take_selected_out_of_service)
        self._in_service_action = QAction(translate("AlarmTable", "Return to service"), self)
        self._in_service_action.setToolTip(
            translate("AlarmTable", "Announce the selected out-of-service alarms again")
        )
        self._in_service_action.triggered.connect(self.return_selected_to_service)
        self._out_of_service_action.setEnabled(False)
        self._in_service_action.setEnabled(False)

        self.replay_action = QAction(translate("AlarmTable", "Replay from its raise"), self)
        self.replay_action.setToolTip(
            translate("AlarmTable", "Show the city as it was when this alarm was raised")
        )
        self.replay_action.triggered.connect(self._replay_current)
        self.replay_action.setVisible(False)  # shown by a window that can replay

        self._ack_all_action = QAction(translate("AlarmTable", "Acknowledge all visible"), self)
        self._ack_all_action.setToolTip(
            translate("AlarmTable", "Acknowledge every alarm listed that needs it")
        )
        self._ack_all_action.triggered.connect(self.acknowledge_all_visible)

        self._ack_button = QPushButton(translate("AlarmTable", "Acknowledge"))
        self._ack_button.setObjectName("acknowledgeButton")
        self._ack_button.setToolTip(self._ack_action.toolTip())
        self._ack_button.clicked.connect(self.acknowledge_selected)
        self._ack_all_button = QToolButton()
        self._ack_all_button.setDefaultAction(self._ack_all_action)

        header_line = QHBoxLayout()
        header_line.setContentsMargins(0, 0, 0, 0)
        header_line.addWidget(self._counts_label, 1)
        header_line.addWidget(self._ack_button)
        header_line.addWidget(self._ack_all_button)

        self._table = QTableView()
        self._table.setObjectName("alarmTable")
        self._table.setModel(self._proxy)
        configure_table(self._table, self.fontMetrics().height() + 8, multi_select=True)
        horizontal = self._table.horizontalHeader()
        widths = {
            Column.SEVERITY: 72,
            Column.STATE: 184,
            Column.ENTITY: 190,
            Column.METRIC: 110,
            Column.CONDITION: 78,
            Column.VALUE: 70,
            Column.THRESHOLD: 76,
            Column.RAISED: 70,
            Column.COUNT: 52,
            Column.ASSIGNEE: 90,
            Column.SHELVED_UNTIL: 96,
            Column.NOTES: 48,
            Column.FIRST_OUT: 180,
        }
        for column, width in widths.items():
            horizontal.resizeSection(column, width)
        horizontal.setSectionResizeMode(Column.ENTITY, QHeaderView.ResizeMode.Stretch)
        horizontal.setSortIndicator(Column.SEVERITY, Qt.SortOrder.DescendingOrder)
        self._table.setSortingEnabled(True)
        self._table.sortByColumn(Column.SEVERITY, Qt.SortOrder.DescendingOrder)

        self._resort_timer = QTimer(self)
        self._resort_timer.setSingleShot(True)
        self._resort_timer.setInterval(RESORT_DELAY_MS)
        self._resort_timer.timeout.connect(self.resort)
        for signal in (
            self._model.rowsInserted,
            self._model.rowsRemoved,
            self._model.dataChanged,
            self._model.modelReset,
        ):
            signal.connect(self._schedule_resort)

        # Space acknowledges too, but only while the table has the focus.
        self._space = QShortcut(
            QKeySequence(Qt.Key.Key_Space), self._table, context=Qt.ShortcutContext.WidgetShortcut
        )
        self._space.activated.connect(self.acknowledge_selected)
        # Enter or a double-click locates the current alarm's source.
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            locate = QShortcut(
                QKeySequence(key), self._table, context=Qt.ShortcutContext.WidgetShortcut
            )
            locate.activated.connect(self._locate_current)
        self._table.doubleClicked.connect(lambda _index: self._locate_current())
        self._table.selectionModel().currentRowChanged.connect(self._current_changed)
        self._table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self._table.addAction(self._ack_action)
        self._table.addAction(self._ack_note_action)
        self._table.addAction(self._ack_all_action)
        self._table.addAction(self._shelve_action)
        self._table.addAction(self._unshelve_action)
        self._table.addAction(self._comment_action)
        self._table.addAction(self._assign_action)
        self._table.addAction(self._out_of_service_action)
        self._table.addAction(self._in_service_action)
        self._table.addAction(self.replay_action)
        for key, slot in (
            (Qt.Key.Key_S, self.shelve_selected),
            (Qt.Key.Key_U, self.unshelve_selected),
            (Qt.Key.Key_C, self.comment_selected),
            (Qt.Key.Key_A, self.assign_selected),
        ):
            shortcut = QShortcut(
                QKeySequence(key), self._table, context=Qt.ShortcutContext.WidgetShortcut
            )
            shortcut.activated.connect(slot)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(header_line)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self._table)

        # Flashing: one timer flips the phase of every unacknowledged row at once.
        self._flash_timer = QTimer(self)
        self._flash_timer.setInterval(FLASH_INTERVAL_MS)
        self._flash_timer.timeout.connect(self._flash)
        self.flash_action = QAction(translate("AlarmTable", "&Flash unacknowledged alarms"), self)
        self.flash_action.setCheckable(True)
        self.flash_action.setToolTip(
            translate(
                "AlarmTable",
                "Unacknowledged rows alternate bold and marked every half second "
                "(the State column says Unacknowledged either way)",
            )
        )
        self.flash_action.toggled.connect(self.set_flashing)
        for signal in (
            self._proxy.rowsInserted,
            self._proxy.rowsRemoved,
            self._proxy.modelReset,
            self._proxy.layoutChanged,
        ):
            signal.connect(self._refresh_counts)

        selection = self._table.selectionModel()
        selection.selectionChanged.connect(self._on_selection_changed)
        self._model.countsChanged.connect(self._refresh)
        self._model.modelReset.connect(self._refresh)
        self._refresh()

    # ------------------------------------------------------------------ public API

    @property
    def model(self) -> AlarmTableModel:
        """The source model of the table."""
        return self._model

    @property
    def table(self) -> QTableView:
        """The table view (its model is the sorting proxy)."""
        return self._table

    @property
    def proxy(self) -> QSortFilterProxyModel:
        """The sorting proxy between the model and the table."""
        return self._proxy

    @property
    def acknowledge_button(self) -> QPushButton:
        """The button acknowledging the selected alarms."""
        return self._ack_button

    @property
    def acknowledge_action(self) -> QAction:
        """Acknowledge selected (Ctrl+K)."""
        return self._ack_action

    @property
    def acknowledge_note_action(self) -> QAction:
        """Acknowledge the selection with a note (Ctrl+Shift+K); asks for the note."""
        return self._ack_note_action

    @property
    def shelve_action(self) -> QAction:
        """Shelve the selection (S in the list); asks for how long and why."""
        return self._shelve_action

    @property
    def comment_action(self) -> QAction:
        """Comment on the selection (C in the list); asks for the text."""
        return self._comment_action

    @property
    def assign_action(self) -> QAction:
        """Assign the selection to a person (A in the list); asks whom."""
        return self._assign_action

    @property
    def out_of_service_action(self) -> QAction:
        """Take the selection out of service (supervisors); asks why."""
        return self._out_of_service_action

    @property
    def in_service_action(self) -> QAction:
        """Return the selected out-of-service alarms to service."""
        return self._in_service_action

    @property
    def unshelve_action(self) -> QAction:
        """Unshelve the selected shelved alarms (U in the list)."""
        return self._unshelve_action

    @property
    def acknowledge_all_action(self) -> QAction:
        """Acknowledge every listed alarm that needs it."""
        return self._ack_all_action

    def counts_text(self) -> str:
        """The text of the counts line."""
        return self._counts_label.text()

    def _selected_rows(self) -> list[int]:
        """Selected proxy rows, in table order (read from ranges: cheap for big selections)."""
        rows: set[int] = set()
        selection = cast(Iterable[QItemSelectionRange], self._table.selectionModel().selection())
        for selection_range in selection:
            rows.update(range(selection_range.top(), selection_range.bottom() + 1))
        return sorted(rows)

    def _alarm_at_proxy_row(self, row: int) -> Alarm:
        source = self._proxy.mapToSource(self._proxy.index(row, 0))
        return self._model.alarm_at(source.row())

    def current_alarm_id(self) -> str | None:
        """The alarm of the current row, if any."""
        index = self._table.currentIndex()
        return self._alarm_at_proxy_row(index.row()).id if index.isValid() else None

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.alarmSelected.emit(self._alarm_at_proxy_row(current.row()).id)

    def _locate_current(self) -> None:
        alarm_id = self.current_alarm_id()
        if alarm_id is not None:
            self.locateRequested.emit(alarm_id)

    def _replay_current(self) -> None:
        alarm_id = self.current_alarm_id()
        alarm = self._model.alarm(alarm_id) if alarm_id is not None else None
        if alarm is not None:
            self.replayRequested.emit(alarm.raised_at)

    def select_alarm(self, alarm_id: str) -> bool:
        """Select and scroll to the row of ``alarm_id``; False when it is not in the list."""
        row = self._model.row_of(alarm_id)
        if row is None:
            return False
        index = self._proxy.mapFromSource(self._model.index(row, 0))
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self._table.selectionModel().setCurrentIndex(index, flags)
        self._table.scrollTo(index)
        return True

    def _schedule_resort(self, *args: object) -> None:
        roles = args[2] if len(args) > 2 else None
        if isinstance(roles, list) and int(Qt.ItemDataRole.FontRole) in map(int, roles):
            return  # a flashing phase: nothing to re-sort
        if not self._resort_timer.isActive():
            self._resort_timer.start()

    def resort(self) -> None:
        """Put the rows back in the order of the current sort column now (and re-apply the
        filter, so that alarms that changed state leave or join a filtered list)."""
        self._resort_timer.stop()
        if not self._filter.is_empty():
            self._apply_filter()
        header = self._table.horizontalHeader()
        self._proxy.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())

    # ------------------------------------------------------------------ filtering

    @property
    def filter(self) -> AlarmFilter:
        """The filter applied to the list."""
        return self._filter

    def set_filter(self, wanted: AlarmFilter) -> None:
        """Show only the alarms that pass ``wanted`` (an empty filter shows every one)."""
        if wanted == self._filter:
            return
        self._filter = wanted
        self._apply_filter()
        self._refresh_counts()

    def _apply_filter(self) -> None:
        wanted, model = self._filter, self._model
        if wanted.is_empty():
            self._proxy.set_row_filter(None)
        else:
            self._proxy.set_row_filter(lambda alarm: model.matches(alarm, wanted))

    def set_entity_domains(self, domains: Mapping[str, str]) -> None:
        """Record entities' domains (for the domain filter) and offer the domains known."""
        self._model.set_entity_domains(domains)
        self.filter_bar.set_domains(self._model.domains())

    def hidden_count(self) -> int:
        """How many listed alarms the filter hides."""
        return self._model.rowCount() - self._proxy.rowCount()

    # ------------------------------------------------------------------ flashing

    def set_flashing(self, on: bool) -> None:
        """Turn flashing of unacknowledged rows on or off."""
        if self.flash_action.isChecked() != on:
            self.flash_action.setChecked(on)  # calls back here through toggled
            return
        if on:
            self._flash_timer.start()
        else:
            self._flash_timer.stop()
        self._model.set_flashing(on, True)

    def is_flashing(self) -> bool:
        """Whether unacknowledged rows flash."""
        return self._flash_timer.isActive()

    def _flash(self) -> None:
        model = self._model
        if model.count_by_category().get(AlarmState.UNACKNOWLEDGED, 0) or not model.flash_on:
            model.set_flashing(True, not model.flash_on)

    def selected_alarm_ids(self) -> list[str]:
        """Ids of the selected alarms, in the table's order."""
        return [self._alarm_at_proxy_row(row).id for row in self._selected_rows()]

    def selected_ids_needing_ack(self) -> list[str]:
        """Ids of the selected alarms whose state needs acknowledgement, in table order."""
        alarms = (self._alarm_at_proxy_row(row) for row in self._selected_rows())
        return [alarm.id for alarm in alarms if alarm.state.needs_ack]

    def visible_ids_needing_ack(self) -> list[str]:
        """Ids of every listed alarm (after filtering) that needs acknowledgement."""
        alarms = (self._alarm_at_proxy_row(row) for row in range(self._proxy.rowCount()))
        return [alarm.id for alarm in alarms if alarm.state.needs_ack]

    def acknowledge_selected(self) -> None:
        """Ask for acknowledgement of the selected alarms that need it."""
        ids = self.selected_ids_needing_ack()
        if ids:
            log.debug("acknowledge requested for %d selected alarms", len(ids))
            self.acknowledgeRequested.emit(ids)

    def acknowledge_selected_with_note(self) -> None:
        """Ask for a note (see :attr:`ask_note`), then for acknowledgement of the selected
        alarms that need it, with that note; an empty note or Cancel does nothing."""
        ids = self.selected_ids_needing_ack()
        if not ids:
            return
        note = (self.ask_note(len(ids)) or "").strip()
        if note:
            self.acknowledgeWithNoteRequested.emit(ids, note)

    def _ask_note(self, count: int) -> str | None:
        note, accepted = QInputDialog.getMultiLineText(
            self,
            translate("AlarmTable", "Acknowledge with note"),
            translate("AlarmTable", "Note for the {count} selected alarm(s):").format(count=count),
        )
        return note if accepted else None

    def shelve_selected(self) -> None:
        """Ask how long and why, then ask for the selected alarms that can be shelved
        (active or waiting for acknowledgement) to be shelved."""
        alarms = [self._alarm_at_proxy_row(row) for row in self._selected_rows()]
        ids = [alarm.id for alarm in alarms if alarm.state in SHELVABLE_STATES]
        if not ids:
            return
        answer = self.ask_shelve(len(ids))
        if answer is not None and answer[1].strip():
            self.shelveRequested.emit(ids, answer[0], answer[1].strip())

    def unshelve_selected(self) -> None:
        """Ask for the selected shelved alarms to be unshelved."""
        alarms = (self._alarm_at_proxy_row(row) for row in self._selected_rows())
        ids = [alarm.id for alarm in alarms if alarm.state is AlarmState.SHELVED]
        if ids:
            self.unshelveRequested.emit(ids)

    def comment_selected(self) -> None:
        """Ask for a comment, then for it to be added to the selected alarms."""
        ids = [self._alarm_at_proxy_row(row).id for row in self._selected_rows()]
        if not ids or not self.commenting_enabled:
            return
        text = self.ask_comment(len(ids))
        if text is not None and text.strip():
            self.commentRequested.emit(ids, text.strip())

    def assign_selected(self) -> None:
        """Ask whom to assign the selected alarms to, then for them to be assigned."""
        alarms = [self._alarm_at_proxy_row(row) for row in self._selected_rows()]
        if not alarms or not self.commenting_enabled:
            return
        current = {alarm.assignee for alarm in alarms}
        person = self.ask_assignee(len(alarms), current.pop() if len(current) == 1 else "")
        if person is not None:
            self.assignRequested.emit([alarm.id for alarm in alarms], person.strip())

    def take_selected_out_of_service(self) -> None:
        """Ask why, then for the selected alarms (not out of service yet) to go out of service."""
        alarms = [self._alarm_at_proxy_row(row) for row in self._selected_rows()]
        ids = [a.id for a in alarms if a.state is not AlarmState.OUT_OF_SERVICE]
        if not ids or not self.service_enabled:
            return
        reason = self.ask_service_reason(len(ids))
        if reason is not None and reason.strip():
            self.outOfServiceRequested.emit(ids, reason.strip())

    def return_selected_to_service(self) -> None:
        """Ask for the selected out-of-service alarms to be returned to service."""
        alarms = (self._alarm_at_proxy_row(row) for row in self._selected_rows())
        ids = [alarm.id for alarm in alarms if alarm.state is AlarmState.OUT_OF_SERVICE]
        if ids and self.service_enabled:
            self.inServiceRequested.emit(ids)

    def _ask_service_reason(self, count: int) -> str | None:
        text, accepted = QInputDialog.getText(
            self,
            translate("AlarmTable", "Take out of service"),
            translate(
                "AlarmTable", "Why do the {count} selected alarm(s) go out of service?"
            ).format(count=count),
        )
        return text if accepted else None

    def _ask_comment(self, count: int) -> str | None:
        text, accepted = QInputDialog.getMultiLineText(
            self,
            translate("AlarmTable", "Comment"),
            translate(
                "AlarmTable", "Comment on the {count} selected alarm(s), seen by every workstation:"
            ).format(count=count),
        )
        return text if accepted else None

    def _ask_assignee(self, count: int, current: str) -> str | None:
        person, accepted = QInputDialog.getText(
            self,
            translate("AlarmTable", "Assign"),
            translate(
                "AlarmTable", "Assign the {count} selected alarm(s) to (empty: nobody):"
            ).format(count=count),
            text=current,
        )
        return person if accepted else None

    def acknowledge_all_visible(self) -> None:
        """Ask for acknowledgement of every listed alarm that needs it, once the operator
        has confirmed (see :attr:`confirm_ack_all`)."""
        ids = self.visible_ids_needing_ack()
        if not ids:
            return
        if not self.confirm_ack_all(len(ids)):
            log.debug("acknowledging %d listed alarms cancelled", len(ids))
            return
        log.debug("acknowledge requested for %d listed alarms", len(ids))
        self.acknowledgeRequested.emit(ids)

    def _ask_ack_all(self, count: int) -> bool:
        """A modal question; Cancel is the default so that Enter does not acknowledge."""
        text = translate(
            "AlarmTable",
            "Acknowledge all {count} listed alarms that need it?\n"
            "Alarms hidden by the filter stay as they are.",
        ).format(count=count)
        answer = QMessageBox.question(
            self,
            translate("AlarmTable", "Acknowledge all visible"),
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    # ------------------------------------------------------------------ internals

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_ack_enabled()

    def _update_ack_enabled(self) -> None:
        states = {self._alarm_at_proxy_row(row).state for row in self._selected_rows()}
        enabled = any(state.needs_ack for state in states)
        self._ack_button.setEnabled(enabled)
        self._ack_action.setEnabled(enabled)
        self._ack_note_action.setEnabled(enabled)
        self._shelve_action.setEnabled(bool(states & SHELVABLE_STATES) and self.shelving_enabled)
        self._unshelve_action.setEnabled(AlarmState.SHELVED in states and self.shelving_enabled)
        self._comment_action.setEnabled(bool(states) and self.commenting_enabled)
        self._assign_action.setEnabled(bool(states) and self.commenting_enabled)
        in_service = states - {AlarmState.OUT_OF_SERVICE}
        self._out_of_service_action.setEnabled(bool(in_service) and self.service_enabled)
        self._in_service_action.setEnabled(
            AlarmState.OUT_OF_SERVICE in states and self.service_enabled
        )

    def _refresh(self) -> None:
        counts = self._model.row_count_by_state()
        active = counts.get(AlarmState.UNACKNOWLEDGED, 0) + counts.get(AlarmState.ACKNOWLEDGED, 0)
        needs_ack = self._model.needs_ack_count()
        parts = [
            translate("AlarmTable", "{count} active").format(count=active),
            translate("AlarmTable", "{count} unacknowledged").format(count=needs_ack),
        ]
        hidden = self.hidden_count()
        if hidden:
            parts.append(
                translate("AlarmTable", "{count} hidden by the filter").format(count=hidden)
            )
        self._counts_label.setText(" \u00b7 ".join(parts))
        self._ack_all_action.setEnabled(needs_ack > 0)
        self._update_ack_enabled()

    def _refresh_counts(self, *_args: object) -> None:
        self._refresh()
