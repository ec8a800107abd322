"""The map's hover tooltip is readable: as wide as its text needs up to 320 px, never
squeezed to a few characters with words broken mid-character."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import shiboken6
from PySide6.QtWebEngineCore import QWebEngineProfile
from pytestqt.qtbot import QtBot

from services.model import Entity
from tests.helpers.e2e import run_js
from widgets.map_view import MapView

pytestmark = pytest.mark.webengine
LONG_NAME = "赫山区龙岭工业园 空气质量监测站 Heshan Longling Industrial Park AQ 01"


def hover_script(entity_id: str) -> str:
    """Move the pointer over the entity's symbol on the marker canvas; the tooltip's
    [width, height, text], or null while there is none."""
    return f"""(function () {{
        window.cityops.redraw();
        var spot = window.cityops.drawn({json.dumps(entity_id)});
        if (!spot) {{ return null; }}
        var container = window.cityops.map().getContainer();
        var box = container.getBoundingClientRect();
        container.dispatchEvent(new MouseEvent('mousemove', {{
            bubbles: true, clientX: box.left + spot.x, clientY: box.top + spot.y}}));
        var tip = document.querySelector('.cityops-tip');
        if (!tip) {{ return null; }}
        var rect = tip.getBoundingClientRect();
        return [rect.width, rect.height, tip.textContent];
    }})()"""


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[MapView]:
    """A map page, ready, on an off-the-record profile deleted after the view."""
    profile = QWebEngineProfile()
    map_view = MapView((28.57, 112.36), 13, profile=profile)
    map_view.resize(900, 700)
    map_view.show()
    qtbot.waitUntil(map_view.is_ready, timeout=20_000)
    yield map_view
    map_view.close()
    shiboken6.delete(map_view)
    shiboken6.delete(profile)


def hover(qtbot: QtBot, view: MapView, entity: Entity, values: dict[str, str]) -> list[Any]:
    """Show ``entity`` alone on the map, hover it and return [width, height, text]."""
    view.apply_entities([entity], {entity.id: values})
    qtbot.waitUntil(lambda: run_js(qtbot, view, "window.cityops.markerCount()") == 1)
    script = hover_script(entity.id)
    qtbot.waitUntil(lambda: run_js(qtbot, view, script) is not None, timeout=10_000)
    result: list[Any] = run_js(qtbot, view, script)
    return result


def test_the_hover_tooltip_is_wide_enough_to_read(qtbot: QtBot, view: MapView) -> None:
    station = Entity("aq-01", LONG_NAME, "air_quality", "environment", 28.57, 112.36)
    width, height, text = hover(qtbot, view, station, {"pm25": "82.5 µg/m³", "aqi": "121"})
    assert LONG_NAME in text and "82.5 µg/m³" in text
    assert 250 <= width <= 340, (width, height)
    assert height < 200, (width, height)


def test_the_page_writes_its_words_in_the_ui_language(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("widgets.map_view.translate", lambda _context, text: f"«{text}»")
    profile = QWebEngineProfile()
    page = MapView((28.57, 112.36), 13, profile=profile)  # built after the patch
    try:
        page.resize(900, 700)
        page.show()
        qtbot.waitUntil(page.is_ready, timeout=20_000)
        stale = Entity("aq-01", "Station", "air_quality", "environment", 28.57, 112.36)
        stale.stale = True
        _width, _height, text = hover(qtbot, page, stale, {})
        assert "«no recent data»" in text
    finally:
        page.close()
        shiboken6.delete(page)
        shiboken6.delete(profile)
