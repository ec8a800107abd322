"""Dashboards from the config open from the Dashboards menu: gauges and KPI tiles fed by the
window's KPI timer, the alarm summary, and a wrong widget showing its problem in its frame
while the rest works."""

from __future__ import annotations

import json
import time
from pathlib import Path

from pytestqt.qtbot import QtBot

from services.config import load_config
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.model import Entity
from services.store.cache import OfflineCache
from tests.helpers.dashboards import fed_window

CONFIG_TEXT = """
[broker]
url = "mqtt://127.0.0.1:1883"

[[feeds]]
name = "air"
topic = "a/#"
domain = "environment"

[[rules]]
metric = "pm25"
high = 75

[[kpis]]
name = "Mean PM2.5"
metric = "pm25"
max = 250
warn = 75
alarm = 150

[[kpis]]
name = "Worst PM2.5"
metric = "pm25"
aggregate = "max"
max = 250
warn = 75
alarm = 150

[[dashboards]]
name = "Air"
columns = 3

[[dashboards.widgets]]
kind = "gauge"
kpi = "Mean PM2.5"
row = 0
column = 0

[[dashboards.widgets]]
kind = "tile"
kpi = "Worst PM2.5"
row = 0
column = 1

[[dashboards.widgets]]
kind = "alarms"
row = 0
column = 2

[[dashboards.widgets]]
kind = "tile"
kpi = "No such KPI"
row = 1
column = 0

[[dashboards.widgets]]
kind = "bars"
count = "alarms"
by = "priority"
row = 1
column = 1

[[dashboards.widgets]]
kind = "top"
metric = "pm25"
n = 1
row = 1
column = 2

[[dashboards.widgets]]
kind = "trend"
series = ["Mean PM2.5"]
row = 2
column = 0
"""


def test_a_dashboard_shows_its_kpis_alarms_and_the_problem_of_a_wrong_widget(
    qtbot: QtBot, tmp_path: Path, cache_dir: Path
) -> None:
    path = tmp_path / "city.toml"
    path.write_text(CONFIG_TEXT, encoding="utf-8")
    config = load_config(path)
    with fed_window(qtbot, config, cache_dir) as fed:
        window, pipeline, bridge, controls = fed.window, fed.pipeline, fed.bridge, fed.controls
        assert [a.text() for a in controls.menu.actions()] == ["Air"]
        assert controls.menu.actions()[0].shortcut().toString() == "Ctrl+Alt+1"

        view = controls.open("Air")
        assert view is not None and view.isVisible()
        dock = controls.docks["Air"]
        assert dock.widget() is view and not dock.isFloating()  # a dock of the workstation
        assert window.tabifiedDockWidgets(dock) == [window.dock_panels.docks["map"]]
        (problem,) = [p.text() for p in view.problems if "cannot be shown" in p.text()]
        assert "dashboards[0].widgets[3].kpi" in problem and "No such KPI" in problem
        (trend,) = view.trends
        assert trend.view.series_keys() == ["Mean PM2.5"]

        for entity, value in (("aq-1", 40.0), ("aq-2", 160.0)):
            payload = json.dumps({"id": entity, "pm25": value, "ts": 1.8e9})
            pipeline.process_batch([RawMessage("air", f"a/{entity}", payload.encode(), 1.8e9)])
        bridge.tick()
        window.update_freshness()
        window.refresh_kpis()
        ((_, gauge),) = view.gauges.values()
        assert gauge.value() is None  # drawn by the redraw clock's frames, not at once
        assert controls.clock.pending() > 0
        controls.clock.flush()

        ((_, tile),) = view.tiles.values()
        assert gauge.value() == 100.0  # the mean of 40 and 160
        assert tile.value_text().startswith("160")
        assert tile.status() in {"alarm", "stale"}  # past 150; stale while not live
        ((_, summary),) = view.summaries
        assert sum(summary.counts.values()) == 1  # aq-2's high alarm
        assert controls.history.points("Worst PM2.5")[-1][1] == 160.0
        ((_, chart),) = view.charts.values()
        assert [(b.label, b.value) for b in chart.bars()] == [
            ("Critical", 0.0),
            ("High", 0.0),
            ("Medium", 1.0),  # aq-2's alarm (a rule's high is medium here)
            ("Low", 0.0),
        ]
        times, means = trend.view.drawn_points("Mean PM2.5")
        assert list(means)[-1] == 100.0 and len(times) >= 1

        ((_, table),) = view.tables.values()
        assert [(row.entity_id, row.value) for row in table.rows()] == [("aq-2", 160.0)]

        window.close()  # closes the dashboards with it
        assert controls.views == {}


TREND_CONFIG = (
    CONFIG_TEXT.split("[[dashboards]]", maxsplit=1)[0]
    + """
[[dashboards]]
name = "History"

[[dashboards.widgets]]
kind = "trend"
series = ["Mean PM2.5", "aq-1/pm25"]
window = "6h"
"""
)


def test_a_trend_starts_from_the_past_kept_in_the_cache(
    qtbot: QtBot, tmp_path: Path, cache_dir: Path
) -> None:
    path = tmp_path / "city.toml"
    path.write_text(TREND_CONFIG, encoding="utf-8")
    config = load_config(path)
    now = time.time()
    past = [(now - hours * 3600, 10.0 * hours) for hours in (5, 4, 3, 2)]
    with OfflineCache(cache_dir) as cache:  # the history, stored before the window starts
        pipeline = IngestPipeline(config, cache, flush_interval=0.0)
        for ts, value in past:
            payload = json.dumps({"id": "aq-1", "pm25": value, "ts": ts})
            pipeline.process_batch([RawMessage("air", "a/aq-1", payload.encode(), ts)])
        pipeline.flush_cache(force=True)
        pipeline.stop()
    with fed_window(qtbot, config, cache_dir) as fed:
        controls = fed.controls
        view = controls.open("History")
        assert view is not None
        (trend,) = view.trends

        def drawn(key: str) -> list[float]:
            trend.feed(
                {}, kpi_memory=lambda _n: [], latest={}, ts=time.time(), stale=False, live=True
            )
            return [float(v) for v in trend.view.drawn_points(key)[1]]

        # The entity's readings as stored; the KPI (the mean over aq-1) at moments after
        # each: both read on the dashboards' thread, not the GUI's.
        qtbot.waitUntil(lambda: drawn("aq-1/pm25") == [50.0, 40.0, 30.0, 20.0], timeout=10_000)
        kpi_values = drawn("Mean PM2.5")
        assert set(kpi_values) == {50.0, 40.0, 30.0, 20.0}  # the KPI at many moments
        assert trend.view.legend_texts() == ["Mean PM2.5", "aq-1 · pm25"]
        fed.window.entities["aq-1"] = Entity("aq-1", "Taohualun station")  # heard of later
        trend.redraw()  # the redraw clock's frame names the line after its entity
        assert trend.view.legend_texts() == ["Mean PM2.5", "Taohualun station · pm25"]
        # The KPIs' last hour read back too, for the tiles' change and sparkline.
        qtbot.waitUntil(lambda: bool(controls.history.points("Mean PM2.5")), timeout=10_000)
        seeded = controls.history.points("Mean PM2.5")
        assert {value for _ts, value in seeded} == {20.0}  # the newest value by then
        assert seeded[0][0] >= now - 3_900 and len(seeded) > 60
