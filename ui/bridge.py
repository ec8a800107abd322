"""Carries service events into Qt: one coalesced delta per UI tick, on the GUI thread."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from services.model import Delta

TICK_MS = 50


class DeltaBridge(QObject):
    """Pulls the ingest worker's coalesced delta at a fixed rate (20 Hz) and emits it once.

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

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def tick(self) -> None:
        """Take the pending delta and hand it to the views (nothing when empty)."""
        delta = self._take_delta()
        self._window_messages += delta.messages
        elapsed = time.monotonic() - self._window_start
        if elapsed >= 1.0:
            self.message_rate = self._window_messages / elapsed
            self._window_messages = 0
            self._window_start = time.monotonic()
            self.rateChanged.emit(self.message_rate)
        if not delta.is_empty():
            self.deltaReady.emit(delta)
