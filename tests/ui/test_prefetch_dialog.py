"""The prefetch dialog against a real local tile server and a real tile store: the estimate
follows the fields, the current view fills the box, a run stores every tile, cancel, pause
and resume, failures retried, the tile limit, and errors shown in words."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from services.config import BasemapConfig
from services.tiles.prefetch import ESTIMATED_TILE_BYTES, FETCHERS, PrefetchProgress
from services.tiles.store import TileStore
from services.tiles.xyz import BBox, count_tiles, tiles_in
from tests.helpers.tiles import TileServer
from ui.prefetch_dialog import THREAD_NAME, TILE_LIMIT, PrefetchDialog, ProgressCoalescer

AREA = BBox(112.30, 28.50, 112.42, 28.62)
"""Yiyang's centre: 15 tiles over zooms 10-12, 834 over 10-16."""
RUN_S = 20_000
"""How long a test waits for a run's end (ms)."""


@pytest.fixture
def server() -> Iterator[TileServer]:
    running = TileServer()
    yield running
    running.stop()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "tiles.sqlite3"


def basemaps(server: TileServer) -> list[BasemapConfig]:
    return [
        BasemapConfig("osm", server.url, min_zoom=0, max_zoom=18),
        BasemapConfig("local", "file:///nowhere/yiyang.pmtiles", max_zoom=14),
        BasemapConfig("topo", server.url.replace("{z}", "topo/{z}"), min_zoom=3, max_zoom=12),
    ]


def make_dialog(
    qtbot: QtBot, server: TileServer, store_path: Path, box: BBox | None = AREA
) -> PrefetchDialog:
    dialog = PrefetchDialog(basemaps(server), store_path, lambda: box)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def prefetch_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == THREAD_NAME]


def stored(store_path: Path, name: str) -> int:
    store = TileStore(store_path)
    try:
        return store.tile_set(name).stored
    finally:
        store.close()


def path_of(key: tuple[int, int, int]) -> str:
    return "/{}/{}/{}.png".format(*key)


def test_the_estimate_follows_the_fields(
    qtbot: QtBot, server: TileServer, store_path: Path
) -> None:
    dialog = make_dialog(qtbot, server, store_path)
    assert [dialog.basemap_box.itemText(i) for i in range(dialog.basemap_box.count())] == [
        "osm",
        "topo",
    ]  # a tile file has nothing to fetch
    dialog.zoom_from.setValue(10)
    dialog.zoom_to.setValue(14)
    assert dialog.estimate() == count_tiles(AREA, 10, 14) == 80
    assert dialog.estimate_label.text() == "80 tiles, about 1.6 MB"
    assert dialog.name_edit.text() == "osm 112.3,28.5,112.42,28.62 10-14"
    dialog.zoom_to.setValue(16)
    planned = count_tiles(AREA, 10, 16)
    mb = planned * ESTIMATED_TILE_BYTES / 1e6
    assert dialog.estimate_label.text() == f"{planned} tiles, about {mb:.1f} MB"
    assert dialog.name_edit.text().endswith(" 10-16")
    assert dialog.start_button.isEnabled() and dialog.problem_label.text() == ""

    dialog.west_box.setValue(112.5)  # east of east
    assert dialog.estimate() is None and dialog.estimate_label.text() == "\u2014"
    assert dialog.problem_label.text() == "West must be less than east."
    assert not dialog.start_button.isEnabled()
    dialog.west_box.setValue(112.3)
    dialog.zoom_from.setValue(17)
    assert "zoom level" in dialog.problem_label.text() and not dialog.start_button.isEnabled()

    dialog.name_edit.setText("centre")  # a name of one's own stays when the fields change
    dialog.basemap_box.setCurrentText("topo")
    assert (dialog.zoom_from.minimum(), dialog.zoom_to.maximum()) == (3, 12)
    assert (dialog.zoom_from.value(), dialog.zoom_to.value()) == (12, 12)
    assert dialog.estimate() == count_tiles(AREA, 12, 12)
    assert dialog.name_edit.text() == "centre" and dialog.set_name() == "centre"


def test_use_current_view_fills_the_box(qtbot: QtBot, server: TileServer, store_path: Path) -> None:
    view: list[BBox | None] = [AREA]
    dialog = PrefetchDialog(basemaps(server), store_path, lambda: view[0])
    qtbot.addWidget(dialog)
    assert dialog.box() == AREA  # the view when the dialog opened
    view[0] = BBox(112.123456, 28.1, 112.654321, 28.9)
    qtbot.mouseClick(dialog.view_button, Qt.MouseButton.LeftButton)
    assert (
        dialog.west_box.value(),
        dialog.south_box.value(),
        dialog.east_box.value(),
        dialog.north_box.value(),
    ) == (112.123456, 28.1, 112.654321, 28.9)
    assert dialog.estimate() == count_tiles(view[0], 10, 15)
    view[0] = None
    dialog.use_current_view()
    assert dialog.result_label.text() == "The map shows no area yet."
    assert dialog.box() == BBox(112.123456, 28.1, 112.654321, 28.9)

    dialog.set_box(AREA)  # a rectangle drawn on the map
    assert dialog.box() == AREA

    without_map = PrefetchDialog(basemaps(server), store_path, None)
    qtbot.addWidget(without_map)
    assert not without_map.view_button.isEnabled()
    assert "Choose the area" in without_map.problem_label.text()
    assert not without_map.start_button.isEnabled()


def test_a_run_stores_every_tile(qtbot: QtBot, server: TileServer, store_path: Path) -> None:
    dialog = make_dialog(qtbot, server, store_path)
    dialog.zoom_from.setValue(10)
    dialog.zoom_to.setValue(14)
    name = dialog.set_name()
    with qtbot.waitSignal(dialog.setFinished, timeout=RUN_S) as finished:
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)  # Enter starts
        assert dialog.running and not dialog.start_button.isEnabled()
        assert not dialog.west_box.isEnabled()
    assert finished.args == [name]
    store = TileStore(store_path)
    tile_set = store.tile_set(name)
    assert tile_set.complete and tile_set.stored == 80 and tile_set.basemap == "osm"
    store.close()
    assert sorted(server.requests) == sorted(path_of(key) for key in tiles_in(AREA, 10, 14))
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum() == 80
    assert dialog.progress_bar.text() == "100%"
    assert dialog.status_label.text().startswith("80/80 tiles, 0 failed, ")
    assert dialog.result_label.text().startswith(f"Done: all 80 tiles of {name} stored")
    assert not dialog.running and dialog.start_button.isEnabled()
    assert dialog.retry_button.isHidden()
    qtbot.waitUntil(lambda: not prefetch_threads())

    # the same set again: the dialog says it exists and nothing is fetched twice
    asked = len(server.requests)
    with qtbot.waitSignal(dialog.setFinished, timeout=RUN_S):
        dialog.start()
    assert len(server.requests) == asked
    assert dialog.result_label.text().startswith(
        f"The set {name} exists already (80 of 80 tiles stored)"
    )


def test_cancel_stops_the_run_and_its_thread(
    qtbot: QtBot, server: TileServer, store_path: Path
) -> None:
    server.delay = 0.01
    dialog = make_dialog(qtbot, server, store_path)
    dialog.zoom_from.setValue(10)
    dialog.zoom_to.setValue(16)
    planned = count_tiles(AREA, 10, 16)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.progress_bar.value() > 0, timeout=RUN_S)
    assert [thread.is_alive() for thread in prefetch_threads()] == [True]
    with qtbot.waitSignal(dialog.setFinished, timeout=RUN_S):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        assert dialog.status_label.text().startswith("Cancelling")
    kept = stored(store_path, dialog.set_name())
    assert 0 < kept < planned
    assert dialog.progress_bar.value() == kept
    assert dialog.result_label.text().startswith(f"Cancelled: {kept} of {planned} tiles")
    assert len(server.requests) < planned
    qtbot.waitUntil(lambda: not prefetch_threads())


def test_pause_holds_the_run_and_resume_finishes_it(
    qtbot: QtBot, server: TileServer, store_path: Path
) -> None:
    server.delay = 0.01
    dialog = make_dialog(qtbot, server, store_path)
    dialog.zoom_from.setValue(10)
    dialog.zoom_to.setValue(16)
    name = dialog.set_name()
    planned = count_tiles(AREA, 10, 16)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.progress_bar.value() > 0, timeout=RUN_S)
    qtbot.mouseClick(dialog.pause_button, Qt.MouseButton.LeftButton)
    asked = len(server.requests)
    assert dialog.pause_button.text() == "&Resume"
    # the tiles in flight land, then the bar shows what the store holds and stays there
    qtbot.waitUntil(lambda: dialog.progress_bar.value() == stored(store_path, name))
    held = dialog.progress_bar.value()
    qtbot.wait(400)
    assert dialog.progress_bar.value() == stored(store_path, name) == held < planned
    # only tiles asked for already were fetched (unpaused: about 200 more in that time)
    assert len(server.requests) - asked <= 3 * FETCHERS
    assert dialog.status_label.text().startswith("Paused: ")
    server.delay = 0.0
    with qtbot.waitSignal(dialog.setFinished, timeout=RUN_S):
        qtbot.mouseClick(dialog.pause_button, Qt.MouseButton.LeftButton)
        assert dialog.pause_button.text() == "&Pause"
    assert stored(store_path, name) == planned
    assert dialog.progress_bar.value() == planned and dialog.progress_bar.text() == "100%"
    assert len(server.requests) == planned  # nothing fetched twice
    qtbot.waitUntil(lambda: not prefetch_threads())


def test_failed_tiles_are_shown_and_retried(
    qtbot: QtBot, server: TileServer, store_path: Path
) -> None:
    dialog = make_dialog(qtbot, server, store_path)
    dialog.zoom_from.setValue(10)
    dialog.zoom_to.setValue(14)
    name = dialog.set_name()
    bad = list(tiles_in(AREA, 14, 14))[:3]
    server.failing = {path_of(key) for key in bad}
    with qtbot.waitSignal(dialog.setFinished, timeout=RUN_S):
        dialog.start()
    assert dialog.status_label.text().startswith("77/80 tiles, 3 failed, ")
    assert dialog.result_label.text().startswith(
        "3 tiles could not be fetched (for example: HTTP 503); 77 of 80 tiles"
    )
    assert dialog.retry_button.isVisible() and dialog.retry_button.isDefault()
    assert stored(store_path, name) == 77

    server.failing = set()
    dialog.name_edit.setText("something else")  # the retry is of the set that failed
    asked = len(server.requests)
    with qtbot.waitSignal(dialog.setFinished, timeout=RUN_S) as finished:
        qtbot.mouseClick(dialog.retry_button, Qt.MouseButton.LeftButton)
    assert finished.args == [name]
    assert sorted(server.requests[asked:]) == sorted(path_of(key) for key in bad)
    assert stored(store_path, name) == 80
    assert (
        dialog.result_label.text().startswith("Fetching again the 3 tiles")
        and "Done: all 80 tiles" in dialog.result_label.text()
    )
    assert dialog.retry_button.isHidden()
    store = TileStore(store_path)
    assert store.failures(name) == [] and [s.name for s in store.sets()] == [name]
    store.close()


def test_above_the_tile_limit_start_is_refused(
    qtbot: QtBot, server: TileServer, store_path: Path
) -> None:
    dialog = make_dialog(qtbot, server, store_path, BBox(111.0, 27.5, 113.5, 29.5))
    dialog.zoom_from.setValue(10)
    dialog.zoom_to.setValue(15)
    assert dialog.start_button.isEnabled()
    dialog.zoom_to.setValue(16)
    planned = count_tiles(dialog.box() or AREA, 10, 16)
    assert planned > TILE_LIMIT
    assert dialog.estimate_label.text().startswith(f"{planned:,} tiles, about ")
    assert not dialog.start_button.isEnabled()
    assert dialog.problem_label.text().startswith("More than 200,000 tiles: choose a smaller")
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    dialog.start()
    assert not dialog.running and not prefetch_threads() and server.requests == []


def test_problems_are_said_in_words(qtbot: QtBot, server: TileServer, tmp_path: Path) -> None:
    files_only = PrefetchDialog(
        [BasemapConfig("local", "file:///nowhere/yiyang.pmtiles")], tmp_path / "t.sqlite3"
    )
    qtbot.addWidget(files_only)
    assert files_only.basemap_box.count() == 0 and not files_only.start_button.isEnabled()
    assert files_only.problem_label.text().startswith("No base map with a tile server")

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    dialog = make_dialog(qtbot, server, blocker / "tiles.sqlite3")
    dialog.zoom_to.setValue(12)
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=RUN_S)
    assert dialog.result_label.text().startswith(
        f"Nothing was fetched: cannot open the tile store {blocker / 'tiles.sqlite3'}: "
    )
    assert server.requests == [] and dialog.start_button.isEnabled()


def test_a_network_failure_counts_tiles_as_failed(
    qtbot: QtBot, server: TileServer, store_path: Path
) -> None:
    server.stop()  # nobody answers on its port any more
    dialog = make_dialog(qtbot, server, store_path)
    dialog.zoom_to.setValue(12)
    with qtbot.waitSignal(dialog.setFinished, timeout=RUN_S):
        dialog.start()
    assert dialog.status_label.text().startswith("0/15 tiles, 15 failed")
    assert "15 tiles could not be fetched (for example: ConnectionError" in (
        dialog.result_label.text()
    )
    assert dialog.retry_button.isVisible()


def test_escape_cancels_and_closes(qtbot: QtBot, server: TileServer, store_path: Path) -> None:
    server.delay = 0.01
    dialog = make_dialog(qtbot, server, store_path)
    dialog.zoom_to.setValue(16)
    name = dialog.set_name()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.progress_bar.value() > 0, timeout=RUN_S)
    with qtbot.waitSignal(dialog.setFinished, timeout=RUN_S) as finished:
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        assert not dialog.isVisible()
        assert not prefetch_threads()  # the thread ended before the dialog closed
    assert finished.args == [name]
    assert 0 < stored(store_path, name) < count_tiles(AREA, 10, 16)


def test_progress_is_coalesced_to_ten_a_second() -> None:
    now = [0.0]
    sent: list[PrefetchProgress] = []
    coalescer = ProgressCoalescer(sent.append, 0.1, lambda: now[0])

    def progress(stored: int) -> PrefetchProgress:
        return PrefetchProgress(1000, stored, 0, stored * 100, now[0])

    for stored in range(0, 500, 10):  # 50 progresses in 50 ms
        coalescer.put(progress(stored))
        now[0] += 0.001
    assert [p.stored for p in sent] == [0]
    coalescer.flush()  # too early: held
    assert len(sent) == 1
    now[0] = 0.1
    coalescer.flush()  # the newest held one, once
    coalescer.flush()
    assert [p.stored for p in sent] == [0, 490]
    coalescer.put(progress(500))
    coalescer.drop()  # superseded by the run's end
    now[0] = 1.0
    coalescer.flush()
    assert [p.stored for p in sent] == [0, 490]
    coalescer.put(progress(600))
    assert [p.stored for p in sent] == [0, 490, 600]
