"""A dashboard's map widget: the chosen layers only, held in its fixed bounds, following the
window's entities as they change (read back from the real page)."""

from __future__ import annotations

import json
from pathlib import Path

from pytestqt.qtbot import QtBot

from services.config import load_config
from services.messages import RawMessage
from tests.helpers.dashboards import fed_window
from tests.helpers.e2e import run_js

CONFIG_TEXT = """
[broker]
url = "mqtt://127.0.0.1:1883"

[[feeds]]
name = "air"
topic = "a/#"
domain = "environment"

[[feeds]]
name = "bus"
topic = "b/#"
domain = "transport"

[[dashboards]]
name = "Air map"

[[dashboards.widgets]]
kind = "map"
bounds = [112.30, 28.52, 112.42, 28.62]
layers = ["environment"]
"""


def test_a_dashboard_map_shows_its_layers_within_its_bounds(
    qtbot: QtBot, tmp_path: Path, cache_dir: Path
) -> None:
    path = tmp_path / "city.toml"
    path.write_text(CONFIG_TEXT, encoding="utf-8")
    config = load_config(path)
    with fed_window(qtbot, config, cache_dir) as fed:
        window, pipeline, bridge, controls = fed.window, fed.pipeline, fed.bridge, fed.controls

        def send(feed: str, entity: str, lat: float, lon: float) -> None:
            payload = json.dumps({"id": entity, "lat": lat, "lon": lon, "v": 1.0, "ts": 1.8e9})
            message = RawMessage(feed, f"{feed[0]}/{entity}", payload.encode(), 1.8e9)
            pipeline.process_batch([message])
            bridge.tick()
            window.refresh_map()

        send("air", "aq-1", 28.57, 112.36)  # known before the dashboard opens
        send("bus", "bus-1", 28.58, 112.37)
        view = controls.open("Air map")
        assert view is not None
        (city_map,) = view.maps
        qtbot.waitUntil(city_map.is_ready, timeout=30_000)
        qtbot.waitUntil(lambda: run_js(qtbot, city_map, "window.cityops.markerCount()") == 1)
        send("air", "aq-2", 28.55, 112.33)  # arrives while it is open
        send("bus", "bus-2", 28.56, 112.34)
        qtbot.waitUntil(lambda: run_js(qtbot, city_map, "window.cityops.markerCount()") == 2)
        assert run_js(qtbot, city_map, "window.cityops.markerInfo('bus-1')") is None
        assert run_js(qtbot, city_map, "window.cityops.markerInfo('aq-2')") is not None
        west, south, east, north = run_js(qtbot, city_map, "window.cityops.viewBounds()")
        assert west <= 112.30 and south <= 28.52 and east >= 112.42 and north >= 28.62
        assert east - west < 0.5  # fitted to the box, not the whole province
        dragging = run_js(qtbot, city_map, "window.cityops.dragging()")
        assert dragging is False  # a fixed view
