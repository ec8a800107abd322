"""Map tiles read straight from a local file: MBTiles (SQLite) and PMTiles (version 3).

:func:`open_tile_file` looks at the file's first bytes (the extension only words the error)
and returns a :class:`TileFile` that answers ``tile(z, x, y)`` in XYZ numbering, as Leaflet
asks, whatever the file's own numbering (MBTiles rows count from the south: TMS).

An instance is meant for one worker thread at a time; a lock makes stray concurrent calls
safe, not fast. SQLite files are opened read-only. PMTiles directories are parsed with the
``pmtiles`` package and the parsed ones kept in a small cache, so a tile usually costs one read.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import sqlite3
import threading
import zlib
from collections import OrderedDict
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Protocol, Self

from pmtiles.tile import (
    Compression,
    Entry,
    MagicNumberNotFound,
    SpecVersionUnsupported,
    TileType,
    deserialize_directory,
    deserialize_header,
    find_tile,
    zxy_to_tileid,
)

logger = logging.getLogger(__name__)

Bounds = tuple[float, float, float, float]
"""West, south, east, north in degrees (WGS-84)."""

MAX_TILE_ZOOM = 30
"""The deepest zoom a tile is looked up at; deeper requests get None."""

SQLITE_MAGIC = b"SQLite format 3\x00"
PMTILES_MAGIC = b"PMTiles"
PMTILES_HEADER_BYTES = 127
PMTILES_MAX_DEPTH = 4
"""Root plus at most three levels of leaf directories (the PMTiles specification)."""
LEAF_CACHE_SIZE = 64
"""Parsed PMTiles leaf directories kept per open file (the root is always kept)."""

PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"
AVIF = "image/avif"
PROTOBUF = "application/x-protobuf"
MLT = "application/vnd.maplibre-vector-tile"
OCTET_STREAM = "application/octet-stream"
VECTOR_TYPES = frozenset({PROTOBUF, MLT})

MBTILES_FORMATS = {
    "png": PNG,
    "jpg": JPEG,
    "jpeg": JPEG,
    "webp": WEBP,
    "avif": AVIF,
    "pbf": PROTOBUF,
    "mvt": PROTOBUF,
}
"""MBTiles ``metadata.format`` values (and their media types, accepted as such)."""

PMTILES_TYPES = {
    TileType.MVT: PROTOBUF,
    TileType.PNG: PNG,
    TileType.JPEG: JPEG,
    TileType.WEBP: WEBP,
    TileType.AVIF: AVIF,
    TileType.MLT: MLT,
}

CONTENT_ENCODINGS = {Compression.GZIP: "gzip", Compression.BROTLI: "br", Compression.ZSTD: "zstd"}


class TileFileError(Exception):
    """A tile file cannot be opened or read; the message names the file and the problem."""


class TileFile(Protocol):
    """Tiles of one local file, asked for in XYZ numbering."""

    @property
    def path(self) -> Path:
        """The file."""
        ...

    @property
    def name(self) -> str:
        """The tile set's name from the file's metadata, else the file name without suffix."""
        ...

    @property
    def media_type(self) -> str:
        """``image/png``, ``image/jpeg``, ``image/webp``, ``application/x-protobuf``, ..."""
        ...

    @property
    def content_encoding(self) -> str | None:
        """How :meth:`tile` bytes are compressed (``gzip`` for most vector tiles), or None."""
        ...

    @property
    def min_zoom(self) -> int:
        """The shallowest zoom with tiles."""
        ...

    @property
    def max_zoom(self) -> int:
        """The deepest zoom with tiles."""
        ...

    @property
    def bounds(self) -> Bounds | None:
        """West, south, east, north in degrees, when the file says."""
        ...

    @property
    def attribution(self) -> str | None:
        """The attribution text from the file's metadata, if any."""
        ...

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ ``z/x/y``, or None when the file has none there."""
        ...

    def close(self) -> None:
        """Release the file; later :meth:`tile` calls raise :class:`TileFileError`."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


def open_tile_file(path: Path | str) -> TileFile:
    """Open an MBTiles or PMTiles file, recognised by its first bytes."""
    path = Path(path)
    if not path.exists():
        raise TileFileError(f"tile file {path}: no such file")
    if not path.is_file():
        raise TileFileError(f"tile file {path}: not a file")
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise TileFileError(f"tile file {path}: cannot be read ({exc})") from exc
    if head.startswith(SQLITE_MAGIC):
        return MBTilesFile(path)
    if head.startswith(b"PM"):
        return PMTilesFile(path)
    suffix = path.suffix.lower()
    if suffix == ".mbtiles":
        problem = "not an SQLite database, so not MBTiles"
    elif suffix == ".pmtiles":
        problem = "not a PMTiles file (no PMTiles header)"
    else:
        problem = "neither an MBTiles (SQLite) nor a PMTiles file"
    raise TileFileError(f"tile file {path}: {problem}")


def in_range(z: int, x: int, y: int) -> bool:
    """Whether ``z/x/y`` names a tile at all (0 ≤ x, y < 2**z, z within what is looked up)."""
    if not 0 <= z <= MAX_TILE_ZOOM:
        return False
    n = 1 << z
    return 0 <= x < n and 0 <= y < n


def sniff_media_type(data: bytes) -> str:
    """The media type a tile's first bytes show (gzip-compressed data is taken as MVT)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[4:12] in (b"ftypavif", b"ftypavis"):
        return AVIF
    if data.startswith(b"\x1f\x8b"):
        return PROTOBUF
    return OCTET_STREAM


def parse_bounds(text: str) -> Bounds | None:
    """``"W,S,E,N"`` as numbers, or None when it is not four finite numbers in range."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        return None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        return None
    west, south, east, north = values
    if not (-180.0 <= west <= 180.0 and -180.0 <= east <= 180.0):
        return None
    if not -90.0 <= south <= north <= 90.0:
        return None
    return (west, south, east, north)


class MBTilesFile:
    """An MBTiles file: SQLite with ``tiles`` (TMS rows) and ``metadata`` tables."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            # check_same_thread=False: it may be opened on one thread and used on another;
            # the lock keeps calls one at a time.
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise TileFileError(f"MBTiles file {path}: cannot be opened ({exc})") from exc
        try:
            self._read_description()
        except TileFileError:
            self.close()
            raise
        except sqlite3.Error as exc:
            self.close()
            raise TileFileError(f"MBTiles file {path}: cannot be read ({exc})") from exc
        logger.info(
            "opened MBTiles %s: %s, zoom %d-%d", path, self.media_type, self.min_zoom, self.max_zoom
        )

    def _read_description(self) -> None:
        conn = self._connection()
        names = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
            )
        }
        if "tiles" not in names:
            raise TileFileError(f"MBTiles file {self.path}: has no tiles table")
        metadata: dict[str, str] = {}
        if "metadata" in names:
            for key, value in conn.execute("SELECT name, value FROM metadata"):
                if isinstance(key, str) and value is not None:
                    metadata[key.strip().lower()] = str(value)
        self.name: str = metadata.get("name", "").strip() or self.path.stem
        self.attribution: str | None = metadata.get("attribution") or None
        self.bounds: Bounds | None = None
        if "bounds" in metadata:
            self.bounds = parse_bounds(metadata["bounds"])
            if self.bounds is None:
                logger.warning("MBTiles %s: ignoring bounds %r", self.path, metadata["bounds"])

        low, high = conn.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
        self.min_zoom: int = _int_or(metadata.get("minzoom"), _int_or(low, 0))
        self.max_zoom: int = _int_or(metadata.get("maxzoom"), _int_or(high, 0))

        first = conn.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
        first_tile = bytes(first[0]) if first is not None and first[0] is not None else b""
        declared = metadata.get("format", "").strip().lower()
        if declared in MBTILES_FORMATS:
            self.media_type: str = MBTILES_FORMATS[declared]
        elif declared in MBTILES_FORMATS.values():
            self.media_type = declared
        else:
            self.media_type = sniff_media_type(first_tile) if first_tile else OCTET_STREAM
        # MBTiles vector tiles are stored gzip-compressed (the specification), rasters as is.
        gzipped = first_tile.startswith(b"\x1f\x8b")
        self.content_encoding: str | None = (
            "gzip" if self.media_type in VECTOR_TYPES and gzipped else None
        )

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise TileFileError(f"MBTiles file {self.path}: already closed")
        return self._conn

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ ``z/x/y`` (stored at TMS row ``2**z - 1 - y``), or None."""
        if not in_range(z, x, y):
            return None
        row = (1 << z) - 1 - y
        with self._lock:
            try:
                found = (
                    self._connection()
                    .execute(
                        "SELECT tile_data FROM tiles"
                        " WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                        (z, x, row),
                    )
                    .fetchone()
                )
            except sqlite3.Error as exc:
                raise TileFileError(
                    f"MBTiles file {self.path}: tile {z}/{x}/{y} cannot be read ({exc})"
                ) from exc
        if found is None or found[0] is None:
            return None
        return bytes(found[0])

    def close(self) -> None:
        """Close the database connection (again is fine)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class PMTilesFile:
    """A PMTiles (version 3) file: a header, gzip-compressed directories and tile data."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._leaves: OrderedDict[tuple[int, int], list[Entry]] = OrderedDict()
        try:
            self._file: BinaryIO | None = path.open("rb")
        except OSError as exc:
            raise TileFileError(f"PMTiles file {path}: cannot be opened ({exc})") from exc
        try:
            self._read_description()
        except TileFileError:
            self.close()
            raise
        logger.info(
            "opened PMTiles %s: %s, zoom %d-%d", path, self.media_type, self.min_zoom, self.max_zoom
        )

    def _read_description(self) -> None:
        head = self._read(0, PMTILES_HEADER_BYTES, "the header")
        if not head.startswith(PMTILES_MAGIC):
            # Versions 1 and 2 start with "PM" and a little-endian 16-bit version.
            version = int.from_bytes(head[2:4], "little")
            if version not in (1, 2):
                raise TileFileError(f"PMTiles file {self.path}: not a PMTiles file (bad header)")
            raise TileFileError(
                f"PMTiles file {self.path}: version {version} is not supported, only version 3"
                " (convert it with `pmtiles convert`)"
            )
        try:
            header = deserialize_header(head)
        except SpecVersionUnsupported as exc:
            raise TileFileError(
                f"PMTiles file {self.path}: version {head[7]} is not supported, only version 3"
            ) from exc
        except (MagicNumberNotFound, ValueError) as exc:
            raise TileFileError(f"PMTiles file {self.path}: invalid header ({exc!r})") from exc
        if header["internal_compression"] != Compression.GZIP:
            raise TileFileError(
                f"PMTiles file {self.path}: directories compressed with "
                f"{header['internal_compression'].name} are not supported (only GZIP)"
            )
        self._leaf_offset = header["leaf_directory_offset"]
        self._data_offset = header["tile_data_offset"]
        self.min_zoom: int = header["min_zoom"]
        self.max_zoom: int = header["max_zoom"]
        self.bounds: Bounds | None = _pmtiles_bounds(
            header["min_lon_e7"], header["min_lat_e7"], header["max_lon_e7"], header["max_lat_e7"]
        )
        metadata = self._metadata(header["metadata_offset"], header["metadata_length"])
        name = metadata.get("name")
        self.name: str = name.strip() if isinstance(name, str) and name.strip() else self.path.stem
        attribution = metadata.get("attribution")
        self.attribution: str | None = attribution if isinstance(attribution, str) else None
        self._root_entries = self._parse_directory(header["root_offset"], header["root_length"])

        compression = header["tile_compression"]
        media_type = PMTILES_TYPES.get(header["tile_type"])
        first: bytes | None = None
        if media_type is None or compression == Compression.UNKNOWN:
            first = self._first_tile()
        if media_type is None:  # the header does not say: the first tile shows
            raw = first or b""
            if raw.startswith(b"\x1f\x8b"):
                inner = sniff_media_type(self._gunzip(raw, "the first tile"))
                media_type = PROTOBUF if inner in (OCTET_STREAM, PROTOBUF) else inner
            else:
                media_type = sniff_media_type(raw)
        self.media_type: str = media_type

        if compression == Compression.UNKNOWN:
            gzipped = first is not None and first.startswith(b"\x1f\x8b")
            compression = Compression.GZIP if gzipped else Compression.NONE
        self._gunzip_tiles = False
        self.content_encoding: str | None = None
        if media_type in VECTOR_TYPES or media_type == OCTET_STREAM:
            self.content_encoding = CONTENT_ENCODINGS.get(compression)
        elif compression == Compression.GZIP:
            self._gunzip_tiles = True  # an image needs no second compression: served plain
        elif compression in (Compression.BROTLI, Compression.ZSTD):
            raise TileFileError(
                f"PMTiles file {self.path}: {media_type} tiles compressed with "
                f"{compression.name} are not supported"
            )

    def _metadata(self, offset: int, length: int) -> dict[str, Any]:
        if length == 0:
            return {}
        raw = self._gunzip(self._read(offset, length, "the metadata"), "the metadata")
        try:
            value = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            logger.warning("PMTiles %s: ignoring unreadable metadata (%s)", self.path, exc)
            return {}
        return value if isinstance(value, dict) else {}

    def _read(self, offset: int, length: int, what: str) -> bytes:
        if self._file is None:
            raise TileFileError(f"PMTiles file {self.path}: already closed")
        try:
            self._file.seek(offset)
            data = self._file.read(length)
        except (OSError, ValueError) as exc:
            raise TileFileError(f"PMTiles file {self.path}: cannot read {what} ({exc})") from exc
        if len(data) != length:
            raise TileFileError(f"PMTiles file {self.path}: truncated ({what} is cut short)")
        return data

    def _gunzip(self, data: bytes, what: str) -> bytes:
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise TileFileError(f"PMTiles file {self.path}: {what} is corrupt ({exc})") from exc

    def _parse_directory(self, offset: int, length: int) -> list[Entry]:
        raw = self._read(offset, length, "a directory")
        try:
            return deserialize_directory(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise TileFileError(
                f"PMTiles file {self.path}: a directory is corrupt ({exc})"
            ) from exc

    def _leaf(self, offset: int, length: int) -> list[Entry]:
        """A leaf directory, from the cache when it was read lately."""
        key = (offset, length)
        entries = self._leaves.get(key)
        if entries is not None:
            self._leaves.move_to_end(key)
            return entries
        entries = self._parse_directory(offset, length)
        self._leaves[key] = entries
        if len(self._leaves) > LEAF_CACHE_SIZE:
            self._leaves.popitem(last=False)
        return entries

    def _find(self, tile_id: int) -> Entry | None:
        entries = self._root_entries
        for _ in range(PMTILES_MAX_DEPTH):
            entry = find_tile(entries, tile_id)
            if entry is None:
                return None
            if entry.run_length > 0:
                return entry
            entries = self._leaf(self._leaf_offset + entry.offset, entry.length)
        return None

    def _first_tile(self) -> bytes | None:
        entries = self._root_entries
        for _ in range(PMTILES_MAX_DEPTH):
            if not entries:
                return None
            entry = entries[0]
            if entry.run_length > 0:
                return self._read(self._data_offset + entry.offset, entry.length, "a tile")
            entries = self._leaf(self._leaf_offset + entry.offset, entry.length)
        return None

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ ``z/x/y`` as stored (gzip-compressed images are unpacked), or None."""
        if not in_range(z, x, y):
            return None
        tile_id = zxy_to_tileid(z, x, y)
        with self._lock:
            entry = self._find(tile_id)
            if entry is None:
                return None
            data = self._read(self._data_offset + entry.offset, entry.length, f"tile {z}/{x}/{y}")
        if self._gunzip_tiles:
            return self._gunzip(data, f"tile {z}/{x}/{y}")
        return data

    def close(self) -> None:
        """Close the file (again is fine)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            self._leaves.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _int_or(value: object, default: int) -> int:
    """``value`` as a whole number (``"5"``, ``5.0``, ``5``), else ``default``."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return default
    try:
        number = float(value)
    except ValueError:
        return default
    return int(number) if math.isfinite(number) else default


def _pmtiles_bounds(min_lon: int, min_lat: int, max_lon: int, max_lat: int) -> Bounds | None:
    if min_lon == min_lat == max_lon == max_lat == 0:
        return None
    west, south, east, north = (v / 1e7 for v in (min_lon, min_lat, max_lon, max_lat))
    if not (
        -180.0 <= west <= 180.0 and -180.0 <= east <= 180.0 and -90.0 <= south <= north <= 90.0
    ):
        return None
    return (west, south, east, north)
