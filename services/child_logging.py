"""Log records of a child process, sent to its parent and logged there under their own
names, so that the app's log shows them as if the code ran in the app's process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LogLine:
    """One log record of a child, as plain data."""

    level: int
    name: str
    text: str

    def log_here(self) -> None:
        """Log it in this process under the child's logger name."""
        logging.getLogger(self.name).log(self.level, "%s", self.text)


class ForwardLog(logging.Handler):
    """Hands every record to ``send`` as a :class:`LogLine` (with its traceback, if any)."""

    def __init__(self, send: Callable[[LogLine], None]) -> None:
        super().__init__()
        self._send = send
        self._formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + self._formatter.formatException(record.exc_info)
            self._send(LogLine(record.levelno, record.name, text))
        except Exception:
            self.handleError(record)


def forward_logging(send: Callable[[LogLine], None], level: int) -> None:
    """Make ``send`` the only destination of this (child) process's log, at ``level``."""
    root = logging.getLogger()
    root.handlers[:] = [ForwardLog(send)]
    root.setLevel(level)
