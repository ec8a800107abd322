"""Carries service events into Qt: one coalesced delta per UI tick, on the GUI thread."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from services.model import Delta

TICK_MS = 50
MAX_PART_ITEMS = 1_000
"""A delta with more entities, readings and alarms than this is shown in parts, one per
turn of the event loop (timers and input run between them): thousands of changes in one
slot call kept the window from answering for 100 ms and more."""


class DeltaBridge(QObject):
    """Pulls the ingest worker's coalesced delta at a fixed rate (20 Hz) and emits it once,
    or a large one in parts (:data:`MAX_PART_ITEMS`); no new delta is taken while parts of
    the last wait, so the worker keeps coalescing meanwhile.

    The worker never calls into Qt: it only swaps a Delta under a lock. The bridge's timer
    lives on the GUI thread, so ``deltaReady`` slots run there.
    """

    deltaReady = Signal(object)
    rateChanged = Signal(float)

    def __init__(
        self, take_delta: Callable[[], Delta], parent: QObject | None = None, tick_ms: int = TICK_MS
    ) -> None:
        super().__init__(parent)
        self._take_delta = take_delta
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.tick)
        self._window_start = time.monotonic()
        self._window_messages = 0
        self.message_rate = 0.0
        self._parts: list[Delta] = []

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._parts.clear()

    def tick(self, *, whole: bool = False) -> None:
        """Take the pending delta and hand it to the views (nothing when empty); ``whole``:
        in one piece, after any parts still waiting (the restored city at start)."""
        if self._parts:
            if not whole:
                return
            while self._parts:
                self._emit_part()
        delta = self._take_delta()
        self._window_messages += delta.messages
        elapsed = time.monotonic() - self._window_start
        if elapsed >= 1.0:
            self.message_rate = self._window_messages / elapsed
            self._window_messages = 0
            self._window_start = time.monotonic()
            self.rateChanged.emit(self.message_rate)
        if not delta.is_empty():
            self._parts = [delta] if whole else delta.split(MAX_PART_ITEMS)
            self._emit_part()

    def _emit_part(self) -> None:
        if not self._parts:
            return
        part = self._parts.pop(0)
        if self._parts:
            QTimer.singleShot(0, self, self._emit_part)
        self.deltaReady.emit(part)
