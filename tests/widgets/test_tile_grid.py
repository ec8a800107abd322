"""The tile grid picks the column count that shows every tile as large as possible."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from widgets.tile_grid import TileGrid, best_columns


def test_wide_areas_get_more_columns_and_tall_ones_fewer() -> None:
    tile = QSize(120, 110)
    assert best_columns(9, 640, 270, tile) == 5
    assert best_columns(9, 400, 900, tile) == 2
    assert best_columns(9, 900, 900, tile) == 3
    assert best_columns(1, 640, 270, tile) == 1
    assert best_columns(0, 640, 270, tile) == 1


def test_every_tile_is_shown_whole_after_a_resize(qtbot: QtBot) -> None:
    tiles = []
    for _ in range(9):
        tile = QWidget()
        tile.setMinimumSize(120, 110)
        tiles.append(tile)
    grid = TileGrid(tiles)
    qtbot.addWidget(grid)
    grid.resize(660, 270)
    grid.show()
    qtbot.waitUntil(lambda: grid.columns() == 5)
    bottom = max(tile.geometry().bottom() for tile in tiles)
    right = max(tile.geometry().right() for tile in tiles)
    assert bottom < grid.height() and right < grid.width()
    grid.resize(300, 1200)
    qtbot.waitUntil(lambda: grid.columns() == 2)
