"""The map's base-map tiles, served off the GUI thread: the scheme handler hands each tile
request to :class:`TileWorker`, whose thread (``cityops-tiles``) owns the tile source (the
base maps' files, the tile store, the tile servers) and whose answers come back to the GUI
thread through a queued signal."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal

from services.config import BasemapConfig
from services.geo.gcj02 import wgs84_to_gcj02
from services.tiles.source import Tile, TileSource
from services.tiles.store import TileStore, TileStoreError
from widgets.map_scheme import TileReply
from widgets.map_view import MapView

log = logging.getLogger(__name__)


class TileWorker(QObject):
    """Answers tile requests on its own thread; :meth:`request` is the scheme's provider."""

    _answered = Signal(object)

    def __init__(
        self,
        basemaps: Iterable[BasemapConfig],
        store_path: Path | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._basemaps = {basemap.name: basemap for basemap in basemaps}
        self._store_path = store_path
        self._source: TileSource | None = None
        self._executor: ThreadPoolExecutor | None = ThreadPoolExecutor(
            1, thread_name_prefix="cityops-tiles"
        )
        self._answered.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def request(self, basemap: str, z: int, x: int, y: int, reply: TileReply) -> None:
        """Find the tile on the worker's thread; ``reply`` is called on this one."""
        executor = self._executor
        if executor is None:
            reply(None, "", "")
            return
        executor.submit(self._find, basemap, z, x, y, reply)

    def _find(self, basemap: str, z: int, x: int, y: int, reply: TileReply) -> None:
        try:
            tile = self._tiles().tile(basemap, z, x, y)
        except Exception:  # one tile's trouble must not stop the others
            log.exception("tile %s/%d/%d/%d could not be served", basemap, z, x, y)
            tile = None
        self._answered.emit(partial(_answer, reply, tile))

    def _tiles(self) -> TileSource:
        if self._source is None:
            store = None
            if self._store_path is not None:
                try:
                    store = TileStore(self._store_path)
                except TileStoreError as error:
                    log.error("base maps without their offline store: %s", error)
            self._source = TileSource(self._basemaps, store)
        return self._source

    def _deliver(self, answer: partial[None]) -> None:
        answer()

    def close(self) -> None:
        """Stop serving (what waits is dropped); the store closes on the worker's thread."""
        executor, self._executor = self._executor, None
        if executor is None:
            return

        def close_source() -> None:
            if self._source is not None:
                self._source.close()
                if self._source.store is not None:
                    self._source.store.close()

        executor.submit(close_source)
        executor.shutdown(wait=False, cancel_futures=False)


def show_basemaps(view: MapView, basemaps: Sequence[BasemapConfig]) -> None:
    """Draw ``basemaps`` under ``view``'s data and keep the data in the datum of the one
    shown: positions are WGS-84 everywhere in the app and moved to GCJ-02 on the page while
    a ``crs = "gcj02"`` base map is shown."""
    datum = {basemap.name: basemap.crs for basemap in basemaps}

    def follow(name: str) -> None:
        view.set_projection(wgs84_to_gcj02 if datum.get(name) == "gcj02" else None)

    view.set_basemaps(basemap_records(basemaps))
    view.basemapChanged.connect(follow)
    if basemaps:
        follow(basemaps[0].name)


def basemap_records(basemaps: Iterable[BasemapConfig]) -> list[dict[str, object]]:
    """What the map page needs of each base map."""
    return [
        {
            "name": basemap.name,
            "attribution": basemap.attribution,
            "minZoom": basemap.min_zoom,
            "maxZoom": basemap.max_zoom,
        }
        for basemap in basemaps
    ]


def _answer(reply: TileReply, tile: Tile | None) -> None:
    if tile is None:
        reply(None, "", "")
    else:
        reply(tile.data, tile.media_type, tile.encoding)
