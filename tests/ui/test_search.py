"""Search (Ctrl+F), command palette (Ctrl+Shift+P), shortcuts overview (F1), and
acknowledging with Ctrl+K wherever the focus is."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget
from pytestqt.qtbot import QtBot

from services.auth.roles import Principal, Role
from services.config import AppConfig, FeedConfig, RuleConfig
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.model import AlarmState
from ui.main_window import MainWindow
from ui.search_index import HitKind, SearchItem, fold, search

CONFIG = AppConfig(
    source="test",
    feeds=(FeedConfig(name="air", topic="a/#", domain="environment"),),
    rules=(RuleConfig(metric="pm25", high=75),),
)
NAMES = {"aq-01": "赫山区龙岭工业园 AQ 01", "aq-02": "资阳区 AQ 02", "zi-03": "资江 水位 03"}


def item(key: str, *keys: str, kind: HitKind = HitKind.ENTITY) -> SearchItem:
    return SearchItem(kind, key, keys[0], keys)


def test_matching_is_case_and_width_insensitive_and_finds_chinese_substrings() -> None:
    items = [item(key, name, key) for key, name in NAMES.items()]
    assert [hit.key for hit in search("龙岭", items)] == ["aq-01"]
    full_width = "\uff21\uff31 \uff10\uff12"  # "AQ 02" in full-width forms
    assert [hit.key for hit in search(full_width, items)] == ["aq-02"]
    assert [hit.key for hit in search("资", items)] == ["aq-02", "zi-03"]
    assert [hit.key for hit in search("zi-", items)] == ["zi-03"]
    assert search("   ", items) == []
    assert fold("\uff28\uff45\uff53\uff48\uff41\uff4e  \uff21\uff51") == "heshan aq"


def test_prefix_matches_rank_before_substrings() -> None:
    items = [item("b", "Old pump station"), item("a", "Pump Ziyang"), item("c", "xpumpx")]
    assert [hit.key for hit in search("pump", items)] == ["a", "b", "c"]


def make_window(qtbot: QtBot) -> tuple[MainWindow, IngestPipeline]:
    pipeline = IngestPipeline(CONFIG, None)
    who = Principal("li.wei", Role.OPERATOR)
    window = MainWindow(CONFIG, acknowledge=lambda ids, note: pipeline.acknowledge(ids, who, note))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    batch = [
        RawMessage(
            "air",
            "a/x",
            json.dumps({"id": key, "name": name, "pm25": 90, "ts": 5}).encode(),
            5.0,
        )
        for key, name in NAMES.items()
    ]
    pipeline.process_batch(batch)
    window.apply_delta(pipeline.take_delta())
    return window, pipeline


def test_ctrl_f_finds_a_chinese_name_and_enter_shows_the_station(qtbot: QtBot) -> None:
    window, _pipeline = make_window(qtbot)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    popup = window.menus.search
    qtbot.waitUntil(popup.isVisible)
    popup.query.insert("龙岭")  # as an input method commits it (keyClicks is ASCII only)
    shown = popup.shown_items()
    assert [(hit.kind, hit.key) for hit in shown] == [
        (HitKind.ENTITY, "aq-01"),
        (HitKind.ALARM, "aq-01|pm25|high"),
    ]
    qtbot.keyClick(popup.query, Qt.Key.Key_Return)
    assert not popup.isVisible()
    assert window.details.entity_id() == "aq-01"


def test_the_command_palette_runs_menu_actions(qtbot: QtBot) -> None:
    window, _pipeline = make_window(qtbot)
    window.dock_panels.docks["trend"].close()
    qtbot.keyClick(
        window,
        Qt.Key.Key_P,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    popup = window.menus.search
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClicks(popup.query, "reset lay")
    assert [hit.label for hit in popup.shown_items()] == ["Reset layout"]
    qtbot.keyClick(popup.query, Qt.Key.Key_Return)
    assert window.dock_panels.docks["trend"].isVisible()


def test_f1_lists_the_shortcuts(qtbot: QtBot) -> None:
    window, _pipeline = make_window(qtbot)
    dialog = window.menus.show_shortcuts()
    qtbot.addWidget(dialog)
    table = dialog.findChild(QTableWidget)
    assert table is not None
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["Acknowledge"] == "Ctrl+K"
    assert rows["Find station or alarm"] == "Ctrl+F"
    assert rows["Command palette"] == "Ctrl+Shift+P"
    assert rows["Keyboard shortcuts"] == "F1"
    assert rows["Reset layout"] == "Ctrl+Shift+R"
    assert "Space" in rows.values()


def test_ctrl_k_acknowledges_the_selection_with_the_focus_elsewhere(qtbot: QtBot) -> None:
    window, pipeline = make_window(qtbot)
    window.alarm_view.select_alarm("aq-02|pm25|high")
    window.details.setFocus()
    qtbot.keyClick(window.details, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    window.apply_delta(pipeline.take_delta())
    assert window.alarm_view.model.alarm("aq-02|pm25|high").state is AlarmState.ACKNOWLEDGED
    assert window.alarm_view.model.alarm("aq-01|pm25|high").state is AlarmState.UNACKNOWLEDGED
