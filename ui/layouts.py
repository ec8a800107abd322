"""Saved window layouts: named dock arrangements and the window geometry per screen setup;
with them the alarm list's filter presets and view preferences (flashing on or off).

Stored with QSettings in ``layouts.ini`` under the platform's config folder (for example
``~/.config/cityops``), or under the folder given (tests pass a temporary one).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import quote, unquote

import platformdirs
from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QGuiApplication

log = logging.getLogger(__name__)

FILE_NAME = "layouts.ini"
LAST_USED = "last used"
"""The layout saved automatically when the window closes, restored when it opens."""


def default_folder() -> Path:
    """Where layouts live unless told otherwise."""
    return Path(platformdirs.user_config_dir("cityops"))


def screen_setup() -> str:
    """A key for the current screens (sizes and positions), so each setup keeps its own
    window geometry: a laptop alone and the same laptop docked to two monitors differ."""
    screens = QGuiApplication.screens()
    parts = [f"{g.width()}x{g.height()}+{g.x()}+{g.y()}" for g in (s.geometry() for s in screens)]
    return "|".join(sorted(parts)) or "no-screen"


def _key(name: str) -> str:
    """A settings key for a layout name (QSettings treats '/' as a group separator)."""
    return quote(name, safe="")


class LayoutStore:
    """Named dock layouts (``QMainWindow.saveState``) and geometries per screen setup."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_folder()
        self.path = self.folder / FILE_NAME

    def _settings(self) -> QSettings:
        self.folder.mkdir(parents=True, exist_ok=True)
        return QSettings(str(self.path), QSettings.Format.IniFormat)

    def names(self) -> list[str]:
        """The names of the saved layouts (the automatic one left out), sorted."""
        settings = self._settings()
        settings.beginGroup("layouts")
        names = [unquote(key) for key in settings.childGroups() if key != _key(LAST_USED)]
        settings.endGroup()
        return sorted(names, key=str.casefold)

    def save(self, name: str, state: QByteArray) -> None:
        """Keep ``state`` under ``name`` (replacing a layout of that name)."""
        settings = self._settings()
        settings.setValue(f"layouts/{_key(name)}/state", state)
        settings.sync()
        if settings.status() != QSettings.Status.NoError:
            raise OSError(f"could not write {self.path}")

    def load(self, name: str) -> QByteArray | None:
        """The state saved under ``name``, or None."""
        value = self._settings().value(f"layouts/{_key(name)}/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save_extras(self, name: str, extras: dict[str, object]) -> None:
        """Keep what goes with the layout ``name`` besides its docks (the map's layers, by
        the name of their owner), as JSON."""
        settings = self._settings()
        settings.setValue(f"layouts/{_key(name)}/extras", json.dumps(extras, ensure_ascii=False))
        settings.sync()
        if settings.status() != QSettings.Status.NoError:
            raise OSError(f"could not write {self.path}")

    def load_extras(self, name: str) -> dict[str, object]:
        """What was kept with the layout ``name`` besides its docks ({} when nothing)."""
        value = self._settings().value(f"layouts/{_key(name)}/extras")
        if not isinstance(value, str) or not value:
            return {}
        try:
            data = json.loads(value)
        except ValueError:
            log.warning("ignoring unreadable settings of layout %r in %s", name, self.path)
            return {}
        return data if isinstance(data, dict) else {}

    def delete(self, name: str) -> None:
        settings = self._settings()
        settings.remove(f"layouts/{_key(name)}")
        settings.sync()

    def save_geometry(self, geometry: QByteArray, setup: str | None = None) -> None:
        """Keep the window geometry for a screen setup (the current one by default)."""
        settings = self._settings()
        settings.setValue(f"geometry/{_key(setup or screen_setup())}", geometry)
        settings.sync()

    def load_geometry(self, setup: str | None = None) -> QByteArray | None:
        value = self._settings().value(f"geometry/{_key(setup or screen_setup())}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def filter_presets(self) -> dict[str, dict[str, object]]:
        """The alarm list's saved filter presets by name (as plain dicts)."""
        value = self._settings().value("alarm-filters/presets")
        if not isinstance(value, str) or not value:
            return {}
        try:
            data = json.loads(value)
        except ValueError:
            log.warning("ignoring unreadable alarm filter presets in %s", self.path)
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): v for k, v in data.items() if isinstance(v, dict)}

    def save_filter_presets(self, presets: dict[str, dict[str, object]]) -> None:
        """Keep the alarm list's filter presets (replacing those saved before)."""
        settings = self._settings()
        settings.setValue("alarm-filters/presets", json.dumps(presets, ensure_ascii=False))
        settings.sync()
        if settings.status() != QSettings.Status.NoError:
            raise OSError(f"could not write {self.path}")

    def flag(self, name: str, default: bool) -> bool:
        """A remembered on/off view preference."""
        value = self._settings().value(f"preferences/{_key(name)}")
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return default if value is None else bool(value)

    def set_flag(self, name: str, on: bool) -> None:
        """Remember an on/off view preference."""
        settings = self._settings()
        settings.setValue(f"preferences/{_key(name)}", "true" if on else "false")
        settings.sync()
