"""``cityops tiles prefetch|list|delete|export|import``: the offline tile store from the
command line (no window, no Qt): prefetching a named set of a configured base map over a box
and zooms, listing the sets with their tile counts, deleting one, writing one to an MBTiles
file and storing an MBTiles or PMTiles file as one (to carry sets between workstations).

The store is ``tiles.sqlite3`` in the cache folder (``--cache-dir``); the base maps come from
``--config`` (``[[map.basemaps]]``).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TypeVar

from services.config import AppConfig, BasemapConfig, ConfigError, load_config, load_demo_config
from services.tiles.archive import TileArchiveError, export_set, import_file
from services.tiles.prefetch import (
    ESTIMATED_TILE_BYTES,
    PrefetchControl,
    Prefetcher,
    PrefetchProgress,
    default_set_name,
)
from services.tiles.store import STORE_FILE, TileStore, TileStoreError
from services.tiles.xyz import BBox, count_tiles, parse_bbox, parse_zoom_range
from ui.commands import EXIT_CONFIG

_T = TypeVar("_T")


def tile_store_path(cache_dir: Path) -> Path:
    """Where the tile store of a cache folder is."""
    return cache_dir / STORE_FILE


def run_tiles(args: argparse.Namespace) -> int:
    """Run ``cityops tiles ACTION``; 0 done, 1 failed, 2 a wrong argument or config."""
    try:
        store = TileStore(tile_store_path(args.cache_dir))
    except TileStoreError as error:
        print(f"cityops tiles: {error}", file=sys.stderr)
        return 1
    try:
        if args.tiles_command == "list":
            return _list(store)
        if args.tiles_command == "delete":
            return _delete(store, args.name)
        if args.tiles_command == "export":
            return _export(store, args)
        if args.tiles_command == "import":
            return _import(store, args)
        return _prefetch(store, args)
    finally:
        store.close()


def _list(store: TileStore) -> int:
    sets = store.sets()
    if not sets:
        print(f"no tile sets in {store.path}")
    for tile_set in sets:
        box = tile_set.box
        print(
            f"{tile_set.name}  {tile_set.basemap}  "
            f"{box.west:g},{box.south:g},{box.east:g},{box.north:g}  "
            f"zoom {tile_set.min_zoom}-{tile_set.max_zoom}  "
            f"{tile_set.stored}/{tile_set.planned} tiles, {tile_set.size / 1e6:.1f} MB"
            + (f", {tile_set.failed} failed" if tile_set.failed else "")
        )
    print(f"browsing cache: {store.browse_size() / 1e6:.1f} MB")
    return 0


def _delete(store: TileStore, name: str) -> int:
    try:
        store.delete_set(name)
    except KeyError as error:
        print(f"cityops tiles: {error.args[0]}", file=sys.stderr)
        return 1
    print(f"deleted the tile set {name!r}")
    return 0


def _export(store: TileStore, args: argparse.Namespace) -> int:
    result = _archive_run(
        lambda counter: export_set(store, args.name, args.file, counter),
        f"{args.file} was not written",
    )
    if result is None:
        return 1
    size = result.path.stat().st_size
    print(
        f"exported the tile set {result.set_name!r} ({result.basemap}) to {result.path}: "
        f"{result.tiles:,} tiles, {size / 1e6:.1f} MB in {result.seconds:.1f} s"
    )
    return 0


def _import(store: TileStore, args: argparse.Namespace) -> int:
    for option, value in (("--name", args.name), ("--basemap", args.basemap)):
        if value is not None and not value.strip():
            print(f"cityops tiles: {option} must not be empty", file=sys.stderr)
            return EXIT_CONFIG
    try:
        config = _config(args)
    except ConfigError as error:
        print(f"cityops tiles: {error}", file=sys.stderr)
        return EXIT_CONFIG
    result = _archive_run(
        lambda counter: import_file(store, args.file, args.name, args.basemap, counter),
        f"nothing of {args.file} was kept",
    )
    if result is None:
        return 1
    tile_set = store.tile_set(result.set_name)
    print(
        f"imported {result.path} as the tile set {result.set_name!r} ({result.basemap}): "
        f"{result.tiles:,} tiles, {result.tile_bytes / 1e6:.1f} MB in {result.seconds:.1f} s; "
        f"{tile_set.stored:,}/{tile_set.planned:,} tiles of its box and zooms stored"
    )
    served = {basemap.name for basemap in config.map.basemaps if basemap.file is None}
    if result.basemap not in served:
        print(
            f"cityops tiles: note: {config.source} has no [[map.basemaps]] named "
            f"{result.basemap!r} with a tile server url; the map shows these tiles once it has one",
            file=sys.stderr,
        )
    return 0


def _archive_run(work: Callable[[_Counter], _T], cancelled: str) -> _T | None:
    """Run an export or import with a progress counter; its error (or a cancel, saying
    ``cancelled``) printed, and None, when it fails."""
    counter = _Counter(sys.stderr.isatty())
    problem = ""
    try:
        return work(counter)
    except TileArchiveError as error:
        problem = str(error)
    except KeyboardInterrupt:
        problem = f"cancelled; {cancelled}"
    finally:
        counter.end()
    print(f"cityops tiles: {problem}", file=sys.stderr)
    return None


def _config(args: argparse.Namespace) -> AppConfig:
    return load_config(args.config) if args.config is not None else load_demo_config()


def _basemap(args: argparse.Namespace) -> BasemapConfig:
    config = _config(args)
    for basemap in config.map.basemaps:
        if basemap.name == args.basemap:
            return basemap
    known = ", ".join(repr(b.name) for b in config.map.basemaps) or "none ([[map.basemaps]])"
    raise ValueError(f"no base map {args.basemap!r} in {config.source} (known: {known})")


def _prefetch(store: TileStore, args: argparse.Namespace) -> int:
    try:
        basemap = _basemap(args)
        box: BBox = parse_bbox(args.bbox)
        min_zoom, max_zoom = parse_zoom_range(args.zoom)
    except (ConfigError, ValueError) as error:
        print(f"cityops tiles: {error}", file=sys.stderr)
        return EXIT_CONFIG
    if basemap.file is not None:
        print(f"cityops tiles: {basemap.name!r} is a tile file already: nothing to fetch")
        return EXIT_CONFIG
    if not basemap.min_zoom <= min_zoom <= max_zoom <= basemap.max_zoom:
        print(
            f"cityops tiles: {basemap.name!r} has zooms {basemap.min_zoom}-{basemap.max_zoom}",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    name = args.name or default_set_name(basemap.name, box, min_zoom, max_zoom)
    planned = count_tiles(box, min_zoom, max_zoom)
    print(
        f"{name}: {planned:,} tiles, about {planned * ESTIMATED_TILE_BYTES / 1e6:,.0f} MB "
        f"(at {ESTIMATED_TILE_BYTES / 1000:g} kB a tile)"
    )
    try:
        store.create_set(name, basemap.name, box, min_zoom, max_zoom)
    except ValueError:
        print(f"{name}: the set exists; fetching what it still misses")
    control = PrefetchControl()

    def cancel(_signal: int, _frame: FrameType | None) -> None:
        control.cancel()

    previous = signal.signal(signal.SIGINT, cancel)
    try:
        result = Prefetcher(store, basemap.url).run(name, control, _printer(sys.stderr.isatty()))
    finally:
        signal.signal(signal.SIGINT, previous)
    print(
        f"{name}: {result.stored:,} of {result.planned:,} tiles stored, {result.failed:,} failed "
        f"this run, {result.fetched_bytes / 1e6:.1f} MB fetched in {result.elapsed:.1f} s"
        + (" — cancelled: run it again to go on" if result.cancelled else "")
    )
    if result.failed:
        print("run the same command again to retry the failed tiles", file=sys.stderr)
    return 0 if result.stored == result.planned else 1


def _printer(live: bool) -> Callable[[PrefetchProgress], None]:
    last = [-1]

    def show(progress: PrefetchProgress) -> None:
        percent = int(progress.fraction * 100)
        if percent == last[0]:
            return
        last[0] = percent
        line = f"{percent:3d} %  {progress.stored:,}/{progress.planned:,} tiles"
        if progress.failed:
            line += f", {progress.failed:,} failed"
        print(f"\r{line}" if live else line, end="" if live else "\n", file=sys.stderr)

    return show


class _Counter:
    """Prints an export's or import's progress to stderr when its percentage changes (on one
    line rewritten in place when stderr is a terminal)."""

    def __init__(self, live: bool) -> None:
        self.live = live
        self._last = -1
        self._open = False

    def __call__(self, done: int, total: int) -> None:
        percent = done * 100 // total if total else 100
        if percent == self._last:
            return
        self._last = percent
        line = f"{percent:3d} %  {done:,}/{total:,} tiles"
        if self.live:
            print(f"\r{line}", end="", file=sys.stderr, flush=True)
            self._open = True
        else:
            print(line, file=sys.stderr)

    def end(self) -> None:
        """End the line being rewritten, if any."""
        if self._open:
            print(file=sys.stderr)
            self._open = False
