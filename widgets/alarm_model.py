"""The alarm list's model: the alarms needing attention, one row per alarm id.

:class:`AlarmTableModel` holds :class:`services.model.Alarm` values keyed by alarm id
and is fed in batches with :meth:`~AlarmTableModel.upsert`; alarms that return to
``normal`` leave the list. :class:`AlarmSortProxy` puts it in the order the operator
chose. The view is :class:`widgets.alarm_table.AlarmTableView`.
"""

from __future__ import annotations

import enum
import logging
import math
import time
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QBrush, QFont

from services.model import HIDDEN_STATES, Alarm, AlarmState, Condition, Severity
from widgets.first_out import FIRST_OUT_WINDOW_S, Burst, first_out_groups
from widgets.format import (
    format_alarm_amount,
    format_clock,
    format_count,
    format_timestamp,
)
from widgets.i18n import QT_TRANSLATE_NOOP, translate
from widgets.palette import (
    DIM_TEXT_COLOR,
    FADED_ROW_TINT_ALPHA,
    ROW_TINT_ALPHA,
    SEVERITY_COLORS,
    text_color_for,
)
from widgets.plain_text import plain_tooltip
from widgets.table_model import (
    KEY_ROLE,
    RIGHT,
    ColumnSpans,
    KeyedSortProxy,
    KeyedTableModel,
    SortValue,
    TableColumn,
    runs,
)
from widgets.terms import alarm_state_text, condition_text, severity_text
from widgets.text_match import fold

log = logging.getLogger(__name__)

ALARM_ID_ROLE = KEY_ROLE
"""The alarm id of the row (same for every column)."""


class Column(enum.IntEnum):
    """Columns of the alarm table."""

    SEVERITY = 0
    STATE = 1
    ENTITY = 2
    METRIC = 3
    CONDITION = 4
    VALUE = 5
    THRESHOLD = 6
    RAISED = 7
    COUNT = 8
    ASSIGNEE = 9
    SHELVED_UNTIL = 10
    NOTES = 11
    FIRST_OUT = 12


# Larger means "needs attention sooner", so a descending sort puts those first.
STATE_RANK: dict[AlarmState, int] = {
    AlarmState.UNACKNOWLEDGED: 6,
    AlarmState.RTN_UNACKNOWLEDGED: 5,
    AlarmState.ACKNOWLEDGED: 4,
    AlarmState.SHELVED: 1,
    AlarmState.SUPPRESSED: 1,
    AlarmState.OUT_OF_SERVICE: 1,
    AlarmState.NORMAL: 0,
}

CONDITION_RANK: dict[Condition, int] = {
    Condition.LOW: 1,
    Condition.HIGH: 1,
    Condition.LOW_LOW: 2,
    Condition.HIGH_HIGH: 2,
    Condition.EXTERNAL: 3,
    Condition.NO_DATA: 3,
    Condition.RATE: 2,
    Condition.GEOFENCE: 2,
}

FLASH_MARKER = "\u25b6 "
"""Before the severity of unacknowledged rows in the on phase of flashing."""
_DIMMED_STATES = frozenset({AlarmState.RTN_UNACKNOWLEDGED, *HIDDEN_STATES})
_WHOLE_ROW: ColumnSpans = ((0, len(Column) - 1),)


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    """Which alarms the list shows: an empty set or text means "any"."""

    severities: frozenset[Severity] = field(default_factory=frozenset)
    states: frozenset[AlarmState] = field(default_factory=frozenset)
    domains: frozenset[str] = field(default_factory=frozenset)
    text: str = ""

    def is_empty(self) -> bool:
        """Whether the filter shows every alarm."""
        return not (self.severities or self.states or self.domains or self.text.strip())

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (for saving a preset)."""
        return {
            "severities": sorted(s.label for s in self.severities),
            "states": sorted(s.value for s in self.states),
            "domains": sorted(self.domains),
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlarmFilter:
        """The filter saved by :meth:`to_dict`; unknown values are left out."""
        by_label = {s.label: s for s in Severity}
        states = {s.value: s for s in AlarmState}
        return cls(
            frozenset(by_label[v] for v in data.get("severities", ()) if v in by_label),
            frozenset(states[v] for v in data.get("states", ()) if v in states),
            frozenset(str(v) for v in data.get("domains", ())),
            str(data.get("text", "")),
        )


STALE_SUFFIX = QT_TRANSLATE_NOOP("AlarmTable", " (stale)")
"""After a value whose entity is no longer live and fresh (text, not colour alone)."""


def state_text(alarm: Alarm) -> str:
    """The State column: the state in words (shelving's end has its own column)."""
    return alarm_state_text(alarm.state)


def shelved_until_text(alarm: Alarm) -> str:
    """The Shelved-until column: when a shelved alarm comes back, or that it does once it
    clears; who took an alarm out of service; empty for the others."""
    if alarm.state is AlarmState.OUT_OF_SERVICE:
        return translate("AlarmTable", "out of service ({user})").format(user=alarm.shelved_by)
    if alarm.state is not AlarmState.SHELVED or alarm.shelved_until is None:
        return ""
    if math.isinf(alarm.shelved_until):
        return translate("AlarmTable", "until it clears")
    return format_clock(alarm.shelved_until)


def _shelved_until_key(alarm: Alarm) -> float:
    if alarm.state is not AlarmState.SHELVED or alarm.shelved_until is None:
        return 0.0
    return alarm.shelved_until


FOLLOWER_MARK = "\u21b3 "
"""Before the first alarm's source, in the First-out column of the rest of a burst."""
CHATTERING_MARK = " \u27f3"
"""After the count of a chattering alarm (with a tooltip in words)."""


def _columns(
    names: Mapping[str, str],
    stale: Set[str],
    chattering: Set[str],
    bursts: Mapping[str, Burst],
) -> list[TableColumn[Alarm]]:
    """The alarm table's columns, in :class:`Column` order; entity names come from ``names``,
    and values of entities in ``stale`` are marked stale."""

    def value(alarm: Alarm) -> str:
        text = format_alarm_amount(alarm, alarm.value)
        return text + translate("AlarmTable", STALE_SUFFIX) if alarm.entity_id in stale else text

    def entity(alarm: Alarm) -> str:
        return names.get(alarm.entity_id) or alarm.entity_id

    def first_out(alarm: Alarm) -> str:
        burst = bursts.get(alarm.id)
        if burst is None:
            return ""
        if burst.first == alarm.id:
            return translate("AlarmTable", "first out of {count}").format(count=burst.size)
        name = names.get(burst.first_entity) or burst.first_entity
        return f"{FOLLOWER_MARK}{name} · {burst.first_metric}"

    def first_out_key(alarm: Alarm) -> float:
        """The burst's start, the members just after it in raise order (a burst lasts at
        most FIRST_OUT_WINDOW_S, scaled down so no other alarm falls in between)."""
        burst = bursts.get(alarm.id)
        if burst is None:
            return alarm.raised_at
        return burst.first_raised_at + (alarm.raised_at - burst.first_raised_at) / 1000.0

    columns: dict[Column, TableColumn[Alarm]] = {
        Column.SEVERITY: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Severity"),
            lambda a: severity_text(a.severity),
            lambda a: int(a.severity),
        ),
        Column.STATE: TableColumn(
            QT_TRANSLATE_NOOP("Column", "State"),
            state_text,
            lambda a: STATE_RANK.get(a.state, 0),
        ),
        Column.ENTITY: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Entity"), entity, lambda a: entity(a).casefold()
        ),
        Column.METRIC: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Metric"), lambda a: a.metric, lambda a: a.metric.casefold()
        ),
        Column.CONDITION: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Condition"),
            lambda a: condition_text(a.condition),
            lambda a: CONDITION_RANK.get(a.condition, 0),
        ),
        Column.VALUE: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Value"), value, lambda a: float(a.value), RIGHT
        ),
        Column.THRESHOLD: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Threshold"),
            lambda a: format_alarm_amount(a, a.threshold),
            lambda a: float(a.threshold),
            RIGHT,
        ),
        Column.RAISED: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Raised"),
            lambda a: format_clock(a.raised_at),
            lambda a: float(a.raised_at),
        ),
        Column.COUNT: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Count"),
            lambda a: format_count(a.count) + (CHATTERING_MARK if a.id in chattering else ""),
            lambda a: int(a.count),
            RIGHT,
        ),
        Column.ASSIGNEE: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Assignee"),
            lambda a: a.assignee,
            lambda a: a.assignee.casefold(),
        ),
        Column.SHELVED_UNTIL: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Shelved until"), shelved_until_text, _shelved_until_key
        ),
        Column.NOTES: TableColumn(
            QT_TRANSLATE_NOOP("Column", "Notes"),
            lambda a: format_count(a.comments) if a.comments else "",
            lambda a: int(a.comments),
            RIGHT,
        ),
        Column.FIRST_OUT: TableColumn(
            QT_TRANSLATE_NOOP("Column", "First out"), first_out, first_out_key
        ),
    }
    return [columns[column] for column in Column]


FIRST_OUT_REFRESH_S = 1.0
"""The first-out column is worked out again at most this often."""


class AlarmTableModel(KeyedTableModel[Alarm]):
    """Alarms that need attention (every state but ``normal``), one row per alarm id.

    Fed with :meth:`~KeyedTableModel.upsert`: an alarm that comes back ``normal`` leaves
    the list. :attr:`countsChanged` is emitted once after each batch that added or removed alarms
    or changed an alarm's state.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        # Updated in place by set_entity_names / set_stale_entities: the columns read them.
        names: dict[str, str] = {}
        stale: set[str] = set()
        chattering: set[str] = set()
        bursts: dict[str, Burst] = {}
        super().__init__(_columns(names, stale, chattering, bursts), parent)
        self._bursts = bursts
        self._names = names
        self._stale = stale
        self._chattering = chattering
        self._domains: dict[str, str] = {}
        self._fonts = self._make_fonts()
        self._revisions: dict[str, int] = {}
        self._flashing = False
        self._flash_on = True
        self._grouped_at = -math.inf
        self._regroup_timer = QTimer(self)
        self._regroup_timer.setSingleShot(True)
        self._regroup_timer.timeout.connect(self._regroup)

    def upsert(self, items: Iterable[Alarm]) -> None:
        """Apply new or changed alarms, dropping any version older than one already seen
        (a view never goes back to an older revision of an alarm)."""
        newer: list[Alarm] = []
        regroup = False
        for alarm in items:
            alarm_id = alarm.id
            seen = self._revisions.get(alarm_id)
            if seen is not None and alarm.revision < seen:
                continue
            self._revisions[alarm_id] = alarm.revision
            newer.append(alarm)
            if not regroup:
                known = self.item(alarm_id)
                regroup = known is None or known.raised_at != alarm.raised_at
                regroup = regroup or not self.keeps(alarm)
        super().upsert(newer)
        if regroup:
            self._schedule_regroup()

    def _schedule_regroup(self) -> None:
        """Work the first-out bursts out again now, or, within
        :data:`FIRST_OUT_REFRESH_S` of the last time, once that much time has passed (a
        busy list of thousands of alarms would otherwise regroup every batch)."""
        wait = self._grouped_at + FIRST_OUT_REFRESH_S - time.monotonic()
        if wait <= 0:
            self._regroup()
        elif not self._regroup_timer.isActive():
            self._regroup_timer.start(math.ceil(wait * 1000))

    def forget_revisions(self) -> None:
        """Take the next version of every alarm, whatever its revision (the list switching
        between live and a replay of the past, where versions go back in time)."""
        self._revisions.clear()

    def _regroup(self) -> None:
        """Work out the first-out bursts again; repaint that column where they changed."""
        self._regroup_timer.stop()
        self._grouped_at = time.monotonic()
        groups = first_out_groups(self._items, self.entity_domain)
        changed = {
            key
            for key in groups.keys() | self._bursts.keys()
            if groups.get(key) != self._bursts.get(key)
        }
        if not changed:
            return
        self._bursts.clear()
        self._bursts.update(groups)
        rows = sorted(self._rows[key] for key in changed if key in self._rows)
        if rows:
            self.dataChanged.emit(
                self.index(rows[0], Column.FIRST_OUT), self.index(rows[-1], Column.FIRST_OUT)
            )

    @staticmethod
    def _make_fonts() -> dict[tuple[bool, bool], QFont]:
        fonts: dict[tuple[bool, bool], QFont] = {}
        for bold in (False, True):
            for italic in (False, True):
                font = QFont()
                font.setBold(bold)
                font.setItalic(italic)
                fonts[bold, italic] = font
        return fonts

    # ------------------------------------------------------------ keyed rows

    def key_of(self, item: Alarm) -> str:
        """The alarm id."""
        return item.id

    def keeps(self, item: Alarm) -> bool:
        """Alarms back to ``normal`` leave the list."""
        return item.state != AlarmState.NORMAL

    def category(self, item: Alarm) -> AlarmState:
        """Alarms are counted by state."""
        return item.state

    def tie_key(self, item: Alarm) -> tuple[SortValue, ...]:
        """Equal values sort by raise time, then by alarm id (the newest last)."""
        return (item.raised_at, item.id)

    def changed_columns(self, old: Alarm, new: Alarm) -> ColumnSpans:
        """Spans of adjacent columns whose cells look different for ``new`` than for ``old``."""
        if (
            old.severity != new.severity
            or old.state != new.state
            or old.raised_at != new.raised_at
            or old.entity_id != new.entity_id
        ):
            # Colours and fonts of the whole row, or the tie-break of every sort, changed.
            return _WHOLE_ROW
        columns: list[int] = []
        if old.acked_at != new.acked_at or old.acked_by != new.acked_by:
            columns.append(Column.STATE)
        if old.value != new.value or old.message != new.message:
            columns.append(Column.VALUE)
        if old.threshold != new.threshold:
            columns.append(Column.THRESHOLD)
        if old.count != new.count:
            columns.append(Column.COUNT)
        if old.assignee != new.assignee:
            columns.append(Column.ASSIGNEE)
        if (old.shelved_until, old.shelved_by, old.shelve_note) != (
            new.shelved_until,
            new.shelved_by,
            new.shelve_note,
        ):
            columns.append(Column.SHELVED_UNTIL)
        if old.comments != new.comments:
            columns.append(Column.NOTES)
        # Nothing listed: only tooltip details (updated_at) changed, which need no signal.
        return tuple(runs(columns))

    # ------------------------------------------------------------------ content

    def entity_name(self, entity_id: str) -> str:
        """The entity's name when known, else its id."""
        return self._names.get(entity_id) or entity_id

    def tooltip(self, item: Alarm, column: int) -> str:
        """Exact times on the raised and state cells, the id on the entity, else the message
        (escaped: feed text is never markup)."""
        return plain_tooltip(self._tooltip_text(item, column))

    def _tooltip_text(self, item: Alarm, column: int) -> str:
        if column == Column.COUNT and item.id in self._chattering:
            return translate("AlarmTable", "Chattering: raised 3 or more times within a minute")
        if column == Column.RAISED:
            text = format_timestamp(item.raised_at)
            if item.updated_at and item.updated_at != item.raised_at:
                text += "\n" + translate("AlarmTable", "last update {time}").format(
                    time=format_timestamp(item.updated_at)
                )
            return text
        if column == Column.ENTITY:
            return item.entity_id
        if column == Column.SHELVED_UNTIL and item.state is AlarmState.OUT_OF_SERVICE:
            text = translate("AlarmTable", "taken out of service by {user}").format(
                user=item.shelved_by
            )
            return f"{text}: {item.shelve_note}" if item.shelve_note else text
        if column == Column.SHELVED_UNTIL and item.state is AlarmState.SHELVED:
            text = translate("AlarmTable", "shelved by {user}").format(user=item.shelved_by)
            return f"{text}: {item.shelve_note}" if item.shelve_note else text
        if column == Column.FIRST_OUT and item.id in self._bursts:
            return translate(
                "AlarmTable",
                "Raised within {seconds:g} s of each other in the same domain; the first is"
                " often the cause (sort by this column to keep a burst together)",
            ).format(seconds=FIRST_OUT_WINDOW_S)
        if column == Column.NOTES and item.comments:
            return translate("AlarmTable", "{count} comment(s) on this occurrence").format(
                count=item.comments
            )
        if column == Column.STATE and item.acked_at is not None:
            when = format_timestamp(item.acked_at)
            if item.acked_by:
                return translate("AlarmTable", "acknowledged by {user} at {time}").format(
                    user=item.acked_by, time=when
                )
            return translate("AlarmTable", "acknowledged at {time}").format(time=when)
        return item.message or ""

    def background(self, item: Alarm, column: int) -> QBrush | None:
        """The severity colour on its cell, a light tint of it on the rest of the row."""
        hex_color = SEVERITY_COLORS.get(item.severity)
        if hex_color is None:
            return None
        if column == Column.SEVERITY:
            return self.brush(hex_color)
        # A light tint of the severity hue keeps the rest of the row readable on light
        # and dark palettes alike.
        faded = item.state in _DIMMED_STATES
        return self.brush(hex_color, FADED_ROW_TINT_ALPHA if faded else ROW_TINT_ALPHA)

    def foreground(self, item: Alarm, column: int) -> QBrush | None:
        """Readable text on the severity cell; dimmed text for cleared alarms and for the
        values of stale entities."""
        hex_color = SEVERITY_COLORS.get(item.severity)
        if column == Column.SEVERITY and hex_color is not None:
            return self.brush(text_color_for(hex_color))
        if item.state in _DIMMED_STATES or (
            column == Column.VALUE and item.entity_id in self._stale
        ):
            return self.brush(DIM_TEXT_COLOR)
        return None

    def font(self, item: Alarm, column: int) -> QFont:
        """Bold while waiting for acknowledgement (regular in the off phase of flashing),
        italic once returned to normal."""
        bold = item.state.needs_ack and not (
            self._flashing and not self._flash_on and item.state is AlarmState.UNACKNOWLEDGED
        )
        return self._fonts[bold, item.state == AlarmState.RTN_UNACKNOWLEDGED]

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """As the base, plus a marker before the severity of unacknowledged rows in the on
        phase of flashing."""
        value = super().data(index, role)
        if (
            self._flashing
            and self._flash_on
            and role == Qt.ItemDataRole.DisplayRole
            and index.column() == Column.SEVERITY
            and self._items[index.row()].state is AlarmState.UNACKNOWLEDGED
        ):
            return FLASH_MARKER + str(value)
        return value

    # ------------------------------------------------------------------ flashing

    @property
    def flashing(self) -> bool:
        """Whether unacknowledged rows flash."""
        return self._flashing

    @property
    def flash_on(self) -> bool:
        """Whether flashing rows are in their on phase (bold, marked)."""
        return self._flash_on

    def set_flashing(self, flashing: bool, flash_on: bool = True) -> None:
        """Turn flashing on or off and set its phase; one signal over the list (fonts and
        severity texts), none when nothing changes."""
        if (flashing, flash_on) == (self._flashing, self._flash_on):
            return
        self._flashing, self._flash_on = flashing, flash_on
        if self._items:
            self.dataChanged.emit(
                self.index(0, 0),
                self.index(len(self._items) - 1, len(Column) - 1),
                [Qt.ItemDataRole.FontRole, Qt.ItemDataRole.DisplayRole],
            )

    # ------------------------------------------------------------------ filtering

    def entity_domain(self, entity_id: str) -> str:
        """The entity's domain when known, else ""."""
        return self._domains.get(entity_id, "")

    def domains(self) -> list[str]:
        """The domains of the entities known, sorted."""
        return sorted({d for d in self._domains.values() if d})

    def set_entity_domains(self, domains: Mapping[str, str]) -> None:
        """Record the domains of entities (added to those known so far)."""
        new = {key: value for key, value in domains.items() if self._domains.get(key) != value}
        self._domains.update(new)
        if new and self._items:
            self._schedule_regroup()

    def matches(self, alarm: Alarm, wanted: AlarmFilter) -> bool:
        """Whether ``alarm`` passes ``wanted``."""
        if wanted.severities and alarm.severity not in wanted.severities:
            return False
        if wanted.states and alarm.state not in wanted.states:
            return False
        if wanted.domains and self._domains.get(alarm.entity_id, "") not in wanted.domains:
            return False
        words = fold(wanted.text).split()
        if words:
            haystack = fold(
                " ".join(
                    (
                        self.entity_name(alarm.entity_id),
                        alarm.entity_id,
                        alarm.metric,
                        alarm.message,
                    )
                )
            )
            return all(word in haystack for word in words)
        return True

    # ------------------------------------------------------------------ queries

    def alarm_at(self, row: int) -> Alarm:
        """The alarm shown in source ``row`` (IndexError when out of range)."""
        return self.item_at(row)

    def alarm(self, alarm_id: str) -> Alarm | None:
        """The alarm with ``alarm_id``, or None when it is not in the list."""
        return self.item(alarm_id)

    def alarms(self) -> list[Alarm]:
        """Every alarm in the list, in source row order."""
        return self.items()

    def row_count_by_state(self) -> dict[AlarmState, int]:
        """How many alarms of each state are in the list (states with none are left out)."""
        return self.count_by_category()

    def needs_ack_count(self) -> int:
        """How many alarms are waiting for acknowledgement."""
        counts = self.count_by_category()
        return counts.get(AlarmState.UNACKNOWLEDGED, 0) + counts.get(
            AlarmState.RTN_UNACKNOWLEDGED, 0
        )

    # ------------------------------------------------------------------ changes

    def set_entity_names(self, names: Mapping[str, str]) -> None:
        """Show these entity names instead of ids, adding to (or changing) the names known so
        far; ids without a name stay as they are."""
        changed = {key: name for key, name in names.items() if self._names.get(key) != name}
        if not changed:
            return
        self._names.update(changed)
        rows = sorted(row for row in self._rows.values() if self._items[row].entity_id in changed)
        if rows:
            self.dataChanged.emit(
                self.index(rows[0], Column.ENTITY), self.index(rows[-1], Column.ENTITY)
            )

    def set_stale_entities(self, changes: Mapping[str, bool]) -> None:
        """Record which entities are stale (True) or live and fresh again (False)."""
        changed = {key for key, stale in changes.items() if (key in self._stale) != stale}
        if not changed:
            return
        for key in changed:
            if changes[key]:
                self._stale.add(key)
            else:
                self._stale.discard(key)
        rows = sorted(row for row in self._rows.values() if self._items[row].entity_id in changed)
        if rows:
            self.dataChanged.emit(
                self.index(rows[0], Column.VALUE), self.index(rows[-1], Column.VALUE)
            )

    def set_chattering(self, alarm_ids: Iterable[str]) -> None:
        """Mark these alarms as chattering (from the alarm-system KPIs), and no others."""
        wanted = set(alarm_ids)
        changed = wanted ^ self._chattering
        if not changed:
            return
        self._chattering.clear()
        self._chattering.update(wanted)
        rows = sorted(self._rows[key] for key in changed if key in self._rows)
        if rows:
            self.dataChanged.emit(
                self.index(rows[0], Column.COUNT), self.index(rows[-1], Column.COUNT)
            )

    def is_chattering(self, alarm_id: str) -> bool:
        """Whether the alarm is marked as chattering."""
        return alarm_id in self._chattering

    def is_stale(self, entity_id: str) -> bool:
        """Whether values of ``entity_id`` are shown as stale."""
        return entity_id in self._stale


class AlarmSortProxy(KeyedSortProxy):
    """Sorts by the clicked column's raw value, then by raise time, then by alarm id.

    A descending sort reverses the tie-breaks too, so the default sort (severity,
    descending) lists the newest alarm first within each severity. Re-sorting on every
    change makes a busy list jump and costs most of an upsert, so rows keep their places
    until :meth:`sort` runs again (the view re-sorts on a short timer).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent, dynamic=False)
