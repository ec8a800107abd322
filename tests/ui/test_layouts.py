"""Docks and layouts: every panel a dock, named layouts round-trip, the default fits."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDockWidget
from pytestqt.qtbot import QtBot

from services.config import AppConfig, FeedConfig, KpiConfig, RuleConfig
from services.config.dashboards import DashboardConfig, WidgetConfig
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from ui.dashboards import DashboardControls
from ui.layouts import LayoutStore
from ui.main_window import MainWindow

CONFIG = AppConfig(
    source="test",
    feeds=(FeedConfig(name="air", topic="a/#", domain="environment"),),
    rules=(RuleConfig(metric="pm25", high=75, high_high=150),),
    kpis=(KpiConfig(name="Mean PM2.5", metric="pm25", maximum=250),),
)
DOCKS = {
    "map",
    "gauges",
    "alarms",
    "details",
    "trend",
    "feeds",
    "layers",
    "alarm_kpis",
    "incidents",
    "journal",
}


def make_window(
    qtbot: QtBot, store: LayoutStore, size: tuple[int, int] | None = (1440, 900)
) -> MainWindow:
    """A window on ``store``, resized to ``size`` (None: as it restored itself)."""
    window = MainWindow(CONFIG, acknowledge=lambda ids, note: None, layouts=store)
    qtbot.addWidget(window)
    if size is not None:
        window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_every_panel_is_a_dock_listed_in_the_view_menu(qtbot: QtBot, tmp_path: Path) -> None:
    window = make_window(qtbot, LayoutStore(tmp_path))
    assert set(window.dock_panels.docks) == DOCKS
    names = {dock.objectName() for dock in window.findChildren(QDockWidget)}
    assert names == {f"dock-{name}" for name in DOCKS}
    view_menu = next(a.menu() for a in window.menu_bar.actions() if a.text() == "&View")
    texts = [action.text() for action in view_menu.actions()]
    for dock in window.dock_panels.docks.values():
        assert dock.windowTitle() in texts
    assert "Re&set layout" in texts


def test_a_named_layout_round_trips_through_the_store(qtbot: QtBot, tmp_path: Path) -> None:
    store = LayoutStore(tmp_path)
    window = make_window(qtbot, store)
    docks = window.dock_panels.docks
    docks["trend"].close()
    docks["feeds"].setFloating(True)
    window.dock_panels.save_as("night/shift")
    assert store.names() == ["night/shift"]
    window.dock_panels.reset()
    assert docks["trend"].isVisible() and not docks["feeds"].isFloating()
    assert window.dock_panels.restore("night/shift")
    assert not docks["trend"].isVisible()
    assert docks["feeds"].isFloating()
    assert not window.dock_panels.restore("no such layout")


def test_the_last_layout_and_geometry_come_back_at_the_next_start(
    qtbot: QtBot, tmp_path: Path
) -> None:
    store = LayoutStore(tmp_path)
    first = make_window(qtbot, store, (790, 740))  # within the offscreen screen
    first.dock_panels.docks["gauges"].close()
    first.close()
    second = make_window(qtbot, store, None)
    assert not second.dock_panels.docks["gauges"].isVisible()
    assert (second.width(), second.height()) == (790, 740)


def test_map_layers_are_kept_with_a_layout_and_at_the_next_start(
    qtbot: QtBot, tmp_path: Path
) -> None:
    store = LayoutStore(tmp_path)
    first = make_window(qtbot, store)
    panel = first.map_layers.panel
    panel.set_domains(["environment", "transport"])
    panel.restore({"domains": {"transport": False}, "heat": True, "trackMinutes": 40})
    first.dock_panels.save_as("night")
    panel.restore({"domains": {"transport": True}, "heat": False, "geofences": False})
    assert first.dock_panels.restore("night")
    state = panel.state()
    assert state["domains"] == {"environment": True, "transport": False}
    assert (state["heat"], state["geofences"], state["trackMinutes"]) == (True, True, 40)
    # What the map was told follows the panel.
    assert first.map_layers._visibility()["domains"]["transport"] is False
    panel.restore({"alarmsOnly": True})
    first.close()
    second = make_window(qtbot, store, None)
    assert second.map_layers.panel.state()["alarmsOnly"] is True
    assert second.map_layers.panel.state()["domains"]["transport"] is False


@pytest.mark.parametrize("size", [(1440, 900), (1920, 1080)])
def test_the_default_layout_shows_every_alarm_column_without_scrolling(
    qtbot: QtBot, tmp_path: Path, size: tuple[int, int]
) -> None:
    window = make_window(qtbot, LayoutStore(tmp_path), size)
    pipeline = IngestPipeline(CONFIG, None)
    payload = {"id": "aq-01", "name": "赫山区 空气质量监测站 01 号", "pm25": 180.25, "ts": 5}
    pipeline.process_batch([RawMessage("air", "a/x", json.dumps(payload).encode(), 5.0)])
    window.apply_delta(pipeline.take_delta())
    table = window.alarm_view.table
    qtbot.waitUntil(lambda: table.model().rowCount() == 2)
    qtbot.wait(50)
    assert table.horizontalScrollBar().maximum() == 0
    assert table.viewport().width() >= 0.9 * size[0]


DASHBOARDS = replace(
    CONFIG,
    dashboards=(
        DashboardConfig("Air", 1, (WidgetConfig("gauge", kpi="Mean PM2.5"),)),
        DashboardConfig("Roads", 1, (WidgetConfig("alarms"),)),
    ),
)


def window_with_dashboards(qtbot: QtBot, store: LayoutStore) -> MainWindow:
    window = MainWindow(DASHBOARDS, acknowledge=lambda ids, note: None, layouts=store)
    qtbot.addWidget(window)
    window.dashboards = DashboardControls(window, DASHBOARDS)
    window.resize(1440, 900)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_open_dashboards_are_kept_with_a_layout_and_at_the_next_start(
    qtbot: QtBot, tmp_path: Path
) -> None:
    store = LayoutStore(tmp_path)
    first = window_with_dashboards(qtbot, store)
    controls = first.dashboards
    assert controls is not None
    controls.open("Air")
    controls.docks["Air"].setFloating(True)
    first.dock_panels.save_as("air watch")
    controls.docks["Air"].close()
    controls.open("Roads")
    qtbot.waitUntil(lambda: "Air" not in controls.docks)

    assert first.dock_panels.restore("air watch")
    assert set(controls.docks) == {"Air"}
    assert controls.docks["Air"].isFloating()  # the place the layout kept, not a new tab
    first.close()  # the last used layout is kept: "Air" open, floating

    second = window_with_dashboards(qtbot, store)
    assert second.dashboards is not None
    docks = second.dashboards.docks
    assert set(docks) == {"Air"}
    assert docks["Air"].isVisible() and docks["Air"].isFloating()


def test_a_layout_naming_a_dashboard_the_config_no_longer_has_opens_the_rest(
    qtbot: QtBot, tmp_path: Path
) -> None:
    store = LayoutStore(tmp_path)
    window = window_with_dashboards(qtbot, store)
    assert window.dashboards is not None
    window.dashboards.restore_layout({"open": ["Gone", "Roads", 7]})
    assert set(window.dashboards.docks) == {"Roads"}
