"""The offline tile store: one SQLite file of map tiles shared by every base map and tile
set.

- **Named sets** (prefetched areas: a box over a zoom range) own their tiles: never evicted
  while a set holds them; a tile two sets cover is stored once and counted in both.
- **The browsing cache** is every other tile (fetched while someone looked at the map): kept
  up to a size cap, the least recently used evicted first.
- A set's tiles that could not be fetched are remembered with their error and attempts, for
  retrying.

One connection, used from one thread at a time (the tile worker's); the caller serialises.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from services.tiles.xyz import BBox, count_tiles, tiles_in

log = logging.getLogger(__name__)

STORE_FILE = "tiles.sqlite3"
"""The tile store's file name in the cache folder."""
SCHEMA_VERSION = 1
DEFAULT_BROWSE_CAP_BYTES = 512 * 1024 * 1024
"""The browsing cache's default size cap (prefetched sets are not counted in it)."""
TileKey = tuple[int, int, int]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tiles (
    basemap TEXT NOT NULL, z INTEGER NOT NULL, x INTEGER NOT NULL, y INTEGER NOT NULL,
    data BLOB NOT NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL,
    fetched_at REAL NOT NULL, used_at REAL NOT NULL, pinned INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (basemap, z, x, y)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tiles_lru ON tiles (pinned, used_at);
CREATE TABLE IF NOT EXISTS tile_sets (
    name TEXT PRIMARY KEY, basemap TEXT NOT NULL,
    west REAL NOT NULL, south REAL NOT NULL, east REAL NOT NULL, north REAL NOT NULL,
    min_zoom INTEGER NOT NULL, max_zoom INTEGER NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS set_tiles (
    set_name TEXT NOT NULL REFERENCES tile_sets (name) ON DELETE CASCADE,
    basemap TEXT NOT NULL, z INTEGER NOT NULL, x INTEGER NOT NULL, y INTEGER NOT NULL,
    PRIMARY KEY (set_name, basemap, z, x, y)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS set_tiles_tile ON set_tiles (basemap, z, x, y);
CREATE TABLE IF NOT EXISTS failed_tiles (
    set_name TEXT NOT NULL REFERENCES tile_sets (name) ON DELETE CASCADE,
    z INTEGER NOT NULL, x INTEGER NOT NULL, y INTEGER NOT NULL,
    error TEXT NOT NULL, attempts INTEGER NOT NULL, last_at REAL NOT NULL,
    PRIMARY KEY (set_name, z, x, y)
) WITHOUT ROWID;
"""


class TileStoreError(Exception):
    """The tile store cannot be opened or used (the message names the file)."""


@dataclass(frozen=True, slots=True)
class TileSet:
    """A named prefetched area of one base map, and how far it got."""

    name: str
    basemap: str
    box: BBox
    min_zoom: int
    max_zoom: int
    planned: int
    """Tiles the box covers over its zooms."""
    stored: int
    """Of those, tiles in the store."""
    failed: int
    size: int
    """Bytes of its stored tiles (a tile shared with another set counted in both)."""

    @property
    def complete(self) -> bool:
        return self.stored >= self.planned


class TileStore:
    """Tiles by (base map, z, x, y); named sets pin theirs, the rest is an LRU cache."""

    def __init__(
        self,
        path: Path,
        browse_cap_bytes: int = DEFAULT_BROWSE_CAP_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.browse_cap_bytes = browse_cap_bytes
        self._clock = clock
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(path, check_same_thread=False, timeout=5.0)
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA journal_mode = WAL")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise TileStoreError(
                    f"the tile store {path} is of a newer version ({version}) than this "
                    f"CityOps knows ({SCHEMA_VERSION})"
                )
            with self._conn:
                self._conn.executescript(_SCHEMA)
                self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.Error as error:
            raise TileStoreError(f"cannot open the tile store {path}: {error}") from None

    def close(self) -> None:
        self._conn.close()

    # -- tiles -----------------------------------------------------------------------------

    def get(self, basemap: str, key: TileKey) -> tuple[bytes, str] | None:
        """A stored tile's bytes and media type (marked as just used), or None."""
        z, x, y = key
        row = self._conn.execute(
            "SELECT data, media_type FROM tiles WHERE basemap = ? AND z = ? AND x = ? AND y = ?",
            (basemap, z, x, y),
        ).fetchone()
        if row is None:
            return None
        with self._conn:
            self._conn.execute(
                "UPDATE tiles SET used_at = ? WHERE basemap = ? AND z = ? AND x = ? AND y = ?",
                (self._clock(), basemap, z, x, y),
            )
        return bytes(row[0]), str(row[1])

    def put(
        self,
        basemap: str,
        key: TileKey,
        data: bytes,
        media_type: str,
        *,
        set_name: str | None = None,
    ) -> None:
        """Store a tile (for ``set_name``: pinned by that set); the browsing cache is then
        trimmed to its cap."""
        z, x, y = key
        now = self._clock()
        with self._conn:
            self._conn.execute(
                "INSERT INTO tiles (basemap, z, x, y, data, media_type, size, fetched_at,"
                " used_at, pinned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (basemap, z, x, y) DO UPDATE SET data = excluded.data,"
                " media_type = excluded.media_type, size = excluded.size,"
                " fetched_at = excluded.fetched_at, used_at = excluded.used_at,"
                " pinned = max(pinned, excluded.pinned)",
                (
                    basemap,
                    z,
                    x,
                    y,
                    data,
                    media_type,
                    len(data),
                    now,
                    now,
                    int(set_name is not None),
                ),
            )
            if set_name is not None:
                self._conn.execute(
                    "INSERT OR IGNORE INTO set_tiles VALUES (?, ?, ?, ?, ?)",
                    (set_name, basemap, z, x, y),
                )
                self._conn.execute(
                    "DELETE FROM failed_tiles WHERE set_name = ? AND z = ? AND x = ? AND y = ?",
                    (set_name, z, x, y),
                )
        if set_name is None:
            self.trim()

    def put_set_tiles(
        self, set_name: str, basemap: str, tiles: Iterable[tuple[TileKey, bytes, str]]
    ) -> None:
        """Store a batch of a set's fetched tiles ((key, data, media type) each) in one
        transaction, pinned by the set."""
        now = self._clock()
        rows = [
            (basemap, z, x, y, data, media, len(data), now, now) for (z, x, y), data, media in tiles
        ]
        with self._conn:
            self._conn.executemany(
                "INSERT INTO tiles (basemap, z, x, y, data, media_type, size, fetched_at,"
                " used_at, pinned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"
                " ON CONFLICT (basemap, z, x, y) DO UPDATE SET data = excluded.data,"
                " media_type = excluded.media_type, size = excluded.size,"
                " fetched_at = excluded.fetched_at, pinned = 1",
                rows,
            )
            self._conn.executemany(
                "INSERT OR IGNORE INTO set_tiles VALUES (?, ?, ?, ?, ?)",
                [(set_name, basemap, z, x, y) for basemap, z, x, y, *_rest in rows],
            )
            self._conn.executemany(
                "DELETE FROM failed_tiles WHERE set_name = ? AND z = ? AND x = ? AND y = ?",
                [(set_name, z, x, y) for _basemap, z, x, y, *_rest in rows],
            )

    def browse_size(self) -> int:
        """Bytes of the tiles no set holds (the browsing cache)."""
        row = self._conn.execute("SELECT coalesce(sum(size), 0) FROM tiles WHERE pinned = 0")
        return int(row.fetchone()[0])

    def trim(self) -> int:
        """Evict the least recently used browsing tiles while over the cap; how many."""
        over = self.browse_size() - self.browse_cap_bytes
        evicted = 0
        while over > 0:
            rows = self._conn.execute(
                "SELECT basemap, z, x, y, size FROM tiles WHERE pinned = 0"
                " ORDER BY used_at LIMIT 256"
            ).fetchall()
            if not rows:
                break
            gone = []
            for basemap, z, x, y, size in rows:
                gone.append((basemap, z, x, y))
                over -= int(size)
                if over <= 0:
                    break
            with self._conn:
                self._conn.executemany(
                    "DELETE FROM tiles WHERE basemap = ? AND z = ? AND x = ? AND y = ?", gone
                )
            evicted += len(gone)
        if evicted:
            log.debug(
                "tile store: %d browsing tiles evicted (cap %d bytes)",
                evicted,
                self.browse_cap_bytes,
            )
        return evicted

    # -- sets ------------------------------------------------------------------------------

    def create_set(
        self, name: str, basemap: str, box: BBox, min_zoom: int, max_zoom: int
    ) -> TileSet:
        """A new named set (ValueError when the name is taken); tiles already stored for
        it are pinned by it at once."""
        try:
            with self._conn:
                self._conn.execute(
                    "INSERT INTO tile_sets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        name,
                        basemap,
                        box.west,
                        box.south,
                        box.east,
                        box.north,
                        min_zoom,
                        max_zoom,
                        self._clock(),
                    ),
                )
        except sqlite3.IntegrityError:
            raise ValueError(f"a tile set named {name!r} exists already") from None
        present = [key for key in tiles_in(box, min_zoom, max_zoom) if self._has(basemap, *key)]
        self._pin(name, basemap, present)
        return self.tile_set(name)

    def _has(self, basemap: str, z: int, x: int, y: int) -> bool:
        return (
            self._conn.execute(
                "SELECT 1 FROM tiles WHERE basemap = ? AND z = ? AND x = ? AND y = ?",
                (basemap, z, x, y),
            ).fetchone()
            is not None
        )

    def _pin(self, name: str, basemap: str, keys: Iterable[TileKey]) -> None:
        rows = [(name, basemap, z, x, y) for z, x, y in keys]
        with self._conn:
            self._conn.executemany("INSERT OR IGNORE INTO set_tiles VALUES (?, ?, ?, ?, ?)", rows)
            self._conn.executemany(
                "UPDATE tiles SET pinned = 1 WHERE basemap = ? AND z = ? AND x = ? AND y = ?",
                [row[1:] for row in rows],
            )

    def tile_set(self, name: str) -> TileSet:
        """The set called ``name`` (KeyError naming it when there is none)."""
        row = self._conn.execute(
            "SELECT basemap, west, south, east, north, min_zoom, max_zoom FROM tile_sets"
            " WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            raise KeyError(f"no tile set named {name!r}")
        basemap, west, south, east, north, min_zoom, max_zoom = row
        box = BBox(west, south, east, north)
        stored, size = self._conn.execute(
            "SELECT count(*), coalesce(sum(t.size), 0) FROM set_tiles s JOIN tiles t"
            " USING (basemap, z, x, y) WHERE s.set_name = ?",
            (name,),
        ).fetchone()
        failed = self._conn.execute(
            "SELECT count(*) FROM failed_tiles WHERE set_name = ?", (name,)
        ).fetchone()[0]
        return TileSet(
            name,
            basemap,
            box,
            min_zoom,
            max_zoom,
            count_tiles(box, min_zoom, max_zoom),
            int(stored),
            int(failed),
            int(size),
        )

    def sets(self) -> list[TileSet]:
        """Every named set, by name."""
        names = [row[0] for row in self._conn.execute("SELECT name FROM tile_sets ORDER BY name")]
        return [self.tile_set(name) for name in names]

    def stored_tiles(
        self, name: str, batch_size: int = 500
    ) -> Iterator[list[tuple[TileKey, bytes, str]]]:
        """The set's stored tiles of its base map, ``batch_size`` (key, data, media type) at a
        time, by zoom, column and row; reading them does not count as using them (KeyError
        naming the set when there is none)."""
        tile_set = self.tile_set(name)
        after = (-1, -1, -1)
        while True:
            rows = self._conn.execute(
                "SELECT s.z, s.x, s.y, t.data, t.media_type FROM set_tiles s JOIN tiles t"
                " USING (basemap, z, x, y) WHERE s.set_name = ? AND s.basemap = ?"
                " AND (s.z, s.x, s.y) > (?, ?, ?) ORDER BY s.z, s.x, s.y LIMIT ?",
                (name, tile_set.basemap, *after, batch_size),
            ).fetchall()
            if not rows:
                return
            yield [((z, x, y), bytes(data), str(media)) for z, x, y, data, media in rows]
            after = (rows[-1][0], rows[-1][1], rows[-1][2])

    def missing(self, name: str) -> Iterator[TileKey]:
        """The set's tiles not stored yet, zoom by zoom."""
        tile_set = self.tile_set(name)
        for key in tiles_in(tile_set.box, tile_set.min_zoom, tile_set.max_zoom):
            if not self._has(tile_set.basemap, *key):
                yield key

    def record_failure(self, name: str, z: int, x: int, y: int, error: str) -> None:
        """A tile of the set could not be fetched (counted, for a retry)."""
        with self._conn:
            self._conn.execute(
                "INSERT INTO failed_tiles VALUES (?, ?, ?, ?, ?, 1, ?)"
                " ON CONFLICT (set_name, z, x, y) DO UPDATE SET error = excluded.error,"
                " attempts = attempts + 1, last_at = excluded.last_at",
                (name, z, x, y, error, self._clock()),
            )

    def failures(self, name: str) -> list[tuple[TileKey, str, int]]:
        """The set's tiles that failed: (key, last error, attempts)."""
        return [
            ((z, x, y), str(error), int(attempts))
            for z, x, y, error, attempts in self._conn.execute(
                "SELECT z, x, y, error, attempts FROM failed_tiles WHERE set_name = ?"
                " ORDER BY z, y, x",
                (name,),
            )
        ]

    def delete_set(self, name: str) -> None:
        """Forget the set; its tiles no other set holds join the browsing cache (and are
        evicted as it needs)."""
        tile_set = self.tile_set(name)
        with self._conn:
            self._conn.execute("DELETE FROM tile_sets WHERE name = ?", (name,))
            self._conn.execute(
                "UPDATE tiles SET pinned = 0 WHERE basemap = ? AND pinned = 1 AND NOT EXISTS"
                " (SELECT 1 FROM set_tiles s WHERE s.basemap = tiles.basemap AND s.z = tiles.z"
                " AND s.x = tiles.x AND s.y = tiles.y)",
                (tile_set.basemap,),
            )
        self.trim()
