"""The operator's main window: map, KPI gauges, alarm list and status bar."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMenuBar,
    QMessageBox,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from services.auth.roles import LEAST_ROLE, Permission, Principal
from services.auth.signin import Authenticator, single_user
from services.config import AppConfig, FeedConfig, KpiConfig
from services.ingest.kpi import GroupMembers, compute_kpis, district_index
from services.model import (
    ActionResult,
    Alarm,
    AlarmSystemKpis,
    AlertArea,
    CacheHealth,
    CacheState,
    Delta,
    Entity,
    FeedHealth,
    FeedState,
    Reading,
)
from ui.config_terms import config_text
from ui.docks import WorkstationDocks
from ui.entity_views import EntityViews
from ui.feeds import FeedControlFunction, FeedControls, FeedManager
from ui.freshness import FreshnessTracker
from ui.i18n_terms import permission_text, role_text
from ui.incidents import IncidentActions, IncidentControls
from ui.journal import ExportJournal, JournalControls
from ui.kpi_gauge import kpi_gauge
from ui.layouts import LayoutStore
from ui.map_layers import MapLayers, TracksFunction
from ui.menus import WindowMenus
from ui.sign_in import SignInDialog
from widgets.alarm_kpis_view import AlarmKpisView
from widgets.alarm_model import AlarmFilter
from widgets.alarm_table import AlarmTableView
from widgets.entity_details import EntityDetails
from widgets.format import NO_VALUE, format_clock, format_count, format_value
from widgets.gauge import Gauge
from widgets.i18n import translate
from widgets.journal_view import Fetch as JournalFetch
from widgets.map_view import MapView, marker_look
from widgets.palette import BANNER_COLORS, STATUS_ALARM_TEXT_COLOR
from widgets.plain_text import plain_label, plain_message_box
from widgets.status_banner import BannerLevel, StatusBanner
from widgets.terms import feed_state_word
from widgets.tile_grid import TileGrid
from widgets.trend_plot import TrendPlot

if TYPE_CHECKING:
    from ui.dashboards import DashboardControls
    from ui.review import ReviewControls

log = logging.getLogger(__name__)

AcknowledgeFunction = Callable[[list[str], str], object]
"""Hands an acknowledgement (alarm ids, a note or "") to the services; its outcome arrives
later in a delta."""
ShelveFunction = Callable[[list[str], float | None, str], object]
"""Hands a shelve (alarm ids, seconds or None for until it clears, reason) to the services."""
UnshelveFunction = Callable[[list[str]], object]
TextActionFunction = Callable[[list[str], str], object]
"""Hands a comment (alarm ids, text) or an assignment (alarm ids, person) to the services."""
ExportFunction = Callable[[Path], int]
HistoryFunction = Callable[[str, str], list[tuple[float, float]]]
MAP_REFRESH_MS = 250
DEMO_BACKGROUND, DEMO_TEXT = BANNER_COLORS["warning"]
ALARM_TEXT_STYLE = f"color:{STATUS_ALARM_TEXT_COLOR};font-weight:bold"
FLASHING_FLAG = "flash unacknowledged alarms"
"""The remembered View menu choice (in the layout store)."""


def scrolling(widget: QWidget) -> QScrollArea:
    """``widget`` in a frameless scroll area, so its dock can be made small."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area


CONFIG_PROBLEM_MS = 60_000
"""How long the status bar says why a changed config file was not taken."""


MAP_REFRESH_LIMIT = 500
"""The most markers one map refresh (4 a second) sends; more wait for the next ones."""


class MainWindow(QMainWindow):
    """Composes the map, the KPI gauges and the alarm list around the live state."""

    closing = Signal()
    configChanged = Signal(object)  # the AppConfig after a reload of the file
    configProblem = Signal(str)  # why a changed config file was not taken
    mapEntitiesChanged = Signal(list)  # the entities whose markers changed (a batch)
    mapEntitiesRemoved = Signal(list)  # the ids of entities taken off the map
    alertAreasChanged = Signal(object)  # {alarm id: AlertArea, or None when removed}
    kpisRefreshed = Signal(object, float, bool)
    """The KPIs were computed (once a second): {name: value}, the moment, whether stale."""
    principalChanged = Signal(object, object)
    """The person acting changed (a shift change): the previous and the new Principal."""

    def __init__(
        self,
        config: AppConfig,
        acknowledge: AcknowledgeFunction,
        *,
        export_alarms: ExportFunction | None = None,
        boundaries: Mapping[str, object] | None = None,
        pause_feed: FeedControlFunction | None = None,
        resume_feed: FeedControlFunction | None = None,
        feed_manager: FeedManager | None = None,
        history: HistoryFunction | None = None,
        tracks: TracksFunction | None = None,
        layouts: LayoutStore | None = None,
        principal: Principal | None = None,
        authenticator: Authenticator | None = None,
        shelve: ShelveFunction | None = None,
        unshelve: UnshelveFunction | None = None,
        comment: TextActionFunction | None = None,
        assign: TextActionFunction | None = None,
        journal: JournalFetch | None = None,
        export_journal: ExportJournal | None = None,
        out_of_service: TextActionFunction | None = None,
        in_service: UnshelveFunction | None = None,
        incidents: IncidentActions | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.config = config
        self._acknowledge = acknowledge
        self._shelve = shelve
        self._unshelve = unshelve
        self._comment = comment
        self._assign = assign
        self._out_of_service = out_of_service
        self._in_service = in_service
        # Who acts now: read by every operator action (and by the acknowledge callback of
        # ui.runtime), changed by switch_user. Without accounts, the configured operator.
        self._principal = principal if principal is not None else single_user(config)
        self.authenticator = authenticator
        self._export_alarms = export_alarms
        self._history = history
        self.replaying = False
        """True while the views show a replay of the past (actions refused, clock set back)."""
        self.clock: Callable[[], float] = time.time
        """The moment the views show: now, or the replayed moment."""
        self.entities: dict[str, Entity] = {}
        self.values: dict[str, dict[str, Reading]] = {}
        self._live = False
        self.freshness = FreshnessTracker()
        self.entity_views = EntityViews(self)  # the details, the trend and selections
        title = translate("MainWindow", "{title} — CityOps").format(title=config_text(config.title))
        if config.demo:
            title += "  " + translate("MainWindow", "[DEMO DATA]")
        self.setWindowTitle(title)
        self.resize(1440, 900)

        self.map_view = MapView(config.map.center, config.map.zoom)
        self.map_view.entityClicked.connect(self.entity_views.show_entity)
        self.map_view.set_values_source(self.marker_values)
        self.map_view.alertAreaClicked.connect(self.entity_views.select_alarm)
        self.boundaries = boundaries
        if boundaries:
            self.map_view.set_boundaries(boundaries)
        self.alert_areas: dict[str, AlertArea] = {}
        """The external alarms' areas the map shows, by alarm id."""
        self.alarm_view = AlarmTableView()
        self.alarm_view.acknowledgeRequested.connect(self.acknowledge_alarms)
        self.alarm_view.acknowledgeWithNoteRequested.connect(self.acknowledge_alarms)
        self.alarm_view.shelving_enabled = shelve is not None and unshelve is not None
        self.alarm_view.shelveRequested.connect(self.shelve_alarms)
        self.alarm_view.unshelveRequested.connect(self.unshelve_alarms)
        self.alarm_view.commenting_enabled = comment is not None and assign is not None
        self.alarm_view.commentRequested.connect(self.comment_alarms)
        self.alarm_view.assignRequested.connect(self.assign_alarms)
        self.alarm_view.service_enabled = out_of_service is not None and in_service is not None
        self.alarm_view.outOfServiceRequested.connect(self.take_out_of_service)
        self.alarm_view.inServiceRequested.connect(self.return_to_service)
        self.alarm_view.alarmSelected.connect(self.entity_views.alarm_selected)
        self.alarm_view.locateRequested.connect(self.locate_alarm)
        self._layouts = layouts
        self.alarm_kpis = AlarmKpisView()
        self.alarm_kpis.exportRequested.connect(self.export_alarm_kpis_dialog)
        self.gauges = _kpi_gauges(config.kpis)
        self._group_members = GroupMembers()
        self.district_index = district_index(tuple(config.districts))
        self.gauge_panel = TileGrid(list(self.gauges.values()))

        self.feeds = FeedControls(self, feed_manager, pause_feed, resume_feed)  # the Feeds dock
        self.feed_panel = self.feeds.panel
        # The trend and details measure time by the window's clock: the replayed moment too.
        self.trend = TrendPlot(clock=lambda: self.clock())  # noqa: PLW0108 — set later
        self.details = EntityDetails(clock=lambda: self.clock())  # noqa: PLW0108
        self.feed_states: dict[str, FeedHealth] = {}

        # Every panel is a dock; the central widget is an empty placeholder so that the
        # docks share the whole window. Banners sit under the menu bar, across the window.
        placeholder = QWidget()
        placeholder.hide()
        self.setCentralWidget(placeholder)
        self.dock_panels = WorkstationDocks(self, layouts)
        self.dock_panels.add("map", translate("MainWindow", "Map"), self.map_view)
        self.dock_panels.add("gauges", translate("MainWindow", "KPIs"), scrolling(self.gauge_panel))
        self.dock_panels.add("alarms", translate("MainWindow", "Alarms"), self.alarm_view)
        self.dock_panels.add(
            "details", translate("MainWindow", "Entity details"), scrolling(self.details)
        )
        self.dock_panels.add("trend", translate("MainWindow", "Trend"), self.trend)
        self.dock_panels.add("feeds", translate("MainWindow", "Feeds"), scrolling(self.feeds.tab()))
        self.dock_panels.add(
            "alarm_kpis", translate("MainWindow", "Alarm KPIs"), scrolling(self.alarm_kpis)
        )
        self.incidents = IncidentControls(self, incidents)  # the Incidents dock and Ctrl+I
        self.journal = JournalControls(self, journal, export_journal)  # the Journal dock
        self.map_layers = MapLayers(self, tracks)  # the Map layers dock
        self.cache_path: Path | None = None
        """The offline cache file (File ▸ Handover report reads it)."""
        self.dashboards: DashboardControls | None = None
        """The Dashboards menu and the dashboards open (from the config)."""
        self.review: ReviewControls | None = None
        """The review workspace (replay of the past), when the window has a cache to read."""
        self._restore_alarm_list_settings()

        top = QWidget()
        layout = QVBoxLayout(top)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.menu_bar = QMenuBar()
        layout.addWidget(self.menu_bar)
        if config.demo:
            banner = QLabel(
                translate("MainWindow", "DEMO DATA — simulated Yiyang city, not live city feeds")
            )
            banner.setObjectName("demoBanner")
            banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
            banner.setStyleSheet(
                f"background:{DEMO_BACKGROUND};color:{DEMO_TEXT};font-weight:bold;padding:4px;"
                "letter-spacing:1px"
            )
            banner.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            layout.addWidget(banner)
        self.banner = StatusBanner()
        layout.addWidget(self.banner)
        self.top_layout = layout
        """Banners and bars across the window under the menu bar (the replay bar too)."""
        self.setMenuWidget(top)

        self.user_label = plain_label()
        self.user_label.setObjectName("signedInUser")
        self.broker_label = QLabel(translate("MainWindow", "Broker: —"))
        self.feeds_label = QLabel("")
        self.rate_label = QLabel(translate("MainWindow", "{rate} msg/s").format(rate=0))
        self.freshness_label = QLabel("")
        for label in (
            self.user_label,
            self.broker_label,
            self.feeds_label,
            self.rate_label,
            self.freshness_label,
        ):
            label.setContentsMargins(8, 0, 8, 0)
            self.statusBar().addPermanentWidget(label)
        self.menus = WindowMenus(self)
        self._guard_acknowledge()
        self.dock_panels.arrange_default(self.width(), self.height())
        self.dock_panels.remember_default()
        self._sized = self.dock_panels.restore_on_open()

        # The map is refreshed at a few Hz, not per UI tick: it is the costliest view.
        self._map_pending: set[str] = set()
        self._map_timer = QTimer(self)
        self._map_timer.setInterval(MAP_REFRESH_MS)
        self._map_timer.timeout.connect(lambda: self.refresh_map(MAP_REFRESH_LIMIT))
        self._map_timer.start()

        self._kpi_timer = QTimer(self)
        self._kpi_timer.setInterval(1000)
        self._kpi_timer.timeout.connect(self.refresh_kpis)
        self._kpi_timer.start()

    def add_feed(self, feed: FeedConfig) -> str:
        """Subscribe ``feed`` now; returns why not when it cannot be added ("" when added)."""
        return self.feeds.add_feed(feed)

    def remove_feed(self, name: str) -> str:
        """Unsubscribe feed ``name``; returns why not when it cannot be removed."""
        return self.feeds.remove_feed(name)

    # -- live updates --------------------------------------------------------------------
    def apply_delta(self, delta: Delta) -> None:
        """Show one coalesced batch of changes."""
        # Most entity changes are a new update time: the views hear only of what they show.
        names: dict[str, str] = {}
        stale: dict[str, bool] = {}
        domains: dict[str, str] = {}
        redrawn: list[str] = []  # what a marker shows changed
        known = self.entities
        for key, entity in delta.entities.items():
            old = known.get(key)
            if old is None:
                names[key], stale[key], domains[key] = entity.name, entity.stale, entity.domain
                redrawn.append(key)
                continue
            if old.name != entity.name:
                names[key] = entity.name
            if old.stale != entity.stale:
                stale[key] = entity.stale
            if old.domain != entity.domain:
                domains[key] = entity.domain
            if marker_look(old) != marker_look(entity):
                redrawn.append(key)
        known.update(delta.entities)
        for (entity_id, metric), reading in delta.latest.items():
            self.values.setdefault(entity_id, {})[metric] = reading
        if delta.latest and self.trend.entity_id() is not None:
            self.trend.append(delta.latest.values())
        if delta.messages:
            self.freshness.received()
        if delta.brokers:
            self.freshness.brokers(delta.brokers)
        if delta.feeds:
            self.freshness.feeds(delta.feeds.values())
        if delta.removed_feeds:
            self.freshness.remove_feeds(delta.removed_feeds)
        if delta.messages or delta.brokers or delta.feeds or delta.removed_feeds:
            self.update_freshness()
        self._map_pending.update(redrawn)
        if delta.entities:
            if names:
                self.alarm_view.model.set_entity_names(names)
                self.alarm_kpis.set_entity_names(names)
            if stale:
                self.alarm_view.model.set_stale_entities(stale)
            shown = delta.entities.get(self.trend.entity_id() or "")
            if shown is not None:
                self.trend.set_stale(shown.stale, shown.updated_at)
            if domains:
                self.alarm_view.set_entity_domains(domains)
        if delta.alarms:
            self.alarm_view.model.upsert(delta.alarms.values())
        if delta.removed_entities or delta.removed_readings:
            self._remove(delta.removed_entities, delta.removed_readings)
        if delta.alarm_kpis is not None:
            self.show_alarm_kpis(delta.alarm_kpis)
        if delta.areas:
            self.map_view.apply_alert_areas(delta.areas)
            for area_id, area in delta.areas.items():
                if area is None:
                    self.alert_areas.pop(area_id, None)
                else:
                    self.alert_areas[area_id] = area
            self.alertAreasChanged.emit(delta.areas)
        if delta.brokers:
            self._show_brokers(delta.brokers)
        self.feeds.apply(delta)
        if delta.incidents:
            self.incidents.apply(delta.incidents.values())
        for result in delta.action_results:
            self._report_action(result)
        if delta.cache is not None:
            self.show_cache_health(delta.cache)

    def _remove(self, entity_ids: set[str], series: set[tuple[str, str]]) -> None:
        """Forget entities and values the views no longer show (a replay going back)."""
        for entity_id in entity_ids:
            self.entities.pop(entity_id, None)
            self.values.pop(entity_id, None)
        self._map_pending -= entity_ids
        self.map_view.remove_entities(entity_ids)
        self.mapEntitiesRemoved.emit(sorted(entity_ids))
        for entity_id, metric in series:  # the map's tooltips ask for what is left
            self.values.get(entity_id, {}).pop(metric, None)

    def show_alarm_kpis(self, kpis: AlarmSystemKpis) -> None:
        """Show the alarm-system KPIs in their dock, and the flood on the banner while it lasts."""
        self.alarm_kpis.show_kpis(kpis)
        self.alarm_view.model.set_chattering(kpis.chattering)
        if not kpis.flood:
            self.banner.set_line("alarm-flood", None)
            return
        text = translate("MainWindow", "ALARM FLOOD since {since} — {count} alarms in 10 min")
        self.banner.set_line(
            "alarm-flood",
            text.format(
                since=format_clock(kpis.flood_since or kpis.at),
                count=format_count(kpis.raises_10min),
            ),
            BannerLevel.WARNING,
        )

    def export_alarm_kpis_dialog(self) -> None:
        """Ask where to write the alarm-system KPIs as JSON, then write them."""
        path, _filter = QFileDialog.getSaveFileName(
            self,
            translate("MainWindow", "Export alarm KPIs"),
            "alarm-kpis.json",
            translate("MainWindow", "JSON files (*.json)"),
        )
        if path:
            self.export_alarm_kpis(Path(path))

    def export_alarm_kpis(self, path: Path) -> bool:
        """Write the alarm-system KPIs shown to ``path`` as JSON; False (and a message) when
        there are none yet or the file cannot be written."""
        figures = self.alarm_kpis.to_dict()
        if not figures:
            self.statusBar().showMessage(
                translate("MainWindow", "No alarm KPIs yet: nothing exported"), 8000
            )
            return False
        try:
            path.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
        except OSError as error:
            text = translate("MainWindow", "Could not write {path}:\n{error}").format(
                path=str(path), error=error
            )
            title = translate("MainWindow", "Export failed")
            plain_message_box(self, QMessageBox.Icon.Critical, title, text).exec()
            return False
        self.statusBar().showMessage(
            translate("MainWindow", "Alarm KPIs exported to {path}").format(path=str(path)), 8000
        )
        return True

    # -- alarm list settings -------------------------------------------------------------
    def _restore_alarm_list_settings(self) -> None:
        """Filter presets and the flashing choice as saved next to the layouts; the
        flashing toggle goes in the View menu."""
        view, store = self.alarm_view, self._layouts
        self.dock_panels.view_actions.append(view.flash_action)
        if store is not None:
            try:
                saved = store.filter_presets()
                view.filter_bar.set_presets(
                    {name: AlarmFilter.from_dict(data) for name, data in saved.items()}
                )
                view.set_flashing(store.flag(FLASHING_FLAG, True))
            except OSError:
                log.warning("could not read the alarm list settings", exc_info=True)
        else:
            view.set_flashing(True)
        view.filter_bar.presetsChanged.connect(self._save_filter_presets)
        view.flash_action.toggled.connect(self._save_flashing)

    def _save_filter_presets(self, presets: dict[str, AlarmFilter]) -> None:
        if self._layouts is None:
            return
        try:
            self._layouts.save_filter_presets(
                {name: wanted.to_dict() for name, wanted in presets.items()}
            )
        except OSError as error:
            self.statusBar().showMessage(
                translate("MainWindow", "Filter presets not saved: {error}").format(error=error),
                8000,
            )

    def _save_flashing(self, on: bool) -> None:
        if self._layouts is not None:
            self._layouts.set_flag(FLASHING_FLAG, on)

    def refresh_map(self, limit: int | None = None) -> None:
        """Send the entities changed since the last refresh to the map, as one batch: at
        most ``limit`` of them (the rest at the next call), or all (a replayed moment, say)."""
        if not self._map_pending:
            return
        if limit is None or len(self._map_pending) <= limit:
            changed, self._map_pending = self._map_pending, set()
        else:  # the rest at the next refresh: the window stays responsive under a flood
            changed = {self._map_pending.pop() for _ in range(limit)}
        # Only markers whose look changed; a tooltip asks for its values when it opens.
        entities = [self.entities[k] for k in changed if k in self.entities]
        self.map_view.apply_entities(entities)
        self.mapEntitiesChanged.emit(entities)

    def entity_name(self, entity_id: str) -> str:
        """An entity's name as the window knows it (its id when it knows none)."""
        entity = self.entities.get(entity_id)
        return entity.name if entity is not None else entity_id

    def marker_values(self, entity_id: str) -> dict[str, str]:
        """An entity's values as its map tooltip shows them ({metric: text})."""
        return {
            metric: format_value(reading.value, reading.unit)
            for metric, reading in sorted(self.values.get(entity_id, {}).items())
        }

    def show_restored(self, count: int) -> None:
        """Mark what is on screen as the cached last known state until live data arrives."""
        self.freshness.restored(count)
        self.update_freshness()
        self.refresh_map()  # the whole last known city at once, not in the timer's slices
        self.refresh_kpis()

    def update_freshness(self) -> None:
        """Say LIVE or NOT LIVE (and why) on the banner and the status bar."""
        verdict = self.freshness.verdict()
        was_live, self._live = self._live, verdict.live
        self.banner.set_line("live", verdict.banner(), BannerLevel.ALARM)
        if self.replaying:
            self.freshness_label.setText(translate("MainWindow", "REPLAY — not live"))
        else:
            self.freshness_label.setText(
                translate("MainWindow", "Live")
                if verdict.live
                else translate("MainWindow", "NOT LIVE")
            )
        self.freshness_label.setStyleSheet(
            "" if verdict.live and not self.replaying else ALARM_TEXT_STYLE
        )
        if was_live != verdict.live:
            self.refresh_kpis()

    def set_message_rate(self, rate: float) -> None:
        self.rate_label.setText(
            translate("MainWindow", "{rate} msg/s").format(
                rate=format_count(round(rate)) if math.isfinite(rate) else NO_VALUE
            )
        )

    def show_cache_health(self, health: CacheHealth) -> None:
        """Say on the banner when the offline cache is not keeping what arrives."""
        if health.state is CacheState.OK:
            self.banner.set_line("cache", None)
            return
        since = format_clock(health.since or time.time())
        if health.state is CacheState.DAMAGED:
            text = translate(
                "MainWindow",
                "OFFLINE CACHE DAMAGED since {since}: {detail} — "
                "{backlog} readings waiting in memory",
            )
        else:
            text = translate(
                "MainWindow",
                "OFFLINE CACHE NOT WRITABLE since {since}: {detail} — "
                "{backlog} readings waiting in memory",
            )
        text = text.format(
            since=since, detail=health.detail, backlog=format_count(health.backlog_readings)
        )
        if health.dropped_readings:
            text += translate("MainWindow", ", {dropped} dropped").format(
                dropped=format_count(health.dropped_readings)
            )
        if health.state is CacheState.DAMAGED:
            text += translate("MainWindow", "; it will be moved aside at the next start")
        self.banner.set_line("cache", text, BannerLevel.ALARM)

    def show_cache_recovery(self, text: str) -> None:
        """Tell the operator once that a damaged cache was moved aside at start."""
        self.banner.set_line(
            "cache-recovered",
            translate("MainWindow", "CACHE REPLACED: {text}").format(text=text),
            BannerLevel.WARNING,
        )

    def _show_brokers(self, brokers: Mapping[str, FeedState]) -> None:
        text = "  ".join(f"{url}: {feed_state_word(state)}" for url, state in brokers.items())
        self.broker_label.setText(translate("MainWindow", "Broker {brokers}").format(brokers=text))
        down = any(state is not FeedState.CONNECTED for state in brokers.values())
        self.broker_label.setStyleSheet(ALARM_TEXT_STYLE if down else "")

    def refresh_kpis(self) -> None:
        """Recompute the KPI gauges from the latest values (a slow timer, not per message);
        in a replay, the values of the replayed moment (not stale: the banner says REPLAY)."""
        stale = not (self._live or self.replaying)
        if not self.config.kpis:  # the walls and dashboards still tick (banner, alarms)
            self.kpisRefreshed.emit({}, self.clock(), stale)
            return
        readings = chain.from_iterable(series.values() for series in self.values.values())
        values = compute_kpis(
            self.config.kpis, readings, self.entities, self.district_index, self._group_members
        )
        for name, value in values.items():
            self.gauges[name].set_value(value, stale=stale)
        self.kpisRefreshed.emit(values, self.clock(), stale)

    def show_config_problem(self, problem: str) -> None:
        """A changed config file was not taken: say why (the one in use stays)."""
        self.statusBar().showMessage(
            translate("MainWindow", "Config not reloaded (the one in use stays): {problem}").format(
                problem=problem
            ),
            CONFIG_PROBLEM_MS,
        )
        self.configProblem.emit(problem)

    def apply_config(self, config: AppConfig) -> None:
        """The config file changed: take its KPIs, districts, dashboards and kiosk (the
        sections :mod:`ui.config_reload` reloads) and show them."""
        kpis_changed = config.kpis != self.config.kpis
        self.config = replace(
            self.config,
            kpis=config.kpis,
            districts=config.districts,
            dashboards=config.dashboards,
            kiosk=config.kiosk,
        )
        self.district_index = district_index(tuple(config.districts))
        self._group_members = GroupMembers()
        if kpis_changed:
            self.gauges = _kpi_gauges(config.kpis)
            self.gauge_panel.set_tiles(list(self.gauges.values()))
        if self.dashboards is not None:
            self.dashboards.reload(self.config)
        self.configChanged.emit(self.config)
        self.refresh_kpis()

    # -- replay ----------------------------------------------------------------------------
    def set_replaying(
        self, replaying: bool, clock: Callable[[], float], history: HistoryFunction | None
    ) -> None:
        """Show the past (or live again): operator actions refused with a reason, ages and
        the details measured against ``clock``, trends and sparklines from ``history``.
        The caller feeds the views the deltas of the replayed moments."""
        self.replaying = replaying
        self.clock = clock
        self._history = history
        self.alarm_view.model.forget_revisions()
        title = self.windowTitle().removeprefix(self._replay_prefix())
        self.setWindowTitle(self._replay_prefix() + title if replaying else title)
        self._show_principal()  # acknowledge offered again, or refused with the reason
        self.update_freshness()
        self.refresh_kpis()

    def _replay_prefix(self) -> str:
        return translate("MainWindow", "REPLAY — ")

    def live_alarms(self) -> list[Alarm]:
        """The alarms as they are now (the list's, or the live ones kept aside while the
        window shows a replay)."""
        if self.replaying and self.review is not None:
            return self.review.live_alarms()
        return self.alarm_view.model.alarms()

    def refresh_entity_views(self) -> None:
        """Show the details and trend of the entity they show again (after a replay step)."""
        self.entity_views.refresh()

    # -- who is signed in ---------------------------------------------------------------
    @property
    def principal(self) -> Principal:
        """The person acting at this window now (user, role, workstation)."""
        return self._principal

    def set_principal(self, principal: Principal) -> None:
        """Make ``principal`` the person acting from now on (a shift change)."""
        previous, self._principal = self._principal, principal
        if previous != principal:
            log.info(
                "user on %r switched from %r (%s) to %r (%s)",
                principal.workstation,
                previous.user,
                previous.role.value,
                principal.user,
                principal.role.value,
            )
            self.principalChanged.emit(previous, principal)
        self._show_principal()

    def switch_user(self) -> SignInDialog | None:
        """Open the sign-in dialog (non-modal for the event loop, modal for the window); the
        person who signs in acts from then on. None in single-user mode."""
        if self.authenticator is None:
            self.statusBar().showMessage(
                translate("MainWindow", "Single-user mode: there are no accounts to switch to")
            )
            return None
        dialog = SignInDialog(self.authenticator, self, switching_from=self._principal)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def signed_in() -> None:
            if dialog.principal is not None:
                self.set_principal(dialog.principal)
                self.statusBar().showMessage(
                    translate("MainWindow", "Signed in: {user}").format(user=dialog.principal.user),
                    8000,
                )

        dialog.accepted.connect(signed_in)
        dialog.open()
        return dialog

    def refusal(self, permission: Permission) -> str:
        """Why the person signed in may not do ``permission`` ("" when they may)."""
        if self.replaying:
            return translate(
                "MainWindow", "the window shows a replay of the past; return to live to act"
            )
        who = self._principal
        if who.may(permission):
            return ""
        return translate(
            "MainWindow",
            "{user} is signed in as {role}: {permission} needs the {needed} role or higher",
        ).format(
            user=who.user,
            role=role_text(who.role),
            permission=permission_text(permission),
            needed=role_text(LEAST_ROLE[permission]),
        )

    def _guard_acknowledge(self) -> None:
        """Keep the alarm list's acknowledge controls off for a person who may not
        acknowledge (the list turns them on with the selection), with a tooltip saying why;
        Ctrl+K then says why in the status bar instead of doing nothing silently."""
        view = self.alarm_view
        self._ack_tooltips = {
            view.acknowledge_action: view.acknowledge_action.toolTip(),
            view.acknowledge_note_action: view.acknowledge_note_action.toolTip(),
            view.acknowledge_all_action: view.acknowledge_all_action.toolTip(),
        }
        self._ack_button_tooltip = view.acknowledge_button.toolTip()
        for action in self._ack_tooltips:
            action.changed.connect(self._keep_acknowledge_off)
        self._refused_ack = QShortcut(QKeySequence("Ctrl+K"), self)
        self._refused_ack.setContext(Qt.ShortcutContext.ApplicationShortcut)
        self._refused_ack.activated.connect(lambda: self._refuse(Permission.ACKNOWLEDGE))
        self._show_principal()

    def _keep_acknowledge_off(self) -> None:
        if self._principal.may(Permission.ACKNOWLEDGE) and not self.replaying:
            return
        self.alarm_view.acknowledge_button.setEnabled(False)
        for action in self._ack_tooltips:
            if action.isEnabled():
                action.setEnabled(False)

    def _show_principal(self) -> None:
        """Show who is signed in, and offer only what their role allows."""
        who = self._principal
        self.user_label.setText(f"{who.user} · {role_text(who.role)} · {who.workstation}")
        self.user_label.setToolTip(translate("MainWindow", "Signed in (user · role · workstation)"))
        view = self.alarm_view
        why = self.refusal(Permission.ACKNOWLEDGE)
        not_allowed = translate("MainWindow", "Not allowed: {why}")
        # Exactly one of the two Ctrl+K shortcuts is live: the action's or the refusal's.
        self._refused_ack.setEnabled(bool(why))
        for action, tooltip in self._ack_tooltips.items():
            action.setToolTip(not_allowed.format(why=why) if why else tooltip)
        view.acknowledge_button.setToolTip(
            not_allowed.format(why=why) if why else self._ack_button_tooltip
        )
        if why:
            self._keep_acknowledge_off()
        else:
            selected = bool(view.selected_ids_needing_ack())
            view.acknowledge_button.setEnabled(selected)
            view.acknowledge_action.setEnabled(selected)
            view.acknowledge_all_action.setEnabled(view.model.needs_ack_count() > 0)

    def _refuse(self, permission: Permission) -> bool:
        """Say in the status bar why the person signed in may not do ``permission``;
        False when they may."""
        why = self.refusal(permission)
        if why:
            self.statusBar().showMessage(
                translate("MainWindow", "Not done: {why}").format(why=why), 10000
            )
        return bool(why)

    # -- operator actions ----------------------------------------------------------------
    def acknowledge_alarms(self, alarm_ids: list[str], note: str = "") -> None:
        """Acknowledge through the services as the person signed in, with an optional note;
        the list changes only once it is saved (the stored alarms and the outcome come back
        in a delta). A role that may not acknowledge is told why here, and the services
        refuse it too."""
        if alarm_ids and not self._refuse(Permission.ACKNOWLEDGE):
            self._acknowledge(list(alarm_ids), note)

    def shelve_alarms(self, alarm_ids: list[str], duration: float | None, reason: str) -> None:
        """Shelve through the services as the person signed in (see :meth:`acknowledge_alarms`);
        the services refuse a time longer than an alarm's priority allows."""
        if alarm_ids and self._shelve is not None and not self._refuse(Permission.SHELVE):
            self._shelve(list(alarm_ids), duration, reason)

    def unshelve_alarms(self, alarm_ids: list[str]) -> None:
        """End the shelving of alarms through the services as the person signed in."""
        if alarm_ids and self._unshelve is not None and not self._refuse(Permission.SHELVE):
            self._unshelve(list(alarm_ids))

    def comment_alarms(self, alarm_ids: list[str], text: str) -> None:
        """Add a comment to alarms through the services as the person signed in; every
        workstation sees it."""
        if alarm_ids and self._comment is not None and not self._refuse(Permission.COMMENT):
            self._comment(list(alarm_ids), text)

    def assign_alarms(self, alarm_ids: list[str], person: str) -> None:
        """Assign alarms to ``person`` ("": nobody) through the services."""
        if alarm_ids and self._assign is not None and not self._refuse(Permission.COMMENT):
            self._assign(list(alarm_ids), person)

    def take_out_of_service(self, alarm_ids: list[str], reason: str) -> None:
        """Take alarms out of service through the services (supervisors only)."""
        if (
            alarm_ids
            and self._out_of_service is not None
            and not self._refuse(Permission.OUT_OF_SERVICE)
        ):
            self._out_of_service(list(alarm_ids), reason)

    def return_to_service(self, alarm_ids: list[str]) -> None:
        """Return out-of-service alarms to service (supervisors only)."""
        if (
            alarm_ids
            and self._in_service is not None
            and not self._refuse(Permission.OUT_OF_SERVICE)
        ):
            self._in_service(list(alarm_ids))

    def _report_action(self, result: ActionResult) -> None:
        """Tell the operator what an action did, or why it did nothing."""
        if self.incidents.report(result):
            return
        if result.error:
            titles = {
                "shelve": translate("MainWindow", "Shelve failed"),
                "unshelve": translate("MainWindow", "Unshelve failed"),
                "comment": translate("MainWindow", "Comment failed"),
                "assign": translate("MainWindow", "Assign failed"),
                "out_of_service": translate("MainWindow", "Out of service failed"),
                "in_service": translate("MainWindow", "Return to service failed"),
            }
            box = plain_message_box(
                self,
                QMessageBox.Icon.Critical,
                titles.get(result.action, translate("MainWindow", "Acknowledge failed")),
                translate("MainWindow", "Nothing was done:\n{error}").format(error=result.error),
            )
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            return
        if result.action in ("shelve", "unshelve"):
            done = {
                "shelve": translate("MainWindow", "Shelved {count} alarm(s)"),
                "unshelve": translate("MainWindow", "Unshelved {count} alarm(s)"),
            }
            text = done[result.action].format(count=len(result.changed))
            if result.skipped:
                text += translate(
                    "MainWindow", "; {count} left as they were (not in a state for it)"
                ).format(count=len(result.skipped))
            self.statusBar().showMessage(text, 5000)
            return
        if result.action in ("comment", "assign", "out_of_service", "in_service"):
            done = {
                "comment": translate("MainWindow", "Comment added to {count} alarm(s)"),
                "assign": translate("MainWindow", "Assigned {count} alarm(s)"),
                "out_of_service": translate("MainWindow", "{count} alarm(s) out of service"),
                "in_service": translate("MainWindow", "{count} alarm(s) back in service"),
            }
            text = done[result.action].format(count=len(result.changed))
            if result.skipped:
                text += translate(
                    "MainWindow",
                    "; {count} left as they were (changed meanwhile, or not in a state for it)",
                ).format(count=len(result.skipped))
            self.statusBar().showMessage(text, 10000 if result.skipped else 5000)
            return
        text = translate("MainWindow", "Acknowledged {count} alarm(s)").format(
            count=len(result.changed)
        )
        if result.skipped:
            text += self._skipped_acks_text(result)
        self.statusBar().showMessage(text, 10000 if result.skipped else 5000)

    def _skipped_acks_text(self, result: ActionResult) -> str:
        """Why alarms were not acknowledged: someone else did it meanwhile (named), or
        they needed no acknowledgement."""
        others: dict[str, int] = {}
        rest = 0
        for key in result.skipped:
            alarm = self.alarm_view.model.alarm(key)
            if alarm is not None and alarm.acked_by and alarm.acked_by != result.user:
                others[alarm.acked_by] = others.get(alarm.acked_by, 0) + 1
            else:
                rest += 1
        parts = [
            translate("MainWindow", "; {count} already acknowledged by {user}").format(
                count=count, user=user
            )
            for user, count in sorted(others.items())
        ]
        if rest:
            parts.append(
                translate("MainWindow", "; {count} needed no acknowledgement").format(count=rest)
            )
        return "".join(parts)

    def select_alarm(self, alarm_id: str) -> None:
        """Bring the alarm list forward with ``alarm_id`` selected (from the journal)."""
        self.entity_views.select_alarm(alarm_id)

    def locate_alarm(self, alarm_id: str) -> None:
        """Show an alarm's source: details, and the map flown to it with its marker marked."""
        self.entity_views.locate_alarm(alarm_id)

    def locate_entity(self, entity_id: str) -> None:
        """Show an entity in the details and fly the map to it (clusters opened)."""
        self.entity_views.locate_entity(entity_id)

    def show_details(self, entity: Entity) -> None:
        """Fill the entity details panel for ``entity``."""
        self.entity_views.show_details(entity)

    def show_trend(self, entity: Entity, *, raise_dock: bool = True) -> None:
        """Show the recent history of every metric of ``entity`` in the Trend panel."""
        self.entity_views.show_trend(entity, raise_dock=raise_dock)

    def export_dialog(self) -> None:
        """Ask where to export the alarms as CSV, then export them."""
        if self._export_alarms is None:
            return
        path, _filter = QFileDialog.getSaveFileName(
            self,
            translate("MainWindow", "Export alarms"),
            "alarms.csv",
            translate("MainWindow", "CSV files (*.csv)"),
        )
        if not path:
            return
        try:
            count = self._export_alarms(Path(path))
        except OSError as error:
            text = translate("MainWindow", "Could not write {path}:\n{error}").format(
                path=path, error=error
            )
            title = translate("MainWindow", "Export failed")
            plain_message_box(self, QMessageBox.Icon.Critical, title, text).exec()
            return
        self.statusBar().showMessage(
            translate("MainWindow", "Exported {count} alarms to {path}").format(
                count=count, path=path
            ),
            8000,
        )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._sized:  # the default layout's proportions, now that sizes are real
            self._sized = True
            self.dock_panels.apply_default_sizes(self.width(), self.height())
            self.dock_panels.remember_default()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.dock_panels.remember_on_close()
        self.closing.emit()
        super().closeEvent(event)


def _kpi_gauges(kpis: Iterable[KpiConfig]) -> dict[str, Gauge]:
    """A dial gauge per KPI, by name, showing no value yet."""
    return {kpi.name: kpi_gauge(kpi) for kpi in kpis}
