"""History tiers: 1-minute and 15-minute buckets rolled up from the raw samples, kept by
tier, and a series at a resolution that fits its window."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest

from services.model import Reading
from services.store import history
from services.store.cache import OfflineCache
from services.store.history import ROLLUP_LAG_S, next_rollup_span

T0 = 1_800_000_000.0  # a multiple of 900: buckets start at T0


def readings(entity: str, values: list[float], start: float, step: float) -> list[Reading]:
    return [
        Reading(entity, "pm25", value, start + n * step, "air") for n, value in enumerate(values)
    ]


@pytest.fixture
def cache(tmp_path: Path) -> OfflineCache:
    opened = OfflineCache(tmp_path, retention_days=2)
    yield opened  # type: ignore[misc]
    opened.close()


def test_buckets_hold_count_min_max_mean_and_last(cache: OfflineCache) -> None:
    # 20 minutes of one reading every 10 s, values 0..119; another station alongside
    cache.write_batch(readings("aq-1", [float(n) for n in range(120)], T0, 10.0), [], [])
    cache.write_batch(readings("aq-2", [5.0] * 120, T0, 10.0), [], [])
    now = T0 + 1200 + ROLLUP_LAG_S + 900  # every 1-minute and 15-minute bucket is ready
    assert cache.rollup(now) > 0
    assert cache.rollup(now) == 0  # up to date: nothing more
    resolution, minutes = cache.series("aq-1", "pm25", T0, T0 + 1199, resolution="1m", now=now)
    assert resolution == "1m" and len(minutes) == 20
    first = minutes[0]
    assert (first.ts, first.count, first.minimum, first.maximum, first.last) == (T0, 6, 0, 5, 5)
    assert first.value == pytest.approx(2.5)
    _, quarters = cache.series("aq-1", "pm25", T0, T0 + 1199, resolution="15m", now=now)
    assert [(q.ts, q.count, q.minimum, q.maximum) for q in quarters] == [
        (T0, 90, 0, 89),
        (T0 + 900, 30, 90, 119),
    ]
    assert quarters[1].value == pytest.approx(104.5) and quarters[1].last == 119


def test_what_the_tier_has_not_aggregated_yet_comes_from_the_raw_samples(
    cache: OfflineCache,
) -> None:
    cache.write_batch(readings("aq-1", [1.0, 3.0, 8.0], T0, 20.0), [], [])
    # nothing rolled up yet: the minute is still computed, from the raw samples
    _, minutes = cache.series("aq-1", "pm25", T0, T0 + 59, resolution="1m", now=T0 + 60)
    assert [(m.count, m.minimum, m.maximum, m.last) for m in minutes] == [(3, 1.0, 8.0, 8.0)]
    cache.rollup(T0 + 60 + ROLLUP_LAG_S)
    _, again = cache.series("aq-1", "pm25", T0, T0 + 59, resolution="1m", now=T0 + 400)
    assert again == minutes  # the same from the tier


def test_the_resolution_fits_the_window(cache: OfflineCache) -> None:
    cache.write_batch(readings("aq-1", [1.0, 2.0], T0, 30.0), [], [])
    now = T0 + 3600
    assert cache.series("aq-1", "pm25", T0, now, now=now)[0] == "raw"
    assert cache.series("aq-1", "pm25", now - 86_400, now, now=now)[0] == "1m"
    assert cache.series("aq-1", "pm25", now - 7 * 86_400, now, now=now)[0] == "15m"
    # short, but older than the raw tier keeps (2 days here): from the 1-minute tier
    assert cache.series("aq-1", "pm25", now - 3 * 86_400, now - 3 * 86_400 + 60, now=now)[0] == "1m"
    _resolution, raw = cache.series("aq-1", "pm25", T0, now, now=now)
    assert [(p.ts, p.value) for p in raw] == [(T0, 1.0), (T0 + 30, 2.0)]
    with pytest.raises(ValueError, match="unknown resolution"):
        cache.series("aq-1", "pm25", T0, now, resolution="5m", now=now)


def test_each_tier_is_pruned_by_its_own_retention(cache: OfflineCache) -> None:
    cache.write_batch(readings("aq-1", [1.0, math.nan, 3.0], T0, 30.0), [], [])
    cache.rollup(T0 + 2000)
    cache.tier_days = {"1m": 1.0, "15m": 3.0}
    later = T0 + 2.5 * 86_400  # past the raw tier (2 days) and the 1-minute tier (1 day)
    while cache.prune(later) >= 5_000:
        pass
    assert cache.count("readings") == 0
    _, minutes = cache.series("aq-1", "pm25", T0, T0 + 900, resolution="1m", now=later)
    assert minutes == []
    _, quarters = cache.series("aq-1", "pm25", T0, T0 + 900, resolution="15m", now=later)
    assert [(q.count, q.minimum, q.maximum) for q in quarters] == [(2, 1.0, 3.0)]  # NaN skipped


def test_export_series_prints_the_points_with_their_resolution(tmp_path: Path) -> None:
    from tests.helpers.cli import run_cityops

    with OfflineCache(tmp_path, retention_days=2) as opened:
        opened.write_batch(readings("中心站", [1.0, 2.0, 6.0], T0, 20.0), [], [])
    result = run_cityops(
        "export", "series", "中心站", "pm25", "--cache-dir", str(tmp_path),
        "--since", str(T0), "--until", str(T0 + 59), "--resolution", "1m",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (point,) = json.loads(result.stdout)
    assert point == {
        "ts": "2027-01-15T08:00:00.000Z",
        "resolution": "1m",
        "value": 3.0,
        "min": 1.0,
        "max": 6.0,
        "count": 3,
        "last": 6.0,
    }
    raw = run_cityops(
        "export", "series", "中心站", "pm25", "--cache-dir", str(tmp_path), "--format", "csv",
        "--since", str(T0), "--until", str(T0 + 59),
    )  # fmt: skip
    assert raw.stdout.splitlines()[1].startswith("2027-01-15T08:00:00.000Z,raw,1.0")
    missing = run_cityops("export", "series", "中心站", "--cache-dir", str(tmp_path))
    assert missing.returncode == 2 and "ENTITY METRIC" in missing.stderr


def test_over_its_budget_the_cache_loses_its_oldest_history_first(tmp_path: Path) -> None:
    with OfflineCache(tmp_path, retention_days=3650) as cache:
        for hour in range(6):  # six hours of 50 stations every 10 s
            batch = [
                Reading(f"aq-{k}", "pm25", float(n % 100), T0 + hour * 3600 + n * 10, "air")
                for n in range(360)
                for k in range(50)
            ]
            cache.write_batch(batch, [], [])
        full = cache.used_bytes()
        cache.max_bytes = full // 2
        deleted = cache.trim_to_budget()
        assert deleted > 0 and cache.used_bytes() <= full // 2
        left = cache.query_readings()
        oldest = min(r.ts for r in left)
        assert oldest >= T0 + 3600  # the first hours went first
        assert max(r.ts for r in left) == T0 + 5 * 3600 + 359 * 10  # the newest stayed
        cache.max_bytes = 1  # nothing can satisfy it: everything trimmable goes, then it stops
        cache.trim_to_budget()
        assert cache.count("readings") == 0


def test_the_rollup_skips_quiet_days_instead_of_walking_them(cache: OfflineCache) -> None:
    cache.write_batch(readings("aq-1", [1.0], T0, 10.0), [], [])
    cache.write_batch(readings("aq-1", [2.0], T0 + 10 * 86_400, 10.0), [], [])
    steps = cache.rollup(T0 + 10 * 86_400 + 3600)
    assert steps <= 4  # one step per tier for each of the two readings, not 960 per tier
    _, quarters = cache.series(
        "aq-1", "pm25", T0, T0 + 10 * 86_400 + 60, resolution="15m", now=T0 + 11 * 86_400
    )
    assert [q.value for q in quarters] == [1.0, 2.0]


def test_short_rollup_steps_make_the_same_buckets_as_long_ones(
    cache: OfflineCache, tmp_path: Path
) -> None:
    values = [float((n * 37) % 101) for n in range(120)]
    now = T0 + 1200 + ROLLUP_LAG_S + 900
    cache.write_batch(readings("aq-1", values, T0, 10.0), [], [])
    assert cache.rollup(now) == 4  # 1-minute and 15-minute tiers, a quarter hour a step
    with OfflineCache(tmp_path / "short", retention_days=2) as other:
        other.write_batch(readings("aq-1", values, T0, 10.0), [], [])
        steps = 0
        conn = sqlite3.connect(other.path, isolation_level=None)
        for tier in history.TIERS:  # two-minute steps: the quarter hours are split up
            while history.rollup_step(conn, tier, now, 120.0):
                steps += 1
        conn.close()
        assert steps == 20
        for tier in history.TIERS:
            whole = cache.series("aq-1", "pm25", T0, T0 + 1199, resolution=tier, now=now)
            split = other.series("aq-1", "pm25", T0, T0 + 1199, resolution=tier, now=now)
            assert split == whole


def test_the_rollup_span_follows_how_long_a_step_takes() -> None:
    assert next_rollup_span(900.0, 2.5) == 90.0  # 2.5 s a quarter hour: 90 s steps
    assert next_rollup_span(90.0, 0.01) == 180.0  # quick: grows, at most doubling
    assert next_rollup_span(600.0, 0.01) == 900.0  # never past a quarter hour
    assert next_rollup_span(60.0, 10.0) == 60.0  # never under a minute


def test_values_at_each_moment_come_from_raw_then_from_the_tiers(tmp_path: Path) -> None:
    with OfflineCache(tmp_path, retention_days=2) as cache:
        # aq-1 every 10 s for 20 min with values 0..119; aq-2 from minute 10 on, 7.0
        cache.write_batch(readings("aq-1", [float(n) for n in range(120)], T0, 10.0), [], [])
        cache.write_batch(readings("aq-2", [7.0] * 60, T0 + 600, 10.0), [], [])
        cache.rollup(T0 + 1200 + ROLLUP_LAG_S + 900)
        conn = sqlite3.connect(cache.path)
        moments = [T0 - 5, T0 + 95, T0 + 605, T0 + 1500]
        raw = history.values_at(conn, "pm25", moments)
        assert raw[T0 - 5] == {}
        assert raw[T0 + 95] == {"aq-1": (T0 + 90, 9.0)}
        assert raw[T0 + 605] == {"aq-1": (T0 + 600, 60.0), "aq-2": (T0 + 600, 7.0)}
        assert raw[T0 + 1500]["aq-1"] == (T0 + 1190, 119.0)
        # the raw samples gone: the newest 1-minute bucket ended by then, its last value
        conn.execute("DELETE FROM samples")
        conn.commit()
        tiers = history.values_at(conn, "pm25", moments)
        assert tiers[T0 + 95] == {"aq-1": (T0 + 50, 5.0)}  # minute 0 ended at T0 + 60
        assert tiers[T0 + 1500]["aq-1"] == (T0 + 1190, 119.0)
        conn.close()


def test_a_series_whose_raw_samples_are_gone_comes_from_its_tier(tmp_path: Path) -> None:
    with OfflineCache(tmp_path, retention_days=2) as cache:
        cache.write_batch(readings("aq-1", [1.0] * 120, T0, 10.0), [], [])
        cache.write_batch(readings("aq-2", [float(n) for n in range(60)], T0, 10.0), [], [])
        cache.rollup(T0 + 1200 + ROLLUP_LAG_S + 900)
        conn = sqlite3.connect(cache.path)
        conn.execute(  # aq-2's raw samples pruned, aq-1's still there
            "DELETE FROM samples WHERE series = (SELECT id FROM series WHERE entity_id = 'aq-2')"
        )
        conn.commit()
        found = history.values_at(conn, "pm25", [T0 + 1195])
        conn.close()
    assert found[T0 + 1195] == {"aq-1": (T0 + 1190, 1.0), "aq-2": (T0 + 590, 59.0)}
