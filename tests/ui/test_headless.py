"""The headless commands (``export``, ``check-config``, ``users``, ``sim``) import no Qt, and
the demo only when they need it (``sim``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from services.store.cache import OfflineCache
from ui.cli import parse_arguments

# Runs ``cityops`` in a fresh interpreter, then reports on its last line what got imported.
PROBE = """
import json, logging, sys
from ui.app import main
code = main(sys.argv[1:])
modules = sorted(sys.modules)
print(json.dumps({
    "code": code,
    "qt": [m for m in modules if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph")],
    "demo": [m for m in modules if m.startswith("services.demo")],
    "window": [m for m in modules if m in ("ui.runtime", "ui.main_window", "widgets")],
    "log_level": logging.getLevelName(logging.getLogger().level),
}))
"""

GOOD_CONFIG = """
[broker]
url = "mqtt://127.0.0.1:1883"
[[feeds]]
name = "air"
topic = "yiyang/env/air/#"
"""


def probe(*args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def test_export_imports_neither_qt_nor_the_demo(cache_dir: Path) -> None:
    OfflineCache(cache_dir).close()
    report = probe("export", "alarms", "--cache-dir", str(cache_dir), "--log-level", "ERROR")
    assert report == {"code": 0, "qt": [], "demo": [], "window": [], "log_level": "ERROR"}


def test_check_config_imports_neither_qt_nor_the_demo(tmp_path: Path) -> None:
    path = tmp_path / "city.toml"
    path.write_text(GOOD_CONFIG)
    report = probe("check-config", str(path))
    assert report == {"code": 0, "qt": [], "demo": [], "window": [], "log_level": "WARNING"}
    path.write_text(GOOD_CONFIG.replace("mqtt://", "http://"))
    assert probe("check-config", str(path))["code"] == 2


def test_users_imports_neither_qt_nor_the_demo(tmp_path: Path) -> None:
    path = tmp_path / "city.toml"
    path.write_text('[auth]\nusers_file = "users.json"\n')
    report = probe("users", "list", "--config", str(path))
    assert report == {"code": 0, "qt": [], "demo": [], "window": [], "log_level": "WARNING"}


def test_sim_imports_the_demo_but_no_qt_and_logs_as_asked() -> None:
    # A bad broker URL ends the command before it connects anywhere.
    report = probe("sim", "--broker", "http://127.0.0.1:1883", "--log-level", "ERROR")
    assert report["code"] == 2
    assert report["qt"] == [] and report["window"] == []
    assert "services.demo.loadgen" in report["demo"]
    assert report["log_level"] == "ERROR"


def test_sim_help_lists_the_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_arguments(["sim", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "--scenario NAME" in out
    for name in ("normal", "rainstorm-flood", "rush-hour-gridlock", "sensor-failures"):
        assert name in out


def test_an_unknown_scenario_exits_2_naming_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_arguments(["sim", "--scenario", "nosuch"])
    assert exited.value.code == 2
    assert (
        "cityops sim: error: argument --scenario: invalid choice: 'nosuch' (choose from "
        "'normal', 'rainstorm-flood', 'rush-hour-gridlock', 'sensor-failures')"
    ) in capsys.readouterr().err
    assert parse_arguments(["sim", "--scenario", "sensor-failures"]).scenario == "sensor-failures"


def test_report_checks_its_options_without_qt(cache_dir: Path, tmp_path: Path) -> None:
    OfflineCache(cache_dir).close()
    out = str(tmp_path / "report.pdf")
    report = probe(
        "report", "--since", "-1h", "--until", "-2h", "--out", out, "--cache-dir", str(cache_dir)
    )
    assert report == {"code": 2, "qt": [], "demo": [], "window": [], "log_level": "WARNING"}


def test_report_draws_with_qt_but_never_loads_the_window(cache_dir: Path, tmp_path: Path) -> None:
    OfflineCache(cache_dir).close()
    out = tmp_path / "report.pdf"
    report = probe("report", "--since", "-1h", "--out", str(out), "--cache-dir", str(cache_dir))
    assert report["code"] == 0 and out.read_bytes().startswith(b"%PDF")
    assert "PySide6.QtGui" in report["qt"] and "PySide6.QtWebEngineWidgets" not in report["qt"]
    assert report["window"] == ["widgets"]  # the formatter and palette, not the window


def test_review_opens_the_window_in_the_review_workspace() -> None:
    assert parse_arguments([]).review is None  # live
    assert parse_arguments(["--review"]).review == "shift"
    assert parse_arguments(["--review", "hour"]).review == "hour"
    assert parse_arguments(["run", "--review", "day"]).review == "day"
    with pytest.raises(SystemExit):
        parse_arguments(["--review", "week"])


def test_kiosk_is_a_flag() -> None:
    assert not parse_arguments([]).kiosk
    assert parse_arguments(["--kiosk"]).kiosk
