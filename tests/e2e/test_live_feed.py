"""A real broker → paho → ingest → state hub, alarm table, map page → cache → export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from services.model import AlarmState
from tests.helpers.cli import run_cityops
from tests.helpers.e2e import live_window, run_js
from tests.helpers.mqtt import publish

pytestmark = pytest.mark.e2e


def test_reading_reaches_hub_alarm_table_map_and_export(
    qtbot: QtBot, broker_url: str, tmp_path: Path, cache_dir: Path
) -> None:
    with live_window(qtbot, broker_url, tmp_path, cache_dir) as (session, window):
        payload = {
            "id": "aq-e2e",
            "name": "<img src=x onerror='window.pwned=1'>",
            "lat": 28.57,
            "lon": 112.36,
            "pm25": 120,
        }
        publish(broker_url, "yiyang/env/air/aq-e2e", json.dumps(payload).encode())

        qtbot.waitUntil(
            lambda: session.pipeline.hub.latest("aq-e2e", "pm25") is not None, timeout=10_000
        )
        model = window.alarm_view.model
        qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=10_000)
        alarm = model.alarm_at(0)
        assert (alarm.entity_id, alarm.metric, alarm.state) == (
            "aq-e2e",
            "pm25",
            AlarmState.UNACKNOWLEDGED,
        )

        view = window.map_view
        qtbot.waitUntil(window.map_view.is_ready, timeout=20_000)
        qtbot.waitUntil(
            lambda: run_js(qtbot, view, "window.cityops.markerCount()") == 1, timeout=10_000
        )
        info = run_js(qtbot, view, "window.cityops.markerInfo('aq-e2e')")
        assert info["lat"] == pytest.approx(28.57) and info["lon"] == pytest.approx(112.36)
        assert info["name"] == payload["name"]
        assert run_js(qtbot, view, "typeof window.pwned") == "undefined"

        window.acknowledge_alarms([alarm.id])
        qtbot.waitUntil(lambda: model.alarm_at(0).state is AlarmState.ACKNOWLEDGED, timeout=5_000)

    export = run_cityops("export", "alarms", "--cache-dir", str(cache_dir), check=True)
    rows = json.loads(export.stdout)
    assert [(row["entity"], row["condition"], row["state"]) for row in rows] == [
        ("aq-e2e", "high", "acknowledged")
    ]
    readings = run_cityops("export", "readings", "--cache-dir", str(cache_dir), check=True)
    assert [(row["entity"], row["value"]) for row in json.loads(readings.stdout)] == [
        ("aq-e2e", 120.0)
    ]
