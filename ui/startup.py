"""Checks made before Qt starts (no Qt here): can the display plugin load, and is there a
terminal to report problems on?

Qt aborts the process with a long message when its xcb display plugin misses a system
library (``libxcb-cursor0`` since Qt 6.5); :func:`display_problem` finds that first and says
which Debian packages to install, in one line.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping
from typing import TextIO

XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}
"""The system libraries Qt's xcb platform plugin loads (by soname) → their Debian package."""
HEADLESS_PLATFORMS = ("offscreen", "minimal")
"""Qt platforms that draw nowhere: nobody would see a message box."""

LibraryLoader = Callable[[str], object]


def qt_platform(environ: Mapping[str, str]) -> str:
    """The Qt platform plugin asked for (``QT_QPA_PLATFORM``, first choice, no options);
    "" when unset."""
    value = environ.get("QT_QPA_PLATFORM", "")
    return value.split(";")[0].split(":")[0].strip().lower()


def missing_libraries(sonames: list[str], load: LibraryLoader = ctypes.CDLL) -> list[str]:
    """The sonames that the dynamic loader cannot load."""
    missing = []
    for soname in sonames:
        try:
            load(soname)
        except OSError:
            missing.append(soname)
    return missing


def display_problem(
    environ: Mapping[str, str] = os.environ,
    platform: str = sys.platform,
    load: LibraryLoader = ctypes.CDLL,
) -> str | None:
    """Why Qt's display cannot start, in one line: no display at all, or the xcb plugin
    misses system libraries (naming the Debian packages to install). None when it can, or
    when it is not the xcb plugin that will be used."""
    if not platform.startswith("linux"):
        return None
    chosen = qt_platform(environ)
    if chosen not in ("", "xcb") or (not chosen and environ.get("WAYLAND_DISPLAY")):
        return None  # another plugin, or Qt may choose Wayland
    if not environ.get("DISPLAY"):
        return (
            "no display to open the window on (DISPLAY is not set); start it on a desktop, "
            "or set QT_QPA_PLATFORM=offscreen to run without one"
        )
    missing = missing_libraries(list(XCB_LIBRARIES), load)
    if not missing:
        return None
    packages = " ".join(XCB_LIBRARIES[soname] for soname in missing)
    which = "it is" if len(missing) == 1 else "they are"
    return (
        f"the display cannot start: Qt's xcb plugin needs {', '.join(missing)}, but {which} "
        f"not installed; install with: sudo apt-get install {packages}"
    )


def launched_without_terminal(
    environ: Mapping[str, str] = os.environ,
    stdin: TextIO | None = None,
    stderr: TextIO | None = None,
    platform: str = sys.platform,
) -> bool:
    """Whether the app was started from a desktop launcher: neither stdin nor stderr is a
    terminal and Qt will draw on a real display (so an error must also be shown in a box)."""
    streams = (sys.stdin if stdin is None else stdin, sys.stderr if stderr is None else stderr)
    if any(_is_terminal(stream) for stream in streams):
        return False
    chosen = qt_platform(environ)
    if chosen in HEADLESS_PLATFORMS:
        return False
    if platform.startswith("linux") and chosen in ("", "xcb", "wayland"):
        return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))
    return True


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # closed or detached
        return False
