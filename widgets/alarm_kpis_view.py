"""The alarm-system KPI panel (EEMUA 191 / ISA-18.2): how healthy the alarm system is.

Shows a :class:`services.model.AlarmSystemKpis` as the ingest worker computed it: the
alarm rate against the benchmark (about one per ten minutes is acceptable, two the most
that stays manageable), the flood state, active, standing and stale counts, the most
frequent and the chattering alarms, and the priority distribution against the
80/15/5 % guideline. Every verdict is said in words, never by colour alone.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from services.model import AlarmSystemKpis, Condition, Severity
from widgets.format import format_clock, format_count, format_number
from widgets.i18n import translate
from widgets.plain_text import plain_label
from widgets.terms import condition_text, severity_text

ACCEPTABLE_PER_10MIN = 1.0
"""EEMUA 191: about one alarm per ten minutes is acceptable."""
MANAGEABLE_PER_10MIN = 2.0
"""EEMUA 191: two per ten minutes is the most that stays manageable."""
GUIDELINE_SHARES: dict[str, float] = {"low": 80.0, "medium": 15.0, "high": 5.0}
"""The priority distribution guideline: % of raises that are low, medium, high+critical."""
SHARE_TOLERANCE = 5.0
"""Percentage points either side of the guideline that still count as near it."""


class RateBand(enum.Enum):
    """Where an alarm rate stands against the EEMUA 191 benchmark."""

    ACCEPTABLE = "acceptable"
    MANAGEABLE = "manageable"
    OVERLOADED = "over the manageable rate"


def rate_band(per_10min: float) -> RateBand:
    """The benchmark band of a rate of alarms per ten minutes."""
    if per_10min <= ACCEPTABLE_PER_10MIN:
        return RateBand.ACCEPTABLE
    if per_10min <= MANAGEABLE_PER_10MIN:
        return RateBand.MANAGEABLE
    return RateBand.OVERLOADED


def rate_band_text(band: RateBand) -> str:
    """The band in words."""
    if band is RateBand.ACCEPTABLE:
        return translate("AlarmKpis", "acceptable (benchmark: about 1 per 10 min)")
    if band is RateBand.MANAGEABLE:
        return translate("AlarmKpis", "manageable (above 1, at most 2 per 10 min)")
    return translate("AlarmKpis", "over the manageable rate (more than 2 per 10 min)")


def priority_shares(by_priority: Mapping[Severity, int]) -> dict[str, tuple[int, float]]:
    """Raises and their share (%) in the guideline's groups: low, medium, high+critical."""
    groups = {
        "low": by_priority.get(Severity.LOW, 0),
        "medium": by_priority.get(Severity.MEDIUM, 0),
        "high": by_priority.get(Severity.HIGH, 0) + by_priority.get(Severity.CRITICAL, 0),
    }
    total = sum(groups.values())
    return {key: (n, 100.0 * n / total if total else 0.0) for key, n in groups.items()}


def alarm_label(alarm_id: str, names: Mapping[str, str]) -> str:
    """``Heshan station · pm25 · High``: an alarm id with its entity's name when known."""
    parts = alarm_id.rsplit("|", 2)
    if len(parts) != 3:
        return alarm_id
    entity, metric, condition = parts
    try:
        condition_words = condition_text(Condition(condition))
    except ValueError:
        condition_words = condition
    return " · ".join((names.get(entity) or entity, metric, condition_words))


def kpis_to_dict(kpis: AlarmSystemKpis, names: Mapping[str, str]) -> dict[str, Any]:
    """The figures as a plain dict (for JSON): ids kept, names added where known."""
    shares = priority_shares(kpis.by_priority)
    return {
        "at": kpis.at,
        "raises_10min": kpis.raises_10min,
        "hourly_rate_per_10min": kpis.hourly_rate_per_10min,
        "rate_band": rate_band(kpis.hourly_rate_per_10min).value,
        "benchmark_per_10min": {
            "acceptable": ACCEPTABLE_PER_10MIN,
            "manageable": MANAGEABLE_PER_10MIN,
        },
        "flood": kpis.flood,
        "flood_since": kpis.flood_since,
        "active": kpis.active,
        "standing": kpis.standing,
        "stale": kpis.stale,
        "shelved": kpis.shelved,
        "suppressed": kpis.suppressed,
        "out_of_service": kpis.out_of_service,
        "raises_24h": kpis.raises_24h,
        "top": [
            {"alarm": key, "name": alarm_label(key, names), "raises": count}
            for key, count in kpis.top
        ],
        "chattering": [{"alarm": key, "name": alarm_label(key, names)} for key in kpis.chattering],
        "by_priority": {severity.label: n for severity, n in sorted(kpis.by_priority.items())},
        "priority_distribution": {
            key: {"raises": n, "percent": share, "guideline_percent": GUIDELINE_SHARES[key]}
            for key, (n, share) in shares.items()
        },
    }


def _share_verdict(share: float, guideline: float, total: int) -> str:
    if total == 0:
        return translate("AlarmKpis", "no raises yet")
    if share > guideline + SHARE_TOLERANCE:
        return translate("AlarmKpis", "above the guideline")
    if share < guideline - SHARE_TOLERANCE:
        return translate("AlarmKpis", "below the guideline")
    return translate("AlarmKpis", "near the guideline")


class AlarmKpisView(QWidget):
    """The alarm-system KPIs: rate, flood, counts, most frequent, chattering, priorities.

    Fed with :meth:`show_kpis`; entity names come from :meth:`set_entity_names`. Emits
    :attr:`exportRequested` when the operator asks to export the figures.
    """

    exportRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kpis: AlarmSystemKpis | None = None
        self._names: dict[str, str] = {}

        self.rate_label = plain_label()
        self.rate_label.setObjectName("kpiRate")
        self.hourly_label = plain_label()
        self.hourly_label.setObjectName("kpiHourlyRate")
        self.flood_label = plain_label()
        self.flood_label.setObjectName("kpiFlood")
        self.counts_label = plain_label()
        self.counts_label.setObjectName("kpiCounts")
        self.chattering_label = plain_label()
        self.chattering_label.setObjectName("kpiChattering")
        self.chattering_label.setWordWrap(True)
        for label in (self.rate_label, self.hourly_label, self.flood_label):
            label.setWordWrap(True)
        self.updated_label = plain_label()
        self.updated_label.setObjectName("kpiUpdated")

        rate_box = QGroupBox(translate("AlarmKpis", "Alarm rate (EEMUA 191)"))
        form = QFormLayout(rate_box)
        form.addRow(translate("AlarmKpis", "Last 10 min:"), self.rate_label)
        form.addRow(translate("AlarmKpis", "Mean over the hour:"), self.hourly_label)
        form.addRow(translate("AlarmKpis", "Flood:"), self.flood_label)
        form.addRow(translate("AlarmKpis", "Alarms:"), self.counts_label)

        self.top_table = QTableWidget(0, 2)
        self.top_table.setObjectName("kpiTopAlarms")
        self.top_table.setHorizontalHeaderLabels(
            [translate("AlarmKpis", "Alarm"), translate("AlarmKpis", "Raises (24 h)")]
        )
        self._setup_table(self.top_table)
        self.top_table.setMinimumHeight(self._rows_height(self.top_table, 5))
        top_box = QGroupBox(translate("AlarmKpis", "Most frequent alarms (24 h)"))
        QVBoxLayout(top_box).addWidget(self.top_table)

        chatter_box = QGroupBox(translate("AlarmKpis", "Chattering (3 or more raises in 1 min)"))
        QVBoxLayout(chatter_box).addWidget(self.chattering_label)

        self.priority_table = QTableWidget(3, 4)
        self.priority_table.setObjectName("kpiPriorities")
        self.priority_table.setHorizontalHeaderLabels(
            [
                translate("AlarmKpis", "Priority"),
                translate("AlarmKpis", "Raises"),
                translate("AlarmKpis", "Share (guideline)"),
                translate("AlarmKpis", "Verdict"),
            ]
        )
        self._setup_table(self.priority_table)
        self.priority_table.setFixedHeight(self._rows_height(self.priority_table, 3))
        self.priority_table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        priority_box = QGroupBox(translate("AlarmKpis", "Priority distribution (24 h)"))
        QVBoxLayout(priority_box).addWidget(self.priority_table)

        self.export_button = QPushButton(translate("AlarmKpis", "Export alarm KPIs…"))
        self.export_button.setObjectName("exportAlarmKpis")
        self.export_button.setToolTip(translate("AlarmKpis", "Write these figures to a JSON file"))
        self.export_button.clicked.connect(self.exportRequested)
        footer = QHBoxLayout()
        footer.addWidget(self.updated_label, 1)
        footer.addWidget(self.export_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(rate_box)
        layout.addWidget(priority_box)
        layout.addWidget(top_box, 1)
        layout.addWidget(chatter_box)
        layout.addLayout(footer)
        self._refresh()

    @staticmethod
    def _rows_height(table: QTableWidget, rows: int) -> int:
        """The height that shows the header and ``rows`` rows, no more."""
        header = table.horizontalHeader().sizeHint().height()
        return header + rows * table.verticalHeader().defaultSectionSize() + 2 * table.frameWidth()

    @staticmethod
    def _setup_table(table: QTableWidget) -> None:
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        table.setShowGrid(False)
        table.setWordWrap(False)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, table.columnCount()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)

    # ------------------------------------------------------------------ public API

    @property
    def kpis(self) -> AlarmSystemKpis | None:
        """The figures shown (None before the first)."""
        return self._kpis

    def set_entity_names(self, names: Mapping[str, str]) -> None:
        """Entity names to show instead of ids (added to those known so far)."""
        changed = {key: name for key, name in names.items() if self._names.get(key) != name}
        if changed:
            self._names.update(changed)
            if self._kpis is not None and self._kpis.top:
                self._refresh()

    def show_kpis(self, kpis: AlarmSystemKpis) -> None:
        """Show ``kpis``."""
        self._kpis = kpis
        self._refresh()

    def to_dict(self) -> dict[str, Any]:
        """The figures shown, as a plain dict (empty before the first)."""
        return {} if self._kpis is None else kpis_to_dict(self._kpis, self._names)

    def alarm_label(self, alarm_id: str) -> str:
        """How an alarm is named here."""
        return alarm_label(alarm_id, self._names)

    # ------------------------------------------------------------------ internals

    def _refresh(self) -> None:
        kpis = self._kpis
        self.export_button.setEnabled(kpis is not None)
        if kpis is None:
            waiting = translate("AlarmKpis", "waiting for the first figures")
            for label in (self.rate_label, self.hourly_label, self.flood_label):
                label.setText(waiting)
            self.counts_label.setText("")
            self.chattering_label.setText("")
            self.updated_label.setText("")
            self._fill_priorities({})
            return
        self.rate_label.setText(
            translate("AlarmKpis", "{count} raised — {band}").format(
                count=format_count(kpis.raises_10min),
                band=rate_band_text(rate_band(kpis.raises_10min)),
            )
        )
        self.hourly_label.setText(
            translate("AlarmKpis", "{rate} per 10 min — {band}").format(
                rate=format_number(kpis.hourly_rate_per_10min, 1),
                band=rate_band_text(rate_band(kpis.hourly_rate_per_10min)),
            )
        )
        if kpis.flood:
            since = format_clock(kpis.flood_since or kpis.at)
            self.flood_label.setText(
                translate("AlarmKpis", "ALARM FLOOD since {since}").format(since=since)
            )
            self.flood_label.setStyleSheet("font-weight:bold")
        else:
            self.flood_label.setText(
                translate("AlarmKpis", "no flood (starts above 10 in 10 min, ends below 5)")
            )
            self.flood_label.setStyleSheet("")
        self.counts_label.setText(
            translate(
                "AlarmKpis",
                "{active} active · {standing} standing · {stale} stale · {shelved} shelved"
                " · {suppressed} suppressed · {out_of_service} out of service",
            ).format(
                active=format_count(kpis.active),
                standing=format_count(kpis.standing),
                stale=format_count(kpis.stale),
                shelved=format_count(kpis.shelved),
                suppressed=format_count(kpis.suppressed),
                out_of_service=format_count(kpis.out_of_service),
            )
        )
        self.counts_label.setToolTip(
            translate(
                "AlarmKpis",
                "Standing: active for more than 24 h. Stale: waiting for acknowledgement "
                "for more than 24 h.",
            )
        )
        self.top_table.setRowCount(len(kpis.top))
        for row, (key, count) in enumerate(kpis.top):
            name = QTableWidgetItem(self.alarm_label(key))
            name.setToolTip(key)
            raises = QTableWidgetItem(format_count(count))
            raises.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.top_table.setItem(row, 0, name)
            self.top_table.setItem(row, 1, raises)
        self.chattering_label.setText(
            "\n".join(self.alarm_label(key) for key in kpis.chattering)
            if kpis.chattering
            else translate("AlarmKpis", "none")
        )
        self._fill_priorities(kpis.by_priority)
        self.updated_label.setText(
            translate("AlarmKpis", "{count} raises in 24 h · as of {time}").format(
                count=format_count(kpis.raises_24h), time=format_clock(kpis.at)
            )
        )

    def _fill_priorities(self, by_priority: Mapping[Severity, int]) -> None:
        shares = priority_shares(by_priority)
        total = sum(n for n, _share in shares.values())
        names = {
            "low": severity_text(Severity.LOW),
            "medium": severity_text(Severity.MEDIUM),
            "high": translate("AlarmKpis", "{high} + {critical}").format(
                high=severity_text(Severity.HIGH), critical=severity_text(Severity.CRITICAL)
            ),
        }
        for row, (key, (count, share)) in enumerate(shares.items()):
            guideline = GUIDELINE_SHARES[key]
            cells = (
                names[key],
                format_count(count),
                translate("AlarmKpis", "{share} % ({guideline} %)").format(
                    share=format_number(share, 0), guideline=format_number(guideline, 0)
                ),
                _share_verdict(share, guideline, total),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (1, 2):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.priority_table.setItem(row, column, item)
