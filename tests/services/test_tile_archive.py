"""A tile set to an MBTiles file and back: the file is standard MBTiles (TMS rows, metadata
naming the set, its box, zooms, format and base map), importing it gives the same set with
the same tiles; PMTiles and MBTiles made elsewhere import too; every refusal names the file
or the set, and a failed export or import leaves nothing behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write

from services.tiles.archive import TileArchiveError, export_set, import_file
from services.tiles.files import open_tile_file
from services.tiles.store import TileKey, TileStore
from services.tiles.xyz import BBox, count_tiles, tiles_in
from tests.helpers.tiles import ONE_PIXEL_PNG

PNG = "image/png"
YIYANG = BBox(112.30, 28.50, 112.42, 28.62)


def body(key: TileKey) -> bytes:
    """A valid PNG followed by the tile's numbers, to tell tiles apart."""
    return ONE_PIXEL_PNG + "/".join(map(str, key)).encode()


def new_store(folder: Path) -> TileStore:
    return TileStore(folder / "tiles.sqlite3")


def filled_store(folder: Path, *, every: int = 1) -> tuple[TileStore, dict[TileKey, bytes]]:
    """A store with the set "centre" of the base map "osm" over Yiyang at zooms 12-13, holding
    every ``every``-th of its tiles; other tiles in the browsing cache and another base map."""
    store = new_store(folder)
    store.create_set("centre", "osm", YIYANG, 12, 13)
    tiles = {key: body(key) for key in list(tiles_in(YIYANG, 12, 13))[::every]}
    store.put_set_tiles("centre", "osm", [(key, data, PNG) for key, data in tiles.items()])
    store.put("osm", (14, 1, 1), body((14, 1, 1)), PNG)  # browsing cache: not in the set
    store.put("amap", (12, 3325, 1704), b"\xff\xd8\xff other base map", "image/jpeg")
    return store, tiles


def mbtiles_rows(path: Path) -> tuple[dict[str, str], dict[tuple[int, int, int], bytes]]:
    with sqlite3.connect(path) as conn:
        metadata = dict(conn.execute("SELECT name, value FROM metadata").fetchall())
        rows = {
            (z, x, row): bytes(data)
            for z, x, row, data in conn.execute(
                "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"
            )
        }
    conn.close()
    return metadata, rows


def test_a_set_goes_to_mbtiles_and_comes_back_the_same(tmp_path: Path) -> None:
    store, tiles = filled_store(tmp_path / "a", every=3)  # a third of the set: not complete
    path = tmp_path / "centre.mbtiles"
    seen: list[tuple[int, int]] = []
    result = export_set(
        store, "centre", path, lambda done, total: seen.append((done, total)), batch_size=7
    )
    assert (result.set_name, result.basemap, result.tiles) == ("centre", "osm", len(tiles))
    assert result.tile_bytes == sum(map(len, tiles.values()))
    assert seen[-1] == (len(tiles), len(tiles)) and len(seen) == -(-len(tiles) // 7)

    metadata, rows = mbtiles_rows(path)
    assert metadata == {
        "name": "centre",
        "format": "png",
        "bounds": "112.3,28.5,112.42,28.62",
        "center": f"{(112.30 + 112.42) / 2},{(28.50 + 28.62) / 2},12",
        "minzoom": "12",
        "maxzoom": "13",
        "type": "baselayer",
        "description": "CityOps tile set 'centre' of the base map 'osm'",
        "cityops_basemap": "osm",
    }
    # Rows count from the south (TMS): y flipped.
    assert rows == {(z, x, (1 << z) - 1 - y): data for (z, x, y), data in tiles.items()}
    with open_tile_file(path) as reader:  # and the reader of base-map files reads it back
        assert reader.media_type == PNG and reader.bounds == (112.30, 28.50, 112.42, 28.62)
        assert all(reader.tile(*key) == data for key, data in tiles.items())

    fresh = new_store(tmp_path / "b")
    result = import_file(fresh, path, set_name="copy", batch_size=7)
    assert (result.set_name, result.basemap, result.tiles) == ("copy", "osm", len(tiles))
    copy, original = fresh.tile_set("copy"), store.tile_set("centre")
    assert (copy.basemap, copy.box, copy.min_zoom, copy.max_zoom) == ("osm", YIYANG, 12, 13)
    assert (copy.planned, copy.stored, copy.size) == (
        original.planned,
        original.stored,
        original.size,
    )
    assert all(fresh.get("osm", key) == (data, PNG) for key, data in tiles.items())
    assert [s.name for s in fresh.sets()] == ["copy"]
    assert fresh.get("amap", (12, 3325, 1704)) is None  # only the set went
    assert fresh.get("osm", (14, 1, 1)) is None


def test_the_name_and_base_map_come_from_the_file_unless_given(tmp_path: Path) -> None:
    store, _tiles = filled_store(tmp_path / "a", every=5)
    path = tmp_path / "centre.mbtiles"
    export_set(store, "centre", path)
    fresh = new_store(tmp_path / "b")
    assert import_file(fresh, path).set_name == "centre"
    assert fresh.tile_set("centre").basemap == "osm"
    other = import_file(fresh, path, set_name="for amap", basemap="amap")
    assert (other.set_name, other.basemap) == ("for amap", "amap")
    assert fresh.tile_set("for amap").stored == fresh.tile_set("centre").stored


# -- files made elsewhere ------------------------------------------------------------------


def make_mbtiles(path: Path, tiles: dict[TileKey, bytes], metadata: dict[str, str]) -> Path:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        conn.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
            " tile_data BLOB)"
        )
        conn.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)",
            [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in tiles.items()],
        )
        conn.executemany("INSERT INTO metadata VALUES (?, ?)", metadata.items())
    conn.close()
    return path


def test_an_mbtiles_without_bounds_gets_the_box_of_its_tiles(tmp_path: Path) -> None:
    tiles = {(13, x, y): body((13, x, y)) for x in (6650, 6651) for y in (3406, 3407, 3408)}
    tiles |= {(12, 3325, y): body((12, 3325, y)) for y in (1703, 1704)}  # the zoom-12 over them
    path = make_mbtiles(tmp_path / "made.mbtiles", tiles, {"name": "Made", "format": "png"})
    store = new_store(tmp_path)
    result = import_file(store, path, basemap="osm")
    made = store.tile_set("Made")
    assert result.tiles == made.stored == len(tiles)
    assert (made.min_zoom, made.max_zoom) == (12, 13)
    assert set(tiles_in(made.box, 13, 13)) == {key for key in tiles if key[0] == 13}
    assert made.complete


def make_pmtiles(path: Path, tiles: dict[TileKey, bytes], metadata: dict[str, str]) -> Path:
    with write(str(path)) as writer:
        for tile_id, data in sorted((zxy_to_tileid(*key), data) for key, data in tiles.items()):
            writer.write_tile(tile_id, data)
        writer.finalize(
            {
                "tile_type": TileType.PNG,
                "tile_compression": Compression.NONE,
                "min_lon_e7": int(YIYANG.west * 1e7),
                "min_lat_e7": int(YIYANG.south * 1e7),
                "max_lon_e7": int(YIYANG.east * 1e7),
                "max_lat_e7": int(YIYANG.north * 1e7),
            },
            metadata,
        )
    return path


def test_a_pmtiles_file_imports_too(tmp_path: Path) -> None:
    tiles = {key: body(key) for key in tiles_in(YIYANG, 11, 12)}
    path = make_pmtiles(tmp_path / "yiyang.pmtiles", tiles, {"cityops_basemap": "osm"})
    store = new_store(tmp_path)
    result = import_file(store, path)
    assert (result.set_name, result.basemap, result.tiles) == ("yiyang", "osm", len(tiles))
    imported = store.tile_set("yiyang")
    assert (imported.min_zoom, imported.max_zoom) == (11, 12)
    assert imported.stored == imported.planned == count_tiles(imported.box, 11, 12)
    assert all(store.get("osm", key) == (data, PNG) for key, data in tiles.items())


# -- refusals ------------------------------------------------------------------------------


def test_an_existing_file_is_not_written_over(tmp_path: Path) -> None:
    store, _tiles = filled_store(tmp_path / "a", every=4)
    path = tmp_path / "out" / "centre.mbtiles"
    path.parent.mkdir()
    path.write_bytes(b"somebody's file")
    with pytest.raises(TileArchiveError, match=f"{path} exists already"):
        export_set(store, "centre", path)
    assert path.read_bytes() == b"somebody's file"
    assert list(path.parent.iterdir()) == [path]


def test_an_unknown_or_empty_set_is_named(tmp_path: Path) -> None:
    store, _tiles = filled_store(tmp_path / "a", every=4)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(TileArchiveError, match="no tile set named 'ghost'"):
        export_set(store, "ghost", out / "ghost.mbtiles")
    store.create_set("empty", "osm", YIYANG, 16, 16)
    with pytest.raises(TileArchiveError, match="'empty' has no tiles yet"):
        export_set(store, "empty", out / "empty.mbtiles")
    with pytest.raises(TileArchiveError, match="there is no folder"):
        export_set(store, "centre", out / "nowhere" / "centre.mbtiles")
    assert list(out.iterdir()) == []


def test_a_failure_mid_export_leaves_no_file(tmp_path: Path) -> None:
    store, tiles = filled_store(tmp_path / "a")
    path = tmp_path / "out" / "centre.mbtiles"
    path.parent.mkdir()

    class Cancelled(Exception):
        pass

    def cancel_after_two_batches(done: int, _total: int) -> None:
        if done >= 20:
            raise Cancelled

    with pytest.raises(Cancelled):
        export_set(store, "centre", path, cancel_after_two_batches, batch_size=10)
    assert len(tiles) > 20 and list(path.parent.iterdir()) == []
    export_set(store, "centre", path)  # and nothing is in the way of the next try
    assert [p.name for p in path.parent.iterdir()] == ["centre.mbtiles"]


def test_a_file_that_is_no_tile_file_is_named(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    text = tmp_path / "notes.mbtiles"
    text.write_text("not tiles at all\n" * 20, encoding="utf-8")
    with pytest.raises(TileArchiveError, match=f"{text}: not an SQLite database"):
        import_file(store, text, basemap="osm")
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (a)").connection.close()
    with pytest.raises(TileArchiveError, match=f"{other}: has no tiles table"):
        import_file(store, other, basemap="osm")
    with pytest.raises(TileArchiveError, match="no such file"):
        import_file(store, tmp_path / "missing.mbtiles", basemap="osm")
    assert store.sets() == []


def test_an_import_refuses_a_taken_name_and_an_unnamed_base_map(tmp_path: Path) -> None:
    store, tiles = filled_store(tmp_path / "a", every=4)
    path = tmp_path / "centre.mbtiles"
    export_set(store, "centre", path)
    before = store.tile_set("centre")
    with pytest.raises(TileArchiveError, match="a tile set named 'centre' exists already"):
        import_file(store, path)
    assert store.tile_set("centre") == before
    bare = make_mbtiles(tmp_path / "bare.mbtiles", tiles, {"name": "bare", "format": "png"})
    with pytest.raises(TileArchiveError, match=f"{bare}: it does not say which base map"):
        import_file(store, bare)
    assert [s.name for s in store.sets()] == ["centre"]


def test_vector_tiles_are_refused(tmp_path: Path) -> None:
    path = make_mbtiles(
        tmp_path / "vector.mbtiles",
        {(0, 0, 0): b"\x1f\x8b\x08\x00vector"},
        {"name": "v", "format": "pbf", "cityops_basemap": "osm"},
    )
    store = new_store(tmp_path)
    with pytest.raises(TileArchiveError, match="vector tiles"):
        import_file(store, path)
    assert store.sets() == []


def test_a_failed_import_forgets_its_set(tmp_path: Path) -> None:
    store, _tiles = filled_store(tmp_path / "a")
    path = tmp_path / "centre.mbtiles"
    export_set(store, "centre", path)
    fresh = new_store(tmp_path / "b")

    def fail_after_a_batch(_done: int, _total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(fresh, path, progress=fail_after_a_batch, batch_size=10)
    assert fresh.sets() == []
    assert fresh.browse_size() <= fresh.browse_cap_bytes  # what got in is browsing cache
    assert import_file(fresh, path).tiles == store.tile_set("centre").stored  # again: fine
