"""Pictures grabbed from widgets: colours near a palette colour or present anywhere, and a
counter of paint events."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QImage


def close(pixel: QColor, hex_color: str, tolerance: int = 14) -> bool:
    """Whether ``pixel`` is within ``tolerance`` of ``hex_color`` in each channel."""
    wanted = QColor(hex_color)
    return (
        abs(pixel.red() - wanted.red()) <= tolerance
        and abs(pixel.green() - wanted.green()) <= tolerance
        and abs(pixel.blue() - wanted.blue()) <= tolerance
    )


def has_color(image: QImage, hex_color: str, tolerance: int = 12, step: int = 1) -> bool:
    """Whether any pixel of ``image`` (every ``step``-th in each direction) is close to
    ``hex_color``."""
    return any(
        close(image.pixelColor(x, y), hex_color, tolerance)
        for y in range(0, image.height(), step)
        for x in range(0, image.width(), step)
    )


class PaintCounter(QObject):
    """An event filter counting a widget's paint events (to check it repaints only when
    something it shows changed)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False
