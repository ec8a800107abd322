"""The dark control-room theme; its colours are the palette's (:mod:`widgets.palette`)."""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from widgets.palette import (
    ACCENT_COLOR,
    ACCENT_TEXT_COLOR,
    DISABLED_TEXT_COLOR,
    PANEL_ALTERNATE_BACKGROUND,
    PANEL_BACKGROUND,
    PLACEHOLDER_TEXT_COLOR,
    TEXT_COLOR,
    WINDOW_BACKGROUND,
)

log = logging.getLogger(__name__)


def apply_dark_theme(app: QApplication) -> None:
    """Fusion style with a dark palette suited to dim operations rooms."""
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: WINDOW_BACKGROUND,
        QPalette.ColorRole.WindowText: TEXT_COLOR,
        QPalette.ColorRole.Base: PANEL_BACKGROUND,
        QPalette.ColorRole.AlternateBase: PANEL_ALTERNATE_BACKGROUND,
        QPalette.ColorRole.ToolTipBase: PANEL_BACKGROUND,
        QPalette.ColorRole.ToolTipText: TEXT_COLOR,
        QPalette.ColorRole.Text: TEXT_COLOR,
        QPalette.ColorRole.Button: PANEL_BACKGROUND,
        QPalette.ColorRole.ButtonText: TEXT_COLOR,
        QPalette.ColorRole.Highlight: ACCENT_COLOR,
        QPalette.ColorRole.HighlightedText: ACCENT_TEXT_COLOR,
        QPalette.ColorRole.PlaceholderText: PLACEHOLDER_TEXT_COLOR,
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED_TEXT_COLOR))
    app.setPalette(palette)
