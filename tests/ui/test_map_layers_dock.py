"""The Map layers dock working on a real window and pipeline: domains offered, layers
switched on the page, heat and tracks filled from what the window and the hub hold, rings
around unacknowledged priority-1 alarms."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from services.auth.roles import Principal, Role
from services.config import AppConfig, FeedConfig, GeofenceConfig, RuleConfig
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.model import Severity
from services.store.cache import OfflineCache
from ui.main_window import MainWindow

pytestmark = [
    pytest.mark.webengine,
    pytest.mark.qt_log_ignore(
        "QRhiGles2", "Failed to create RHI", "GPUInfo not initialized", "Unable to detect GPU"
    ),
]

TIMEOUT_MS = 15_000
TESTER = Principal("tester", Role.OPERATOR, "ws-test")
DEPOT = ((112.30, 28.50), (112.32, 28.50), (112.32, 28.52), (112.30, 28.52), (112.30, 28.50))
CONFIG = AppConfig(
    source="test",
    feeds=(
        FeedConfig(name="air", topic="a/#", domain="environment"),
        FeedConfig(name="bus", topic="b/#", domain="transport"),
    ),
    rules=(
        RuleConfig(
            metric="pm25",
            high=75,
            high_high=150,
            severities={"high": Severity.MEDIUM, "high_high": Severity.CRITICAL},
        ),
    ),
    geofences=(GeofenceConfig(name="Depot <b>", polygons=((DEPOT,),)),),
)


def message(feed: str, entity: str, ts: float, **fields: Any) -> RawMessage:
    payload = {"id": entity, "ts": ts, **fields}
    return RawMessage(feed, f"{feed[0]}/{entity}", json.dumps(payload).encode(), ts)


@pytest.fixture
def pipeline(cache_dir: Path) -> Iterator[IngestPipeline]:
    cache = OfflineCache(cache_dir)
    pipe = IngestPipeline(CONFIG, cache, flush_interval=0.0)
    yield pipe
    pipe.stop()
    cache.close()


@pytest.fixture
def window(qtbot: QtBot, pipeline: IngestPipeline) -> MainWindow:
    win = MainWindow(
        CONFIG,
        acknowledge=lambda ids, note: pipeline.acknowledge(ids, TESTER, note),
        tracks=pipeline.hub.tracks,
    )
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitUntil(win.map_view.is_ready, timeout=TIMEOUT_MS)
    return win


def page(qtbot: QtBot, window: MainWindow, expression: str) -> Any:
    with qtbot.waitCallback(timeout=TIMEOUT_MS) as callback:
        window.map_view.evaluate_json(expression, callback)
    return callback.args[0]


def feed_city(window: MainWindow, pipeline: IngestPipeline) -> None:
    now = time.time()
    batch = [
        message("air", "aq-1", now, lat=28.55, lon=112.35, pm25=40),
        message("air", "aq-2", now, lat=28.57, lon=112.37, pm25=200),
    ]
    batch += [
        message("bus", "bus-7", now - 60 + step, lat=28.50 + 0.01 * step, lon=112.30)
        for step in range(0, 60, 12)
    ]
    pipeline.process_batch(batch)
    window.apply_delta(pipeline.take_delta())
    window.refresh_map()


def test_the_dock_offers_domains_and_switches_layers_on_the_page(
    qtbot: QtBot, window: MainWindow, pipeline: IngestPipeline
) -> None:
    feed_city(window, pipeline)
    panel = window.map_layers.panel
    assert panel.entities_item.childCount() == 2
    # Unticking transport hides the bus on the page.
    for i in range(panel.entities_item.childCount()):
        child = panel.entities_item.child(i)
        if child.data(0, Qt.ItemDataRole.UserRole) == "transport":
            child.setCheckState(0, Qt.CheckState.Unchecked)
    qtbot.waitUntil(
        lambda: page(qtbot, window, "window.cityops.layersInfo().hiddenDomains") == ["transport"],
        timeout=TIMEOUT_MS,
    )
    assert page(qtbot, window, "window.cityops.markerInfo('bus-7').shown") is False
    # Geofences from the config are drawn, their names as text.
    assert page(qtbot, window, "window.cityops.layersInfo().geofenceCount") == 1
    label = "document.querySelector('.cityops-geofence-label').textContent"
    assert page(qtbot, window, label) == "Depot <b>"


def test_heat_tracks_and_attention_come_from_what_the_window_holds(
    qtbot: QtBot, window: MainWindow, pipeline: IngestPipeline
) -> None:
    feed_city(window, pipeline)
    panel = window.map_layers.panel
    panel.restore({"heat": True, "heatMetric": "pm25", "tracks": True, "trackMinutes": 5})
    assert panel.heat_metric.findText("pm25") >= 0
    qtbot.waitUntil(
        lambda: page(qtbot, window, "window.cityops.layersInfo().heatPoints") == 2,
        timeout=TIMEOUT_MS,
    )
    tracks = page(qtbot, window, "window.cityops.trackInfo()")
    assert [(t["id"], t["points"]) for t in tracks] == [("bus-7", 5)]
    # aq-2 is over high-high: a priority-1 alarm waiting, so a ring; acknowledged, none.
    assert window.map_layers.attention_ids() == {"aq-2"}
    qtbot.waitUntil(
        lambda: page(qtbot, window, "window.cityops.layersInfo().attention") == 1,
        timeout=TIMEOUT_MS,
    )
    alarm_ids = [a.id for a in window.alarm_view.model.alarms() if a.entity_id == "aq-2"]
    pipeline.acknowledge(alarm_ids, TESTER, "")
    window.apply_delta(pipeline.take_delta())
    window.map_layers.refresh()
    qtbot.waitUntil(
        lambda: page(qtbot, window, "window.cityops.layersInfo().attention") == 0,
        timeout=TIMEOUT_MS,
    )
    # Switched off, the tracks go.
    panel.restore({"tracks": False})
    qtbot.waitUntil(
        lambda: page(qtbot, window, "window.cityops.layersInfo().trackCount") == 0,
        timeout=TIMEOUT_MS,
    )


def test_tracks_read_before_the_window_knows_their_entities_are_read_again_soon(
    qtbot: QtBot, window: MainWindow, pipeline: IngestPipeline
) -> None:
    """At a start the hub has the restored tracks before the window has the restored city:
    the next refresh reads them again (not ten seconds later)."""
    now = time.time()
    pipeline.process_batch(
        [
            message("bus", "bus-7", now - 60 + step, lat=28.50 + 0.01 * step, lon=112.30)
            for step in range(0, 60, 12)
        ]
    )
    window.map_layers._timer.stop()  # refreshed by hand below, not by its timer
    panel = window.map_layers.panel
    panel.restore({"tracks": True, "trackMinutes": 5})  # read now: bus-7 is unknown yet
    assert page(qtbot, window, "window.cityops.trackInfo()") == []
    window.apply_delta(pipeline.take_delta())
    window.map_layers.refresh()  # the next refresh, two seconds on
    qtbot.waitUntil(
        lambda: [t["id"] for t in page(qtbot, window, "window.cityops.trackInfo()")] == ["bus-7"],
        timeout=TIMEOUT_MS,
    )
