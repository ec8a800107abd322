"""The Map menu on a real window: saving the view as PNG and as standalone HTML, and the
prefetch dialog taking the box the operator draws on the map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from services.config import AppConfig, BasemapConfig, FeedConfig, MapConfig
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from ui.main_window import MainWindow

pytestmark = [
    pytest.mark.webengine,
    pytest.mark.qt_log_ignore(
        "QRhiGles2", "Failed to create RHI", "GPUInfo not initialized", "Unable to detect GPU"
    ),
]

TIMEOUT_MS = 15_000
HOSTILE = '<img src=x onerror="window.pwned=1">'
CONFIG = AppConfig(
    source="test",
    title="Yiyang <ops>",
    feeds=(FeedConfig(name="air", topic="a/#", domain="environment"),),
    map=MapConfig(basemaps=(BasemapConfig("Local", "http://127.0.0.1:9/{z}/{x}/{y}.png"),)),
)


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    win = MainWindow(CONFIG, acknowledge=lambda ids, note: None)
    qtbot.addWidget(win)
    win.cache_path = tmp_path / "cache.sqlite3"
    win.resize(1200, 800)
    win.show()
    qtbot.waitUntil(win.map_view.is_ready, timeout=TIMEOUT_MS)
    pipeline = IngestPipeline(CONFIG, None)
    payload = {"id": "aq-1", "name": HOSTILE, "lat": 28.55, "lon": 112.35, "pm25": 40}
    pipeline.process_batch([RawMessage("air", "a/1", json.dumps(payload).encode(), 1.0)])
    win.apply_delta(pipeline.take_delta())
    win.refresh_map()
    pipeline.stop()
    return win


def test_a_picture_waits_for_the_first_frame(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Just after a load the view's grab can be one flat colour: no blank picture is saved,
    the save waits for a drawn frame."""
    real_grab = window.map_view.grab
    grabs: list[int] = []

    def blank_twice() -> QPixmap:
        grabs.append(1)
        if len(grabs) <= 2:
            blank = QPixmap(window.map_view.size())
            blank.fill(QColor("white"))
            return blank
        return real_grab()

    monkeypatch.setattr(window.map_view, "grab", blank_twice)
    answer_save_dialog(monkeypatch, tmp_path / "late.png")
    window.menus.map.save_png()
    assert not (tmp_path / "late.png").exists()
    qtbot.waitUntil((tmp_path / "late.png").exists, timeout=TIMEOUT_MS)
    assert len(grabs) >= 3
    picture = QImage(str(tmp_path / "late.png"))
    assert len({picture.pixel(x, 50) for x in range(0, picture.width(), 5)}) > 1


def answer_save_dialog(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """The native file dialog can't be clicked here: it answers ``path``."""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(path), ""))


def test_the_view_saved_as_png_and_html(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    actions = window.menus.map
    answer_save_dialog(monkeypatch, tmp_path / "view")
    actions.save_png()
    qtbot.waitUntil((tmp_path / "view.png").exists, timeout=TIMEOUT_MS)
    picture = QImage(str(tmp_path / "view.png"))
    assert picture.width() == window.map_view.width() and picture.height() > 100
    # The map itself, not a blank widget: its background, outlines and a marker.
    colours = {
        picture.pixel(x, y)
        for x in range(0, picture.width(), 7)
        for y in range(0, picture.height(), 7)
    }
    assert len(colours) > 5
    answer_save_dialog(monkeypatch, tmp_path / "view.html")
    actions.save_html()
    html = (tmp_path / "view.html").read_text(encoding="utf-8")
    assert "Yiyang &lt;ops&gt;" in html and "<ops>" not in html
    assert HOSTILE not in html  # escaped, never markup
    assert "base map not included" in html
    assert "Map view saved" in window.statusBar().currentMessage()


def test_a_box_drawn_on_the_map_goes_into_the_prefetch_dialog(
    qtbot: QtBot, window: MainWindow
) -> None:
    actions = window.menus.map
    actions.open_prefetch()
    dialog = actions.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.draw_button.click()
    script = """(() => { const map = window.cityops.map();
        const a = L.latLng(28.50, 112.30), b = L.latLng(28.60, 112.40);
        map.fire('mousedown', {latlng: a}); map.fire('mousemove', {latlng: b});
        map.fire('mouseup', {latlng: b}); return true; })()"""

    def drawn(_result: Any) -> None:
        pass

    with qtbot.waitSignal(window.map_view.boxPicked, timeout=TIMEOUT_MS):
        window.map_view.evaluate(script, drawn)
    box = dialog.box()
    assert (box.west, box.south, box.east, box.north) == pytest.approx(
        (112.30, 28.50, 112.40, 28.60)
    )
    dialog.close()
