"""Strings from feeds shown verbatim: plain-text labels, escaped tooltips, one-line cells.

Feed names, details, topics, reasons and payloads can hold anything, markup included.
Qt guesses whether a label or a tooltip is rich text, so every widget that shows such a
string goes through these helpers (or ``DisplayRole`` of an item view, which is never
markup) and the string is never rendered as HTML.
"""

from __future__ import annotations

import html
import logging
import re

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QLabel,
    QMessageBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

log = logging.getLogger(__name__)

LINE_BREAKS = re.compile("\r\n|[\r\n\u2028\u2029]")
"""Every kind of line break a feed string may carry."""

RETURN_SIGN = "\u23ce"
"""Drawn in place of a line break in a one-line cell."""


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` verbatim.

    Qt guesses whether a tooltip is rich text, so text from a feed is escaped and wrapped
    in a paragraph that keeps its line breaks and spaces.
    """
    if not text:
        return ""
    return f'<p style="white-space:pre-wrap">{html.escape(text, quote=False)}</p>'


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A label that shows its text as plain text, never as markup."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def plain_message_box(
    parent: QWidget | None,
    icon: QMessageBox.Icon,
    title: str,
    text: str,
    buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok,
) -> QMessageBox:
    """A message box whose text is shown verbatim (QMessageBox's static helpers guess
    whether text is markup). Call ``exec()`` or ``open()`` on it."""
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box


class SingleLineDelegate(QStyledItemDelegate):
    """Paints cell text on one line (line breaks shown as a return sign), never as markup."""

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        """Fill ``option`` as usual, then fold line breaks into return signs."""
        super().initStyleOption(option, index)
        # The base class has already turned "\n" into U+2028, which the style would draw
        # as a second line, clipped, in a one-line row.
        text = option.text
        if LINE_BREAKS.search(text):
            option.text = LINE_BREAKS.sub(RETURN_SIGN, text)
