"""How Qt Quick draws, which is how the map page's frames reach the window.

``QWebEngineView`` shows the page through a Qt Quick item. With the GPU backend (Qt's
default) each frame is composited with OpenGL; on a machine without a GPU that OpenGL is
Mesa's software rasteriser (llvmpipe), which loads LLVM into the window's process (about
45 MB resident here) and composites every frame in emulated OpenGL before the window reads
it back. The software backend draws the same frames with the CPU directly and loads no
OpenGL driver at all.

``use_rendering(mode)`` must run before the first web view is made (it may run before or
after the QApplication exists); ``mode`` is ``[app] rendering``.
"""

from __future__ import annotations

import glob
import logging
import os
import sys

from PySide6.QtQuick import QQuickWindow, QSGRendererInterface

from services.config.schema import RENDERING_MODES

log = logging.getLogger(__name__)


def has_gpu() -> bool:
    """Whether this machine offers a hardware renderer to Qt (on Linux: a DRM render node;
    elsewhere assumed)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(glob.glob("/dev/dri/renderD*"))


def resolve_rendering(mode: str) -> str:
    """``software`` or ``gpu`` for ``mode`` (``[app] rendering``) on this machine: ``auto``
    is software on Linux without a GPU render node, or without a screen (offscreen)."""
    if mode not in RENDERING_MODES:
        raise ValueError(f"rendering must be one of {', '.join(RENDERING_MODES)}, got {mode!r}")
    if mode != "auto":
        return mode
    if os.environ.get("QT_QPA_PLATFORM", "").startswith("offscreen") or not has_gpu():
        return "software"
    return "gpu"


def use_rendering(mode: str = "auto") -> str:
    """Choose Qt Quick's backend for ``mode``; returns the one used. ``QT_QUICK_BACKEND`` in
    the environment, when set, wins (Qt reads it itself)."""
    if os.environ.get("QT_QUICK_BACKEND"):
        log.info("rendering: QT_QUICK_BACKEND=%s", os.environ["QT_QUICK_BACKEND"])
        return os.environ["QT_QUICK_BACKEND"]
    chosen = resolve_rendering(mode)
    if chosen == "software":
        QQuickWindow.setGraphicsApi(QSGRendererInterface.GraphicsApi.Software)
    log.info("rendering: %s ([app] rendering = %s)", chosen, mode)
    return chosen
