"""Run as a user would: the real ``cityops`` process, a broker, SIGTERM, then export."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers.cli import cityops_command, run_cityops
from tests.helpers.e2e import E2E_CONFIG
from tests.helpers.mqtt import publish

pytestmark = pytest.mark.e2e


def test_process_ingests_then_exits_cleanly_on_sigterm_and_export_lists_alarm(
    broker_url: str, tmp_path: Path, cache_dir: Path
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(E2E_CONFIG.format(url=broker_url))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    log_path = tmp_path / "app.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            cityops_command("--config", str(config), "--cache-dir", str(cache_dir)),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            deadline = time.monotonic() + 30
            while "connected to" not in log_path.read_text() and time.monotonic() < deadline:
                assert process.poll() is None, log_path.read_text()
                time.sleep(0.1)
            assert "connected to" in log_path.read_text(), log_path.read_text()
            publish(
                broker_url, "yiyang/env/air/aq-cli", b'{"lat": 28.6, "lon": 112.4, "pm25": 160}'
            )
            time.sleep(1.0)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0, log_path.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    export = run_cityops(
        "export", "alarms", "--cache-dir", str(cache_dir), "--format", "json", check=True
    )
    rows = json.loads(export.stdout)
    assert {(row["entity"], row["condition"]) for row in rows} == {
        ("aq-cli", "high"),
        ("aq-cli", "high_high"),
    }
    assert all(row["state"] == "unacknowledged" for row in rows)
