"""A PM2.5 high alarm to feed to views and annunciation, varied by what a test needs."""

from __future__ import annotations

from services.model import Alarm, AlarmState, Condition, Severity


def pm25_alarm(
    entity: str,
    severity: Severity = Severity.MEDIUM,
    state: AlarmState = AlarmState.UNACKNOWLEDGED,
    *,
    count: int = 1,
    revision: int = 1,
) -> Alarm:
    """``entity``'s PM2.5 high alarm at 80 against 75, raised at t=100."""
    return Alarm(
        entity_id=entity,
        metric="pm25",
        condition=Condition.HIGH,
        severity=severity,
        state=state,
        value=80.0,
        threshold=75.0,
        raised_at=100.0,
        updated_at=100.0,
        count=count,
        revision=revision,
    )
