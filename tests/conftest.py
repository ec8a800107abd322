"""Suite-wide fixtures and hooks: isolated settings and cache per test, a real MQTT broker.

Helpers live in ``tests/helpers``; tests do not import from conftest files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# plain asserts in the helpers report their values like asserts in the tests do
pytest.register_assert_rewrite("tests.helpers")

from tests.helpers.brokers import MosquittoBroker, mosquitto_binary  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")
# English whatever the developer's locale: the window (and a cityops a test starts) picks
# its language from LANGUAGE, LC_ALL, LC_MESSAGES and LANG.
os.environ["LC_ALL"] = "C.UTF-8"
os.environ["LANGUAGE"] = "en"


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
    """Register the app's URL scheme before pytest-qt creates the QApplication, and choose
    how web views draw as the app does."""
    from ui.rendering import use_rendering
    from widgets.map_scheme import register_scheme

    register_scheme()

    use_rendering()  # as the app chooses by default ("auto")
