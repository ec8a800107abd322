"""The review workspace replays a cache with known history through the same views: the
alarm list, a gauge and a map marker (in the real page) show the state at chosen slider
times; live recording goes on underneath and one action returns to live."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from services.auth.roles import Principal, Role
from services.config import KpiConfig
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.model import AlarmState
from services.store.cache import OfflineCache
from tests.helpers.e2e import run_js
from tests.services.test_state_at import CONFIG, KEY, T0, T1, T2, T3, build_history
from ui.bridge import DeltaBridge
from ui.main_window import MainWindow
from ui.review import ReviewControls, open_replay_source

NOW = T3 + 600.0
ACTOR = Principal("supervisor", Role.SUPERVISOR, "ws-1")
REVIEW_CONFIG = replace(
    CONFIG, kpis=(KpiConfig(name="Worst PM2.5", metric="pm25", aggregate="max", maximum=250),)
)


class Reviewed:
    """A window on a cache with known history, a live pipeline on the same cache, and its
    review controls (the clock says NOW)."""

    def __init__(self, qtbot: QtBot, cache_dir: Path) -> None:
        self.qtbot = qtbot
        build_history(cache_dir)
        self.cache = OfflineCache(cache_dir)
        self.clock = [NOW]
        self.pipeline = IngestPipeline(
            REVIEW_CONFIG, self.cache, clock=lambda: self.clock[0], flush_interval=0.0
        )
        self.window = MainWindow(
            REVIEW_CONFIG, acknowledge=lambda ids, note: self.pipeline.acknowledge(ids, ACTOR, note)
        )
        qtbot.addWidget(self.window)
        self.bridge = DeltaBridge(self.pipeline.take_delta, parent=self.window)
        self.bridge.deltaReady.connect(self.window.apply_delta)
        self.review = ReviewControls(
            self.window,
            self.bridge,
            open_replay_source(self.cache.path, REVIEW_CONFIG.retention_days),
            shifts=("07:00", "19:00"),
            clock=lambda: self.clock[0],
        )
        self.window.review = self.review
        self.window.show()
        qtbot.waitUntil(self.window.map_view.is_ready, timeout=20_000)

    def live(self, entity: str, value: float, ts: float) -> None:
        """A live reading through the pipeline, taken by the bridge at once."""
        self.clock[0] = ts
        payload = json.dumps({"id": entity, "pm25": value, "ts": ts, "lat": 28.5, "lon": 112.3})
        self.pipeline.process_batch([RawMessage("air", f"a/{entity}", payload.encode(), ts)])
        self.pipeline.flush_cache(force=True)
        self.bridge.tick()

    def seek(self, at: float) -> None:
        self.review.seek(at)
        self.wait_shown(at)

    def wait_shown(self, at: float) -> None:
        """Wait until the views show the moment ``at``."""
        self.qtbot.waitUntil(lambda: self.review.shown_at == at, timeout=10_000)

    def listed(self) -> dict[str, AlarmState]:
        return {a.id: a.state for a in self.window.alarm_view.model.alarms()}

    def gauge(self) -> float | None:
        return self.window.gauges["Worst PM2.5"].value()

    def marker(self, entity: str) -> Any:
        """The marker's item in the page (severity, values), None when there is none."""
        expression = (
            f"(() => {{ const m = window.cityops.marker({json.dumps(entity)});"
            " return m ? m.cityops.item : null; })()"
        )
        return run_js(self.qtbot, self.window.map_view, expression)

    def tooltip_value(self, entity: str, metric: str) -> str:
        """The value its map tooltip shows (asked for from the app when it opens)."""
        name = json.dumps(entity)
        marker = f"window.cityops.marker({name})"
        run_js(self.qtbot, self.window.map_view, f"({marker}.openTooltip(), 1)")
        shown: list[str] = []

        def read() -> bool:
            text = run_js(
                self.qtbot,
                self.window.map_view,
                f"(() => {{ const v = window.cityops.marker({name}).cityops.item.values;"
                f" return v ? (v[{json.dumps(metric)}] ?? null) : null; }})()",
            )
            shown[:] = [text] if text else []
            return bool(shown)

        self.qtbot.waitUntil(read, timeout=10_000)
        run_js(self.qtbot, self.window.map_view, f"({marker}.closeTooltip(), 1)")
        return shown[0]

    def close(self) -> None:
        self.bridge.stop()
        self.window.close()
        self.pipeline.stop()
        self.cache.close()


@pytest.fixture
def reviewed(qtbot: QtBot, cache_dir: Path) -> Iterator[Reviewed]:
    setup = Reviewed(qtbot, cache_dir)
    yield setup
    setup.close()


def wait_marker(reviewed: Reviewed, entity: str, check: Any) -> Any:
    """Wait until the page's marker of ``entity`` passes ``check`` (the map is refreshed
    on a timer); returns it."""
    seen: list[Any] = []

    def passes() -> bool:
        seen[:] = [reviewed.marker(entity)]
        return bool(check(seen[0]))

    reviewed.qtbot.waitUntil(passes, timeout=10_000)
    return seen[0]


def test_the_replay_shows_the_alarm_list_gauge_and_marker_at_each_moment(
    reviewed: Reviewed,
) -> None:
    window, review = reviewed.window, reviewed.review
    reviewed.live("aq-1", 55.0, NOW - 5)  # the live city: aq-1 reads 55
    window.refresh_kpis()
    assert reviewed.gauge() == 55.0

    assert review.enter("hour")
    assert review.active and review.bar.isVisible()
    reviewed.wait_shown(review.bar.review_window()[0])  # its start: nothing recorded yet
    assert review.bar.note.text().startswith("Nothing was recorded by this moment")
    assert window.windowTitle().startswith("REPLAY")
    assert window.freshness_label.text() == "REPLAY — not live"

    reviewed.seek(T1 + 10)
    assert review.bar.banner.text().startswith("REPLAY ")
    assert reviewed.listed() == {KEY: AlarmState.UNACKNOWLEDGED}
    assert reviewed.gauge() == 90.0 and not window.gauges["Worst PM2.5"].is_stale()
    marker = wait_marker(reviewed, "aq-1", lambda m: m and m["severity"] is not None)
    assert reviewed.tooltip_value("aq-1", "pm25").startswith("90")
    assert window.alarm_view.model.alarm(KEY).severity.label == marker["severity"]
    assert reviewed.marker("aq-2") is None  # not heard of yet at T1

    # The trend and details of aq-1 show its history up to the moment, read with the moment.
    window.show_details(window.entities["aq-1"])
    window.show_trend(window.entities["aq-1"])
    reviewed.qtbot.waitUntil(lambda: window.trend.point_count("pm25") == 2, timeout=10_000)
    assert window.details.metric_row("pm25")["Value"].startswith("90")

    reviewed.seek(T2 + 10)
    alarm = window.alarm_view.model.alarm(KEY)
    assert alarm is not None
    assert (alarm.state, alarm.acked_by) == (AlarmState.ACKNOWLEDGED, "wang.fang")

    reviewed.seek(T3 + 10)
    assert reviewed.listed() == {}  # cleared after the acknowledgement
    assert reviewed.gauge() == 20.0
    wait_marker(reviewed, "aq-1", lambda m: m and m["severity"] is None)
    wait_marker(reviewed, "aq-2", lambda m: m is not None)
    # aq-2 sits in aq-1's cluster (same place): what its tooltip would ask for
    assert reviewed.window.marker_values("aq-2") == {"pm25": "10.0"}
    assert reviewed.window.marker_values("aq-1") == {"pm25": "20.0"}

    window.show_details(window.entities["aq-2"])
    window.show_trend(window.entities["aq-2"])
    reviewed.seek(T0 + 50)  # back before aq-2 was heard of: its marker goes
    assert reviewed.listed() == {} and reviewed.gauge() == 40.0
    wait_marker(reviewed, "aq-2", lambda m: m is None)
    assert "aq-2" not in window.entities
    # its details and trend say so instead of showing what it read later
    assert window.details.entity_id() is None
    assert window.details.title.text() == "aq-2: not heard of at this moment"
    assert window.trend.entity_id() is None


def test_actions_are_refused_in_a_replay_and_live_recording_goes_on(
    reviewed: Reviewed,
) -> None:
    window, review = reviewed.window, reviewed.review
    reviewed.live("aq-3", 5.0, NOW - 10)
    assert wait_marker(reviewed, "aq-3", lambda m: m is not None)
    assert review.enter("hour")
    reviewed.seek(T1 + 10)
    wait_marker(reviewed, "aq-3", lambda m: m is None)  # not there yet at T1
    window.alarm_view.table.selectRow(0)
    assert not window.alarm_view.acknowledge_button.isEnabled()
    window.acknowledge_alarms([KEY])
    assert "replay" in window.statusBar().currentMessage()
    assert reviewed.cache.query_actions()[-1].user == "wang.fang"  # nothing new stored

    # Live underneath: a new high reading raises an alarm live; the replay is not touched.
    reviewed.live("aq-1", 120.0, NOW - 5)
    assert reviewed.gauge() == 90.0
    assert reviewed.listed() == {KEY: AlarmState.UNACKNOWLEDGED}
    assert "1 live alarm changes" in review.bar.note.text()
    # the health endpoint counts the live alarms, not the replayed ones
    assert [(a.id, a.value) for a in window.live_alarms()] == [(KEY, 120.0)]

    review.leave()  # one action back to live
    assert not review.active and not review.bar.isVisible()
    assert not window.windowTitle().startswith("REPLAY")
    assert reviewed.gauge() == 120.0
    live_alarm = window.alarm_view.model.alarm(KEY)
    assert live_alarm is not None and live_alarm.value == 120.0
    assert reviewed.window.marker_values("aq-1")["pm25"].startswith("120")
    wait_marker(reviewed, "aq-3", lambda m: m is not None)
    assert reviewed.window.marker_values("aq-3") == {"pm25": "5.00"}
    reviewed.live("aq-1", 130.0, NOW + 5)  # live deltas reach the views again
    assert window.values["aq-1"]["pm25"].value == 130.0


def test_step_to_alarms_play_and_jump_from_the_journal(reviewed: Reviewed, qtbot: QtBot) -> None:
    window, review = reviewed.window, reviewed.review
    assert review.enter("hour")
    qtbot.waitUntil(lambda: review.bar.marks.marks() == [T1], timeout=10_000)
    reviewed.seek(T0)
    review.step(1)  # to the raise at T1
    reviewed.wait_shown(T1)
    assert reviewed.listed() == {KEY: AlarmState.UNACKNOWLEDGED}
    review.step(1)
    assert "No later alarm" in window.statusBar().currentMessage()

    review.bar.speed_box.setCurrentIndex(review.bar.speed_box.findData(600.0))
    review.set_playing(True)
    qtbot.waitUntil(lambda: review.bar.time() > T3, timeout=10_000)  # 10 min a second
    qtbot.waitUntil(lambda: reviewed.listed() == {}, timeout=10_000)
    review.set_playing(False)

    # A journal entry jumps the replay a minute before it.
    review.leave()
    window.journal.view.replayRequested.emit(T2)
    reviewed.wait_shown(T2 - 60)
    assert review.active
    assert reviewed.listed() == {KEY: AlarmState.UNACKNOWLEDGED}

    # The alarm list's "Replay from its raise": a minute before the alarm was raised.
    review.leave()
    reviewed.live("aq-1", 120.0, NOW - 5)
    assert window.alarm_view.select_alarm(KEY)
    assert window.alarm_view.replay_action.isVisible()
    window.alarm_view.replay_action.trigger()
    reviewed.wait_shown(NOW - 65)
    assert review.bar.review_window() == (NOW - 5 - 86_400, NOW - 5)  # the last 24 h
    assert reviewed.listed() == {}  # aq-1 read 20 then: normal


def test_review_windows_and_shifts(reviewed: Reviewed) -> None:
    review = reviewed.review
    assert review.window_for("hour") == (NOW - 3600, NOW)
    since, until = review.window_for("shift")
    assert until == NOW and NOW - 12 * 3600 < since <= NOW
    assert review.window_for("day") == (NOW - 86_400, NOW)


def test_a_replay_puts_moving_entities_where_they_were_with_their_tracks_then(
    reviewed: Reviewed,
) -> None:
    """aq-1 is carried about (its stored track points): each replayed moment shows its
    marker where it was then and its track up to then."""
    reviewed.cache.write_batch(
        [],
        [],
        [],
        positions=[
            ("aq-1", T0, 28.50, 112.30),
            ("aq-1", T0 + 60, 28.52, 112.32),
            ("aq-1", T1 + 50, 28.54, 112.34),
        ],
    )
    window, review = reviewed.window, reviewed.review
    window.map_layers.panel.restore({"tracks": True, "trackMinutes": 15})
    assert review.enter("hour")

    def tracks() -> Any:
        return run_js(reviewed.qtbot, window.map_view, "window.cityops.trackInfo()")

    reviewed.seek(T1 + 10)
    marker = wait_marker(reviewed, "aq-1", lambda m: m and m["lat"] == 28.52)
    assert marker["lon"] == 112.32
    reviewed.qtbot.waitUntil(
        lambda: [(t["id"], t["points"]) for t in tracks()] == [("aq-1", 2)], timeout=10_000
    )
    reviewed.seek(T3 + 10)
    wait_marker(reviewed, "aq-1", lambda m: m and m["lat"] == 28.54)
    reviewed.qtbot.waitUntil(
        lambda: [(t["id"], t["points"]) for t in tracks()] == [("aq-1", 3)], timeout=10_000
    )
    # Back to live: the live city has no tracks function here, so none are drawn.
    review.leave()
    reviewed.qtbot.waitUntil(lambda: tracks() == [], timeout=10_000)


def test_tracks_switched_on_during_a_replay_are_read_for_the_moment_shown(
    reviewed: Reviewed,
) -> None:
    reviewed.cache.write_batch(
        [],
        [],
        [],
        positions=[("aq-1", T0, 28.50, 112.30), ("aq-1", T0 + 60, 28.52, 112.32)],
    )
    window, review = reviewed.window, reviewed.review
    assert review.enter("hour")
    reviewed.seek(T1 + 10)  # read without tracks: the layer is off
    window.map_layers.panel.restore({"tracks": True, "trackMinutes": 15})
    reviewed.qtbot.waitUntil(
        lambda: (
            [
                (t["id"], t["points"])
                for t in run_js(reviewed.qtbot, window.map_view, "window.cityops.trackInfo()")
            ]
            == [("aq-1", 2)]
        ),
        timeout=10_000,
    )
