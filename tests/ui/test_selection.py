"""Two-way selection: an alarm row shows its source in the details; Enter or a double
click flies the map to it (opening its cluster) and rings the marker, read back from the
page; a map click fills the details."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from services.config import AppConfig, FeedConfig, RuleConfig
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from tests.helpers.e2e import run_js
from ui.main_window import MainWindow

pytestmark = pytest.mark.webengine
CONFIG = AppConfig(
    source="test",
    feeds=(FeedConfig(name="air", topic="a/#", domain="environment"),),
    rules=(RuleConfig(metric="pm25", high=75),),
)


def station(number: int, pm25: float) -> RawMessage:
    # Stations packed close together, so the map clusters them at the start zoom.
    payload = {
        "id": f"aq-{number:02d}",
        "name": f"Station {number}",
        "lat": 28.57 + number * 0.0004,
        "lon": 112.36 + number * 0.0004,
        "pm25": pm25,
        "ts": 5,
    }
    return RawMessage("air", "a/x", json.dumps(payload).encode(), 5.0)


def test_alarm_row_shows_details_and_enter_locates_it_on_the_map(qtbot: QtBot) -> None:
    pipeline = IngestPipeline(CONFIG, None)
    window = MainWindow(CONFIG, acknowledge=lambda ids, note: None)
    qtbot.addWidget(window)
    window.resize(1440, 900)
    window.show()
    pipeline.process_batch([station(n, 90 if n == 7 else 20) for n in range(12)])
    window.apply_delta(pipeline.take_delta())
    window.refresh_map()
    view = window.map_view
    qtbot.waitUntil(view.is_ready, timeout=20_000)
    qtbot.waitUntil(lambda: run_js(qtbot, view, "window.cityops.markerCount()") == 12)

    alarms = window.alarm_view
    alarms.select_alarm("aq-07|pm25|high")
    assert window.details.entity_id() == "aq-07"
    assert "alarm" not in window.details.title.text().casefold()
    alarms.table.setFocus()
    qtbot.keyClick(alarms.table, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: (run_js(qtbot, view, "window.cityops.focusInfo()") or {}).get("shown") is True,
        timeout=10_000,
    )
    info = run_js(qtbot, view, "window.cityops.focusInfo()")
    assert info["id"] == "aq-07"
    assert info["lat"] == pytest.approx(28.57 + 7 * 0.0004)

    view.entityClicked.emit("aq-03")
    assert window.details.entity_id() == "aq-03"
    assert window.details.metric_row("pm25")["Value"] == "20.0"
