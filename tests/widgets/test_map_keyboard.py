"""The map's markers by keyboard, with real key presses into the real page: N and Shift+N go
through what is drawn in view (most urgent first, then nearest the centre), Enter does what
a click does, Esc lets go; what the cursor is on is announced for screen readers."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from services.model import Severity
from tests.helpers.map_page import TIMEOUT_MS, call, js
from tests.widgets.test_map_view import new_view, station, view, wait_count
from widgets.map_view import MapView

__all__ = ["new_view", "view"]  # the fixtures used here


RINGS = "document.querySelectorAll('.cityops-key-cursor').length"


def press(qtbot: QtBot, view: MapView, key: Qt.Key, shift: bool = False) -> None:
    """A real key press into the page (the map container has the focus)."""
    target = view.focusProxy() or view
    modifier = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    QTest.keyClick(target, key, modifier)


def cursor(qtbot: QtBot, view: MapView) -> Any:
    return call(qtbot, view, "keyCursor")


def focus_map(qtbot: QtBot, view: MapView) -> None:
    view.setFocus()
    qtbot.waitUntil((view.focusProxy() or view).hasFocus, timeout=TIMEOUT_MS)
    js(qtbot, view, "window.cityops.map().getContainer().focus(); true")


def test_n_goes_through_the_markers_most_urgent_first_and_enter_selects(
    qtbot: QtBot, view: MapView
) -> None:
    view.apply_entities(
        [
            station("far", lat=28.58, lon=112.38),
            station("near", lat=28.5545, lon=112.356),
            station("alarm", lat=28.53, lon=112.33, worst_severity=Severity.HIGH),
        ]
    )
    wait_count(qtbot, view, 3)
    js(
        qtbot,
        view,
        "window.cityops.map().fitBounds([[28.52, 112.32], [28.59, 112.39]], {animate: false});"
        " window.cityops.redraw(); true",
    )
    focus_map(qtbot, view)

    press(qtbot, view, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: (cursor(qtbot, view) or {}).get("id") == "alarm", timeout=TIMEOUT_MS)
    said = cursor(qtbot, view)["said"]
    assert said.startswith("Station alarm") and "priority 2" in said
    assert js(qtbot, view, RINGS) == 1
    tooltip = "document.querySelector('.leaflet-tooltip .cityops-tip-name').textContent"
    assert js(qtbot, view, tooltip) == "Station alarm"

    press(qtbot, view, Qt.Key.Key_N)  # then the nearest to the centre
    qtbot.waitUntil(lambda: cursor(qtbot, view)["id"] == "near", timeout=TIMEOUT_MS)
    press(qtbot, view, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: cursor(qtbot, view)["id"] == "far", timeout=TIMEOUT_MS)
    press(qtbot, view, Qt.Key.Key_N)  # round again
    qtbot.waitUntil(lambda: cursor(qtbot, view)["id"] == "alarm", timeout=TIMEOUT_MS)
    press(qtbot, view, Qt.Key.Key_N, shift=True)  # and back
    qtbot.waitUntil(lambda: cursor(qtbot, view)["id"] == "far", timeout=TIMEOUT_MS)

    with qtbot.waitSignal(view.entityClicked, timeout=TIMEOUT_MS) as clicked:
        press(qtbot, view, Qt.Key.Key_Return)
    assert clicked.args == ["far"]

    press(qtbot, view, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: cursor(qtbot, view) is None, timeout=TIMEOUT_MS)
    assert js(qtbot, view, RINGS) == 0


def test_enter_on_a_cluster_zooms_into_it(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities(
        [
            station("a", lat=28.5539, lon=112.3550, worst_severity=Severity.CRITICAL),
            station("b", lat=28.5540, lon=112.3551),
            station("c", lat=28.5541, lon=112.3552),
        ]
    )
    wait_count(qtbot, view, 3)
    js(qtbot, view, "window.cityops.redraw(); true")
    zoom = js(qtbot, view, "window.cityops.map().getZoom()")
    focus_map(qtbot, view)
    press(qtbot, view, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: cursor(qtbot, view) is not None, timeout=TIMEOUT_MS)
    spot = cursor(qtbot, view)
    assert spot["cluster"] == 3
    assert spot["said"] == "3 entities here, alarm: critical (priority 1)"
    press(qtbot, view, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: js(qtbot, view, "window.cityops.map().getZoom()") > zoom, timeout=TIMEOUT_MS
    )
    assert cursor(qtbot, view) is None


def test_with_nothing_in_view_it_says_so(qtbot: QtBot, view: MapView) -> None:
    focus_map(qtbot, view)
    press(qtbot, view, Qt.Key.Key_N)
    qtbot.waitUntil(
        lambda: (
            js(qtbot, view, "document.querySelector('.cityops-announce').textContent")
            == "no markers in view"
        ),
        timeout=TIMEOUT_MS,
    )
    assert cursor(qtbot, view) is None


def test_the_cursor_follows_its_marker_and_lets_go_when_it_goes(
    qtbot: QtBot, view: MapView
) -> None:
    view.apply_entities([station("bus", type="bus", domain="transport")])
    wait_count(qtbot, view, 1)
    focus_map(qtbot, view)
    press(qtbot, view, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: (cursor(qtbot, view) or {}).get("id") == "bus", timeout=TIMEOUT_MS)
    assert js(qtbot, view, RINGS) == 1
    view.apply_entities([station("bus", type="bus", domain="transport", lat=28.56)])  # moves
    qtbot.waitUntil(
        lambda: call(qtbot, view, "markerInfo", "bus")["lat"] == 28.56, timeout=TIMEOUT_MS
    )
    assert cursor(qtbot, view)["id"] == "bus"
    view.set_layers({"domains": {"transport": False}})  # hidden: the cursor lets go
    qtbot.waitUntil(lambda: cursor(qtbot, view) is None, timeout=TIMEOUT_MS)
    view.set_layers({"domains": {"transport": True}})
    qtbot.waitUntil(lambda: call(qtbot, view, "layersInfo")["shown"] == 1, timeout=TIMEOUT_MS)
    press(qtbot, view, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: cursor(qtbot, view) is not None, timeout=TIMEOUT_MS)
    view.remove_entities(["bus"])  # gone: the cursor too
    qtbot.waitUntil(lambda: cursor(qtbot, view) is None, timeout=TIMEOUT_MS)
    assert js(qtbot, view, RINGS) == 0


def test_keys_do_nothing_while_a_box_is_drawn_or_the_view_is_fixed(
    qtbot: QtBot, view: MapView
) -> None:
    view.apply_entities([station("a")])
    wait_count(qtbot, view, 1)
    focus_map(qtbot, view)
    js(qtbot, view, "window.cityops.pickBox(); true")
    press(qtbot, view, Qt.Key.Key_N)
    press(qtbot, view, Qt.Key.Key_Escape)  # gives the box up
    assert cursor(qtbot, view) is None
    view.set_bounds((112.30, 28.50, 112.40, 28.60))  # a dashboard's fixed view
    focus_map(qtbot, view)
    press(qtbot, view, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: call(qtbot, view, "markerCount") == 1, timeout=TIMEOUT_MS)
    assert cursor(qtbot, view) is None
