"""Feeds added and removed from the window while it runs, without reconnecting."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from services.config import FeedConfig
from services.model import FeedState
from tests.helpers.e2e import live_window
from tests.helpers.mqtt import publish

pytestmark = pytest.mark.e2e


def test_add_then_remove_a_feed_at_run_time(
    qtbot: QtBot, broker_url: str, tmp_path: Path, cache_dir: Path
) -> None:
    with live_window(qtbot, broker_url, tmp_path, cache_dir) as (session, window):
        (client,) = session.clients
        qtbot.waitUntil(lambda: client.connected, timeout=10_000)
        noise = FeedConfig(name="noise", topic="yiyang/env/noise/#", domain="environment")
        assert window.add_feed(noise) == ""
        qtbot.waitUntil(lambda: window.feed_panel.model.feed("noise") is not None, timeout=5000)

        def reading() -> object:
            return session.pipeline.hub.latest("n-1", "noise_db")

        def publish_until_received() -> bool:
            publish(broker_url, "yiyang/env/noise/n-1", b'{"noise_db": 61}')
            return reading() is not None

        qtbot.waitUntil(publish_until_received, timeout=10_000)
        assert session.clients == [client] and client.connected
        assert "exists already" in window.add_feed(noise)

        panel = window.feed_panel
        assert panel.select_feed("noise")

        def noise_state() -> object:
            health = panel.model.feed("noise")
            return health.state if health else None

        panel.request_pause()
        qtbot.waitUntil(lambda: noise_state() is FeedState.PAUSED, timeout=5000)
        assert "noise" in client.paused
        panel.request_resume()
        qtbot.waitUntil(lambda: noise_state() is FeedState.CONNECTED, timeout=5000)
        assert not client.paused

        assert window.remove_feed("noise") == ""
        qtbot.waitUntil(lambda: window.feed_panel.model.feed("noise") is None, timeout=5000)
        assert "noise" not in session.feed_names()
        assert client.connected
        assert "no MQTT feed" in window.remove_feed("noise")
