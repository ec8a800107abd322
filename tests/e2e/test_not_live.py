"""The broker dies mid-shift: the window says NOT LIVE and draws stale, then recovers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.helpers.brokers import MosquittoBroker, mosquitto_binary
from tests.helpers.e2e import live_window, run_js
from tests.helpers.mqtt import publish

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(mosquitto_binary() is None, reason="needs mosquitto"),
]
KEEPALIVE_S = 30  # the e2e config's broker keepalive (the default)


def reading(value: float) -> bytes:
    return json.dumps({"id": "aq-1", "lat": 28.57, "lon": 112.36, "pm25": value}).encode()


def test_broker_killed_means_not_live_and_stale_until_it_is_back(
    qtbot: QtBot, tmp_path: Path, cache_dir: Path
) -> None:
    broker = MosquittoBroker(tmp_path)
    broker.start()
    try:
        with live_window(qtbot, broker.url, tmp_path, cache_dir) as (session, window):
            view = window.map_view

            def marker_stale() -> object:
                info = run_js(qtbot, view, "window.cityops.markerInfo('aq-1')")
                return None if info is None else info["stale"]

            publish(broker.url, "yiyang/env/air/aq-1", reading(20))
            qtbot.waitUntil(view.is_ready, timeout=20_000)
            qtbot.waitUntil(lambda: marker_stale() is False, timeout=10_000)
            qtbot.waitUntil(lambda: window.banner.line("live") is None, timeout=10_000)
            assert window.freshness_label.text() == "Live"

            broker.stop()
            bound = int(KEEPALIVE_S * 1.5 * 1000)
            qtbot.waitUntil(lambda: window.banner.line("live") is not None, timeout=bound)
            line = window.banner.line("live") or ""
            assert line.startswith("NOT LIVE — broker ") and " down since " in line
            assert window.banner.isVisible()
            qtbot.waitUntil(lambda: marker_stale() is True, timeout=bound)
            window.refresh_kpis()
            assert window.gauges["Mean PM2.5"].is_stale()

            broker.start()
            qtbot.waitUntil(lambda: window.banner.line("live") is None, timeout=15_000)
            assert marker_stale() is True  # nothing new from the station yet: still stale
            publish(broker.url, "yiyang/env/air/aq-1", reading(21))
            qtbot.waitUntil(lambda: marker_stale() is False, timeout=10_000)
            assert session.pipeline.hub.latest("aq-1", "pm25") is not None
    finally:
        broker.stop()
