"""Threshold rules and the ISA-18.2 alarm store."""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace

from services.config import RuleConfig
from services.model import (
    THRESHOLD_CONDITIONS,
    Alarm,
    AlarmState,
    Condition,
    Reading,
    Severity,
    alarm_id,
)

_NO_RULE = object()


def _band_active(
    condition: Condition, limit: float, value: float, was_active: bool, deadband: float
) -> bool:
    """Whether ``value`` is in the band, holding an active alarm until it clears the deadband."""
    if condition in (Condition.HIGH, Condition.HIGH_HIGH):
        return value > (limit - deadband if was_active else limit)
    return value < (limit + deadband if was_active else limit)


class AlarmStore:
    """Evaluates threshold rules on readings and keeps one alarm per source and condition.

    Called from the ingest worker (``evaluate``) and the GUI thread (``acknowledge``);
    a lock keeps both consistent. Methods return copies of the alarms that changed.
    """

    def __init__(self, rules: Sequence[RuleConfig]) -> None:
        self._rules = list(rules)
        self._rule_for: dict[tuple[str, str], RuleConfig | object] = {}
        self._metrics = {rule.metric for rule in self._rules}
        self._alarms: dict[str, Alarm] = {}
        self._by_entity: dict[str, dict[str, Alarm]] = {}
        self._lock = threading.Lock()

    def restore(self, alarms: Iterable[Alarm]) -> None:
        """Take over alarms loaded from the offline cache."""
        with self._lock:
            for alarm in alarms:
                self._put(alarm)

    def _put(self, alarm: Alarm) -> None:
        self._alarms[alarm.id] = alarm
        self._by_entity.setdefault(alarm.entity_id, {})[alarm.id] = alarm

    def _rule(self, entity_id: str, metric: str) -> RuleConfig | None:
        key = (entity_id, metric)
        rule = self._rule_for.get(key)
        if rule is None:
            rule = next(
                (
                    candidate
                    for candidate in self._rules
                    if candidate.metric == metric
                    and (
                        candidate.entity == "*" or fnmatch.fnmatchcase(entity_id, candidate.entity)
                    )
                ),
                _NO_RULE,
            )
            self._rule_for[key] = rule
        return rule if isinstance(rule, RuleConfig) else None

    def evaluate(self, readings: Iterable[Reading]) -> list[Alarm]:
        """Apply readings to the rules; returns the alarms whose state changed."""
        changed: dict[str, Alarm] = {}
        with self._lock:
            for reading in readings:
                if reading.metric not in self._metrics:
                    continue
                rule = self._rule(reading.entity_id, reading.metric)
                if rule is None:
                    continue
                for condition in THRESHOLD_CONDITIONS:
                    limit = getattr(rule, condition.value)
                    if limit is None:
                        continue
                    alarm = self._transition(reading, rule, condition, limit)
                    if alarm is not None:
                        changed[alarm.id] = replace(alarm)
        return list(changed.values())

    def _transition(
        self, reading: Reading, rule: RuleConfig, condition: Condition, limit: float
    ) -> Alarm | None:
        key = alarm_id(reading.entity_id, reading.metric, condition)
        alarm = self._alarms.get(key)
        was_active = alarm is not None and alarm.state.is_active
        active = _band_active(condition, limit, reading.value, was_active, rule.deadband)
        if active == was_active:
            return None
        if active:
            severity = rule.severities.get(condition.value, Severity.MEDIUM)
            if alarm is None:
                alarm = Alarm(
                    entity_id=reading.entity_id,
                    metric=reading.metric,
                    condition=condition,
                    severity=severity,
                    state=AlarmState.UNACKNOWLEDGED,
                    value=reading.value,
                    threshold=limit,
                    raised_at=reading.ts,
                    updated_at=reading.ts,
                    count=1,
                )
                self._put(alarm)
                return alarm
            if alarm.state in (AlarmState.NORMAL, AlarmState.RTN_UNACKNOWLEDGED):
                if alarm.state is AlarmState.NORMAL:
                    alarm.raised_at = reading.ts
                    alarm.acked_at = None
                    alarm.acked_by = ""
                alarm.state = AlarmState.UNACKNOWLEDGED
                alarm.count += 1
                alarm.severity = severity
                alarm.value = reading.value
                alarm.threshold = limit
                alarm.updated_at = reading.ts
                return alarm
            return None
        assert alarm is not None
        if alarm.state is AlarmState.UNACKNOWLEDGED:
            alarm.state = AlarmState.RTN_UNACKNOWLEDGED
        elif alarm.state is AlarmState.ACKNOWLEDGED:
            alarm.state = AlarmState.NORMAL
        else:
            return None
        alarm.updated_at = reading.ts
        return alarm

    def acknowledge(self, alarm_ids: Iterable[str], user: str, now: float) -> list[Alarm]:
        """Acknowledge alarms that need it; returns copies of those that changed."""
        changed: list[Alarm] = []
        with self._lock:
            for key in alarm_ids:
                alarm = self._alarms.get(key)
                if alarm is None or not alarm.state.needs_ack:
                    continue
                alarm.state = (
                    AlarmState.ACKNOWLEDGED
                    if alarm.state is AlarmState.UNACKNOWLEDGED
                    else AlarmState.NORMAL
                )
                alarm.acked_at = now
                alarm.acked_by = user
                alarm.updated_at = now
                changed.append(replace(alarm))
        return changed

    def rollback(self, previous: Iterable[Alarm]) -> None:
        """Put back alarm versions after an action could not be saved."""
        with self._lock:
            for alarm in previous:
                self._put(replace(alarm))

    def get(self, key: str) -> Alarm | None:
        with self._lock:
            alarm = self._alarms.get(key)
            return None if alarm is None else replace(alarm)

    def alarms(self) -> list[Alarm]:
        """Copies of every alarm known."""
        with self._lock:
            return [replace(alarm) for alarm in self._alarms.values()]

    def worst_active_severity(self, entity_id: str) -> Severity | None:
        """The most severe active alarm of an entity, or None."""
        with self._lock:
            severities = [
                alarm.severity
                for alarm in self._by_entity.get(entity_id, {}).values()
                if alarm.state.is_active
            ]
        return max(severities) if severities else None
