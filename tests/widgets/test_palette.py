"""One palette: every colour lives in widgets/palette.py; the map page gets its colours as data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.model import FeedState, Severity
from widgets import palette
from widgets.map_view import build_map_html

ROOT = Path(__file__).resolve().parents[2]
MAP_ASSETS = ROOT / "resources" / "map"
HEX = re.compile(r"#[0-9a-fA-F]{3,8}\b")
COLOR_FUNCTION = re.compile(r"\b(?:rgba?|hsla?)\(")


def test_every_severity_and_feed_state_has_a_colour() -> None:
    assert set(palette.SEVERITY_COLORS) == set(Severity)
    assert set(palette.FEED_STATE_COLORS) == set(FeedState)
    assert palette.severity_color(None) == palette.NORMAL_COLOR
    assert palette.severity_color(Severity.HIGH) == palette.ALARM_COLOR


def test_text_colour_reads_on_every_state_colour() -> None:
    backgrounds = [*palette.SEVERITY_COLORS.values(), *palette.FEED_STATE_COLORS.values()]
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


@pytest.mark.parametrize("name", ["cityops-map.js", "cityops-map.css"])
def test_map_assets_hold_no_colours(name: str) -> None:
    text = (MAP_ASSETS / name).read_text(encoding="utf-8")
    assert HEX.findall(text) == []
    assert not COLOR_FUNCTION.search(text)


def test_map_page_colours_are_named_hex_values() -> None:
    for name, value in palette.MAP_PAGE_COLORS.items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), name
        assert re.fullmatch(r"#[0-9a-f]{6}", value), (name, value)


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


def test_map_page_gets_the_palette_as_json_data() -> None:
    html = build_map_html((28.55, 112.35), 12)
    assert '"colors": {' in html
    for name, value in palette.MAP_PAGE_COLORS.items():
        assert f'"{name}": "{value}"' in html
    custom = build_map_html((28.55, 112.35), 12, colors={"alarm": "#010203"})
    assert '"colors": {"alarm": "#010203"}' in custom
