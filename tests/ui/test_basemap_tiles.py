"""Base maps on the real map page: tiles come through the app's own scheme from a tile
worker (a local tile server started by the test), browsing fills the tile store, with the
server stopped the stored tiles are still drawn and the rest are placeholders; nothing goes
to the network from the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtWebEngineCore import QWebEngineProfile
from pytestqt.qtbot import QtBot

from services.config import BasemapConfig
from services.tiles.store import TileStore
from tests.helpers.e2e import run_js
from tests.helpers.tiles import TileServer
from ui.tile_worker import TileWorker, basemap_records
from widgets.map_scheme import install_scheme_handler
from widgets.map_view import MapView

CENTER = (28.57, 112.36)


@pytest.fixture
def profile(qapp: Any) -> Iterator[QWebEngineProfile]:
    prof = QWebEngineProfile()
    yield prof
    shiboken6.delete(prof)


def show_map(
    qtbot: QtBot,
    profile: QWebEngineProfile,
    worker: TileWorker,
    basemaps: list[BasemapConfig],
    zoom: int = 13,
) -> MapView:
    install_scheme_handler(profile).set_tile_provider(worker.request)
    view = MapView(CENTER, zoom, profile=profile)
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
        view.close()
        shiboken6.delete(view)
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
    view.close()
    shiboken6.delete(view)
    elsewhere = show_map(qtbot, profile, offline, basemaps, zoom=15)  # never browsed there
    qtbot.waitUntil(lambda: counts(qtbot, elsewhere)["missing"] >= 4, timeout=20_000)
    assert counts(qtbot, elsewhere)["loaded"] == 0  # placeholders only
    elsewhere.close()
    shiboken6.delete(elsewhere)
    offline.close()


def _stored(path: Path, keys: list[tuple[int, ...]]) -> int:
    store = TileStore(path)
    try:
        return sum(store.get("Local", (z, x, y)) is not None for z, x, y in keys)
    finally:
        store.close()
