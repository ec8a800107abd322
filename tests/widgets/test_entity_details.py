"""The entity details panel: an alarm's guidance (what to do) is shown under it."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from services.model import Alarm, AlarmState, Condition, Entity, Severity
from widgets.entity_details import EntityDetails, EntityView

ALARM = Alarm("wl-1", "level", Condition.HIGH, Severity.HIGH, AlarmState.UNACKNOWLEDGED,
              4.6, 4.0, 100.0, 100.0)  # fmt: skip


def lines(details: EntityDetails) -> list[str]:
    return [details.alarms.item(row).text() for row in range(details.alarms.count())]


def test_guidance_is_shown_under_its_alarm_and_only_there(qtbot: QtBot) -> None:
    details = EntityDetails(clock=lambda: 130.0)
    qtbot.addWidget(details)
    entity = Entity("wl-1", "Ziyang gauge", lat=28.6, lon=112.3, updated_at=100.0)
    details.show_entity(
        EntityView(entity, alarms=[ALARM], guidance={ALARM.id: "Start the pumps at Ziyang"})
    )
    shown = lines(details)
    assert len(shown) == 2 and "level" in shown[0]
    assert "Start the pumps at Ziyang" in shown[1] and details.alarms.item(1).font().italic()

    details.show_entity(EntityView(entity, alarms=[ALARM]))
    assert len(lines(details)) == 1
