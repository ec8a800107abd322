"""The search box (Ctrl+F) and command palette (Ctrl+Shift+P): one popup, typed into,
results update as you type; Enter (or a click) picks the highlighted result."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialog, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from ui.search_index import HitKind, SearchItem, search
from widgets.i18n import QT_TRANSLATE_NOOP, translate

KIND_TEXT = {
    HitKind.ENTITY: QT_TRANSLATE_NOOP("SearchPopup", "Station"),
    HitKind.ALARM: QT_TRANSLATE_NOOP("SearchPopup", "Alarm"),
    HitKind.ACTION: QT_TRANSLATE_NOOP("SearchPopup", "Action"),
}


class SearchPopup(QDialog):
    """A popup with a query line and the matching items; emits :attr:`picked`."""

    picked = Signal(object)
    """The :class:`SearchItem` the operator chose."""

    def __init__(self, items: Callable[[], Sequence[SearchItem]], parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("searchPopup")
        self._items = items
        self._all: Sequence[SearchItem] = ()
        self.query = QLineEdit()
        self.query.setObjectName("searchQuery")
        self.query.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setObjectName("searchResults")
        self.results.itemActivated.connect(self._activate)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.query)
        layout.addWidget(self.results)
        self.query.textChanged.connect(self._refresh)
        self.query.installEventFilter(self)
        self.resize(560, 380)

    def open_with(self, placeholder: str, text: str = "") -> None:
        """Show the popup over the top of its window, ready to type into."""
        self._all = self._items()
        self.query.setPlaceholderText(placeholder)
        self.query.setText(text)
        self._refresh(text)
        parent = self.parentWidget()
        if parent is not None:
            top = parent.mapToGlobal(parent.rect().topLeft())
            self.move(top.x() + (parent.width() - self.width()) // 2, top.y() + 60)
        self.show()
        self.query.setFocus()

    def shown_items(self) -> list[SearchItem]:
        """The results listed now, in order."""
        items = []
        for row in range(self.results.count()):
            data = self.results.item(row).data(Qt.ItemDataRole.UserRole)
            if isinstance(data, SearchItem):
                items.append(data)
        return items

    def _refresh(self, text: str) -> None:
        self.results.clear()
        for item in search(text, self._all):
            line = f"{translate('SearchPopup', KIND_TEXT[item.kind])} · {item.label}"
            if item.detail:
                line += f"  —  {item.detail}"
            entry = QListWidgetItem(line)
            entry.setData(Qt.ItemDataRole.UserRole, item)
            self.results.addItem(entry)
        if self.results.count():
            self.results.setCurrentRow(0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up, Down and Enter in the query line move through and pick the results."""
        pressed = isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress
        if watched is self.query and pressed:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                row = max(0, min(self.results.count() - 1, self.results.currentRow() + step))
                self.results.setCurrentRow(row)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                current = self.results.currentItem()
                if current is not None:
                    self._activate(current)
                return True
        return super().eventFilter(watched, event)

    def _activate(self, entry: QListWidgetItem) -> None:
        item = entry.data(Qt.ItemDataRole.UserRole)
        self.hide()
        if isinstance(item, SearchItem):
            self.picked.emit(item)
