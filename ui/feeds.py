"""The Feeds dock: the feed health panel with each feed's dead letters, pausing and
resuming feeds, adding and removing MQTT feeds at run time; the status bar's feed summary."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from PySide6.QtWidgets import QDialog, QHBoxLayout, QMessageBox, QPushButton, QVBoxLayout, QWidget

from services.config import FeedConfig
from services.engine.remote import EngineError
from services.limits import DEAD_LETTERS_PER_FEED
from services.model import DeadLetter, Delta, FeedState
from ui.feed_dialog import AddFeedDialog
from widgets.feed_health import FeedHealthPanel
from widgets.i18n import translate
from widgets.palette import STATUS_WARNING_TEXT_COLOR
from widgets.plain_text import plain_message_box

if TYPE_CHECKING:
    from ui.main_window import MainWindow

FeedControlFunction = Callable[[str], None]
WARNING_TEXT_STYLE = f"color:{STATUS_WARNING_TEXT_COLOR};font-weight:bold"


class FeedManager(Protocol):
    """What the Feeds tab needs to add and remove feeds at run time."""

    def broker_names(self) -> list[str]: ...
    def add_feed(self, feed: FeedConfig) -> None: ...
    def remove_feed(self, name: str) -> None: ...


class FeedControls:
    """The Feeds dock of a window: its panel, buttons and dead letters, fed from deltas."""

    def __init__(
        self,
        window: MainWindow,
        feed_manager: FeedManager | None,
        pause_feed: FeedControlFunction | None,
        resume_feed: FeedControlFunction | None,
    ) -> None:
        self.window = window
        self._feed_manager = feed_manager
        self._dead_letters: dict[str, deque[DeadLetter]] = {}
        self.panel = FeedHealthPanel()
        self.panel.feedSelected.connect(self._show_dead_letters)
        if pause_feed is not None:
            self.panel.pauseRequested.connect(lambda name: self._control_feed(pause_feed, name))
        if resume_feed is not None:
            self.panel.resumeRequested.connect(lambda name: self._control_feed(resume_feed, name))

    def tab(self) -> QWidget:
        """The dock's widget: the add and remove buttons over the panel."""
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.add_feed_button = QPushButton(translate("MainWindow", "Add feed…"))
        self.add_feed_button.clicked.connect(self.add_feed_dialog)
        self.remove_feed_button = QPushButton(translate("MainWindow", "Remove feed"))
        self.remove_feed_button.clicked.connect(self.remove_selected_feed)
        for button in (self.add_feed_button, self.remove_feed_button):
            button.setEnabled(self._feed_manager is not None)
            bar.addWidget(button)
        bar.addStretch(1)
        layout.addLayout(bar)
        layout.addWidget(self.panel)
        return tab

    def _control_feed(self, action: FeedControlFunction, name: str) -> None:
        try:
            action(name)
        except (KeyError, EngineError) as error:
            self.window.statusBar().showMessage(str(error.args[0]), 8000)

    def add_feed_dialog(self) -> None:
        """Ask for a new MQTT feed and subscribe it without reconnecting."""
        if self._feed_manager is None:
            return
        try:
            brokers = self._feed_manager.broker_names()
        except EngineError as error:
            self.window.statusBar().showMessage(str(error), 8000)
            return
        dialog = AddFeedDialog(brokers, self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.feed is None:
            return
        problem = self.add_feed(dialog.feed)
        if problem:
            plain_message_box(
                self.window,
                QMessageBox.Icon.Warning,
                translate("MainWindow", "Feed not added"),
                problem,
            ).exec()

    def add_feed(self, feed: FeedConfig) -> str:
        """Subscribe ``feed`` now; returns why not when it cannot be added ("" when added)."""
        if self._feed_manager is None:
            return translate("MainWindow", "feeds cannot be changed here")
        try:
            self._feed_manager.add_feed(feed)
        except (ValueError, EngineError) as error:
            return str(error)
        self.window.statusBar().showMessage(
            translate("MainWindow", "Feed {name!r} added until the app closes").format(
                name=feed.name
            ),
            8000,
        )
        return ""

    def remove_selected_feed(self) -> None:
        """Unsubscribe the feed selected in the Feeds tab, after asking."""
        name = self.panel.selected_feed()
        if self._feed_manager is None or not name:
            return
        question = plain_message_box(
            self.window,
            QMessageBox.Icon.Question,
            translate("MainWindow", "Remove feed"),
            translate("MainWindow", "Stop receiving feed {name!r} until the app restarts?").format(
                name=name
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        if question.exec() == QMessageBox.StandardButton.Yes:
            problem = self.remove_feed(name)
            if problem:
                box = plain_message_box(
                    self.window,
                    QMessageBox.Icon.Warning,
                    translate("MainWindow", "Feed not removed"),
                    problem,
                )
                box.exec()

    def remove_feed(self, name: str) -> str:
        """Unsubscribe feed ``name``; returns why not when it cannot be removed."""
        if self._feed_manager is None:
            return translate("MainWindow", "feeds cannot be changed here")
        try:
            self._feed_manager.remove_feed(name)
        except (KeyError, EngineError) as error:
            return str(error.args[0])
        self.window.statusBar().showMessage(
            translate("MainWindow", "Feed {name!r} removed").format(name=name), 8000
        )
        return ""

    def apply(self, delta: Delta) -> None:
        """Show a delta's removed and changed feeds and its new dead letters."""
        if delta.removed_feeds:
            self.panel.model.remove(delta.removed_feeds)
            self._show_feed_summary()
        if delta.feeds:
            self.window.feed_states.update(delta.feeds)
            self.panel.update_feeds(delta.feeds.values())
            self._show_feed_summary()
        if delta.dead_letters:
            for feed, letters in delta.dead_letters.items():
                kept = self._dead_letters.setdefault(feed, deque(maxlen=DEAD_LETTERS_PER_FEED))
                kept.extend(letters)
            selected = self.panel.selected_feed()
            if selected in delta.dead_letters:
                self._show_dead_letters(selected)

    def _show_feed_summary(self) -> None:
        counts = self.panel.model.count_by_state()
        troubled = sum(
            counts.get(state, 0) for state in (FeedState.FAILING, FeedState.DOWN, FeedState.STALE)
        )
        total = sum(counts.values())
        text = translate("MainWindow", "Feeds: {ok}/{total} ok").format(
            ok=total - troubled, total=total
        )
        if troubled:
            text += translate("MainWindow", " · {count} need attention").format(count=troubled)
        label = self.window.feeds_label
        label.setText(text)
        label.setStyleSheet(WARNING_TEXT_STYLE if troubled else "")

    def _show_dead_letters(self, feed: str) -> None:
        if feed:
            self.panel.set_dead_letters(feed, list(self._dead_letters.get(feed, ())))
