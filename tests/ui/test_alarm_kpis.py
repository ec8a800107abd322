"""The Alarm KPIs dock, its export, the flood banner and the alarm list's saved settings,
over a real ingest pipeline (no broker needed)."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from services.ingest.pipeline import IngestPipeline
from services.messages import ConnectionEvent
from services.model import AlarmSystemKpis, FeedState, Severity
from tests.ui.test_main_window import CONFIG, TESTER, message, pipeline  # noqa: F401
from ui.layouts import LayoutStore
from ui.main_window import MainWindow
from widgets.alarm_kpis_view import RateBand, rate_band
from widgets.alarm_model import AlarmFilter


def make_window(qtbot: QtBot, pipeline: IngestPipeline, store: LayoutStore) -> MainWindow:  # noqa: F811
    win = MainWindow(
        CONFIG, acknowledge=lambda ids, note: pipeline.acknowledge(ids, TESTER, note), layouts=store
    )
    qtbot.addWidget(win)
    return win


def flood_kpis(now: float, flood: bool) -> AlarmSystemKpis:
    return AlarmSystemKpis(
        at=now,
        raises_10min=14 if flood else 3,
        hourly_rate_per_10min=2.5,
        flood=flood,
        flood_since=now - 60 if flood else None,
        active=9,
        top=(("s1|pm25|high", 5),),
        chattering=("s1|pm25|high",),
        by_priority={Severity.LOW: 6, Severity.MEDIUM: 2, Severity.HIGH: 2},
        raises_24h=10,
    )


def test_the_dock_shows_the_figures_of_a_delta(
    qtbot: QtBot,
    pipeline: IngestPipeline,  # noqa: F811
    tmp_path: Path,
) -> None:
    window = make_window(qtbot, pipeline, LayoutStore(tmp_path))
    assert "alarm_kpis" in window.dock_panels.docks
    pipeline.process_batch(
        [
            ConnectionEvent("mqtt://h:1", FeedState.CONNECTED, ("air",)),
            message("s1", 100, 1),
            message("s2", 200, 1),
        ]
    )
    delta = pipeline.take_delta()  # the worker adds its KPIs every 5 s: given here
    kpis = flood_kpis(1_760_000_000.0, flood=False)
    delta.alarm_kpis = kpis
    window.apply_delta(delta)
    view = window.alarm_kpis
    assert view.kpis is kpis
    assert "3 raised" in view.rate_label.text()
    assert "over the manageable rate" in view.rate_label.text()
    assert "2.5 per 10 min" in view.hourly_label.text()
    assert "9 active" in view.counts_label.text()
    assert view.top_table.rowCount() == 1
    assert view.top_table.item(0, 0).text().startswith("s1 · pm25")
    assert view.priority_table.item(0, 2).text() == "60 % (80 %)"
    assert view.priority_table.item(0, 3).text() == "below the guideline"
    assert "s1 · pm25" in view.chattering_label.text()
    assert "no flood" in view.flood_label.text()
    assert rate_band(1) is RateBand.ACCEPTABLE and rate_band(2) is RateBand.MANAGEABLE

    out = tmp_path / "kpis.json"
    assert window.export_alarm_kpis(out)
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["raises_10min"] == 3 and figures["rate_band"] == "over the manageable rate"
    assert figures["top"][0] == {"alarm": "s1|pm25|high", "name": "s1 · pm25 · High", "raises": 5}
    assert figures["priority_distribution"]["low"]["guideline_percent"] == 80.0


def test_the_flood_banner_appears_and_goes(
    qtbot: QtBot,
    pipeline: IngestPipeline,  # noqa: F811
    tmp_path: Path,
) -> None:
    window = make_window(qtbot, pipeline, LayoutStore(tmp_path))
    window.show_alarm_kpis(flood_kpis(1_760_000_000.0, flood=True))
    line = window.banner.line("alarm-flood")
    assert line is not None
    assert line.startswith("ALARM FLOOD since ") and line.endswith("14 alarms in 10 min")
    assert "ALARM FLOOD" in window.alarm_kpis.flood_label.text()
    window.show_alarm_kpis(flood_kpis(1_760_000_600.0, flood=False))
    assert window.banner.line("alarm-flood") is None


def test_presets_and_flashing_are_remembered(
    qtbot: QtBot,
    pipeline: IngestPipeline,  # noqa: F811
    tmp_path: Path,
) -> None:
    store = LayoutStore(tmp_path)
    first = make_window(qtbot, pipeline, store)
    assert first.alarm_view.is_flashing()  # on by default
    view_menu = next(a.menu() for a in first.menu_bar.actions() if a.text() == "&View")
    assert isinstance(view_menu, QMenu)
    assert first.alarm_view.flash_action in view_menu.actions()
    first.alarm_view.flash_action.trigger()  # off
    first.alarm_view.filter_bar.text_box.setText("heshan")
    first.alarm_view.filter_bar.save_preset("Heshan")
    second = make_window(qtbot, pipeline, store)
    assert not second.alarm_view.is_flashing()
    assert second.alarm_view.filter_bar.presets() == {"Heshan": AlarmFilter(text="heshan")}


def test_a_flood_of_500_alarms_through_the_pipeline_shows_the_banner(qtbot: QtBot) -> None:
    """The flood from the worker's own KPIs (the event-loop lag during such a flood is
    measured by ``tests.benchmarks.bench_flood``, not asserted here)."""
    pipe = IngestPipeline(CONFIG, None)
    window = MainWindow(CONFIG, acknowledge=lambda ids, note: None)
    qtbot.addWidget(window)
    now = pipe.clock()
    pipe.process_batch([message(f"aq-{n:03d}", 120.0, now - 10 + n / 50) for n in range(500)])
    pipe.housekeeping(force=True)
    window.apply_delta(pipe.take_delta())
    assert len(window.alarm_view.model.alarms()) == 500
    line = window.banner.line("alarm-flood")
    assert line is not None and "500" in line


def test_the_kpis_mark_chattering_alarms_in_the_list(qtbot: QtBot) -> None:
    pipe = IngestPipeline(CONFIG, None)
    window = MainWindow(CONFIG, acknowledge=lambda ids, note: None)
    qtbot.addWidget(window)
    pipe.process_batch([message("s1", 100.0, 1.0)])
    window.apply_delta(pipe.take_delta())
    window.show_alarm_kpis(flood_kpis(1_760_000_000.0, flood=False))
    assert window.alarm_view.model.is_chattering("s1|pm25|high")
