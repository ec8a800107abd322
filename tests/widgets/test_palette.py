"""One palette: every colour lives in widgets/palette.py; the map page gets its colours as data;
the themes keep to ISA-101 (grey for normal, priorities apart in lightness as well as hue)
and to readable contrast."""

from __future__ import annotations

import colorsys
import re
from pathlib import Path

import pytest
from PySide6.QtGui import QColor

from services.config.schema import THEMES as CONFIG_THEMES
from services.model import FeedState, Severity
from widgets import palette
from widgets.map_view import build_map_html
from widgets.palette import THEMES, Theme

ROOT = Path(__file__).resolve().parents[2]
MAP_ASSETS = ROOT / "resources" / "map"
HEX = re.compile(r"#[0-9a-fA-F]{3,8}\b")
COLOR_FUNCTION = re.compile(r"\b(?:rgba?|hsla?)\(")


def test_every_severity_and_feed_state_has_a_colour() -> None:
    assert set(palette.SEVERITY_COLORS) == set(Severity)
    assert set(palette.FEED_STATE_COLORS) == set(FeedState)
    assert palette.severity_color(None) == palette.NORMAL_COLOR
    assert palette.severity_color(Severity.HIGH) == palette.ALARM_COLOR


def test_text_colour_reads_on_every_state_colour(theme: Theme) -> None:
    backgrounds = [*palette.SEVERITY_COLORS.values(), *palette.FEED_STATE_COLORS.values()]
    assert backgrounds == [*theme.severities.values(), *theme.feed_states.values()]
    for background in backgrounds:
        assert palette.contrast_ratio(background, palette.text_color_for(background)) >= 4.5
    assert palette.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    with pytest.raises(ValueError):
        palette.contrast_ratio("red", "#ffffff")


# Modules that still hold colours of their own, each an expected failure. Strict: once a
# module takes its colours from the palette the test passes, fails as an xfail, and its
# entry here has to go.
PENDING: dict[str, str] = {}


def _modules() -> list[object]:
    paths = [*sorted((ROOT / "widgets").glob("*.py")), ROOT / "ui" / "theme.py"]
    return [
        pytest.param(
            path,
            id=f"{path.parent.name}/{path.name}",
            marks=[pytest.mark.xfail(reason=PENDING[path.name], strict=True)]
            if path.name in PENDING
            else [],
        )
        for path in paths
        if path.name != "palette.py"
    ]


@pytest.mark.parametrize("path", _modules())
def test_no_colour_outside_the_palette(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert HEX.findall(text) == []
    assert not COLOR_FUNCTION.search(text)


@pytest.mark.parametrize("name", ["cityops-map.js", "cityops-map.css", "cityops-heat.js"])
def test_map_assets_hold_no_colours(name: str) -> None:
    text = (MAP_ASSETS / name).read_text(encoding="utf-8")
    assert HEX.findall(text) == []
    assert not COLOR_FUNCTION.search(text)


def test_map_page_colours_are_named_hex_values(theme: Theme) -> None:
    assert theme.map_page_colors() == palette.MAP_PAGE_COLORS
    for name, value in palette.MAP_PAGE_COLORS.items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), name
        assert re.fullmatch(r"#[0-9a-f]{6}", value), (name, value)


def _hex_colours(theme: Theme) -> dict[str, str]:
    """Every #rrggbb colour of ``theme`` by a name saying where it is."""
    colours: dict[str, str] = {}
    for name, value in vars(theme).items():
        if isinstance(value, str) and value.startswith("#"):
            colours[name] = value
        elif isinstance(value, tuple):
            colours |= {f"{name}[{i}]": v for i, v in enumerate(value)}
    colours |= {f"severity {s.label}": v for s, v in theme.severities.items()}
    colours |= {f"banner {k}": v[0] for k, v in theme.banners.items()}
    colours |= {f"map {k}": v for k, v in theme.map_page_colors().items()}
    return colours


def test_every_theme_colour_is_hex(theme: Theme) -> None:
    for name, value in _hex_colours(theme).items():
        assert re.fullmatch(r"#[0-9a-f]{6}", value), (name, value)


def _is_grey(hex_color: str) -> bool:
    return QColor(hex_color).hslSaturation() < 40  # of 255


def _is_green(hex_color: str) -> bool:
    color = QColor(hex_color)
    return 75 <= color.hslHue() <= 165 and color.hslSaturation() >= 40


def test_normal_is_grey_and_nothing_is_green(theme: Theme) -> None:
    normal = {
        "normal": theme.normal,
        "stale": theme.stale,
        "gauge value": theme.chart_value,
        "gauge track": theme.chart_track,
        "feed connected": theme.feed_states[FeedState.CONNECTED],
        "map normal": theme.map_page_colors()["normal"],
        "no alarm": theme.severity(None),
    }
    assert [name for name, value in normal.items() if not _is_grey(value)] == []
    assert [name for name, value in _hex_colours(theme).items() if _is_green(value)] == []


def test_priorities_are_apart_without_colour(theme: Theme) -> None:
    """Critical and high are clearly different in lightness (for colour-blind eyes and in
    greyscale), and no two priorities share a hue."""
    severities = theme.severities
    assert palette.contrast_ratio(severities[Severity.CRITICAL], severities[Severity.HIGH]) >= 2
    assert palette.contrast_ratio(severities[Severity.HIGH], severities[Severity.MEDIUM]) >= 1.4
    hues = {s: QColor(v).hslHue() for s, v in severities.items()}
    for first in Severity:
        for second in Severity:
            if first < second:
                gap = abs(hues[first] - hues[second])
                assert min(gap, 360 - gap) >= 25, (first, second)
    # Alarm colours are not grey, and differ from normal and stale in lightness.
    for value in severities.values():
        assert not _is_grey(value)
    assert theme.normal != theme.stale
    assert palette.contrast_ratio(theme.normal, theme.stale) >= 1.5


def test_text_reads_on_its_background(theme: Theme) -> None:
    """WCAG AA (4.5) for every text, AAA (7) on the wall, read from across a room."""
    minimum = 7.0 if theme.name == "wall" else 4.5
    pairs = {
        "text/window": (theme.text, theme.window_background),
        "text/panel": (theme.text, theme.panel_background),
        "text/alternate": (theme.text, theme.panel_alternate_background),
        "dim/panel": (theme.dim_text, theme.panel_background),
        "dim/alternate": (theme.dim_text, theme.panel_alternate_background),
        "status warning": (theme.status_warning_text, theme.window_background),
        "status alarm": (theme.status_alarm_text, theme.window_background),
        "chart text": (theme.chart_text, theme.chart_background),
        "chart dim text": (theme.chart_dim_text, theme.chart_background),
        "selection": (theme.accent_text, theme.accent),
        **{f"banner {k}": v for k, v in theme.banners.items()},
    }
    low = {
        name: round(palette.contrast_ratio(*pair), 2)
        for name, pair in pairs.items()
        if palette.contrast_ratio(*pair) < minimum
    }
    assert low == {}
    assert palette.contrast_ratio(theme.placeholder_text, theme.panel_background) >= 4.5
    assert palette.contrast_ratio(theme.disabled_text, theme.panel_background) >= 2.0


def test_the_operator_theme_is_a_mid_grey_default() -> None:
    assert palette.DEFAULT_THEME == "operator"
    assert palette.current_theme() is palette.OPERATOR
    red, green, blue = (int(palette.OPERATOR.window_background[i : i + 2], 16) for i in (1, 3, 5))
    _hue, lightness, saturation = colorsys.rgb_to_hls(red / 255, green / 255, blue / 255)
    assert 0.55 <= lightness <= 0.8 and saturation < 0.1
    assert palette.WALL.font_scale > 1 and palette.WALL.map_scale > 1
    assert palette.WALL.window_background == "#000000"


def test_use_theme_rebinds_the_module_names() -> None:
    severities, map_colours = palette.SEVERITY_COLORS, palette.MAP_PAGE_COLORS
    try:
        dark = palette.use_theme("dark")
        assert palette.current_theme() is dark
        assert dark.normal == palette.NORMAL_COLOR
        assert dark.window_background == palette.WINDOW_BACKGROUND
        assert dark.chart_background + "d0" == palette.CHART_LEGEND_BACKGROUND
        assert dark.trend_curves == palette.TREND_CURVE_COLORS
        assert dict(dark.banners) == palette.BANNER_COLORS
        # Dictionaries change in place, so that modules holding them follow.
        assert palette.SEVERITY_COLORS is severities
        assert palette.MAP_PAGE_COLORS is map_colours
        assert map_colours["background"] == dark.map_page["background"]
        assert palette.severity_color(None) == dark.normal
        wall = palette.use_theme(palette.WALL)
        assert palette.TEXT_COLOR == wall.text == "#ffffff"
        with pytest.raises(ValueError, match="unknown theme 'pink'"):
            palette.use_theme("pink")
        assert palette.current_theme() is wall
    finally:
        palette.use_theme(palette.DEFAULT_THEME)
    assert palette.OPERATOR.normal == palette.NORMAL_COLOR


def test_the_config_knows_the_same_themes() -> None:
    assert tuple(THEMES) == CONFIG_THEMES
    assert CONFIG_THEMES[0] == palette.DEFAULT_THEME


def test_every_colour_the_map_assets_name_is_in_the_palette() -> None:
    css = (MAP_ASSETS / "cityops-map.css").read_text(encoding="utf-8")
    script = (MAP_ASSETS / "cityops-map.js").read_text(encoding="utf-8")
    used = set(re.findall(r"var\(--cityops-([a-z0-9-]+)\)", css))
    used |= set(re.findall(r'\bcolor\("([a-z0-9-]+)"\)', script))
    level_colors = re.search(r"LEVEL_COLOR = \{([^}]*)\}", script)
    assert level_colors is not None
    used |= set(re.findall(r':\s*"([a-z0-9-]+)"', level_colors.group(1)))
    assert used
    assert used <= set(palette.MAP_PAGE_COLORS)


def test_map_page_gets_the_palette_as_json_data(theme: Theme) -> None:
    html = build_map_html((28.55, 112.35), 12)
    assert '"colors": {' in html
    for name, value in theme.map_page_colors().items():
        assert f'"{name}": "{value}"' in html
    custom = build_map_html((28.55, 112.35), 12, colors={"high": "#010203"}, scale=1.5)
    assert '"colors": {"high": "#010203"}' in custom
    assert '"scale": 1.5' in custom
