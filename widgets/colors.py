"""Severity and state colour palette shared by the widgets.

The hues follow the map's convention: green for normal, amber for warnings, red for
alarms and grey for stale or unknown data. Colours are hex strings so that they can be
used in Qt (``QColor(hex)``), in style sheets and in the map page alike.
"""

from __future__ import annotations

from services.model import Severity

SEVERITY_COLORS: dict[Severity, str] = {
    Severity.CRITICAL: "#c62828",
    Severity.HIGH: "#e5483b",
    Severity.MEDIUM: "#f0a202",
    Severity.LOW: "#e3d26f",
}
"""Background colour of each alarm severity."""

NORMAL_COLOR = "#3fa34d"
"""Green: a value or an entity with no alarm."""

STALE_COLOR = "#7d8590"
"""Grey: data that is too old to trust, or unknown."""

WARNING_COLOR = SEVERITY_COLORS[Severity.MEDIUM]
"""Amber: a value past its warning threshold."""

ALARM_COLOR = SEVERITY_COLORS[Severity.HIGH]
"""Red: a value past its alarm threshold."""

NEUTRAL_COLOR = "#4a90c2"
"""Blue accent for values that have no thresholds to judge them by."""

DARK_TEXT = "#111418"
LIGHT_TEXT = "#f5f7fa"


def severity_color(sev: Severity | None) -> str:
    """The colour of ``sev``; :data:`NORMAL_COLOR` when there is no alarm (None)."""
    if sev is None:
        return NORMAL_COLOR
    return SEVERITY_COLORS[Severity(sev)]


def _relative_luminance(hex_color: str) -> float:
    text = hex_color.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"expected a #rrggbb colour, got {hex_color!r}")
    channels = []
    for start in (0, 2, 4):
        value = int(text[start : start + 2], 16) / 255.0
        linear = value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
        channels.append(linear)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio (1 to 21) between two ``#rrggbb`` colours."""
    light, dark = sorted((_relative_luminance(first), _relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_color_for(background: str) -> str:
    """Dark or light text, whichever reads better on ``background`` (``#rrggbb``)."""
    if contrast_ratio(background, DARK_TEXT) >= contrast_ratio(background, LIGHT_TEXT):
        return DARK_TEXT
    return LIGHT_TEXT
