"""The map's layers on the real page: domains and alarms-only filters, districts, alert
areas, geofences, vehicle tracks, attention rings, cluster rims, and the datum moves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWebEngineCore import QWebEngineProfile
from pytestqt.qtbot import QtBot

from services.geo.gcj02 import wgs84_to_gcj02
from services.model import AlertArea, Entity, Severity
from tests.helpers.map_page import TIMEOUT_MS, call, js, value
from tests.widgets.test_map_view import (
    CRITICAL,
    HIGH,
    HOSTILE,
    css_rgb,
    make_view,
    rgb,
    station,
    wait_count,
)
from widgets.map_view import MapView

pytestmark = [
    pytest.mark.webengine,
    pytest.mark.qt_log_ignore(
        "QRhiGles2", "Failed to create RHI", "GPUInfo not initialized", "Unable to detect GPU"
    ),
]


@pytest.fixture
def view(qtbot: QtBot, profile: QWebEngineProfile) -> Iterator[MapView]:
    made = make_view(profile)
    qtbot.waitUntil(made.is_ready, timeout=TIMEOUT_MS)
    yield made
    made.close()
    shiboken6.delete(made)


def layers(qtbot: QtBot, view: MapView) -> dict[str, Any]:
    info: dict[str, Any] = call(qtbot, view, "layersInfo")
    return info


def wait_layers(qtbot: QtBot, view: MapView, **expected: Any) -> None:
    qtbot.waitUntil(
        lambda: all(layers(qtbot, view).get(k) == v for k, v in expected.items()),
        timeout=TIMEOUT_MS,
    )


def city() -> list[Entity]:
    return [
        station("air-1", lat=28.50, lon=112.30),
        station("air-2", lat=28.52, lon=112.32, worst_severity=Severity.HIGH),
        station("bus-1", type="bus", domain="transport", lat=28.56, lon=112.36),
        station(
            "bus-2",
            type="bus",
            domain="transport",
            lat=28.58,
            lon=112.38,
            worst_severity=Severity.CRITICAL,
        ),
        station("pump", type="pumping_station", domain="water", lat=28.60, lon=112.40),
    ]


def square(name: str, lon: float, lat: float, size: float = 0.02) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {
        "type": "Feature",
        "properties": {"name": name},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def test_domains_and_alarms_only_filter_markers(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities(city())
    wait_count(qtbot, view, 5)
    wait_layers(qtbot, view, shown=5)
    view.set_layers({"domains": {"transport": False}})
    wait_layers(qtbot, view, shown=3, hiddenDomains=["transport"])
    assert call(qtbot, view, "markerInfo", "bus-1")["shown"] is False
    assert call(qtbot, view, "markerInfo", "air-1")["shown"] is True
    # Only alarms: of what is left, the high air station.
    view.set_layers({"alarmsOnly": True})
    wait_layers(qtbot, view, shown=1, alarmsOnly=True)
    # A marker that goes into alarm while filtered out appears; one that clears goes.
    view.apply_entities([station("air-1", lat=28.50, lon=112.30, worst_severity=Severity.LOW)])
    view.apply_entities([station("air-2", lat=28.52, lon=112.32)])
    qtbot.waitUntil(lambda: call(qtbot, view, "markerInfo", "air-1")["shown"], timeout=TIMEOUT_MS)
    wait_layers(qtbot, view, shown=1)
    assert call(qtbot, view, "markerInfo", "air-2")["shown"] is False
    # Back to everything; a domain setting left out of a later call is kept.
    view.set_layers({"alarmsOnly": False})
    wait_layers(qtbot, view, shown=3)
    view.set_layers({"domains": {"transport": True}})
    wait_layers(qtbot, view, shown=5, hiddenDomains=[])
    # The page counts what Leaflet holds, not only its own flags.
    js(qtbot, view, "window.cityops.redraw(); true")
    # What the canvas draws, not only the page's flags.
    assert all(call(qtbot, view, "drawn", e.id) is not None for e in city())
    view.set_layers({"domains": {"transport": False}})
    wait_layers(qtbot, view, shown=3)
    js(qtbot, view, "window.cityops.redraw(); true")
    assert call(qtbot, view, "drawn", "bus-1") is None


def test_settings_survive_a_new_document(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities(city())
    view.set_layers({"domains": {"water": False}, "districts": False})
    wait_layers(qtbot, view, shown=4, districts=False)
    view.page().triggerAction(view.page().WebAction.Reload)
    qtbot.waitUntil(lambda: not view.is_ready(), timeout=TIMEOUT_MS)
    qtbot.waitUntil(view.is_ready, timeout=TIMEOUT_MS)
    wait_layers(qtbot, view, shown=4, districts=False, hiddenDomains=["water"])


def test_panes_toggle_districts_areas_geofences_tracks(qtbot: QtBot, view: MapView) -> None:
    view.set_boundaries({"type": "FeatureCollection", "features": [square("资阳区", 112.3, 28.5)]})
    view.set_geofences(
        {"type": "FeatureCollection", "features": [square("Depot", 112.35, 28.55, 0.01)]}
    )
    view.apply_entities(city())
    view.apply_alert_areas({"cap-1": AlertArea("cap-1", Severity.HIGH, "Rain", square_area())})
    view.set_tracks([{"id": "bus-1", "name": "Bus 1", "points": [(28.5, 112.3), (28.56, 112.36)]}])
    wait_layers(qtbot, view, geofenceCount=1, trackCount=1)
    for name in ("districts", "alertAreas", "geofences", "tracks"):
        assert layers(qtbot, view)[name] is True
        view.set_layers({name: False})
        wait_layers(qtbot, view, **{name: False})
        hidden = value(
            qtbot,
            view,
            """['cityopsBoundaries', 'cityopsAlertAreas', 'cityopsGeofences', 'cityopsTracks']
                .map((p) => getComputedStyle(document.querySelector('.leaflet-' + p + '-pane'))
                .display)""",
        )
        assert "none" in hidden
        view.set_layers({name: True})
        wait_layers(qtbot, view, **{name: True})
    # Geofences are dashed outlines without a fill, labelled with their names.
    fence = value(
        qtbot,
        view,
        """(() => { const p = document.querySelector('.leaflet-cityopsGeofences-pane path');
            return {dash: p.getAttribute('stroke-dasharray'), fill: p.getAttribute('fill'),
                    label: document.querySelector('.cityops-geofence-label').textContent}; })()""",
    )
    assert fence == {"dash": "10 6", "fill": "none", "label": "Depot"}


def square_area() -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [square("", 112.33, 28.53, 0.05)]}


def test_tracks_fade_with_age_on_a_canvas(qtbot: QtBot, view: MapView) -> None:
    points = [(28.50 + 0.005 * i, 112.30 + 0.004 * i) for i in range(20)]
    view.set_tracks(
        [
            {"id": "bus-1", "name": "Bus 1", "points": points},
            {"id": "bus-2", "name": "Bus 2", "points": points[:1]},  # nothing to draw
        ]
    )
    wait_layers(qtbot, view, trackCount=1)
    assert call(qtbot, view, "trackInfo") == [{"id": "bus-1", "name": "Bus 1", "points": 20}]
    drawn = value(
        qtbot,
        view,
        """(() => { const canvas = document.querySelector('.leaflet-cityopsTracks-pane canvas');
            return {canvas: Boolean(canvas), svg: document.querySelectorAll(
                '.leaflet-cityopsTracks-pane path').length}; })()""",
    )
    assert drawn == {"canvas": True, "svg": 0}
    opacities = value(
        qtbot,
        view,
        """(() => { const out = []; window.cityops.map().eachLayer((l) => {
            if (l instanceof L.Polyline && l.options.pane === 'cityopsTracks') {
                out.push(l.options.opacity); } }); return out; })()""",
    )
    assert len(opacities) == 5
    assert opacities == sorted(opacities)
    assert opacities[0] < 0.5 < opacities[-1]
    view.set_tracks([])
    wait_layers(qtbot, view, trackCount=0)


def test_attention_rings_pulse_around_unacknowledged_priority_one(
    qtbot: QtBot, view: MapView
) -> None:
    view.apply_entities(city())
    wait_count(qtbot, view, 5)
    view.set_attention(["bus-2", "unknown"])
    wait_layers(qtbot, view, attention=1)
    ring = value(
        qtbot,
        view,
        """(() => { const r = document.querySelector('.cityops-attention-ring');
            const s = getComputedStyle(r);
            return {animation: s.animationName, border: s.borderTopColor}; })()""",
    )
    assert ring == {"animation": "cityops-pulse", "border": css_rgb(CRITICAL)}
    # A ring follows its entity when it moves, and goes with it.
    view.apply_entities([station("bus-2", type="bus", lat=28.7, lon=112.5)])
    qtbot.waitUntil(
        lambda: (
            value(
                qtbot,
                view,
                "window.cityops.marker('bus-2').getLatLng().lat",
            )
            == 28.7
        ),
        timeout=TIMEOUT_MS,
    )
    view.set_attention([])
    wait_layers(qtbot, view, attention=0)
    assert js(qtbot, view, "document.querySelectorAll('.cityops-attention').length") == 0


def test_cluster_rim_has_its_worst_members_colour(qtbot: QtBot, view: MapView) -> None:
    crowd = [station(f"s{i}", lat=28.55 + i * 1e-5, lon=112.35) for i in range(5)]
    crowd.append(station("bad", lat=28.5501, lon=112.35, worst_severity=Severity.HIGH))
    view.apply_entities(crowd)
    wait_count(qtbot, view, 6)
    js(qtbot, view, "window.cityops.redraw(); true")
    (cluster,) = call(qtbot, view, "clusters")
    assert (cluster["count"], cluster["level"]) == (6, "high")
    # The rim, just inside the disc's edge on its left, is drawn in the priority's colour.
    radius = 34 / 2 - 2
    rim = call(qtbot, view, "markerPixel", cluster["x"] - radius, cluster["y"])
    assert rim[:3] == list(rgb(HIGH))


def test_a_projection_moves_everything_and_is_undone(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities(city())
    view.set_boundaries({"type": "FeatureCollection", "features": [square("A", 112.3, 28.5)]})
    view.set_tracks([{"id": "t", "name": "T", "points": [(28.5, 112.3), (28.6, 112.4)]}])
    wait_count(qtbot, view, 5)
    before = call(qtbot, view, "markerInfo", "air-1")
    view.set_projection(wgs84_to_gcj02)
    expected = wgs84_to_gcj02(28.50, 112.30)
    qtbot.waitUntil(
        lambda: abs(call(qtbot, view, "markerInfo", "air-1")["lat"] - expected[0]) < 1e-9,
        timeout=TIMEOUT_MS,
    )
    after = call(qtbot, view, "markerInfo", "air-1")
    assert abs(after["lon"] - expected[1]) < 1e-9
    corner = value(
        qtbot,
        view,
        """(() => { let out = null; window.cityops.map().eachLayer((l) => {
            if (l instanceof L.Polygon && l.options.pane === 'cityopsBoundaries') {
                out = l.getLatLngs()[0][0]; } }); return out; })()""",
    )
    assert abs(corner["lat"] - expected[0]) < 1e-9
    assert abs(corner["lng"] - expected[1]) < 1e-9
    # A vehicle moving while the projection holds moves in the base map's datum too (its
    # move is sent as a short row).
    view.apply_entities([station("bus-1", type="bus", domain="transport", lat=28.57, lon=112.37)])
    moved = wgs84_to_gcj02(28.57, 112.37)
    qtbot.waitUntil(
        lambda: abs(call(qtbot, view, "markerInfo", "bus-1")["lat"] - moved[0]) < 1e-9,
        timeout=TIMEOUT_MS,
    )
    assert abs(call(qtbot, view, "markerInfo", "bus-1")["lon"] - moved[1]) < 1e-9
    view.set_projection(None)
    qtbot.waitUntil(
        lambda: call(qtbot, view, "markerInfo", "air-1")["lat"] == before["lat"],
        timeout=TIMEOUT_MS,
    )


def test_hostile_strings_through_the_new_layers_stay_text(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities([station("x", name=HOSTILE, type=HOSTILE, domain=HOSTILE)])
    view.set_geofences({"type": "FeatureCollection", "features": [square(HOSTILE, 112.3, 28.5)]})
    view.set_tracks([{"id": HOSTILE, "name": HOSTILE, "points": [(28.5, 112.3), (28.6, 112.4)]}])
    view.set_layers({"domains": {HOSTILE: False, "<script>": True}})
    view.set_attention([HOSTILE, "x"])
    wait_layers(qtbot, view, trackCount=1, geofenceCount=1, hiddenDomains=[HOSTILE], shown=0)
    js(
        qtbot,
        view,
        """window.cityops.map().eachLayer((l) => {
            if (l.options && l.options.pane === 'cityopsTracks' && l.openTooltip) {
                l.openTooltip(l.getLatLngs()[0]); } }); true""",
    )
    texts = value(
        qtbot,
        view,
        """({fence: document.querySelector('.cityops-geofence-label').textContent,
            tip: Array.from(document.querySelectorAll('.leaflet-tooltip'))
                .map((t) => t.textContent),
            images: document.querySelectorAll('img[src="x"]').length})""",
    )
    assert texts["fence"] == HOSTILE
    assert HOSTILE in texts["tip"]
    assert texts["images"] == 0
    assert js(qtbot, view, "typeof window.pwned") == "undefined"
    assert call(qtbot, view, "trackInfo")[0]["name"] == HOSTILE
    assert json.dumps(layers(qtbot, view)["hiddenDomains"]) == json.dumps([HOSTILE])


def test_heat_layer_with_its_legend_through_the_map_view(qtbot: QtBot, view: MapView) -> None:
    points = [(28.50 + 0.01 * i, 112.30 + 0.01 * i, float(i)) for i in range(10)]
    view.set_heat({"points": points, "title": HOSTILE, "unit": "µg/m³", "min": 0, "max": 9})
    wait_layers(qtbot, view, heatPoints=10, heat=True)
    legend = value(
        qtbot,
        view,
        """(() => { const el = document.querySelector('.cityops-heat-legend');
            return {text: el.textContent, images: el.querySelectorAll('img').length}; })()""",
    )
    assert HOSTILE in legend["text"] and "µg/m³" in legend["text"]
    assert legend["images"] == 0
    assert js(qtbot, view, "typeof window.pwned") == "undefined"
    sample = value(qtbot, view, "window.cityops.heat().sample(28.59, 112.39)")
    assert sample[3] > 0
    view.set_layers({"heat": False})
    wait_layers(qtbot, view, heat=False)
    display = "getComputedStyle(document.querySelector('.cityops-heat-legend')).display"
    assert js(qtbot, view, display) == "none"
    view.set_heat(None)
    wait_layers(qtbot, view, heatPoints=0)
    assert js(qtbot, view, "document.querySelectorAll('.cityops-heat-legend').length") == 0


def test_the_operator_draws_a_box_and_the_view_is_reported(qtbot: QtBot, view: MapView) -> None:
    qtbot.waitUntil(lambda: view.view_bounds is not None, timeout=TIMEOUT_MS)
    west, south, east, north = view.view_bounds or (0, 0, 0, 0)
    assert west < 112.355 < east and south < 28.5539 < north
    js(qtbot, view, "window.cityops.map().panBy([200, 0], {animate: false}); true")
    qtbot.waitUntil(
        lambda: view.view_bounds is not None and view.view_bounds[0] > west, timeout=TIMEOUT_MS
    )
    with qtbot.waitSignal(view.boxPicked, timeout=TIMEOUT_MS) as picked:
        view.pick_box()
        js(
            qtbot,
            view,
            """(() => { const map = window.cityops.map();
                const a = L.latLng(28.50, 112.30), b = L.latLng(28.60, 112.40);
                map.fire('mousedown', {latlng: a}); map.fire('mousemove', {latlng: b});
                map.fire('mouseup', {latlng: b}); return true; })()""",
        )
    assert picked.args[0] == pytest.approx((112.30, 28.50, 112.40, 28.60))
    # Picking is over: the map drags again and the crosshair is gone.
    assert js(qtbot, view, "window.cityops.dragging()") is True
    classes = "document.querySelector('.leaflet-container').className"
    assert "cityops-picking" not in js(qtbot, view, classes)


def test_a_snapshot_holds_what_the_layers_show(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities(city())
    view.set_tracks([{"id": "bus-1", "name": "Bus 1", "points": [(28.5, 112.3), (28.6, 112.4)]}])
    view.set_layers({"domains": {"water": False}, "tracks": False})
    snap = view.snapshot()
    assert [e["id"] for e in snap["entities"]] == ["air-1", "air-2", "bus-1", "bus-2"]
    assert snap["tracks"] == []
    view.set_layers({"alarmsOnly": True, "tracks": True})
    snap = view.snapshot()
    assert [e["id"] for e in snap["entities"]] == ["air-2", "bus-2"]
    assert [t["name"] for t in snap["tracks"]] == ["Bus 1"]


def press_release(view: MapView, start: tuple[int, int], end: tuple[int, int]) -> None:
    """A real press at ``start``, moves to ``end`` and a release there."""
    target = view.focusProxy() or view
    QTest.mousePress(target, Qt.MouseButton.LeftButton, pos=QPoint(*start))
    for step in range(1, 6):
        x = start[0] + (end[0] - start[0]) * step // 5
        y = start[1] + (end[1] - start[1]) * step // 5
        QTest.mouseMove(target, QPoint(x, y))
        QTest.qWait(20)
    QTest.mouseRelease(target, Qt.MouseButton.LeftButton, pos=QPoint(*end))


def click_at(view: MapView, x: float, y: float) -> None:
    target = view.focusProxy() or view
    QTest.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))


def test_a_marker_under_a_map_control_does_not_take_its_click(qtbot: QtBot, view: MapView) -> None:
    button = value(
        qtbot,
        view,
        """(() => { const b = document.querySelector('.leaflet-control-zoom-in')
            .getBoundingClientRect(); const map = window.cityops.map();
            const c = map.getContainer().getBoundingClientRect();
            const x = b.left + b.width / 2 - c.left, y = b.top + b.height / 2 - c.top;
            const at = map.containerPointToLatLng([x, y]);
            return {x: x, y: y, lat: at.lat, lon: at.lng, zoom: map.getZoom()}; })()""",
    )
    view.apply_entities([station("under", lat=button["lat"], lon=button["lon"])])
    wait_count(qtbot, view, 1)
    js(qtbot, view, "window.cityops.redraw(); true")
    assert call(qtbot, view, "drawn", "under") is not None
    with qtbot.assertNotEmitted(view.entityClicked, wait=500):
        click_at(view, button["x"], button["y"])
    qtbot.waitUntil(
        lambda: value(qtbot, view, "window.cityops.map().getZoom()") == button["zoom"] + 1,
        timeout=TIMEOUT_MS,
    )


def test_a_ring_waits_for_its_entity_and_hides_with_it(qtbot: QtBot, view: MapView) -> None:
    view.set_attention(["late"])
    wait_layers(qtbot, view, attention=0)
    view.apply_entities([station("late", worst_severity=Severity.CRITICAL)])
    wait_layers(qtbot, view, attention=1)
    view.set_layers({"domains": {"environment": False}})
    wait_layers(qtbot, view, attention=0, shown=0)
    view.set_layers({"domains": {"environment": True}})
    wait_layers(qtbot, view, attention=1)
    view.remove_entities(["late"])
    wait_layers(qtbot, view, attention=0)


def test_entities_on_one_spot_are_fanned_out_and_each_can_be_clicked(
    qtbot: QtBot, view: MapView
) -> None:
    view.apply_entities([station(f"dev-{n}", lat=28.56, lon=112.36) for n in range(3)])
    wait_count(qtbot, view, 3)
    js(qtbot, view, "window.cityops.map().setView([28.56, 112.36], 18, {animate: false}); true")
    js(qtbot, view, "window.cityops.redraw(); true")
    spots = [call(qtbot, view, "drawn", f"dev-{n}") for n in range(3)]
    assert not any(spot["clustered"] for spot in spots)
    places = {(round(spot["x"]), round(spot["y"])) for spot in spots}
    assert len(places) == 3  # apart, around the spot
    for n, spot in enumerate(spots):
        with qtbot.waitSignal(view.entityClicked, timeout=TIMEOUT_MS) as clicked:
            click_at(view, spot["x"], spot["y"])
        assert clicked.args == [f"dev-{n}"]


def test_drawing_a_box_that_ends_on_a_marker_does_not_click_it(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities([station("m", lat=28.5539, lon=112.3550)])
    wait_count(qtbot, view, 1)
    js(qtbot, view, "window.cityops.redraw(); true")
    spot = call(qtbot, view, "drawn", "m")
    view.pick_box()
    qtbot.wait(200)
    end = (round(spot["x"]), round(spot["y"]))
    with (
        qtbot.waitSignal(view.boxPicked, timeout=TIMEOUT_MS),
        qtbot.assertNotEmitted(view.entityClicked, wait=500),
    ):
        press_release(view, (end[0] - 120, end[1] - 90), end)


def test_over_a_marker_inside_a_warning_area_only_its_tooltip_shows(
    qtbot: QtBot, view: MapView
) -> None:
    view.apply_entities([station("inside", name="Inside station", lat=28.5539, lon=112.3550)])
    view.apply_alert_areas(
        {"cap-1": AlertArea("cap-1", Severity.HIGH, "Heavy rain", square_area())}
    )
    wait_count(qtbot, view, 1)
    js(qtbot, view, "window.cityops.redraw(); true")
    spot = call(qtbot, view, "drawn", "inside")
    target = view.focusProxy() or view
    QTest.mouseMove(target, QPoint(round(spot["x"]) - 60, round(spot["y"]) + 40))  # the area
    QTest.qWait(100)
    QTest.mouseMove(target, QPoint(round(spot["x"]), round(spot["y"])))
    shown = """Array.from(document.querySelectorAll('.leaflet-tooltip'))
        .filter((t) => getComputedStyle(t).display !== 'none').map((t) => t.textContent)"""
    qtbot.waitUntil(
        lambda: any("Inside station" in t for t in value(qtbot, view, shown)), timeout=TIMEOUT_MS
    )
    assert not any("Heavy rain" in t for t in value(qtbot, view, shown))
