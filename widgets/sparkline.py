"""A sparkline: one series over a fixed recent window, drawn small with QPainter."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from widgets import palette

WINDOW_S = 3600.0
"""The sparkline's window: the last hour."""


class Sparkline(QWidget):
    """The last hour of ``(ts, value)`` points up to ``now``; dimmed when stale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._points: list[tuple[float, float]] = []
        self._now = 0.0
        self._stale = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumSize(60, 18)

    def sizeHint(self) -> QSize:
        return QSize(120, 22)

    def set_points(self, points: Sequence[tuple[float, float]], now: float, stale: bool) -> None:
        """Show ``points`` (any order) within the hour before ``now``."""
        start = now - WINDOW_S
        self._points = sorted((t, v) for t, v in points if t >= start and math.isfinite(v))
        self._now = now
        self._stale = stale
        self.update()

    def point_count(self) -> int:
        """How many points are drawn."""
        return len(self._points)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._points:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        values = [v for _t, v in self._points]
        low, high = min(values), max(values)
        span = high - low or 1.0
        width, height = self.width() - 4, self.height() - 4
        start = self._now - WINDOW_S
        polygon = QPolygonF(
            [
                QPointF(2 + width * (t - start) / WINDOW_S, 2 + height * (1 - (v - low) / span))
                for t, v in self._points
            ]
        )
        # Read when painting: the theme may change after this module is imported.
        color = QColor(palette.DIM_TEXT_COLOR if self._stale else palette.CHART_TEXT_COLOR)
        pen = QPen(color, 1.4)
        if self._stale:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawPolyline(polygon)
        painter.setBrush(color)
        painter.drawEllipse(polygon.last(), 2.0, 2.0)
        painter.end()
