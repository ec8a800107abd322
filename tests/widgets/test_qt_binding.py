"""Guards against a Qt binding that corrupts Python's reference counts.

PySide6 6.12.0 on Python 3.11 drops a reference to True on every signal emit and to None
on every void method call, which crashes a long-running window (kiosk) within minutes.
pyproject.toml excludes it; this test fails if such a build is installed again.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class Emitter(QObject):
    ticked = Signal(int)


def test_emit_and_void_calls_keep_reference_counts(qapp: object) -> None:
    emitter = Emitter()
    received: list[int] = []
    emitter.ticked.connect(received.append)
    true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
    for index in range(500):
        emitter.ticked.emit(index)
        emitter.setObjectName(f"e{index % 3}")
    assert len(received) == 500
    assert sys.getrefcount(True) - true_before > -50
    assert sys.getrefcount(None) - none_before > -50
