"""The headless sub-commands: check-config and export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.model import Alarm, AlarmState, Condition, Reading, Severity
from services.store.cache import OfflineCache
from tests.helpers.cli import run_cityops
from ui.app import main

GOOD = """
[broker]
url = "mqtt://127.0.0.1:1883"
[[feeds]]
name = "air"
topic = "yiyang/env/air/#"
[[rules]]
metric = "pm25"
high = 75
"""


def test_check_config_accepts_a_good_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    assert main(["check-config", str(path)]) == 0
    assert "OK (1 feeds, 1 rules" in capsys.readouterr().out


def test_check_config_names_a_wrong_dashboard_widget_without_failing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "widget.toml"
    path.write_text(
        GOOD + '[[dashboards]]\nname = "Air"\n[[dashboards.widgets]]\nkind = "tile"\nkpi = "Nope"\n'
    )
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1 dashboards)" in out
    assert "warning: dashboards[0].widgets[0].kpi" in out and "'Nope'" in out


def test_bad_config_exits_2_with_one_clear_line_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace("high = 75", "high = 'lots'"))
    for args in (["check-config", str(path)], ["--config", str(path)]):
        result = run_cityops(*args)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1
        assert str(path) in lines[0] and "rules[0].high" in lines[0] and "number" in lines[0]


def test_export_prints_alarms_and_readings(cache_dir: Path) -> None:
    alarm = Alarm(
        entity_id="aq-1",
        metric="pm25",
        condition=Condition.HIGH,
        severity=Severity.MEDIUM,
        state=AlarmState.UNACKNOWLEDGED,
        value=99.0,
        threshold=75.0,
        raised_at=1_800_000_000.0,
        updated_at=1_800_000_000.0,
    )
    readings = [Reading("aq-1", "pm25", float(v), 1_800_000_000.0 + v, "air") for v in range(3)]
    with OfflineCache(cache_dir) as cache:
        cache.write_batch(readings, [], [alarm])
    result = run_cityops("export", "alarms", "--cache-dir", str(cache_dir), "--format", "json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["entity"], row["condition"], row["state"], row["value"]) == (
        "aq-1",
        "high",
        "unacknowledged",
        99.0,
    )
    assert row["raised_at"].startswith("2027-01-15T08:00:00")
    result = run_cityops(
        "export",
        "readings",
        "--cache-dir",
        str(cache_dir),
        "--format",
        "csv",
        "--since",
        "2027-01-15T08:00:01Z",
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1 + 2
    relative = run_cityops(
        "export", "readings", "--cache-dir", str(cache_dir), "--format", "csv",
        "--since", "-36500d", "--until", "2027-01-15T08:00:01Z",
    )  # fmt: skip
    assert relative.returncode == 0, relative.stderr
    assert len(relative.stdout.strip().splitlines()) == 1 + 2
    wrong = run_cityops("export", "readings", "--cache-dir", str(cache_dir), "--since", "soon")
    assert wrong.returncode == 2
    assert "not a time: 'soon'" in wrong.stderr and "-8h" in wrong.stderr


def test_export_without_a_cache_says_so(tmp_path: Path) -> None:
    result = run_cityops("export", "alarms", "--cache-dir", str(tmp_path / "none"))
    assert result.returncode == 1
    assert "no offline cache" in result.stderr
