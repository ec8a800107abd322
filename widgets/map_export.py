"""Save what the map shows as one standalone HTML file, for incident reports (issue 13).

:func:`standalone_map_html` draws a :meth:`widgets.map_view.MapView.snapshot` with folium
into a single page that opens in any browser with no network at all: Leaflet's script and
style sheet are inlined from the installed xstatic package (its few images as ``data:``
URLs), folium's CDN links are left out, there are no tiles (a plain grey background: the
base map is not included) and a Content-Security-Policy allows no fetch of any kind and
no script but the page's own.

Every text comes from city feeds and may be hostile. folium writes a tooltip's text into
HTML that sits inside a JavaScript template literal, unescaped, and branca renders the
output of every element once more as a Jinja template. So each text is HTML-escaped and,
on top of that, the characters that mean something to a template literal or to Jinja
(backtick, ``$``, backslash, ``{``, ``}``) are written as character references; the
browser turns them back into text when Leaflet sets the tooltip's HTML, and nothing before
that can read them as code. The header and the legend never pass through Jinja at all.

Entities are drawn as the live page draws them (:mod:`widgets.map_export_symbols`): inline
SVG in a ``DivIcon``, built only from a known shape name, palette colours and a priority
digit, never from a feed string.
"""

from __future__ import annotations

import base64
import html
import logging
import math
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import folium
from branca.element import Element
from folium.template import tojavascript
from folium.utilities import JsCode

from services.model import Severity
from widgets.i18n import QT_TRANSLATE_NOOP, translate
from widgets.map_areas import MAX_AREA_RADIUS_KM, MAX_AREA_TEXT
from widgets.map_export_symbols import shape_name, symbol_size, symbol_svg
from widgets.map_scheme import asset_roots, inline_script_hashes
from widgets.map_symbols import SHAPE_FAMILIES
from widgets.palette import MAP_PAGE_COLORS

__all__ = ["inline_leaflet", "standalone_map_html"]

log = logging.getLogger(__name__)


MAX_TEXT = MAX_AREA_TEXT
"""Longest text (a name, a label) written into the page, in characters."""

_MAX_GEOMETRY_DEPTH = 4
"""How deep GeometryCollections are followed."""

# The page's own scripts: folium's global switches, the inlined Leaflet and the map script.
# Anything else would be an injection that got through (see _check_scripts).
_EXPECTED_SCRIPTS = 3
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_IMAGE = re.compile(r"url\((['\"]?)images/([A-Za-z0-9_.-]+\.png)\1\)")

# What a template literal or Jinja would read as code, as HTML character references (after
# html.escape, which has already turned & < > " ' into references).
_INERT = str.maketrans(
    {
        "`": "&#x60;",
        "$": "&#x24;",
        "\\": "&#x5c;",
        "{": "&#x7b;",
        "}": "&#x7d;",
    }
)

_SEVERITY_WORDS = {
    Severity.CRITICAL: QT_TRANSLATE_NOOP("MapExport", "critical"),
    Severity.HIGH: QT_TRANSLATE_NOOP("MapExport", "high"),
    Severity.MEDIUM: QT_TRANSLATE_NOOP("MapExport", "medium"),
    Severity.LOW: QT_TRANSLATE_NOOP("MapExport", "low"),
}

Point = list[float]
"""[lat, lon], as Leaflet takes it."""
Line = list[Point]
Polygon = list[Line]
"""The outer ring, then its holes."""


# -- texts ----------------------------------------------------------------------------------


def _plain(value: Any, limit: int = MAX_TEXT) -> str:
    """``value`` as one line of plain text: no control characters, no lone surrogates, at
    most ``limit`` characters (None is empty)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _markup(value: Any, limit: int = MAX_TEXT) -> str:
    """``value`` as HTML text that is also inert in a JS template literal and to Jinja."""
    return html.escape(_plain(value, limit), quote=True).translate(_INERT)


def _priority(severity: Severity) -> int:
    """An alarm priority's number: 1 for critical ... 4 for low."""
    return len(Severity) + 1 - int(severity)


def _priority_words(severity: Severity) -> str:
    """E.g. ``priority 1 (critical)``, in the UI's language."""
    return translate("MapExport", "priority {number} ({severity})").format(
        number=_priority(severity), severity=translate("MapExport", _SEVERITY_WORDS[severity])
    )


def _severity(value: Any) -> Severity | None:
    """The severity a record names (``"critical"``...), or None (none, or unknown)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return Severity.parse(value)
    except ValueError:
        log.warning("map export: unknown severity %r drawn as normal", value[:40])
        return None


# -- numbers and geometry -------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """``value`` as a finite float, or None (bools and strings are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _latlon(lat: Any, lon: Any) -> Point | None:
    """[lat, lon] if both are usable WGS-84 degrees."""
    la, lo = _number(lat), _number(lon)
    if la is None or lo is None or not (-90.0 <= la <= 90.0 and -180.0 <= lo <= 180.0):
        return None
    return [la, lo]


def _position(value: Any) -> Point | None:
    """A GeoJSON position ([lon, lat, ...]) as [lat, lon]."""
    if not isinstance(value, list | tuple) or len(value) < 2:
        return None
    return _latlon(value[1], value[0])


def _line(value: Any, minimum: int = 2) -> Line | None:
    """The usable positions of a GeoJSON line, if at least ``minimum`` are left."""
    if not isinstance(value, list | tuple):
        return None
    points = [p for p in (_position(item) for item in value) if p is not None]
    return points if len(points) >= minimum else None


def _polygon(value: Any) -> Polygon | None:
    """A GeoJSON polygon's rings; an unusable outer ring drops it, unusable holes go."""
    if not isinstance(value, list | tuple) or not value:
        return None
    outer = _line(value[0], 3)
    if outer is None:
        return None
    return [outer, *(hole for hole in (_line(r, 3) for r in value[1:]) if hole is not None)]


def _shapes(geometry: Any, depth: int = 0) -> tuple[list[Polygon], list[Line]]:
    """The polygons and lines of a GeoJSON geometry (points are not outlines)."""
    polygons: list[Polygon] = []
    lines: list[Line] = []
    if not isinstance(geometry, Mapping) or depth > _MAX_GEOMETRY_DEPTH:
        return polygons, lines
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    parts = coords if isinstance(coords, list | tuple) else []
    if kind == "Polygon":
        polygons += [p for p in [_polygon(coords)] if p is not None]
    elif kind == "MultiPolygon":
        polygons += [p for p in (_polygon(c) for c in parts) if p is not None]
    elif kind == "LineString":
        lines += [line for line in [_line(coords)] if line is not None]
    elif kind == "MultiLineString":
        lines += [line for line in (_line(c) for c in parts) if line is not None]
    elif kind == "GeometryCollection":
        members = geometry.get("geometries")
        for member in members if isinstance(members, list | tuple) else []:
            more_polygons, more_lines = _shapes(member, depth + 1)
            polygons += more_polygons
            lines += more_lines
    return polygons, lines


def _features(collection: Any) -> list[Mapping[str, Any]]:
    """The features of a FeatureCollection (anything else: none)."""
    if not isinstance(collection, Mapping):
        return []
    features = collection.get("features")
    if not isinstance(features, list | tuple):
        return []
    return [f for f in features if isinstance(f, Mapping)]


def _properties(feature: Mapping[str, Any]) -> Mapping[str, Any]:
    props = feature.get("properties")
    return props if isinstance(props, Mapping) else {}


def _feature_name(feature: Mapping[str, Any]) -> str:
    """A boundary's or geofence's name (``name``, ``NAME`` or ``label``, as the map page)."""
    props = _properties(feature)
    for key in ("name", "NAME", "label"):
        if props.get(key):
            return _plain(props[key])
    return ""


def _circle(feature: Mapping[str, Any]) -> tuple[Point, float] | None:
    """An alert circle's centre and radius in metres (a Point with ``radius_km``)."""
    geometry = feature.get("geometry")
    if not isinstance(geometry, Mapping) or geometry.get("type") != "Point":
        return None
    centre = _position(geometry.get("coordinates"))
    radius = _number(_properties(feature).get("radius_km"))
    if centre is None or radius is None or radius < 0.0:
        return None
    return centre, min(radius, MAX_AREA_RADIUS_KM) * 1000.0


class _Extent:
    """The box around everything drawn, in degrees."""

    def __init__(self) -> None:
        self.south = self.west = math.inf
        self.north = self.east = -math.inf

    def add(self, point: Point, metres: float = 0.0) -> None:
        lat, lon = point
        dlat = metres / 111_320.0
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        self.south = max(min(self.south, lat - dlat), -90.0)
        self.north = min(max(self.north, lat + dlat), 90.0)
        self.west = max(min(self.west, lon - dlon), -180.0)
        self.east = min(max(self.east, lon + dlon), 180.0)

    def add_all(self, points: Iterable[Point]) -> None:
        for point in points:
            self.add(point)

    def box(self) -> list[Point] | None:
        """[[south, west], [north, east]], or None when nothing was added."""
        if self.south > self.north:
            return None
        return [[self.south, self.west], [self.north, self.east]]


def _view_box(bounds: Any) -> list[Point] | None:
    """The snapshot's [west, south, east, north] as [[south, west], [north, east]]."""
    if not isinstance(bounds, list | tuple) or len(bounds) != 4:
        return None
    west, south, east, north = (_number(b) for b in bounds)
    if west is None or south is None or east is None or north is None:
        return None
    if not (-90.0 <= south < north <= 90.0 and -180.0 <= west < east <= 180.0):
        return None
    return [[south, west], [north, east]]


# -- assets ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def inline_leaflet() -> tuple[str, str]:
    """Leaflet's script and style sheet from the installed xstatic package, ready to inline:
    the script without its source-map comment, the style sheet without comments and with
    its images as ``data:`` URLs."""
    root = asset_roots()["leaflet"]
    script = _SOURCE_MAP.sub("", (root / "leaflet.js").read_text(encoding="utf-8")).rstrip()
    if "</script" in script.lower() or "<!--" in script:
        raise RuntimeError("leaflet.js cannot be inlined in a <script> element")

    def image(match: re.Match[str]) -> str:
        data = (root / "images" / match.group(2)).read_bytes()
        return "url(data:image/png;base64,{})".format(base64.b64encode(data).decode("ascii"))

    css = _CSS_IMAGE.sub(image, _CSS_COMMENT.sub("", (root / "leaflet.css").read_text("utf-8")))
    if "</style" in css.lower():
        raise RuntimeError("leaflet.css cannot be inlined in a <style> element")
    return script, css


def _page_colors(colors: Mapping[str, str] | None) -> dict[str, str]:
    """The palette's map colours, with the usable ``#rrggbb`` values of ``colors`` over them."""
    merged = dict(MAP_PAGE_COLORS)
    for key, value in (colors or {}).items():
        if isinstance(value, str) and _COLOUR.fullmatch(value):
            merged[str(key)] = value.lower()
        else:
            log.warning("map export: colour %r is not #rrggbb; the palette's is used", key)
    return merged


def _page_css(c: Mapping[str, str]) -> str:
    """The page's own style sheet (colours already checked to be ``#rrggbb``)."""
    rules = [
        f"html, body, .leaflet-container {{ background: {c['background']}; }}",
        ".leaflet-container { font-family: 'Noto Sans', 'Noto Sans CJK SC', 'DejaVu Sans',"
        " sans-serif; }",
        ".cityops-export-box { position: fixed; z-index: 1000; padding: 8px 12px;"
        f" background: {c['boundary-fill']}; color: {c['boundary-label']};"
        f" border: 1px solid {c['boundary-line']}; border-radius: 4px;"
        " font: 13px/1.4 'Noto Sans', 'Noto Sans CJK SC', 'DejaVu Sans', sans-serif;"
        " max-width: 42ch; overflow-wrap: break-word; }",
        ".cityops-export-header { top: 10px; left: 10px; }",
        ".cityops-export-legend { bottom: 24px; right: 10px; }",
        ".cityops-export-title { font-size: 15px; font-weight: 600; margin: 0 0 2px; }",
        f".cityops-export-note {{ color: {c['tip-dim-text']}; font-style: italic; }}",
        ".cityops-export-legend ul { list-style: none; margin: 0; padding: 0; }",
        # A priority's key: its colour and number on a small bar, a shape of no entity type.
        ".cityops-export-swatch { display: inline-block; box-sizing: border-box;"
        " min-width: 20px; height: 14px; margin-right: 6px; padding: 0 3px;"
        f" border: 1px solid {c['marker-outline']}; border-radius: 3px;"
        " font: bold 11px/12px sans-serif; text-align: center; vertical-align: -2px; }",
        ".cityops-export-legend ul.cityops-export-shapes { margin-top: 4px; padding-top: 4px;"
        f" border-top: 1px solid {c['boundary-line']}; }}",
        ".cityops-export-legend .cityops-export-symbol { margin: 0 9px 0 3px;"
        " vertical-align: -2px; }",
        ".cityops-export-marker { background: none; border: none; }",
        ".cityops-export-marker svg { display: block; }",
        f".cityops-export-stale {{ color: {c['tip-stale-text']}; font-style: italic; }}",
        f".cityops-export-kind {{ color: {c['tip-dim-text']}; }}",
        f".cityops-export-alarm {{ color: {c['tip-alarm-text']}; font-weight: 600; }}",
        f".cityops-export-area {{ color: {c['tip-area-text']}; }}",
        ".cityops-export-name { font-weight: 600; }",
        ".cityops-export-tip { width: max-content; max-width: 320px; white-space: normal;"
        " overflow-wrap: break-word; }",
        ".cityops-export-label { background: transparent; border: none; box-shadow: none;"
        f" color: {c['boundary-label']}; font-weight: 600;"
        f" text-shadow: 0 0 3px {c['boundary-label-halo']}, 0 0 3px {c['boundary-label-halo']};"
        " }",
        ".cityops-export-label::before { display: none; }",
        ".cityops-export-geofence { font-style: italic; font-weight: 400; }",
    ]
    for name in ("normal", "stale", *(sev.label for sev in Severity)):
        rules.append(
            f".cityops-export-swatch-{name} {{ background: {c[name]}; color: {c[name + '-text']};"
            " }"
        )
    rules.append(".cityops-export-swatch-stale { opacity: 0.55; border-style: dashed; }")
    return "\n".join(rules)


# -- folium elements ------------------------------------------------------------------------


class _StandaloneMap(folium.Map):
    """A folium map that links nothing: Leaflet is inlined by :func:`standalone_map_html`."""

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []


class _Raw(Element):
    """Markup that goes into the page as it is, never through Jinja."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self._name = "Raw"
        self._markup = markup

    def render(self, **kwargs: Any) -> str:
        del kwargs
        return self._markup


def _tip(markup: str) -> folium.Tooltip:
    """A hover tooltip; ``markup`` is built only from :func:`_markup` texts."""
    return folium.Tooltip(markup, sticky=True, class_name="cityops-export-tip")


def _label(markup: str, kind: str) -> folium.Tooltip:
    """A permanent label at the centre of its outline."""
    return folium.Tooltip(
        markup,
        sticky=False,
        permanent=True,
        direction="center",
        interactive=False,
        class_name=f"cityops-export-label cityops-export-{kind}",
    )


def _box_size(polygon: Polygon) -> float:
    """A rough size of a polygon's outer ring (for choosing which part gets the label)."""
    lats = [p[0] for p in polygon[0]]
    lons = [p[1] for p in polygon[0]]
    return (max(lats) - min(lats)) * (max(lons) - min(lons))


def _draw_outlines(
    fmap: folium.Map,
    collection: Any,
    style: Mapping[str, Any],
    kind: str,
    extent: _Extent,
) -> int:
    """District boundaries or geofences: outlines, each named by a permanent label."""
    count = 0
    for feature in _features(collection):
        polygons, lines = _shapes(feature.get("geometry"))
        if not polygons and not lines:
            continue
        count += 1
        name = _feature_name(feature)
        labelled = max(polygons, key=_box_size) if polygons else None
        for polygon in polygons:
            extent.add_all(polygon[0])
            shape = folium.Polygon(polygon, fill=False, **style)
            if name and polygon is labelled:
                shape.add_child(_label(_markup(name), kind))
            shape.add_to(fmap)
        for line in lines:
            extent.add_all(line)
            path = folium.PolyLine(line, **style)  # type: ignore[no-untyped-call]
            if name and labelled is None and line is lines[0]:
                path.add_child(_label(_markup(name), kind))
            path.add_to(fmap)
    return count


def _draw_areas(fmap: folium.Map, areas: Any, colors: Mapping[str, str], extent: _Extent) -> int:
    """Alert areas: outlines in their priority's colour, lightly filled; a tooltip each."""
    count = 0
    records = [a for a in areas if isinstance(a, Mapping)] if isinstance(areas, list) else []
    ranked = []
    for record in records:
        severity = _severity(record.get("severity"))
        if severity is not None:
            ranked.append((severity, record))
    # The most urgent on top.
    for severity, record in sorted(ranked, key=lambda pair: int(pair[0])):
        features = _features(record.get("geojson"))
        descriptions = [_plain(_properties(f).get("areaDesc")) for f in features]
        label = _plain(record.get("label")) or _plain(record.get("id"))
        lines = [
            f'<span class="cityops-export-name">{_markup(label)}</span>',
            f'<span class="cityops-export-alarm">{_markup(_alert_words(severity))}</span>',
            *(
                f'<span class="cityops-export-area">{_markup(d)}</span>'
                for d in dict.fromkeys(descriptions)
                if d
            ),
        ]
        tip = "<br>".join(lines)
        style: dict[str, Any] = {
            "color": colors[severity.label],
            "weight": 2,
            "opacity": 0.95,
            "fill": True,
            "fill_color": colors[severity.label],
            "fill_opacity": 0.15,
        }
        drawn = False
        for feature in features:
            circle = _circle(feature)
            if circle is not None:
                centre, metres = circle
                extent.add(centre, metres)
                shape: Any = folium.Circle(centre, radius=metres, **style)
                shape.add_child(_tip(tip))
                shape.add_to(fmap)
                drawn = True
                continue
            polygons, _lines = _shapes(feature.get("geometry"))
            for polygon in polygons:
                extent.add_all(polygon[0])
                part = folium.Polygon(polygon, **style)
                part.add_child(_tip(tip))
                part.add_to(fmap)
                drawn = True
        count += drawn
    return count


def _alert_words(severity: Severity) -> str:
    return translate("MapExport", "alarm: {priority}").format(priority=_priority_words(severity))


def _draw_tracks(fmap: folium.Map, tracks: Any, colors: Mapping[str, str], extent: _Extent) -> int:
    """Vehicle tracks as lines, named in a tooltip."""
    count = 0
    for track in tracks if isinstance(tracks, list) else []:
        if not isinstance(track, Mapping):
            continue
        raw = track.get("points")
        points = [
            p
            for p in (
                _latlon(item[0], item[1])
                for item in (raw if isinstance(raw, list | tuple) else [])
                if isinstance(item, list | tuple) and len(item) >= 2
            )
            if p is not None
        ]
        if len(points) < 2:
            continue
        extent.add_all(points)
        name = _plain(track.get("name")) or _plain(track.get("id"))
        line = folium.PolyLine(  # type: ignore[no-untyped-call]
            points, color=colors["track"], weight=3, opacity=0.85, line_cap="round"
        )
        if name:
            line.add_child(_tip(f'<span class="cityops-export-name">{_markup(name)}</span>'))
        line.add_to(fmap)
        count += 1
    return count


def _entity_tip(record: Mapping[str, Any], severity: Severity | None, stale: bool) -> str:
    name = _plain(record.get("name")) or _plain(record.get("id"))
    kind = " · ".join(t for t in (_plain(record.get("type")), _plain(record.get("domain"))) if t)
    lines = [f'<span class="cityops-export-name">{_markup(name)}</span>']
    if kind:
        lines.append(f'<span class="cityops-export-kind">{_markup(kind)}</span>')
    if severity is not None:
        lines.append(f'<span class="cityops-export-alarm">{_markup(_alert_words(severity))}</span>')
    if stale:
        words = translate("MapExport", "no recent data")
        lines.append(f'<span class="cityops-export-stale">{_markup(words)}</span>')
    return "<br>".join(lines)


def _symbol_icon(svg: str, size: int) -> JsCode:
    """A ``DivIcon`` holding ``svg``, given to the marker when it is made: set later (as
    folium's ``DivIcon`` is), the marker would first show Leaflet's default icon, an image
    fetched from next to the page. The options are written as folium writes them, as JSON
    with ``<``, ``>``, ``&`` and ``'`` escaped."""
    options = {
        "html": svg,
        "icon_size": [size, size],
        "icon_anchor": [size // 2, size // 2],
        "class_name": "cityops-export-marker",
    }
    return JsCode(f"L.divIcon({tojavascript(options)})")


def _rank(severity: Severity | None, stale: bool) -> int:
    """Which symbols lie on top (as on the page): stale ones lowest, then normal ones, then
    alarms by priority."""
    if severity is None:
        return 0 if stale else 1
    return 1 + int(severity)


_RANK_Z = 100_000
"""A symbol's z-index step per rank (Leaflet adds the marker's y in pixels)."""


def _draw_entities(
    fmap: folium.Map, entities: Any, colors: Mapping[str, str], extent: _Extent
) -> tuple[int, int, set[str]]:
    """Entities as the page draws them: their type's shape, grey when normal, larger and
    in their priority's colour with its number in alarm, faded and dashed when stale;
    each with a tooltip that names its priority in words. Returns (drawn, in alarm, the
    shapes drawn)."""
    drawn: list[tuple[int, Point, Mapping[str, Any], Severity | None, bool]] = []
    for record in entities if isinstance(entities, list) else []:
        if not isinstance(record, Mapping):
            continue
        point = _latlon(record.get("lat"), record.get("lon"))
        if point is None:
            continue
        severity = _severity(record.get("severity"))
        stale = bool(record.get("stale"))
        drawn.append((_rank(severity, stale), point, record, severity, stale))
    # Stale and normal ones first, then alarms, the most urgent on top.
    drawn.sort(key=lambda item: item[0])
    shapes: set[str] = set()
    for rank, point, record, severity, stale in drawn:
        extent.add(point)
        shape = shape_name(record.get("shape"))
        shapes.add(shape)
        mark = "" if severity is None else str(_priority(severity))
        level = severity.label if severity is not None else "stale" if stale else "normal"
        marker: Any = folium.Marker(point, z_index_offset=rank * _RANK_Z)
        marker.options["icon"] = _symbol_icon(
            symbol_svg(shape, level, colors, stale=stale, mark=mark), symbol_size(mark)
        )
        marker.add_child(_tip(_entity_tip(record, severity, stale)))
        marker.add_to(fmap)
    alarms = sum(1 for item in drawn if item[3] is not None)
    return len(drawn), alarms, shapes


# -- header, legend, page -------------------------------------------------------------------


def _header(title: str, saved_at: str, counts: Mapping[str, int], heat: bool) -> str:
    notes = [translate("MapExport", "base map not included")]
    if heat:
        notes.append(translate("MapExport", "heat layer not included"))
    counts_text = translate(
        "MapExport", "entities: {entities} · in alarm: {alarms} · alert areas: {areas}"
    ).format(**counts)
    saved = translate("MapExport", "Saved {time}").format(time=_plain(saved_at))
    return (
        '<div class="cityops-export-box cityops-export-header" role="banner">'
        f'<div class="cityops-export-title">{_markup(title)}</div>'
        f"<div>{_markup(saved)}</div>"
        f"<div>{_markup(counts_text)}</div>"
        f'<div class="cityops-export-note">{_markup(" · ".join(notes))}</div>'
        "</div>"
    )


def _legend(shapes: Iterable[str], colors: Mapping[str, str]) -> str:
    """The key: each priority's colour and number, normal and stale; then what each shape
    drawn stands for."""
    rows = [
        (sev.label, str(_priority(sev)), _priority_words(sev))
        for sev in sorted(Severity, key=_priority)
    ]
    rows.append(("normal", "", translate("MapExport", "normal")))
    rows.append(("stale", "", translate("MapExport", "no recent data (faded)")))
    items = "".join(
        f'<li><span class="cityops-export-swatch cityops-export-swatch-{name}">{mark}</span>'
        f"{_markup(words)}</li>"
        for name, mark, words in rows
    )
    drawn = set(shapes)
    families = "".join(
        f"<li>{symbol_svg(shape, 'normal', colors, size=14)}"
        f"{_markup(translate('MapShapes', title))}</li>"
        for shape, title in SHAPE_FAMILIES
        if shape in drawn
    )
    heading = _markup(translate("MapExport", "Alarm priority"))
    key = f'<ul class="cityops-export-shapes">{families}</ul>' if families else ""
    return (
        '<div class="cityops-export-box cityops-export-legend" role="note">'
        f'<div class="cityops-export-name">{heading}</div><ul>{items}</ul>{key}</div>'
    )


def _csp(page: str) -> str:
    """A Content-Security-Policy: no fetch at all, and only this page's own scripts."""
    hashes = inline_script_hashes(page)
    return (
        "default-src 'none'; "
        f"script-src {hashes}; "
        "style-src 'unsafe-inline'; "
        "img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


def _check_scripts(page: str) -> None:
    """Fail closed if the page holds a script of any kind that is not one of its own."""
    opened = len(re.findall(r"<script", page, re.IGNORECASE))
    bodies = len(_SCRIPT.findall(page))
    if opened != _EXPECTED_SCRIPTS or bodies != _EXPECTED_SCRIPTS:
        raise RuntimeError(
            f"map export: expected {_EXPECTED_SCRIPTS} scripts, found {opened}; not saved"
        )


def standalone_map_html(
    snapshot: Mapping[str, Any],
    *,
    title: str,
    saved_at: str,
    colors: Mapping[str, str] | None = None,
) -> str:
    """One self-contained HTML page of what the map showed, for an incident report.

    ``snapshot`` is what :meth:`widgets.map_view.MapView.snapshot` returns; ``title`` and
    ``saved_at`` head the page; ``colors`` default to the palette's
    :data:`~widgets.palette.MAP_PAGE_COLORS` (missing or unusable entries too). The page
    fetches nothing: Leaflet is inlined and there is no base map. It shows district
    outlines with their names, geofences dashed, alert areas in their priority's colour,
    vehicle tracks and every entity in its type's shape (grey; larger, in its priority's
    colour and with its number in alarm; faded and dashed when stale) with a tooltip
    naming it and its priority in words; a header gives the title, the time and the
    counts, a legend the priorities and the shapes. The heat layer is not drawn.
    Malformed records and shapes are left out, never raise.
    """
    page_colors = _page_colors(colors)
    view = _view_box(snapshot.get("bounds"))
    fmap = _StandaloneMap(
        location=[0.0, 0.0],
        zoom_start=2,
        tiles=None,
        attribution_control=False,
        control_scale=True,
        zoom_control="topright",
        prefer_canvas=False,
        font_size="13px",
        zoom_snap=0.25,
    )
    extent = _Extent()
    thin = {"color": page_colors["boundary-line"], "weight": 1, "opacity": 0.8}
    _draw_outlines(fmap, snapshot.get("boundaries"), thin, "district", extent)
    dashed = {
        "color": page_colors["boundary-line"],
        "weight": 2.5,
        "opacity": 0.9,
        "dash_array": "10 6",
    }
    _draw_outlines(fmap, snapshot.get("geofences"), dashed, "geofence", extent)
    areas = _draw_areas(fmap, snapshot.get("areas"), page_colors, extent)
    _draw_tracks(fmap, snapshot.get("tracks"), page_colors, extent)
    entities, alarms, shapes = _draw_entities(fmap, snapshot.get("entities"), page_colors, extent)

    box = view or extent.box()
    if box is not None:
        fmap.location = [(box[0][0] + box[1][0]) / 2, (box[0][1] + box[1][1]) / 2]
        # Room for the header box at the top left and the legend at the bottom right.
        fmap.fit_bounds(
            box, padding_top_left=(24, 110), padding_bottom_right=(200, 24), max_zoom=17
        )

    script, css = inline_leaflet()
    figure: Any = fmap.get_root()  # a branca Figure
    head = (
        f"<title>{_markup(title)}</title>\n"
        f"<style>{css}</style>\n"
        f"<style>{_page_css(page_colors)}</style>\n"
        f"<script>{script}</script>\n"
    )
    figure.header.add_child(_Raw(head), name="cityops_export_head")
    counts = {"entities": entities, "alarms": alarms, "areas": areas}
    heat = snapshot.get("heat") is not None
    figure.html.add_child(
        _Raw(_header(title, saved_at, counts, heat) + _legend(shapes, page_colors)),
        name="cityops_export_boxes",
    )
    page: str = figure.render()
    _check_scripts(page)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{_csp(page)}" />'
    charset = '<meta http-equiv="content-type" content="text/html; charset=UTF-8" />'
    if charset in page:
        return page.replace(charset, f"{charset}\n    {meta}", 1)
    return page.replace("<head>", f"<head>\n    {meta}", 1)
