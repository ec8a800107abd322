"""Reading a real map page in tests: JavaScript run in it and its answers as Python data."""

from __future__ import annotations

import json
from typing import Any

from pytestqt.qtbot import QtBot

from widgets.map_view import MapView

TIMEOUT_MS = 15_000


def js(qtbot: QtBot, view: MapView, script: str) -> Any:
    """Run ``script`` in the page and return its result (plain values only)."""
    with qtbot.waitCallback(timeout=TIMEOUT_MS) as callback:
        view.evaluate(script, callback)
    return callback.args[0]


def value(qtbot: QtBot, view: MapView, expression: str) -> Any:
    """Evaluate a JS expression and return it as Python data (through JSON)."""
    with qtbot.waitCallback(timeout=TIMEOUT_MS) as callback:
        view.evaluate_json(expression, callback)
    return callback.args[0]


def call(qtbot: QtBot, view: MapView, function: str, *args: Any) -> Any:
    """Call ``window.cityops.<function>(*args)`` with JSON-encoded arguments."""
    encoded = ",".join(json.dumps(a) for a in args)
    return value(qtbot, view, f"window.cityops.{function}({encoded})")
