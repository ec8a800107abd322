"""Tiles straight from MBTiles and PMTiles files made here: XYZ numbering (MBTiles rows are
TMS), absent tiles, zoom range, bounds, media type, and errors that name the file."""

from __future__ import annotations

import gzip
import random
import sqlite3
import struct
import zlib
from collections.abc import Iterable
from pathlib import Path

import pytest
from pmtiles.reader import MemorySource, Reader
from pmtiles.tile import Compression, TileType, tileid_to_zxy, zxy_to_tileid
from pmtiles.writer import write

from services.tiles.files import (
    MBTilesFile,
    PMTilesFile,
    TileFileError,
    open_tile_file,
    sniff_media_type,
)

Tiles = dict[tuple[int, int, int], bytes]


def png(r: int, g: int, b: int) -> bytes:
    """A valid 1x1 RGB PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes([0, r, g, b]))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def tile_png(z: int, x: int, y: int) -> bytes:
    """A PNG whose colour says which XYZ tile it is."""
    return png(z * 40, x * 40, y * 40)


# XYZ tiles: all of zoom 0 and 1, and only the north-west corner of zoom 2 (rows 0 and 1),
# so that a missing TMS flip reads the south's absent rows.
XYZ_TILES: Tiles = {
    (0, 0, 0): tile_png(0, 0, 0),
    **{(1, x, y): tile_png(1, x, y) for x in range(2) for y in range(2)},
    **{(2, x, y): tile_png(2, x, y) for x in range(2) for y in range(2)},
}


def make_mbtiles(
    path: Path,
    tiles: Tiles,
    metadata: dict[str, str] | None = None,
    *,
    tms_rows: bool = True,
) -> Path:
    """An MBTiles file holding ``tiles`` (given in XYZ numbering, stored as TMS rows)."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        conn.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
            " tile_data BLOB)"
        )
        conn.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        for (z, x, y), data in tiles.items():
            row = (1 << z) - 1 - y if tms_rows else y
            conn.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, row, data))
        conn.executemany("INSERT INTO metadata VALUES (?, ?)", (metadata or {}).items())
    conn.close()
    return path


def make_pmtiles(
    path: Path,
    tiles: Tiles | Iterable[tuple[int, bytes]],
    *,
    tile_type: TileType = TileType.PNG,
    compression: Compression = Compression.NONE,
    metadata: dict[str, str] | None = None,
    bounds_e7: tuple[int, int, int, int] | None = None,
) -> Path:
    """A PMTiles file written by the ``pmtiles`` package's writer."""
    by_id = (
        sorted((zxy_to_tileid(*zxy), data) for zxy, data in tiles.items())
        if isinstance(tiles, dict)
        else sorted(tiles)
    )
    header: dict[str, object] = {
        "tile_type": tile_type,
        "tile_compression": compression,
        "clustered": True,
    }
    if bounds_e7 is not None:
        keys = ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7")
        header.update(zip(keys, bounds_e7, strict=True))
    with write(str(path)) as writer:
        for tile_id, data in by_id:
            writer.write_tile(tile_id, data)
        writer.finalize(header, metadata or {})
    return path


# --- MBTiles ---------------------------------------------------------------------------------


def test_mbtiles_tiles_come_back_at_their_xyz_numbers(tmp_path: Path) -> None:
    path = make_mbtiles(tmp_path / "yiyang.mbtiles", XYZ_TILES)
    with open_tile_file(path) as tiles:
        assert isinstance(tiles, MBTilesFile)
        for (z, x, y), data in XYZ_TILES.items():
            assert tiles.tile(z, x, y) == data, (z, x, y)


def test_mbtiles_reads_tms_rows_flipped(tmp_path: Path) -> None:
    # Only the XYZ north row (y=0) of zoom 1: stored as TMS row 1.
    path = make_mbtiles(tmp_path / "north.mbtiles", {(1, 0, 0): tile_png(1, 0, 0)})
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT tile_row FROM tiles").fetchall() == [(1,)]
    conn.close()
    with open_tile_file(path) as tiles:
        assert tiles.tile(1, 0, 0) == tile_png(1, 0, 0)
        assert tiles.tile(1, 0, 1) is None


def test_mbtiles_absent_and_out_of_range_tiles_are_none(tmp_path: Path) -> None:
    stored = dict(XYZ_TILES)
    path = make_mbtiles(tmp_path / "yiyang.mbtiles", stored)
    # A stray row outside zoom 1's grid (column 2): never served for x=2.
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO tiles VALUES (1, 2, 0, ?)", (b"stray",))
        conn.execute("INSERT INTO tiles VALUES (1, 0, 2, ?)", (b"stray",))
    conn.close()
    with open_tile_file(path) as tiles:
        assert tiles.tile(2, 3, 3) is None  # in range, not stored
        assert tiles.tile(3, 0, 0) is None  # deeper than the file
        assert tiles.tile(1, 2, 1) is None  # column 2 of 2
        assert tiles.tile(1, 0, -1) is None  # TMS row 2
        assert tiles.tile(-1, 0, 0) is None
        assert tiles.tile(40, 0, 0) is None


def test_mbtiles_description_comes_from_its_metadata(tmp_path: Path) -> None:
    metadata = {
        "name": "Yiyang streets",
        "format": "png",
        "minzoom": "1",
        "maxzoom": "14",
        "bounds": "112.1,28.4,112.6,28.7",
        "attribution": "© Yiyang survey",
    }
    path = make_mbtiles(tmp_path / "yiyang.mbtiles", XYZ_TILES, metadata)
    with open_tile_file(path) as tiles:
        assert tiles.name == "Yiyang streets"
        assert tiles.media_type == "image/png"
        assert tiles.content_encoding is None
        assert (tiles.min_zoom, tiles.max_zoom) == (1, 14)
        assert tiles.bounds == pytest.approx((112.1, 28.4, 112.6, 28.7))
        assert tiles.attribution == "© Yiyang survey"


def test_mbtiles_without_metadata_falls_back_to_its_tiles(tmp_path: Path) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 16
    path = make_mbtiles(tmp_path / "bare.mbtiles", {(3, 1, 2): jpeg, (5, 0, 0): jpeg})
    with open_tile_file(path) as tiles:
        assert tiles.name == "bare"
        assert tiles.media_type == "image/jpeg"
        assert (tiles.min_zoom, tiles.max_zoom) == (3, 5)
        assert tiles.bounds is None
        assert tiles.tile(3, 1, 2) == jpeg


def test_mbtiles_bad_bounds_are_ignored(tmp_path: Path) -> None:
    path = make_mbtiles(tmp_path / "odd.mbtiles", XYZ_TILES, {"bounds": "112,28.7,113,28.4"})
    with open_tile_file(path) as tiles:
        assert tiles.bounds is None  # south above north


def test_mbtiles_vector_tiles_are_served_as_stored_with_their_encoding(tmp_path: Path) -> None:
    stored = gzip.compress(b"\x1a\x05layer")
    path = make_mbtiles(tmp_path / "roads.mbtiles", {(0, 0, 0): stored}, {"format": "pbf"})
    with open_tile_file(path) as tiles:
        assert tiles.media_type == "application/x-protobuf"
        assert tiles.content_encoding == "gzip"
        assert tiles.tile(0, 0, 0) == stored


@pytest.mark.parametrize(
    ("declared", "media_type"),
    [("pbf", "application/x-protobuf"), ("JPG", "image/jpeg"), ("image/webp", "image/webp")],
)
def test_mbtiles_declared_format_wins_over_the_tiles_bytes(
    tmp_path: Path, declared: str, media_type: str
) -> None:
    stored = b"\x1a\x05layer"  # an uncompressed vector tile: no magic bytes to sniff
    path = make_mbtiles(tmp_path / "declared.mbtiles", {(0, 0, 0): stored}, {"format": declared})
    with open_tile_file(path) as tiles:
        assert tiles.media_type == media_type
        assert tiles.content_encoding is None
        assert tiles.tile(0, 0, 0) == stored


def test_mbtiles_file_is_opened_read_only(tmp_path: Path) -> None:
    path = make_mbtiles(tmp_path / "yiyang.mbtiles", XYZ_TILES)
    before = path.read_bytes()
    with open_tile_file(path) as tiles:
        assert isinstance(tiles, MBTilesFile)
        conn = tiles._conn
        assert conn is not None
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("DELETE FROM tiles")
        assert tiles.tile(0, 0, 0) == XYZ_TILES[(0, 0, 0)]
    assert path.read_bytes() == before


# --- PMTiles ---------------------------------------------------------------------------------


def test_pmtiles_tiles_come_back_at_their_xyz_numbers(tmp_path: Path) -> None:
    path = make_pmtiles(tmp_path / "yiyang.pmtiles", XYZ_TILES)
    with open_tile_file(path) as tiles:
        assert isinstance(tiles, PMTilesFile)
        for (z, x, y), data in XYZ_TILES.items():
            assert tiles.tile(z, x, y) == data, (z, x, y)


def test_pmtiles_absent_and_out_of_range_tiles_are_none(tmp_path: Path) -> None:
    path = make_pmtiles(tmp_path / "yiyang.pmtiles", XYZ_TILES)
    with open_tile_file(path) as tiles:
        assert tiles.tile(2, 3, 3) is None
        assert tiles.tile(3, 0, 0) is None
        assert tiles.tile(1, 2, 0) is None
        assert tiles.tile(1, 0, -1) is None
        assert tiles.tile(-1, 0, 0) is None
        assert tiles.tile(40, 0, 0) is None


def test_pmtiles_description_comes_from_its_header_and_metadata(tmp_path: Path) -> None:
    path = make_pmtiles(
        tmp_path / "yiyang.pmtiles",
        XYZ_TILES,
        metadata={"name": "Yiyang imagery", "attribution": "© Yiyang survey"},
        bounds_e7=(1_121_000_000, 284_000_000, 1_126_000_000, 287_000_000),
    )
    with open_tile_file(path) as tiles:
        assert tiles.name == "Yiyang imagery"
        assert tiles.attribution == "© Yiyang survey"
        assert tiles.media_type == "image/png"
        assert tiles.content_encoding is None
        assert (tiles.min_zoom, tiles.max_zoom) == (0, 2)
        assert tiles.bounds == pytest.approx((112.1, 28.4, 112.6, 28.7))


def test_pmtiles_without_a_name_is_named_after_the_file(tmp_path: Path) -> None:
    path = make_pmtiles(tmp_path / "city-base.pmtiles", {(4, 3, 5): png(1, 2, 3)})
    with open_tile_file(path) as tiles:
        assert tiles.name == "city-base"
        assert (tiles.min_zoom, tiles.max_zoom) == (4, 4)


def test_pmtiles_gzipped_images_are_unpacked(tmp_path: Path) -> None:
    packed = {zxy: gzip.compress(data) for zxy, data in XYZ_TILES.items()}
    path = make_pmtiles(tmp_path / "packed.pmtiles", packed, compression=Compression.GZIP)
    with open_tile_file(path) as tiles:
        assert tiles.content_encoding is None
        assert tiles.tile(1, 1, 0) == XYZ_TILES[(1, 1, 0)]


def test_pmtiles_vector_tiles_are_served_as_stored_with_their_encoding(tmp_path: Path) -> None:
    stored = gzip.compress(b"\x1a\x05roads")
    path = make_pmtiles(
        tmp_path / "roads.pmtiles",
        {(0, 0, 0): stored},
        tile_type=TileType.MVT,
        compression=Compression.GZIP,
    )
    with open_tile_file(path) as tiles:
        assert tiles.media_type == "application/x-protobuf"
        assert tiles.content_encoding == "gzip"
        assert tiles.tile(0, 0, 0) == stored


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (png(9, 9, 9), "image/png"),
        (b"\xff\xd8\xff\xdb" + b"\x00" * 8, "image/jpeg"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
    ],
)
def test_pmtiles_of_unknown_type_are_sniffed(tmp_path: Path, data: bytes, media_type: str) -> None:
    path = make_pmtiles(tmp_path / "unknown.pmtiles", {(0, 0, 0): data}, tile_type=TileType.UNKNOWN)
    with open_tile_file(path) as tiles:
        assert tiles.media_type == media_type
    assert sniff_media_type(data) == media_type


def test_pmtiles_with_leaf_directories_match_the_packages_reader(tmp_path: Path) -> None:
    # Enough scattered tiles that the root directory overflows into leaf directories.
    rng = random.Random(13)
    ids = sorted(rng.sample(range(zxy_to_tileid(10, 0, 0), zxy_to_tileid(11, 0, 0)), 40_000))
    path = make_pmtiles(
        tmp_path / "big.pmtiles", ((i, i.to_bytes(4, "big")) for i in ids), tile_type=TileType.MVT
    )
    reference = Reader(MemorySource(path.read_bytes()))  # slow: parses directories per tile
    assert reference.header()["leaf_directory_length"] > 0
    present = set(ids)
    with open_tile_file(path) as tiles:
        for tile_id in [*rng.sample(ids, 20), ids[0], ids[-1]]:
            zxy = tileid_to_zxy(tile_id)
            assert tiles.tile(*zxy) == reference.get(*zxy) == tile_id.to_bytes(4, "big")
        for tile_id in rng.sample(ids, 2_000):
            assert tiles.tile(*tileid_to_zxy(tile_id)) == tile_id.to_bytes(4, "big")
        for _ in range(2_000):
            x, y = rng.randrange(1024), rng.randrange(1024)
            found = tiles.tile(10, x, y)
            assert (found is not None) == (zxy_to_tileid(10, x, y) in present), (x, y)


def test_the_content_decides_not_the_extension(tmp_path: Path) -> None:
    path = make_pmtiles(tmp_path / "really-pmtiles.mbtiles", XYZ_TILES)
    with open_tile_file(path) as tiles:
        assert isinstance(tiles, PMTilesFile)
        assert tiles.tile(0, 0, 0) == XYZ_TILES[(0, 0, 0)]


def test_a_closed_file_refuses_tiles(tmp_path: Path) -> None:
    for path in (
        make_mbtiles(tmp_path / "a.mbtiles", XYZ_TILES),
        make_pmtiles(tmp_path / "b.pmtiles", XYZ_TILES),
    ):
        tiles = open_tile_file(path)
        tiles.close()
        tiles.close()
        with pytest.raises(TileFileError, match=path.name):
            tiles.tile(0, 0, 0)


# --- errors ----------------------------------------------------------------------------------


def _raises_naming(path: Path, *words: str) -> str:
    with pytest.raises(TileFileError) as caught:
        open_tile_file(path)
    message = str(caught.value)
    assert str(path) in message
    for word in words:
        assert word in message
    return message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    _raises_naming(tmp_path / "gone.pmtiles", "no such file")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "tiles.mbtiles"
    folder.mkdir()
    _raises_naming(folder, "not a file")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("notes.mbtiles", ("not an SQLite database",)),
        ("notes.pmtiles", ("not a PMTiles file",)),
        ("notes.txt", ("neither", "MBTiles", "PMTiles")),
    ],
)
def test_a_file_of_neither_kind_is_named(tmp_path: Path, name: str, words: tuple[str]) -> None:
    path = tmp_path / name
    path.write_text("just some text, not tiles\n")
    _raises_naming(path, *words)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.mbtiles"
    path.write_bytes(b"")
    _raises_naming(path, "not an SQLite database")


def test_an_sqlite_file_without_tiles_is_named(tmp_path: Path) -> None:
    path = tmp_path / "cache.mbtiles"
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    conn.close()
    _raises_naming(path, "no tiles table")


def test_a_pmtiles_version_2_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "old.pmtiles"
    path.write_bytes(b"PM" + (2).to_bytes(2, "little") + b"\x00" * 508)
    _raises_naming(path, "version 2", "not supported")


def test_a_future_pmtiles_version_is_named(tmp_path: Path) -> None:
    path = make_pmtiles(tmp_path / "future.pmtiles", XYZ_TILES)
    data = bytearray(path.read_bytes())
    data[7] = 4
    path.write_bytes(bytes(data))
    _raises_naming(path, "version 4", "not supported")


def test_a_truncated_pmtiles_file_is_named(tmp_path: Path) -> None:
    full = make_pmtiles(tmp_path / "full.pmtiles", XYZ_TILES).read_bytes()
    path = tmp_path / "cut.pmtiles"
    path.write_bytes(full[:140])
    _raises_naming(path, "truncated")
