"""Where the map's tiles come from: browsing fills the store's cache, the server stopped the
stored (prefetched and browsed) tiles are still served and the others are not, a file base
map serves its tiles, out-of-range asks get nothing."""

from __future__ import annotations

from pathlib import Path

from services.config import BasemapConfig
from services.tiles.prefetch import Prefetcher
from services.tiles.source import TileSource
from services.tiles.store import TileStore
from services.tiles.xyz import BBox, tiles_in
from tests.helpers.tiles import TileServer, tile_body
from tests.services.test_tile_files import make_mbtiles, tile_png


def test_browsing_fills_the_cache_and_offline_the_stored_tiles_are_served(tmp_path: Path) -> None:
    server = TileServer()
    store = TileStore(tmp_path / "tiles.sqlite3")
    online = BasemapConfig("Local", server.url, max_zoom=16)
    source = TileSource({"Local": online}, store)
    try:
        browsed = source.tile("Local", 12, 3325, 1712)
        assert browsed is not None and browsed.origin == "server"
        assert browsed.data == tile_body("/12/3325/1712.png")
        again = source.tile("Local", 12, 3325, 1712)
        assert again is not None and again.origin == "store"  # not asked twice
        assert server.requests == ["/12/3325/1712.png"]
        area = BBox(112.34, 28.54, 112.38, 28.58)
        store.create_set("centre", "Local", area, 13, 14)
        Prefetcher(store, server.url).run("centre")
    finally:
        server.stop()
    offline = TileSource({"Local": online}, store, timeout=1.0)
    prefetched = list(tiles_in(area, 13, 14))
    served = [offline.tile("Local", *key) for key in prefetched]
    assert all(tile is not None and tile.origin == "store" for tile in served)
    assert offline.tile("Local", 12, 3325, 1712) is not None  # browsed before
    assert offline.tile("Local", 15, 26600, 13700) is None  # never fetched: a placeholder
    assert offline.tile("Local", 17, 0, 0) is None  # beyond the base map's zooms
    assert offline.tile("Nope", 12, 0, 0) is None


def test_a_file_base_map_serves_its_tiles(tmp_path: Path) -> None:
    path = make_mbtiles(tmp_path / "yiyang.mbtiles", {(3, 6, 3): tile_png(3, 6, 3)})
    source = TileSource({"Offline": BasemapConfig("Offline", path.as_uri())}, None)
    tile = source.tile("Offline", 3, 6, 3)
    assert tile is not None and tile.origin == "file" and tile.media_type == "image/png"
    assert tile.data == tile_png(3, 6, 3)
    assert source.tile("Offline", 3, 6, 4) is None
    source.close()
