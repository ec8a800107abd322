"""A named tile set to and from a file: :func:`export_set` writes a set's stored tiles to a
new MBTiles file, :func:`import_file` stores an MBTiles (or PMTiles) file's tiles as a named
set, so that a workstation without network can be given what another one prefetched.

The exported file is standard MBTiles 1.3 (rows numbered from the south, TMS) with the set's
box, zooms and name in its metadata, and its base map under ``cityops_basemap``. It is written
under a temporary name in the target's folder and renamed when complete, so a failed or
cancelled export leaves nothing behind. A failed or cancelled import forgets the set it began.

Both run on the caller's thread and write the store in batches (it has one connection).
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import os
import sqlite3
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmtiles.tile import deserialize_directory, deserialize_header, tileid_to_zxy

from services.tiles.files import (
    AVIF,
    JPEG,
    MAX_TILE_ZOOM,
    PMTILES_HEADER_BYTES,
    PMTILES_MAX_DEPTH,
    PNG,
    VECTOR_TYPES,
    WEBP,
    MBTilesFile,
    PMTilesFile,
    TileFile,
    TileFileError,
    in_range,
    open_tile_file,
    sniff_media_type,
)
from services.tiles.store import TileKey, TileSet, TileStore
from services.tiles.xyz import BBox, count_tiles

log = logging.getLogger(__name__)

BATCH = 500
"""Tiles read or written per transaction."""
MAX_SET_TILES = 5_000_000
"""The most tiles an imported set's box may cover over its zooms (the store walks them)."""
BASEMAP_KEY = "cityops_basemap"
"""The MBTiles metadata key (and PMTiles metadata field) naming the set's base map."""

FORMATS = {PNG: "png", JPEG: "jpg", WEBP: "webp", AVIF: "avif"}
"""MBTiles ``format`` values of the media types a set's tiles may have."""
IMAGE_TYPES = frozenset(FORMATS)

Progress = Callable[[int, int], None]
"""Called with (tiles done, tiles in all) after each batch."""

_MBTILES_SCHEMA = """
CREATE TABLE metadata (name TEXT, value TEXT);
CREATE UNIQUE INDEX name ON metadata (name);
CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);
"""


class TileArchiveError(Exception):
    """A set cannot be exported or a file imported; the message names the set or the file."""


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    """What an export or import did."""

    set_name: str
    basemap: str
    path: Path
    """The file written or read."""
    tiles: int
    tile_bytes: int
    """Bytes of the tiles written or stored."""
    seconds: float


# -- export --------------------------------------------------------------------------------


def export_set(
    store: TileStore,
    set_name: str,
    path: Path | str,
    progress: Progress | None = None,
    *,
    batch_size: int = BATCH,
) -> ArchiveResult:
    """Write the stored tiles of the set ``set_name`` to a new MBTiles file at ``path``
    (never over an existing file)."""
    started = time.monotonic()
    path = Path(path)
    try:
        tile_set = store.tile_set(set_name)
    except KeyError:
        raise TileArchiveError(f"no tile set named {set_name!r} in {store.path}") from None
    if tile_set.stored == 0:
        raise TileArchiveError(f"the tile set {set_name!r} has no tiles yet: nothing to export")
    if path.exists():
        raise TileArchiveError(f"{path} exists already: not writing over it")
    if not path.parent.is_dir():
        raise TileArchiveError(f"cannot write {path}: there is no folder {path.parent}")
    # Beside the target (same file system: the rename is atomic), hidden, made by SQLite so
    # that it gets the usual permissions.
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        tiles, tile_bytes = _write_mbtiles(temp, store, tile_set, progress, batch_size)
        _move_into_place(temp, path)
    except (sqlite3.Error, OSError) as error:
        raise TileArchiveError(f"cannot write {path}: {error}") from error
    finally:
        temp.unlink(missing_ok=True)
    result = ArchiveResult(
        set_name, tile_set.basemap, path, tiles, tile_bytes, time.monotonic() - started
    )
    log.info("tile set %r exported to %s: %d tiles", set_name, path, tiles)
    return result


def _write_mbtiles(
    temp: Path,
    store: TileStore,
    tile_set: TileSet,
    progress: Progress | None,
    batch_size: int,
) -> tuple[int, int]:
    """Fill the empty file ``temp``; the tiles and bytes written."""
    formats: Counter[str] = Counter()
    done = tile_bytes = 0
    with closing(sqlite3.connect(temp)) as conn:
        # A temporary file, thrown away on any failure: no journal, no syncing until the end.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.executescript(_MBTILES_SCHEMA)
        for batch in store.stored_tiles(tile_set.name, batch_size):
            rows = []
            for (z, x, y), data, media_type in batch:
                rows.append((z, x, (1 << z) - 1 - y, data))
                formats[_format_of(media_type, data)] += 1
                tile_bytes += len(data)
            with conn:
                conn.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", rows)
            done += len(rows)
            if progress is not None:
                progress(done, tile_set.stored)
        with conn:
            conn.executemany(
                "INSERT INTO metadata VALUES (?, ?)",
                _metadata(tile_set, _chosen_format(tile_set, formats)).items(),
            )
    with temp.open("rb+") as written:
        os.fsync(written.fileno())
    return done, tile_bytes


def _format_of(media_type: str, data: bytes) -> str:
    """The MBTiles format of a stored tile: from its media type, else its first bytes."""
    media_type = media_type.split(";", maxsplit=1)[0].strip().lower()
    return FORMATS.get(media_type) or FORMATS.get(sniff_media_type(data), "")


def _chosen_format(tile_set: TileSet, formats: Counter[str]) -> str:
    known = Counter({name: count for name, count in formats.items() if name})
    if not known:
        raise TileArchiveError(
            f"the tile set {tile_set.name!r} holds no PNG, JPEG, WebP or AVIF tiles"
        )
    chosen = known.most_common(1)[0][0]
    if len(formats) > 1:
        log.warning(
            "tile set %r mixes tile formats (%s): the file declares %s",
            tile_set.name,
            ", ".join(f"{count} {name or 'unknown'}" for name, count in formats.items()),
            chosen,
        )
    return chosen


def _metadata(tile_set: TileSet, tile_format: str) -> dict[str, str]:
    box = tile_set.box
    return {
        "name": tile_set.name,
        "format": tile_format,
        "bounds": f"{box.west},{box.south},{box.east},{box.north}",
        "center": f"{(box.west + box.east) / 2},{(box.south + box.north) / 2},{tile_set.min_zoom}",
        "minzoom": str(tile_set.min_zoom),
        "maxzoom": str(tile_set.max_zoom),
        "type": "baselayer",
        "description": f"CityOps tile set {tile_set.name!r} of the base map {tile_set.basemap!r}",
        BASEMAP_KEY: tile_set.basemap,
    }


def _move_into_place(temp: Path, path: Path) -> None:
    """Give the finished ``temp`` its name, unless a file of that name appeared meanwhile."""
    try:
        os.link(temp, path)  # fails if ``path`` exists: never over someone's file
    except FileExistsError:
        raise TileArchiveError(f"{path} exists already: not writing over it") from None
    except OSError:  # a file system without hard links
        if path.exists():
            raise TileArchiveError(f"{path} exists already: not writing over it") from None
        os.replace(temp, path)


# -- import --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Contents:
    """What a tile file holds, found by walking its index (not its tile data)."""

    tiles: int
    extents: dict[int, tuple[int, int, int, int]]
    """Per zoom: the XYZ x_min, y_min, x_max, y_max of its tiles."""
    basemap: str | None
    """The base map its metadata names."""


def import_file(
    store: TileStore,
    path: Path | str,
    set_name: str | None = None,
    basemap: str | None = None,
    progress: Progress | None = None,
    *,
    batch_size: int = BATCH,
) -> ArchiveResult:
    """Store every tile of the MBTiles or PMTiles file at ``path`` as a new set named
    ``set_name`` (default: the file's name) of the base map ``basemap`` (default: the one the
    file names); the set's box and zooms are the file's."""
    started = time.monotonic()
    path = Path(path)
    try:
        reader = open_tile_file(path)
    except TileFileError as error:
        raise TileArchiveError(str(error)) from error
    with reader:
        try:
            contents = _contents(reader)
        except (sqlite3.Error, OSError, EOFError, zlib.error) as error:
            raise TileArchiveError(f"tile file {path}: cannot be read ({error})") from error
        name = reader.name if set_name is None else set_name
        basemap = basemap or contents.basemap
        tile_set = _plan(store, reader, contents, name, basemap)
        try:
            tiles, tile_bytes = _store_tiles(
                reader, store, tile_set, contents, progress=progress, batch_size=batch_size
            )
        except BaseException:
            _forget(store, tile_set.name)
            raise
    result = ArchiveResult(
        tile_set.name, tile_set.basemap, path, tiles, tile_bytes, time.monotonic() - started
    )
    log.info("tile file %s imported as the set %r: %d tiles", path, tile_set.name, tiles)
    return result


def _plan(
    store: TileStore, reader: TileFile, contents: _Contents, name: str, basemap: str | None
) -> TileSet:
    """The new, empty set the file's tiles go into, after checking they can."""
    path = reader.path
    if not name.strip():
        raise TileArchiveError(f"tile file {path}: the set's name must not be empty")
    try:
        store.tile_set(name)
    except KeyError:
        pass
    else:
        raise TileArchiveError(
            f"a tile set named {name!r} exists already in {store.path}: import {path} under "
            "another name"
        )
    if not basemap:
        raise TileArchiveError(
            f"tile file {path}: it does not say which base map its tiles are of "
            f"(no {BASEMAP_KEY} in its metadata): name the base map"
        )
    if reader.media_type in VECTOR_TYPES:
        raise TileArchiveError(
            f"tile file {path}: vector tiles ({reader.media_type}) cannot go in the tile store;"
            " use the file as a base map of its own (url = file://...)"
        )
    if contents.tiles == 0:
        raise TileArchiveError(f"tile file {path}: it has no tiles")
    min_zoom, max_zoom = _zooms(reader, contents)
    box = _box(reader, contents)
    planned = count_tiles(box, min_zoom, max_zoom)
    if planned > MAX_SET_TILES:
        raise TileArchiveError(
            f"tile file {path}: its box over zooms {min_zoom}-{max_zoom} covers {planned:,} "
            f"tiles, more than a tile set may ({MAX_SET_TILES:,}); cut a smaller area out of it"
        )
    try:
        return store.create_set(name, basemap, box, min_zoom, max_zoom)
    except ValueError as error:
        raise TileArchiveError(f"{error} in {store.path}") from None
    except sqlite3.Error as error:
        raise TileArchiveError(f"cannot create the tile set {name!r}: {error}") from error


def _zooms(reader: TileFile, contents: _Contents) -> tuple[int, int]:
    """The file's zooms as its metadata says, widened to those its tiles are at."""
    low, high = min(contents.extents), max(contents.extents)
    if 0 <= reader.min_zoom <= reader.max_zoom <= MAX_TILE_ZOOM:
        return min(low, reader.min_zoom), max(high, reader.max_zoom)
    return low, high


def _box(reader: TileFile, contents: _Contents) -> BBox:
    """The file's bounds, else the area of its tiles at their deepest zoom (the shallower
    zooms' tiles over it come with it; any beyond it are stored all the same)."""
    if reader.bounds is not None:
        try:
            return BBox(*reader.bounds)
        except ValueError:
            log.warning("tile file %s: bounds %s unusable", reader.path, reader.bounds)
    zoom = max(contents.extents)
    x0, y0, x1, y1 = contents.extents[zoom]
    # Just inside the tiles' outer edges, so that the box covers these tiles and no more.
    inset = 1e-6
    west, north = _lon_lat(zoom, x0 + inset, y0 + inset)
    east, south = _lon_lat(zoom, x1 + 1 - inset, y1 + 1 - inset)
    return BBox(west, south, east, north)


def _lon_lat(zoom: int, x: float, y: float) -> tuple[float, float]:
    """The point at the fractional tile position ``x``, ``y`` of ``zoom``."""
    n = 1 << zoom
    return x / n * 360.0 - 180.0, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))


def _store_tiles(
    reader: TileFile,
    store: TileStore,
    tile_set: TileSet,
    contents: _Contents,
    *,
    progress: Progress | None,
    batch_size: int,
) -> tuple[int, int]:
    """Put the file's tiles into the set; the tiles and bytes stored."""
    batch: list[tuple[TileKey, bytes, str]] = []
    done = stored = tile_bytes = 0

    def flush() -> None:
        try:
            store.put_set_tiles(tile_set.name, tile_set.basemap, batch)
        except sqlite3.Error as error:
            raise TileArchiveError(
                f"cannot store the tiles of {reader.path} in {store.path}: {error}"
            ) from error
        batch.clear()
        if progress is not None:
            progress(done, contents.tiles)

    with closing(_tile_keys(reader)) as keys:
        for key in keys:
            done += 1
            try:
                data = reader.tile(*key)
            except TileFileError as error:
                raise TileArchiveError(str(error)) from error
            if data is None:
                continue
            batch.append((key, data, _media_type(data, reader.media_type)))
            stored += 1
            tile_bytes += len(data)
            if len(batch) >= batch_size:
                flush()
    flush()
    return stored, tile_bytes


def _media_type(data: bytes, declared: str) -> str:
    """A tile's media type: the image type its bytes show, else the file's."""
    sniffed = sniff_media_type(data)
    return sniffed if sniffed in IMAGE_TYPES else declared


def _forget(store: TileStore, name: str) -> None:
    """Drop a set whose import failed (its tiles join the browsing cache)."""
    try:
        store.delete_set(name)
    except (KeyError, sqlite3.Error) as error:
        log.error("tile set %r of a failed import could not be dropped: %s", name, error)
    else:
        log.info("tile set %r of a failed import dropped", name)


def _contents(reader: TileFile) -> _Contents:
    if isinstance(reader, MBTilesFile):
        return _mbtiles_contents(reader.path)
    if isinstance(reader, PMTilesFile):
        return _pmtiles_contents(reader.path)
    raise TileArchiveError(f"tile file {reader.path}: cannot list its tiles")


def _tile_keys(reader: TileFile) -> Generator[TileKey, None, None]:
    if isinstance(reader, MBTilesFile):
        return _mbtiles_keys(reader.path)
    return _pmtiles_keys(reader.path)


def _extend(
    extents: dict[int, tuple[int, int, int, int]], z: int, extent: tuple[int, int, int, int]
) -> None:
    """Widen zoom ``z``'s extent to take in ``extent`` (x_min, y_min, x_max, y_max)."""
    x0, y0, x1, y1 = extent
    old = extents.get(z)
    if old is not None:
        x0, y0, x1, y1 = min(x0, old[0]), min(y0, old[1]), max(x1, old[2]), max(y1, old[3])
    extents[z] = (x0, y0, x1, y1)


# MBTiles: its index read over a read-only connection of our own (MBTilesFile serves tiles
# one at a time and says nothing of which there are).


_MBTILES_VALID = (
    "tile_data IS NOT NULL AND typeof(zoom_level) = 'integer'"
    " AND typeof(tile_column) = 'integer' AND typeof(tile_row) = 'integer'"
    f" AND zoom_level BETWEEN 0 AND {MAX_TILE_ZOOM}"
    " AND tile_column BETWEEN 0 AND (1 << zoom_level) - 1"
    " AND tile_row BETWEEN 0 AND (1 << zoom_level) - 1"
)
"""Rows that are tiles at all (others are left out of the count and the import)."""


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _mbtiles_contents(path: Path) -> _Contents:
    with closing(_read_only(path)) as conn:
        total = 0
        extents: dict[int, tuple[int, int, int, int]] = {}
        for z, count, x0, x1, row0, row1 in conn.execute(
            "SELECT zoom_level, count(*), min(tile_column), max(tile_column), min(tile_row),"
            f" max(tile_row) FROM tiles WHERE {_MBTILES_VALID} GROUP BY zoom_level"
        ):
            n = 1 << z
            _extend(extents, z, (x0, n - 1 - row1, x1, n - 1 - row0))
            total += int(count)
        try:
            row = conn.execute(
                "SELECT value FROM metadata WHERE lower(trim(name)) = ?", (BASEMAP_KEY,)
            ).fetchone()
        except sqlite3.Error:  # no metadata table
            row = None
    basemap = str(row[0]).strip() if row is not None and row[0] is not None else None
    return _Contents(total, extents, basemap or None)


def _mbtiles_keys(path: Path) -> Generator[TileKey, None, None]:
    with closing(_read_only(path)) as conn:
        cursor = conn.execute(
            f"SELECT zoom_level, tile_column, tile_row FROM tiles WHERE {_MBTILES_VALID}"
        )
        while rows := cursor.fetchmany(BATCH):
            for z, x, row in rows:
                yield z, x, (1 << z) - 1 - row


# PMTiles: its directories walked with the pmtiles package (PMTilesFile has checked the
# header and reads the tiles).


def _pmtiles_entries(path: Path) -> Iterator[tuple[int, int]]:
    """(first tile id, run length) of every run of tiles in the file."""
    with path.open("rb") as file:

        def read(offset: int, length: int) -> bytes:
            file.seek(offset)
            return file.read(length)

        header = deserialize_header(read(0, PMTILES_HEADER_BYTES))
        leaves = header["leaf_directory_offset"]

        def walk(offset: int, length: int, depth: int) -> Iterator[tuple[int, int]]:
            for entry in deserialize_directory(read(offset, length)):
                if entry.run_length > 0:
                    yield entry.tile_id, entry.run_length
                elif depth < PMTILES_MAX_DEPTH:
                    yield from walk(leaves + entry.offset, entry.length, depth + 1)

        yield from walk(header["root_offset"], header["root_length"], 1)


def _pmtiles_keys(path: Path) -> Generator[TileKey, None, None]:
    for first, run in _pmtiles_entries(path):
        for tile_id in range(first, first + run):
            z, x, y = tileid_to_zxy(tile_id)
            if in_range(z, x, y):
                yield z, x, y


def _pmtiles_contents(path: Path) -> _Contents:
    total = 0
    extents: dict[int, tuple[int, int, int, int]] = {}
    for z, x, y in _pmtiles_keys(path):
        total += 1
        _extend(extents, z, (x, y, x, y))
    basemap = _pmtiles_metadata(path).get(BASEMAP_KEY)
    named = basemap.strip() if isinstance(basemap, str) else ""
    return _Contents(total, extents, named or None)


def _pmtiles_metadata(path: Path) -> dict[str, Any]:
    with path.open("rb") as file:
        header = deserialize_header(file.read(PMTILES_HEADER_BYTES))
        if header["metadata_length"] == 0:
            return {}
        file.seek(header["metadata_offset"])
        raw = file.read(header["metadata_length"])
    try:
        value = json.loads(gzip.decompress(raw))
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as error:
        log.warning("PMTiles %s: metadata unreadable (%s)", path, error)
        return {}
    return value if isinstance(value, dict) else {}
