"""Retention: a background thread that aggregates raw history into the 1-minute and
15-minute tiers and deletes what is older than each tier's retention.

It deletes in small chunks (each its own short transaction), so the ingest worker's writes
never wait for more than one chunk.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from services.store.cache import PRUNE_CHUNK_ROWS, CacheError, OfflineCache

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 300.0
"""How often the thread aggregates history and looks for expired rows (also right after
start)."""


class RetentionPruner:
    """Runs :meth:`OfflineCache.prune` at start and then every ``interval`` seconds."""

    def __init__(
        self,
        cache: OfflineCache,
        *,
        interval: float = PRUNE_EVERY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cache = cache
        self.interval = interval
        self.clock = clock
        self.rows_deleted = 0
        self.passes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the background thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="cityops-retention", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the chunk in progress."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def rollup_now(self) -> int:
        """Aggregate what is due into the history tiers; returns the transactions run."""
        return self.cache.rollup(
            self.clock(), stop=self._stop.is_set, pause=lambda: self._stop.wait(0.01)
        )

    def prune_now(self) -> int:
        """Delete everything past the retention, chunk by chunk; returns the rows deleted."""
        deleted = 0
        now = self.clock()
        while not self._stop.is_set():
            chunk = self.cache.prune(now)
            deleted += chunk
            if chunk < PRUNE_CHUNK_ROWS:
                break
            self._stop.wait(0.01)  # let the ingest worker write between chunks
        self.rows_deleted += deleted
        self.passes += 1
        if deleted:
            log.info(
                "pruned %d rows older than %g days from the cache",
                deleted,
                self.cache.retention_days,
            )
        return deleted

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.rollup_now()
                self.prune_now()
                trimmed = self.cache.trim_to_budget(stop=self._stop.is_set)
                if trimmed:
                    log.info(
                        "trimmed %d rows of the oldest history: the cache was over its"
                        " budget of %d MB",
                        trimmed,
                        self.cache.max_bytes // 2**20,
                    )
            except CacheError as error:
                log.warning("aggregating or pruning the cache failed (will retry): %s", error)
            self._stop.wait(self.interval)
