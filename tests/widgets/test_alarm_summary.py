"""The alarm summary: counts per priority in words, a count's box coloured only when it is
not zero, the newest alarms waiting for acknowledgement, type that grows with the widget."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from pytestqt.qtbot import QtBot

from services.model import Alarm, AlarmState, Condition, Severity
from tests.helpers.pixels import close
from widgets.alarm_summary import WAITING_LINES, AlarmSummary
from widgets.palette import Theme

T0 = 1_800_000_000.0


def alarm(entity: str, severity: Severity, state: AlarmState, raised: float) -> Alarm:
    return Alarm(
        entity,
        "pm25",
        Condition.HIGH,
        severity,
        state,
        90.0,
        75.0,
        raised,
        raised,
        message="PM2.5 high",
    )


ALARMS = [
    alarm("aq-1", Severity.CRITICAL, AlarmState.UNACKNOWLEDGED, T0),
    alarm("aq-2", Severity.CRITICAL, AlarmState.ACKNOWLEDGED, T0 + 5),
    alarm("aq-3", Severity.MEDIUM, AlarmState.UNACKNOWLEDGED, T0 + 10),
    alarm("aq-4", Severity.LOW, AlarmState.RTN_UNACKNOWLEDGED, T0 + 20),  # cleared: not counted
    alarm("aq-5", Severity.HIGH, AlarmState.SHELVED, T0 + 30),  # shelved: neither
]


def test_counts_in_words_and_colour_only_where_there_are_alarms(qtbot: QtBot, theme: Theme) -> None:
    summary = AlarmSummary("Active alarms")
    qtbot.addWidget(summary)
    summary.resize(1200, 700)
    summary.show_alarms(ALARMS, lambda key: {"aq-1": "Taohualun"}.get(key, key))
    assert summary.counts == {
        Severity.CRITICAL: 2,
        Severity.HIGH: 0,
        Severity.MEDIUM: 1,
        Severity.LOW: 0,
    }
    boxes = summary.boxes
    assert [boxes[s].word.text() for s in boxes] == ["Critical", "High", "Medium", "Low"]
    assert [boxes[s].number.text() for s in boxes] == ["2", "0", "1", "0"]
    lines = [line.text() for line in summary.lines if line.text()]
    # Waiting for acknowledgement, most urgent first: the cleared one too, not the others.
    assert len(lines) == 3
    assert "Critical  Taohualun: PM2.5 high" in lines[0]
    assert "Medium  aq-3" in lines[1] and "Low  aq-4" in lines[2]
    summary.show()
    image = summary.grab().toImage()
    critical, high = boxes[Severity.CRITICAL], boxes[Severity.HIGH]
    inside_critical = critical.mapTo(summary, QPoint(6, critical.height() // 2))
    inside_high = high.mapTo(summary, QPoint(6, high.height() // 2))
    assert close(image.pixelColor(inside_critical), theme.severity(Severity.CRITICAL))
    assert not close(image.pixelColor(inside_high), theme.severity(Severity.HIGH))


def test_a_priority_filter_and_type_that_grows_with_the_widget(qtbot: QtBot) -> None:
    summary = AlarmSummary("Urgent", most_urgent=2)
    qtbot.addWidget(summary)
    summary.show_alarms(ALARMS)
    assert list(summary.counts) == [Severity.CRITICAL, Severity.HIGH]
    assert next(line.text() for line in summary.lines if line.text()).endswith("aq-1: PM2.5 high")
    summary.show()
    summary.resize(400, 250)
    small = summary.boxes[Severity.CRITICAL].number.font().pixelSize()
    summary.resize(1900, 1000)
    large = summary.boxes[Severity.CRITICAL].number.font().pixelSize()
    assert large > 2 * small
    assert len(summary.lines) == WAITING_LINES


def test_many_waiting_alarms_list_the_most_urgent_then_newest(qtbot: QtBot) -> None:
    summary = AlarmSummary("Active alarms")
    qtbot.addWidget(summary)
    summary.resize(1200, 1400)  # room for every line
    severities = [Severity.LOW, Severity.HIGH, Severity.CRITICAL, Severity.MEDIUM]
    states = [AlarmState.UNACKNOWLEDGED, AlarmState.RTN_UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED]
    many = [
        alarm(f"aq-{n:03d}", severities[n * 7 % 4], states[n % 3], T0 + (n * 37) % 101)
        for n in range(300)
    ]
    summary.show_alarms(many)
    waiting = sorted(
        (a for a in many if a.state is not AlarmState.ACKNOWLEDGED),
        key=lambda a: (-int(a.severity), -a.raised_at),
    )[:WAITING_LINES]
    assert [line.text().split("  ")[2].split(":")[0] for line in summary.lines] == [
        a.entity_id for a in waiting
    ]
    assert summary.counts[Severity.CRITICAL] == sum(
        1 for a in many if a.severity is Severity.CRITICAL and a.state.is_active
    )
