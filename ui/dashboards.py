"""Dashboards declared in the config (``[[dashboards]]``), each opened from the Dashboards
menu as a dock of the workstation (or a page of the wall): a grid of widgets bound to the
city's KPIs.

Widgets: dial gauges, KPI tiles, trend plots, bar charts (alarms, incidents or entities by
priority, domain or district), top-N tables, maps (:mod:`ui.dashboard_map`) and the alarm
summary; a widget whose definition is wrong shows its problem in its own frame. Every widget
is fed from the window's one KPI timer (once a second), never per message; the maps follow
the window's map refresh.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QGridLayout,
    QLabel,
    QMenu,
    QWidget,
)

from services.config import AppConfig, Group, KpiConfig
from services.config.dashboards import DashboardConfig, WidgetConfig
from services.ingest.figures import Category, Counted, Subject, count_by, top_entities
from services.ingest.kpi import DistrictIndex, GroupMembers
from services.model import (
    Alarm,
    AlarmState,
    Entity,
    Incident,
    Reading,
    Severity,
    severity_of_priority,
)
from services.store.replay import ReplaySource
from ui.config_terms import config_text
from ui.dashboard_map import DashboardMap
from ui.dashboard_trends import TrendBackfill, TrendFeed
from ui.docks import FEATURES as DOCK_FEATURES
from ui.kpi_gauge import kpi_gauge
from ui.review import open_replay_source
from widgets.alarm_summary import AlarmSummary
from widgets.bar_chart import Bar, BarChart
from widgets.gauge import Gauge
from widgets.i18n import translate
from widgets.kpi_tile import KpiTile
from widgets.palette import STATUS_WARNING_TEXT_COLOR
from widgets.plain_text import plain_label
from widgets.redraw_clock import RedrawClock
from widgets.terms import domain_text, severity_text
from widgets.top_table import TopRow, TopTable

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)

LAYOUT_KEY = "dashboards"
"""Under which name a saved layout keeps the open dashboards."""

KPI_HISTORY_S = 3_900
"""KPI values kept for the tiles (one a second): an hour and a bit, for "vs 1 h ago"."""
SEEDED_POINTS = 66
"""KPI values read back from the cache at a start (one a minute over that span)."""


class KpiHistory:
    """The recent values of every KPI, one a second, for the tiles' sparkline and change."""

    def __init__(self) -> None:
        self._points: dict[str, deque[tuple[float, float]]] = {}

    def add(self, values: Mapping[str, float | None], ts: float) -> None:
        for name, value in values.items():
            if value is not None:
                kept = self._points.setdefault(name, deque(maxlen=KPI_HISTORY_S))
                kept.append((ts, value))

    def points(self, name: str) -> list[tuple[float, float]]:
        return list(self._points.get(name, ()))

    def seed(self, name: str, past: Sequence[tuple[float, float]]) -> None:
        """Put ``past`` (read back from the cache at a start) before what was kept since."""
        kept = self._points.get(name, deque())
        first = kept[0][0] if kept else math.inf
        older = [point for point in past if point[0] < first]
        if older:
            self._points[name] = deque([*older, *kept], maxlen=KPI_HISTORY_S)

    def seed_all(self, pasts: Mapping[str, Sequence[tuple[float, float]]] | None) -> None:
        """:meth:`seed` every KPI read back (None: the cache could not be read)."""
        for name, past in (pasts or {}).items():
            self.seed(name, past)


def problem_frame(text: str) -> QLabel:
    """A widget's place showing why it cannot be drawn."""
    label = plain_label(text)
    label.setObjectName("dashboardProblem")
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setFrameShape(QFrame.Shape.Box)
    label.setStyleSheet(f"color:{STATUS_WARNING_TEXT_COLOR};padding:8px;")
    return label


NO_GROUP = Group()
"""The group of every entity."""
ACTIVE_ALARM_STATES = frozenset(state for state in AlarmState if state.is_active)
"""The states of an active alarm (a set: much cheaper than the property per alarm)."""


@dataclass
class CityNow:
    """What the window shows at a tick, for the counts, top-N tables and alarm summaries:
    each figure worked out when a widget is first drawn with it (so spread over the redraw
    clock's frames), and once however many widgets (docks, wall pages) show it."""

    entities: Mapping[str, Entity]
    alarms: list[Alarm]
    incidents: list[Incident]
    index: DistrictIndex
    district_names: list[str]
    latest: Mapping[str, Mapping[str, Reading]]
    """The newest reading of each entity's metrics, by entity and metric."""
    live: bool
    """False while the window shows a replay."""
    members: GroupMembers = field(default_factory=GroupMembers)
    """Group memberships kept between ticks (the dashboards'), brought up to date at the
    tick's first question."""
    _members_current: bool = field(default=False, init=False, repr=False)
    _subjects: dict[str, Sequence[Counted]] = field(default_factory=dict, init=False, repr=False)
    _readings: dict[tuple[str, Group], list[Reading]] = field(
        default_factory=dict, init=False, repr=False
    )
    _counts: dict[tuple[str, str], list[Category]] = field(
        default_factory=dict, init=False, repr=False
    )
    _tops: dict[tuple[str, Group, int, bool], list[Reading]] = field(
        default_factory=dict, init=False, repr=False
    )
    _alarms_in: dict[Group, list[Alarm]] = field(default_factory=dict, init=False, repr=False)

    def subjects(self, count: str) -> Sequence[Counted]:
        """What a bar chart counts: active alarms, open incidents or entities."""
        subjects = self._subjects.get(count)
        if subjects is not None:
            return subjects
        if count == "alarms":  # counted as they are: thousands on a busy day
            subjects = [alarm for alarm in self.alarms if alarm.state in ACTIVE_ALARM_STATES]
        elif count == "incidents":
            subjects = [
                Subject(i.entity_ids[0] if i.entity_ids else "", severity_of_priority(i.priority))
                for i in self.incidents
                if i.status.is_active
            ]
        else:
            subjects = [Subject(e.id, e.worst_severity) for e in self.entities.values()]
        self._subjects[count] = subjects
        return subjects

    def members_of(self, group: Group) -> set[str]:
        """The ids of the entities in ``group`` (the memberships brought up to date at the
        first question of the tick, or for a group not followed yet)."""
        if not self._members_current or not self.members.follows(group):
            self.members.update(self.entities, (group,), self.index)
            self._members_current = True
        return self.members.members(group)

    def readings_of(self, metric: str, group: Group = NO_GROUP) -> list[Reading]:
        """The newest reading of ``metric`` of every entity (of ``group``) that has one."""
        key = (metric, group)
        readings = self._readings.get(key)
        if readings is None:
            latest = self.latest
            if group:  # its members only: a group is often a small part of the city
                readings = [
                    reading
                    for entity_id in self.members_of(group)
                    if (series := latest.get(entity_id)) is not None
                    and (reading := series.get(metric)) is not None
                ]
            else:
                readings = [
                    reading
                    for series in latest.values()
                    if (reading := series.get(metric)) is not None
                ]
            self._readings[key] = readings
        return readings

    def counts(self, count: str, by: str) -> list[Category]:
        """A bar chart's categories: :meth:`subjects` of ``count`` counted ``by``."""
        key = (count, by)
        counts = self._counts.get(key)
        if counts is None:
            inside = None
            if by == "district":
                inside = {
                    name: self.members_of(Group(district=name))
                    for name in self.district_names
                    if name
                }
            counts = count_by(
                self.subjects(count),
                by,
                self.entities,
                self.index,
                self.district_names,
                district_members=inside,
            )
            self._counts[key] = counts
        return counts

    def top(self, metric: str, group: Group, n: int, highest: bool) -> list[Reading]:
        """A top-N table's readings (see :func:`top_entities`)."""
        key = (metric, group, n, highest)
        top = self._tops.get(key)
        if top is None:
            top = top_entities(
                self.readings_of(metric, group),
                metric,
                group,
                self.entities,
                self.index,
                n=n,
                highest=highest,
                members=self.members_of(group) if group else None,
            )
            self._tops[key] = top
        return top

    def alarms_in(self, group: Group) -> list[Alarm]:
        """The alarms whose entity is in ``group`` (every alarm for the empty group)."""
        if not group:
            return self.alarms
        alarms = self._alarms_in.get(group)
        if alarms is None:
            inside = self.members_of(group)
            alarms = [alarm for alarm in self.alarms if alarm.entity_id in inside]
            self._alarms_in[group] = alarms
        return alarms


class DashboardView(QWidget):
    """One dashboard's grid; :meth:`show_kpis` feeds it (the owner's timer)."""

    def __init__(
        self,
        dashboard: DashboardConfig,
        kpis: Mapping[str, KpiConfig],
        parent: QWidget | None = None,
        *,
        window: MainWindow | None = None,
    ) -> None:
        super().__init__(parent)
        self.dashboard = dashboard
        self._window = window
        self._clock = window.dashboards.clock if window and window.dashboards else None
        self.setWindowTitle(
            translate("Dashboards", "{name} — CityOps").format(name=config_text(dashboard.name))
        )
        self.gauges: dict[int, tuple[str, Gauge]] = {}
        self.tiles: dict[int, tuple[str, KpiTile]] = {}
        self.summaries: list[tuple[Group, AlarmSummary]] = []
        self.charts: dict[int, tuple[WidgetConfig, BarChart]] = {}
        self.tables: dict[int, tuple[WidgetConfig, TopTable]] = {}
        self.problems: list[QLabel] = []
        self.maps: list[DashboardMap] = []
        self.trends: list[TrendFeed] = []
        self._tick: tuple[Mapping[str, float | None], KpiHistory, float, bool] | None = None
        grid = QGridLayout(self)
        below = max((w.row + w.row_span for w in dashboard.widgets if w.placed), default=0)
        for index, widget in enumerate(dashboard.widgets):
            cell = self._make(index, widget, kpis)
            if widget.placed:
                grid.addWidget(cell, widget.row, widget.column, widget.row_span, widget.column_span)
            else:  # its place could not be read: listed under the grid
                grid.addWidget(cell, below, 0, 1, dashboard.columns)
                below += 1
        for row in range(grid.rowCount()):  # the grid's cells share the room evenly
            grid.setRowStretch(row, 1)
        for column in range(dashboard.columns):
            grid.setColumnStretch(column, 1)

    def _make(self, index: int, widget: WidgetConfig, kpis: Mapping[str, KpiConfig]) -> QWidget:
        if widget.problem:
            frame = problem_frame(
                translate("Dashboards", "This widget cannot be shown: {problem}").format(
                    problem=widget.problem
                )
            )
            self.problems.append(frame)
            return frame
        kpi = kpis.get(widget.kpi)
        title = config_text(widget.title or widget.kpi)
        if widget.kind == "gauge" and kpi is not None:
            gauge = kpi_gauge(kpi, title)
            self.gauges[index] = (kpi.name, gauge)
            return gauge
        if widget.kind == "tile" and kpi is not None:
            tile = KpiTile(title, config_text(kpi.unit), kpi.warn, kpi.alarm, kpi.decimals)
            self.tiles[index] = (kpi.name, tile)
            return tile
        if widget.kind == "bars":
            chart = BarChart(title or widget.kind)
            self.charts[index] = (widget, chart)
            return chart
        if widget.kind == "top":
            table = TopTable(title or widget.metric)
            self.tables[index] = (widget, table)
            return table
        if widget.kind == "trend" and widget.series:
            controls = self._window.dashboards if self._window is not None else None
            window = self._window
            trend = TrendFeed(
                widget,
                kpis,
                controls.backfill if controls is not None else None,
                # Its own index: the reading thread must not share the GUI's memo.
                lambda: DistrictIndex(window.config.districts if window else ()),
                self._name_of,
            )
            self.trends.append(trend)
            return trend.view
        if widget.kind == "map" and self._window is not None:
            city_map = DashboardMap(widget, self._window)
            self.maps.append(city_map)
            return city_map
        if widget.kind == "alarms":
            summary = AlarmSummary(config_text(widget.title), widget.priority)
            self.summaries.append((widget.group, summary))
            return summary
        frame = problem_frame(
            translate("Dashboards", "{title}: a {kind} widget is not built yet").format(
                title=title or widget.kind, kind=widget.kind
            )
        )
        self.problems.append(frame)
        return frame

    def _name_of(self, entity_id: str) -> str:
        return self._window.entity_name(entity_id) if self._window is not None else entity_id

    def show_kpis(
        self,
        values: Mapping[str, float | None],
        history: KpiHistory,
        ts: float,
        stale: bool,
        city: CityNow,
    ) -> None:
        """Show the KPIs' values (``stale``: not live) and the alarms; a dashboard not on
        screen (a dock behind another, a wall's other pages) only keeps them."""
        self._tick = (values, history, ts, stale)
        if not self.isVisible():
            return
        for index, (name, gauge) in self.gauges.items():
            self._draw(("gauge", index), partial(_draw_gauge, gauge, values.get(name), stale))
        for index, (name, tile) in self.tiles.items():
            points = history.points(name)
            draw = partial(_draw_tile, tile, values.get(name), ts, stale, points)
            self._draw(("tile", index), draw)
        for number, (group, summary) in enumerate(self.summaries):
            draw = partial(_draw_summary, summary, city, group, self._name_of)
            self._draw(("alarms", number), draw)

    def _draw(self, key: tuple[str, int], redraw: Callable[[], QWidget | None]) -> None:
        """Redraw a widget at the clock's next frame (at once without a clock)."""
        if self._clock is None:
            redraw()
        else:
            self._clock.want((id(self), *key), redraw)

    def show_city(self, city: CityNow) -> None:
        """Show the counts, top-N tables and trends of the city as the window shows it (a
        dashboard not on screen only keeps the trends' points)."""
        shown = self.isVisible()
        if self._tick is not None:
            values, history, ts, stale = self._tick
            for number, trend in enumerate(self.trends):
                trend.feed(
                    values,
                    kpi_memory=history.points,
                    latest=city.latest,
                    ts=ts,
                    stale=stale,
                    live=city.live,
                    draw=False,
                )
                if shown:
                    self._draw(("trend", number), trend.redraw)
        if not shown:
            return
        # Worked out when drawn (see CityNow), so that a tick's figures are spread over the
        # redraw clock's frames instead of all computed at once.
        for index, (widget, chart) in self.charts.items():
            self._draw(("bars", index), partial(_draw_counts, chart, city, widget))
        for index, (widget, table) in self.tables.items():
            self._draw(("top", index), partial(_draw_top, table, city, widget))


def _draw_gauge(gauge: Gauge, value: float | None, stale: bool) -> QWidget:
    gauge.set_value(value, stale=stale)
    return gauge


def _draw_tile(
    tile: KpiTile, value: float | None, ts: float, stale: bool, points: list[tuple[float, float]]
) -> QWidget:
    tile.set_value(value, ts=ts, stale=stale)
    tile.set_history(points)
    tile.refresh()
    return tile


def _draw_summary(
    summary: AlarmSummary, city: CityNow, group: Group, name_of: Callable[[str], str]
) -> QWidget:
    summary.show_alarms(city.alarms_in(group), name_of)
    return summary


def _draw_counts(chart: BarChart, city: CityNow, widget: WidgetConfig) -> QWidget | None:
    """Bring a bar chart up to date; the chart to paint, None when nothing changed."""
    chart.set_bars(
        [
            Bar(_category_text(widget.by, c.label, c.severity), float(c.count), c.severity)
            for c in city.counts(widget.count, widget.by)
        ]
    )
    return chart if chart.refresh() else None


def _draw_top(table: TopTable, city: CityNow, widget: WidgetConfig) -> QWidget | None:
    """Bring a top-N table up to date; the table to paint, None when nothing changed."""
    top = city.top(widget.metric, widget.group, widget.n, widget.order == "desc")
    table.set_rows([_top_row(reading, city.entities.get(reading.entity_id)) for reading in top])
    return table if table.refresh() else None


def _category_text(by: str, label: str, severity: Severity | None) -> str:
    """A bar's label in words: a priority, a domain, or a district's configured name."""
    if severity is not None:
        return severity_text(severity)
    return domain_text(label) if by == "domain" else config_text(label)


def _top_row(reading: Reading, entity: Entity | None) -> TopRow:
    """A top-N row: the entity's name, its value, stale and coloured as on the map."""
    return TopRow(
        reading.entity_id,
        entity.name if entity is not None else reading.entity_id,
        reading.value,
        reading.unit,
        stale=entity is not None and entity.stale,
        severity=entity.worst_severity if entity is not None else None,
    )


class DashboardControls:
    """The Dashboards menu of ``window`` and the dashboards it opened (as docks)."""

    def __init__(self, window: MainWindow, config: AppConfig) -> None:
        self.window = window
        self.config = config
        self.history = KpiHistory()
        self.docks: dict[str, QDockWidget] = {}
        """The dashboards opened from the menu, by name."""
        self.pages: dict[str, DashboardView] = {}
        """Other views fed with them (kiosk pages), by key."""
        self._kpis = {kpi.name: kpi for kpi in config.kpis}
        self._members = GroupMembers()
        """Which entities the widgets' groups and the districts hold, kept between ticks."""
        cache = window.cache_path
        self.backfill = TrendBackfill(
            open_replay_source(cache, config.retention_days) if cache is not None else None,
            window,
        )
        """Reads the trends' past from the offline cache, off the GUI thread."""
        self.clock = RedrawClock(window)
        """Redraws every dashboard's widgets, a few per frame."""
        self._seed_history(config)
        self.menu = QMenu(translate("Dashboards", "&Dashboards"), window)
        self._fill_menu()
        bar = window.menu_bar
        help_menu = bar.actions()[-1] if bar.actions() else None
        if help_menu is not None:
            bar.insertMenu(help_menu, self.menu)
        else:
            bar.addMenu(self.menu)
        window.kpisRefreshed.connect(self.show_kpis)
        window.closing.connect(self.close_all)
        window.dock_panels.add_extra(LAYOUT_KEY, self.layout_state, self.restore_layout)

    @property
    def views(self) -> dict[str, DashboardView]:
        """The dashboards open in docks, by name."""
        return {
            name: view
            for name, dock in self.docks.items()
            if isinstance(view := dock.widget(), DashboardView)
        }

    def _seed_history(self, config: AppConfig) -> None:
        """Read the KPIs' last hour back from the cache (after a restart the tiles show
        their change and sparkline at once), on the dashboards' reading thread."""
        if not config.kpis or not self.backfill.available:
            return
        until = time.time()
        since = until - KPI_HISTORY_S
        kpis, districts = config.kpis, config.districts

        def read(source: ReplaySource) -> dict[str, list[tuple[float, float]]]:
            index = DistrictIndex(districts)
            return {
                kpi.name: source.kpi_series(kpi, since, until, SEEDED_POINTS, index) for kpi in kpis
            }

        self.backfill.read(read, self.history.seed_all)

    def _fill_menu(self) -> None:
        menu = self.menu
        menu.clear()
        for number, dashboard in enumerate(self.config.dashboards, start=1):
            action = QAction(config_text(dashboard.name), menu)
            if number <= 9:
                action.setShortcut(f"Ctrl+Alt+{number}")
            action.triggered.connect(partial(self.open, dashboard.name))
            menu.addAction(action)
        if not self.config.dashboards:
            empty = QAction(translate("Dashboards", "None in the config ([[dashboards]])"), menu)
            empty.setEnabled(False)
            menu.addAction(empty)

    def open(self, name: str) -> DashboardView | None:
        """Open (or raise) the dashboard called ``name``: a dock of the workstation, over
        the map (drag it out to put it on another screen)."""
        dock = self.docks.get(name)
        if dock is None:
            dashboard = next((d for d in self.config.dashboards if d.name == name), None)
            if dashboard is None:
                return None
            dock = QDockWidget(config_text(dashboard.name), self.window)
            dock.setObjectName(f"dashboard-{name}")
            dock.setFeatures(DOCK_FEATURES)
            dock.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dock.setWidget(DashboardView(dashboard, self._kpis, window=self.window))
            dock.destroyed.connect(partial(self._forget_dock, name, dock))
            self._place(dock)
            self.docks[name] = dock
        dock.show()
        dock.raise_()
        self.window.refresh_kpis()
        view = dock.widget()
        return view if isinstance(view, DashboardView) else None

    def _forget_dock(self, name: str, dock: QDockWidget, _gone: object = None) -> None:
        if self.docks.get(name) is dock:  # not one opened again under the same name
            del self.docks[name]

    def _place(self, dock: QDockWidget) -> None:
        window = self.window
        beside = window.dock_panels.docks.get("map")
        if beside is not None and not beside.isFloating() and beside.isVisibleTo(window):
            window.tabifyDockWidget(beside, dock)
        else:
            window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

    def add_view(self, key: str, view: DashboardView) -> None:
        """Feed ``view`` too (a kiosk page, owned by its wall), under ``key``."""
        self.pages[key] = view
        view.destroyed.connect(partial(self._forget_view, key, view))

    def remove_view(self, key: str) -> None:
        """Stop feeding the view under ``key`` (its owner is about to delete it)."""
        self.pages.pop(key, None)

    def _forget_view(self, key: str, view: DashboardView, _gone: object = None) -> None:
        if self.pages.get(key) is view:  # not a newer view under the same key
            del self.pages[key]

    def reload(self, config: AppConfig) -> None:
        """The config file changed: the new dashboards in the menu, and each open one drawn
        again from its new definition (closed when it is gone)."""
        self.config = config
        self._kpis = {kpi.name: kpi for kpi in config.kpis}
        self._members = GroupMembers()  # the districts may have changed
        self._fill_menu()
        dashboards = {dashboard.name: dashboard for dashboard in config.dashboards}
        for name, dock in list(self.docks.items()):
            dashboard = dashboards.get(name)
            if dashboard is None:
                dock.close()
                continue
            old = dock.widget()
            dock.setWidget(DashboardView(dashboard, self._kpis, window=self.window))
            if old is not None:
                old.deleteLater()
        self.window.refresh_kpis()

    def show_kpis(self, values: Mapping[str, float | None], ts: float, stale: bool) -> None:
        """The window's KPI timer ticked: keep the values (live ones only), show them in
        the open dashboards (as the window shows the city: live or replayed)."""
        if not self.window.replaying:
            self.history.add(values, ts)
        views = [*self.views.values(), *self.pages.values()]
        if views:
            window = self.window
            city = CityNow(
                window.entities,
                window.alarm_view.model.alarms(),
                window.incidents.view.model.incidents(),
                window.district_index,
                [district.name for district in self.config.districts],
                window.values,
                not window.replaying,
                self._members,
            )
            for view in views:
                view.show_kpis(values, self.history, ts, stale, city)
                view.show_city(city)

    def layout_state(self) -> dict[str, Any]:
        """What a layout keeps of the dashboards: which are open (their places are in the
        window's arrangement)."""
        return {"open": sorted(name for name, dock in self.docks.items() if not dock.isHidden())}

    def restore_layout(self, state: Mapping[str, Any]) -> None:
        """Open the dashboards a layout had open (those the config still has) and close the
        others."""
        wanted = state.get("open")
        if not isinstance(wanted, list):
            return
        names = {name for name in wanted if isinstance(name, str)}
        for name, dock in list(self.docks.items()):
            if name not in names:
                del self.docks[name]  # now, not when Qt deletes it
                dock.close()
        for name in sorted(names - set(self.docks)):
            if self.open(name) is None:
                log.info("layout: dashboard %r is not in the config; not opened", name)

    def close_all(self) -> None:
        """Close every open dashboard (the window closes)."""
        docks, self.docks = list(self.docks.values()), {}
        for dock in docks:
            dock.close()
        self.backfill.close()
