"""Entity symbols for the saved map view (:mod:`widgets.map_export`) as inline SVG, drawn
as the live page draws them (``resources/map/cityops-markers.js``): the entity type's
shape, grey when normal, larger and in its priority's colour with the priority's number in
an alarm, faded with a dashed rim when stale, so that colour is never the only cue.

The markup is built only from a known shape name, palette names, ``#rrggbb`` colours and a
priority digit, never from feed strings; it holds no brace, backtick, dollar sign or
backslash, so it passes folium's JSON, a template literal and Jinja unchanged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from widgets.map_symbols import SHAPE_OUTLINES, SHAPES

__all__ = ["ALARM_SIZE", "DOT_SIZE", "shape_name", "symbol_size", "symbol_svg"]

log = logging.getLogger(__name__)

DOT_SIZE = 12
"""A normal entity's symbol, in CSS pixels (as the page)."""
ALARM_SIZE = 22
"""An entity in alarm's symbol, in CSS pixels."""
STALE_OPACITY = 0.55
"""How opaque a stale symbol is drawn."""

_BOX = 24.0
"""The outlines' box (:data:`widgets.map_symbols.SHAPE_OUTLINES`)."""
_OUTLINE_PX = 1.5
_STALE_DASH = "3 2"
"""In the box's units, as the page's canvas dashes it."""
_MARK_FONT = 13
_MARK_Y = {"triangle": 19.5, "pentagon": 17.5}
"""Where the priority number's baseline sits in a shape (its visual centre)."""
_MARK_Y_OTHERS = 16.5

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_LEVEL = re.compile(r"[a-z][a-z0-9-]*")
_MARK = re.compile(r"[0-9]?")


def shape_name(value: object) -> str:
    """The shape a record names, if the page knows it; ``circle`` otherwise (as the page)."""
    if isinstance(value, str) and value in SHAPES:
        return value
    if value:
        log.warning("map export: unknown shape %r drawn as a circle", str(value)[:40])
    return "circle"


def symbol_size(mark: str) -> int:
    """The symbol's size in CSS pixels: larger with a priority number (in alarm)."""
    return ALARM_SIZE if mark else DOT_SIZE


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _colour(colors: Mapping[str, str], name: str) -> str:
    value = colors[name]
    if not _COLOUR.fullmatch(value):
        raise ValueError(f"map export: colour {name!r} is not #rrggbb")
    return value


def _outline(shape: str) -> str:
    points = SHAPE_OUTLINES.get(shape)
    if points is None:
        return '<circle cx="12" cy="12" r="10"/>'
    return '<polygon points="{}"/>'.format(
        " ".join(f"{_number(x)},{_number(y)}" for x, y in points)
    )


def symbol_svg(
    shape: str,
    level: str,
    colors: Mapping[str, str],
    *,
    stale: bool = False,
    mark: str = "",
    size: int | None = None,
) -> str:
    """One symbol as an ``<svg>`` element: ``shape`` (a name of
    :data:`widgets.map_symbols.SHAPES`) filled with the colour ``level`` names in
    ``colors`` (``normal``, ``stale`` or a priority), outlined in ``marker-outline``,
    with ``mark`` (a priority's digit) in the ``<level>-text`` colour; faded and dashed
    when ``stale``. ``size`` in CSS pixels defaults to :func:`symbol_size`."""
    if shape not in SHAPES or not _LEVEL.fullmatch(level) or not _MARK.fullmatch(mark):
        raise ValueError(f"map export: cannot draw {shape!r} {level!r} {mark!r}")
    pixels = symbol_size(mark) if size is None else size
    scale = pixels / _BOX
    # The rim is 1.5 px wide on screen, as the page's (thicker in box units when small).
    rim = _OUTLINE_PX / max(scale, 0.5)
    classes = f"cityops-export-symbol cityops-export-shape-{shape} cityops-export-level-{level}"
    paint = (
        f'fill="{_colour(colors, level)}" stroke="{_colour(colors, "marker-outline")}"'
        f' stroke-width="{_number(rim)}"'
    )
    group = ""
    if stale:
        classes += " cityops-export-symbol-stale"
        paint += f' stroke-dasharray="{_STALE_DASH}"'
        group = f' opacity="{_number(STALE_OPACITY)}"'
    text = ""
    if mark:
        text = (
            f'<text x="12" y="{_number(_MARK_Y.get(shape, _MARK_Y_OTHERS))}"'
            f' text-anchor="middle" font-family="sans-serif" font-weight="bold"'
            f' font-size="{_MARK_FONT}" fill="{_colour(colors, level + "-text")}">{mark}</text>'
        )
    return (
        f'<svg class="{classes}" width="{pixels}" height="{pixels}"'
        f' viewBox="0 0 {_number(_BOX)} {_number(_BOX)}" overflow="visible"'
        f' aria-hidden="true" focusable="false">'
        f"<g{group}><g {paint}>{_outline(shape)}</g>{text}</g></svg>"
    )
