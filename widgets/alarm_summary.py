"""The alarm summary of dashboards and walls: the active alarms counted per priority in
large type (a count's box coloured only when it is not zero, and always in words), and the
newest alarms waiting for acknowledgement listed under it.

Its type grows with the widget, so the same view reads from a desk and from across a room.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from services.model import Alarm, AlarmState, Severity, priority_of
from widgets.format import format_clock
from widgets.i18n import translate
from widgets.palette import current_theme, text_color_for
from widgets.plain_text import plain_label
from widgets.terms import severity_text

log = logging.getLogger(__name__)

WAITING_LINES = 8
"""Alarms waiting for acknowledgement listed under the counts (newest first)."""
ACTIVE_STATES = frozenset(state for state in AlarmState if state.is_active)
"""The states counted in the boxes."""
NEEDS_ACK_STATES = frozenset(state for state in AlarmState if state.needs_ack)
"""The states listed as waiting for acknowledgement."""
PRIORITIES = {severity: priority_of(severity) for severity in Severity}
"""Each severity's priority, looked up once."""
MIN_WIDTH, MIN_HEIGHT = 160, 120
"""The least room it asks for: its type shrinks to fit anything larger."""
COUNT_HEIGHT_SHARE = 0.22
"""A count's digits are this share of the widget's height (within the box's width)."""


class _CountBox(QFrame):
    """One priority's count and its word."""

    def __init__(self, severity: Severity, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.severity = severity
        self.setObjectName(f"alarmCount-{severity.label}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(0)
        self.number = plain_label("0")
        self.number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.word = plain_label(severity_text(severity))
        self.word.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for label in (self.number, self.word):  # the type fits the box, never the reverse
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        layout.addWidget(self.number, 3)
        layout.addWidget(self.word, 1)
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
        _set_pixels(self.number, number_px, bold=True)
        _set_pixels(self.word, word_px)


class AlarmSummary(QFrame):
    """The active alarms counted by priority (those of ``most_urgent`` or more urgent when
    given), and the newest waiting for acknowledgement."""

    def __init__(
        self, title: str, most_urgent: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("alarmSummary")
        self._most = most_urgent
        # No layout: _arrange places everything, its type following its size (a layout
        # would let the type's size make the widget larger).
        self.heading = plain_label(title or translate("AlarmSummary", "Active alarms"), self)
        self.boxes: dict[Severity, _CountBox] = {}
        for severity in sorted(Severity, reverse=True):
            if self._counts_for(severity):
                self.boxes[severity] = _CountBox(severity, self)
        self.waiting_heading = plain_label(
            translate("AlarmSummary", "Newest waiting for acknowledgement"), self
        )
        self.lines: list[QLabel] = []
        for _ in range(WAITING_LINES):
            line = plain_label("", self)
            line.setTextFormat(Qt.TextFormat.PlainText)
            self.lines.append(line)
        self.counts: dict[Severity, int] = dict.fromkeys(self.boxes, 0)
        self._fitting_lines = WAITING_LINES
        self._arrange()

    def _counts_for(self, severity: Severity) -> bool:
        return self._most is None or priority_of(severity) <= self._most

    def show_alarms(
        self, alarms: Iterable[Alarm], name_of: Callable[[str], str] | None = None
    ) -> None:
        """Count the active alarms and list the newest waiting for acknowledgement
        (``name_of``: an entity's name from its id)."""
        counts = dict.fromkeys(self.boxes, 0)
        waiting: list[Alarm] = []
        for alarm in alarms:  # thousands on a busy day: sets, not the states' properties
            if alarm.severity not in counts:
                continue
            if alarm.state in ACTIVE_STATES:
                counts[alarm.severity] += 1
            if alarm.state in NEEDS_ACK_STATES:
                waiting.append(alarm)
        self.counts = counts
        for severity, box in self.boxes.items():
            box.set_count(counts[severity])
        # The first few only, as a full sort would order them (most urgent, then newest).
        waiting = heapq.nsmallest(
            len(self.lines), waiting, key=lambda a: (PRIORITIES[a.severity], -a.raised_at)
        )
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
        self.waiting_heading.setVisible(bool(waiting) and self._fitting_lines > 0)

    def minimumSizeHint(self) -> QSize:
        return QSize(MIN_WIDTH, MIN_HEIGHT)

    def sizeHint(self) -> QSize:
        return QSize(4 * MIN_WIDTH, 3 * MIN_HEIGHT)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        """Type in proportion to the widget (large on a wall page, modest in a cell): the
        counts in a row, the waiting alarms listed under them as far as they fit."""
        height, width = max(1, self.height()), max(1, self.width())
        margin, gap = 6, 8
        columns = max(1, len(self.boxes))
        number_px = max(12, int(min(height * COUNT_HEIGHT_SHARE, width / columns / 2.2)))
        word_px = max(11, number_px // 3)
        text_px = max(12, min(number_px // 3, int(height / 20)))
        line_height = int(text_px * 1.5)
        heading_px = max(12, int(text_px * 1.3))
        _set_pixels(self.heading, heading_px, bold=True)
        top = margin
        self.heading.setGeometry(margin, top, width - 2 * margin, int(heading_px * 1.5))
        top += int(heading_px * 1.5) + gap // 2
        box_height = int(number_px * 1.35 + word_px * 1.5 + 16)
        box_width = (width - 2 * margin - gap * (columns - 1)) // columns
        for index, box in enumerate(self.boxes.values()):
            box.set_sizes(number_px, word_px)
            box.setGeometry(margin + index * (box_width + gap), top, box_width, box_height)
        top += box_height + gap
        _set_pixels(self.waiting_heading, text_px)
        self.waiting_heading.setGeometry(margin, top, width - 2 * margin, line_height)
        top += line_height
        self._fitting_lines = max(0, min(len(self.lines), (height - margin - top) // line_height))
        for index, line in enumerate(self.lines):
            _set_pixels(line, text_px)
            line.setGeometry(margin, top + index * line_height, width - 2 * margin, line_height)
            line.setVisible(index < self._fitting_lines)
        self.waiting_heading.setVisible(self._fitting_lines > 0 and bool(self.lines[0].text()))


def _set_pixels(label: QLabel, pixels: int, bold: bool = False) -> None:
    font = label.font()
    font.setPixelSize(max(8, pixels))
    font.setBold(bold)
    label.setFont(font)
