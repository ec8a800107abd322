"""The redraw clock: redraws asked for run a few per frame within a budget, a newer request
replaces a waiting one, visible widgets are painted inside the frame, and a widget deleted
while waiting is skipped."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from widgets import redraw_clock
from widgets.redraw_clock import PLOT_HZ, RedrawClock


class CountingLabel(QLabel):
    paints = 0

    def paintEvent(self, event: QPaintEvent) -> None:
        self.paints += 1
        super().paintEvent(event)


def test_redraws_are_spread_over_frames_within_the_budget(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [100.0]  # the clock's time, moved by the redraws alone (no sleeping, no load)
    monkeypatch.setattr(redraw_clock, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    clock = RedrawClock(budget=0.004)
    ran: list[int] = []

    def slow(number: int) -> None:
        now[0] += 0.003
        ran.append(number)

    for number in range(6):
        clock.want(number, lambda n=number: slow(n))
    clock.want(2, lambda: slow(20))  # replaces 2's waiting redraw, in 2's place
    assert clock.pending() == 6
    clock.frame()
    assert ran == [0, 1]  # the second one spent the 4 ms budget
    clock.frame()
    assert ran == [0, 1, 20, 3]
    qtbot.waitUntil(lambda: clock.pending() == 0, timeout=2000)  # the timer draws the rest
    assert ran == [0, 1, 20, 3, 4, 5]
    assert clock._timer.interval() == 1000 // PLOT_HZ
    qtbot.waitUntil(lambda: not clock._timer.isActive(), timeout=1000)  # idle: no ticking


def test_a_visible_widget_is_painted_in_the_frame_and_a_deleted_one_skipped(
    qtbot: QtBot,
) -> None:
    clock = RedrawClock()
    label = CountingLabel("before")
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    qtbot.waitUntil(lambda: label.paints > 0)  # its first paint, when shown
    painted = label.paints

    def redraw() -> QWidget:
        label.setText("after")
        return label

    clock.want("label", redraw)
    clock.frame()
    assert label.text() == "after" and label.paints > painted  # painted within the frame

    gone = QLabel("gone")
    gone.deleteLater()
    qtbot.wait(10)
    clock.want("gone", lambda: gone.setText("x") or gone)
    clock.frame()  # the C++ object is gone: dropped, nothing raised
    assert clock.pending() == 0
