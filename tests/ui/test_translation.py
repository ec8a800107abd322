"""The Chinese window: every text an operator reads is translated under zh_CN.

The window is built over a real ingest pipeline (no broker), with stations, alarms, a feed
with a dead letter, the NOT LIVE banner, menus, docks, dialogs; every visible label,
button, menu action, dock title, tab, table header and cell, combo item and tooltip is
read, and any run of three or more ASCII letters that is not a proper name, id, unit or
key from the allow-list fails the test. The translation is built from the ``.ts`` source
into a temporary folder, so the test checks the source, with or without ``make``.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QAbstractListModel, QLocale, QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QDockWidget,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTabBar,
    QWidget,
)
from pytestqt.qtbot import QtBot

from services.auth.roles import Principal, Role
from services.config import FORMATS, AppConfig, FeedConfig, KpiConfig, RuleConfig
from services.ingest.pipeline import IngestPipeline
from services.messages import ConnectionEvent, RawMessage
from services.model import FeedState
from services.store.cache import OfflineCache
from tests.helpers.accounts import authenticator
from ui.cli import parse_arguments
from ui.feed_dialog import AddFeedDialog
from ui.i18n import TRANSLATIONS_DIR, choose_language, install_translation, remove_translation
from ui.main_window import MainWindow
from ui.sign_in import SignInDialog
from widgets.format import format_age, format_count

TS_FILE = TRANSLATIONS_DIR / "cityops_zh_CN.ts"
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
WORD = re.compile(r"[A-Za-z]{3,}")
ALLOWED = {
    # the product, keys and key names, abbreviations operators use as they are
    "CityOps", "Ctrl", "Shift", "Alt", "Space", "Enter", "Tab", "Esc", "KPI", "KPIs",
    "AQI", "MQTT", "QoS", "CSV", "csv", "auth", "CAP", "HTML",
    # config keys named in messages
    "map", "basemaps",
    # the example feed name and topic of the Add feed dialog
    "noise", "east", "yiyang", "env",
    # units
    "min",
}  # fmt: skip
"""Words that stay as they are in Chinese (besides the data's own names and ids)."""
TESTER = Principal("tester", Role.OPERATOR, "ws-test")
CONFIG = AppConfig(
    source="test",
    demo=True,
    title="Yiyang Integrated Command Platform",
    feeds=(FeedConfig(name="air", topic="a/#", domain="environment"),),
    rules=(RuleConfig(metric="pm25", high=75, high_high=150),),
    kpis=(
        KpiConfig(name="Mean PM2.5", metric="pm25", unit="µg/m³", maximum=250, warn=75, alarm=150),
        KpiConfig(name="Free parking", metric="free", unit="spaces", maximum=100),
    ),
)
STATIONS = {
    "aq-heshan-01": "赫山区政府 Heshan Zhengfu AQ 01",
    "aq-ziyang-02": "资阳区 Ziyang AQ 02",
}


SERVICE_TEXT_COLUMNS = {"deadLetterTable": (2, 3)}
"""Cells that show what a feed sent and the decoder's reason (services' text, English in
this round), by table."""


def data_words() -> set[str]:
    """Proper names, ids and keys from the test's data, and the payload formats (config
    keys), shown as they are."""
    texts = [*STATIONS, *STATIONS.values(), "air", "pm25", "tester", "ws-test", "mqtt://h:1"]
    texts += FORMATS
    return {word for text in texts for word in WORD.findall(text)}


def untranslated(text: str, allowed: set[str]) -> list[str]:
    """The English-looking words of ``text`` (markup and entities removed) not allowed."""
    plain = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return [word for word in WORD.findall(plain) if word not in allowed]


@pytest.fixture
def chinese(tmp_path: Path, qapp: QApplication) -> Iterator[str]:
    """The zh_CN translation built from the .ts source and installed; English afterwards."""
    built = tmp_path / "cityops_zh_CN.qm"
    lrelease = str(BIN / "pyside6-lrelease")
    subprocess.run([lrelease, "-silent", str(TS_FILE), "-qm", str(built)], check=True)
    language = install_translation(qapp, "zh_CN", directory=tmp_path)
    yield language
    remove_translation(qapp)


@pytest.fixture
def pipeline(cache_dir: Path) -> Iterator[IngestPipeline]:
    cache = OfflineCache(cache_dir)
    pipe = IngestPipeline(CONFIG, cache, flush_interval=0.0)
    yield pipe
    pipe.stop()
    cache.close()


def message(entity: str, pm25: float, ts: float) -> RawMessage:
    payload = {"id": entity, "name": STATIONS[entity], "lat": 28.57, "lon": 112.36, "pm25": pm25}
    payload["ts"] = ts
    return RawMessage("air", f"a/{entity}", json.dumps(payload).encode(), ts)


def texts_of(root: QWidget) -> Iterator[tuple[str, str]]:
    """(where, text) for everything visible under ``root`` an operator reads."""
    yield "window title", root.windowTitle()
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisibleTo(root) and widget is not root:
            continue
        name = f"{type(widget).__name__} {widget.objectName()}".strip()
        yield f"{name} tooltip", widget.toolTip()
        if isinstance(widget, QLabel | QAbstractButton):
            yield name, widget.text()
        elif isinstance(widget, QDockWidget):
            yield name, widget.windowTitle()
        elif isinstance(widget, QTabBar):
            for index in range(widget.count()):
                yield f"{name} tab", widget.tabText(index)
        elif isinstance(widget, QLineEdit):
            yield f"{name} placeholder", widget.placeholderText()
        elif isinstance(widget, QComboBox):
            for index in range(widget.count()):
                yield f"{name} item", widget.itemText(index)
        elif isinstance(widget, QAbstractItemView) and not isinstance(widget, QHeaderView):
            yield from model_texts(name, widget)


def model_texts(name: str, view: QAbstractItemView) -> Iterator[tuple[str, str]]:
    """Header titles, cell texts and cell tooltips of ``view``'s model."""
    model = view.model()
    skipped = SERVICE_TEXT_COLUMNS.get(view.objectName(), ())
    root = QModelIndex()
    columns = 1 if isinstance(model, QAbstractListModel) else model.columnCount(root)
    for column in range(columns):
        title = model.headerData(column, Qt.Orientation.Horizontal)
        yield f"{name} header", str(title or "")
    for row in range(model.rowCount(root)):
        for column in range(columns):
            if column in skipped:
                continue
            index = model.index(row, column, root)
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                value = model.data(index, role)
                if isinstance(value, str):
                    yield f"{name} cell {row},{column}", value


def menu_texts(menus: Iterable[QMenu]) -> Iterator[tuple[str, str]]:
    """The titles, actions and tooltips of ``menus`` and their sub-menus."""
    for menu in menus:
        yield "menu", menu.title()
        for action in menu.actions():
            if action.isSeparator():
                continue
            yield f"action {action.text()!r}", action.text()
            if action.toolTip() != action.text().replace("&", ""):
                yield f"action {action.text()!r} tooltip", action.toolTip()
            sub = action.menu()
            if isinstance(sub, QMenu):
                yield from menu_texts([sub])


def problems(texts: Iterable[tuple[str, str]]) -> list[str]:
    allowed = ALLOWED | data_words()
    return [
        f"{where}: {text!r} has {words}"
        for where, text in texts
        if text and (words := untranslated(text, allowed))
    ]


@pytest.fixture
def window(qtbot: QtBot, pipeline: IngestPipeline, chinese: str, tmp_path: Path) -> MainWindow:
    """The main window in Chinese with stations, alarms, a dead letter and the NOT LIVE
    banner, every dock shown."""
    assert chinese == "zh_CN"
    auth, _clock = authenticator(tmp_path / "room", {"tester": Role.OPERATOR}, "ws-test")
    win = MainWindow(
        CONFIG,
        acknowledge=lambda ids, note: pipeline.acknowledge(ids, TESTER, note),
        principal=TESTER,
        authenticator=auth,
    )
    qtbot.addWidget(win)
    win.show_restored(2)
    pipeline.process_batch(
        [
            ConnectionEvent("mqtt://h:1", FeedState.CONNECTED, ("air",)),
            message("aq-heshan-01", 200, 1),
            message("aq-ziyang-02", 90, 1),
            RawMessage("air", "a/x", b"<not json>", 1.0),
        ]
    )
    win.apply_delta(pipeline.take_delta())
    pipeline.process_batch([ConnectionEvent("mqtt://h:1", FeedState.DOWN, ("air",))])
    win.apply_delta(pipeline.take_delta())
    win.refresh_kpis()
    win.show()
    qtbot.waitExposed(win)
    win.feed_panel.select_feed("air")
    win.locate_entity("aq-heshan-01")
    return win


def test_every_text_of_the_window_is_chinese(qtbot: QtBot, window: MainWindow) -> None:
    found = list(texts_of(window)) + list(menu_texts(window.menu_bar.findChildren(QMenu)))
    shown = [text for _where, text in found]
    assert "告警" in shown and "非实时" in shown  # the Alarms dock and the status bar
    assert any("消息代理" in text for text in shown)
    for name in ("trend", "feeds"):  # the tabbed docks, each in front once
        window.dock_panels.show(name)
        found += texts_of(window.dock_panels.docks[name])
    left = problems(found)
    assert not left, "untranslated:\n" + "\n".join(left)


def test_the_dialogs_are_chinese(qtbot: QtBot, window: MainWindow) -> None:
    shortcuts = window.menus.show_shortcuts()
    qtbot.waitExposed(shortcuts)
    switch = window.switch_user()
    assert isinstance(switch, SignInDialog)
    add_feed = AddFeedDialog(["mqtt://h:1"], window)
    qtbot.addWidget(add_feed)
    add_feed.show()
    dialogs: list[QDialog] = [shortcuts, switch, add_feed]
    left = problems(text for dialog in dialogs for text in texts_of(dialog))
    assert not left, "untranslated:\n" + "\n".join(left)
    assert shortcuts.windowTitle() == "快捷键"


def test_the_check_catches_an_unwrapped_text(qtbot: QtBot, window: MainWindow) -> None:
    """A label added without translate() (as a forgotten string would be) is reported."""
    forgotten = QLabel("Dead letters", window.feed_panel)
    forgotten.show()
    assert any("Dead letters" in line for line in problems(texts_of(window)))


def test_numbers_and_ages_follow_the_language(chinese: str) -> None:
    assert format_age(5) == "5 秒前"
    assert format_age(None) == "从未"
    assert format_count(12345) == QLocale("zh_CN").toString(12345)


def test_english_without_a_chinese_locale(qapp: QApplication) -> None:
    assert install_translation(qapp, "en") == "en"
    assert format_age(5) == "5 s ago"
    assert format_count(12345) == "12,345"


@pytest.mark.parametrize(
    ("requested", "system", "chosen"),
    [
        ("zh_CN", "en_US", "zh_CN"),
        ("en", "zh_CN", "en"),  # --lang en forces English
        (None, "zh_CN", "zh_CN"),
        (None, "zh_TW", "zh_CN"),  # the only Chinese there is
        (None, "de_DE", "en"),
        (None, "C", "en"),
    ],
)
def test_the_language_comes_from_lang_else_the_locale(
    requested: str | None, system: str, chosen: str
) -> None:
    assert choose_language(requested, QLocale(system)) == chosen


def test_lang_option() -> None:
    assert parse_arguments(["--lang", "zh_CN"]).lang == "zh_CN"
    assert parse_arguments([]).lang is None
    with pytest.raises(SystemExit):
        parse_arguments(["--lang", "fr"])


def test_missing_translation_falls_back_to_english(
    qapp: QApplication, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert install_translation(qapp, "zh_CN", directory=tmp_path) == "en"
    assert "no zh_CN translation" in caplog.text
    assert format_age(5) == "5 s ago"


def ts_messages(path: Path) -> list[tuple[str, str, str]]:
    """(context, source, translation) of every message of a .ts file ("" when unfinished)."""
    root = ET.parse(path).getroot()
    found = []
    for context in root.iter("context"):
        for message in context.iter("message"):
            translation = message.find("translation")
            assert translation is not None
            done = translation.get("type") not in ("unfinished", "obsolete")
            text = translation.text or "" if done else ""
            found.append((context.findtext("name") or "", message.findtext("source") or "", text))
    return found


def test_every_message_is_translated_with_its_placeholders() -> None:
    for context, source, translation in ts_messages(TS_FILE):
        assert translation, f"{context}: {source!r} is not translated"
        placeholders = re.compile(r"\{[a-z_!]+\}")
        assert sorted(placeholders.findall(source)) == sorted(placeholders.findall(translation))
        if re.search(r"&[^&\s]", source):  # a mnemonic stays reachable
            assert re.search(r"&[^&\s]", translation), f"{source!r}: {translation!r}"


def test_the_translation_source_has_every_text_of_the_code(tmp_path: Path) -> None:
    """lupdate over ui/ and widgets/ finds nothing the .ts lacks (run make lupdate, then
    translate the new messages)."""
    copy = tmp_path / TS_FILE.name
    copy.write_bytes(TS_FILE.read_bytes())
    sources = sorted(
        str(path) for folder in ("ui", "widgets") for path in (ROOT / folder).glob("*.py")
    )
    options = ["-ts", str(copy), "-no-obsolete", "-locations", "none"]
    subprocess.run(
        [str(BIN / "pyside6-lupdate"), *sources, *options], check=True, capture_output=True
    )
    missing = [(c, s) for c, s, t in ts_messages(copy) if not t]
    assert missing == []
