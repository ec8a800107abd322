"""Shared fixtures: isolated settings and cache per test, real MQTT brokers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")

SHARED_INTEROP = Path(__file__).resolve().parents[1].parent / "shared" / "interop"


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every per-user directory at the test's own temporary folder."""
    home = tmp_path / "home"
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        folder = home / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(folder))
    return home


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    """A fresh offline-cache directory for one test."""
    folder = tmp_path / "cache"
    folder.mkdir()
    return folder


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts TCP connections on loopback ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def mosquitto_binary() -> str | None:
    """Path of the mosquitto broker, or None when it is not installed."""
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None
    )


class MosquittoBroker:
    """A real mosquitto process on a free loopback port, for one test."""

    def __init__(self, workdir: Path, extra_config: str = "") -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("mosquitto is not installed")
        self.port = free_port()
        self.workdir = workdir
        self.config_path = workdir / "mosquitto.conf"
        self.config_path.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            f"persistence false\n{extra_config}"
        )
        self.log_path = workdir / "mosquitto.log"
        self._binary = binary
        self._process: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [self._binary, "-c", str(self.config_path)], stdout=self._log, stderr=self._log
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A running mosquitto broker; the test is skipped when mosquitto is missing."""
    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    broker = MosquittoBroker(tmp_path)
    broker.start()
    yield broker
    broker.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Delete every widget (and so every web page) before Qt tears the profiles down.

    pytest-qt closes test widgets with deleteLater, which needs one more turn of the event
    loop; without it the last map page outlives its profile and the process can crash at exit.
    """
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


def pytest_configure(config: pytest.Config) -> None:
    """Register the app's URL scheme before pytest-qt creates the QApplication."""
    from widgets.map_scheme import register_scheme

    register_scheme()
