"""The one colour palette of CityOps: every colour the window, the widgets and the map use.

Colours are named by what they mean (a severity, stale data, dimmed text, a chart's
background...), never by where they happen to be drawn, so that a redesign (for example
to ISA-101 greys, colour only for the abnormal) changes this module alone. They are hex
strings, usable in Qt (``QColor(hex)``), in style sheets and in the map page alike.

Four groups:

* **States**: alarm severities, normal, warning, alarm, stale, and each feed state.
* **Window**: the dark control-room theme of the Qt palette (see ``ui/theme.py``), status
  text and banners.
* **Charts and tables**: what gauges, the trend plot and the item views draw with.
* **Map page**: :data:`MAP_PAGE_COLORS`, handed to the page as JSON when it is built
  (the page is light, without tiles, so its hues differ a little from the widgets').
"""

from __future__ import annotations

import logging

from services.model import FeedState, Severity

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- states

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

FEED_DOWN_COLOR = "#8e1c1c"
"""Dark red: a feed that is down (darker than a failing one)."""

FEED_STATE_COLORS: dict[FeedState, str] = {
    FeedState.CONNECTING: STALE_COLOR,
    FeedState.CONNECTED: NORMAL_COLOR,
    FeedState.PAUSED: STALE_COLOR,
    FeedState.STALE: WARNING_COLOR,
    FeedState.FAILING: ALARM_COLOR,
    FeedState.DOWN: FEED_DOWN_COLOR,
}
"""Background colour of the state cell of each feed state."""

ROW_TINT_ALPHA = 48
"""Opacity (0-255) of the severity tint behind the other cells of an alarm's row."""

FADED_ROW_TINT_ALPHA = 22
"""The tint's opacity for alarms that returned to normal, are shelved or suppressed."""

# --------------------------------------------------------------------------- window

WINDOW_BACKGROUND = "#1b1f24"
"""Background of windows and docks."""

PANEL_BACKGROUND = "#232931"
"""Background of input fields, lists, buttons and tooltips."""

PANEL_ALTERNATE_BACKGROUND = "#2a313a"
"""Alternate row background of item views."""

TEXT_COLOR = "#e6e9ef"
"""Text on the window and panel backgrounds."""

PLACEHOLDER_TEXT_COLOR = "#8a93a0"
"""Placeholder text of empty input fields."""

DISABLED_TEXT_COLOR = "#6b7380"
"""Text of disabled controls."""

ACCENT_COLOR = "#3d8bfd"
"""Selection highlight."""

ACCENT_TEXT_COLOR = "#ffffff"
"""Text on the selection highlight."""

DARK_TEXT = "#111418"
"""Text on light coloured backgrounds (see :func:`text_color_for`)."""

LIGHT_TEXT = "#f5f7fa"
"""Text on dark coloured backgrounds (see :func:`text_color_for`)."""

DIM_TEXT_COLOR = "#8b949e"
"""Secondary text in tables: dimmed alarms, "never", times of dead letters."""

STATUS_WARNING_TEXT_COLOR = "#f2994a"
"""Status text on the window background that needs a look (stale data, troubled feeds)."""

STATUS_ALARM_TEXT_COLOR = "#eb5757"
"""Status text on the window background that reports a failure (broker down, bad input)."""

BANNER_COLORS: dict[str, tuple[str, str]] = {
    "alarm": ("#b3261e", "#ffffff"),
    "warning": ("#f2c94c", WINDOW_BACKGROUND),
    "info": ("#3d4a5c", TEXT_COLOR),
}
"""Background and text colour of a banner line across a window (NOT LIVE, demo mode), by
level: ``"alarm"``, ``"warning"``, ``"info"``."""

# --------------------------------------------------------------------------- charts

CHART_BACKGROUND = "#1b2026"
"""Background of gauges and the trend plot."""

CHART_TRACK_COLOR = "#2c333c"
"""Empty track of a gauge's dial (and its ring when it has no bands)."""

CHART_TEXT_COLOR = "#eef1f4"
"""Values, titles and legend text on charts."""

CHART_DIM_TEXT_COLOR = "#9aa5b1"
"""Units, scale ends, axis ticks and axis labels on charts."""

CHART_NEEDLE_COLOR = "#f2f4f7"
"""A gauge's needle."""

CHART_AXIS_COLOR = "#5b6572"
"""Axis lines and the legend's frame."""

CHART_LEGEND_BACKGROUND = CHART_BACKGROUND + "d0"
"""The legend's background: the chart background, slightly see-through (#rrggbbaa)."""

TREND_CURVE_COLORS: tuple[str, ...] = (
    "#56b4e9",  # sky blue
    "#f5a623",  # orange
    "#c792ea",  # violet
    "#4ecdc4",  # teal
    "#f0e442",  # yellow
    "#ff8fa3",  # pink
    "#9ccc65",  # light green
    "#b0bec5",  # grey blue
)
"""Categorical curve colours that read well on the chart background."""

# --------------------------------------------------------------------------- map page

MAP_PAGE_COLORS: dict[str, str] = {
    # Markers, clusters and alert areas, by level.
    "normal": "#2e9d4a",
    "warning": "#e8a317",
    "alarm": "#d62828",
    "stale": "#8a8f98",
    "marker-outline": "#1f2328",
    # The page without tiles, and district boundaries.
    "background": "#dfe3e6",
    "boundary-line": "#5b6770",
    "boundary-fill": "#ffffff",
    "boundary-label": "#3d474f",
    "boundary-label-halo": "#ffffff",
    # Tooltips (on Leaflet's white tooltip background).
    "tip-dim-text": "#5b6770",
    "tip-alarm-text": "#b3261e",
    "tip-stale-text": "#6b7177",
    "tip-area-text": "#3d474f",
    # Cluster icons.
    "cluster-text": "#ffffff",
    "cluster-text-shadow": "#000000",
}
"""Colours of the map page by name; the page gets them as JSON when it is built and sets
each one as the CSS variable ``--cityops-<name>`` as well."""


# --------------------------------------------------------------------------- helpers


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
