"""A grid of equal tiles (gauges, KPI tiles) that picks its column count from its size, so
that every tile is as large as the space allows and none is cut off."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QWidget

SPACING = 4


def best_columns(count: int, width: int, height: int, minimum: QSize) -> int:
    """The column count that gives ``count`` tiles in ``width`` x ``height`` the largest
    tile (its smaller side relative to ``minimum``); wide areas get more columns."""
    if count <= 0:
        return 1
    best, best_scale = 1, -1.0
    for columns in range(1, count + 1):
        rows = math.ceil(count / columns)
        tile_w = (width - SPACING * (columns - 1)) / columns
        tile_h = (height - SPACING * (rows - 1)) / rows
        scale = min(tile_w / max(1, minimum.width()), tile_h / max(1, minimum.height()))
        if scale > best_scale + 1e-9:
            best, best_scale = columns, scale
    return best


class TileGrid(QWidget):
    """Lays out its tiles in as many columns as fit best; never narrower than one tile."""

    def __init__(self, tiles: Sequence[QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tiles = list(tiles)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(SPACING, SPACING, SPACING, SPACING)
        self._grid.setSpacing(SPACING)
        self._columns = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._arrange(3)

    def set_tiles(self, tiles: Sequence[QWidget]) -> None:
        """Show ``tiles`` instead (the old ones are deleted)."""
        for tile in self._tiles:
            self._grid.removeWidget(tile)
            tile.deleteLater()
        self._tiles = list(tiles)
        columns, self._columns = max(1, self._columns), 0
        self._arrange(columns)

    def tile_minimum(self) -> QSize:
        """The largest minimum size among the tiles."""
        sizes = [tile.minimumSizeHint().expandedTo(tile.minimumSize()) for tile in self._tiles]
        if not sizes:
            return QSize(1, 1)
        return QSize(max(s.width() for s in sizes), max(s.height() for s in sizes))

    def columns(self) -> int:
        """How many columns the tiles are in now."""
        return self._columns

    def resizeEvent(self, event: QResizeEvent) -> None:
        size = event.size()
        margins = 2 * SPACING
        columns = best_columns(
            len(self._tiles), size.width() - margins, size.height() - margins, self.tile_minimum()
        )
        self._arrange(columns)
        super().resizeEvent(event)

    def minimumSizeHint(self) -> QSize:
        # One tile wide; as tall as the tiles need at the current column count, so a scroll
        # area around the grid scrolls rather than squeezing tiles below their minimum.
        tile = self.tile_minimum()
        columns = max(1, self._columns)
        rows = math.ceil(len(self._tiles) / columns) if self._tiles else 1
        return QSize(tile.width() + 2 * SPACING, rows * tile.height() + (rows + 1) * SPACING)

    def _arrange(self, columns: int) -> None:
        if columns == self._columns:
            return
        self._columns = columns
        for tile in self._tiles:
            self._grid.removeWidget(tile)
        for index, tile in enumerate(self._tiles):
            self._grid.addWidget(tile, index // columns, index % columns)
        self.updateGeometry()
