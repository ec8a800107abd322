"""The wall's priority-1 interruption: which new priority-1 alarms stop the rotation (plain
logic, :class:`PriorityOneWatch`) and the page that shows them (:class:`InterruptionPage`).

A priority-1 alarm is new when it is raised after the wall started watching; the ones
already waiting at the start do not interrupt. It interrupts while it waits for
acknowledgement (also after returning to normal unacknowledged), until someone acknowledges
it at any workstation (the actions are shared through the broker), it is shelved, or
``timeout`` seconds have passed; each occurrence interrupts once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from services.model import Alarm, AlarmState, Severity, priority_of
from widgets.format import format_alarm_amount, format_clock
from widgets.i18n import translate
from widgets.palette import SEVERITY_COLORS, text_color_for
from widgets.plain_text import plain_label
from widgets.terms import severity_text

log = logging.getLogger(__name__)

MAX_ALARMS_SHOWN = 4
"""Priority-1 alarms listed on the interruption page (the rest counted)."""


@dataclass(frozen=True, slots=True)
class Interrupting:
    """A priority-1 alarm holding the wall, since ``since`` (the wall's clock)."""

    alarm: Alarm
    since: float


class PriorityOneWatch:
    """Follows the alarms the wall's window shows and says which interrupt the rotation.

    An occurrence of an alarm (its id and when it was raised) interrupts once: a timed-out
    one does not come back by going in and out of its limit; it may again once that
    occurrence is over (normal, or raised anew).
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._known: set[tuple[str, float]] | None = None
        """Occurrences that already interrupted, or were there at the wall's first look."""
        self._since: dict[tuple[str, float], float] = {}

    def update(self, alarms: Iterable[Alarm], now: float) -> list[Interrupting]:
        """The alarms interrupting now, newest first."""
        present: set[tuple[str, float]] = set()
        waiting: dict[tuple[str, float], Alarm] = {}
        for alarm in alarms:
            if alarm.state is AlarmState.NORMAL:
                continue
            key = (alarm.id, alarm.raised_at)
            present.add(key)
            if (
                priority_of(alarm.severity) == 1
                and alarm.state.needs_ack
                and not alarm.state.is_hidden
            ):
                waiting[key] = alarm
        if self._known is None:  # the wall's first look: what waits already is not new
            self._known = set(waiting)
        for key in waiting.keys() - self._known:
            self._known.add(key)
            self._since[key] = now
            log.info("kiosk: priority-1 alarm %s interrupts the rotation", key[0])
        self._known &= present  # an occurrence that is over may interrupt when raised anew
        for key, since in list(self._since.items()):
            if key not in waiting or now - since >= self.timeout:
                reason = "acknowledged or gone" if key not in waiting else "timed out"
                log.info("kiosk: priority-1 alarm %s no longer interrupts (%s)", key[0], reason)
                del self._since[key]
        return sorted(
            (Interrupting(waiting[key], since) for key, since in self._since.items()),
            key=lambda item: (-item.since, -item.alarm.raised_at),
        )


class InterruptionPage(QFrame):
    """The page a priority-1 alarm puts on the wall: the alarms in words, large."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("kioskInterruption")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 32, 48, 32)
        self.heading = plain_label("")
        self.heading.setObjectName("kioskInterruptionHeading")
        self.heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        heading_font = self.heading.font()
        heading_font.setBold(True)
        heading_font.setPointSizeF(heading_font.pointSizeF() * 2.5)
        self.heading.setFont(heading_font)
        background = SEVERITY_COLORS[Severity.CRITICAL]
        self.heading.setStyleSheet(
            f"background:{background};color:{text_color_for(background)};padding:16px;"
        )
        layout.addWidget(self.heading)
        self.lines: list[QLabel] = []
        for _ in range(MAX_ALARMS_SHOWN):
            line = plain_label("")
            line.setWordWrap(True)
            line_font = line.font()
            line_font.setPointSizeF(line_font.pointSizeF() * 2.2)
            line.setFont(line_font)
            layout.addWidget(line)
            self.lines.append(line)
        self.more = plain_label("")
        layout.addWidget(self.more)
        layout.addStretch(1)
        self.footer = plain_label("")
        self.footer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        footer_font = self.footer.font()
        footer_font.setPointSizeF(footer_font.pointSizeF() * 1.4)
        self.footer.setFont(footer_font)
        layout.addWidget(self.footer)

    def show_alarms(
        self, interrupting: list[Interrupting], name_of: Callable[[str], str], timeout: float
    ) -> None:
        """Show the interrupting alarms (newest first) and until when they hold the wall."""
        self.heading.setText(
            translate("Kiosk", "PRIORITY 1 ALARM — {priority}").format(
                priority=severity_text(Severity.CRITICAL)
            )
            if len(interrupting) == 1
            else translate("Kiosk", "{count} PRIORITY 1 ALARMS — {priority}").format(
                count=len(interrupting), priority=severity_text(Severity.CRITICAL)
            )
        )
        for line, item in zip(self.lines, [*interrupting, *[None] * len(self.lines)], strict=False):
            line.setVisible(item is not None)
            if item is not None:
                line.setText(_alarm_line(item.alarm, name_of(item.alarm.entity_id)))
        hidden = len(interrupting) - len(self.lines)
        self.more.setText(
            translate("Kiosk", "and {count} more").format(count=hidden) if hidden > 0 else ""
        )
        latest = max((item.since for item in interrupting), default=0.0)
        self.footer.setText(
            translate(
                "Kiosk",
                "Waiting for acknowledgement at a workstation — the rotation goes on at "
                "{time} at the latest",
            ).format(time=format_clock(latest + timeout))
        )

    def texts(self) -> list[str]:
        """The heading and the alarm lines shown (for checks)."""
        return [self.heading.text(), *(line.text() for line in self.lines if line.text())]


def _alarm_line(alarm: Alarm, name: str) -> str:
    return translate("Kiosk", "{time}  {entity}: {message} ({amount})").format(
        time=format_clock(alarm.raised_at),
        entity=name,
        message=alarm.message or alarm.metric,
        amount=format_alarm_amount(alarm, alarm.value),
    )
