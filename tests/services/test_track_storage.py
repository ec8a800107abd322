"""Vehicle tracks kept in the offline cache: stored as they are made, read back by time,
pruned with the raw readings, and back on the map after a restart."""

from __future__ import annotations

import json
from pathlib import Path

from services.config import AppConfig, FeedConfig
from services.ingest.cache_writer import CacheWriter
from services.ingest.pipeline import IngestPipeline
from services.limits import CACHE_BACKLOG_POSITIONS, TRACK_POINTS, TRACK_SPACING_S
from services.messages import RawMessage
from services.model import Reading
from services.store.cache import TRIM_SPAN_S, OfflineCache

DAY_S = 86_400.0
CONFIG = AppConfig(
    source="test",
    feeds=(FeedConfig(name="buses", topic="yiyang/bus/#", domain="transport"),),
)


def report(bus: str, lat: float, lon: float, at: float) -> RawMessage:
    payload = json.dumps({"id": bus, "lat": lat, "lon": lon, "speed": 30, "ts": at}).encode()
    return RawMessage("buses", f"yiyang/bus/{bus}", payload, at)


def test_points_are_stored_replaced_by_time_and_read_with_the_one_before(
    cache_dir: Path,
) -> None:
    with OfflineCache(cache_dir) as cache:
        cache.write_batch(
            [],
            [],
            [],
            positions=[
                ("bus-1", 100.0, 28.50, 112.30),
                ("bus-1", 110.0, 28.51, 112.30),
                ("bus-2", 105.0, 28.60, 112.40),
                ("bus-1", 120.0, 28.52, 112.30),
            ],
        )
        cache.write_batch([], [], [], positions=[("bus-1", 120.0, 28.53, 112.31)])  # moved on
        assert cache.count("positions") == 4
        tracks = cache.positions(since=108.0)
        assert list(tracks) == ["bus-1"]  # bus-2 did not move in the window
        assert tracks["bus-1"] == [
            (100.0, 28.50, 112.30),  # where it was when the window began
            (110.0, 28.51, 112.30),
            (120.0, 28.53, 112.31),
        ]
        assert cache.positions(since=100.0, until=106.0) == {
            "bus-1": [(100.0, 28.50, 112.30)],
            "bus-2": [(105.0, 28.60, 112.40)],
        }
        assert list(cache.positions(since=0.0)) == ["bus-2", "bus-1"]  # most recent last


def test_points_leave_with_the_raw_readings(cache_dir: Path) -> None:
    now = 1_800_000_000.0
    with OfflineCache(cache_dir, retention_days=2.0) as cache:
        cache.write_batch(
            [],
            [],
            [],
            positions=[("bus-1", now - 3 * DAY_S, 28.5, 112.3), ("bus-1", now - 60, 28.6, 112.3)],
        )
        cache.prune(now)
        assert cache.positions(since=0.0) == {"bus-1": [(now - 60, 28.6, 112.3)]}


def test_over_the_disk_budget_points_go_with_the_raw_readings_of_their_time(
    cache_dir: Path,
) -> None:
    start = 1_800_000_000.0
    with OfflineCache(cache_dir, retention_days=3650) as cache:
        for hour in range(4):  # four hours of 50 stations and 50 buses, every 10 s
            times = [start + hour * 3600 + n * 10 for n in range(360)]
            cache.write_batch(
                [Reading(f"aq-{k}", "pm25", 1.0, ts, "air") for ts in times for k in range(50)],
                [],
                [],
                positions=[
                    (f"bus-{k}", ts, 28.5, 112.3 + ts * 1e-9) for ts in times for k in range(50)
                ],
            )
        full = cache.used_bytes()
        cache.max_bytes = full // 2
        assert cache.trim_to_budget() > 0
        assert cache.used_bytes() <= full // 2
        oldest_reading = min(r.ts for r in cache.query_readings())
        points = cache.positions(since=0.0)["bus-0"]
        # The points older than the readings kept went (but for the last step's span); the
        # newest stayed.
        assert oldest_reading - TRIM_SPAN_S <= points[0][0] <= oldest_reading
        assert points[-1][0] == start + 3 * 3600 + 359 * 10
        cache.max_bytes = 1  # no reading left to trim: then the points go too
        cache.trim_to_budget()
        assert cache.count("readings") == 0
        assert cache.count("positions") == 0


def test_a_restarted_pipeline_draws_the_tracks_of_the_last_hour(cache_dir: Path) -> None:
    start = 1_800_000_000.0
    with OfflineCache(cache_dir) as cache:
        first = IngestPipeline(CONFIG, cache, flush_interval=0.0, clock=lambda: start + 600)
        for step in range(6):
            at = start + step * TRACK_SPACING_S
            first.process_batch([report("bus-7", 28.50 + step * 0.001, 112.30, at)])
            first.process_batch([report("depot", 28.40, 112.20, at)])  # parked
        first.process_batch([report("bus-7", 28.51, 112.31, start + 51)])  # follows it
        first.stop()
        live = first.hub.tracks(since=0.0)
    assert list(live) == ["bus-7"]
    with OfflineCache(cache_dir) as cache:
        second = IngestPipeline(CONFIG, cache, clock=lambda: start + 600)
        second.restore_from_cache()
        assert second.hub.tracks(since=0.0) == live
        second.stop()
    # An hour later the track is too old to be drawn again.
    later = start + 60 + TRACK_POINTS * TRACK_SPACING_S
    with OfflineCache(cache_dir) as cache:
        third = IngestPipeline(CONFIG, cache, clock=lambda: later)
        third.restore_from_cache()
        assert third.hub.tracks(since=0.0) == {}
        third.stop()


def test_waiting_points_are_bounded_the_oldest_going_first(cache_dir: Path) -> None:
    with OfflineCache(cache_dir) as cache:
        writer = CacheWriter(cache, flush_interval=3600.0)  # nothing written meanwhile
        extra = 10
        writer.add(
            positions=[
                ("bus-1", float(n), 28.5, 112.3) for n in range(CACHE_BACKLOG_POSITIONS + extra)
            ]
        )
        writer.flush(force=True)
        assert cache.count("positions") == CACHE_BACKLOG_POSITIONS
        (track,) = cache.positions(since=0.0).values()
        assert track[0][0] == float(extra)  # the oldest went
