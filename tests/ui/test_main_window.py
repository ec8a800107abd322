"""The main window over a real ingest pipeline and cache (no broker needed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from services.auth.roles import Principal, Role
from services.config import AppConfig, FeedConfig, GeofenceConfig, KpiConfig, RuleConfig
from services.ingest.pipeline import IngestPipeline
from services.messages import ConnectionEvent, RawMessage
from services.model import AlarmState, CacheHealth, CacheState, Delta, FeedState, TimelineEntry
from services.store.cache import CacheError, OfflineCache
from ui.bridge import DeltaBridge
from ui.main_window import MainWindow
from widgets.alarm_model import Column

TESTER = Principal("tester", Role.OPERATOR, "ws-test")
CONFIG = AppConfig(
    source="test",
    demo=True,
    feeds=(FeedConfig(name="air", topic="a/#", domain="environment"),),
    rules=(RuleConfig(metric="pm25", high=75, high_high=150),),
    kpis=(KpiConfig(name="Mean PM2.5", metric="pm25", maximum=250, warn=75, alarm=150),),
)


def message(entity: str, pm25: float, ts: float) -> RawMessage:
    payload = {"id": entity, "lat": 28.57, "lon": 112.36, "pm25": pm25, "ts": ts}
    return RawMessage("air", f"a/{entity}", json.dumps(payload).encode(), ts)


@pytest.fixture
def pipeline(cache_dir: Path) -> Iterator[IngestPipeline]:
    cache = OfflineCache(cache_dir)
    pipe = IngestPipeline(CONFIG, cache, flush_interval=0.0)
    yield pipe
    pipe.stop()
    cache.close()


@pytest.fixture
def window(qtbot: QtBot, pipeline: IngestPipeline) -> MainWindow:
    win = MainWindow(CONFIG, acknowledge=lambda ids, note: pipeline.acknowledge(ids, TESTER, note))
    qtbot.addWidget(win)
    return win


def test_delta_fills_alarm_list_gauge_and_status(
    qtbot: QtBot, window: MainWindow, pipeline: IngestPipeline
) -> None:
    bridge = DeltaBridge(pipeline.take_delta, parent=window)
    bridge.deltaReady.connect(window.apply_delta)
    pipeline.process_batch(
        [
            ConnectionEvent("mqtt://h:1", FeedState.CONNECTED, ("air",)),
            message("s1", 100, 1),
            message("s2", 50, 1),
        ]
    )
    with qtbot.waitSignal(bridge.deltaReady, timeout=2000):
        bridge.tick()
    model = window.alarm_view.model
    assert model.rowCount() == 1
    assert model.alarm_at(0).entity_id == "s1"
    window.refresh_kpis()
    assert window.gauges["Mean PM2.5"].value() == pytest.approx(75.0)
    assert not window.gauges["Mean PM2.5"].is_stale()
    assert "connected" in window.broker_label.text()
    assert window.findChild(type(window.broker_label), "demoBanner") is not None


def test_acknowledge_is_saved_before_the_list_changes(
    qtbot: QtBot, window: MainWindow, pipeline: IngestPipeline, cache_dir: Path
) -> None:
    pipeline.process_batch([message("s1", 100, 1)])
    window.apply_delta(pipeline.take_delta())
    alarm_id = window.alarm_view.model.alarm_at(0).id
    window.acknowledge_alarms([alarm_id])
    with OfflineCache(cache_dir) as reader:  # stored before any view hears of it
        assert [action.alarm_id for action in reader.query_actions()] == [alarm_id]
    assert window.alarm_view.model.alarm_at(0).state is AlarmState.UNACKNOWLEDGED
    window.apply_delta(pipeline.take_delta())
    assert window.alarm_view.model.alarm_at(0).state is AlarmState.ACKNOWLEDGED
    assert "Acknowledged 1 alarm(s)" in window.statusBar().currentMessage()


def test_a_note_given_in_the_list_reaches_the_audit_trail(
    qtbot: QtBot, window: MainWindow, pipeline: IngestPipeline, cache_dir: Path
) -> None:
    pipeline.process_batch([message("s1", 100, 1)])
    window.apply_delta(pipeline.take_delta())
    view = window.alarm_view
    view.select_alarm(view.model.alarm_at(0).id)
    view.ask_note = lambda count: "checked the sensor"
    view.acknowledge_note_action.trigger()
    with OfflineCache(cache_dir) as reader:
        assert [entry.note for entry in reader.audit_entries()] == ["checked the sensor"]


def test_ctrl_k_in_the_alarm_list_acknowledges_selection(
    qtbot: QtBot, window: MainWindow, pipeline: IngestPipeline
) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    pipeline.process_batch([message("s1", 100, 1), message("s2", 200, 1)])
    window.apply_delta(pipeline.take_delta())
    table = window.alarm_view.table
    table.selectAll()
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    window.apply_delta(pipeline.take_delta())
    model = window.alarm_view.model
    qtbot.waitUntil(
        lambda: all(
            model.alarm_at(row).state is AlarmState.ACKNOWLEDGED for row in range(model.rowCount())
        )
    )
    assert model.rowCount() == 3


def test_restored_state_is_marked_stale(window: MainWindow) -> None:
    window.show_restored(12)
    assert window.freshness_label.text() == "NOT LIVE"
    assert window.banner.line("live") == (
        "NOT LIVE — showing the last known state from the cache (12 entities)"
    )
    assert window.gauges["Mean PM2.5"].is_stale()


def test_not_live_banner_follows_the_broker_and_the_feeds(
    window: MainWindow, pipeline: IngestPipeline
) -> None:
    window.show_restored(1)
    pipeline.process_batch(
        [ConnectionEvent("mqtt://h:1", FeedState.CONNECTED, ("air",)), message("s1", 50, 1)]
    )
    window.apply_delta(pipeline.take_delta())
    window.refresh_kpis()
    assert window.banner.line("live") is None
    assert window.freshness_label.text() == "Live"
    assert not window.gauges["Mean PM2.5"].is_stale()
    pipeline.process_batch([ConnectionEvent("mqtt://h:1", FeedState.DOWN, ("air",), "lost")])
    window.apply_delta(pipeline.take_delta())
    line = window.banner.line("live")
    assert line is not None
    assert line.startswith("NOT LIVE — broker mqtt://h:1 down since ")
    assert line.endswith("; 1 feed cut off")
    assert window.gauges["Mean PM2.5"].is_stale()
    pipeline.process_batch([ConnectionEvent("mqtt://h:1", FeedState.CONNECTED, ("air",))])
    window.apply_delta(pipeline.take_delta())
    assert window.banner.line("live") is None


def test_feed_health_tab_shows_failing_feed_and_its_dead_letters(
    qtbot: QtBot, pipeline: IngestPipeline
) -> None:
    window = MainWindow(
        CONFIG,
        acknowledge=lambda ids, note: pipeline.acknowledge(ids, TESTER, note),
    )
    qtbot.addWidget(window)
    pipeline.process_batch(
        [
            ConnectionEvent("mqtt://h:1", FeedState.CONNECTED, ("air",)),
            RawMessage("air", "a/x", b"<not json>", 1.0),
        ]
    )
    window.apply_delta(pipeline.take_delta())
    panel = window.feed_panel
    assert panel.model.feed("air") is not None
    assert panel.model.feed("air").errors == 1  # type: ignore[union-attr]
    assert panel.select_feed("air")
    letters = panel.model.dead_letters("air")
    assert [letter.payload_excerpt for letter in letters] == ["<not json>"]
    assert "Feeds: 1/1 ok" in window.feeds_label.text()


def test_clicking_a_station_shows_its_trend_with_rule_thresholds(
    qtbot: QtBot, pipeline: IngestPipeline
) -> None:
    window = MainWindow(
        CONFIG,
        acknowledge=lambda ids, note: pipeline.acknowledge(ids, TESTER, note),
        history=pipeline.hub.series,
    )
    qtbot.addWidget(window)
    pipeline.process_batch([message("s1", value, ts) for ts, value in enumerate((40, 90, 60), 1)])
    window.apply_delta(pipeline.take_delta())
    window.map_view.entityClicked.emit("s1")
    assert window.details.entity_id() == "s1"
    assert window.details.metric_row("pm25")["Value"] == "60.0"
    assert window.details.metric_row("pm25")["Limits"] == "H 75.0 · HH 150"
    sparkline = window.details.sparkline("pm25")
    assert sparkline is not None
    assert window.trend.entity_id() == "s1"
    assert window.trend.metrics() == ["pm25"]
    window.trend.set_selected_metric("pm25")
    assert window.trend.visible_thresholds() == {"warn": 75.0, "alarm": 150.0}
    qtbot.waitUntil(lambda: window.trend.point_count("pm25") == 3, timeout=3000)


def test_cache_trouble_is_on_the_banner_until_it_clears(window: MainWindow) -> None:
    window.show()
    assert not window.banner.isVisible()
    window.apply_delta(
        Delta(
            cache=CacheHealth(
                CacheState.DEGRADED,
                "database or disk is full",
                since=1_790_000_000.0,
                backlog_readings=1234,
                dropped_readings=5,
            )
        )
    )
    assert window.banner.isVisible()
    (line,) = window.banner.lines()
    assert line.startswith("OFFLINE CACHE NOT WRITABLE since ")
    assert "database or disk is full" in line and "1,234 readings waiting" in line
    assert "5 dropped" in line
    window.apply_delta(Delta(cache=CacheHealth()))
    assert window.banner.lines() == []
    assert not window.banner.isVisible()
    window.show_cache_recovery("moved aside to /x/cityops.sqlite3.damaged-1")
    assert "damaged-1" in window.banner.lines()[0]


def test_stale_entities_are_marked_in_the_alarm_list_and_the_trend(
    window: MainWindow, pipeline: IngestPipeline
) -> None:
    pipeline.process_batch(
        [ConnectionEvent("mqtt://h:1", FeedState.CONNECTED, ("air",)), message("s1", 100, 1)]
    )
    window.apply_delta(pipeline.take_delta())
    window.show_trend(window.entities["s1"])
    model = window.alarm_view.model
    assert not model.is_stale("s1")
    assert window.trend.stale_text() == ""
    pipeline.process_batch([ConnectionEvent("mqtt://h:1", FeedState.DOWN, ("air",), "lost")])
    pipeline.housekeeping(force=True)
    window.apply_delta(pipeline.take_delta())
    assert model.is_stale("s1")
    assert model.index(0, Column.VALUE).data().endswith("(stale)")
    assert window.trend.stale_text().startswith("STALE · last update ")


def test_selecting_an_alarm_shows_its_rules_guidance_in_the_details(qtbot: QtBot) -> None:
    rule = RuleConfig(metric="pm25", high=75, guidance="Send the patrol to check the station")
    config = AppConfig(source="test", feeds=CONFIG.feeds, rules=(rule,))
    pipe = IngestPipeline(config, None)
    window = MainWindow(config, acknowledge=lambda ids, note: None)
    qtbot.addWidget(window)
    pipe.process_batch([message("aq-1", 90.0, 100.0), message("aq-2", 20.0, 100.0)])
    window.apply_delta(pipe.take_delta())
    window.alarm_view.select_alarm("aq-1|pm25|high")
    alarms = window.details.alarms
    shown = [alarms.item(row).text() for row in range(alarms.count())]
    assert window.details.entity_id() == "aq-1"
    assert any("Send the patrol to check the station" in line for line in shown)


def test_a_geofence_alarm_shows_its_geofences_guidance_in_the_details(qtbot: QtBot) -> None:
    square = ((112.3, 28.5), (112.4, 28.5), (112.4, 28.6), (112.3, 28.6), (112.3, 28.5))
    fence = GeofenceConfig(name="pm25", polygons=((square,),), guidance="Ask who moved it")
    rule = RuleConfig(metric="pm25", high=75, guidance="Send the patrol to check the station")
    config = AppConfig(source="test", feeds=CONFIG.feeds, rules=(rule,), geofences=(fence,))
    pipe = IngestPipeline(config, None)
    window = MainWindow(config, acknowledge=lambda ids, note: None)
    qtbot.addWidget(window)
    pipe.process_batch([message("aq-1", 20.0, 100.0)])
    window.apply_delta(pipe.take_delta())
    window.alarm_view.select_alarm("aq-1|pm25|geofence")
    alarms = window.details.alarms
    shown = [alarms.item(row).text() for row in range(alarms.count())]
    assert any("Ask who moved it" in line for line in shown)
    assert not any("Send the patrol" in line for line in shown)  # the rule of metric pm25


def test_shelving_from_the_list_goes_through_the_services_and_shows_until_when(
    qtbot: QtBot, pipeline: IngestPipeline
) -> None:
    window = MainWindow(
        CONFIG,
        acknowledge=lambda ids, note: pipeline.acknowledge(ids, TESTER, note),
        shelve=lambda ids, duration, why: pipeline.shelve(ids, TESTER, duration, why),
        unshelve=lambda ids: pipeline.unshelve(ids, TESTER),
    )
    qtbot.addWidget(window)
    pipeline.process_batch([message("s1", 160, 1)])  # high_high: priority 2, at most 4 h
    window.apply_delta(pipeline.take_delta())
    view = window.alarm_view
    view.select_alarm("s1|pm25|high_high")
    view.ask_shelve = lambda count: (8 * 3600.0, "too long")
    view.shelve_action.trigger()
    window.apply_delta(pipeline.take_delta())
    assert view.model.alarm("s1|pm25|high_high").state is AlarmState.UNACKNOWLEDGED
    refused = window.findChildren(QMessageBox)
    assert any("at most 240 min" in box.text() for box in refused)

    view.ask_shelve = lambda count: (None, "sensor swap")
    view.shelve_action.trigger()
    window.apply_delta(pipeline.take_delta())
    shelved = view.model.alarm("s1|pm25|high_high")
    assert shelved.state is AlarmState.SHELVED and shelved.shelve_note == "sensor swap"
    assert "Shelved 1 alarm(s)" in window.statusBar().currentMessage()
    view.unshelve_action.trigger()
    window.apply_delta(pipeline.take_delta())
    assert view.model.alarm("s1|pm25|high_high").state is AlarmState.UNACKNOWLEDGED


def test_comment_assign_and_an_ack_someone_else_made_first(
    qtbot: QtBot, pipeline: IngestPipeline
) -> None:
    win = MainWindow(
        CONFIG,
        acknowledge=lambda ids, note: pipeline.acknowledge(ids, TESTER, note),
        comment=lambda ids, text: pipeline.comment(ids, TESTER, text),
        assign=lambda ids, person: pipeline.assign(ids, TESTER, person),
    )
    qtbot.addWidget(win)
    pipeline.process_batch([message("s1", 100, 1)])
    win.apply_delta(pipeline.take_delta())
    key = "s1|pm25|high"
    win.comment_alarms([key], "crew on site")
    win.apply_delta(pipeline.take_delta())
    assert win.statusBar().currentMessage() == "Comment added to 1 alarm(s)"
    win.assign_alarms([key], "li.wei")
    win.apply_delta(pipeline.take_delta())
    row = win.alarm_view.model.row_of(key)
    model = win.alarm_view.model
    assert model.data(model.index(row, Column.ASSIGNEE)) == "li.wei"
    assert model.data(model.index(row, Column.NOTES)) == "1"

    # Another operator acknowledged it meanwhile: the tester is told who, not left guessing.
    pipeline.acknowledge([key], Principal("wang.fang", Role.OPERATOR, "ws-2"))
    win.acknowledge_alarms([key])
    win.apply_delta(pipeline.take_delta())
    assert win.statusBar().currentMessage() == (
        "Acknowledged 0 alarm(s); 1 already acknowledged by wang.fang"
    )


def test_out_of_service_is_for_supervisors_and_comes_back(
    qtbot: QtBot, pipeline: IngestPipeline
) -> None:
    who = [TESTER]
    win = MainWindow(
        CONFIG,
        acknowledge=lambda ids, note: pipeline.acknowledge(ids, who[0], note),
        out_of_service=lambda ids, reason: pipeline.remove_from_service(ids, who[0], reason),
        in_service=lambda ids: pipeline.return_to_service(ids, who[0]),
    )
    qtbot.addWidget(win)
    pipeline.process_batch([message("s1", 100, 1)])
    win.apply_delta(pipeline.take_delta())
    key = "s1|pm25|high"
    view = win.alarm_view
    view.select_alarm(key)
    assert view.out_of_service_action.isEnabled() and not view.in_service_action.isEnabled()
    view.ask_service_reason = lambda count: "sensor being replaced"
    view.out_of_service_action.trigger()  # an operator: the window says why not
    assert "needs the supervisor role" in win.statusBar().currentMessage()
    assert not pipeline.take_delta().action_results

    supervisor = Principal("zhang.min", Role.SUPERVISOR, "ws-sup")
    who[0] = supervisor
    win.set_principal(supervisor)
    view.out_of_service_action.trigger()
    win.apply_delta(pipeline.take_delta())
    model = view.model
    row = model.row_of(key)
    assert model.alarm_at(row).state is AlarmState.OUT_OF_SERVICE
    assert model.data(model.index(row, Column.STATE)) == "Out of service"
    assert "zhang.min" in model.data(model.index(row, Column.SHELVED_UNTIL))
    assert pipeline.alarms.worst_active_severity("s1") is None  # not announced, not coloured
    view.select_alarm(key)
    assert view.in_service_action.isEnabled()
    view.in_service_action.trigger()
    win.apply_delta(pipeline.take_delta())
    assert model.alarm_at(model.row_of(key)).state is AlarmState.UNACKNOWLEDGED
    assert win.statusBar().currentMessage() == "1 alarm(s) back in service"
    view.select_alarm(key)
    win.return_to_service([key])  # someone did it meanwhile: said, not silently nothing
    win.apply_delta(pipeline.take_delta())
    assert win.statusBar().currentMessage() == (
        "0 alarm(s) back in service; 1 left as they were (changed meanwhile, or not in a state"
        " for it)"
    )


def test_the_map_hears_only_of_changed_markers_and_at_most_a_refresh_limit_at_a_time(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flood of entity changes reaches the map in slices (the window stays responsive),
    and a change the marker does not show (a new update time) is not sent at all."""
    from dataclasses import replace

    from services.model import Entity, Severity
    from ui.main_window import MAP_REFRESH_LIMIT

    window = MainWindow(CONFIG, acknowledge=lambda ids, note: None)
    qtbot.addWidget(window)
    sent: list[list[str]] = []
    real_apply = window.map_view.apply_entities
    monkeypatch.setattr(
        window.map_view,
        "apply_entities",
        lambda entities, values=None: (sent.append([e.id for e in entities]), real_apply(entities)),
    )
    total = MAP_REFRESH_LIMIT + 500
    city = {
        f"aq-{n}": Entity(f"aq-{n}", f"Station {n}", lat=28.5, lon=112.3 + n * 1e-5)
        for n in range(total)
    }
    window.apply_delta(Delta(entities=dict(city)))
    for _ in range(3):
        window.refresh_map(MAP_REFRESH_LIMIT)  # as the window's timer does
    assert [len(batch) for batch in sent] == [MAP_REFRESH_LIMIT, 500]
    assert len({key for batch in sent for key in batch}) == total
    sent.clear()
    later = {key: replace(entity, updated_at=99.0) for key, entity in city.items()}
    later["aq-7"] = replace(later["aq-7"], worst_severity=Severity.HIGH)
    window.apply_delta(Delta(entities=later))
    window.refresh_map()  # unlimited: a replayed moment is shown whole
    assert sent == [["aq-7"]]
    assert window.entities["aq-1"].updated_at == 99.0  # the window itself knows it
    sent.clear()
    moved = {key: replace(entity, lat=28.6) for key, entity in later.items()}
    window.apply_delta(Delta(entities=moved))
    window.refresh_map()
    assert [len(batch) for batch in sent] == [total]  # unlimited: all at once


def test_the_restored_city_goes_to_the_map_at_once(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.model import Entity
    from ui.main_window import MAP_REFRESH_LIMIT

    window = MainWindow(CONFIG, acknowledge=lambda ids, note: None)
    qtbot.addWidget(window)
    sent: list[int] = []
    monkeypatch.setattr(
        window.map_view, "apply_entities", lambda entities, values=None: sent.append(len(entities))
    )
    total = MAP_REFRESH_LIMIT * 3
    restored = {
        f"s{n}": Entity(f"s{n}", f"S{n}", lat=28.5, lon=112.3, stale=True) for n in range(total)
    }
    window.apply_delta(Delta(entities=restored))
    window.show_restored(total)
    assert sent == [total]


def test_a_journal_that_cannot_be_read_is_empty_and_says_why(qtbot: QtBot) -> None:
    def unreachable(since: float, until: float) -> list[TimelineEntry]:
        raise CacheError("the offline cache is not reachable: the engine process ended")

    window = MainWindow(CONFIG, acknowledge=lambda ids, note: None, journal=unreachable)
    qtbot.addWidget(window)
    window.journal.view.refresh()
    assert window.journal.view.model.rowCount() == 0
    assert "engine process ended" in window.statusBar().currentMessage()


def test_a_selected_station_has_its_series_read_once_for_details_and_trend(
    qtbot: QtBot, pipeline: IngestPipeline
) -> None:
    asked: list[tuple[str, str]] = []

    def history(entity_id: str, metric: str) -> list[tuple[float, float]]:
        asked.append((entity_id, metric))  # with the engine process, a round trip each
        return pipeline.hub.series(entity_id, metric)

    window = MainWindow(CONFIG, acknowledge=lambda ids, note: None, history=history)
    qtbot.addWidget(window)
    pipeline.process_batch([message("s1", value, ts) for ts, value in enumerate((40, 90), 1)])
    window.apply_delta(pipeline.take_delta())
    window.map_view.entityClicked.emit("s1")
    assert window.details.sparkline("pm25") is not None
    assert window.trend.metrics() == ["pm25"]
    assert asked == [("s1", "pm25")]
    asked.clear()
    window.refresh_entity_views()
    assert asked == [("s1", "pm25")]
