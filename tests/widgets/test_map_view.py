"""The offline map: a real QtWebEngine page, fed through MapView, read back with JavaScript."""

from __future__ import annotations

import json
import logging
import math
import os
import re
import signal
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtTest import QTest
from PySide6.QtWebEngineCore import (
    QWebEngineProfile,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
)
from pytestqt.qtbot import QtBot

from services.model import AlertArea, Entity, Severity
from tests.helpers.map_page import TIMEOUT_MS, call, js, value
from tests.helpers.paths import SHARED_INTEROP
from widgets import palette
from widgets.map_areas import MAX_AREA_VERTICES, clean_area_geojson
from widgets.map_scheme import CityOpsSchemeHandler, install_scheme_handler, register_scheme
from widgets.map_view import MapView

# Headless machines have no GPU: Qt's RHI probe and Chromium's GPU info complain once, harmlessly.
pytestmark = [
    pytest.mark.webengine,
    pytest.mark.qt_log_ignore(
        "QRhiGles2",
        "Failed to create RHI",
        "GPUInfo not initialized",
        "Unable to detect GPU vendor",
    ),
]

CENTER = (28.5539, 112.3550)  # Yiyang

# The default (operator) theme's map colours: grey for normal, one colour per priority.
NORMAL, STALE = palette.OPERATOR.normal, palette.OPERATOR.stale
CRITICAL, HIGH, MEDIUM, LOW = (
    palette.OPERATOR.severities[s]
    for s in (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
)

HOSTILE = '<img src=x onerror="window.pwned=1">'


class RecordingInterceptor(QWebEngineUrlRequestInterceptor):
    """Remembers every URL the profile's pages ask for."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        self.urls.append(QUrl(info.requestUrl()))


@pytest.fixture
def interceptor(profile: QWebEngineProfile) -> Iterator[RecordingInterceptor]:
    spy = RecordingInterceptor()
    profile.setUrlRequestInterceptor(spy)
    yield spy
    profile.setUrlRequestInterceptor(None)


def make_view(profile: QWebEngineProfile, **kwargs: Any) -> MapView:
    view = MapView(CENTER, 12, profile=profile, **kwargs)
    view.resize(800, 600)
    view.show()
    return view


@pytest.fixture
def new_view(profile: QWebEngineProfile) -> Iterator[MapView]:
    """A map view that is still loading."""
    view = make_view(profile)
    yield view
    view.close()
    shiboken6.delete(view)


@pytest.fixture
def view(qtbot: QtBot, new_view: MapView) -> MapView:
    """A map view whose page is loaded and ready."""
    qtbot.waitUntil(new_view.is_ready, timeout=TIMEOUT_MS)
    return new_view


def wait_count(qtbot: QtBot, view: MapView, expected: int) -> None:
    qtbot.waitUntil(lambda: call(qtbot, view, "markerCount") == expected, timeout=TIMEOUT_MS)


def station(entity_id: str, **kwargs: Any) -> Entity:
    fields: dict[str, Any] = {
        "name": f"Station {entity_id}",
        "type": "AirQualityObserved",
        "domain": "environment",
        "lat": 28.55,
        "lon": 112.35,
    }
    fields.update(kwargs)
    return Entity(id=entity_id, **fields)


def test_page_loads_offline_assets_and_becomes_ready(qtbot: QtBot, new_view: MapView) -> None:
    with qtbot.waitSignal(new_view.pageReady, timeout=TIMEOUT_MS):
        pass
    assert new_view.is_ready()
    assert call(qtbot, new_view, "markerCount") == 0
    assert js(qtbot, new_view, "typeof window.CityOpsMarkers.layer") == "function"
    # Our stylesheet came through the cityops scheme: the neutral background is applied.
    background = js(
        qtbot,
        new_view,
        "getComputedStyle(document.querySelector('.leaflet-container')).backgroundColor",
    )
    assert background == css_rgb(palette.OPERATOR.map_page["background"])


def priority_stations() -> list[Entity]:
    """A station with no alarm and one at each priority, about 70 px apart at zoom 12 (far
    enough that none of them is clustered), from south to north."""
    return [
        station("none", lat=28.48),
        station("low", worst_severity=Severity.LOW, lat=28.505),
        station("medium", worst_severity=Severity.MEDIUM, lat=28.53),
        station("high", worst_severity=Severity.HIGH, lat=28.555),
        station("critical", worst_severity=Severity.CRITICAL, lat=28.58),
    ]


def test_marker_colour_follows_severity_and_staleness(qtbot: QtBot, view: MapView) -> None:
    entities = [
        *priority_stations(),
        station("stale", stale=True, worst_severity=Severity.CRITICAL, lat=28.605),
        station("stale-ok", stale=True, lat=28.63),
    ]
    view.apply_entities(entities)
    wait_count(qtbot, view, 7)
    colours = {e.id: call(qtbot, view, "markerInfo", e.id)["color"] for e in entities}
    assert colours == {
        "none": NORMAL,
        "low": LOW,
        "medium": MEDIUM,
        "high": HIGH,
        "critical": CRITICAL,
        "stale": CRITICAL,  # the last known alarm stays visible, faded and dashed
        "stale-ok": STALE,
    }
    stale = call(qtbot, view, "markerInfo", "stale")
    assert stale["stale"] is True
    # Drawn in the palette's colours; stale ones faded (see-through on the canvas).
    assert symbol_pixel(qtbot, view, "critical") == [*rgb(CRITICAL), 255]
    assert symbol_pixel(qtbot, view, "none") == [*rgb(NORMAL), 255]
    faded = symbol_pixel(qtbot, view, "stale")
    assert faded[:3] == list(rgb(CRITICAL)) and 100 < faded[3] < 180
    assert symbol_pixel(qtbot, view, "stale-ok")[3] < 180
    assert call(qtbot, view, "markerInfo", "nobody") is None


def drawn(qtbot: QtBot, view: MapView, entity_id: str) -> dict[str, Any]:
    """Where and how big an entity is drawn on the marker canvas (after a redraw now)."""
    js(qtbot, view, "window.cityops.redraw(); true")
    spot: dict[str, Any] = call(qtbot, view, "drawn", entity_id)
    return spot


def symbol_pixel(qtbot: QtBot, view: MapView, entity_id: str) -> list[int]:
    """The marker canvas's colour inside an entity's symbol, left of its number."""
    spot = drawn(qtbot, view, entity_id)
    pixel: list[int] = call(
        qtbot, view, "markerPixel", spot["x"] - spot["size"] * 0.25, spot["y"] + 1
    )
    return pixel


def rgb(hex_color: str) -> tuple[int, int, int]:
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return red, green, blue


def css_rgb(hex_color: str) -> str:
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def test_priorities_differ_by_number_not_only_colour(qtbot: QtBot, view: MapView) -> None:
    entities = priority_stations()
    view.apply_entities(entities)
    wait_count(qtbot, view, 5)
    infos = {e.id: call(qtbot, view, "markerInfo", e.id) for e in entities}
    # All air-quality stations: one shape (their type's), each priority its number.
    assert {i: (info["shape"], info["mark"]) for i, info in infos.items()} == {
        "none": ("circle", ""),
        "low": ("circle", "4"),
        "medium": ("circle", "3"),
        "high": ("circle", "2"),
        "critical": ("circle", "1"),
    }
    # A normal entity is a small symbol without a number; an alarm a larger one with it
    # (drawn in the priority's text colour over its fill).
    assert drawn(qtbot, view, "none")["size"] < drawn(qtbot, view, "high")["size"]
    spot = drawn(qtbot, view, "critical")
    colours = {
        tuple(call(qtbot, view, "markerPixel", spot["x"] + dx, spot["y"] + dy)[:3])
        for dx in range(-2, 3)
        for dy in range(-3, 4)
    }
    assert rgb(palette.OPERATOR.map_page_colors()["critical-text"]) in colours
    # Alarms lie over normal markers, the most urgent on top: three on one spot, seen
    # close enough that none is in a cluster, show the critical one.
    view.apply_entities(
        [
            station("under-1", lat=28.60, worst_severity=Severity.HIGH),
            station("under-2", lat=28.60),
            station("over", lat=28.60, worst_severity=Severity.CRITICAL),
        ]
    )
    js(qtbot, view, "window.cityops.map().setView([28.60, 112.35], 16, {animate: false}); true")
    assert drawn(qtbot, view, "over")["clustered"] is False
    assert symbol_pixel(qtbot, view, "over")[:3] == list(rgb(CRITICAL))
    js(qtbot, view, "window.cityops.marker('critical').openTooltip(); true")
    tip = js(
        qtbot, view, "document.querySelector('.leaflet-tooltip .cityops-tip-alarm').textContent"
    )
    assert tip == "alarm: critical (priority 1)"


def test_entity_types_differ_by_shape(qtbot: QtBot, view: MapView) -> None:
    kinds = {
        "bus": "triangle",
        "clinic": "square",
        "intersection": "diamond",
        "accident": "hexagon",
        "Thing": "pentagon",
        "air_quality": "circle",
    }
    entities = [station(kind, type=kind, lat=28.50 + 0.02 * n) for n, kind in enumerate(kinds)]
    entities.append(station("late-bus", type="bus", worst_severity=Severity.HIGH, lat=28.62))
    view.apply_entities(entities)
    wait_count(qtbot, view, len(entities))
    shapes = {e.id: call(qtbot, view, "markerInfo", e.id)["shape"] for e in entities}
    assert shapes == {**kinds, "late-bus": "triangle"}
    # Six different outlines for six kinds: which points of the symbol's box are painted
    # (read off the canvas, the symbols drawn at alarm size).
    view.apply_entities([replace(e, worst_severity=Severity.LOW) for e in entities[:6]])
    grid = [step / 4 for step in range(-4, 5)]
    outlines = []
    for entity in entities[:6]:
        spot = drawn(qtbot, view, entity.id)
        half = spot["size"] / 2 - 1.5
        painted = value(
            qtbot,
            view,
            f"""{
                json.dumps(
                    [[spot["x"] + fx * half, spot["y"] + fy * half] for fx in grid for fy in grid]
                )
            }
                .map(([x, y]) => window.cityops.markerPixel(x, y)[3] > 128)""",
        )
        outlines.append(tuple(painted))
    assert len(set(outlines)) == 6
    # An alarmed bus keeps its triangle, with its priority's number.
    assert call(qtbot, view, "markerInfo", "late-bus")["mark"] == "2"


def test_map_scale_sizes_markers_and_text(qtbot: QtBot, profile: QWebEngineProfile) -> None:
    palette.use_theme("wall")
    try:
        view = make_view(profile)
    finally:
        palette.use_theme(palette.DEFAULT_THEME)
    try:
        qtbot.waitUntil(view.is_ready, timeout=TIMEOUT_MS)
        assert '"scale": 1.6' in view.page_html()
        view.apply_entities([station("a", worst_severity=Severity.HIGH)])
        wait_count(qtbot, view, 1)
        assert drawn(qtbot, view, "a")["size"] == round(22 * 1.6)
        font = js(
            qtbot, view, "getComputedStyle(document.querySelector('.leaflet-container')).fontSize"
        )
        assert font == f"{round(13 * 1.6)}px"
        background = js(
            qtbot,
            view,
            "getComputedStyle(document.querySelector('.leaflet-container')).backgroundColor",
        )
        assert background == css_rgb(palette.WALL.map_page["background"])
    finally:
        view.close()
        shiboken6.delete(view)


def test_page_takes_its_colours_from_the_palette(
    qtbot: QtBot, profile: QWebEngineProfile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(palette.MAP_PAGE_COLORS, "high", "#123456")
    monkeypatch.setitem(palette.MAP_PAGE_COLORS, "background", "#010203")
    monkeypatch.setitem(palette.MAP_PAGE_COLORS, "cluster-text", "red;background:url(x)")
    view = make_view(profile)
    try:
        qtbot.waitUntil(view.is_ready, timeout=TIMEOUT_MS)
        view.apply_entities([station("a", worst_severity=Severity.HIGH)])
        wait_count(qtbot, view, 1)
        assert call(qtbot, view, "markerInfo", "a")["color"] == "#123456"
        background = js(
            qtbot,
            view,
            "getComputedStyle(document.querySelector('.leaflet-container')).backgroundColor",
        )
        assert background == "rgb(1, 2, 3)"
        # Only #hex values become colours; anything else is left out.
        variable = "getComputedStyle(document.documentElement).getPropertyValue('--cityops-{}')"
        assert js(qtbot, view, variable.format("cluster-text")) == ""
        assert js(qtbot, view, variable.format("stale")).strip() == STALE
    finally:
        view.close()
        shiboken6.delete(view)


def test_update_moves_and_recolours_existing_marker(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities([station("bus-7", type="Bus", lat=28.50, lon=112.30)])
    wait_count(qtbot, view, 1)
    view.apply_entities([station("bus-7", lat=28.61, lon=112.42, worst_severity=Severity.HIGH)])
    qtbot.waitUntil(
        lambda: call(qtbot, view, "markerInfo", "bus-7")["lat"] == pytest.approx(28.61),
        timeout=TIMEOUT_MS,
    )
    info = call(qtbot, view, "markerInfo", "bus-7")
    assert info["lon"] == pytest.approx(112.42)
    assert info["color"] == HIGH
    assert call(qtbot, view, "markerCount") == 1


def test_a_change_of_place_priority_or_staleness_alone_is_sent_short(
    qtbot: QtBot, view: MapView
) -> None:
    """Thousands of markers change only their place, priority or staleness each tick in a busy
    city: those go as short rows (patchEntities), and the page shows them as a full update
    would."""
    view.apply_entities([station("aq-1", lat=28.50), station("aq-2", lat=28.60)])
    wait_count(qtbot, view, 2)
    sent: list[str] = []
    view._bridge.call.connect(lambda name, _argument: sent.append(name))
    view.apply_entities(
        [
            station("aq-1", lat=28.50, worst_severity=Severity.CRITICAL),
            station("aq-2", lat=28.60, stale=True),
        ]
    )
    qtbot.waitUntil(
        lambda: call(qtbot, view, "markerInfo", "aq-1")["color"] == CRITICAL, timeout=TIMEOUT_MS
    )
    assert sent == ["patchEntities"]
    assert call(qtbot, view, "markerInfo", "aq-2")["stale"] is True
    assert call(qtbot, view, "markerInfo", "aq-1")["name"] == "Station aq-1"  # the rest kept
    view.apply_entities([station("aq-1", lat=28.51, worst_severity=Severity.CRITICAL)])
    qtbot.waitUntil(
        lambda: call(qtbot, view, "markerInfo", "aq-1")["lat"] == pytest.approx(28.51),
        timeout=TIMEOUT_MS,
    )
    assert sent[-1] == "patchEntities"  # a move is a short row too
    info = call(qtbot, view, "markerInfo", "aq-1")
    assert (info["lon"], info["color"], info["name"]) == (
        pytest.approx(112.35),
        CRITICAL,
        "Station aq-1",
    )
    assert view.snapshot()["entities"][0]["severity"] == "critical"
    view.apply_entities([station("aq-1", name="Renamed", lat=28.51)])
    qtbot.waitUntil(
        lambda: call(qtbot, view, "markerInfo", "aq-1")["name"] == "Renamed", timeout=TIMEOUT_MS
    )
    assert sent[-1] == "applyEntities"  # anything else is a full record


def test_updates_before_ready_are_queued_and_merged(qtbot: QtBot, new_view: MapView) -> None:
    assert not new_view.is_ready()
    new_view.apply_entities([station("a"), station("b", lat=28.6)], {"a": {"pm25": "12 µg/m³"}})
    new_view.apply_entities([station("b", lat=28.7)], {"a": {"no2": "40 µg/m³"}})
    new_view.remove_entities(["b"])
    new_view.apply_entities([station("c", lat=28.65, worst_severity=Severity.LOW)])
    qtbot.waitUntil(new_view.is_ready, timeout=TIMEOUT_MS)
    wait_count(qtbot, new_view, 2)
    assert call(qtbot, new_view, "markerInfo", "b") is None
    assert call(qtbot, new_view, "markerInfo", "c")["color"] == LOW
    js(qtbot, new_view, "window.cityops.marker('a').openTooltip(); true")
    rows = value(
        qtbot,
        new_view,
        "Array.from(document.querySelectorAll('.leaflet-tooltip .cityops-tip-values tr'))"
        ".map(r => r.textContent)",
    )
    assert rows == ["no240 µg/m³", "pm2512 µg/m³"]


def test_nearby_markers_cluster_with_the_most_urgent_badge(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities(
        [
            station("p1"),
            station("p2", lon=112.3501, worst_severity=Severity.CRITICAL),
            station("p3", lon=112.3502, stale=True),
        ]
    )
    wait_count(qtbot, view, 3)
    js(qtbot, view, "window.cityops.redraw(); true")
    clusters = call(qtbot, view, "clusters")
    assert [(c["count"], c["level"], sorted(c["members"])) for c in clusters] == [
        (3, "critical", ["p1", "p2", "p3"])
    ]
    assert drawn(qtbot, view, "p1")["clustered"] is True
    # The cluster's disc stays grey (its rim and badge say the priority; the badge has the
    # number "1" in it).
    spot = clusters[0]
    assert call(qtbot, view, "markerPixel", spot["x"] - 8, spot["y"] + 6)[:3] == list(rgb(NORMAL))
    view.apply_entities([station("p2", lon=112.3501)])  # the alarm clears
    qtbot.waitUntil(
        lambda: [c["level"] for c in call(qtbot, view, "clusters")] == ["normal"],
        timeout=TIMEOUT_MS,
    )


def test_without_clustering_every_marker_is_drawn(qtbot: QtBot, profile: QWebEngineProfile) -> None:
    view = make_view(profile, cluster=False)
    try:
        qtbot.waitUntil(view.is_ready, timeout=TIMEOUT_MS)
        view.apply_entities([station("p1"), station("p2", lon=112.3501)])
        wait_count(qtbot, view, 2)
        js(qtbot, view, "window.cityops.redraw(); true")
        assert call(qtbot, view, "clusters") == []
        assert drawn(qtbot, view, "p1")["clustered"] is False
        assert drawn(qtbot, view, "p2")["clustered"] is False
    finally:
        view.close()
        shiboken6.delete(view)


def test_values_alone_update_a_known_marker(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities([station("s1")])
    wait_count(qtbot, view, 1)
    view.apply_entities([], {"s1": {"aqi": "87"}})
    qtbot.waitUntil(
        lambda: js(qtbot, view, "window.cityops.marker('s1').cityops.item.values.aqi") == "87",
        timeout=TIMEOUT_MS,
    )


def test_a_tooltip_asks_for_its_values_when_it_opens_and_while_it_is_open(
    qtbot: QtBot, view: MapView
) -> None:
    kept = {"s1": {"aqi": "87"}}
    asked: list[str] = []

    def values(entity_id: str) -> dict[str, str]:
        asked.append(entity_id)
        return kept.get(entity_id, {})

    view.set_values_source(values)
    view.apply_entities([station("s1")])
    wait_count(qtbot, view, 1)
    assert asked == []  # nothing asked until a tooltip opens
    js(qtbot, view, "window.cityops.marker('s1').openTooltip(); true")
    shown = "document.querySelector('.leaflet-tooltip .cityops-tip-values').textContent"
    qtbot.waitUntil(lambda: value(qtbot, view, shown) == "aqi87", timeout=TIMEOUT_MS)
    assert asked == ["s1"]
    kept["s1"] = {"aqi": "<b>91</b>"}  # new values: asked again while it is open
    qtbot.waitUntil(lambda: value(qtbot, view, shown) == "aqi<b>91</b>", timeout=TIMEOUT_MS)
    assert js(qtbot, view, "document.querySelectorAll('.leaflet-tooltip b').length") == 0


def test_feed_strings_are_shown_as_text_never_markup(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities(
        [station("x", name=HOSTILE, type="<b>cam</b>")],
        {"x": {"<i>metric</i>": '<script>window.pwned=2</script><img src=y onerror="x()">'}},
    )
    wait_count(qtbot, view, 1)
    js(qtbot, view, "window.cityops.marker('x').openTooltip(); true")
    tooltip = value(
        qtbot,
        view,
        """(() => {
            const tip = document.querySelector('.leaflet-tooltip');
            return {
                name: tip.querySelector('.cityops-tip-name').textContent,
                kind: tip.querySelector('.cityops-tip-kind').textContent,
                cells: Array.from(tip.querySelectorAll('td')).map(td => td.textContent),
                elements: Array.from(tip.querySelectorAll('*')).map(e => e.tagName.toLowerCase()),
            };
        })()""",
    )
    assert tooltip["name"] == HOSTILE
    assert tooltip["kind"].startswith("<b>cam</b>")
    assert tooltip["cells"] == [
        "<i>metric</i>",
        '<script>window.pwned=2</script><img src=y onerror="x()">',
    ]
    assert not {"img", "b", "i", "script"} & set(tooltip["elements"])
    assert js(qtbot, view, "document.querySelectorAll('img[src=x], img[src=y]').length") == 0
    assert js(qtbot, view, "typeof window.pwned") == "undefined"
    assert call(qtbot, view, "markerInfo", "x")["name"] == HOSTILE


def test_page_policy_blocks_injected_inline_handlers(qtbot: QtBot, view: MapView) -> None:
    """Defence in depth: even markup that got in could not run inline script."""
    js(
        qtbot,
        view,
        """document.body.insertAdjacentHTML(
               'beforeend', '<img id="probe" src="missing.png" onerror="window.pwned2=1">');
           document.getElementById('probe').addEventListener(
               'error', () => { window.probeFailed = true; });
           true""",
    )
    qtbot.waitUntil(lambda: js(qtbot, view, "window.probeFailed === true"), timeout=TIMEOUT_MS)
    assert js(qtbot, view, "typeof window.pwned2") == "undefined"


def test_remove_entities(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities([station("a"), station("b", lat=28.6), station("c", lat=28.7)])
    wait_count(qtbot, view, 3)
    view.remove_entities(["a", "c", "never-seen"])
    wait_count(qtbot, view, 1)
    assert call(qtbot, view, "markerInfo", "a") is None
    assert call(qtbot, view, "markerInfo", "b") is not None


def test_entity_without_location_leaves_the_map(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities(
        [station("a"), station("nan", lat=float("nan")), station("nowhere", lat=None)]
    )
    wait_count(qtbot, view, 1)
    view.apply_entities([station("a", lat=None)])
    wait_count(qtbot, view, 0)


def test_marker_click_emits_entity_id(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities([station("cam-12", name="Camera 12")])
    wait_count(qtbot, view, 1)
    spot = drawn(qtbot, view, "cam-12")
    target = view.focusProxy() or view
    with qtbot.waitSignal(view.entityClicked, timeout=TIMEOUT_MS) as blocker:
        QTest.mouseClick(
            target, Qt.MouseButton.LeftButton, pos=QPoint(round(spot["x"]), round(spot["y"]))
        )
    assert blocker.args == ["cam-12"]
    # Beside it: nothing.
    with qtbot.assertNotEmitted(view.entityClicked, wait=300):
        QTest.mouseClick(
            target,
            Qt.MouseButton.LeftButton,
            pos=QPoint(round(spot["x"]) + 40, round(spot["y"])),
        )


def square(name: str, lon: float, lat: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + 0.1, lat], [lon + 0.1, lat + 0.1], [lon, lat + 0.1], [lon, lat]]
    return {
        "type": "Feature",
        "properties": {"name": name},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def test_boundaries_are_drawn_with_text_labels(qtbot: QtBot, view: MapView) -> None:
    collection = {
        "type": "FeatureCollection",
        "features": [square("资阳区", 112.3, 28.6), square(HOSTILE, 112.4, 28.5)],
    }
    view.set_boundaries(collection)
    qtbot.waitUntil(lambda: call(qtbot, view, "boundaryCount") == 2, timeout=TIMEOUT_MS)
    labels = value(
        qtbot,
        view,
        "Array.from(document.querySelectorAll('.cityops-boundary-label'))"
        ".map(e => e.textContent).sort()",
    )
    assert labels == sorted(["资阳区", HOSTILE])
    assert js(qtbot, view, "document.querySelectorAll('.cityops-boundary-label img').length") == 0
    view.set_boundaries(None)
    qtbot.waitUntil(lambda: call(qtbot, view, "boundaryCount") == 0, timeout=TIMEOUT_MS)
    # Leaflet fades overlays out before it removes them.
    qtbot.waitUntil(
        lambda: js(qtbot, view, "document.querySelectorAll('.cityops-boundary-label').length") == 0,
        timeout=TIMEOUT_MS,
    )


@pytest.mark.skipif(not SHARED_INTEROP.exists(), reason="shared interop samples not present")
def test_real_district_boundaries(qtbot: QtBot, new_view: MapView) -> None:
    geojson = json.loads((SHARED_INTEROP / "geo" / "yiyang-430900.geojson").read_text("utf-8"))
    new_view.set_boundaries(geojson)  # before the page is ready: sent once it is
    qtbot.waitUntil(new_view.is_ready, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: call(qtbot, new_view, "boundaryCount") == 6, timeout=TIMEOUT_MS)
    labels = value(
        qtbot,
        new_view,
        "Array.from(document.querySelectorAll('.cityops-boundary-label')).map(e => e.textContent)",
    )
    assert sorted(labels) == sorted(f["properties"]["name"] for f in geojson["features"])


def test_nothing_is_requested_from_the_network(
    qtbot: QtBot, profile: QWebEngineProfile, interceptor: RecordingInterceptor
) -> None:
    view = make_view(profile)
    try:
        qtbot.waitUntil(view.is_ready, timeout=TIMEOUT_MS)
        view.apply_entities(
            [station(f"s{i}", lat=28.5 + i / 100, stale=i % 3 == 0) for i in range(30)],
            {"s1": {"pm25": "35"}},
        )
        view.set_boundaries(
            {"type": "FeatureCollection", "features": [square("Heshan", 112.3, 28.5)]}
        )
        view.apply_alert_areas(
            {
                "rain": alert_area("rain", Severity.HIGH, polygon_feature(112.3, 28.5)),
                "fire": alert_area("fire", Severity.LOW, circle_feature(112.4, 28.6, 3.0)),
            }
        )
        wait_count(qtbot, view, 30)
        qtbot.waitUntil(lambda: call(qtbot, view, "boundaryCount") == 1, timeout=TIMEOUT_MS)
        wait_areas(qtbot, view, 2)
        js(qtbot, view, "window.cityops.marker('s1').openTooltip(); true")
        js(qtbot, view, "window.cityops.marker('s1').closeTooltip(); true")
        js(qtbot, view, "window.cityops.alertArea('rain').openTooltip(); true")
        html = view.page_html()
    finally:
        view.close()
        shiboken6.delete(view)

    urls = [u.toString() for u in interceptor.urls]
    # The interceptor does see our own scheme, so an empty list cannot pass by accident.
    assert "cityops://app/leaflet/leaflet.js" in urls
    assert "cityops://app/map/cityops-map.js" in urls
    schemes = {QUrl(u).scheme() for u in urls}
    assert schemes <= {"cityops", "qrc", "data", "blob", "about"}, urls
    assert not re.search(r"https?://", html)
    assert "//cdn" not in html


def test_remote_loads_are_blocked_even_when_the_page_asks(
    qtbot: QtBot, profile: QWebEngineProfile, interceptor: RecordingInterceptor
) -> None:
    view = make_view(profile)
    try:
        qtbot.waitUntil(view.is_ready, timeout=TIMEOUT_MS)
        js(
            qtbot,
            view,
            """window.remote = {};
               for (const url of ['http://example.com/a.png', 'https://example.com/b.png']) {
                   const img = new Image();
                   img.onload = img.onerror = (e) => { window.remote[url] = e.type; };
                   img.src = url;
               }
               true""",
        )
        qtbot.waitUntil(lambda: len(value(qtbot, view, "window.remote")) == 2, timeout=TIMEOUT_MS)
        assert set(value(qtbot, view, "window.remote").values()) == {"error"}
    finally:
        view.close()
        shiboken6.delete(view)
    urls = [u.toString() for u in interceptor.urls]
    assert "cityops://app/leaflet/leaflet.js" in urls
    assert not [u for u in urls if QUrl(u).scheme() in ("http", "https")]


def test_page_comes_back_after_the_renderer_dies(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities([station("a"), station("b", lat=28.6, worst_severity=Severity.HIGH)])
    view.set_boundaries({"type": "FeatureCollection", "features": [square("Ziyang", 112.3, 28.6)]})
    view.apply_alert_areas({"flood": alert_area("flood", Severity.CRITICAL)})
    wait_count(qtbot, view, 2)
    wait_areas(qtbot, view, 1)
    pid = view.page().renderProcessPid()
    assert pid > 0
    with qtbot.waitSignal(view.pageReady, timeout=TIMEOUT_MS):
        os.kill(pid, signal.SIGKILL)
    wait_count(qtbot, view, 2)
    assert call(qtbot, view, "markerInfo", "b")["color"] == HIGH
    assert call(qtbot, view, "boundaryCount") == 1
    wait_areas(qtbot, view, 1)
    assert call(qtbot, view, "alertAreaInfo", "flood")["color"] == CRITICAL


def test_page_reload_gets_everything_again(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities([station("a"), station("b", lat=28.6, stale=True)])
    view.apply_alert_areas(
        {
            "gone": alert_area("gone"),
            "wind": alert_area("wind", Severity.MEDIUM, circle_feature(112.3, 28.5, 4.0)),
        }
    )
    view.apply_alert_areas({"gone": None})
    wait_count(qtbot, view, 2)
    wait_areas(qtbot, view, 1)
    with qtbot.waitSignal(view.pageReady, timeout=TIMEOUT_MS):
        js(qtbot, view, "window.location.reload(); true")
    wait_count(qtbot, view, 2)
    assert call(qtbot, view, "markerInfo", "b")["color"] == STALE
    wait_areas(qtbot, view, 1)
    assert call(qtbot, view, "alertAreaInfo", "gone") is None
    assert call(qtbot, view, "alertAreaInfo", "wind")["radii"] == [4000]


def test_page_refuses_to_navigate_away(
    qtbot: QtBot, view: MapView, caplog: pytest.LogCaptureFixture
) -> None:
    view.apply_entities([station("a")])
    wait_count(qtbot, view, 1)
    with caplog.at_level(logging.WARNING, logger="widgets.map_view"):
        js(qtbot, view, "window.location.href = 'https://example.com/'; true")
        qtbot.waitUntil(lambda: "refused navigation" in caplog.text, timeout=TIMEOUT_MS)
    assert view.url().scheme() == "cityops"
    assert call(qtbot, view, "markerCount") == 1
    assert view.is_ready()


def test_scheme_handler_refuses_unknown_and_traversal(profile: QWebEngineProfile) -> None:
    handler = install_scheme_handler(profile)
    assert install_scheme_handler(profile) is handler  # a second install is a no-op
    found = handler.lookup(QUrl("cityops://app/leaflet/leaflet.js"))
    assert found is not None
    assert found[0] == b"text/javascript"
    assert b"Leaflet" in found[1][:500]
    image = handler.lookup(QUrl("cityops://app/leaflet/images/layers.png"))
    assert image is not None
    assert image[0] == b"image/png"
    assert image[1].startswith(b"\x89PNG")
    for bad in (
        "cityops://app/leaflet/../../../../../etc/passwd",
        "cityops://app/leaflet/%2e%2e/%2e%2e/__init__.py",
        "cityops://app/map/..%2f..%2fwidgets%2fmap_view.py",
        "cityops://app/map/..%5c__init__.py",
        "cityops://app/leaflet//etc/hosts.css",
        "cityops://app/leaflet/nope.js",
        "cityops://app/leaflet/leaflet.js.exe",
        "cityops://app/page/unknown.html",
        "cityops://other/leaflet/leaflet.js",
        "cityops://app/secret/leaflet.js",
        "https://app/leaflet/leaflet.js",
    ):
        assert handler.lookup(QUrl(bad)) is None, bad


def test_page_registry(profile: QWebEngineProfile) -> None:
    handler: CityOpsSchemeHandler = install_scheme_handler(profile)
    url = handler.add_page("<!DOCTYPE html><title>é</title>")
    assert url.scheme() == "cityops"
    assert handler.lookup(url) == (b"text/html", "<!DOCTYPE html><title>é</title>".encode())
    handler.remove_page(url)
    assert handler.lookup(url) is None


def test_scheme_serves_and_404s_inside_the_page(qtbot: QtBot, view: MapView) -> None:
    script = """(() => {
        window.probes = {};
        for (const [key, src] of [
                ['ok', 'cityops://app/leaflet/images/layers.png'],
                ['missing', 'cityops://app/leaflet/images/nope.png'],
                ['escape', 'cityops://app/leaflet/images/%2e%2e/%2e%2e/%2e%2e/README.png']]) {
            const img = new Image();
            img.onload = () => { window.probes[key] = 'load'; };
            img.onerror = () => { window.probes[key] = 'error'; };
            img.src = src;
        }
        return true;
    })()"""
    js(qtbot, view, script)
    qtbot.waitUntil(lambda: len(value(qtbot, view, "window.probes")) == 3, timeout=TIMEOUT_MS)
    assert value(qtbot, view, "window.probes") == {
        "ok": "load",
        "missing": "error",
        "escape": "error",
    }


def test_register_scheme_is_idempotent(qapp: Any) -> None:
    register_scheme()  # already registered by conftest; must neither fail nor warn
    register_scheme()


# -- alert areas (CAP polygons and circles) ---------------------------------------------------


def polygon_feature(
    lon: float = 112.33, lat: float = 28.54, size: float = 0.05, desc: str = "Ziyang district"
) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"areaDesc": desc, "geocodes": [["GB2260", "430902"]]},
    }


def circle_feature(lon: float, lat: float, km: float, desc: str = "Heshan") -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"areaDesc": desc, "radius_km": km},
    }


def alert_area(
    alarm_id: str,
    severity: Severity = Severity.HIGH,
    *features: dict[str, Any],
    label: str = "Heavy rain warning",
) -> AlertArea:
    shapes = list(features) or [polygon_feature()]
    return AlertArea(alarm_id, severity, label, {"type": "FeatureCollection", "features": shapes})


def wait_areas(qtbot: QtBot, view: MapView, expected: int) -> None:
    qtbot.waitUntil(lambda: call(qtbot, view, "alertAreaCount") == expected, timeout=TIMEOUT_MS)


def area_paths(qtbot: QtBot, view: MapView) -> int:
    """How many SVG shapes the alert-area pane holds."""
    count = js(
        qtbot, view, "document.querySelectorAll('.leaflet-cityopsAlertAreas-pane path').length"
    )
    return int(count)


def test_alert_areas_are_drawn_by_severity_between_boundaries_and_markers(
    qtbot: QtBot, view: MapView
) -> None:
    view.apply_alert_areas(
        {
            "low": alert_area("low", Severity.LOW, polygon_feature(112.30, 28.50)),
            "medium": alert_area("medium", Severity.MEDIUM, polygon_feature(112.40, 28.50)),
            "high": alert_area("high", Severity.HIGH, circle_feature(112.30, 28.60, 2.0)),
            "critical": alert_area(
                "critical",
                Severity.CRITICAL,
                polygon_feature(112.40, 28.60),
                circle_feature(112.45, 28.65, 1.0),
            ),
        }
    )
    wait_areas(qtbot, view, 4)
    infos = {
        i: call(qtbot, view, "alertAreaInfo", i) for i in ("low", "medium", "high", "critical")
    }
    assert {i: info["color"] for i, info in infos.items()} == {
        "low": LOW,
        "medium": MEDIUM,
        "high": HIGH,
        "critical": CRITICAL,
    }
    assert infos["critical"]["shapes"] == 2
    assert infos["critical"]["severity"] == "critical"
    assert infos["low"]["label"] == "Heavy rain warning"
    assert view.alert_area_ids() == ["critical", "high", "low", "medium"]
    assert area_paths(qtbot, view) == 5
    style = value(
        qtbot,
        view,
        """(() => {
            const path = document.querySelector('.leaflet-cityopsAlertAreas-pane path');
            const s = getComputedStyle(path);
            return {fillOpacity: Number(s.fillOpacity), strokeOpacity: Number(s.strokeOpacity),
                    dash: path.getAttribute('stroke-dasharray')};
        })()""",
    )
    # Outlined and lightly hatched, not tinted: the fill is a pattern of thin lines in the
    # priority's colour, mostly transparent.
    assert style["fillOpacity"] == 1
    assert style["strokeOpacity"] >= 0.8
    hatch = value(
        qtbot,
        view,
        """(() => {
            const line = document.querySelector('#cityops-hatch-critical line');
            return {stroke: line.getAttribute('stroke'),
                    opacity: Number(line.getAttribute('stroke-opacity'))};
        })()""",
    )
    assert hatch["stroke"] == CRITICAL
    assert hatch["opacity"] <= 0.5
    assert style["dash"] is None
    z = value(
        qtbot,
        view,
        """['cityopsBoundaries', 'cityopsAlertAreas', 'overlay', 'marker'].map(
            (name) => Number(getComputedStyle(
                document.querySelector('.leaflet-' + name + '-pane')).zIndex))""",
    )
    assert z[0] < z[1] < z[2] < z[3]
    # More urgent areas are stacked on top of less urgent ones.
    order = value(
        qtbot,
        view,
        """Array.from(document.querySelectorAll('.leaflet-cityopsAlertAreas-pane path'))
            .map((p) => p.getAttribute('fill'))""",
    )
    levels = ("low", "medium", "high", "critical", "critical")
    assert order == [f"url(#cityops-hatch-{level})" for level in levels]
    weights = value(
        qtbot,
        view,
        """Array.from(document.querySelectorAll('.leaflet-cityopsAlertAreas-pane path'))
            .map((p) => Number(p.getAttribute('stroke-width')))""",
    )
    assert weights[-1] > weights[2]  # critical's outline is heavier than high's


def test_alert_area_update_recolours_without_duplicates(qtbot: QtBot, view: MapView) -> None:
    view.apply_alert_areas({"cap-1": alert_area("cap-1", Severity.HIGH)})
    wait_areas(qtbot, view, 1)
    assert call(qtbot, view, "alertAreaInfo", "cap-1")["color"] == HIGH
    view.apply_alert_areas(
        {"cap-1": alert_area("cap-1", Severity.LOW, polygon_feature(), label="Downgraded")}
    )
    qtbot.waitUntil(
        lambda: call(qtbot, view, "alertAreaInfo", "cap-1")["color"] == LOW, timeout=TIMEOUT_MS
    )
    assert call(qtbot, view, "alertAreaInfo", "cap-1")["label"] == "Downgraded"
    assert call(qtbot, view, "alertAreaCount") == 1
    assert area_paths(qtbot, view) == 1
    # The same area again changes nothing and sends nothing.
    js(qtbot, view, "window.cityops.alertArea('cap-1').sameAsBefore = true; true")
    view.apply_alert_areas(
        {"cap-1": alert_area("cap-1", Severity.LOW, polygon_feature(), label="Downgraded")}
    )
    view.apply_alert_areas({"other": alert_area("other")})
    wait_areas(qtbot, view, 2)
    assert js(qtbot, view, "window.cityops.alertArea('cap-1').sameAsBefore") is True


def test_alert_area_is_removed_by_none(qtbot: QtBot, view: MapView) -> None:
    view.apply_alert_areas({"a": alert_area("a"), "b": alert_area("b", Severity.MEDIUM)})
    wait_areas(qtbot, view, 2)
    view.apply_alert_areas({"a": None, "never-seen": None})
    wait_areas(qtbot, view, 1)
    assert call(qtbot, view, "alertAreaInfo", "a") is None
    assert call(qtbot, view, "alertAreaInfo", "b")["color"] == MEDIUM
    assert area_paths(qtbot, view) == 1
    assert view.alert_area_ids() == ["b"]
    view.clear_alert_areas()
    wait_areas(qtbot, view, 0)
    assert area_paths(qtbot, view) == 0
    assert view.alert_area_ids() == []


def test_alert_circle_radius_is_in_metres_around_lon_lat(qtbot: QtBot, view: MapView) -> None:
    view.apply_alert_areas(
        {"storm": alert_area("storm", Severity.CRITICAL, circle_feature(112.355, 28.553, 2.5))}
    )
    wait_areas(qtbot, view, 1)
    assert call(qtbot, view, "alertAreaInfo", "storm")["radii"] == [2500]
    circle = value(
        qtbot,
        view,
        """(() => {
            const c = window.cityops.alertArea('storm').getLayers()[0];
            return {radius: c.getRadius(), lat: c.getLatLng().lat, lon: c.getLatLng().lng,
                    kind: c instanceof L.Circle};
        })()""",
    )
    assert circle == {"radius": 2500, "lat": 28.553, "lon": 112.355, "kind": True}
    # Drawn to scale: a 2.5 km radius spans about 5 km of map.
    width_m = value(
        qtbot,
        view,
        """(() => {
            const map = window.cityops.alertArea('storm')._map;
            const b = window.cityops.alertArea('storm').getBounds();
            return map.distance(L.latLng(b.getCenter().lat, b.getWest()),
                                L.latLng(b.getCenter().lat, b.getEast()));
        })()""",
    )
    assert width_m == pytest.approx(5000, rel=0.05)


def test_alert_area_text_is_never_markup(qtbot: QtBot, view: MapView) -> None:
    view.apply_alert_areas(
        {
            "x": alert_area(
                "x",
                Severity.HIGH,
                polygon_feature(desc="<script>window.pwned=2</script><b>Ziyang</b>"),
                circle_feature(112.36, 28.56, 1.0, desc=HOSTILE),
                label=HOSTILE,
            )
        }
    )
    wait_areas(qtbot, view, 1)
    js(qtbot, view, "window.cityops.alertArea('x').openTooltip(); true")
    tooltip = value(
        qtbot,
        view,
        """(() => {
            const tip = document.querySelector('.leaflet-tooltip');
            return {
                name: tip.querySelector('.cityops-tip-name').textContent,
                areas: Array.from(tip.querySelectorAll('.cityops-tip-area'))
                    .map((e) => e.textContent),
                elements: Array.from(tip.querySelectorAll('*')).map((e) => e.tagName.toLowerCase()),
            };
        })()""",
    )
    assert tooltip["name"] == HOSTILE
    assert tooltip["areas"] == ["<script>window.pwned=2</script><b>Ziyang</b>", HOSTILE]
    assert not {"img", "b", "script"} & set(tooltip["elements"])
    assert call(qtbot, view, "alertAreaInfo", "x")["label"] == HOSTILE
    assert js(qtbot, view, "document.querySelectorAll('img[src=x]').length") == 0
    assert js(qtbot, view, "typeof window.pwned") == "undefined"


def test_alert_areas_before_ready_are_queued_and_merged(qtbot: QtBot, new_view: MapView) -> None:
    assert not new_view.is_ready()
    new_view.apply_alert_areas({"a": alert_area("a", Severity.CRITICAL), "b": alert_area("b")})
    new_view.apply_alert_areas({"a": alert_area("a", Severity.LOW), "c": alert_area("c")})
    new_view.apply_alert_areas({"b": None})
    qtbot.waitUntil(new_view.is_ready, timeout=TIMEOUT_MS)
    wait_areas(qtbot, new_view, 2)
    assert call(qtbot, new_view, "alertAreaInfo", "a")["color"] == LOW
    assert call(qtbot, new_view, "alertAreaInfo", "b") is None
    assert call(qtbot, new_view, "alertAreaInfo", "c")["color"] == HIGH
    assert area_paths(qtbot, new_view) == 2


def test_malformed_area_geometry_is_ignored_without_breaking_the_batch(
    qtbot: QtBot, view: MapView, caplog: pytest.LogCaptureFixture
) -> None:
    nan_ring = [[112.3, 28.5], [float("nan"), 28.5], [112.4, float("inf")], [112.3, 28.6]]
    broken = [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [nan_ring]}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [112.3, 28.5]}},
        circle_feature(112.3, 28.5, -1.0),
        circle_feature(112.3, 28.5, float("nan")),
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": "28.5,112.3"}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[["a", "b"]] * 4]}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[1e9, 2], [3, 4]]]}},
        {"type": "Feature", "geometry": None},
        "not a feature",
    ]
    with caplog.at_level(logging.WARNING, logger="widgets.map_view"):
        view.apply_alert_areas(
            {
                "good": alert_area("good", Severity.MEDIUM),
                "mixed": alert_area(
                    "mixed", Severity.HIGH, *broken, circle_feature(112.3, 28.5, 1)
                ),
                "hopeless": alert_area("hopeless", Severity.HIGH, *broken),
                "not-geojson": AlertArea("not-geojson", Severity.LOW, "x", {"type": "Topology"}),
            }
        )
    wait_areas(qtbot, view, 2)
    assert call(qtbot, view, "alertAreaInfo", "good")["shapes"] == 1
    assert call(qtbot, view, "alertAreaInfo", "mixed") == {
        "severity": "high",
        "color": HIGH,
        "label": "Heavy rain warning",
        "shapes": 1,
        "radii": [1000],
    }
    assert call(qtbot, view, "alertAreaInfo", "hopeless") is None
    assert view.alert_area_ids() == ["good", "mixed"]
    assert "'hopeless': nothing to draw" in caplog.text
    # An area that turns undrawable leaves the map rather than showing its old shape.
    view.apply_alert_areas({"good": alert_area("good", Severity.MEDIUM, *broken)})
    wait_areas(qtbot, view, 1)
    assert call(qtbot, view, "alertAreaInfo", "good") is None

    # The page checks too: bad items sent straight to it are skipped, the rest are drawn.
    ok = {"type": "FeatureCollection", "features": [polygon_feature()]}
    items = [
        None,
        {"severity": "high"},
        {
            "id": "p-bad",
            "severity": "high",
            "label": "x",
            "geojson": {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Polygon", "coordinates": [[["x", "y"]]]},
                    },
                    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}},
                    {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}},
                ],
            },
        },
        {"id": "p-none", "severity": "low", "label": "x", "geojson": None},
        {"id": "p-ok", "severity": "critical", "label": "y", "geojson": ok},
    ]
    assert call(qtbot, view, "setAlertAreas", items) == 2
    assert call(qtbot, view, "alertAreaInfo", "p-ok")["color"] == CRITICAL
    assert call(qtbot, view, "alertAreaInfo", "p-bad") is None
    assert call(qtbot, view, "setAlertAreas", "nonsense") == 2


def test_alert_areas_do_not_steal_marker_clicks(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities([station("cam-1", lat=28.5539, lon=112.3550)])
    view.apply_alert_areas(
        {"under": alert_area("under", Severity.CRITICAL, polygon_feature(112.33, 28.54, size=0.04))}
    )
    wait_count(qtbot, view, 1)
    wait_areas(qtbot, view, 1)
    assert drawn(qtbot, view, "cam-1")["clustered"] is False
    points = value(
        qtbot,
        view,
        """(() => {
            const map = window.cityops.alertArea('under')._map;
            const box = map.getContainer().getBoundingClientRect();
            const at = (lat, lon) => {
                const p = map.latLngToContainerPoint([lat, lon]);
                return [Math.round(p.x + box.left), Math.round(p.y + box.top)];
            };
            return {marker: at(28.5539, 112.3550), area: at(28.565, 112.36)};
        })()""",
    )
    # The marker is drawn on a canvas over the area; the area's path is what lies under
    # the pointer, and the marker still takes the click.
    hit = f"document.elementFromPoint({points['area'][0]}, {points['area'][1]})"
    assert js(qtbot, view, f"{hit}.closest('.leaflet-cityopsAlertAreas-pane') !== null") is True

    target = view.focusProxy() or view
    with qtbot.waitSignal(view.entityClicked, timeout=TIMEOUT_MS) as blocker:
        QTest.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(*points["marker"]))
    assert blocker.args == ["cam-1"]
    with qtbot.waitSignal(view.alertAreaClicked, timeout=TIMEOUT_MS) as blocker:
        QTest.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(*points["area"]))
    assert blocker.args == ["under"]


def test_clean_area_geojson_keeps_only_drawable_data() -> None:
    ring = [[112.3, 28.5], [112.4, 28.5, 30.0], [float("nan"), 1.0], [112.4, 28.6], [112.3, 28.5]]
    hole = [[112.31, 28.51], [True, 28.52], [112.32, 28.52]]  # too few corners once cleaned
    source = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring, hole]},
                "properties": {"areaDesc": "x" * 2000, "extra": {"deep": [1, 2, 3]}},
            },
            circle_feature(112.3, 28.5, 1e9),
            {"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [[ring], []]}},
        ],
    }
    cleaned, dropped = clean_area_geojson(source)
    assert dropped == 0
    polygon, circle, multi = cleaned["features"]
    assert polygon["geometry"]["coordinates"] == [
        [[112.3, 28.5], [112.4, 28.5], [112.4, 28.6], [112.3, 28.5]]
    ]
    assert polygon["properties"] == {"areaDesc": "x" * 500}
    assert circle["properties"]["radius_km"] == 5000.0
    assert multi["geometry"]["type"] == "Polygon"  # only one of its polygons was usable


def test_clean_area_geojson_caps_vertices() -> None:
    turns = [i / 30_000 * 2 * math.pi for i in range(30_000)]
    huge = [[112.0 + 0.5 * math.cos(t), 28.5 + 0.5 * math.sin(t)] for t in turns]
    many_small = [polygon_feature(112.0 + i / 1000, 28.5) for i in range(3000)]
    for features in ([polygon_feature(), _feature(huge)], many_small):
        cleaned, _ = clean_area_geojson({"type": "FeatureCollection", "features": features})
        assert 0 < vertices(cleaned) <= MAX_AREA_VERTICES
    cleaned, _ = clean_area_geojson({"type": "FeatureCollection", "features": [_feature(huge)]})
    kept = cleaned["features"][0]["geometry"]["coordinates"][0]
    assert len(kept) > MAX_AREA_VERTICES // 2  # thinned, not thrown away
    assert kept[0] == huge[0] and kept[-1] == huge[-1]


def _feature(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}}


def vertices(geojson: dict[str, Any]) -> int:
    total = 0
    for feature in geojson["features"]:
        geometry = feature["geometry"]
        if geometry["type"] == "Point":
            total += 1
        elif geometry["type"] == "Polygon":
            total += sum(len(r) for r in geometry["coordinates"])
        else:
            total += sum(len(r) for p in geometry["coordinates"] for r in p)
    return total


_json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=40,
)
_positions = st.lists(st.floats() | st.integers(-200, 200) | st.none(), min_size=0, max_size=3)
_geometries = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Polygon", "MultiPolygon", "Point", "LineString", "x"]),
        "coordinates": _json_values
        | _positions
        | st.lists(st.lists(_positions, max_size=8), max_size=3)
        | st.lists(st.lists(st.lists(_positions, max_size=8), max_size=2), max_size=2),
    }
)
_features = st.fixed_dictionaries(
    {
        "type": st.just("Feature"),
        "geometry": _geometries | _json_values,
        "properties": st.fixed_dictionaries(
            {
                "radius_km": st.floats() | st.integers() | st.text(max_size=3),
                "areaDesc": _json_values,
            }
        )
        | _json_values,
    }
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    features=st.lists(_features | _json_values, max_size=6),
    max_vertices=st.integers(min_value=1, max_value=40),
)
def test_clean_area_geojson_never_fails_and_emits_strict_json(
    features: list[Any], max_vertices: int
) -> None:
    cleaned, dropped = clean_area_geojson(
        {"type": "FeatureCollection", "features": features}, max_vertices
    )
    json.dumps(cleaned, allow_nan=False)  # finite numbers only
    assert vertices(cleaned) <= max_vertices
    assert len(cleaned["features"]) + dropped == len(features)
    for feature in cleaned["features"]:
        assert set(feature["properties"]) <= {"areaDesc", "radius_km"}


def test_the_page_draws_without_an_opengl_driver(qtbot: QtBot, profile: QWebEngineProfile) -> None:
    """Offscreen the suite draws as the app does there (``ui.rendering``: Qt Quick's software
    backend): the page's frames reach the view, and no OpenGL driver (Mesa's llvmpipe and its
    LLVM, about 45 MB) is loaded for them."""
    view = make_view(profile)
    qtbot.addWidget(view)
    qtbot.waitUntil(view.is_ready, timeout=TIMEOUT_MS)

    def colours() -> set[int]:
        image = view.grab().toImage()
        return {image.pixel(x, y) for x in range(0, image.width(), 8) for y in range(0, 600, 8)}

    # the page's background and Leaflet's controls, not a blank frame (the first frame may
    # reach the view a moment after the page says it is ready)
    qtbot.waitUntil(lambda: len(colours()) > 2, timeout=TIMEOUT_MS)
    mapped = Path("/proc/self/maps").read_text()
    assert "libLLVM" not in mapped and "swrast_dri" not in mapped
