"""Cache faults: damaged files moved aside, unusable locations named, a full disk survived.

Real SQLite files; the read-only and full-disk cases mount small tmpfs file systems (root
only, as on CI; skipped elsewhere).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from services.config import AppConfig, FeedConfig, RuleConfig
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.model import CacheState, Entity, Reading
from services.store.cache import (
    FILE_NAME,
    CacheDamaged,
    CacheUnavailable,
    OfflineCache,
)
from services.store.recovery import open_cache

T0 = 1_790_000_000.0
CONFIG = AppConfig(
    source="test",
    feeds=(FeedConfig(name="air", topic="yiyang/air/#", domain="environment"),),
    rules=(RuleConfig(metric="pm25", high=75),),
)


def seeded(directory: Path, readings: int = 3000) -> Path:
    """A cache with entities, latest values and ``readings`` readings; returns its file."""
    with OfflineCache(directory) as cache:
        rows = [
            Reading(f"aq-{n % 30:02d}", "pm25", float(n), T0 + n, "air") for n in range(readings)
        ]
        entities = [
            Entity(f"aq-{n:02d}", f"站 {n}", "air_quality", "environment") for n in range(30)
        ]
        cache.write_batch(rows, entities, [])
    return directory / FILE_NAME


def page_size(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])


def root_page(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(
            conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[
                0
            ]
        )


def scribble(path: Path, page: int) -> None:
    """Overwrite one page (numbered from 1) with garbage."""
    size = page_size(path)
    with path.open("r+b") as handle:
        handle.seek((page - 1) * size)
        handle.write(bytes((n * 37 + 11) % 256 for n in range(size)))


def assert_moved_aside_and_fresh(directory: Path) -> None:
    opened = open_cache(directory, retention_days=7)
    try:
        assert opened.recovery is not None
        moved = opened.recovery.moved_to
        assert moved.exists() and moved.name.startswith(f"{FILE_NAME}.damaged-")
        assert str(moved) in opened.recovery.describe()
        assert opened.snapshot.entities == []
        opened.cache.write_batch([Reading("e", "m", 1.0, T0, "f")], [], [])
        assert opened.cache.count("readings") == 1
    finally:
        opened.cache.close()
    again = open_cache(directory, retention_days=7)  # the fresh cache is healthy now
    again.cache.close()
    assert again.recovery is None


@pytest.mark.parametrize("table", ["samples", "entities", "sqlite_master"])
def test_garbage_on_a_root_page_moves_the_cache_aside(tmp_path: Path, table: str) -> None:
    path = seeded(tmp_path)
    scribble(path, 1 if table == "sqlite_master" else root_page(path, table))
    assert_moved_aside_and_fresh(tmp_path)


def test_garbage_in_the_middle_moves_the_cache_aside(tmp_path: Path) -> None:
    path = seeded(tmp_path, readings=20_000)
    pages = path.stat().st_size // page_size(path)
    scribble(path, pages // 2)
    assert_moved_aside_and_fresh(tmp_path)


def test_a_truncated_cache_is_moved_aside(tmp_path: Path) -> None:
    path = seeded(tmp_path, readings=20_000)
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)
    assert_moved_aside_and_fresh(tmp_path)


def test_a_folder_in_place_of_the_cache_file_is_moved_aside(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).mkdir()
    assert_moved_aside_and_fresh(tmp_path)


def test_damage_found_while_running_moves_the_cache_aside_at_the_next_start(
    tmp_path: Path,
) -> None:
    path = seeded(tmp_path, readings=20_000)
    cache = OfflineCache(tmp_path)
    scribble(path, root_page(path, "samples"))
    with sqlite3.connect(path) as other:  # another writer: the cache re-reads its pages
        other.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('touched', 'yes')")
    with pytest.raises(CacheDamaged):
        cache.query_readings()
    assert cache.damage_marker.exists()
    cache.close()
    assert_moved_aside_and_fresh(tmp_path)
    assert not OfflineCache.marker_for(path).exists()


# -- file systems of our own (root only) ---------------------------------------------------


def mount_tmpfs(target: Path, size: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a file system needs root")
    target = tmp_path / "fs"
    mount_tmpfs(target, "2m")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def remount(target: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(target)], check=True)


def test_a_read_only_location_is_named_not_called_damaged(small_fs: Path) -> None:
    seeded(small_fs, readings=10)
    remount(small_fs, "ro")
    with pytest.raises(CacheUnavailable, match="not writable") as raised:
        open_cache(small_fs, retention_days=7)
    assert "damaged" not in str(raised.value)
    assert (small_fs / FILE_NAME).exists()  # nothing moved
    remount(small_fs, "rw")


def reading(n: int, ts: float) -> RawMessage:
    payload = json.dumps({"id": f"aq-{n % 50:02d}", "pm25": 40 + n % 7, "ts": ts}).encode()
    return RawMessage("air", "yiyang/air/x", payload, ts)


def test_a_full_disk_degrades_the_cache_bounds_memory_and_recovers_losing_nothing_stored(
    small_fs: Path,
) -> None:
    cache = OfflineCache(small_fs)
    pipeline = IngestPipeline(CONFIG, cache, flush_interval=0.0, max_backlog=5_000)
    pipeline.process_batch([reading(n, T0 + n) for n in range(200)])
    pipeline.stop()
    assert cache.count("readings") == 200
    filler = fill(small_fs)

    states = []
    for batch in range(40):
        start = 1000 + batch * 500
        pipeline.process_batch([reading(n, T0 + n) for n in range(start, start + 500)])
        pipeline.flush_cache(force=True)
        states.append(pipeline.take_delta().cache)
    health = pipeline.writer.health
    assert health.state is CacheState.DEGRADED
    assert "full" in health.detail
    assert pipeline.writer.backlog == 5_000  # bounded
    assert health.dropped_readings == 40 * 500 - 5_000
    assert any(state is not None and state.state is CacheState.DEGRADED for state in states)

    filler.unlink()
    time.sleep(0.01)
    recovered = pipeline.writer.flush(force=True)
    assert recovered is not None and recovered.state is CacheState.OK
    report = pipeline.stop()
    assert (report.unsaved_readings, report.dropped_readings) == (0, 15_000)
    assert not report.complete  # readings were dropped, and the report says so
    assert cache.count("readings") == 200 + 5_000  # everything stored before is still there
    cache.close()


def fill(directory: Path) -> Path:
    """Fill the file system holding ``directory`` to the last byte; returns the filler."""
    filler = directory / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 512, 1):  # unbuffered, down to the last byte
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(descriptor)
    return filler


def test_shutdown_says_when_the_cache_did_not_take_everything(small_fs: Path) -> None:
    cache = OfflineCache(small_fs)
    pipeline = IngestPipeline(CONFIG, cache, flush_interval=0.0)
    fill(small_fs)
    pipeline.process_batch([reading(n, T0 + n) for n in range(100)])
    report = pipeline.stop()
    cache.close()
    assert not report.complete
    assert report.unsaved_readings == 100
    assert "full" in report.detail


def test_a_full_disk_while_upgrading_is_not_damage_and_moves_nothing(small_fs: Path) -> None:
    from services.store.cache import CacheError
    from services.store.schema import MIGRATIONS

    path = small_fs / FILE_NAME
    raw = sqlite3.connect(path)
    for statements in MIGRATIONS[:5]:
        for statement in statements:
            raw.execute(statement)
    raw.executemany(
        "INSERT INTO readings (ts, entity_id, metric, value, unit, feed)"
        " VALUES (?, ?, ?, ?, '', 'f')",
        # (few enough that the upgrade fits in the 2 MB file system once there is room:
        # moving the readings into the compact tables needs both for a moment)
        ((T0 + n, f"e{n % 50}", "m", float(n)) for n in range(8_000)),
    )
    raw.execute("PRAGMA user_version = 5")
    raw.commit()
    raw.close()
    filler = fill(small_fs)
    with pytest.raises(CacheError) as raised:
        open_cache(small_fs, retention_days=7)
    assert not isinstance(raised.value, (CacheDamaged, CacheUnavailable))
    assert "full" in str(raised.value)
    assert path.exists() and not list(small_fs.glob(f"{FILE_NAME}.damaged-*"))
    filler.unlink()
    opened = open_cache(small_fs, retention_days=7)  # room again: upgraded, nothing lost
    assert opened.recovery is None and opened.cache.count("readings") == 8_000
    opened.cache.close()


def test_a_degraded_cache_acknowledges_what_it_applied_so_the_broker_keeps_sending(
    small_fs: Path,
) -> None:
    acked: list[int] = []
    cache = OfflineCache(small_fs)
    pipeline = IngestPipeline(CONFIG, cache, flush_interval=0.0)
    fill(small_fs)
    first = [replace(reading(n, T0 + n), ack=lambda n=n: acked.append(n)) for n in range(5)]
    pipeline.process_batch(first)
    assert acked == []  # waiting for the commit
    pipeline.flush_cache(force=True)  # it fails: the cache turns degraded
    assert pipeline.writer.health.state is CacheState.DEGRADED
    assert acked == [0, 1, 2, 3, 4]
    pipeline.process_batch([replace(reading(9, T0 + 9), ack=lambda: acked.append(9))])
    assert acked[-1] == 9  # at once while degraded
    pipeline.stop()
    cache.close()
