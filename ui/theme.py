"""The window's look: Qt's palette and type size from the active theme (:mod:`widgets.palette`)."""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from widgets.palette import Theme, current_theme, use_theme

log = logging.getLogger(__name__)

_BASE_POINT_SIZE = "cityopsBasePointSize"
"""Application property: the platform's font size before a theme scaled it."""


def theme_palette(theme: Theme) -> QPalette:
    """A Qt palette with ``theme``'s colours (the 3D shades Fusion draws frames with are
    derived from its button and window colours)."""
    palette = QPalette(QColor(theme.panel_background), QColor(theme.window_background))
    roles = {
        QPalette.ColorRole.Window: theme.window_background,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.panel_background,
        QPalette.ColorRole.AlternateBase: theme.panel_alternate_background,
        QPalette.ColorRole.ToolTipBase: theme.panel_background,
        QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.Button: theme.panel_background,
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.BrightText: theme.status_alarm_text,
        QPalette.ColorRole.Highlight: theme.accent,
        QPalette.ColorRole.HighlightedText: theme.accent_text,
        QPalette.ColorRole.PlaceholderText: theme.placeholder_text,
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.disabled_text))
    return palette


def apply_theme(app: QApplication, theme: str | Theme | None = None) -> Theme:
    """Fusion style with the palette and type size of ``theme`` (default: the active one,
    which a name or a theme given here becomes); returns the theme applied.

    Fonts are scaled in points, so they follow the screen's DPI and Qt's device pixel
    ratio; applying a theme again scales from the platform's size, never compounding.
    """
    chosen = current_theme() if theme is None else use_theme(theme)
    app.setStyle("Fusion")
    app.setPalette(theme_palette(chosen))
    font = QFont(app.font())
    base = app.property(_BASE_POINT_SIZE)
    if not isinstance(base, float):
        base = font.pointSizeF() if font.pointSizeF() > 0 else 10.0
        app.setProperty(_BASE_POINT_SIZE, base)
    font.setPointSizeF(base * chosen.font_scale)
    app.setFont(font)
    log.debug("applied the %s theme (type x%.2g)", chosen.name, chosen.font_scale)
    return chosen
