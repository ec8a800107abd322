"""The offline map: a real QtWebEngine page, fed through MapView, read back with JavaScript."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
from collections.abc import Iterator
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QUrl
from PySide6.QtWebEngineCore import (
    QWebEngineProfile,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
)
from pytestqt.qtbot import QtBot

from services.model import Entity, Severity
from tests.conftest import SHARED_INTEROP
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

TIMEOUT_MS = 15_000
CENTER = (28.5539, 112.3550)  # Yiyang

GREEN, AMBER, RED, GREY = "#2e9d4a", "#e8a317", "#d62828", "#8a8f98"

HOSTILE = '<img src=x onerror="window.pwned=1">'


class RecordingInterceptor(QWebEngineUrlRequestInterceptor):
    """Remembers every URL the profile's pages ask for."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        self.urls.append(QUrl(info.requestUrl()))


@pytest.fixture
def profile(qapp: Any) -> Iterator[QWebEngineProfile]:
    """A fresh off-the-record profile, deleted after the view that uses it."""
    prof = QWebEngineProfile()
    yield prof
    shiboken6.delete(prof)


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


def js(qtbot: QtBot, view: MapView, script: str) -> Any:
    """Run ``script`` in the page and return its result."""
    with qtbot.waitCallback(timeout=TIMEOUT_MS) as callback:
        view.evaluate(script, callback)
    return callback.args[0]


def value(qtbot: QtBot, view: MapView, expression: str) -> Any:
    """Evaluate a JS expression and return it as Python data."""
    with qtbot.waitCallback(timeout=TIMEOUT_MS) as callback:
        view.evaluate_json(expression, callback)
    return callback.args[0]


def call(qtbot: QtBot, view: MapView, function: str, *args: Any) -> Any:
    """Call ``window.cityops.<function>(*args)`` with JSON-encoded arguments."""
    encoded = ",".join(json.dumps(a) for a in args)
    return value(qtbot, view, f"window.cityops.{function}({encoded})")


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
    assert js(qtbot, new_view, "typeof L.markerClusterGroup") == "function"
    # Our stylesheet came through the cityops scheme: the neutral background is applied.
    background = js(
        qtbot,
        new_view,
        "getComputedStyle(document.querySelector('.leaflet-container')).backgroundColor",
    )
    assert background == "rgb(223, 227, 230)"


def test_marker_colour_follows_severity_and_staleness(qtbot: QtBot, view: MapView) -> None:
    entities = [
        station("none"),
        station("low", worst_severity=Severity.LOW, lat=28.56),
        station("medium", worst_severity=Severity.MEDIUM, lat=28.57),
        station("high", worst_severity=Severity.HIGH, lat=28.58),
        station("critical", worst_severity=Severity.CRITICAL, lat=28.59),
        station("stale", stale=True, worst_severity=Severity.CRITICAL, lat=28.60),
    ]
    view.apply_entities(entities)
    wait_count(qtbot, view, 6)
    colours = {e.id: call(qtbot, view, "markerInfo", e.id)["color"] for e in entities}
    assert colours == {
        "none": GREEN,
        "low": AMBER,
        "medium": AMBER,
        "high": RED,
        "critical": RED,
        "stale": GREY,
    }
    stale = call(qtbot, view, "markerInfo", "stale")
    assert stale["stale"] is True
    assert js(qtbot, view, "window.cityops.marker('stale').options.dashArray") == "3 3"
    assert value(qtbot, view, "window.cityops.marker('high').options.dashArray") is None
    assert call(qtbot, view, "markerInfo", "nobody") is None


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
    assert info["color"] == RED
    assert call(qtbot, view, "markerCount") == 1


def test_updates_before_ready_are_queued_and_merged(qtbot: QtBot, new_view: MapView) -> None:
    assert not new_view.is_ready()
    new_view.apply_entities([station("a"), station("b", lat=28.6)], {"a": {"pm25": "12 µg/m³"}})
    new_view.apply_entities([station("b", lat=28.7)], {"a": {"no2": "40 µg/m³"}})
    new_view.remove_entities(["b"])
    new_view.apply_entities([station("c", lat=28.65, worst_severity=Severity.LOW)])
    qtbot.waitUntil(new_view.is_ready, timeout=TIMEOUT_MS)
    wait_count(qtbot, new_view, 2)
    assert call(qtbot, new_view, "markerInfo", "b") is None
    assert call(qtbot, new_view, "markerInfo", "c")["color"] == AMBER
    js(qtbot, new_view, "window.cityops.marker('a').openTooltip(); true")
    rows = value(
        qtbot,
        new_view,
        "Array.from(document.querySelectorAll('.leaflet-tooltip .cityops-tip-values tr'))"
        ".map(r => r.textContent)",
    )
    assert rows == ["no240 µg/m³", "pm2512 µg/m³"]


def test_nearby_markers_cluster_with_the_most_urgent_colour(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities(
        [
            station("p1"),
            station("p2", lon=112.3501, worst_severity=Severity.CRITICAL),
            station("p3", lon=112.3502, stale=True),
        ]
    )
    wait_count(qtbot, view, 3)
    clusters = value(
        qtbot,
        view,
        "Array.from(document.querySelectorAll('.cityops-cluster'))"
        ".map(e => [e.className, e.textContent])",
    )
    assert len(clusters) == 1
    assert "cityops-cluster-alarm" in clusters[0][0].split()
    assert clusters[0][1] == "3"
    view.apply_entities([station("p2", lon=112.3501)])  # the alarm clears
    qtbot.waitUntil(
        lambda: js(qtbot, view, "document.querySelectorAll('.cityops-cluster-ok').length") == 1,
        timeout=TIMEOUT_MS,
    )


def test_without_clustering_every_marker_is_drawn(qtbot: QtBot, profile: QWebEngineProfile) -> None:
    view = make_view(profile, cluster=False)
    try:
        qtbot.waitUntil(view.is_ready, timeout=TIMEOUT_MS)
        view.apply_entities([station("p1"), station("p2", lon=112.3501)])
        wait_count(qtbot, view, 2)
        assert js(qtbot, view, "document.querySelectorAll('.cityops-cluster').length") == 0
        assert js(qtbot, view, "document.querySelectorAll('path.leaflet-interactive').length") == 2
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
    with qtbot.waitSignal(view.entityClicked, timeout=TIMEOUT_MS) as blocker:
        js(qtbot, view, "window.cityops.marker('cam-12').fire('click'); true")
    assert blocker.args == ["cam-12"]


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
        wait_count(qtbot, view, 30)
        qtbot.waitUntil(lambda: call(qtbot, view, "boundaryCount") == 1, timeout=TIMEOUT_MS)
        js(qtbot, view, "window.cityops.marker('s1').openTooltip(); true")
        js(qtbot, view, "window.cityops.marker('s1').closeTooltip(); true")
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
    wait_count(qtbot, view, 2)
    pid = view.page().renderProcessPid()
    assert pid > 0
    with qtbot.waitSignal(view.pageReady, timeout=TIMEOUT_MS):
        os.kill(pid, signal.SIGKILL)
    wait_count(qtbot, view, 2)
    assert call(qtbot, view, "markerInfo", "b")["color"] == RED
    assert call(qtbot, view, "boundaryCount") == 1


def test_page_reload_gets_everything_again(qtbot: QtBot, view: MapView) -> None:
    view.apply_entities([station("a"), station("b", lat=28.6, stale=True)])
    wait_count(qtbot, view, 2)
    with qtbot.waitSignal(view.pageReady, timeout=TIMEOUT_MS):
        js(qtbot, view, "window.location.reload(); true")
    wait_count(qtbot, view, 2)
    assert call(qtbot, view, "markerInfo", "b")["color"] == GREY


def test_page_refuses_to_navigate_away(
    qtbot: QtBot, view: MapView, caplog: pytest.LogCaptureFixture
) -> None:
    view.apply_entities([station("a")])
    wait_count(qtbot, view, 1)
    with caplog.at_level(logging.WARNING, logger="cityops.map"):
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
