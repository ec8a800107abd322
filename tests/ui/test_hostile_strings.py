"""Feed strings are shown literally everywhere in the window, never rendered as markup.

Markup arrives as an entity id and name, a metric name and unit, an alarm message, a feed
name, a dead-lettered payload and its reason; then every label, tooltip, table cell and
chart label of the window is walked.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QAbstractItemView, QLabel, QWidget
from pytestqt.qtbot import QtBot

from services.auth.roles import Principal, Role
from services.config import AppConfig, FeedConfig, RuleConfig
from services.ingest.pipeline import IngestPipeline
from services.messages import ConnectionEvent, RawMessage
from services.model import FeedState
from ui.main_window import MainWindow

MARKUP = "<h1>big</h1><img src=x>"
FEED = f"air {MARKUP}"
METRIC = f"pm25 <b>{MARKUP}</b>"
CONFIG = AppConfig(
    source="test",
    feeds=(FeedConfig(name=FEED, topic="a/#", domain="environment"),),
    rules=(RuleConfig(metric=METRIC, high=75),),
)


def shown_as_rich_text(text: str) -> str:
    """What Qt shows for ``text`` when it takes it for rich text."""
    document = QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


def texts_of_model(view: QAbstractItemView) -> list[tuple[str, str]]:
    """(display, tooltip) of every cell of a view's model."""
    model = view.model()
    cells = []
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            index = model.index(row, column, QModelIndex())
            display = model.data(index, Qt.ItemDataRole.DisplayRole)
            tooltip = model.data(index, Qt.ItemDataRole.ToolTipRole)
            cells.append((str(display or ""), str(tooltip or "")))
    return cells


def test_markup_from_feeds_is_inert_in_every_view(qtbot: QtBot, tmp_path: Path) -> None:
    pipeline = IngestPipeline(CONFIG, None)
    who = Principal(MARKUP, Role.OPERATOR, MARKUP)
    window = MainWindow(CONFIG, acknowledge=lambda ids, note: pipeline.acknowledge(ids, who, note))
    qtbot.addWidget(window)
    payload = {"id": MARKUP, "name": MARKUP, "lat": 28.57, "lon": 112.36, METRIC: 99, "ts": 5}
    pipeline.process_batch(
        [
            ConnectionEvent("mqtt://h:1", FeedState.CONNECTED, (FEED,), MARKUP),
            RawMessage(FEED, f"a/{MARKUP}", json.dumps(payload).encode(), 5.0),
            RawMessage(FEED, f"a/{MARKUP}", f"{MARKUP} not json".encode(), 6.0),
        ]
    )
    window.apply_delta(pipeline.take_delta())
    entity = window.entities[MARKUP]
    window.show_trend(entity)
    window.feed_panel.select_feed(FEED)
    window.show()

    seen = {"cells": 0, "tooltips": 0, "labels": 0}
    for view in window.findChildren(QAbstractItemView):
        for display, tooltip in texts_of_model(view):
            if "big" in display:
                seen["cells"] += 1  # DisplayRole text is never markup in Qt's item views
            if "big" in tooltip:
                seen["tooltips"] += 1
                assert "<h1>big</h1>" in shown_as_rich_text(tooltip), tooltip
    for widget in window.findChildren(QWidget):
        tooltip = widget.toolTip()
        if "big" in tooltip:
            seen["tooltips"] += 1
            assert "<h1>big</h1>" in shown_as_rich_text(tooltip), (widget, tooltip)
    for label in window.findChildren(QLabel):
        if "big" in label.text():
            seen["labels"] += 1
            assert label.textFormat() == Qt.TextFormat.PlainText, (label, label.text())
    legend = window.trend.legend_texts()
    assert any(METRIC in text for text in legend), legend
    assert seen["cells"] >= 3 and seen["tooltips"] >= 2 and seen["labels"] >= 1, seen
