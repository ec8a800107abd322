"""The config file changing under a running window: dashboards, KPIs and the wall's pages
take the new definitions, a wrong widget shows its problem in its own frame, and a broken
file keeps the config in use and says why."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent
from pytestqt.qtbot import QtBot

from services.config import load_config
from tests.ui.test_dashboards import CONFIG_TEXT
from ui.config_reload import ConfigReloader
from ui.dashboards import DashboardControls
from ui.kiosk import KioskWindow
from ui.main_window import MainWindow

KIOSK = '\n[kiosk]\npages = ["Air", "alarms"]\n'
MORE = """
[[kpis]]
name = "Least PM2.5"
metric = "pm25"
aggregate = "min"
max = 250

[[dashboards]]
name = "Night"

[[dashboards.widgets]]
kind = "tile"
kpi = "Least PM2.5"
"""


def save(path: Path, text: str) -> None:
    """Save as editors do: a new file renamed over the old one."""
    fresh = path.with_suffix(".tmp")
    fresh.write_text(text, encoding="utf-8")
    os.replace(fresh, path)


def test_a_changed_config_is_taken_and_a_broken_one_is_not(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "city.toml"
    path.write_text(CONFIG_TEXT + KIOSK, encoding="utf-8")
    config = load_config(path)
    window = MainWindow(config, acknowledge=lambda ids, note: None)
    qtbot.addWidget(window)
    window.show()
    window.dashboards = controls = DashboardControls(window, config)
    wall = KioskWindow(window, config)
    qtbot.addWidget(wall)
    reloader = ConfigReloader(config, parent=window)
    reloader.reloaded.connect(window.apply_config)
    reloader.failed.connect(window.show_config_problem)
    view = controls.open("Air")
    assert view is not None and len(view.tiles) == 1
    assert sorted(window.gauges) == ["Mean PM2.5", "Worst PM2.5"]

    # The tile now names a KPI that does not exist; a new KPI and dashboard; the wall's
    # playlist changes.
    changed = (CONFIG_TEXT + MORE + KIOSK).replace(
        'kind = "tile"\nkpi = "Worst PM2.5"', 'kind = "tile"\nkpi = "Wrost PM2.5"', 1
    )
    changed = changed.replace('pages = ["Air", "alarms"]', 'pages = ["Night", "Air"]')
    with qtbot.waitSignal(reloader.reloaded, timeout=5000):
        save(path, changed)
    new_view = controls.views["Air"]
    assert new_view is not view and new_view.tiles == {}
    problems = [label.text() for label in new_view.problems]
    assert any("widgets[1].kpi" in text and "Wrost PM2.5" in text for text in problems)
    assert len(new_view.gauges) == 1  # the rest of the dashboard still works
    assert [action.text() for action in controls.menu.actions()] == ["Air", "Night"]
    assert controls.menu.actions()[1].shortcut().toString() == "Ctrl+Alt+2"
    assert sorted(window.gauges) == ["Least PM2.5", "Mean PM2.5", "Worst PM2.5"]
    assert wall.page_names == ["Night", "Air"] and wall.page() == "Air"  # stays on its page
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # old pages gone
    window.refresh_kpis()  # the new dashboards are fed, also once the old ones are deleted
    assert window.dashboards is not None
    assert {"kiosk:Night", "kiosk:Air"} <= window.dashboards.pages.keys()

    with qtbot.waitSignal(reloader.failed, timeout=5000) as failed:
        save(path, changed + "\n[[dashboards]\n")  # a TOML syntax error
    assert str(path) in failed.args[0]
    assert "Config not reloaded" in window.statusBar().currentMessage()
    assert str(path) in (wall.banner.line("message") or "")
    assert [action.text() for action in controls.menu.actions()] == ["Air", "Night"]

    with qtbot.waitSignal(reloader.reloaded, timeout=5000):
        save(path, CONFIG_TEXT + KIOSK)  # mended, and back to the first
    assert [action.text() for action in controls.menu.actions()] == ["Air"]
    assert wall.page_names == ["Air", "alarms"]


def test_a_wall_reloaded_without_its_map_gives_the_map_back(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "city.toml"
    path.write_text(CONFIG_TEXT + '\n[kiosk]\npages = ["map", "alarms"]\n', encoding="utf-8")
    config = load_config(path)
    window = MainWindow(config, acknowledge=lambda ids, note: None)
    qtbot.addWidget(window)
    window.dashboards = DashboardControls(window, config)
    wall = KioskWindow(window, config)
    qtbot.addWidget(wall)
    assert wall.pages.indexOf(window.map_view) == 0
    path.write_text(CONFIG_TEXT + '\n[kiosk]\npages = ["alarms"]\n', encoding="utf-8")
    window.apply_config(load_config(path))
    assert wall.page_names == ["alarms"]
    assert window.dock_panels.docks["map"].widget() is window.map_view  # back in its dock
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    window.refresh_map()  # still there
