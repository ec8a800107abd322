"""Start-up problems end in one line and an exit code, never a traceback or a Qt abort.

Each case runs ``cityops`` as a process: a hostile or broken config (``check-config``,
``--config``, ``run --config``), a display plugin missing a system library, no display at
all, the metrics port in use, ``cityops export … | head``; a bad config started from a
desktop launcher (no terminal) also shows a message box, on a real X server (Xvfb) when
there is one.
"""

from __future__ import annotations

import os
import pty
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

import ui.app
from services.model import Reading
from services.store.cache import OfflineCache
from tests.helpers.cli import cityops_command
from tests.helpers.config_abuse import ABUSIVE_CONFIGS, AbusiveConfig, expected_line
from tests.helpers.net import free_port
from ui.startup import XCB_LIBRARIES, display_problem, launched_without_terminal

CONFIG_COMMANDS = {
    "check-config": ("check-config", "{path}"),
    "--config": ("--config", "{path}"),
    "run --config": ("run", "--config", "{path}"),
}
BAD_CONFIG = b'[app]\ntitle = "caf\xe9"\n'
BAD_CONFIG_PROBLEM = "is not UTF-8 text (byte 18, line 2); save it as UTF-8"


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cityops_command(*args),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=timeout,
        check=False,
    )


def one_line(stderr: str) -> str:
    """The only line of ``stderr`` (fails on a traceback or any second line)."""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def environment(**changes: str | None) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


# -- config abuse, in every command that reads a config ----------------------------------


@pytest.mark.parametrize("command", list(CONFIG_COMMANDS))
@pytest.mark.parametrize("case", ABUSIVE_CONFIGS, ids=lambda case: case.name)
def test_abusive_config_is_one_line_and_exit_2(
    tmp_path: Path, case: AbusiveConfig, command: str
) -> None:
    path = case.write(tmp_path)
    args = [part.format(path=path) for part in CONFIG_COMMANDS[command]]
    result = (
        run(*args, "--cache-dir", str(tmp_path / "cache"))
        if command != "check-config"
        else run(*args)
    )
    assert result.returncode == 2, result.stderr
    assert one_line(result.stderr).startswith(expected_line(path, case))
    assert result.stdout == ""


# -- headless commands as Unix tools -------------------------------------------------------


@pytest.fixture
def big_cache(cache_dir: Path) -> Path:
    """A cache with far more readings than a pipe buffers."""
    start = time.time() - 3600
    readings = [
        Reading(f"aq-{n % 50:02d}", "pm25", float(n), start + n * 0.01, "air", "µg/m³")
        for n in range(20_000)
    ]
    with OfflineCache(cache_dir) as cache:
        cache.write_batch(readings, [], [])
    return cache_dir


@pytest.mark.parametrize("format_name", ["json", "csv"])
def test_export_into_a_closed_pipe_ends_quietly(big_cache: Path, format_name: str) -> None:
    export = shlex.join(
        cityops_command(
            "export", "readings", "--format", format_name, "--cache-dir", str(big_cache)
        )
    )
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {export} | head -n 2"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stderr == ""
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 2


# -- the display ---------------------------------------------------------------------------

MISSING_CURSOR_LIBRARY = """
import ctypes, sys
real = ctypes.CDLL
def load(name, *args, **kwargs):
    if name == "libxcb-cursor.so.0":
        raise OSError(name + ": cannot open shared object file: No such file or directory")
    return real(name, *args, **kwargs)
ctypes.CDLL = load
from ui.app import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("platform", ["xcb", None])
def test_missing_xcb_library_is_one_line_naming_the_package(
    tmp_path: Path, platform: str | None
) -> None:
    # The display does not exist either: without the check Qt would abort.
    env = environment(QT_QPA_PLATFORM=platform, DISPLAY=":97", WAYLAND_DISPLAY=None)
    result = subprocess.run(
        [sys.executable, "-c", MISSING_CURSOR_LIBRARY, "--demo", "--cache-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        "cityops: the display cannot start: Qt's xcb plugin needs libxcb-cursor.so.0, but it "
        "is not installed; install with: sudo apt-get install libxcb-cursor0"
    )


def test_no_display_at_all_is_one_line(tmp_path: Path) -> None:
    env = environment(QT_QPA_PLATFORM=None, DISPLAY=None, WAYLAND_DISPLAY=None)
    result = run("--demo", "--cache-dir", str(tmp_path), env=env)
    assert result.returncode == 1
    assert one_line(result.stderr).startswith("cityops: no display to open the window on")


def test_display_problem_names_every_missing_package() -> None:
    def load(name: str) -> object:
        if name in ("libxcb-cursor.so.0", "libxkbcommon-x11.so.0"):
            raise OSError(name)
        return None

    problem = display_problem({"DISPLAY": ":0"}, "linux", load)
    assert problem is not None
    assert problem.endswith("sudo apt-get install libxcb-cursor0 libxkbcommon-x11-0")
    assert display_problem({"DISPLAY": ":0"}, "linux", lambda name: None) is None
    no_display = display_problem({"QT_QPA_PLATFORM": "xcb"}, "linux", lambda name: None)
    assert no_display is not None and no_display.startswith("no display")
    # Other plugins, other systems: not our business.
    for env in ({"QT_QPA_PLATFORM": "offscreen"}, {"WAYLAND_DISPLAY": "wayland-0"}):
        assert display_problem(env, "linux", load) is None
    assert display_problem({}, "darwin", load) is None
    assert set(XCB_LIBRARIES.values()) >= {"libxcb-cursor0", "libxkbcommon-x11-0"}


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_launched_without_terminal() -> None:
    on_desktop = {"DISPLAY": ":0"}
    pipe, terminal = _Stream(False), _Stream(True)
    assert launched_without_terminal(on_desktop, pipe, pipe, "linux")  # type: ignore[arg-type]
    assert not launched_without_terminal(on_desktop, terminal, pipe, "linux")  # type: ignore[arg-type]
    assert not launched_without_terminal(on_desktop, pipe, terminal, "linux")  # type: ignore[arg-type]
    for env in (
        {"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"},
        {"QT_QPA_PLATFORM": "minimal"},
        {},
    ):
        assert not launched_without_terminal(env, pipe, pipe, "linux")  # type: ignore[arg-type]
    assert launched_without_terminal({}, pipe, pipe, "win32")  # type: ignore[arg-type]


def test_bad_config_from_a_launcher_shows_a_message_box(
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "city.toml"
    path.write_bytes(BAD_CONFIG)
    monkeypatch.setattr(ui.app, "launched_without_terminal", lambda: True)
    monkeypatch.setattr(ui.app, "display_problem", lambda: None)
    shown: list[tuple[str, str]] = []

    def close_box() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, close_box)
            return
        shown.append((box.windowTitle(), box.text()))
        box.done(0)

    QTimer.singleShot(50, close_box)
    assert ui.app.main(["--config", str(path), "--cache-dir", str(tmp_path)]) == 2
    line = f"config error: {path}: {BAD_CONFIG_PROBLEM}"
    assert shown == [("CityOps cannot start", line)]
    assert capsys.readouterr().err == f"cityops: {line}\n"


# -- on a real X server ----------------------------------------------------------------------


@pytest.fixture
def xvfb() -> Iterator[str]:
    """A private X server (Xvfb); its DISPLAY value."""
    if shutil.which("Xvfb") is None or shutil.which("xwininfo") is None:
        pytest.skip("Xvfb and xwininfo are not installed")
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-nolisten", "tcp", "-screen", "0", "1280x800x24"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as numbers:
            number = numbers.readline().strip()
        if not number:
            pytest.skip("Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def window_names(display: str) -> str:
    return subprocess.run(
        ["xwininfo", "-root", "-tree", "-display", display],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    ).stdout


def test_bad_config_from_a_launcher_on_a_real_display(tmp_path: Path, xvfb: str) -> None:
    path = tmp_path / "city.toml"
    path.write_bytes(BAD_CONFIG)
    env = environment(QT_QPA_PLATFORM="xcb", DISPLAY=xvfb, WAYLAND_DISPLAY=None)
    process = subprocess.Popen(
        cityops_command("--config", str(path)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while "CityOps cannot start" not in window_names(xvfb):
            assert process.poll() is None, "exited without showing the message box"
            assert time.monotonic() < deadline, "no message box on the display"
            time.sleep(0.2)
    finally:
        process.terminate()
        _out, stderr = process.communicate(timeout=10)
    assert one_line(stderr) == f"cityops: config error: {path}: {BAD_CONFIG_PROBLEM}"


def test_bad_config_in_a_terminal_shows_no_message_box(tmp_path: Path, xvfb: str) -> None:
    path = tmp_path / "city.toml"
    path.write_bytes(BAD_CONFIG)
    env = environment(QT_QPA_PLATFORM="xcb", DISPLAY=xvfb, WAYLAND_DISPLAY=None)
    leader, terminal = pty.openpty()
    try:
        result = subprocess.run(
            cityops_command("--config", str(path)),
            stdin=terminal,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(leader)
    assert result.returncode == 2
    assert one_line(result.stderr) == f"cityops: config error: {path}: {BAD_CONFIG_PROBLEM}"


# -- the metrics endpoint ----------------------------------------------------------------------


def test_metrics_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = tmp_path / "city.toml"
        path.write_text(f'[monitoring]\nlisten = "127.0.0.1:{port}"\n')
        result = run("--config", str(path), "--cache-dir", str(tmp_path / "cache"))
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        f"cityops: cannot serve metrics on 127.0.0.1:{port}: port {port} is in use by another "
        "program"
    )


def test_bad_metrics_address_on_the_command_line(tmp_path: Path) -> None:
    result = run(
        "--demo", "--metrics", f"127.0.0.1:{free_port()}0000", "--cache-dir", str(tmp_path)
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        "cityops run: error: argument --metrics: port "
    )
