"""Reloading the config file when it changes: the KPIs, districts, dashboards and the
kiosk's pages, interval and priority-1 timeout take the new definitions at once; other
sections (and the kiosk's screen and sound) take effect at the next start (the log says which
changed).

A file that cannot be read or is wrong as a whole keeps the config in use and reports the
problem (file, key and what is wrong); a wrong *widget* is not such a problem: it shows its
error in its own frame (see :mod:`services.config.dashboards`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from services.config import AppConfig, ConfigError, load_config

log = logging.getLogger(__name__)

RELOADED_SECTIONS = ("kpis", "districts", "dashboards", "kiosk")
"""The config's parts that change while the app runs."""
SETTLE_MS = 300
"""Wait this long after the last change before reading (editors write in several steps)."""


class ConfigReloader(QObject):
    """Watches ``current.source`` and emits the new config when it changed and is right."""

    reloaded = Signal(object)  # the new AppConfig
    failed = Signal(str)  # why the changed file was not taken

    def __init__(self, current: AppConfig, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.current = current
        self.path = Path(current.source).resolve()
        self._digest = self._read_digest()
        # The folder too: an editor that saves by renaming replaces the file watched.
        self._watcher = QFileSystemWatcher([str(self.path), str(self.path.parent)], self)
        self._watcher.fileChanged.connect(self._changed)
        self._watcher.directoryChanged.connect(self._changed)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self.check)

    def _read_digest(self) -> bytes | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).digest()
        except OSError:
            return None

    def _changed(self, _path: str) -> None:
        self._settle.start()

    def check(self) -> bool:
        """Read the file if it changed; True when a new config was taken."""
        if str(self.path) not in self._watcher.files() and self.path.exists():
            self._watcher.addPath(str(self.path))  # replaced by a rename: watch the new one
        digest = self._read_digest()
        if digest is None or digest == self._digest:
            return False
        self._digest = digest
        try:
            config = load_config(self.path)
        except ConfigError as error:
            log.error("config not reloaded, the one in use stays: %s", error)
            self.failed.emit(str(error))
            return False
        later = [
            field.name
            for field in dataclasses.fields(AppConfig)
            if field.name not in (*RELOADED_SECTIONS, "source")
            and getattr(config, field.name) != getattr(self.current, field.name)
        ]
        later += [  # the wall's screen and sound are set when it starts
            f"kiosk.{name}"
            for name in ("screen", "sound")
            if getattr(config.kiosk, name) != getattr(self.current.kiosk, name)
        ]
        if later:
            log.warning("%s changed; %s take effect at the next start", self.path, ", ".join(later))
        log.info("%s reloaded: %s taken now", self.path, ", ".join(RELOADED_SECTIONS))
        self.current = config
        self.reloaded.emit(config)
        return True
