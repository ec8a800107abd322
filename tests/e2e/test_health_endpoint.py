"""The health endpoint, scraped over HTTP while a real mosquitto goes away and comes back,
and served by a real ``cityops`` process where ``--metrics`` says."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pytestqt.qtbot import QtBot

from services.config import load_config
from services.config.listen import ListenAddress
from services.monitoring import MetricsServer
from services.session import CitySession
from tests.helpers.brokers import MosquittoBroker
from tests.helpers.cli import cityops_command
from tests.helpers.e2e import E2E_CONFIG
from tests.helpers.mqtt import publish
from tests.helpers.net import free_port
from tests.helpers.polling import wait_for
from ui.main_window import MainWindow
from ui.runtime import build_window

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    """Every sample of one scrape, keyed by name and sorted labels."""
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@contextmanager
def window_with_metrics(
    qtbot: QtBot, broker_url: str, folder: Path, cache_dir: Path
) -> Iterator[tuple[CitySession, MainWindow, MetricsServer]]:
    """A live window on ``broker_url`` whose health endpoint listens on a free loopback port,
    wired as ``cityops --metrics`` wires it."""
    config_path = folder / "c.toml"
    config_path.write_text(E2E_CONFIG.format(url=broker_url))
    metrics = MetricsServer(ListenAddress("127.0.0.1", 0))
    metrics.start()
    session = CitySession(load_config(config_path), cache_dir)
    session.start()
    window, bridge = build_window(session, metrics.collector.publish)
    qtbot.addWidget(window)
    window.show()
    try:
        yield session, window, metrics
    finally:
        bridge.stop()
        window.close()
        metrics.stop()
        session.stop()


def reading(value: float) -> bytes:
    return json.dumps({"id": "aq-1", "lat": 28.57, "lon": 112.36, "pm25": value}).encode()


def test_display_live_and_feed_up_follow_the_broker(
    qtbot: QtBot, mosquitto: MosquittoBroker, tmp_path: Path, cache_dir: Path
) -> None:
    with window_with_metrics(qtbot, mosquitto.url, tmp_path, cache_dir) as (_, window, metrics):
        live = ("cityops_display_live", ())
        feed_up = ("cityops_feed_up", (("feed", "air"),))
        broker_up = ("cityops_broker_up", (("broker", "default"),))

        def shows(**expected: float) -> bool:
            got = scrape(metrics.url)
            keys = {"live": live, "feed_up": feed_up, "broker_up": broker_up}
            return all(got.get(keys[name]) == value for name, value in expected.items())

        qtbot.waitUntil(lambda: shows(broker_up=1.0), timeout=10_000)
        publish(mosquitto.url, "yiyang/env/air/aq-1", reading(120))
        qtbot.waitUntil(lambda: shows(live=1.0, feed_up=1.0), timeout=10_000)
        got = scrape(metrics.url)
        assert got[("cityops_messages_total", (("feed", "air"),))] == 1
        assert got[("cityops_alarms_active", (("priority", "medium"),))] == 1
        assert got[("cityops_alarms_unacknowledged", ())] == 1
        assert got[("cityops_cache_writable", ())] == 1
        assert got[("process_resident_memory_bytes", ())] > 0
        assert got[("cityops_feed_last_message_age_seconds", (("feed", "air"),))] < 30

        mosquitto.stop()
        qtbot.waitUntil(lambda: shows(live=0.0, feed_up=0.0, broker_up=0.0), timeout=10_000)
        assert window.banner.isVisible()

        mosquitto.start()
        qtbot.waitUntil(lambda: shows(broker_up=1.0, feed_up=1.0), timeout=20_000)
        publish(mosquitto.url, "yiyang/env/air/aq-1", reading(60))
        messages = ("cityops_messages_total", (("feed", "air"),))
        qtbot.waitUntil(lambda: scrape(metrics.url).get(messages) == 2, timeout=10_000)
        got = scrape(metrics.url)
        assert got[live] == got[feed_up] == 1.0
        assert got[("cityops_alarms_active", (("priority", "medium"),))] == 0
        assert got[("cityops_event_loop_lag_seconds", ())] >= 0


def test_cityops_process_serves_metrics_where_the_command_line_says(
    mosquitto: MosquittoBroker, tmp_path: Path, cache_dir: Path
) -> None:
    config = tmp_path / "c.toml"
    from_config, from_command_line = free_port(), free_port()
    config.write_text(
        E2E_CONFIG.format(url=mosquitto.url) + f'[monitoring]\nlisten = "127.0.0.1:{from_config}"\n'
    )
    url = f"http://127.0.0.1:{from_command_line}/metrics"
    log_path = tmp_path / "app.log"
    command = cityops_command(
        "--config", str(config), "--cache-dir", str(cache_dir), "--metrics", str(from_command_line)
    )
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        )
        try:

            def live() -> bool:
                assert process.poll() is None, log_path.read_text()
                publish(mosquitto.url, "yiyang/env/air/aq-1", reading(20))
                try:
                    return scrape(url).get(("cityops_display_live", ())) == 1.0
                except OSError:
                    return False

            wait_for(live, timeout=60, interval=0.5, what="cityops_display_live 1")
            with pytest.raises(OSError):
                scrape(f"http://127.0.0.1:{from_config}/metrics")
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0, log_path.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    with pytest.raises(OSError):
        scrape(url)
    assert f"serving Prometheus metrics on {url}" in log_path.read_text()
