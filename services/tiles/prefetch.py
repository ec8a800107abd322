"""Prefetching a named tile set: every tile of its box over its zooms fetched from the base
map's tile server and stored, with progress, pause, cancel and retry.

Downloads run on a few fetcher threads (``cityops-tiles-<n>``); the tiles they bring are
written by the thread that runs :meth:`Prefetcher.run`, in batches (the store has one
connection). A tile that cannot be fetched (an HTTP error, a timeout, an empty body) is
recorded as failed with its error; running the set again fetches what is still missing,
failed tiles included.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import requests

from services.tiles.store import TileKey, TileStore
from services.tiles.xyz import BBox, format_bbox, tile_url

log = logging.getLogger(__name__)

FETCHERS = 6
"""Downloads at once."""
TIMEOUT_S = 10.0
BATCH = 200
"""Tiles written per transaction."""
ESTIMATED_TILE_BYTES = 20_000
"""A raster tile's typical size, for the estimate before a prefetch starts."""
MEDIA_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


@dataclass(frozen=True, slots=True)
class PrefetchProgress:
    """How far a prefetch got: of ``planned`` tiles, ``stored`` are in the store (those
    there before included), ``failed`` could not be fetched this run."""

    planned: int
    stored: int
    failed: int
    fetched_bytes: int
    elapsed: float
    cancelled: bool = False

    @property
    def fraction(self) -> float:
        return self.stored / self.planned if self.planned else 1.0


class PrefetchControl:
    """Pause, resume and cancel a running prefetch from any thread."""

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._cancelled = threading.Event()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def wait_if_paused(self) -> None:
        self._running.wait()


def default_set_name(basemap: str, box: BBox, min_zoom: int, max_zoom: int) -> str:
    """The name a set gets unless one is given: ``<base map> W,S,E,N N-M``."""
    return f"{basemap} {format_bbox(box)} {min_zoom}-{max_zoom}"


def media_type_of(data: bytes, declared: str = "") -> str:
    """A tile's media type: from its first bytes, else as the server declared it."""
    for magic, media in MEDIA_TYPES.items():
        if data.startswith(magic):
            return media
    return declared.split(";", maxsplit=1)[0].strip() or "application/octet-stream"


class Prefetcher:
    """Fetches a set's missing tiles from ``url_template`` into ``store``."""

    def __init__(
        self,
        store: TileStore,
        url_template: str,
        *,
        session: requests.Session | None = None,
        fetchers: int = FETCHERS,
        timeout: float = TIMEOUT_S,
    ) -> None:
        self.store = store
        self.url_template = url_template
        self._session = session or requests.Session()
        self._fetchers = fetchers
        self._timeout = timeout

    def fetch(self, key: TileKey) -> tuple[bytes, str]:
        """One tile's bytes and media type; raises with the reason when it cannot."""
        z, x, y = key
        url = tile_url(self.url_template, z, x, y)
        response = self._session.get(url, timeout=self._timeout)
        response.raise_for_status()
        data = response.content
        if not data:
            raise ValueError(f"{url}: empty tile")
        return data, media_type_of(data, response.headers.get("Content-Type", ""))

    def run(
        self,
        set_name: str,
        control: PrefetchControl | None = None,
        progress: Callable[[PrefetchProgress], None] | None = None,
    ) -> PrefetchProgress:
        """Fetch every missing tile of the set (until cancelled); the final progress."""
        control = control or PrefetchControl()
        tile_set = self.store.tile_set(set_name)
        started = time.monotonic()
        stored, failed, fetched_bytes = tile_set.stored, 0, 0
        batch: list[tuple[TileKey, bytes, str]] = []

        def report() -> PrefetchProgress:
            return PrefetchProgress(
                tile_set.planned,
                stored,
                failed,
                fetched_bytes,
                time.monotonic() - started,
                control.cancelled,
            )

        def flush() -> None:
            if batch:
                self.store.put_set_tiles(set_name, tile_set.basemap, batch)
                batch.clear()
                if progress is not None:
                    progress(report())

        missing: Iterator[TileKey] = self.store.missing(set_name)
        with ThreadPoolExecutor(self._fetchers, thread_name_prefix="cityops-tiles") as pool:
            pending: dict[Future[tuple[bytes, str]], TileKey] = {}
            exhausted = False
            while pending or not exhausted:
                control.wait_if_paused()
                while not exhausted and not control.cancelled and len(pending) < 2 * self._fetchers:
                    key = next(missing, None)
                    if key is None:
                        exhausted = True
                        break
                    pending[pool.submit(self.fetch, key)] = key
                if control.cancelled:
                    for future in pending:
                        future.cancel()
                if not pending:
                    break
                done, _rest = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
                for future in done:
                    key = pending.pop(future)
                    if future.cancelled():
                        continue
                    try:
                        data, media = future.result()
                    except Exception as error:  # any failure of one tile: recorded, go on
                        failed += 1
                        self.store.record_failure(set_name, *key, _reason(error))
                        continue
                    batch.append((key, data, media))
                    stored += 1
                    fetched_bytes += len(data)
                if len(batch) >= BATCH:
                    flush()
                if control.cancelled and not pending:
                    break
        flush()
        result = report()
        log.info(
            "tile set %r: %d of %d tiles stored, %d failed, %d bytes fetched in %.1f s%s",
            set_name,
            result.stored,
            result.planned,
            result.failed,
            result.fetched_bytes,
            result.elapsed,
            " (cancelled)" if result.cancelled else "",
        )
        if progress is not None:
            progress(result)
        return result


def _reason(error: Exception) -> str:
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"HTTP {error.response.status_code}"
    return f"{type(error).__name__}: {error}"[:300]
