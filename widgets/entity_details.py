"""Entity details: one panel for the entity selected anywhere (map, alarm list, search).

It shows what the entity is, each metric's value with unit and age (stale values marked
in text, not only in colour), a sparkline of the last hour, the rule limits that apply,
its active alarms and its feed's health. Every string is shown as plain text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QFormLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from services.model import Alarm, Entity, FeedHealth, Reading
from widgets.format import format_age, format_alarm_amount, format_clock, format_value
from widgets.i18n import QT_TRANSLATE_NOOP, translate
from widgets.palette import DIM_TEXT_COLOR
from widgets.plain_text import plain_label, plain_tooltip
from widgets.sparkline import Sparkline
from widgets.terms import (
    alarm_state_text,
    condition_text,
    domain_text,
    entity_type_text,
    feed_state_word,
    severity_text,
)

STALE_MARK = QT_TRANSLATE_NOOP("EntityDetails", " (stale)")
FACTS = {
    "Id": QT_TRANSLATE_NOOP("EntityDetails", "Id"),
    "Type": QT_TRANSLATE_NOOP("EntityDetails", "Type"),
    "Domain": QT_TRANSLATE_NOOP("EntityDetails", "Domain"),
    "Location": QT_TRANSLATE_NOOP("EntityDetails", "Location"),
    "Feed": QT_TRANSLATE_NOOP("EntityDetails", "Feed"),
    "Updated": QT_TRANSLATE_NOOP("EntityDetails", "Updated"),
}
"""The facts shown, by key: the key is also the English label."""
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
AGE_REFRESH_MS = 1000


@dataclass(slots=True)
class EntityView:
    """Everything the panel shows about one entity."""

    entity: Entity
    readings: Mapping[str, Reading] = field(default_factory=dict)
    history: Mapping[str, Sequence[tuple[float, float]]] = field(default_factory=dict)
    limits: Mapping[str, str] = field(default_factory=dict)
    alarms: Sequence[Alarm] = ()
    guidance: Mapping[str, str] = field(default_factory=dict)
    """What to do, per alarm id (from its rule), shown under the alarm."""
    feed: FeedHealth | None = None


class EntityDetails(QWidget):
    """The details panel. Call :meth:`show_entity`; ages refresh once a second."""

    COLUMNS = (
        QT_TRANSLATE_NOOP("EntityDetails", "Metric"),
        QT_TRANSLATE_NOOP("EntityDetails", "Value"),
        QT_TRANSLATE_NOOP("EntityDetails", "Age"),
        QT_TRANSLATE_NOOP("EntityDetails", "Last hour"),
        QT_TRANSLATE_NOOP("EntityDetails", "Limits"),
    )
    """Column keys (English) of :meth:`metric_row`; the headers are translated."""

    def __init__(
        self, parent: QWidget | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._view: EntityView | None = None
        self.title = plain_label(
            translate(
                "EntityDetails", "Select a station on the map, in the alarm list or with Ctrl+F"
            )
        )
        self.title.setObjectName("detailsTitle")
        font = QFont(self.title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self._facts: dict[str, QLabel] = {}
        facts = QFormLayout()
        for key, text in FACTS.items():
            label = plain_label()
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            self._facts[key] = label
            facts.addRow(translate("EntityDetails", text), label)
        self.metrics = QTableWidget(0, len(self.COLUMNS))
        self.metrics.setObjectName("detailsMetrics")
        self.metrics.setHorizontalHeaderLabels(
            [translate("EntityDetails", c) for c in self.COLUMNS]
        )
        self.metrics.verticalHeader().hide()
        self.metrics.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.metrics.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        header = self.metrics.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.alarms = QListWidget()
        self.alarms.setObjectName("detailsAlarms")
        self.alarms.setMaximumHeight(140)
        self.alarms.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(facts)
        layout.addWidget(self.metrics, 1)
        layout.addWidget(plain_label(translate("EntityDetails", "Active alarms")))
        layout.addWidget(self.alarms)
        self._timer = QTimer(self)
        self._timer.setInterval(AGE_REFRESH_MS)
        self._timer.timeout.connect(self.refresh_ages)
        self._timer.start()

    def clear(self, text: str) -> None:
        """Show no entity, ``text`` in place of its name (e.g. why there is none)."""
        self._view = None
        self.title.setText(text)
        for label in self._facts.values():
            label.clear()
        self.metrics.setRowCount(0)
        self.alarms.clear()

    def entity_id(self) -> str | None:
        """The entity shown, if any."""
        return None if self._view is None else self._view.entity.id

    def show_entity(self, view: EntityView) -> None:
        """Show ``view`` (replacing what was shown)."""
        self._view = view
        entity = view.entity
        self.title.setText(
            entity.name + ("  — " + translate("EntityDetails", "STALE") if entity.stale else "")
        )
        self._facts["Id"].setText(entity.id)
        self._facts["Type"].setText(entity_type_text(entity.type) if entity.type else "—")
        self._facts["Domain"].setText(domain_text(entity.domain) if entity.domain else "—")
        location = (
            f"{entity.lat:.5f}, {entity.lon:.5f}"
            if entity.has_location
            else translate("EntityDetails", "no location")
        )
        self._facts["Location"].setText(location)
        self._facts["Feed"].setText(self._feed_text(view.feed, entity.feed))
        self._fill_metrics(view)
        self.alarms.clear()
        for alarm in view.alarms:
            self.alarms.addItem(_alarm_line(alarm))
            guidance = view.guidance.get(alarm.id)
            if guidance:
                item = QListWidgetItem(
                    translate("EntityDetails", "    What to do: {guidance}").format(
                        guidance=guidance
                    )
                )
                item.setToolTip(guidance)
                font = item.font()
                font.setItalic(True)
                item.setFont(font)
                self.alarms.addItem(item)
        if not view.alarms:
            self.alarms.addItem(translate("EntityDetails", "none"))
        self.refresh_ages()

    def refresh_ages(self) -> None:
        """Update the ages (and the 'updated' fact) against the clock."""
        view = self._view
        if view is None:
            return
        now = self._clock()
        # Its newest reading, when that is newer (a replay updates entities only when their
        # look changes).
        updated = max([view.entity.updated_at, *(r.ts for r in view.readings.values())])
        self._facts["Updated"].setText(
            f"{format_clock(updated)} ({format_age(now - updated)})"
            if updated
            else translate("EntityDetails", "never")
        )
        for row in range(self.metrics.rowCount()):
            item = self.metrics.item(row, 0)
            reading = view.readings.get(item.text()) if item is not None else None
            age = self.metrics.item(row, 2)
            if reading is not None and age is not None:
                age.setText(format_age(now - reading.ts))

    def metric_row(self, metric: str) -> dict[str, str]:
        """The texts of a metric's row, by column name (for tests and accessibility)."""
        for row in range(self.metrics.rowCount()):
            item = self.metrics.item(row, 0)
            if item is not None and item.text() == metric:
                return {
                    name: (cell.text() if (cell := self.metrics.item(row, column)) else "")
                    for column, name in enumerate(self.COLUMNS)
                }
        return {}

    def _fill_metrics(self, view: EntityView) -> None:
        now = self._clock()
        stale = view.entity.stale
        self.metrics.setRowCount(0)
        for row, metric in enumerate(sorted(view.readings)):
            reading = view.readings[metric]
            self.metrics.insertRow(row)
            value = format_value(reading.value, reading.unit) + (
                translate("EntityDetails", STALE_MARK) if stale else ""
            )
            cells = [metric, value, format_age(now - reading.ts), "", view.limits.get(metric, "")]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tooltip(text))
                if stale and column == 1:
                    item.setForeground(QColor(DIM_TEXT_COLOR))
                if column in (1, 2):
                    item.setTextAlignment(RIGHT)
                self.metrics.setItem(row, column, item)
            spark = Sparkline()
            spark.set_points(view.history.get(metric, ()), now, stale)
            self.metrics.setCellWidget(row, 3, spark)

    @staticmethod
    def _feed_text(feed: FeedHealth | None, name: str) -> str:
        if feed is None:
            return name or "—"
        last = (
            format_clock(feed.last_message_at)
            if feed.last_message_at
            else translate("EntityDetails", "never")
        )
        return translate("EntityDetails", "{feed}: {state}, last message {time}").format(
            feed=feed.name, state=feed_state_word(feed.state), time=last
        )

    def sparkline(self, metric: str) -> Sparkline | None:
        """The sparkline drawn for ``metric`` (None when the metric is not shown)."""
        for row in range(self.metrics.rowCount()):
            item = self.metrics.item(row, 0)
            widget = self.metrics.cellWidget(row, 3)
            if item is not None and item.text() == metric and isinstance(widget, Sparkline):
                return widget
        return None


def _alarm_line(alarm: Alarm) -> str:
    """One line per active alarm: priority, metric, condition, value, state."""
    return translate(
        "EntityDetails", "{severity} · {metric} {condition} · {value} (limit {limit}) · {state}"
    ).format(
        severity=severity_text(alarm.severity),
        metric=alarm.metric,
        condition=condition_text(alarm.condition),
        value=format_alarm_amount(alarm, alarm.value),
        limit=format_alarm_amount(alarm, alarm.threshold),
        state=alarm_state_text(alarm.state),
    )
