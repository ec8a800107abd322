"""Threshold rules and the ISA-18.2 alarm store."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from services.alarms.geofence import GeofenceEvaluator, Positioned, geofence_message
from services.alarms.hiding import (
    SuppressionWatch,
    remove_from_service,
    restamp_out_of_service,
    return_to_service,
    suppress,
    unsuppress,
)
from services.alarms.lifecycle import AlarmEvent, next_state
from services.config import GeofenceConfig, RuleConfig, rule_for
from services.decoders.base import ExternalAlarm
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
FEED_SOURCE_PREFIX = "feed:"
"""Before a feed's name, as the source of its "no data" alarm."""


def _band_active(
    condition: Condition, limit: float, value: float, was_active: bool, deadband: float
) -> bool:
    """Whether ``value`` is in the band, holding an active alarm until it clears the deadband."""
    if condition in (Condition.HIGH, Condition.HIGH_HIGH):
        return value > (limit - deadband if was_active else limit)
    return value < (limit + deadband if was_active else limit)


def _return_to_normal(alarm: Alarm, now: float, *, latched: bool = False) -> bool:
    """The alarm condition has gone (see the life-cycle table); False when nothing changed.
    A shelved alarm stays shelved, unless it was shelved until it clears; a ``latched`` one
    waits for acknowledgement even if it was acknowledged."""
    if alarm.state.is_hidden and not alarm.shelved_active:
        return False
    state = next_state(alarm.state, AlarmEvent.CLEAR_LATCHED if latched else AlarmEvent.CLEAR)
    if state is None:
        return False
    alarm.state = state
    alarm.updated_at = now
    alarm.shelved_active = False
    if state is AlarmState.SHELVED and alarm.shelved_until == math.inf:
        _unshelve(alarm)
    return True


def _rule_texts(rule: RuleConfig, condition: Condition) -> tuple[Severity, str]:
    """The severity and message a rule gives its alarms of ``condition``."""
    return rule.severities.get(condition.value, Severity.MEDIUM), rule.description


def _new_occurrence(alarm: Alarm) -> None:
    """Forget what operators did to the previous occurrence (its acknowledgement,
    assignment and comments stay in the actions table)."""
    alarm.acked_at = None
    alarm.acked_by = ""
    alarm.assignee = ""
    alarm.assigned_at = 0.0
    alarm.comments = 0


def _unshelve(alarm: Alarm) -> None:
    """End the shelving: back to unacknowledged if the condition is present, else normal."""
    event = AlarmEvent.UNSHELVE if alarm.shelved_active else AlarmEvent.UNSHELVE_CLEARED
    state = next_state(alarm.state, event)
    assert state is not None
    alarm.state = state
    alarm.shelved_until = None
    alarm.shelved_by = ""
    alarm.shelve_note = ""
    alarm.shelved_active = False
    if state is AlarmState.UNACKNOWLEDGED:
        alarm.acked_at = None
        alarm.acked_by = ""


class AlarmStore:
    """Evaluates threshold rules on readings and keeps one alarm per source and condition.

    Written only by the ingest worker (rules, external alarms, operator commands); other
    threads may read it under its lock. Every change bumps the alarm's ``revision``, and
    methods return copies of the alarms that changed.
    """

    def __init__(
        self, rules: Sequence[RuleConfig], geofences: Sequence[GeofenceConfig] = ()
    ) -> None:
        self._rules = list(rules)
        self._geofences = GeofenceEvaluator(geofences)
        self._rule_for: dict[tuple[str, str], RuleConfig | object] = {}
        self._metrics = {rule.metric for rule in self._rules}
        self._alarms: dict[str, Alarm] = {}
        self._by_entity: dict[str, dict[str, Alarm]] = {}
        self._external_sources: dict[str, str] = {}
        self._expiry: dict[str, float] = {}
        self._evaluated: dict[tuple[str, str], float] = {}
        """The time of the newest reading evaluated per source (entity, metric)."""
        self._rate_history: dict[tuple[str, str], deque[tuple[float, float]]] = {}
        """Per source with a rate rule: (time, value) of the readings in its window."""
        self._silence_watch: dict[tuple[str, str], RuleConfig] = {}
        """Sources whose rule raises a no-data alarm, with that rule."""
        self._pending: dict[str, tuple[bool, float, int]] = {}
        """Band changes waiting for their delay: (new side, since when, readings so far)."""
        self._suppression = SuppressionWatch(self._rules)
        self._revision = 0
        self._unpublished: dict[str, Alarm] = {}
        self.keep_history = False
        """Whether :meth:`take_history` collects every version (the ingest worker drains it)."""
        self._history: list[Alarm] = []
        self._lock = threading.Lock()

    def restore(
        self,
        alarms: Iterable[Alarm],
        latest: Iterable[Reading] = (),
        revision_floor: int = 0,
    ) -> None:
        """Take over alarms loaded from the offline cache.

        ``latest`` are the newest readings known, so that a reading sent again after a
        restart is not evaluated anew; ``revision_floor`` is the highest revision the cache
        holds (of any alarm, cleared ones included), so that every later change has a
        higher revision than anything stored.
        """
        with self._lock:
            for alarm in alarms:
                self._put(alarm)
                self._revision = max(self._revision, alarm.revision)
            self._revision = max(self._revision, revision_floor)
            for reading in latest:
                source = (reading.entity_id, reading.metric)
                self._evaluated[source] = max(reading.ts, self._evaluated.get(source, reading.ts))
                rule = self._rule(*source) if reading.metric in self._metrics else None
                if rule is not None and rule.no_data_after is not None:
                    self._silence_watch[source] = rule

    def _bumped(self, alarm: Alarm) -> Alarm:
        """Record that ``alarm`` changed (a new revision, higher than any other alarm's so
        far) and return a copy for consumers. The lock is held."""
        self._revision += 1
        alarm.revision = self._revision
        copy = replace(alarm)
        self._unpublished[alarm.id] = copy
        if self.keep_history:
            self._history.append(copy)
        return copy

    def take_history(self) -> list[Alarm]:
        """Every version of every alarm changed since the last call, in order (with
        ``keep_history``: the alarm journal records each transition, also those that
        happened within one batch)."""
        with self._lock:
            history, self._history = self._history, []
        return history

    def take_unpublished(self) -> list[Alarm]:
        """Copies of the alarms changed since the last call (the caller publishes those it
        did not get from a method's return value, e.g. after a failed batch)."""
        with self._lock:
            changed, self._unpublished = list(self._unpublished.values()), {}
        return changed

    def _put(self, alarm: Alarm) -> None:
        self._alarms[alarm.id] = alarm
        self._by_entity.setdefault(alarm.entity_id, {})[alarm.id] = alarm

    def _rule(self, entity_id: str, metric: str) -> RuleConfig | None:
        key = (entity_id, metric)
        rule = self._rule_for.get(key)
        if rule is None:
            rule = rule_for(self._rules, entity_id, metric) or _NO_RULE
            self._rule_for[key] = rule
        return rule if isinstance(rule, RuleConfig) else None

    def evaluate(self, readings: Iterable[Reading]) -> list[Alarm]:
        """Apply readings to the rules, then their ``suppressed_when``; returns the alarms
        whose state changed."""
        changed: dict[str, Alarm] = {}
        watched: set[str] = set()
        newest = 0.0
        with self._lock:
            for reading in readings:
                newest = max(newest, reading.ts)
                if self._suppression.note(reading):
                    watched.add(reading.entity_id)
                if reading.metric not in self._metrics:
                    continue
                rule = self._rule(reading.entity_id, reading.metric)
                if rule is None:
                    continue
                source = (reading.entity_id, reading.metric)
                last = self._evaluated.get(source)
                if last is not None and reading.ts <= last:
                    continue  # a repeat (redelivery) or an older reading: state stays
                self._evaluated[source] = reading.ts
                if rule.rate_limit is not None:
                    alarm = self._rate_transition(reading, rule)
                    if alarm is not None:
                        changed[alarm.id] = self._bumped(alarm)
                if rule.no_data_after is not None:
                    self._silence_watch[source] = rule
                    heard = self._clear(alarm_id(*source, Condition.NO_DATA), reading.ts)
                    if heard is not None:
                        changed[heard.id] = self._bumped(heard)
                for condition in THRESHOLD_CONDITIONS:
                    limit = getattr(rule, condition.value)
                    if limit is None:
                        continue
                    alarm = self._transition(reading, rule, condition, limit)
                    if alarm is not None:
                        changed[alarm.id] = self._bumped(alarm)
            if self._suppression.metrics:
                entities = watched | {alarm.entity_id for alarm in changed.values()}
                for alarm in self._apply_suppression(entities, now=newest):
                    changed[alarm.id] = alarm
        return list(changed.values())

    def _apply_suppression(self, entity_ids: Iterable[str], now: float) -> list[Alarm]:
        """Suppress or unsuppress the rule alarms of these entities as their rules'
        ``suppressed_when`` say now. The lock is held."""
        changed = []
        for entity_id in entity_ids:
            for alarm in list(self._by_entity.get(entity_id, {}).values()):
                if alarm.condition in (Condition.EXTERNAL, Condition.GEOFENCE):
                    continue
                rule = self._rule(entity_id, alarm.metric)
                if self._suppression.holds(entity_id, rule):
                    done = alarm.state is not AlarmState.SUPPRESSED and suppress(alarm, now)
                else:
                    done = alarm.state is AlarmState.SUPPRESSED and unsuppress(alarm, now)
                if done:
                    changed.append(self._bumped(alarm))
        return changed

    def _transition(
        self, reading: Reading, rule: RuleConfig, condition: Condition, limit: float
    ) -> Alarm | None:
        key = alarm_id(reading.entity_id, reading.metric, condition)
        alarm = self._alarms.get(key)
        was_active = alarm is not None and alarm.condition_present
        active = _band_active(condition, limit, reading.value, was_active, rule.deadband)
        if not self._held(key, active, was_active, reading.ts, rule):
            return None
        if active:
            return self._raise(
                reading.entity_id,
                reading.metric,
                condition,
                *_rule_texts(rule, condition),
                value=reading.value,
                limit=limit,
                ts=reading.ts,
            )
        assert alarm is not None
        return alarm if _return_to_normal(alarm, reading.ts, latched=rule.latch) else None

    def _rate_transition(self, reading: Reading, rule: RuleConfig) -> Alarm | None:
        """Measure the rate of change over the rule's window (per minute, from the oldest
        reading kept to this one) and raise or clear its alarm; nothing until the readings
        span half the window."""
        assert rule.rate_limit is not None
        source = (reading.entity_id, reading.metric)
        history = self._rate_history.setdefault(source, deque())
        history.append((reading.ts, reading.value))
        while len(history) > 2 and history[1][0] <= reading.ts - rule.rate_window:
            history.popleft()
        first_ts, first_value = history[0]
        span = reading.ts - first_ts
        if span < rule.rate_window / 2:
            return None
        rate = (reading.value - first_value) / span * 60.0
        key = alarm_id(*source, Condition.RATE)
        alarm = self._alarms.get(key)
        was_active = alarm is not None and alarm.condition_present
        active = abs(rate) > rule.rate_limit
        if not self._held(key, active, was_active, reading.ts, rule):
            return None
        if active:
            return self._raise(
                *source,
                Condition.RATE,
                *_rule_texts(rule, Condition.RATE),
                value=rate,
                limit=rule.rate_limit,
                ts=reading.ts,
            )
        assert alarm is not None
        return alarm if _return_to_normal(alarm, reading.ts, latched=rule.latch) else None

    def _raise(
        self,
        entity_id: str,
        metric: str,
        condition: Condition,
        severity: Severity,
        message: str,
        *,
        value: float,
        limit: float,
        ts: float,
    ) -> Alarm | None:
        """Raise the alarm of a source and condition (see the life-cycle table): a new
        alarm, a new occurrence of a normal one, or the same occurrence again."""
        key = alarm_id(entity_id, metric, condition)
        alarm = self._alarms.get(key)
        if alarm is None:
            alarm = Alarm(
                entity_id=entity_id,
                metric=metric,
                condition=condition,
                severity=severity,
                state=AlarmState.UNACKNOWLEDGED,
                value=value,
                threshold=limit,
                raised_at=ts,
                updated_at=ts,
                count=1,
                message=message,
            )
            self._put(alarm)
            return alarm
        state = next_state(alarm.state, AlarmEvent.RAISE)
        if state is None or (state.is_hidden and alarm.shelved_active):
            return None
        alarm.shelved_active = state.is_hidden
        if alarm.state is AlarmState.NORMAL:  # a new occurrence of the same alarm
            alarm.raised_at = ts
            _new_occurrence(alarm)
        alarm.state = state
        alarm.count += 1
        alarm.severity = severity
        alarm.value = value
        alarm.threshold = limit
        alarm.updated_at = ts
        alarm.message = message
        return alarm

    def evaluate_positions(self, entities: Iterable[Positioned]) -> list[Alarm]:
        """Apply entity updates (position and update time) to the geofences: raise or clear
        their ``geofence`` alarms (metric: the geofence's name; value 1 inside, 0 outside);
        returns the alarms that changed. See :mod:`services.alarms.geofence` for when."""
        if not self._geofences:
            return []
        changed: dict[str, Alarm] = {}
        with self._lock:
            for change in self._geofences.evaluate(entities, self._geofence_present):
                fence = change.geofence
                if change.active:
                    alarm = self._raise(
                        change.entity_id,
                        fence.name,
                        Condition.GEOFENCE,
                        fence.severity,
                        geofence_message(fence),
                        value=1.0 if change.inside else 0.0,
                        limit=math.nan,
                        ts=change.ts,
                    )
                else:
                    alarm = self._alarms.get(
                        alarm_id(change.entity_id, fence.name, Condition.GEOFENCE)
                    )
                    if alarm is not None and not _return_to_normal(alarm, change.ts):
                        alarm = None
                if alarm is not None:
                    changed[alarm.id] = self._bumped(alarm)
        return list(changed.values())

    def _geofence_present(self, entity_id: str, name: str) -> bool:
        """Whether the geofence alarm of the entity has its condition present (lock held)."""
        alarm = self._alarms.get(alarm_id(entity_id, name, Condition.GEOFENCE))
        return alarm is not None and alarm.condition_present

    def check_silence(self, now: float) -> list[Alarm]:
        """Raise a no-data alarm for each watched source whose newest reading is older than
        its rule's ``no_data_after``; returns the alarms that changed."""
        changed: list[Alarm] = []
        with self._lock:
            for source, rule in self._silence_watch.items():
                after = rule.no_data_after
                last = self._evaluated.get(source)
                if after is None or last is None or now - last <= after:
                    continue
                key = alarm_id(*source, Condition.NO_DATA)
                held = self._alarms.get(key)
                if held is not None and held.condition_present:
                    continue
                alarm = self._raise(  # raised when the silence began: the same everywhere
                    *source,
                    Condition.NO_DATA,
                    *_rule_texts(rule, Condition.NO_DATA),
                    value=now - last,
                    limit=after,
                    ts=last + after,
                )
                if alarm is not None:
                    changed.append(self._bumped(alarm))
            changed = self._resuppressed(changed, now)
        return changed

    def _resuppressed(self, changed: list[Alarm], now: float) -> list[Alarm]:
        """``changed`` with the alarms that suppression by design then changed (an alarm
        raised, unshelved or returned to service while its ``suppressed_when`` holds is
        suppressed at once). The lock is held."""
        if not self._suppression.metrics or not changed:
            return changed
        newest = {alarm.id: alarm for alarm in changed}
        for alarm in self._apply_suppression({a.entity_id for a in changed}, now):
            newest[alarm.id] = alarm
        return list(newest.values())

    def check_feeds(
        self, feeds: Iterable[tuple[str, float | None, float]], since: float, now: float
    ) -> list[Alarm]:
        """Raise or clear the "no data" alarm of whole feeds: (feed, last message time or
        None, limit) each; a feed silent since ``since`` (the start) counts from then. The
        alarm's source is ``feed:<name>``, its metric ``messages``; it raises when the
        silence began plus the limit (the same on every workstation), with priority 2."""
        changed: list[Alarm] = []
        with self._lock:
            for name, last, limit in feeds:
                source = (f"{FEED_SOURCE_PREFIX}{name}", "messages")
                key = alarm_id(*source, Condition.NO_DATA)
                held = self._alarms.get(key)
                quiet_since = since if last is None else last
                if now - quiet_since > limit:
                    if held is not None and held.condition_present:
                        continue
                    message = f"no message on feed {name} for more than {limit:g} s"
                    alarm = self._raise(
                        *source,
                        Condition.NO_DATA,
                        Severity.HIGH,
                        message,
                        value=now - quiet_since,
                        limit=limit,
                        ts=quiet_since + limit,
                    )
                elif held is not None and last is not None:
                    alarm = held if _return_to_normal(held, last) else None
                else:
                    alarm = None
                if alarm is not None:
                    changed.append(self._bumped(alarm))
        return changed

    def _held(self, key: str, active: bool, was_active: bool, ts: float, rule: RuleConfig) -> bool:
        """Whether a change of the band (``active`` ≠ ``was_active``) has held long enough to
        raise or clear: the rule's on/off delay in seconds of reading time and its count of
        consecutive readings. A reading back on the old side starts the wait again."""
        if active == was_active:
            self._pending.pop(key, None)
            return False
        target, since, samples = self._pending.get(key, (active, ts, 0))
        if target != active:
            since, samples = ts, 0
        samples += 1
        delay, needed = (
            (rule.on_delay, rule.on_samples) if active else (rule.off_delay, rule.off_samples)
        )
        if ts - since < delay or samples < needed:
            self._pending[key] = (active, since, samples)
            return False
        self._pending.pop(key, None)
        return True

    def apply_external(self, alerts: Iterable[ExternalAlarm]) -> list[Alarm]:
        """Raise, update or clear alarms received from outside (CAP, NGSI Alert).

        An alert's ``references`` name earlier alerts it updates or cancels: those are cleared
        first. A cancel clears and raises nothing. Returns the alarms that changed.
        """
        changed: dict[str, Alarm] = {}
        with self._lock:
            for alert in alerts:
                own_key = self._external_key(alert)
                sources = alert.references
                if alert.cancel:
                    sources = (*alert.references, alert.source_id)
                for source in sources:
                    key = self._external_sources.get(source)
                    if key is None or (key == own_key and not alert.cancel):
                        continue
                    cleared = self._clear(key, alert.sent_at)
                    if cleared is not None:
                        changed[key] = self._bumped(cleared)
                if alert.cancel:
                    continue
                raised = self._raise_external(alert)
                if raised is not None:
                    changed[raised.id] = self._bumped(raised)
        return list(changed.values())

    @staticmethod
    def _external_key(alert: ExternalAlarm) -> str:
        return alarm_id(alert.entity_id, alert.event, Condition.EXTERNAL)

    def _raise_external(self, alert: ExternalAlarm) -> Alarm | None:
        key = self._external_key(alert)
        self._external_sources[alert.source_id] = key
        if alert.expires_at is not None:
            self._expiry[key] = alert.expires_at
        else:
            self._expiry.pop(key, None)
        alarm = self._alarms.get(key)
        if alarm is None:
            alarm = Alarm(
                entity_id=alert.entity_id,
                metric=alert.event,
                condition=Condition.EXTERNAL,
                severity=alert.severity,
                state=AlarmState.UNACKNOWLEDGED,
                value=float("nan"),
                threshold=float("nan"),
                raised_at=alert.sent_at,
                updated_at=alert.sent_at,
                message=alert.message,
            )
            self._put(alarm)
            return alarm
        escalated = alert.severity > alarm.severity
        if alarm.state.is_hidden:
            if not alarm.shelved_active:
                alarm.count += 1
                alarm.raised_at = alert.sent_at
            alarm.shelved_active = True
        elif not alarm.state.is_active or escalated:
            if not alarm.state.is_active:
                alarm.count += 1
                alarm.raised_at = alert.sent_at
                _new_occurrence(alarm)
            alarm.state = AlarmState.UNACKNOWLEDGED
            alarm.acked_at = None
            alarm.acked_by = ""
        alarm.severity = alert.severity
        alarm.message = alert.message
        alarm.updated_at = alert.sent_at
        return alarm

    def _clear(self, key: str, now: float) -> Alarm | None:
        alarm = self._alarms.get(key)
        if alarm is None or not _return_to_normal(alarm, now):
            return None
        self._expiry.pop(key, None)
        return alarm

    def expire(self, now: float) -> list[Alarm]:
        """Clear external alarms whose alert has expired; returns those that changed."""
        with self._lock:
            due = [key for key, expires in self._expiry.items() if expires <= now]
            changed = [self._clear(key, now) for key in due]
            for key in due:
                self._expiry.pop(key, None)
        return [self._bumped(alarm) for alarm in changed if alarm is not None]

    def acknowledge(self, alarm_ids: Iterable[str], user: str, now: float) -> list[Alarm]:
        """Acknowledge alarms that need it; returns copies of those that changed."""
        changed: list[Alarm] = []
        with self._lock:
            for key in alarm_ids:
                alarm = self._alarms.get(key)
                state = None if alarm is None else next_state(alarm.state, AlarmEvent.ACKNOWLEDGE)
                if alarm is None or state is None:
                    continue
                alarm.state = state
                alarm.acked_at = now
                alarm.acked_by = user
                alarm.updated_at = now
                changed.append(self._bumped(alarm))
        return changed

    def shelve(
        self, alarm_ids: Iterable[str], user: str, now: float, *, until: float, note: str = ""
    ) -> list[Alarm]:
        """Shelve alarms until ``until`` (``math.inf``: until each clears); returns copies of
        those that changed (alarms in a state that cannot be shelved, and cleared ones asked
        to be shelved until they clear, are left alone)."""
        changed: list[Alarm] = []
        with self._lock:
            for key in alarm_ids:
                alarm = self._alarms.get(key)
                state = None if alarm is None else next_state(alarm.state, AlarmEvent.SHELVE)
                if alarm is None or state is None:
                    continue
                if until == math.inf and not alarm.state.is_active:
                    continue  # already clear: "until it clears" would only drop its ack
                alarm.shelved_active = alarm.state.is_active
                alarm.state = state
                alarm.shelved_until = until
                alarm.shelved_by = user
                alarm.shelve_note = note
                alarm.updated_at = now
                alarm.shelve_changed_at = now
                changed.append(self._bumped(alarm))
        return changed

    def unshelve(self, alarm_ids: Iterable[str], now: float) -> list[Alarm]:
        """End the shelving of shelved alarms (an operator's doing, at ``now``); returns
        copies of those that changed."""
        changed: list[Alarm] = []
        with self._lock:
            for key in alarm_ids:
                alarm = self._alarms.get(key)
                if alarm is None or alarm.state is not AlarmState.SHELVED:
                    continue
                _unshelve(alarm)
                alarm.updated_at = now
                alarm.shelve_changed_at = now
                changed.append(self._bumped(alarm))
            changed = self._resuppressed(changed, now)
        return changed

    def unshelve_due(self, now: float) -> list[Alarm]:
        """Unshelve the alarms whose shelving time is up; returns those that changed."""
        changed: list[Alarm] = []
        with self._lock:
            for alarm in self._alarms.values():
                until = alarm.shelved_until
                if alarm.state is AlarmState.SHELVED and until is not None and until <= now:
                    _unshelve(alarm)
                    alarm.updated_at = now  # shelve_changed_at stays: no one acted
                    changed.append(self._bumped(alarm))
            changed = self._resuppressed(changed, now)
        return changed

    def remove_from_service(
        self, alarm_ids: Iterable[str], user: str, now: float, note: str = ""
    ) -> list[Alarm]:
        """Take alarms out of service; returns copies of those that changed."""
        return self._each(alarm_ids, lambda alarm: remove_from_service(alarm, user, now, note))

    def restamp_out_of_service(
        self, alarm_ids: Iterable[str], user: str, now: float, note: str = ""
    ) -> list[Alarm]:
        """A newer out-of-service action on alarms out of service already (shared)."""
        return self._each(alarm_ids, lambda alarm: restamp_out_of_service(alarm, user, now, note))

    def return_to_service(self, alarm_ids: Iterable[str], now: float) -> list[Alarm]:
        """Put out-of-service alarms back in service; returns copies of those that changed."""
        changed = self._each(alarm_ids, lambda alarm: return_to_service(alarm, now))
        with self._lock:
            return self._resuppressed(changed, now)

    def _each(self, alarm_ids: Iterable[str], change: Callable[[Alarm], bool]) -> list[Alarm]:
        changed: list[Alarm] = []
        with self._lock:
            for key in alarm_ids:
                alarm = self._alarms.get(key)
                if alarm is not None and change(alarm):
                    changed.append(self._bumped(alarm))
        return changed

    def assign(self, alarm_ids: Iterable[str], assignee: str, now: float) -> list[Alarm]:
        """Assign alarms to ``assignee`` ("": nobody) as of ``now``, unless a later
        assignment is held already; returns copies of those that changed."""
        changed: list[Alarm] = []
        with self._lock:
            for key in alarm_ids:
                alarm = self._alarms.get(key)
                if alarm is None or now < alarm.assigned_at:
                    continue
                alarm.assignee = assignee
                alarm.assigned_at = now
                alarm.updated_at = max(alarm.updated_at, now)
                changed.append(self._bumped(alarm))
        return changed

    def comment(self, alarm_ids: Iterable[str], now: float) -> list[Alarm]:
        """Count a comment on each alarm; returns copies of those that changed."""
        changed: list[Alarm] = []
        with self._lock:
            for key in alarm_ids:
                alarm = self._alarms.get(key)
                if alarm is None:
                    continue
                alarm.comments += 1
                alarm.updated_at = max(alarm.updated_at, now)
                changed.append(self._bumped(alarm))
        return changed

    def share_acknowledgement(self, key: str, ack: tuple[float, str] | None) -> Alarm | None:
        """Make the acknowledgement of the occurrence held the one the shared actions say:
        ``ack`` is (time, user), or None when no acknowledgement counts (it was unshelved
        after them). Acknowledges an alarm that needs it, renames who acknowledged, or
        withdraws an acknowledgement (acknowledged → unacknowledged); a suppressed or
        out-of-service alarm is left alone. A copy when it changed, else None."""
        with self._lock:
            alarm = self._alarms.get(key)
            if alarm is None or alarm.state in (AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE):
                return None
            held = None if alarm.acked_at is None else (alarm.acked_at, alarm.acked_by)
            if ack == held:
                return None
            if ack is None:
                if alarm.state is AlarmState.ACKNOWLEDGED:
                    alarm.state = AlarmState.UNACKNOWLEDGED
                alarm.acked_at = None
                alarm.acked_by = ""
            else:
                state = next_state(alarm.state, AlarmEvent.ACKNOWLEDGE)
                if (
                    state is not None
                    and alarm.state is AlarmState.RTN_UNACKNOWLEDGED
                    and ack[0] < alarm.updated_at
                    and self._latches(alarm)
                ):
                    state = None  # made before the latched alarm returned: no reset
                if state is not None:
                    alarm.state = state
                alarm.acked_at, alarm.acked_by = ack
                alarm.updated_at = max(alarm.updated_at, ack[0])
            return self._bumped(alarm)

    def _latches(self, alarm: Alarm) -> bool:
        rule = self._rule(alarm.entity_id, alarm.metric)
        return rule is not None and rule.latch

    def reshelve(
        self, key: str, user: str, now: float, *, until: float, note: str = ""
    ) -> Alarm | None:
        """Replace the shelving of a shelved alarm (a newer shelve from another
        workstation): until when, by whom, why. A copy when it changed, else None."""
        with self._lock:
            alarm = self._alarms.get(key)
            if alarm is None or alarm.state is not AlarmState.SHELVED:
                return None
            if (alarm.shelved_until, alarm.shelved_by, alarm.shelve_note) == (until, user, note):
                return None
            alarm.shelved_until = until
            alarm.shelved_by = user
            alarm.shelve_note = note
            alarm.updated_at = max(alarm.updated_at, now)
            alarm.shelve_changed_at = now
            return self._bumped(alarm)

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
