"""Prefetching a tile set from a local tile server started by the test: every tile stored
with progress, a failing tile recorded and fetched again on a retry, cancel and resume,
nothing fetched twice."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.tiles.prefetch import PrefetchControl, Prefetcher, PrefetchProgress
from services.tiles.store import TileStore
from services.tiles.xyz import BBox, count_tiles, tiles_in
from tests.helpers.tiles import TileServer, tile_body

AREA = BBox(112.30, 28.50, 112.42, 28.62)


@pytest.fixture
def server() -> Iterator[TileServer]:
    running = TileServer()
    yield running
    running.stop()


def test_a_set_is_fetched_with_progress_and_a_failure_retried(
    server: TileServer, tmp_path: Path
) -> None:
    store = TileStore(tmp_path / "tiles.sqlite3")
    planned = count_tiles(AREA, 10, 14)
    store.create_set("yiyang", "osm", AREA, 10, 14)
    bad = list(tiles_in(AREA, 14, 14))[3]
    good = list(tiles_in(AREA, 13, 13))[1]
    server.failing = {"/{}/{}/{}.png".format(*bad)}
    seen: list[PrefetchProgress] = []
    result = Prefetcher(store, server.url).run("yiyang", progress=seen.append)
    assert (result.planned, result.stored, result.failed) == (planned, planned - 1, 1)
    assert seen[-1] == result
    assert all(a.stored <= b.stored for a, b in itertools.pairwise(seen))
    assert store.failures("yiyang") == [(bad, "HTTP 503", 1)]
    data, media = store.get("osm", good) or (b"", "")
    assert data == tile_body("/{}/{}/{}.png".format(*good)) and media == "image/png"

    server.failing = set()
    asked = len(server.requests)
    again = Prefetcher(store, server.url).run("yiyang")  # only what is missing
    assert (again.stored, again.failed) == (planned, 0) and store.tile_set("yiyang").complete
    assert server.requests[asked:] == ["/{}/{}/{}.png".format(*bad)]
    assert store.failures("yiyang") == []


def test_cancel_stops_and_a_second_run_resumes(server: TileServer, tmp_path: Path) -> None:
    store = TileStore(tmp_path / "tiles.sqlite3")
    store.create_set("big", "osm", AREA, 12, 16)
    control = PrefetchControl()

    def cancel_after_some(progress: PrefetchProgress) -> None:
        if progress.stored >= 200:
            control.cancel()

    first = Prefetcher(store, server.url).run("big", control, cancel_after_some)
    assert first.cancelled and 200 <= first.stored < first.planned
    assert store.tile_set("big").stored == first.stored
    second = Prefetcher(store, server.url).run("big")
    assert not second.cancelled and second.stored == second.planned
    assert len(server.requests) == len(set(server.requests))  # nothing fetched twice
    assert len(server.requests) == second.planned


def test_a_paused_prefetch_waits_until_resumed(server: TileServer, tmp_path: Path) -> None:
    store = TileStore(tmp_path / "tiles.sqlite3")
    store.create_set("small", "osm", AREA, 10, 12)
    control = PrefetchControl()
    control.pause()
    done: list[PrefetchProgress] = []
    runner = threading.Thread(
        target=lambda: done.append(Prefetcher(store, server.url).run("small", control))
    )
    runner.start()
    runner.join(0.5)
    assert runner.is_alive() and server.requests == []  # paused before the first tile
    control.resume()
    runner.join(10)
    assert done and done[0].stored == done[0].planned
