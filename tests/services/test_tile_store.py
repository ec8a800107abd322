"""The offline tile store: tiles kept and found, the browsing cache trimmed least recently
used first under its cap, named sets pinning (and sharing) their tiles, what is missing and
what failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.tiles.store import TileStore, TileStoreError
from services.tiles.xyz import BBox, count_tiles, tiles_in

PNG = "image/png"
YIYANG = BBox(112.30, 28.50, 112.42, 28.62)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        self.now += 1.0  # every use a second later: a strict order of use
        return self.now


def store(tmp_path: Path, cap: int = 10_000) -> TileStore:
    return TileStore(tmp_path / "tiles.sqlite3", browse_cap_bytes=cap, clock=Clock())


def test_tiles_are_kept_per_base_map_and_survive_a_reopen(tmp_path: Path) -> None:
    tiles = store(tmp_path)
    tiles.put("osm", (12, 3300, 1700), b"a" * 100, PNG)
    tiles.put("amap", (12, 3300, 1700), b"b" * 50, "image/jpeg")
    assert tiles.get("osm", (12, 3300, 1700)) == (b"a" * 100, PNG)
    assert tiles.get("amap", (12, 3300, 1700)) == (b"b" * 50, "image/jpeg")
    assert tiles.get("osm", (12, 3300, 1701)) is None
    tiles.close()
    again = store(tmp_path)
    assert again.get("osm", (12, 3300, 1700)) == (b"a" * 100, PNG)
    assert again.browse_size() == 150


def test_the_browsing_cache_evicts_the_least_recently_used_under_its_cap(tmp_path: Path) -> None:
    tiles = store(tmp_path, cap=1_000)
    for n in range(4):
        tiles.put("osm", (10, n, 0), bytes(300), PNG)  # the 4th goes over 1,000 bytes
    assert tiles.get("osm", (10, 0, 0)) is None  # the oldest went
    assert tiles.browse_size() == 900
    assert tiles.get("osm", (10, 1, 0)) is not None  # now the most recently used
    tiles.put("osm", (10, 4, 0), bytes(300), PNG)
    assert tiles.get("osm", (10, 2, 0)) is None  # the least recently used, not tile 1
    assert tiles.get("osm", (10, 1, 0)) is not None


def test_sets_pin_their_tiles_share_them_and_count_them(tmp_path: Path) -> None:
    tiles = store(tmp_path, cap=0)  # no browsing cache at all: only pinned tiles stay
    first = tiles.create_set("centre", "osm", YIYANG, 12, 13)
    assert first.planned == count_tiles(YIYANG, 12, 13) and first.stored == 0
    keys = list(tiles_in(YIYANG, 12, 13))
    for key in keys:
        tiles.put("osm", key, bytes(10), PNG, set_name="centre")
    done = tiles.tile_set("centre")
    assert done.complete and done.stored == len(keys) and done.size == 10 * len(keys)
    assert list(tiles.missing("centre")) == []
    # A second set over part of the same area takes the tiles already there.
    inner = BBox(112.34, 28.54, 112.38, 28.58)
    second = tiles.create_set("inner", "osm", inner, 13, 13)
    assert second.stored == second.planned > 0
    tiles.delete_set("centre")  # the inner set still holds its tiles
    assert all(tiles.get("osm", key) is not None for key in tiles_in(inner, 13, 13))
    assert tiles.get("osm", keys[0]) is None  # a zoom-12 tile only "centre" held: evicted
    assert [s.name for s in tiles.sets()] == ["inner"]
    with pytest.raises(ValueError, match="'inner' exists"):
        tiles.create_set("inner", "osm", inner, 13, 13)
    with pytest.raises(KeyError, match="'centre'"):
        tiles.tile_set("centre")


def test_what_is_missing_and_what_failed(tmp_path: Path) -> None:
    tiles = store(tmp_path)
    tiles.create_set("area", "osm", YIYANG, 13, 13)
    keys = list(tiles_in(YIYANG, 13, 13))
    assert len(keys) > 2
    tiles.put("osm", keys[0], bytes(5), PNG, set_name="area")
    assert list(tiles.missing("area")) == keys[1:]
    tiles.record_failure("area", *keys[1], "HTTP 503")
    tiles.record_failure("area", *keys[1], "timed out")
    assert tiles.failures("area") == [(keys[1], "timed out", 2)]
    assert tiles.tile_set("area").failed == 1
    tiles.put("osm", keys[1], bytes(5), PNG, set_name="area")  # a retry worked
    assert tiles.failures("area") == []


def test_a_file_that_is_not_a_tile_store_is_named(tmp_path: Path) -> None:
    path = tmp_path / "tiles.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(TileStoreError, match=str(path)):
        TileStore(path)


def test_a_sets_stored_tiles_come_in_batches_and_only_its_own(tmp_path: Path) -> None:
    tiles = store(tmp_path, cap=10_000)
    tiles.create_set("area", "osm", YIYANG, 12, 13)
    keys = list(tiles_in(YIYANG, 12, 13))[::2]
    tiles.put_set_tiles("area", "osm", [(key, str(key).encode(), PNG) for key in keys])
    tiles.put("osm", (14, 1, 1), b"browsed", PNG)  # the browsing cache: no set's
    tiles.put("amap", keys[0], b"other base map", "image/jpeg")
    batches = list(tiles.stored_tiles("area", batch_size=5))
    assert [len(batch) for batch in batches[:-1]] == [5] * (len(batches) - 1)
    assert 0 < len(batches[-1]) <= 5
    got = [item for batch in batches for item in batch]
    assert got == [(key, str(key).encode(), PNG) for key in sorted(keys)]  # by zoom, column, row
    with pytest.raises(KeyError, match="'ghost'"):
        list(tiles.stored_tiles("ghost"))
