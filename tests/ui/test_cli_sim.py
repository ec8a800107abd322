"""``cityops sim``: arguments, a real headless run against mosquitto, clear failures."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from tests.helpers.brokers import MosquittoBroker
from tests.helpers.cli import cityops_command, run_cityops
from tests.helpers.mqtt import Subscriber
from tests.helpers.net import free_port
from ui.cli import parse_arguments

SUMMARY = re.compile(
    r"^cityops sim: (\d+) messages in ([\d.]+) s = (\d+) msg/s \(target (\d+) msg/s\); "
    r"1 process, QoS 0, (\d+) entities, scenario (\S+), CPU [\d.]+ s",
    re.MULTILINE,
)


def test_sim_arguments_are_parsed_with_defaults() -> None:
    args = parse_arguments(["sim"])
    assert args.command == "sim"
    assert args.broker == "mqtt://127.0.0.1:1883"
    assert (args.rate, args.entities, args.duration) == (None, None, 0.0)
    assert (args.scenario, args.qos, args.seed, args.speed) == ("normal", 0, 0, 1.0)
    assert args.processes == 0
    args = parse_arguments(
        [
            "sim",
            "--broker",
            "mqtt://broker.example:1884",
            "--rate",
            "20000",
            "--entities",
            "5000",
            "--duration",
            "30",
            "--scenario",
            "rainstorm-flood",
            "--qos",
            "1",
            "--seed",
            "42",
            "--speed",
            "60",
            "--processes",
            "2",
        ]
    )
    assert (args.rate, args.entities, args.duration, args.speed) == (20000.0, 5000, 30.0, 60.0)
    assert (args.scenario, args.qos, args.seed, args.processes) == ("rainstorm-flood", 1, 42, 2)


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--rate", "0"], "greater than 0"),
        (["--rate", "fast"], "not a number"),
        (["--rate", "nan"], "finite"),
        (["--entities", "0"], "at least 1"),
        (["--entities", "2.5"], "whole number"),
        (["--duration", "-1"], "at least 0"),
        (["--scenario", "earthquake"], "invalid choice"),
        (["--qos", "3"], "invalid choice"),
    ],
)
def test_bad_sim_arguments_exit_2_naming_the_option(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_arguments(["sim", *argv])
    assert exited.value.code == 2
    assert problem in capsys.readouterr().err


def test_sim_runs_headless_and_prints_its_achieved_rate(mosquitto: MosquittoBroker) -> None:
    code = (
        "import sys\n"
        "from ui.app import main\n"
        "code = main(sys.argv[1:])\n"
        "qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6'))\n"
        "print('qt modules:', qt)\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "sim",
            "--broker",
            mosquitto.url,
            "--rate",
            "800",
            "--duration",
            "1.5",
            "--entities",
            "40",
            "--scenario",
            "rush-hour-gridlock",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    assert result.returncode == 0, result.stderr
    assert "qt modules: []" in result.stdout
    match = SUMMARY.search(result.stdout)
    assert match, result.stdout
    count, _, rate, target, entities, scenario = match.groups()
    assert (int(count), int(target), int(entities), scenario) == (
        1200,
        800,
        40,
        "rush-hour-gridlock",
    )
    assert int(rate) > 0  # held within 5 %: the perf test in tests/services/test_loadgen.py
    assert "publishing scenario rush-hour-gridlock" in result.stderr
    assert "Traceback" not in result.stderr


def test_sim_ends_cleanly_on_sigterm_with_a_summary(mosquitto: MosquittoBroker) -> None:
    subscriber = Subscriber(mosquitto.port, ["#"])
    process = subprocess.Popen(
        cityops_command("sim", "--broker", mosquitto.url, "--speed", "60"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        assert "publishing" in process.stderr.readline()
        subscriber.get(timeout=30)  # it has published
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        subscriber.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "city pace, every 1 s" in out
    assert re.search(r"cityops sim: [1-9]\d* messages", out), out


def test_unreachable_broker_exits_1_with_one_clear_line() -> None:
    result = run_cityops("sim", "--broker", f"mqtt://127.0.0.1:{free_port()}", "--duration", "1")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "cannot reach broker" in result.stderr.strip().splitlines()[-1]


def test_bad_broker_url_or_missing_password_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cityops("sim", "--broker", "http://127.0.0.1:1883", "--duration", "1")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "cityops: must start with mqtt://, mqtts://, ws:// or wss://, got 'http://127.0.0.1:1883'"
    ]
    monkeypatch.delenv("CITYOPS_TEST_NO_SUCH_SECRET", raising=False)
    result = run_cityops("sim", "--password-env", "CITYOPS_TEST_NO_SUCH_SECRET")
    assert result.returncode == 2
    assert "CITYOPS_TEST_NO_SUCH_SECRET is not set" in result.stderr
