"""The Entity details and Trend docks of the window: what they show of an entity (its
values, history, rule limits, alarms and their guidance), and the selections that lead
there — an alarm row, a map marker or alert area, a search hit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from services.config import RuleConfig, rule_for
from services.model import Alarm, Condition, Entity
from widgets.entity_details import EntityView
from widgets.format import format_number
from widgets.i18n import translate

if TYPE_CHECKING:
    from ui.main_window import MainWindow

Histories = dict[str, list[tuple[float, float]]]
"""An entity's recent series by metric: (timestamp, value), oldest first."""


def limits_text(
    rules: Sequence[RuleConfig], entity_id: str, metrics: Iterable[str]
) -> dict[str, str]:
    """The rule limits that apply to each metric of an entity, as the operator reads them."""
    texts: dict[str, str] = {}
    for metric in metrics:
        rule = rule_for(rules, entity_id, metric)
        if rule is None:
            continue
        parts = [
            f"{label} {format_number(limit)}"
            for label, limit in (
                ("LL", rule.low_low),
                ("L", rule.low),
                ("H", rule.high),
                ("HH", rule.high_high),
            )
            if limit is not None
        ]
        texts[metric] = " · ".join(parts)
    return texts


class EntityViews:
    """Fills a window's details and trend from its entities, values and history."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window

    def select_alarm(self, alarm_id: str) -> None:
        """Bring the alarm list forward with ``alarm_id`` selected."""
        window = self.window
        window.dock_panels.show("alarms")
        alarm = window.alarm_view.model.alarm(alarm_id)
        if alarm is not None:
            window.statusBar().showMessage(f"{alarm.metric}: {alarm.message}", 10000)
        window.alarm_view.select_alarm(alarm_id)

    def alarm_selected(self, alarm_id: str) -> None:
        """The operator moved to an alarm row: show its source in the details."""
        alarm = self.window.alarm_view.model.alarm(alarm_id)
        entity = self.window.entities.get(alarm.entity_id) if alarm is not None else None
        if entity is not None:
            self.show_details(entity)

    def locate_alarm(self, alarm_id: str) -> None:
        """Show an alarm's source: details, and the map flown to it with its marker marked."""
        alarm = self.window.alarm_view.model.alarm(alarm_id)
        if alarm is not None:
            self.locate_entity(alarm.entity_id)

    def locate_entity(self, entity_id: str) -> None:
        """Show an entity in the details and fly the map to it (clusters opened)."""
        window = self.window
        entity = window.entities.get(entity_id)
        if entity is None:
            return
        self.show_details(entity)
        window.dock_panels.show("details")
        if entity.has_location:
            window.dock_panels.show("map")
            window.map_view.focus_entity(entity_id)
        else:
            window.statusBar().showMessage(
                translate("MainWindow", "{name} has no location on the map").format(
                    name=entity.name
                ),
                6000,
            )

    def show_entity(self, entity_id: str) -> None:
        """Show an entity (clicked on the map, picked in a list) in the details and trend."""
        entity = self.window.entities.get(entity_id)
        if entity is None:
            return
        histories = self.histories(entity)  # read once for both (the engine answers each)
        self.show_details(entity, histories)
        self.show_trend(entity, raise_dock=False, histories=histories)
        self.window.dock_panels.show("details")

    def histories(self, entity: Entity) -> Histories | None:
        """The recent series of each of ``entity``'s metrics (None: no history to read)."""
        history = self.window._history
        if history is None:
            return None
        return {
            metric: history(entity.id, metric) for metric in self.window.values.get(entity.id, {})
        }

    def show_details(self, entity: Entity, histories: Histories | None = None) -> None:
        """Fill the entity details panel for ``entity`` (``histories``: read already)."""
        window = self.window
        readings = dict(window.values.get(entity.id, {}))
        if histories is None:
            histories = self.histories(entity)
        alarms = [a for a in window.alarm_view.model.alarms() if a.entity_id == entity.id]
        window.details.show_entity(
            EntityView(
                entity=entity,
                readings=readings,
                history={m: histories.get(m, []) for m in readings} if histories else {},
                limits=limits_text(window.config.rules, entity.id, readings),
                alarms=alarms,
                guidance={
                    alarm.id: guidance for alarm in alarms if (guidance := self._guidance(alarm))
                },
                feed=window.feed_states.get(entity.feed),
            )
        )

    def _guidance(self, alarm: Alarm) -> str:
        """What to do about ``alarm``: its geofence's or its rule's guidance ("": none)."""
        config = self.window.config
        if alarm.condition is Condition.GEOFENCE:
            fence = config.geofence(alarm.metric)
            return fence.guidance if fence is not None else ""
        rule = rule_for(config.rules, alarm.entity_id, alarm.metric)
        return rule.guidance if rule is not None else ""

    def show_trend(
        self, entity: Entity, *, raise_dock: bool = True, histories: Histories | None = None
    ) -> None:
        """Show the recent history of every metric of ``entity`` in the Trend panel
        (``histories``: read already)."""
        window = self.window
        readings = window.values.get(entity.id, {})
        if histories is None:
            histories = self.histories(entity)
        series = {
            metric: histories.get(metric, []) if histories is not None else [(r.ts, r.value)]
            for metric, r in readings.items()
        }
        trend = window.trend
        trend.show_entity(entity.id, entity.name, series, {m: r.unit for m, r in readings.items()})
        trend.set_stale(entity.stale, entity.updated_at)
        for metric in readings:
            rule = rule_for(window.config.rules, entity.id, metric)
            if rule is not None and (rule.high is not None or rule.high_high is not None):
                trend.set_thresholds(metric, rule.high, rule.high_high)
        if raise_dock:
            window.dock_panels.show("trend")

    def refresh(self) -> None:
        """Show the details and trend of the entity they show again (after a replay step)."""
        window = self.window
        not_there = translate("MainWindow", "{entity}: not heard of at this moment")
        read: dict[str, Histories | None] = {}  # each entity's series once, for both panels

        def histories(entity: Entity) -> Histories | None:
            if entity.id not in read:
                read[entity.id] = self.histories(entity)
            return read[entity.id]

        shown = window.details.entity_id()
        if shown is not None:
            entity = window.entities.get(shown)
            if entity is not None:
                self.show_details(entity, histories(entity))
            else:
                window.details.clear(not_there.format(entity=shown))
        trended = window.trend.entity_id()
        if trended is not None:
            entity = window.entities.get(trended)
            if entity is not None:
                self.show_trend(entity, raise_dock=False, histories=histories(entity))
            else:
                window.trend.clear()
