"""A banner across the top of a window for conditions nobody may miss (NOT LIVE, cache
problems): one line per condition, the most urgent first, hidden when all is well."""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from widgets.palette import BANNER_COLORS


class BannerLevel(enum.IntEnum):
    """How urgent a banner line is; the text always says it in words too."""

    INFO = 1
    WARNING = 2
    ALARM = 3


class StatusBanner(QWidget):
    """Lines keyed by condition (``set_line("cache", …)``); ``None`` removes a line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBanner")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        self._lines: dict[str, tuple[BannerLevel, str]] = {}
        self._labels: dict[str, QLabel] = {}
        self.hide()

    def set_line(self, key: str, text: str | None, level: BannerLevel = BannerLevel.ALARM) -> None:
        """Show ``text`` for condition ``key`` (replacing its previous line), or remove it."""
        if text is None:
            if self._lines.pop(key, None) is not None:
                self._rebuild()
            return
        if self._lines.get(key) == (level, text):
            return
        self._lines[key] = (level, text)
        self._rebuild()

    def line(self, key: str) -> str | None:
        """The text shown for ``key``, if any."""
        entry = self._lines.get(key)
        return None if entry is None else entry[1]

    def lines(self) -> list[str]:
        """Every line shown, most urgent first."""
        return [text for _level, text in self._ordered()]

    def _ordered(self) -> list[tuple[BannerLevel, str]]:
        return sorted(self._lines.values(), key=lambda entry: -entry[0])

    def _rebuild(self) -> None:
        for label in self._labels.values():
            self._layout.removeWidget(label)
            label.deleteLater()
        self._labels = {}
        ordered = sorted(self._lines.items(), key=lambda item: -item[1][0])
        for key, (level, text) in ordered:
            label = QLabel(text)
            label.setObjectName(f"banner-{key}")
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            background, foreground = BANNER_COLORS[level.name.lower()]
            label.setStyleSheet(
                f"background:{background};color:{foreground};font-weight:bold;"
                "font-size:15px;padding:6px 12px;"
            )
            self._layout.addWidget(label)
            self._labels[key] = label
        self.setVisible(bool(self._lines))
