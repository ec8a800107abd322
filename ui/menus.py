"""The workstation's menus, the search box and command palette, and the shortcuts
overview (F1): every action is reachable by keyboard and listed in one place."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QHeaderView,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ui.map_actions import MapActions
from ui.report import HandoverReports
from ui.search import SearchPopup
from ui.search_index import HitKind, SearchItem
from widgets.i18n import QT_TRANSLATE_NOOP, translate

if TYPE_CHECKING:
    from ui.main_window import MainWindow

KEYS_WITHOUT_ACTIONS = (
    (
        QT_TRANSLATE_NOOP("WindowMenus", "Acknowledge the selected alarms (in the alarm list)"),
        "Space",
    ),
    (
        QT_TRANSLATE_NOOP(
            "WindowMenus", "Locate the selected alarm's source on the map (in the alarm list)"
        ),
        "Enter",
    ),
    (QT_TRANSLATE_NOOP("WindowMenus", "Move between panels"), "Ctrl+Tab"),
    (
        QT_TRANSLATE_NOOP(
            "WindowMenus", "Next / previous marker in view, most urgent first (on the map)"
        ),
        "N, Shift+N",
    ),
    (
        QT_TRANSLATE_NOOP("WindowMenus", "Select the marker, or open the cluster (on the map)"),
        "Enter",
    ),
    (QT_TRANSLATE_NOOP("WindowMenus", "Let go of the marker (on the map)"), "Esc"),
)


MNEMONIC_IN_BRACKETS = re.compile(r"\s*\(&[^&)]\)")
"""A mnemonic after the text, as Chinese menus write it: ``文件(&F)``."""


def plain(text: str) -> str:
    """An action's text without its mnemonic marks (``&File``, ``文件(&F)``)."""
    text = MNEMONIC_IN_BRACKETS.sub("", text)
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…")


def add_action(
    window: MainWindow,
    menu: QMenu,
    text: str,
    slot: Callable[[], object],
    shortcut: QKeySequence | str | None = None,
) -> QAction:
    """A menu action (window-wide shortcut) that calls ``slot``."""
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(lambda _checked=False: slot())
    menu.addAction(action)
    return action


class WindowMenus:
    """Builds the menu bar of a :class:`MainWindow` and owns its search popup."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        bar = window.menu_bar
        file_menu = bar.addMenu(translate("WindowMenus", "&File"))
        self.export = add_action(
            window,
            file_menu,
            translate("WindowMenus", "&Export alarms as CSV…"),
            window.export_dialog,
            "Ctrl+E",
        )
        self.handover = HandoverReports(window)
        self.report = add_action(
            window,
            file_menu,
            translate("WindowMenus", "&Handover report…"),
            self.handover.open_dialog,
        )
        file_menu.addSeparator()
        self.switch_user = add_action(
            window,
            file_menu,
            translate("WindowMenus", "S&witch user…"),
            window.switch_user,
            "Ctrl+Shift+L",
        )
        if window.authenticator is None:
            self.switch_user.setEnabled(False)
            self.switch_user.setToolTip(
                translate("WindowMenus", "Single-user mode ([auth] in the config): no accounts")
            )
        file_menu.addSeparator()
        add_action(
            window,
            file_menu,
            translate("WindowMenus", "&Quit"),
            window.close,
            QKeySequence(QKeySequence.StandardKey.Quit),
        )

        go_menu = bar.addMenu(translate("WindowMenus", "&Go"))
        add_action(
            window,
            go_menu,
            translate("WindowMenus", "&Find station or alarm…"),
            self.open_search,
            "Ctrl+F",
        )
        add_action(
            window,
            go_menu,
            translate("WindowMenus", "&Command palette…"),
            self.open_palette,
            "Ctrl+Shift+P",
        )
        go_menu.addSeparator()
        acknowledge = window.alarm_view.acknowledge_action
        # Ctrl+K acknowledges wherever the focus is, floating docks included.
        acknowledge.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        go_menu.addAction(acknowledge)
        with_note = window.alarm_view.acknowledge_note_action
        with_note.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        go_menu.addAction(with_note)
        go_menu.addAction(window.alarm_view.acknowledge_all_action)
        go_menu.addAction(window.alarm_view.shelve_action)
        go_menu.addAction(window.alarm_view.unshelve_action)
        go_menu.addAction(window.incidents.open_action)
        self.silence = QAction(translate("WindowMenus", "&Silence alarms"), window)
        self.silence.setShortcut(QKeySequence("Ctrl+Shift+M"))
        # Like acknowledge, silencing works wherever the focus is, floating docks included.
        self.silence.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.silence.setEnabled(False)  # until ui.runtime attaches the alarm sound
        go_menu.addAction(self.silence)

        view_menu = bar.addMenu(translate("WindowMenus", "&View"))
        window.dock_panels.fill_view_menu(view_menu)
        view_menu.addSeparator()
        fullscreen = QAction(translate("WindowMenus", "&Full screen"), window)
        fullscreen.setShortcut(QKeySequence("F11"))
        fullscreen.setCheckable(True)
        fullscreen.toggled.connect(
            lambda on: window.showFullScreen() if on else window.showNormal()
        )
        view_menu.addAction(fullscreen)

        map_menu = bar.addMenu(translate("WindowMenus", "&Map"))
        self.map = MapActions(window, map_menu, add_action)

        help_menu = bar.addMenu(translate("WindowMenus", "&Help"))
        add_action(
            window,
            help_menu,
            translate("WindowMenus", "&Keyboard shortcuts"),
            self.show_shortcuts,
            "F1",
        )

        self.search = SearchPopup(self.search_items, window)
        self.search.picked.connect(self.pick)

    # -- search --------------------------------------------------------------------------

    def open_search(self) -> None:
        self.search.open_with(translate("WindowMenus", "Station name or id, alarm text…"))

    def open_palette(self) -> None:
        self.search.open_with(translate("WindowMenus", "Type an action, a station or an alarm…"))

    def actions(self) -> list[QAction]:
        """Every action in the menus, in menu order (sub-menus included)."""
        found: list[QAction] = []

        def walk(menu: QMenu) -> None:
            for action in menu.actions():
                sub = action.menu()
                if isinstance(sub, QMenu):
                    walk(sub)
                elif not action.isSeparator() and action.text():
                    found.append(action)

        for top in self.window.menu_bar.actions():
            sub = top.menu()
            if isinstance(sub, QMenu):
                walk(sub)
        return found

    def search_items(self) -> list[SearchItem]:
        """What the search can find now: stations, listed alarms, menu actions."""
        window = self.window
        items = [
            SearchItem(
                HitKind.ENTITY,
                entity.id,
                entity.name,
                (entity.name, entity.id, entity.type),
                f"{entity.id} · {entity.type or entity.domain}",
            )
            for entity in window.entities.values()
        ]
        model = window.alarm_view.model
        for alarm in model.alarms():
            name = model.entity_name(alarm.entity_id)
            items.append(
                SearchItem(
                    HitKind.ALARM,
                    alarm.id,
                    f"{alarm.severity.label.capitalize()} {alarm.metric} {alarm.condition.value}",
                    (name, alarm.entity_id, alarm.metric, alarm.message, alarm.condition.value),
                    name,
                )
            )
        for index, action in enumerate(self.actions()):
            if action.isEnabled():
                text = plain(action.text())
                shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                items.append(SearchItem(HitKind.ACTION, str(index), text, (text,), shortcut))
        return items

    def pick(self, item: SearchItem) -> None:
        """Do what a search result stands for."""
        window = self.window
        if item.kind is HitKind.ENTITY:
            window.locate_entity(item.key)
        elif item.kind is HitKind.ALARM:
            window.dock_panels.show("alarms")
            window.alarm_view.select_alarm(item.key)
            window.locate_alarm(item.key)
        else:
            actions = self.actions()
            index = int(item.key)
            if 0 <= index < len(actions):
                actions[index].trigger()

    # -- shortcuts overview ----------------------------------------------------------------

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(what, keys) for every action with a shortcut, and the keys without actions."""
        rows = [
            (
                plain(action.text()),
                action.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
            )
            for action in self.actions()
            if not action.shortcut().isEmpty()
        ]
        return rows + [
            (translate("WindowMenus", what), keys) for what, keys in KEYS_WITHOUT_ACTIONS
        ]

    def show_shortcuts(self) -> QDialog:
        """The shortcuts overview (F1)."""
        rows = self.shortcut_rows()
        dialog = QDialog(self.window)
        dialog.setObjectName("shortcutsDialog")
        dialog.setWindowTitle(translate("WindowMenus", "Keyboard shortcuts"))
        table = QTableWidget(len(rows), 2, dialog)
        table.setHorizontalHeaderLabels(
            [translate("WindowMenus", "Action"), translate("WindowMenus", "Keys")]
        )
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        for row, (what, keys) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(what))
            table.setItem(row, 1, QTableWidgetItem(keys))
        layout = QVBoxLayout(dialog)
        layout.addWidget(table)
        dialog.resize(560, 520)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog
