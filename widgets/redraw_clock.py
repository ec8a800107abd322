"""One clock for the redraws of many widgets (dashboards, walls): views ask for a redraw,
the clock runs the asked-for redraws a few per frame, at most ``PLOT_HZ`` frames a second,
each frame within a time budget, so that a second's worth of changes is spread over many
short frames instead of one long one that stalls the event loop.

A redraw is a function that brings its widget up to date and returns the widget to paint
(painted at once, so that the budget counts the painting too), or None.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

PLOT_HZ = 30
"""The most frames a second the clock draws in (plots move at most this often)."""
TEXT_HZ = 4
"""The most often a text (a value, a count) changes on screen: the views feed the clock
once a second, well under this."""
FRAME_BUDGET_S = 0.008
"""A frame runs redraws until this much time is spent (always at least one)."""

Redraw = Callable[[], QWidget | None]


class RedrawClock(QObject):
    """Runs the redraws asked for, oldest request first, a few per frame."""

    def __init__(self, parent: QObject | None = None, budget: float = FRAME_BUDGET_S) -> None:
        super().__init__(parent)
        self.budget = budget
        self._wanted: dict[Hashable, Redraw] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(1000 // PLOT_HZ)
        self._timer.timeout.connect(self.frame)
        self.frames = 0
        """Frames drawn so far."""
        self.frame_times: list[float] = []
        """How long each of the recent frames took, in seconds (for benchmarks)."""

    def want(self, key: Hashable, redraw: Redraw) -> None:
        """Redraw with ``redraw`` at a coming frame (a newer request for ``key`` replaces a
        waiting one, keeping its place)."""
        self._wanted[key] = redraw
        if not self._timer.isActive():
            self._timer.start()

    def pending(self) -> int:
        """How many redraws wait."""
        return len(self._wanted)

    def frame(self) -> None:
        """Run waiting redraws until the frame's budget is spent."""
        started = time.perf_counter()
        while self._wanted:
            key = next(iter(self._wanted))
            redraw = self._wanted.pop(key)
            try:
                widget = redraw()
                if widget is not None and widget.isVisible():
                    widget.repaint()
            except RuntimeError:  # its widget was deleted while the redraw waited
                log.debug("redraw of %r dropped: its widget is gone", key)
            if time.perf_counter() - started >= self.budget:
                break
        self.frames += 1
        self.frame_times.append(time.perf_counter() - started)
        del self.frame_times[:-1000]
        if not self._wanted:
            self._timer.stop()

    def flush(self) -> None:
        """Run every waiting redraw now (tests, screenshots)."""
        while self._wanted:
            self.frame()
