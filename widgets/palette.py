"""The one colour palette of CityOps: every colour the window, the widgets and the map use.

Colours are named by what they mean (a severity, stale data, dimmed text, a chart's
background...), never by where they happen to be drawn. They are hex strings, usable in
Qt (``QColor(hex)``), in style sheets and in the map page alike.

A :class:`Theme` holds one complete set of them. Three are built in (:data:`THEMES`):

* ``"operator"`` (the default): a high-performance look after ISA-101. Mid-grey
  background, normal states in greys and muted tones, colour only for abnormal states and
  alarms. Alarm priorities differ in lightness as well as hue (critical is dark red, high
  a light orange) and are never shown by colour alone: the alarm list names them, the map
  draws each priority as its own shape with its number, gauges mark their alarm bands.
* ``"dark"``: the earlier dark control-room look, for dim rooms (normal is grey there too).
* ``"wall"``: black, high contrast and large type, for wall displays read from afar.

Ask for colours by meaning in either of two ways:

* ``current_theme().normal``, ``current_theme().chart_background``... reads the active
  theme whenever it is called (what :mod:`widgets.gauge` and :mod:`widgets.map_view` do);
* the module-level names (``NORMAL_COLOR``, ``SEVERITY_COLORS``...) are the active theme's
  colours too. :func:`use_theme` rebinds them and updates the dictionaries in place, so
  dictionaries read at paint time follow at once; a plain name copied by ``from
  widgets.palette import NAME`` keeps the value of the theme that was active when its
  module was imported. The application therefore picks its theme once, at start, before it
  imports the window (see ``ui.app``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from services.model import FeedState, Severity

log = logging.getLogger(__name__)

_K = TypeVar("_K")
_V = TypeVar("_V")

DEFAULT_THEME = "operator"
"""The theme the application starts with unless the config or ``--theme`` names another."""

DARK_TEXT = "#111418"
"""Text on light coloured backgrounds (see :func:`text_color_for`)."""

LIGHT_TEXT = "#f5f7fa"
"""Text on dark coloured backgrounds (see :func:`text_color_for`)."""

REPLAY_BACKGROUND = "#123c8c"
"""The replay banner and bar: a deep blue no live state uses, striped with a darker one."""
REPLAY_STRIPE = "#0b2a66"

ROW_TINT_ALPHA = 48
"""Opacity (0-255) of the severity tint behind the other cells of an alarm's row."""

FADED_ROW_TINT_ALPHA = 22
"""The tint's opacity for alarms that returned to normal, are shelved or suppressed."""

# Alarm priorities. The same hues in every theme, so an operator moving from a console to
# the wall sees the same colours. Critical and high differ in lightness as well as hue, so
# that they stay apart for colour-blind eyes and in greyscale.
_SEVERITIES: Mapping[Severity, str] = MappingProxyType(
    {
        Severity.CRITICAL: "#b3121a",  # dark red, light text
        Severity.HIGH: "#ee6a00",  # orange, dark text
        Severity.MEDIUM: "#f2d000",  # yellow, dark text
        Severity.LOW: "#a77ad8",  # violet, dark text
    }
)


@dataclass(frozen=True, kw_only=True)
class Theme:
    """One look of the application: every colour by meaning, and its type size.

    Severity and feed-state colours are fills that carry text (:func:`text_color_for`
    picks it); ``*_text`` colours are text on the background named with them.
    """

    name: str
    title: str
    dark: bool
    """True for light text on dark backgrounds."""
    font_scale: float = 1.0
    """Type size relative to the platform's default (the wall's is larger)."""
    map_scale: float = 1.0
    """Size of the map's markers and text relative to the workstation's."""

    # -- states ---------------------------------------------------------------------------
    severities: Mapping[Severity, str] = field(default_factory=lambda: _SEVERITIES)
    normal: str
    """A value, entity or feed with nothing wrong: grey, never green."""
    stale: str
    """Data too old to trust, or unknown: a faded grey (with a dashed or worded cue)."""
    feed_down: str
    """A feed that is down: a dark red, darker than a failing feed's."""

    # -- window ---------------------------------------------------------------------------
    window_background: str
    panel_background: str
    """Input fields, lists, buttons and tooltips."""
    panel_alternate_background: str
    text: str
    placeholder_text: str
    disabled_text: str
    accent: str
    """Selection highlight (a muted blue: selection is not an alarm)."""
    accent_text: str
    dim_text: str
    """Secondary text in tables and panels."""
    status_warning_text: str
    """Status text on the window background that needs a look."""
    status_alarm_text: str
    """Status text on the window background that reports a failure."""
    banners: Mapping[str, tuple[str, str]]
    """Background and text of a banner line by level: ``alarm``, ``warning``, ``info``, and
    the replay's ``replay``."""

    # -- charts ---------------------------------------------------------------------------
    chart_background: str
    chart_track: str
    """A gauge's empty track, and the normal part of its ring."""
    chart_value: str
    """A gauge's value arc while the value is normal, or has no limits to judge it by."""
    chart_warning_band: str
    """The warning part of a gauge's ring (a muted tone of the medium colour)."""
    chart_alarm_band: str
    """The alarm part of a gauge's ring (a muted tone of the high colour, hatched)."""
    chart_mark: str
    """Threshold ticks, the alarm band's hatching, outlines and the over-range mark."""
    chart_text: str
    chart_dim_text: str
    chart_needle: str
    chart_axis: str
    trend_curves: tuple[str, ...]
    """Categorical curve colours: none of them red, orange, yellow or green."""

    # -- map page -------------------------------------------------------------------------
    map_page: Mapping[str, str]
    """The map page's own colours (see :func:`map_page_colors` for the full set)."""

    @property
    def warning(self) -> str:
        """A value past its warning threshold: the medium priority's colour."""
        return self.severities[Severity.MEDIUM]

    @property
    def alarm(self) -> str:
        """A value past its alarm threshold: the high priority's colour."""
        return self.severities[Severity.HIGH]

    @property
    def feed_states(self) -> dict[FeedState, str]:
        """The state cell's colour of each feed state."""
        return {
            FeedState.CONNECTING: self.stale,
            FeedState.CONNECTED: self.normal,
            FeedState.PAUSED: self.stale,
            FeedState.STALE: self.warning,
            FeedState.FAILING: self.alarm,
            FeedState.DOWN: self.feed_down,
        }

    def severity(self, sev: Severity | None) -> str:
        """The colour of ``sev``; :attr:`normal` when there is no alarm (None)."""
        return self.normal if sev is None else self.severities[Severity(sev)]

    def map_page_colors(self) -> dict[str, str]:
        """Every colour the map page uses, by the name the page knows it by.

        States and priorities come from the theme's own colours (a priority's shape carries
        ``<priority>-text``); the page's background, boundaries, tooltips, vehicle tracks
        and the heat layer's sequential ramp (``heat-1`` light to ``heat-5`` dark, one hue:
        a measure, not an alarm) from :attr:`map_page`.
        """
        colors = {"normal": self.normal, "stale": self.stale}
        for sev, fill in self.severities.items():
            colors[sev.label] = fill
            colors[f"{sev.label}-text"] = text_color_for(fill)
        colors["normal-text"] = text_color_for(self.normal)
        colors["stale-text"] = text_color_for(self.stale)
        colors.update(self.map_page)
        return colors


OPERATOR = Theme(
    name="operator",
    title="Operator (ISA-101 greys)",
    dark=False,
    normal="#7d848b",
    stale="#b7bcc1",
    feed_down="#8e1c1c",
    window_background="#b4b8bc",
    panel_background="#c9ccd0",
    panel_alternate_background="#bfc3c7",
    text=DARK_TEXT,
    placeholder_text="#4e555c",
    disabled_text="#5f666d",
    accent="#2f5f8a",
    accent_text="#ffffff",
    dim_text="#3f454b",
    status_warning_text="#6b3600",
    status_alarm_text="#8b1010",
    banners=MappingProxyType(
        {
            "alarm": (_SEVERITIES[Severity.CRITICAL], "#ffffff"),
            "warning": (_SEVERITIES[Severity.MEDIUM], DARK_TEXT),
            "info": ("#8c9399", DARK_TEXT),
            "replay": (REPLAY_BACKGROUND, "#ffffff"),
        }
    ),
    chart_background="#c3c6ca",
    chart_track="#a4a9ae",
    chart_value="#4f565d",
    chart_warning_band="#d8c46e",
    chart_alarm_band="#dc9a5e",
    chart_mark="#1b1e21",
    chart_text=DARK_TEXT,
    chart_dim_text="#353b41",
    chart_needle="#1b1e21",
    chart_axis="#7b8289",
    trend_curves=(
        "#1f4e79",  # navy
        "#6a3d9a",  # purple
        "#00607a",  # petrol
        "#3b3f44",  # charcoal
        "#7a4a1e",  # brown
        "#8a2f5a",  # plum
        "#4a6fa5",  # steel blue
        "#5e6b78",  # slate
    ),
    map_page=MappingProxyType(
        {
            "marker-outline": "#1b1e21",
            "background": "#b4b8bc",
            "boundary-line": "#4b5259",
            "boundary-fill": "#d4d7da",
            "boundary-label": "#23272b",
            "boundary-label-halo": "#d4d7da",
            "tip-dim-text": "#4b5259",
            "tip-alarm-text": "#8b1010",
            "tip-stale-text": "#5f666d",
            "tip-area-text": "#33393f",
            "track": "#2f5f8a",
            "heat-1": "#c6dbef",
            "heat-2": "#9ecae1",
            "heat-3": "#6baed6",
            "heat-4": "#3182bd",
            "heat-5": "#08519c",
        }
    ),
)
"""The default: ISA-101 high-performance greys, colour only for the abnormal."""

PAPER: Mapping[str, str] = MappingProxyType(
    {
        "background": "#ffffff",
        "text": DARK_TEXT,
        "dim-text": "#4e555c",
        "grid": "#d5d8db",
        "axis": "#7b8289",
        "normal": OPERATOR.normal,
        "marker-outline": "#1b1e21",
        "boundary-line": "#4b5259",
        "boundary-fill": "#eef0f2",
        "table-header": "#e4e6e8",
        "table-line": "#b7bcc1",
    }
)
"""Printed pages (the handover report) in every theme: white paper, dark ink, the operator
theme's greys; alarm priorities in :attr:`Theme.severities` as everywhere."""

DARK = Theme(
    name="dark",
    title="Dark control room",
    dark=True,
    normal="#8b949e",
    stale="#565e68",
    feed_down="#8e1c1c",
    window_background="#1b1f24",
    panel_background="#232931",
    panel_alternate_background="#2a313a",
    text="#e6e9ef",
    placeholder_text="#8a93a0",
    disabled_text="#6b7380",
    accent="#2f6fd6",
    accent_text="#ffffff",
    dim_text="#9ba4ae",
    status_warning_text="#f2994a",
    status_alarm_text="#ff6b5e",
    banners=MappingProxyType(
        {
            "alarm": ("#b3261e", "#ffffff"),
            "warning": ("#f2c94c", "#1b1f24"),
            "info": ("#3d4a5c", "#e6e9ef"),
            "replay": (REPLAY_BACKGROUND, "#ffffff"),
        }
    ),
    chart_background="#1b2026",
    chart_track="#2c333c",
    chart_value="#9aa5b1",
    chart_warning_band=_SEVERITIES[Severity.MEDIUM],
    chart_alarm_band=_SEVERITIES[Severity.HIGH],
    chart_mark="#f2f4f7",
    chart_text="#eef1f4",
    chart_dim_text="#9aa5b1",
    chart_needle="#f2f4f7",
    chart_axis="#5b6572",
    trend_curves=(
        "#56b4e9",  # sky blue
        "#c792ea",  # violet
        "#4ecdc4",  # teal
        "#b0bec5",  # grey blue
        "#ff8fa3",  # pink
        "#82aaff",  # periwinkle
        "#e0e0e0",  # light grey
        "#d4a373",  # tan
    ),
    map_page=MappingProxyType(
        {
            "marker-outline": "#1f2328",
            "background": "#dfe3e6",
            "boundary-line": "#5b6770",
            "boundary-fill": "#ffffff",
            "boundary-label": "#3d474f",
            "boundary-label-halo": "#ffffff",
            "tip-dim-text": "#5b6770",
            "tip-alarm-text": "#b3261e",
            "tip-stale-text": "#6b7177",
            "tip-area-text": "#3d474f",
            "track": "#2b5d8c",
            "heat-1": "#c6dbef",
            "heat-2": "#9ecae1",
            "heat-3": "#6baed6",
            "heat-4": "#3182bd",
            "heat-5": "#08519c",
        }
    ),
)
"""The earlier dark control-room look (with grey, not green, for normal)."""

WALL = Theme(
    name="wall",
    title="Wall display (high contrast, large type)",
    dark=True,
    font_scale=1.5,
    map_scale=1.6,
    normal="#60676e",
    stale="#383d42",
    feed_down="#a01c1c",
    window_background="#000000",
    panel_background="#0e1012",
    panel_alternate_background="#1a1d20",
    text="#ffffff",
    placeholder_text="#b0b4b8",
    disabled_text="#80868c",
    accent="#2a5a8c",
    accent_text="#ffffff",
    dim_text="#c8ccd0",
    status_warning_text="#ffb74d",
    status_alarm_text="#ff6b6b",
    banners=MappingProxyType(
        {
            "alarm": ("#9e0f16", "#ffffff"),
            "warning": (_SEVERITIES[Severity.MEDIUM], "#000000"),
            "info": ("#30363c", "#ffffff"),
            "replay": (REPLAY_BACKGROUND, "#ffffff"),
        }
    ),
    chart_background="#000000",
    chart_track="#33383d",
    chart_value="#c4c9ce",
    chart_warning_band=_SEVERITIES[Severity.MEDIUM],
    chart_alarm_band=_SEVERITIES[Severity.HIGH],
    chart_mark="#ffffff",
    chart_text="#ffffff",
    chart_dim_text="#d0d4d8",
    chart_needle="#ffffff",
    chart_axis="#8a9096",
    trend_curves=(
        "#4fc3f7",  # light blue
        "#ffffff",  # white
        "#ce93d8",  # orchid
        "#80cbc4",  # aqua
        "#f48fb1",  # pink
        "#90a4ae",  # blue grey
        "#b39ddb",  # lavender
        "#bcaaa4",  # taupe
    ),
    map_page=MappingProxyType(
        {
            "marker-outline": "#ffffff",
            "background": "#101316",
            "boundary-line": "#9aa0a6",
            "boundary-fill": "#000000",
            "boundary-label": "#ffffff",
            "boundary-label-halo": "#000000",
            "tip-dim-text": "#3f454b",
            "tip-alarm-text": "#8b1010",
            "tip-stale-text": "#4e555c",
            "tip-area-text": "#23272b",
            "track": "#8ab4f8",
            "heat-1": "#c6dbef",
            "heat-2": "#9ecae1",
            "heat-3": "#6baed6",
            "heat-4": "#3182bd",
            "heat-5": "#08519c",
        }
    ),
)
"""For wall displays: black, high contrast, type half as large again, bigger markers."""

THEMES: Mapping[str, Theme] = MappingProxyType({t.name: t for t in (OPERATOR, DARK, WALL)})
"""The built-in themes by name (the names ``[app] theme`` and ``--theme`` accept)."""

_active: Theme = OPERATOR


def current_theme() -> Theme:
    """The active theme."""
    return _active


def use_theme(theme: str | Theme) -> Theme:
    """Make ``theme`` (a name from :data:`THEMES`, or a theme) the active one and return it.

    Rebinds the module-level names and updates their dictionaries in place; call it before
    importing modules that copy plain names (see the module docstring).
    """
    global _active  # noqa: PLW0603 (the one active theme)
    if isinstance(theme, str):
        if theme not in THEMES:
            raise ValueError(f"unknown theme {theme!r}; choose one of {', '.join(THEMES)}")
        theme = THEMES[theme]
    _active = theme
    _publish(theme)
    log.debug("theme: %s", theme.name)
    return theme


# --------------------------------------------------------------------------- module names
# The active theme's colours under the names widgets import. Declared here, assigned by
# _publish() (at import, and again by use_theme()).

# States.
SEVERITY_COLORS: dict[Severity, str] = {}
"""Background colour of each alarm severity."""
NORMAL_COLOR: str
"""Grey: a value or an entity with no alarm."""
STALE_COLOR: str
"""Faded grey: data that is too old to trust, or unknown."""
WARNING_COLOR: str
"""A value past its warning threshold (the medium priority's colour)."""
ALARM_COLOR: str
"""A value past its alarm threshold (the high priority's colour)."""
NEUTRAL_COLOR: str
"""Values that have no thresholds to judge them by: grey like normal ones."""
FEED_DOWN_COLOR: str
"""Dark red: a feed that is down (darker than a failing one)."""
FEED_STATE_COLORS: dict[FeedState, str] = {}
"""Background colour of the state cell of each feed state."""

# Window.
WINDOW_BACKGROUND: str
"""Background of windows and docks."""
PANEL_BACKGROUND: str
"""Background of input fields, lists, buttons and tooltips."""
PANEL_ALTERNATE_BACKGROUND: str
"""Alternate row background of item views."""
TEXT_COLOR: str
"""Text on the window and panel backgrounds."""
PLACEHOLDER_TEXT_COLOR: str
"""Placeholder text of empty input fields."""
DISABLED_TEXT_COLOR: str
"""Text of disabled controls."""
ACCENT_COLOR: str
"""Selection highlight."""
ACCENT_TEXT_COLOR: str
"""Text on the selection highlight."""
DIM_TEXT_COLOR: str
"""Secondary text in tables: dimmed alarms, "never", times of dead letters."""
STATUS_WARNING_TEXT_COLOR: str
"""Status text on the window background that needs a look (stale data, troubled feeds)."""
STATUS_ALARM_TEXT_COLOR: str
"""Status text on the window background that reports a failure (broker down, bad input)."""
BANNER_COLORS: dict[str, tuple[str, str]] = {}
"""Background and text colour of a banner line across a window (NOT LIVE, demo mode), by
level: ``"alarm"``, ``"warning"``, ``"info"``."""

# Charts.
CHART_BACKGROUND: str
"""Background of gauges and the trend plot."""
CHART_TRACK_COLOR: str
"""Empty track of a gauge's dial (and its ring when it has no bands)."""
CHART_VALUE_COLOR: str
"""A gauge's value arc while the value is normal."""
CHART_MARK_COLOR: str
"""Threshold ticks, hatching and over-range marks on charts."""
CHART_TEXT_COLOR: str
"""Values, titles and legend text on charts."""
CHART_DIM_TEXT_COLOR: str
"""Units, scale ends, axis ticks and axis labels on charts."""
CHART_NEEDLE_COLOR: str
"""A gauge's needle."""
CHART_AXIS_COLOR: str
"""Axis lines and the legend's frame."""
CHART_LEGEND_BACKGROUND: str
"""The legend's background: the chart background, slightly see-through (#rrggbbaa)."""
TREND_CURVE_COLORS: tuple[str, ...]
"""Categorical curve colours that read well on the chart background."""

# Map page.
MAP_PAGE_COLORS: dict[str, str] = {}
"""Colours of the map page by name; the page gets them as JSON when it is built and sets
each one as the CSS variable ``--cityops-<name>`` as well."""


def _publish(theme: Theme) -> None:
    """Point the module-level names at ``theme``'s colours (dictionaries in place)."""
    # Module globals on purpose: they are the names the widgets import.
    global NORMAL_COLOR, STALE_COLOR, WARNING_COLOR, ALARM_COLOR  # noqa: PLW0603
    global NEUTRAL_COLOR, FEED_DOWN_COLOR, WINDOW_BACKGROUND  # noqa: PLW0603
    global PANEL_BACKGROUND, PANEL_ALTERNATE_BACKGROUND, TEXT_COLOR  # noqa: PLW0603
    global PLACEHOLDER_TEXT_COLOR, DISABLED_TEXT_COLOR, ACCENT_COLOR  # noqa: PLW0603
    global ACCENT_TEXT_COLOR, DIM_TEXT_COLOR, STATUS_WARNING_TEXT_COLOR  # noqa: PLW0603
    global STATUS_ALARM_TEXT_COLOR, CHART_BACKGROUND, CHART_TRACK_COLOR  # noqa: PLW0603
    global CHART_VALUE_COLOR, CHART_MARK_COLOR, CHART_TEXT_COLOR  # noqa: PLW0603
    global CHART_DIM_TEXT_COLOR, CHART_NEEDLE_COLOR, CHART_AXIS_COLOR  # noqa: PLW0603
    global CHART_LEGEND_BACKGROUND, TREND_CURVE_COLORS  # noqa: PLW0603
    _replace(SEVERITY_COLORS, theme.severities)
    NORMAL_COLOR = theme.normal
    STALE_COLOR = theme.stale
    WARNING_COLOR = theme.warning
    ALARM_COLOR = theme.alarm
    NEUTRAL_COLOR = theme.chart_value
    FEED_DOWN_COLOR = theme.feed_down
    _replace(FEED_STATE_COLORS, theme.feed_states)
    WINDOW_BACKGROUND = theme.window_background
    PANEL_BACKGROUND = theme.panel_background
    PANEL_ALTERNATE_BACKGROUND = theme.panel_alternate_background
    TEXT_COLOR = theme.text
    PLACEHOLDER_TEXT_COLOR = theme.placeholder_text
    DISABLED_TEXT_COLOR = theme.disabled_text
    ACCENT_COLOR = theme.accent
    ACCENT_TEXT_COLOR = theme.accent_text
    DIM_TEXT_COLOR = theme.dim_text
    STATUS_WARNING_TEXT_COLOR = theme.status_warning_text
    STATUS_ALARM_TEXT_COLOR = theme.status_alarm_text
    _replace(BANNER_COLORS, theme.banners)
    CHART_BACKGROUND = theme.chart_background
    CHART_TRACK_COLOR = theme.chart_track
    CHART_VALUE_COLOR = theme.chart_value
    CHART_MARK_COLOR = theme.chart_mark
    CHART_TEXT_COLOR = theme.chart_text
    CHART_DIM_TEXT_COLOR = theme.chart_dim_text
    CHART_NEEDLE_COLOR = theme.chart_needle
    CHART_AXIS_COLOR = theme.chart_axis
    CHART_LEGEND_BACKGROUND = theme.chart_background + "d0"
    TREND_CURVE_COLORS = theme.trend_curves
    _replace(MAP_PAGE_COLORS, theme.map_page_colors())


def _replace(target: dict[_K, _V], source: Mapping[_K, _V]) -> None:
    target.clear()
    target.update(source)


# --------------------------------------------------------------------------- helpers


def severity_color(sev: Severity | None) -> str:
    """The active theme's colour of ``sev``; :data:`NORMAL_COLOR` when there is no alarm."""
    return _active.severity(sev)


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


_publish(_active)
