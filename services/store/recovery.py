"""Opening the offline cache at start, moving a damaged one aside.

A cache that fails its integrity check, cannot be read back, or was reported damaged
while the app ran is renamed to ``cityops.sqlite3.damaged-<timestamp>`` (with its ``-wal``
and ``-shm`` files) and a fresh cache takes its place; the caller tells the operator which
file was moved. A location the app may not write (permissions, a read-only file system)
is not damage: :class:`CacheUnavailable` reaches the caller with its own message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services.model import Snapshot
from services.store.cache import (
    FILE_NAME,
    READ_DAMAGE_CODES,
    CacheDamaged,
    CacheError,
    CacheUnavailable,
    OfflineCache,
)

log = logging.getLogger(__name__)

COMPANION_SUFFIXES = ("-wal", "-shm")


@dataclass(frozen=True, slots=True)
class CacheRecovery:
    """A damaged cache was moved aside and a fresh one started."""

    moved_to: Path
    reason: str

    def describe(self) -> str:
        """One sentence for the operator."""
        return (
            f"The offline cache was damaged ({self.reason}). It was moved aside to "
            f"{self.moved_to} and a fresh cache was started; the last known state before "
            "this start is not shown."
        )


@dataclass(slots=True)
class OpenedCache:
    """The cache to use, what it holds, and whether a damaged one was moved aside."""

    cache: OfflineCache
    snapshot: Snapshot
    recovery: CacheRecovery | None = None


def _result_code_of(error: CacheError) -> int | None:
    cause = error.__cause__
    code = getattr(cause, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def move_aside(path: Path, now: float) -> Path:
    """Rename ``path`` (and its -wal/-shm files) to ``<name>.damaged-<timestamp>``."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(now))
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{counter}")
    if path.exists():
        path.rename(target)
    for suffix in COMPANION_SUFFIXES:
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.rename(target.with_name(target.name + suffix))
    return target


def open_cache(
    directory: Path, *, retention_days: float, clock: Callable[[], float] = time.time
) -> OpenedCache:
    """Open the cache in ``directory`` and read its last known state.

    A damaged cache is moved aside and replaced by an empty one (see the module notes).
    Raises :class:`~services.store.cache.CacheUnavailable` when the location can't be used
    and :class:`~services.store.cache.CacheError` for other problems (a newer schema, a
    foreign SQLite file).
    """
    try:
        cache = OfflineCache(directory, retention_days=retention_days)
        try:
            return OpenedCache(cache, cache.load_snapshot())
        except CacheUnavailable:
            cache.close()
            raise
        except CacheError as error:
            cache.close()
            if isinstance(error, CacheDamaged):
                raise
            if _result_code_of(error) in READ_DAMAGE_CODES:  # e.g. a table is missing
                raise CacheDamaged(f"its last known state cannot be read: {error}") from error
            raise  # a full disk, an I/O error…: not damage; the caller reports it
    except CacheDamaged as error:
        path = Path(directory) / FILE_NAME
        marker = OfflineCache.marker_for(path)
        moved = move_aside(path, clock())
        marker.unlink(missing_ok=True)
        log.error("offline cache damaged (%s); moved aside to %s", error, moved)
        cache = OfflineCache(directory, retention_days=retention_days)
        return OpenedCache(cache, cache.load_snapshot(), CacheRecovery(moved, str(error)))
