"""Where a base map's tile comes from when the map asks for it: its file (an MBTiles or
PMTiles base map), else the tile store (prefetched sets and the browsing cache), else its
tile server — a tile fetched while browsing is kept in the store's browsing cache, so what
someone looked at once is there when the network is gone.

Call :meth:`TileSource.tile` from one thread (the tile worker's): the store and the files
are single-threaded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import requests

from services.config import BasemapConfig
from services.tiles.files import TileFile, TileFileError, open_tile_file
from services.tiles.prefetch import TIMEOUT_S, media_type_of
from services.tiles.store import TileStore
from services.tiles.xyz import tile_url

log = logging.getLogger(__name__)

OFFLINE_RETRY_S = 30.0
"""After a failed fetch, a base map's server is not asked again for this long (the map
asks for dozens of tiles at once; each would wait for its own timeout)."""


@dataclass(frozen=True, slots=True)
class Tile:
    """A tile's bytes, media type, content encoding and where it came from."""

    data: bytes
    media_type: str
    encoding: str = ""
    origin: str = ""
    """``file``, ``store`` or ``server``."""


class TileSource:
    """Tiles of the configured base maps, by name."""

    def __init__(
        self,
        basemaps: Mapping[str, BasemapConfig],
        store: TileStore | None,
        *,
        session: requests.Session | None = None,
        timeout: float = TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.basemaps = dict(basemaps)
        self.store = store
        self._session = session or requests.Session()
        self._timeout = timeout
        self._clock = clock
        self._files: dict[str, TileFile] = {}
        self._offline_until: dict[str, float] = {}
        self.fetched = 0
        """Tiles fetched from servers so far."""

    def tile(self, basemap: str, z: int, x: int, y: int) -> Tile | None:
        """The tile, or None when it is nowhere to be had (unknown base map, out of its
        zooms, not in its file, not stored and the server unreachable)."""
        config = self.basemaps.get(basemap)
        if config is None or not config.min_zoom <= z <= config.max_zoom:
            return None
        if config.file is not None:
            return self._from_file(config, z, x, y)
        if self.store is not None:
            stored = self.store.get(basemap, (z, x, y))
            if stored is not None:
                return Tile(stored[0], stored[1], origin="store")
        return self._from_server(config, z, x, y)

    def _from_file(self, config: BasemapConfig, z: int, x: int, y: int) -> Tile | None:
        tiles = self._files.get(config.name)
        if tiles is None:
            assert config.file is not None
            try:
                tiles = self._files[config.name] = open_tile_file(config.file)
            except TileFileError as error:
                log.error("base map %r: %s", config.name, error)
                return None
        data = tiles.tile(z, x, y)
        if data is None:
            return None
        return Tile(data, tiles.media_type, tiles.content_encoding or "", origin="file")

    def _from_server(self, config: BasemapConfig, z: int, x: int, y: int) -> Tile | None:
        if self._clock() < self._offline_until.get(config.name, 0.0):
            return None
        url = tile_url(config.url, z, x, y)
        try:
            response = self._session.get(url, timeout=self._timeout)
            response.raise_for_status()
        except requests.RequestException as error:
            status = getattr(error.response, "status_code", None)
            if status is None or status >= 500:  # unreachable or failing: give it a rest
                self._offline_until[config.name] = self._clock() + OFFLINE_RETRY_S
                log.warning("base map %r: %s unreachable (%s)", config.name, url, error)
            return None
        data = response.content
        if not data:
            return None
        media = media_type_of(data, response.headers.get("Content-Type", ""))
        self.fetched += 1
        if self.store is not None:
            self.store.put(config.name, (z, x, y), data, media)
        return Tile(data, media, origin="server")

    def close(self) -> None:
        for tiles in self._files.values():
            tiles.close()
        self._files.clear()
