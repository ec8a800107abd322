"""The dashboards' figures of one tick (``CityNow``): each worked out once however many
widgets show it, when first drawn, over group memberships kept between ticks — the same
counts, top-N rows and alarm summaries as working each out on its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from services.config import Group
from services.config.dashboards import DashboardConfig, WidgetConfig
from services.config.schema import DistrictConfig
from services.ingest.figures import count_by, top_entities
from services.ingest.kpi import DistrictIndex, GroupMembers
from services.model import Alarm, AlarmState, Condition, Entity, Reading, Severity
from ui import dashboards
from ui.dashboards import CityNow, DashboardView

WEST = DistrictConfig("West", ((((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)),),))
EAST = DistrictConfig("East", ((((1.0, 0.0), (2.0, 0.0), (2.0, 1.0), (1.0, 1.0), (1.0, 0.0)),),))
INDEX = DistrictIndex([WEST, EAST])
NAMES = ["West", "East"]
WATER = Group(domain="water")


def city_entities() -> dict[str, Entity]:
    """Twelve stations: water and air, west and east, two without a position."""
    entities = {}
    for number in range(12):
        lon = None if number >= 10 else 0.5 + (number % 2)
        entities[f"s{number:02d}"] = Entity(
            f"s{number:02d}",
            f"Station {number}",
            "station",
            "water" if number % 3 == 0 else "environment",
            lat=None if lon is None else 0.5,
            lon=lon,
        )
    return entities


def city_alarms() -> list[Alarm]:
    states = [AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED, AlarmState.RTN_UNACKNOWLEDGED]
    return [
        Alarm(
            f"s{number:02d}",
            "pm25",
            Condition.HIGH,
            Severity.HIGH if number % 2 else Severity.CRITICAL,
            states[number % 3],
            90.0,
            75.0,
            float(number),
            float(number),
        )
        for number in range(13)  # s12: an entity not heard of
    ]


def city_latest() -> dict[str, dict[str, Reading]]:
    return {
        f"s{number:02d}": {"pm25": Reading(f"s{number:02d}", "pm25", float(number % 7), 1.0, "f")}
        for number in range(12)
    }


def city_now(
    entities: dict[str, Entity] | None = None, members: GroupMembers | None = None
) -> CityNow:
    return CityNow(
        entities if entities is not None else city_entities(),
        city_alarms(),
        [],
        INDEX,
        NAMES,
        city_latest(),
        True,
        members if members is not None else GroupMembers(),
    )


def counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[Any]:
    """Count the calls of ``ui.dashboards.<name>`` (still made)."""
    calls: list[Any] = []
    real: Callable[..., Any] = getattr(dashboards, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(dashboards, name, counted)
    return calls


def test_the_figures_are_those_worked_out_one_by_one() -> None:
    city = city_now()
    entities, alarms = city.entities, city.alarms
    active = [alarm for alarm in alarms if alarm.state.is_active]
    for by in ("priority", "domain", "district"):
        assert city.counts("alarms", by) == count_by(active, by, entities, INDEX, NAMES), by
    readings = [series["pm25"] for series in city.latest.values()]
    for group in (Group(), WATER, Group(district="East"), Group(entities="s0*")):
        for highest in (True, False):
            expected = top_entities(readings, "pm25", group, entities, INDEX, n=3, highest=highest)
            assert city.top("pm25", group, 3, highest) == expected, (group, highest)
    assert city.alarms_in(Group()) == alarms
    assert [a.entity_id for a in city.alarms_in(WATER)] == ["s00", "s03", "s06", "s09"]


def test_each_figure_is_worked_out_once_a_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    counts, tops = counting(monkeypatch, "count_by"), counting(monkeypatch, "top_entities")
    city = city_now()
    first = city.counts("alarms", "district")
    assert city.counts("alarms", "district") is first
    assert city.top("pm25", WATER, 3, True) is city.top("pm25", WATER, 3, True)
    assert len(counts) == len(tops) == 1
    city.counts("alarms", "domain")
    assert len(counts) == 2


def test_memberships_kept_between_ticks_follow_what_changed() -> None:
    members = GroupMembers()
    entities = city_entities()
    before = city_now(entities, members)
    assert [c.count for c in before.counts("alarms", "district")] == [3, 4]
    assert [a.entity_id for a in before.alarms_in(WATER)] == ["s00", "s03", "s06", "s09"]
    entities["s00"] = Entity("s00", "Station 0", "station", "environment", lat=5.0, lon=5.0)
    after = city_now(entities, members)  # the next tick: s00 moved out and is no longer water
    assert [c.count for c in after.counts("alarms", "district")] == [2, 4]
    assert [a.entity_id for a in after.alarms_in(WATER)] == ["s03", "s06", "s09"]


DASHBOARD = DashboardConfig(
    "Shared",
    columns=4,
    widgets=(
        WidgetConfig("bars", column=0, count="alarms", by="district"),
        WidgetConfig("bars", column=1, count="alarms", by="domain"),
        WidgetConfig("top", column=2, metric="pm25", n=3, group=WATER),
        WidgetConfig("alarms", column=3, group=WATER),
    ),
)


def test_two_dashboards_share_one_ticks_figures_and_repaint_only_what_changed(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    views = [DashboardView(DASHBOARD, {}) for _ in range(2)]
    for view in views:
        qtbot.addWidget(view)
        view.show()
    counts, tops = counting(monkeypatch, "count_by"), counting(monkeypatch, "top_entities")
    city = city_now()
    for view in views:
        view.show_kpis({}, dashboards.KpiHistory(), 1.0, False, city)
        view.show_city(city)
    assert len(counts) == 2 and len(tops) == 1  # two charts, one table: once for both views
    for view in views:
        by_district, by_domain = (chart for _, chart in view.charts.values())
        assert [(bar.label, bar.value) for bar in by_district.bars()] == [
            ("West", 3.0),  # active: s00, s04, s06
            ("East", 4.0),  # s01, s03, s07, s09
        ]
        assert sum(bar.value for bar in by_domain.bars()) == 9.0  # s12 as "other"
        ((_, table),) = view.tables.values()
        assert [(row.entity_id, row.value) for row in table.rows()] == [
            ("s06", 6.0),
            ("s03", 3.0),
            ("s09", 2.0),
        ]
        ((_, summary),) = view.summaries
        assert summary.counts == {
            Severity.CRITICAL: 2,  # s00 and s06
            Severity.HIGH: 2,  # s03 and s09
            Severity.MEDIUM: 0,
            Severity.LOW: 0,
        }
    ((_, chart),) = [item for item in views[0].charts.values() if item[0].by == "district"]
    ((widget, table),) = views[0].tables.values()
    assert dashboards._draw_counts(chart, city_now(), DASHBOARD.widgets[0]) is None  # unchanged
    assert dashboards._draw_top(table, city_now(), widget) is None
    moved = city_entities()
    moved["s03"] = Entity("s03", "Station 3", "station", "water", lat=9.0, lon=9.0)
    assert dashboards._draw_counts(chart, city_now(moved), DASHBOARD.widgets[0]) is chart
