"""End-to-end tests: the whole app (session and main window) on a real broker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from services.config import load_config
from services.session import CitySession
from ui.main_window import MainWindow
from ui.runtime import build_window

E2E_CONFIG = """
[app]
title = "E2E city"
operator = "e2e"
[broker]
url = "{url}"
[[feeds]]
name = "air"
topic = "yiyang/env/air/#"
format = "json"
domain = "environment"
[[rules]]
metric = "pm25"
high = 75
high_high = 150
[[kpis]]
name = "Mean PM2.5"
metric = "pm25"
min = 0
max = 250
"""


@contextmanager
def live_window(
    qtbot: QtBot, broker_url: str, folder: Path, cache_dir: Path
) -> Iterator[tuple[CitySession, MainWindow]]:
    """A started session on ``broker_url`` with its window shown, connected; stopped after."""
    config_path = folder / "c.toml"
    config_path.write_text(E2E_CONFIG.format(url=broker_url))
    session = CitySession(load_config(config_path), cache_dir)
    session.start()
    window, bridge = build_window(session)
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(
            lambda: bool(session.clients and session.clients[0].connected), timeout=10_000
        )
        yield session, window
    finally:
        bridge.stop()
        window.close()
        session.stop()


def run_js(qtbot: QtBot, view: Any, expression: str) -> Any:
    """Evaluate a JS expression in the map page and return its JSON value."""
    result: list[Any] = []
    view.evaluate_json(expression, result.append)
    qtbot.waitUntil(lambda: bool(result), timeout=10_000)
    return result[0]
