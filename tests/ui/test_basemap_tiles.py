"""Base maps on the real map page: tiles come through the app's own scheme from a tile
worker (a local tile server started by the test), browsing fills the tile store, with the
server stopped the stored tiles are still drawn and the rest are placeholders; nothing goes
to the network from the page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtWebEngineCore import QWebEngineProfile
from pytestqt.qtbot import QtBot

from services.config import BasemapConfig
from services.geo.gcj02 import distance_m, gcj02_to_wgs84
from services.model import Entity
from services.tiles.prefetch import Prefetcher
from services.tiles.store import TileStore
from services.tiles.xyz import BBox, count_tiles
from tests.helpers.e2e import run_js
from tests.helpers.paths import SHARED_INTEROP
from tests.helpers.tiles import TileServer
from ui.tile_worker import TileWorker, basemap_records, show_basemaps
from widgets.map_scheme import install_scheme_handler
from widgets.map_view import MapView

CENTER = (28.57, 112.36)
OUTLINES = SHARED_INTEROP / "geo" / "yiyang-430900.geojson"


@pytest.fixture
def profile(qapp: Any) -> Iterator[QWebEngineProfile]:
    prof = QWebEngineProfile()
    yield prof
    for view in list(VIEWS):  # a failed test's pages go before their profile
        forget(view)
    shiboken6.delete(prof)


VIEWS: list[MapView] = []


def forget(view: MapView) -> None:
    """Close and delete a map view (at once: its page must not outlive the profile)."""
    if view in VIEWS:
        VIEWS.remove(view)
    if shiboken6.isValid(view):
        view.close()
        shiboken6.delete(view)


def show_map(
    qtbot: QtBot,
    profile: QWebEngineProfile,
    worker: TileWorker,
    basemaps: list[BasemapConfig],
    zoom: int = 13,
) -> MapView:
    install_scheme_handler(profile).set_tile_provider(worker.request)
    view = MapView(CENTER, zoom, profile=profile)
    VIEWS.append(view)
    view.resize(800, 600)
    view.show()
    view.set_basemaps(basemap_records(basemaps))
    qtbot.waitUntil(view.is_ready, timeout=30_000)
    return view


def counts(qtbot: QtBot, view: MapView) -> dict[str, int]:
    return dict(run_js(qtbot, view, "window.cityops.tileCounts()"))


def test_tiles_come_through_the_scheme_fill_the_store_and_stay_offline(
    qtbot: QtBot, profile: QWebEngineProfile, tmp_path: Path
) -> None:
    server = TileServer()
    store_path = tmp_path / "tiles.sqlite3"
    basemaps = [BasemapConfig("Local", server.url, attribution="<b>© test</b>", max_zoom=16)]
    worker = TileWorker(basemaps, store_path)
    try:
        view = show_map(qtbot, profile, worker, basemaps)
        qtbot.waitUntil(lambda: counts(qtbot, view)["loaded"] >= 4, timeout=20_000)
        qtbot.wait(1_500)  # the rest of the view's tiles
        fetched = sorted(set(server.requests))
        assert fetched and all(path.startswith("/13/") for path in fetched)
        assert run_js(
            qtbot, view, "document.querySelector('.cityops-attribution').textContent"
        ) == (
            "<b>© test</b>"  # plain text, never markup
        )
        forget(view)
    finally:
        server.stop()
    worker.close()
    keys = [
        tuple(int(part) for part in path.strip("/").removesuffix(".png").split("/"))
        for path in fetched
    ]
    qtbot.wait(500)  # the worker's last writes
    stored = _stored(store_path, keys)
    assert stored >= 4  # what was browsed is in the store

    offline = TileWorker(basemaps, store_path)  # the server is gone: the store serves
    view = show_map(qtbot, profile, offline, basemaps)
    qtbot.waitUntil(lambda: counts(qtbot, view)["loaded"] >= stored, timeout=20_000)
    qtbot.wait(500)
    offline_counts = counts(qtbot, view)
    assert offline_counts["loaded"] == stored  # every stored tile, from the store
    assert offline_counts["missing"] == len(keys) - stored  # asked while the server went
    forget(view)
    elsewhere = show_map(qtbot, profile, offline, basemaps, zoom=15)  # never browsed there
    qtbot.waitUntil(lambda: counts(qtbot, elsewhere)["missing"] >= 4, timeout=20_000)
    assert counts(qtbot, elsewhere)["loaded"] == 0  # placeholders only
    forget(elsewhere)
    offline.close()


def _stored(path: Path, keys: list[tuple[int, ...]]) -> int:
    store = TileStore(path)
    try:
        return sum(store.get("Local", (z, x, y)) is not None for z, x, y in keys)
    finally:
        store.close()


def test_a_prefetched_set_draws_every_tile_with_the_server_stopped(
    qtbot: QtBot, profile: QWebEngineProfile, tmp_path: Path
) -> None:
    server = TileServer()
    store_path = tmp_path / "tiles.sqlite3"
    basemaps = [BasemapConfig("Local", server.url, max_zoom=16)]
    store = TileStore(store_path)
    box = BBox(112.28, 28.52, 112.44, 28.62)  # around the view at zoom 13, with margin
    store.create_set("centre", "Local", box, 12, 13)
    result = Prefetcher(store, server.url).run("centre")
    store.close()
    server.stop()  # from here on nothing can be fetched
    assert result.stored == result.planned == count_tiles(box, 12, 13)
    worker = TileWorker(basemaps, store_path)
    view = show_map(qtbot, profile, worker, basemaps)
    qtbot.waitUntil(lambda: counts(qtbot, view)["loaded"] >= 4, timeout=20_000)
    qtbot.wait(1_500)
    shown = run_js(
        qtbot,
        view,
        """(() => { const b = window.cityops.viewBounds(); const z = 13;
            const x = (lon) => Math.floor((lon + 180) / 360 * 2 ** z);
            const y = (lat) => { const r = lat * Math.PI / 180;
                return Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2
                                  * 2 ** z); };
            return (x(b[2]) - x(b[0]) + 1) * (y(b[1]) - y(b[3]) + 1); })()""",
    )
    drawn = counts(qtbot, view)
    assert drawn["missing"] == 0  # every tile of the view was prefetched
    assert drawn["loaded"] >= shown  # Leaflet also loads a ring around the view
    # Zoomed in beyond the set: placeholders, still nothing fetched.
    run_js(qtbot, view, "(window.cityops.map().setZoom(15, {animate: false}), true)")
    qtbot.waitUntil(lambda: counts(qtbot, view)["missing"] >= 4, timeout=20_000)
    forget(view)
    worker.close()


def test_data_follows_the_datum_of_the_base_map_shown(
    qtbot: QtBot, profile: QWebEngineProfile, tmp_path: Path
) -> None:
    """Positions are WGS-84 in the app; on a GCJ-02 base map (AMap, Tianditu's Chinese
    layers) they are drawn moved to GCJ-02, so the shared Yiyang outlines (GCJ-02, taken
    to WGS-84 by the config) land back exactly on their own coordinates."""
    server = TileServer()
    basemaps = [
        BasemapConfig("OSM", server.url, max_zoom=16),
        BasemapConfig("AMap", server.url, max_zoom=16, crs="gcj02"),
    ]
    worker = TileWorker(basemaps, tmp_path / "tiles.sqlite3")
    install_scheme_handler(profile).set_tile_provider(worker.request)
    view = MapView(CENTER, 12, profile=profile)
    VIEWS.append(view)
    view.resize(800, 600)
    view.show()
    show_basemaps(view, basemaps)
    source = json.loads(OUTLINES.read_text(encoding="utf-8"))
    ziyang = next(f for f in source["features"] if f["properties"]["name"] == "资阳区")
    lon, lat = ziyang["geometry"]["coordinates"][0][0][0]
    wgs_lat, wgs_lon = gcj02_to_wgs84(lat, lon)
    outline = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "资阳区"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [wgs_lon, wgs_lat],
                            [wgs_lon + 0.01, wgs_lat],
                            [wgs_lon, wgs_lat + 0.01],
                            [wgs_lon, wgs_lat],
                        ]
                    ],
                },
            }
        ],
    }
    view.set_boundaries(outline)
    view.apply_entities([Entity("bus", "Bus", "bus", "transport", lat=wgs_lat, lon=wgs_lon)])
    qtbot.waitUntil(view.is_ready, timeout=30_000)
    qtbot.waitUntil(lambda: view.shown_basemap == "OSM", timeout=10_000)
    corner = """(() => { let out = null; window.cityops.map().eachLayer((l) => {
        if (l instanceof L.Polygon && l.options.pane === 'cityopsBoundaries') {
            out = l.getLatLngs()[0][0]; } }); return [out.lat, out.lng]; })()"""
    marker = "(() => { const m = window.cityops.markerInfo('bus'); return [m.lat, m.lon]; })()"
    qtbot.waitUntil(lambda: run_js(qtbot, view, marker) == [wgs_lat, wgs_lon], timeout=10_000)
    assert run_js(qtbot, view, corner) == pytest.approx([wgs_lat, wgs_lon], abs=1e-12)
    # The operator picks AMap in the switcher: everything moves onto its datum.
    run_js(qtbot, view, "window.cityops.showBasemap('AMap')")
    qtbot.waitUntil(lambda: view.shown_basemap == "AMap", timeout=10_000)
    qtbot.waitUntil(
        lambda: run_js(qtbot, view, corner) == pytest.approx([lat, lon], abs=1e-7),
        timeout=10_000,
    )
    assert run_js(qtbot, view, marker) == pytest.approx([lat, lon], abs=1e-7)
    assert distance_m((lat, lon), (wgs_lat, wgs_lon)) > 300  # a real move, not a no-op
    # A new document (a renderer that ended, a reload) keeps the operator's base map.
    view.page().triggerAction(view.page().WebAction.Reload)
    qtbot.waitUntil(lambda: not view.is_ready(), timeout=10_000)
    qtbot.waitUntil(view.is_ready, timeout=30_000)
    qtbot.waitUntil(lambda: run_js(qtbot, view, "window.cityops.shownBasemap()") == "AMap")
    qtbot.waitUntil(
        lambda: run_js(qtbot, view, marker) == pytest.approx([lat, lon], abs=1e-7),
        timeout=10_000,
    )
    run_js(qtbot, view, "window.cityops.showBasemap('OSM')")
    qtbot.waitUntil(
        lambda: run_js(qtbot, view, marker) == pytest.approx([wgs_lat, wgs_lon], abs=1e-12),
        timeout=10_000,
    )
    forget(view)
    server.stop()
    worker.close()
