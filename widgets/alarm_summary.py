"""The alarm summary of dashboards and walls: the active alarms counted per priority in
large type (a count's box coloured only when it is not zero, and always in words), and the
newest alarms waiting for acknowledgement listed under it.

Its type grows with the widget, so the same view reads from a desk and from across a room.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from services.model import Alarm, Severity, priority_of
from widgets.format import format_clock
from widgets.i18n import translate
from widgets.palette import current_theme, text_color_for
from widgets.plain_text import plain_label
from widgets.terms import severity_text

log = logging.getLogger(__name__)

WAITING_LINES = 8
"""Alarms waiting for acknowledgement listed under the counts (newest first)."""
COUNT_HEIGHT_SHARE = 0.22
"""A count's digits are this share of the widget's height (within the box's width)."""


class _CountBox(QFrame):
    """One priority's count and its word."""

    def __init__(self, severity: Severity) -> None:
        super().__init__()
        self.severity = severity
        self.setObjectName(f"alarmCount-{severity.label}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(0)
        self.number = plain_label("0")
        self.number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.word = plain_label(severity_text(severity))
        self.word.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.number, 1)
        layout.addWidget(self.word)
        self.count = -1
        self.set_count(0)

    def set_count(self, count: int) -> None:
        if count == self.count:
            return
        self.count = count
        self.number.setText(str(count))
        # Colour only for what is abnormal: a priority with alarms; grey lines otherwise.
        theme = current_theme()
        if count:
            background = theme.severity(self.severity)
            text = text_color_for(background)
            style = f"background:{background};color:{text};border:3px solid {text};"
        else:
            style = f"color:{theme.dim_text};border:1px solid {theme.normal};"
        self.setStyleSheet(f"#{self.objectName()}{{{style}}} QLabel{{border:none;{style}}}")

    def set_sizes(self, number_px: int, word_px: int) -> None:
        for label, pixels, bold in ((self.number, number_px, True), (self.word, word_px, False)):
            font = label.font()
            font.setPixelSize(max(8, pixels))
            font.setBold(bold)
            label.setFont(font)


class AlarmSummary(QFrame):
    """The active alarms counted by priority (those of ``most_urgent`` or more urgent when
    given), and the newest waiting for acknowledgement."""

    def __init__(
        self, title: str, most_urgent: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("alarmSummary")
        self._most = most_urgent
        layout = QVBoxLayout(self)
        self.heading = plain_label(title or translate("AlarmSummary", "Active alarms"))
        layout.addWidget(self.heading)
        grid = QGridLayout()
        grid.setSpacing(8)
        self.boxes: dict[Severity, _CountBox] = {}
        shown = [s for s in sorted(Severity, reverse=True) if self._counts_for(s)]
        for column, severity in enumerate(shown):
            box = _CountBox(severity)
            self.boxes[severity] = box
            grid.addWidget(box, 0, column)
        layout.addLayout(grid, 3)
        self.waiting_heading = plain_label(
            translate("AlarmSummary", "Newest waiting for acknowledgement")
        )
        layout.addWidget(self.waiting_heading)
        self.lines: list[QLabel] = []
        for _ in range(WAITING_LINES):
            line = plain_label("")
            line.setTextFormat(Qt.TextFormat.PlainText)
            self.lines.append(line)
            layout.addWidget(line)
        layout.addStretch(1)
        self.counts: dict[Severity, int] = dict.fromkeys(self.boxes, 0)
        self._fit_type()

    def _counts_for(self, severity: Severity) -> bool:
        return self._most is None or priority_of(severity) <= self._most

    def show_alarms(
        self, alarms: Iterable[Alarm], name_of: Callable[[str], str] | None = None
    ) -> None:
        """Count the active alarms and list the newest waiting for acknowledgement
        (``name_of``: an entity's name from its id)."""
        counts = dict.fromkeys(self.boxes, 0)
        waiting: list[Alarm] = []
        for alarm in alarms:
            if not self._counts_for(alarm.severity):
                continue
            if alarm.state.is_active:
                counts[alarm.severity] += 1
            if alarm.state.needs_ack:
                waiting.append(alarm)
        self.counts = counts
        for severity, box in self.boxes.items():
            box.set_count(counts[severity])
        waiting.sort(key=lambda a: (priority_of(a.severity), -a.raised_at))
        for index, line in enumerate(self.lines):
            if index >= len(waiting):
                line.setText("")
                continue
            alarm = waiting[index]
            name = name_of(alarm.entity_id) if name_of is not None else alarm.entity_id
            line.setText(
                translate("AlarmSummary", "{time}  {priority}  {entity}: {message}").format(
                    time=format_clock(alarm.raised_at),
                    priority=severity_text(alarm.severity),
                    entity=name,
                    message=alarm.message or alarm.metric,
                )
            )
        self.waiting_heading.setVisible(bool(waiting))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_type()

    def _fit_type(self) -> None:
        """Type in proportion to the widget: large on a wall page, modest in a cell."""
        height, width = max(1, self.height()), max(1, self.width())
        columns = max(1, len(self.boxes))
        number_px = int(min(height * COUNT_HEIGHT_SHARE, width / columns / 2.2))
        text_px = max(11, min(number_px // 4, int(height / 40)))
        for box in self.boxes.values():
            box.set_sizes(number_px, max(11, number_px // 3))
        heading_font = self.heading.font()
        heading_font.setPixelSize(max(12, int(text_px * 1.3)))
        heading_font.setBold(True)
        self.heading.setFont(heading_font)
        for label in (self.waiting_heading, *self.lines):
            font = label.font()
            font.setPixelSize(text_px)
            label.setFont(font)
