"""The window's Map menu: prefetching the base map for offline use (the prefetch dialog,
its box from the current view or drawn on the map) and saving the map's view for an
incident report, as a PNG picture or a standalone HTML file."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QMessageBox

from services.tiles.store import STORE_FILE
from services.tiles.xyz import BBox
from ui.prefetch_dialog import PrefetchDialog
from widgets.i18n import translate
from widgets.map_export import standalone_map_html
from widgets.plain_text import plain_message_box

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)

PAINT_WAIT_S = 5.0
PAINT_POLL_MS = 100


class MapActions:
    """The Map menu of a window and what its actions open."""

    def __init__(self, window: MainWindow, menu: QMenu, add: Callable[..., QAction]) -> None:
        self.window = window
        self.dialog: PrefetchDialog | None = None
        self.prefetch = add(
            window,
            menu,
            translate("MapActions", "&Download map for offline use…"),
            self.open_prefetch,
            "Ctrl+Shift+O",
        )
        fetchable = [b for b in window.config.map.basemaps if b.file is None]
        if not fetchable:
            self.prefetch.setEnabled(False)
            self.prefetch.setToolTip(
                translate("MapActions", "No base map with a tile server ([[map.basemaps]])")
            )
        menu.addSeparator()
        add(
            window,
            menu,
            translate("MapActions", "Save map view as &picture…"),
            self.save_png,
            "Ctrl+Shift+S",
        )
        add(
            window,
            menu,
            translate("MapActions", "Save map view as &HTML…"),
            self.save_html,
        )
        window.map_view.boxPicked.connect(self._box_picked)
        window.closing.connect(self._close_dialog)

    # -- prefetch ------------------------------------------------------------------------

    def open_prefetch(self) -> None:
        """Show the prefetch dialog (one at a time; it stays open beside the map)."""
        window = self.window
        if window.cache_path is None:
            self._warn(
                translate("MapActions", "Offline map"),
                translate("MapActions", "This window has no cache folder to keep tiles in."),
            )
            return
        if self.dialog is None:
            self.dialog = PrefetchDialog(
                window.config.map.basemaps,
                window.cache_path.parent / STORE_FILE,
                view_bounds=self._view_box,
                parent=window,
                pick_on_map=self._pick,
            )
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()

    def _view_box(self) -> BBox | None:
        bounds = self.window.map_view.page_bounds()
        return None if bounds is None else BBox(*bounds)

    def _pick(self) -> None:
        self.window.dock_panels.show("map")
        self.window.map_view.pick_box()
        self.window.statusBar().showMessage(
            translate("MapActions", "Draw the area on the map: press, drag, release (Esc: stop)"),
            10_000,
        )

    def _box_picked(self, bounds: tuple[float, float, float, float]) -> None:
        if self.dialog is not None:
            self.dialog.set_box(BBox(*bounds))
            self.dialog.raise_()

    def _close_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.cancel_and_wait()

    # -- saving the view -----------------------------------------------------------------

    def save_png(self) -> None:
        """Ask where, then save the map as the operator sees it."""
        path = self._ask(translate("MapActions", "PNG pictures (*.png)"), "png")
        if path is None:
            return
        self.window.dock_panels.show("map")  # a hidden map has nothing to show
        QApplication.processEvents()
        self._save_when_painted(path, time.monotonic() + PAINT_WAIT_S)

    def _save_when_painted(self, path: Path, deadline: float) -> None:
        # Just after a (re)load the web view's first frame may not have reached the widget:
        # its grab is then one flat colour. Wait for a frame rather than save a blank picture.
        picture = self.window.map_view.grab()
        if _flat(picture.toImage()):
            if time.monotonic() < deadline:
                QTimer.singleShot(PAINT_POLL_MS, lambda: self._save_when_painted(path, deadline))
                return
            self._failed(path, translate("MapActions", "the map has not been drawn yet"))
            return
        if not picture.save(str(path), "PNG"):
            self._failed(path, translate("MapActions", "the picture could not be written"))
            return
        self._done(path)

    def save_html(self) -> None:
        """Ask where, then save what the map shows as one HTML file that opens anywhere."""
        path = self._ask(translate("MapActions", "HTML files (*.html)"), "html")
        if path is None:
            return
        html = standalone_map_html(
            self.window.map_view.snapshot(),
            title=self.window.config.title,
            saved_at=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        )
        try:
            path.write_text(html, encoding="utf-8")
        except OSError as error:
            self._failed(path, str(error))
            return
        self._done(path)

    def _ask(self, kind: str, suffix: str) -> Path | None:
        stamp = time.strftime("%Y%m%d-%H%M")
        name, _filter = QFileDialog.getSaveFileName(
            self.window, translate("MapActions", "Save map view"), f"map-{stamp}.{suffix}", kind
        )
        if not name:
            return None
        path = Path(name)
        return path if path.suffix else path.with_suffix(f".{suffix}")

    def _done(self, path: Path) -> None:
        self.window.statusBar().showMessage(
            translate("MapActions", "Map view saved to {path}").format(path=path), 8000
        )

    def _failed(self, path: Path, reason: str) -> None:
        log.warning("could not save the map view to %s: %s", path, reason)
        self._warn(
            translate("MapActions", "Map view not saved"),
            translate("MapActions", "Could not write {path}:\n{error}").format(
                path=path, error=reason
            ),
        )

    def _warn(self, title: str, text: str) -> None:
        plain_message_box(self.window, QMessageBox.Icon.Warning, title, text).exec()


def _flat(image: QImage, step: int = 16) -> bool:
    """Whether ``image`` is one colour throughout (sampled every ``step`` pixels)."""
    if image.isNull():
        return True
    first = image.pixel(0, 0)
    return all(
        image.pixel(x, y) == first
        for x in range(0, image.width(), step)
        for y in range(0, image.height(), step)
    )
