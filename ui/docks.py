"""The workstation's dock panels: creation, the default arrangement, the View menu, and
named layouts (saved with :class:`~ui.layouts.LayoutStore`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QInputDialog, QMainWindow, QMenu, QMessageBox, QWidget

from ui.layouts import LAST_USED, LayoutStore
from widgets.i18n import translate
from widgets.plain_text import plain_message_box

log = logging.getLogger(__name__)

LAYOUT_VERSION = 5
"""Bumped when the set or meaning of docks changes: older saved layouts are then ignored."""
FEATURES = (
    QDockWidget.DockWidgetFeature.DockWidgetMovable
    | QDockWidget.DockWidgetFeature.DockWidgetFloatable
    | QDockWidget.DockWidgetFeature.DockWidgetClosable
)


class WorkstationDocks:
    """Owns the docks of one main window and the layouts saved for it."""

    def __init__(self, window: QMainWindow, store: LayoutStore | None) -> None:
        self.window = window
        self.store = store
        self.docks: dict[str, QDockWidget] = {}
        self._default: QByteArray | None = None
        self._restore_menu: QMenu | None = None
        self.view_actions: list[QAction] = []
        """Further View menu actions (after the docks' toggles), added by the window."""
        self.extras: dict[str, tuple[Callable[[], Any], Callable[[Mapping[str, Any]], None]]] = {}
        """What else a layout keeps, by name: how to read it (plain JSON data) and how to
        apply it again (the map's layers, for instance)."""
        self._opened_with: QByteArray | None = None
        """The arrangement the window opened with (the last used), if one was saved."""
        window.setDockNestingEnabled(True)
        window.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        window.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)

    def add(self, name: str, title: str, widget: QWidget) -> QDockWidget:
        """A dock named ``name`` (its key in saved layouts) holding ``widget``."""
        dock = QDockWidget(title, self.window)
        dock.setObjectName(f"dock-{name}")
        dock.setFeatures(FEATURES)
        dock.setWidget(widget)
        self.docks[name] = dock
        return dock

    def arrange_default(self, width: int, height: int) -> None:
        """The default layout: the map left, gauges over details/trend/feeds right, the
        alarm list across the whole bottom (wide enough for every column, no scrolling)."""
        window, docks = self.window, self.docks
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        for dock in docks.values():
            dock.setFloating(False)
            dock.show()
        window.addDockWidget(left, docks["map"])
        window.addDockWidget(right, docks["gauges"])
        window.addDockWidget(bottom, docks["alarms"])
        stack = [
            docks[name]
            for name in (
                "details",
                "trend",
                "feeds",
                "layers",
                "alarm_kpis",
                "incidents",
                "journal",
            )
            if name in docks
        ]
        if stack:
            window.splitDockWidget(docks["gauges"], stack[0], Qt.Orientation.Vertical)
            for dock in stack[1:]:
                window.tabifyDockWidget(stack[0], dock)
            stack[0].raise_()
        self.apply_default_sizes(width, height)

    def apply_default_sizes(self, width: int, height: int) -> None:
        """Split the window as the default layout does (call again once it is shown: sizes
        given before the first show are only a hint)."""
        window, docks = self.window, self.docks
        window.resizeDocks(
            [docks["map"], docks["gauges"]],
            [int(width * 0.56), int(width * 0.44)],
            Qt.Orientation.Horizontal,
        )
        window.resizeDocks(
            [docks["gauges"], docks["details"], docks["alarms"]],
            [int(height * 0.30), int(height * 0.22), int(height * 0.36)],
            Qt.Orientation.Vertical,
        )

    def remember_default(self) -> None:
        """Keep the current arrangement as what Reset layout goes back to."""
        self._default = self.window.saveState(LAYOUT_VERSION)

    def show(self, name: str) -> None:
        """Make a dock visible and bring it to the front of its tab group."""
        dock = self.docks[name]
        dock.show()
        dock.raise_()

    # -- layouts -------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the default layout."""
        if self._default is not None:
            self.window.restoreState(self._default, LAYOUT_VERSION)
        for dock in self.docks.values():
            dock.show()

    def save_as(self, name: str) -> None:
        """Save the current arrangement under ``name``."""
        if self.store is None:
            raise OSError(
                translate("WorkstationDocks", "layouts are not saved on this workstation")
            )
        self.store.save(name, self.window.saveState(LAYOUT_VERSION))
        self._save_extras(name)
        self._refresh_restore_menu()

    def restore(self, name: str) -> bool:
        """Arrange the docks as saved under ``name``; False when there is no such layout
        (or it was saved by a version with other docks)."""
        state = self.store.load(name) if self.store is not None else None
        if state is None or not self.window.restoreState(state, LAYOUT_VERSION):
            return False
        self._restore_extras(name, state)
        return True

    def add_extra(
        self, key: str, get: Callable[[], Any], apply: Callable[[Mapping[str, Any]], None]
    ) -> None:
        """Keep ``get()`` (plain JSON data) with every layout saved from now on, under
        ``key``, and hand it to ``apply`` when one is restored; when the window opened with
        the last used layout, its value is applied at once. Docks ``apply`` opens (the
        dashboards) take their places in the arrangement."""
        self.extras[key] = (get, apply)
        if self._opened_with is not None:
            self._restore_extras(LAST_USED, self._opened_with, only=key)

    def _save_extras(self, name: str) -> None:
        if self.store is not None and self.extras:
            self.store.save_extras(name, {key: get() for key, (get, _set) in self.extras.items()})

    def _restore_extras(self, name: str, state: QByteArray, only: str | None = None) -> None:
        if self.store is None:
            return
        saved = self.store.load_extras(name)
        before = set(self.window.findChildren(QDockWidget))
        for key, (_get, apply) in self.extras.items():
            value = saved.get(key)
            if (only is None or key == only) and isinstance(value, Mapping):
                apply(value)
        if not set(self.window.findChildren(QDockWidget)) <= before:
            self.window.restoreState(state, LAYOUT_VERSION)  # the docks just opened

    def remember_on_close(self) -> None:
        """Keep the arrangement and the geometry for this screen setup for the next start."""
        if self.store is None:
            return
        try:
            self.store.save(LAST_USED, self.window.saveState(LAYOUT_VERSION))
            self._save_extras(LAST_USED)
            self.store.save_geometry(self.window.saveGeometry())
        except OSError:
            log.warning("could not save the window layout", exc_info=True)

    def restore_on_open(self) -> bool:
        """The last arrangement and this screen setup's geometry, when saved before;
        returns whether an arrangement was restored."""
        if self.store is None:
            return False
        geometry = self.store.load_geometry()
        if geometry is not None:
            self.window.restoreGeometry(geometry)
        restored = self.restore(LAST_USED)
        if restored:
            self._opened_with = self.store.load(LAST_USED)
        return restored

    # -- menu ----------------------------------------------------------------------------

    def fill_view_menu(self, menu: QMenu) -> None:
        """Show/hide actions for every dock, then the layout actions."""
        for number, dock in enumerate(self.docks.values(), start=1):
            action = dock.toggleViewAction()
            if number <= 9:
                action.setShortcut(QKeySequence(f"Alt+{number}"))
            menu.addAction(action)
        if self.view_actions:
            menu.addSeparator()
            for action in self.view_actions:
                menu.addAction(action)
        menu.addSeparator()
        save = QAction(translate("WorkstationDocks", "&Save layout as…"), self.window)
        save.triggered.connect(self._ask_and_save)
        menu.addAction(save)
        self._restore_menu = menu.addMenu(translate("WorkstationDocks", "&Restore layout"))
        self._refresh_restore_menu()
        reset = QAction(translate("WorkstationDocks", "Re&set layout"), self.window)
        reset.setShortcut(QKeySequence("Ctrl+Shift+R"))
        reset.triggered.connect(self.reset)
        menu.addAction(reset)

    def _refresh_restore_menu(self) -> None:
        menu = self._restore_menu
        if menu is None:
            return
        menu.clear()
        names = self.store.names() if self.store is not None else []
        group = QActionGroup(menu)
        for name in names:
            action = QAction(name, menu)
            action.triggered.connect(lambda _checked=False, n=name: self.restore(n))
            group.addAction(action)
            menu.addAction(action)
        menu.setEnabled(bool(names))

    def _ask_and_save(self) -> None:
        name, accepted = QInputDialog.getText(
            self.window,
            translate("WorkstationDocks", "Save layout"),
            translate("WorkstationDocks", "Layout name:"),
        )
        name = name.strip()
        if not accepted or not name:
            return
        try:
            self.save_as(name)
        except OSError as error:
            box = plain_message_box(
                self.window,
                QMessageBox.Icon.Warning,
                translate("WorkstationDocks", "Layout not saved"),
                str(error),
            )
            box.exec()
