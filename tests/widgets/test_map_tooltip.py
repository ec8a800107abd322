"""The map's hover tooltip is readable: as wide as its text needs up to 320 px, never
squeezed to a few characters with words broken mid-character."""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtWebEngineCore import QWebEngineProfile
from pytestqt.qtbot import QtBot

from services.model import Entity
from tests.helpers.e2e import run_js
from widgets.map_view import MapView

pytestmark = pytest.mark.webengine
LONG_NAME = "赫山区龙岭工业园 空气质量监测站 Heshan Longling Industrial Park AQ 01"


def test_the_hover_tooltip_is_wide_enough_to_read(qtbot: QtBot) -> None:
    profile = QWebEngineProfile()
    view = MapView((28.57, 112.36), 13, profile=profile)
    try:
        view.resize(900, 700)
        view.show()
        qtbot.waitUntil(view.is_ready, timeout=20_000)
        station = Entity("aq-01", LONG_NAME, "air_quality", "environment", 28.57, 112.36)
        view.apply_entities([station], {"aq-01": {"pm25": "82.5 µg/m³", "aqi": "121"}})
        qtbot.waitUntil(lambda: run_js(qtbot, view, "window.cityops.markerCount()") == 1)
        hover = (
            "(function () {"
            " var el = document.querySelector('path.leaflet-interactive, .leaflet-marker-icon');"
            " if (!el) { return null; }"
            " el.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));"
            " var tip = document.querySelector('.cityops-tip');"
            " if (!tip) { return null; }"
            " var box = tip.getBoundingClientRect();"
            " return [box.width, box.height, tip.textContent];"
            "})()"
        )
        qtbot.waitUntil(lambda: run_js(qtbot, view, hover) is not None, timeout=10_000)
        width, height, text = run_js(qtbot, view, hover)
        assert LONG_NAME in text and "82.5 µg/m³" in text
        assert 250 <= width <= 340, (width, height)
        assert height < 200, (width, height)
    finally:
        view.close()
        shiboken6.delete(view)
        shiboken6.delete(profile)


def test_the_page_writes_its_words_in_the_ui_language(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("widgets.map_view.translate", lambda _context, text: f"«{text}»")
    profile = QWebEngineProfile()
    view = MapView((28.57, 112.36), 13, profile=profile)
    try:
        view.resize(900, 700)
        view.show()
        qtbot.waitUntil(view.is_ready, timeout=20_000)
        stale = Entity("aq-01", "Station", "air_quality", "environment", 28.57, 112.36)
        stale.stale = True
        view.apply_entities([stale])
        qtbot.waitUntil(lambda: run_js(qtbot, view, "window.cityops.markerCount()") == 1)
        hover = (
            "(function () {"
            " var el = document.querySelector('path.leaflet-interactive, .leaflet-marker-icon');"
            " if (!el) { return null; }"
            " el.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));"
            " var tip = document.querySelector('.cityops-tip');"
            " return tip ? tip.textContent : null;"
            "})()"
        )
        qtbot.waitUntil(lambda: run_js(qtbot, view, hover) is not None, timeout=10_000)
        assert "«no recent data»" in run_js(qtbot, view, hover)
    finally:
        view.close()
        shiboken6.delete(view)
        shiboken6.delete(profile)
