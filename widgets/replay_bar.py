"""The replay bar: a striped REPLAY banner with the replayed time, and the controls of a
review — the window, a time slider with the alarms marked on it, play/pause, speed, step to
the previous or next alarm, and the way back to live."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from widgets import palette
from widgets.format import format_clock, format_timestamp
from widgets.i18n import translate
from widgets.palette import BANNER_COLORS, REPLAY_STRIPE

log = logging.getLogger(__name__)

SPEEDS = (1.0, 10.0, 60.0, 600.0)
"""Replay speeds: how many seconds of the past one second of playing shows."""

WINDOWS = ("hour", "shift", "day", "custom")
"""The review windows offered: the last hour, this shift, the last 24 h, custom."""


def window_names() -> dict[str, str]:
    """The review windows' names in the UI's language."""
    return {
        "hour": translate("ReplayBar", "Last hour"),
        "shift": translate("ReplayBar", "This shift"),
        "day": translate("ReplayBar", "Last 24 hours"),
        "custom": translate("ReplayBar", "Custom…"),
    }


class AlarmMarks(QWidget):
    """A thin strip under the slider with a tick where each alarm was raised."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedHeight(8)
        self._since = 0.0
        self._until = 1.0
        self._times: list[float] = []

    def set_marks(self, since: float, until: float, times: Sequence[float]) -> None:
        self._since, self._until, self._times = since, max(until, since + 1.0), list(times)
        self.update()

    def marks(self) -> list[float]:
        return list(self._times)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        color = QColor(palette.ALARM_COLOR)
        span = self._until - self._since
        width = self.width()
        for ts in self._times:
            x = (ts - self._since) / span * (width - 1)
            painter.fillRect(QRectF(x - 1, 0, 2, self.height()), color)
        painter.end()


class ReplayBar(QWidget):
    """Shown only while the window replays; it never acts on the services itself.

    The slider moves in whole seconds of the review window; ``seekRequested`` comes when it
    is released (or moved by the keyboard), not while it is dragged.
    """

    seekRequested = Signal(float)
    playToggled = Signal(bool)
    speedChanged = Signal(float)
    stepRequested = Signal(int)
    """-1: to the previous alarm, 1: to the next one."""
    windowRequested = Signal(str)
    liveRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("replayBar")
        self._since = 0.0
        self._until = 1.0
        self._at = 0.0
        background, text = BANNER_COLORS["replay"]
        self.setStyleSheet(
            f"#replayBar {{ background: qlineargradient(spread:repeat, x1:0, y1:0, x2:0.012,"
            f" y2:0.05, stop:0 {background}, stop:0.5 {background}, stop:0.51 {REPLAY_STRIPE},"
            f" stop:1 {REPLAY_STRIPE}); }}"
            f" #replayBar QLabel {{ color: {text}; background: transparent; }}"
        )
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)

        self.banner = QLabel()
        self.banner.setObjectName("replayBanner")
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.banner.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setLetterSpacing(font.SpacingType.AbsoluteSpacing, 2.0)
        self.banner.setFont(font)
        layout.addWidget(self.banner)
        self.note = QLabel()
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.note)

        row = QHBoxLayout()
        row.setSpacing(6)
        self.window_box = QComboBox()
        self.window_box.setToolTip(translate("ReplayBar", "The stretch of time to review"))
        for key, name in window_names().items():
            self.window_box.addItem(name, key)
        self.window_box.activated.connect(
            lambda index: self.windowRequested.emit(str(self.window_box.itemData(index)))
        )
        self.previous_button = QPushButton(translate("ReplayBar", "◀ Alarm"))
        self.previous_button.setToolTip(translate("ReplayBar", "Previous alarm (Ctrl+[)"))
        self.previous_button.clicked.connect(lambda: self.stepRequested.emit(-1))
        self.play_button = QPushButton(translate("ReplayBar", "Play"))
        self.play_button.setCheckable(True)
        self.play_button.setToolTip(translate("ReplayBar", "Play or pause the replay (F8)"))
        self.play_button.toggled.connect(self._play_toggled)
        self.next_button = QPushButton(translate("ReplayBar", "Alarm ▶"))
        self.next_button.setToolTip(translate("ReplayBar", "Next alarm (Ctrl+])"))
        self.next_button.clicked.connect(lambda: self.stepRequested.emit(1))
        self.speed_box = QComboBox()
        self.speed_box.setToolTip(translate("ReplayBar", "Replay speed"))
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}\N{MULTIPLICATION SIGN}", speed)
        self.speed_box.currentIndexChanged.connect(
            lambda index: self.speedChanged.emit(float(self.speed_box.itemData(index)))
        )
        self.start_label = QLabel()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("replaySlider")
        self.slider.setToolTip(translate("ReplayBar", "The replayed moment: drag and release"))
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.slider.setPageStep(60)
        self.slider.sliderMoved.connect(self._dragging)
        self.slider.sliderReleased.connect(self._released)
        self.slider.valueChanged.connect(self._value_changed)
        self.marks = AlarmMarks()
        track = QVBoxLayout()
        track.setSpacing(0)
        track.addWidget(self.slider)
        track.addWidget(self.marks)
        self.end_label = QLabel()
        self.live_button = QPushButton(translate("ReplayBar", "Return to live"))
        self.live_button.setObjectName("returnToLive")
        self.live_button.setToolTip(translate("ReplayBar", "Back to the live city (Ctrl+R)"))
        self.live_button.clicked.connect(self.liveRequested)
        for widget in (self.window_box, self.previous_button, self.play_button, self.next_button):
            row.addWidget(widget)
        row.addWidget(self.speed_box)
        row.addWidget(self.start_label)
        row.addLayout(track, 1)
        row.addWidget(self.end_label)
        row.addWidget(self.live_button)
        layout.addLayout(row)
        self._show_time(self._at)

    # -- what the owner sets ------------------------------------------------------------

    def set_window(self, key: str, since: float, until: float) -> None:
        """Review [since, until]; the window box shows ``key``."""
        self._since, self._until = since, max(until, since + 1.0)
        index = self.window_box.findData(key)
        if index >= 0:
            self.window_box.setCurrentIndex(index)
        self.slider.blockSignals(True)
        self.slider.setRange(0, int(self._until - self._since))
        self.slider.blockSignals(False)
        self.start_label.setText(format_clock(since))
        self.end_label.setText(format_clock(until))
        self.start_label.setToolTip(format_timestamp(since))
        self.end_label.setToolTip(format_timestamp(until))
        self.set_time(min(max(self._at, since), self._until))

    def set_time(self, at: float) -> None:
        """Show ``at`` as the replayed moment (moves the slider without asking to seek)."""
        self._at = at
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(round(at - self._since))
            self.slider.blockSignals(False)
        self._show_time(at)

    def set_alarm_marks(self, times: Sequence[float]) -> None:
        self.marks.set_marks(self._since, self._until, times)

    def set_playing(self, playing: bool) -> None:
        self.play_button.blockSignals(True)
        self.play_button.setChecked(playing)
        self.play_button.blockSignals(False)
        self._label_play(playing)

    def set_note(self, text: str) -> None:
        """A second line under the banner (what is replayed, what is not)."""
        self.note.setText(text)

    def review_window(self) -> tuple[float, float]:
        """(since, until) of the window reviewed."""
        return self._since, self._until

    def time(self) -> float:
        return self._at

    def speed(self) -> float:
        return float(self.speed_box.currentData())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), max(hint.height(), 72))

    # -- internals ------------------------------------------------------------------------

    def _show_time(self, at: float) -> None:
        day = datetime.fromtimestamp(at).strftime("%Y-%m-%d")
        self.banner.setText(
            translate("ReplayBar", "REPLAY {time}  ·  {day}  ·  NOT LIVE").format(
                time=format_clock(at), day=day
            )
        )

    def _slider_time(self) -> float:
        return self._since + self.slider.value()

    def _dragging(self, value: int) -> None:
        self._show_time(self._since + value)

    def _released(self) -> None:
        self._at = self._slider_time()
        self.seekRequested.emit(self._at)

    def _value_changed(self, value: int) -> None:
        if self.slider.isSliderDown():
            return  # a drag: seek on release
        self._at = self._since + value  # keyboard, page step, wheel
        self._show_time(self._at)
        self.seekRequested.emit(self._at)

    def _play_toggled(self, playing: bool) -> None:
        self._label_play(playing)
        self.playToggled.emit(playing)

    def _label_play(self, playing: bool) -> None:
        self.play_button.setText(
            translate("ReplayBar", "Pause") if playing else translate("ReplayBar", "Play")
        )
