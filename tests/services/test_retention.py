"""Retention: readings older than ``[cache] retention_days`` leave the cache on their own."""

from __future__ import annotations

import time
from pathlib import Path

from services.config import AppConfig
from services.model import Reading
from services.session import CitySession
from services.store.cache import OfflineCache
from services.store.retention import RetentionPruner

DAY = 86_400.0


def seed(cache_dir: Path, now: float) -> None:
    with OfflineCache(cache_dir) as cache:
        old = [Reading("aq-01", "pm25", float(n), now - 9 * DAY + n, "air") for n in range(30)]
        fresh = [Reading("aq-01", "pm25", 50.0, now - 2 * DAY, "air")]
        cache.write_batch(old + fresh, [], [])
        assert cache.count("readings") == 31


def test_the_running_services_prune_readings_past_the_retention(tmp_path: Path) -> None:
    now = time.time()
    seed(tmp_path, now)
    session = CitySession(AppConfig(source="test", retention_days=7.0), tmp_path)
    session.start()
    try:
        deadline = time.monotonic() + 10
        while session.cache.count("readings") > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        remaining = session.cache.query_readings()
    finally:
        session.stop()
    assert [(r.value, r.ts) for r in remaining] == [(50.0, now - 2 * DAY)]


def test_pruning_goes_in_chunks_until_nothing_is_left(tmp_path: Path) -> None:
    now = time.time()
    seed(tmp_path, now)
    with OfflineCache(tmp_path, retention_days=7.0) as cache:
        assert cache.prune(now, chunk=4) == 4
        pruner = RetentionPruner(cache, clock=lambda: now)
        assert pruner.prune_now() == 26
        assert pruner.prune_now() == 0
        assert cache.count("readings") == 1
