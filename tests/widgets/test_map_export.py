"""The map saved as one standalone HTML file (issue 13): no network at all, Leaflet inlined,
everything the map showed drawn, and feed strings only ever shown as text."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
import xstatic.pkg.leaflet
from PySide6.QtCore import QUrl
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineSettings,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from pytestqt.qtbot import QtBot

from widgets import map_export, palette
from widgets.map_export import inline_leaflet, standalone_map_html
from widgets.map_export_symbols import symbol_svg
from widgets.map_symbols import SHAPE_OUTLINES, SHAPES, shape_of

TIMEOUT_MS = 15_000
TITLE = "Incident 2024-117: flooding in Ziyang"
SAVED = "2024-05-01 10:42 CST"

# Each payload sets window.pwned if it ever runs; {% raw %} breaks a Jinja render if the
# text is ever read as a template; the beacon would show up as a request.
PAYLOADS = (
    '<img src=x onerror="window.pwned=1">',
    "</script><script>window.pwned=2</script>",
    "${window.pwned=3}",
    "`;window.pwned=4;`",
    '\'"><svg onload="window.pwned=5">',
    "\\u0060\\x3cb\\x3e\\",
    "{{7*7}} {% raw %} {# #}",
    '<img src="http://127.0.0.1:9/beacon.png">',
)
HOSTILE = " ".join(PAYLOADS)

MAP = 'window[Object.keys(window).find((k) => k.startsWith("map_"))]'

# Leaflet layers by kind (L.Circle is a CircleMarker, L.Polygon a Polyline).
COUNT_LAYERS = f"""(() => {{
    const map = {MAP};
    const counts = {{
        markers: 0, circleMarkers: 0, circles: 0, polygons: 0, polylines: 0, tooltips: 0
    }};
    map.eachLayer((layer) => {{
        if (layer instanceof L.Marker) counts.markers += 1;
        else if (layer instanceof L.Circle) counts.circles += 1;
        else if (layer instanceof L.CircleMarker) counts.circleMarkers += 1;
        else if (layer instanceof L.Polygon) counts.polygons += 1;
        else if (layer instanceof L.Polyline) counts.polylines += 1;
        if (layer.getTooltip && layer.getTooltip()) counts.tooltips += 1;
    }});
    return counts;
}})()"""

# Opens every tooltip and returns the text each shows.
TOOLTIP_TEXTS = f"""(() => {{
    const texts = [];
    {MAP}.eachLayer((layer) => {{
        const tip = layer.getTooltip && layer.getTooltip();
        if (tip) {{
            layer.openTooltip();
            texts.push(tip.getElement().textContent);
        }}
    }});
    return texts;
}})()"""

# Each entity's symbol as drawn, by the first word of its name: the classes, shape and
# size of its <svg>, its fill, rim and opacity, the number written in it, its z-index.
SYMBOLS = f"""(() => {{
    const out = {{}};
    {MAP}.eachLayer((layer) => {{
        if (!(layer instanceof L.Marker)) return;
        const icon = layer.getElement();
        const svg = icon.querySelector("svg");
        const outline = svg.querySelector("circle, polygon");
        const paint = outline.parentElement;
        const text = svg.querySelector("text");
        const name = layer.getTooltip().getContent().match(/name">([^ <]+)/)[1];
        out[name] = {{
            classes: [...svg.classList].sort(),
            svgs: icon.querySelectorAll("svg").length,
            element: outline.tagName,
            points: outline.getAttribute("points"),
            size: Math.round(svg.getBoundingClientRect().width),
            fill: paint.getAttribute("fill"),
            stroke: paint.getAttribute("stroke"),
            dash: paint.getAttribute("stroke-dasharray"),
            opacity: getComputedStyle(svg.firstElementChild).opacity,
            mark: text ? text.textContent : null,
            markFill: text ? text.getAttribute("fill") : null,
            z: Number(icon.style.zIndex),
        }};
    }});
    return out;
}})()"""

pytestmark = pytest.mark.qt_log_ignore(
    "QRhiGles2",
    "Failed to create RHI",
    "GPUInfo not initialized",
    "Unable to detect GPU vendor",
)


# -- snapshots ------------------------------------------------------------------------------


def entity(entity_id: str, lat: float, lon: float, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": entity_id,
        "name": f"Station {entity_id}",
        "type": "Air quality",
        "domain": "Environment",
        "shape": "circle",
        "group": "environment",
        "lat": lat,
        "lon": lon,
        "severity": None,
        "stale": False,
        "values": {},
    }
    record.update(fields)
    return record


def square(name: Any, lon: float, lat: float, size: float = 0.05) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size]]
    return {
        "type": "Feature",
        "properties": {"name": name},
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
    }


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def area(area_id: str, severity: str, label: Any, *features: dict[str, Any]) -> dict[str, Any]:
    return {"id": area_id, "severity": severity, "label": label, "geojson": collection(*features)}


def circle_feature(lon: float, lat: float, radius_km: float, desc: Any = None) -> dict[str, Any]:
    props: dict[str, Any] = {"radius_km": radius_km}
    if desc is not None:
        props["areaDesc"] = desc
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


def city_snapshot(text: str = "") -> dict[str, Any]:
    """Three entities (normal, critical, stale high), two alert areas (a polygon and a
    circle), two districts, a geofence, two tracks; ``text`` appended to every text."""
    flood = square(f"zone{text}", 112.30, 28.55)
    flood["properties"] = {"areaDesc": f"Zi River banks{text}"}
    return {
        "entities": [
            entity(
                "a",
                28.56,
                112.33,
                name=f"Air a{text}",
                type=f"Air quality{text}",
                domain=f"Environment{text}",
            ),
            entity(
                "b",
                28.58,
                112.36,
                name=f"Camera b{text}",
                type="Camera",
                domain="Traffic",
                shape="diamond",
                severity="critical",
            ),
            entity(
                "c",
                28.57,
                112.31,
                name=f"Pump c{text}",
                shape="square",
                severity="high",
                stale=True,
            ),
        ],
        "areas": [
            area("flood", "high", f"Flood warning{text}", flood),
            area(
                "fire",
                "critical",
                f"Fire{text}",
                circle_feature(112.36, 28.58, 1.2, f"Kangfu Rd{text}"),
            ),
        ],
        "boundaries": collection(
            square(f"Ziyang{text}", 112.28, 28.55), square(f"Heshan{text}", 112.38, 28.55)
        ),
        "geofences": collection(square(f"Depot{text}", 112.36, 28.59, 0.01)),
        "tracks": [
            {
                "id": "bus-12",
                "name": f"Bus 12{text}",
                "points": [[28.56, 112.30], [28.57, 112.33], [28.59, 112.37]],
            },
            {"id": "bus-7", "name": "", "points": [[28.55, 112.40], [28.56, 112.41]]},
        ],
        "heat": None,
        "bounds": None,
        "layers": {},
    }


def without_leaflet(page: str) -> str:
    """The page with the inlined Leaflet script and style sheet taken out."""
    script, css = inline_leaflet()
    assert script in page and css in page
    return page.replace(script, "").replace(css, "")


def without_csp(page: str) -> str:
    stripped = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    assert stripped != page
    return stripped


# -- the HTML itself ------------------------------------------------------------------------


def test_page_is_one_file_with_leaflet_inlined() -> None:
    page = standalone_map_html(city_snapshot(), title=TITLE, saved_at=SAVED)
    script, css = inline_leaflet()
    assert script in page and css in page
    assert "L.map(" in page
    version = re.search(r'\.version="(\d+\.\d+\.\d+)"', page)
    assert version is not None
    assert xstatic.pkg.leaflet.VERSION.startswith(version.group(1))
    # Nothing linked: no script, style sheet, image or frame from anywhere.
    assert not re.search(r"<(?:link|iframe|object|embed|img)\b", without_leaflet(page), re.I)
    assert not re.search(r"<script[^>]*\bsrc", page, re.I)
    assert page.count("<script>") == page.count("</script>") == 3


def test_page_names_no_external_url() -> None:
    page = standalone_map_html(city_snapshot(), title=TITLE, saved_at=SAVED)
    own = without_leaflet(page)
    assert not re.search(r"\b(?:src|href|action|data|poster)\s*=", own, re.I)
    assert not re.search(r"https?:|ftp:|file:|cityops:|qrc:|blob:|ws:|wss:", own, re.I)
    assert not re.search(r"""["'(=]\s*//""", own)
    assert "//cdn" not in page
    assert "@import" not in page
    # Leaflet's own text: its images are data: URLs, its source map is gone.
    script, css = inline_leaflet()
    urls = re.findall(r"url\(([^)]*)\)", css)
    assert urls
    assert all(u.startswith(("data:image/png;base64,", "#default#VML")) for u in urls), urls
    assert "sourceMappingURL" not in script
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()
    # The policy forbids every fetch, and scripts other than the page's own.
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert policy is not None
    assert "default-src 'none'" in policy.group(1)
    assert "unsafe-inline" not in policy.group(1).split("script-src")[1].split(";")[0]


def test_header_counts_and_legend() -> None:
    snapshot = city_snapshot()
    snapshot["heat"] = {"points": [[28.5, 112.3, 1.0]]}
    page = standalone_map_html(snapshot, title=TITLE, saved_at=SAVED)
    assert f'<div class="cityops-export-title">{TITLE}</div>' in page
    assert f"Saved {SAVED}" in page
    assert "entities: 3 · in alarm: 2 · alert areas: 2" in page
    assert "base map not included" in page
    assert "heat layer not included" in page
    for words in (
        "priority 1 (critical)",
        "priority 2 (high)",
        "priority 3 (medium)",
        "priority 4 (low)",
    ):
        assert words in page
    assert "heat layer" not in standalone_map_html(city_snapshot(), title="t", saved_at="s")


def test_colours_come_from_the_palette(theme: palette.Theme) -> None:
    del theme  # the active one
    own = without_leaflet(standalone_map_html(city_snapshot(), title=TITLE, saved_at=SAVED))
    used = {c.lower() for c in re.findall(r"#[0-9a-fA-F]{6}\b", own)}
    assert used
    assert used <= set(palette.MAP_PAGE_COLORS.values())
    for name in ("critical", "high", "normal", "track", "background", "boundary-line"):
        assert palette.MAP_PAGE_COLORS[name] in own


def test_colours_can_be_given_and_bad_ones_are_ignored() -> None:
    colors = {
        "critical": "#123456",
        "track": "red; } body { visibility: collapse",
        "high": "#ABCDEF",
    }
    own = without_leaflet(
        standalone_map_html(city_snapshot(), title=TITLE, saved_at=SAVED, colors=colors)
    )
    assert "#123456" in own and "#abcdef" in own
    assert "collapse" not in own
    assert palette.MAP_PAGE_COLORS["track"] in own


def test_texts_are_never_read_as_templates() -> None:
    """branca renders every element's output as a Jinja template once more: template syntax
    in a feed string must neither run (no 49, no access to Python) nor break the export."""
    probe = "{{ cycler.__init__.__globals__.os.getcwd() }}"
    snapshot = city_snapshot(" {{7*7}} {% raw %} " + probe)
    page = standalone_map_html(snapshot, title="{{7*7}}" + probe, saved_at="{% endraw %}")
    # Each text is still there, written as character references: the title (twice), the
    # entities' tooltips (one with a hostile name, type and domain, two with a hostile
    # name), two areas' labels and descriptions, one track, two districts and a geofence.
    texts = 3 + 1 + 1 + 2 * 2 + 1 + 3
    assert page.count("&#x7b;&#x7b;7*7&#x7d;&#x7d;") == 2 + texts
    assert page.count("&#x7b;% raw %&#x7d;") == texts
    assert "&#x7b;% endraw %&#x7d;" in page
    assert str(Path.cwd()) not in page
    assert "{" not in re.sub(r"<script>.*?</script>|<style>.*?</style>", "", page, flags=re.S)


def test_malformed_records_are_left_out_without_breaking_the_export() -> None:
    nan = math.nan
    snapshot: dict[str, Any] = {
        "entities": [
            entity("ok", 28.5, 112.3),
            entity("nan", nan, 112.3),
            entity("str", "28.5", 112.3),
            entity("far", 95.0, 112.3),
            entity("bool", True, 112.3),
            entity("sev", 28.5, 112.3, severity="apocalyptic"),
            "not a record",
            None,
        ],
        "areas": [
            area("bad-sev", "urgent", "x", square("x", 112.3, 28.5)),
            area("no-geo", "high", "x"),
            {"id": "junk", "severity": "low", "geojson": "http://example.com/a.json"},
            area("neg", "low", "x", circle_feature(112.3, 28.5, -1.0)),
            area(
                "deep",
                "low",
                "x",
                {
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": [[[1, 2], [3]]]},
                },
            ),
        ],
        "boundaries": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": "line"},
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[112.3, 28.5], [112.4, 28.6]],
                    },
                },
                {"type": "Feature", "geometry": None},
                {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": "oops"}},
                42,
            ],
        },
        "geofences": "/etc/passwd",
        "tracks": [{"id": "t", "points": [[nan, 1.0], [28.5, 112.3]]}, {"points": None}, 7],
        "heat": None,
        "bounds": [1, 2, "x", 4],
        "layers": None,
    }
    page = standalone_map_html(snapshot, title=TITLE, saved_at=SAVED)
    assert "entities: 2 · in alarm: 0 · alert areas: 0" in page
    assert page.count("L.marker(") == page.count("L.divIcon(") == 2
    assert "L.circleMarker(" not in page
    assert page.count("L.polyline(") == 1  # the line-string boundary
    assert "passwd" not in page and "example.com" not in page


def test_symbols_are_inert_markup_of_known_shapes() -> None:
    """A symbol is built from a known shape, palette colours and a digit only: nothing in
    it means anything to JSON, a template literal or Jinja, and anything else is refused."""
    colors = palette.MAP_PAGE_COLORS
    for shape in SHAPES:
        svg = symbol_svg(shape, "critical", colors, stale=True, mark="1")
        assert not re.search(r"[{}`$\\]", svg)
        assert svg.count("<svg") == svg.count("<text") == 1
        assert f"cityops-export-shape-{shape}" in svg
        assert ("<circle" in svg) is (shape not in SHAPE_OUTLINES)
    for bad in (("<b>", "normal", ""), ("circle", "x y", ""), ("circle", "low", "<i>")):
        with pytest.raises(ValueError):
            symbol_svg(bad[0], bad[1], colors, mark=bad[2])
    with pytest.raises(ValueError):
        symbol_svg("circle", "normal", {**colors, "normal": "red"})


def test_an_unexpected_script_stops_the_export(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last line of defence: should a text ever get through unescaped, the export
    fails instead of saving a page with someone else's script."""
    monkeypatch.setattr(map_export, "_markup", lambda value, limit=500: str(value))
    snapshot = city_snapshot()
    snapshot["entities"][0]["name"] = "<script>window.pwned=2</script>"
    with pytest.raises(RuntimeError, match="script"):
        standalone_map_html(snapshot, title=TITLE, saved_at=SAVED)


# -- the page in a browser ------------------------------------------------------------------


class RecordingInterceptor(QWebEngineUrlRequestInterceptor):
    """Remembers every URL the profile's pages ask for."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        self.urls.append(info.requestUrl().toString())


class RecordingPage(QWebEnginePage):
    """Keeps the page's console messages (errors fail the tests that read them)."""

    def __init__(self, profile: QWebEngineProfile) -> None:
        super().__init__(profile)
        self.messages: list[tuple[str, str]] = []

    def javaScriptConsoleMessage(
        self,
        level: QWebEnginePage.JavaScriptConsoleMessageLevel,
        message: str,
        line: int,
        source: str,
    ) -> None:
        self.messages.append((level.name, f"{message} ({source}:{line})"))

    def errors(self) -> list[str]:
        return [m for level, m in self.messages if level == "ErrorMessageLevel"]


@pytest.fixture
def profile(qapp: Any) -> Iterator[QWebEngineProfile]:
    """A fresh off-the-record profile whose interceptor records every request."""
    prof = QWebEngineProfile()
    spy = RecordingInterceptor()
    prof.setUrlRequestInterceptor(spy)
    prof.spy = spy  # type: ignore[attr-defined]
    yield prof
    prof.setUrlRequestInterceptor(None)
    shiboken6.delete(prof)


class Browser:
    """A view that opens saved pages from files, as someone opening the report would."""

    def __init__(self, qtbot: QtBot, profile: QWebEngineProfile, folder: Path) -> None:
        self.qtbot = qtbot
        self.folder = folder
        self.spy: RecordingInterceptor = profile.spy  # type: ignore[attr-defined]
        self.view = QWebEngineView()
        self.page = RecordingPage(profile)
        self.view.setPage(self.page)
        # A file page may not reach remote URLs by default; let it, so that any attempt
        # reaches the interceptor instead of being dropped before it.
        settings = self.page.settings()
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, True)
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, True)
        self.view.resize(1000, 700)
        self.view.show()
        self.url = ""

    def open(self, page: str, name: str = "report.html") -> None:
        path = self.folder / name
        path.write_text(page, encoding="utf-8")
        url = QUrl.fromLocalFile(str(path))
        self.url = url.toString()
        with self.qtbot.waitSignal(self.page.loadFinished, timeout=TIMEOUT_MS) as loaded:
            self.page.load(url)
        assert loaded.args == [True]

    def value(self, expression: str) -> Any:
        """A JS expression's value, as Python data."""
        with self.qtbot.waitCallback(timeout=TIMEOUT_MS) as callback:
            self.page.runJavaScript(f"JSON.stringify(({expression}) ?? null)", 0, callback)
        return json.loads(callback.args[0] or "null")

    def close(self) -> None:
        self.view.close()
        shiboken6.delete(self.view)


@pytest.fixture
def browser(qtbot: QtBot, profile: QWebEngineProfile, tmp_path: Path) -> Iterator[Browser]:
    opened = Browser(qtbot, profile, tmp_path)
    yield opened
    opened.close()


@pytest.mark.webengine
def test_saved_page_draws_everything_and_fetches_nothing(browser: Browser) -> None:
    browser.open(standalone_map_html(city_snapshot(), title=TITLE, saved_at=SAVED))
    assert browser.value("typeof L.map") == "function"
    assert browser.value(f"{MAP} instanceof L.Map") is True
    counts = browser.value(COUNT_LAYERS)
    assert counts == {
        "markers": 3,  # entities
        "circleMarkers": 0,
        "circles": 1,  # the fire's circle
        "polygons": 4,  # the flood zone, two districts, the geofence
        "polylines": 2,  # tracks
        # every entity, area and track (the unnamed one by its id), and the three
        # outlines' labels
        "tooltips": 3 + 2 + 2 + 3,
    }
    # The outlines' names are permanent labels.
    labels = browser.value(
        "[...document.querySelectorAll('.cityops-export-label')].map((e) => e.textContent.trim())"
    )
    assert sorted(labels) == ["Depot", "Heshan", "Ziyang"]
    # Alarms in their priority's colour, the normal one grey, the stale one dashed.
    symbols = browser.value(SYMBOLS)
    colors = palette.MAP_PAGE_COLORS
    styles = {name: [s["fill"], s["dash"]] for name, s in symbols.items()}
    assert styles == {
        "Air": [colors["normal"], None],
        "Camera": [colors["critical"], None],
        "Pump": [colors["high"], "3 2"],
    }
    background = browser.value(
        "getComputedStyle(document.querySelector('.leaflet-container')).backgroundColor"
    )
    red, green, blue = (int(colors["background"][i : i + 2], 16) for i in (1, 3, 5))
    assert background == f"rgb({red}, {green}, {blue})"
    # Everything is in view.
    assert browser.value(
        f"{MAP}.getBounds().contains(L.latLngBounds([[28.55, 112.28], [28.6, 112.43]]))"
    )
    texts = browser.value(TOOLTIP_TEXTS)
    assert any("Camera b" in t and "priority 1 (critical)" in t for t in texts)
    assert any("Pump c" in t and "priority 2 (high)" in t and "no recent data" in t for t in texts)
    assert browser.page.errors() == []
    assert browser.spy.urls == [browser.url]


def shapes_snapshot() -> dict[str, Any]:
    """Entities of six types: a bus in a priority-1 alarm, an air-quality station in a
    priority-3 one, a stale pump in a priority-4 one, a normal camera, a stale clinic
    and a device of a type with no family of its own."""
    kinds = (
        ("Bus 12", "bus", "critical", False),
        ("Air a", "air_quality", "medium", False),
        ("Pump e", "pumping_station", "low", True),
        ("Camera d", "camera", None, False),
        ("Clinic c", "clinic", None, True),
        ("Meter f", "Thing", None, False),
    )
    return {
        "entities": [
            entity(
                f"e{index}",
                28.56 + 0.004 * index,
                112.30 + 0.01 * index,
                name=name,
                type=kind,
                shape=shape_of(kind),
                severity=severity,
                stale=stale,
            )
            for index, (name, kind, severity, stale) in enumerate(kinds)
        ],
    }


@pytest.mark.webengine
def test_entities_are_drawn_in_their_types_shapes(browser: Browser) -> None:
    """As on the live map: each entity in its type's shape, an alarm larger, in its
    priority's colour and with the priority's number, a stale one faded and dashed, the
    most urgent on top; the legend says what the shapes drawn stand for."""
    browser.open(standalone_map_html(shapes_snapshot(), title=TITLE, saved_at=SAVED))
    assert browser.value(COUNT_LAYERS)["markers"] == 6
    assert browser.value("document.querySelectorAll('.leaflet-marker-pane svg').length") == 6
    symbols = browser.value(SYMBOLS)
    colors = palette.MAP_PAGE_COLORS

    def outline(shape: str) -> str:
        return " ".join(f"{x:g},{y:g}" for x, y in SHAPE_OUTLINES[shape])

    drawn = {
        name: (s["element"], s["points"], s["size"], s["fill"], s["mark"], s["dash"])
        for name, s in symbols.items()
    }
    assert drawn == {
        "Bus": ("polygon", outline("triangle"), 22, colors["critical"], "1", None),
        "Air": ("circle", None, 22, colors["medium"], "3", None),
        "Pump": ("polygon", outline("square"), 22, colors["low"], "4", "3 2"),
        "Camera": ("polygon", outline("diamond"), 12, colors["normal"], None, None),
        "Clinic": ("polygon", outline("square"), 12, colors["stale"], None, "3 2"),
        "Meter": ("polygon", outline("pentagon"), 12, colors["normal"], None, None),
    }
    assert "cityops-export-shape-triangle" in symbols["Bus"]["classes"]
    assert symbols["Bus"]["markFill"] == colors["critical-text"]
    assert symbols["Air"]["markFill"] == colors["medium-text"]
    assert {name: s["opacity"] for name, s in symbols.items() if s["dash"]} == {
        "Pump": "0.55",
        "Clinic": "0.55",
    }
    assert all(s["stroke"] == colors["marker-outline"] for s in symbols.values())
    assert all(s["svgs"] == 1 for s in symbols.values())
    order = sorted(symbols, key=lambda name: symbols[name]["z"])
    assert order[-3:] == ["Pump", "Air", "Bus"] and order[0] == "Clinic"
    # The triangle is a triangle: its box's top corner is not part of the shape, a point
    # near its base, beside the number, is.
    hits = browser.value(
        f"""(() => {{
            let box = null;
            {MAP}.eachLayer((l) => {{
                if (l instanceof L.Marker && /Bus/.test(l.getTooltip().getContent()))
                    box = l.getElement().getBoundingClientRect();
            }});
            const at = (x, y) => document.elementFromPoint(x, y).tagName.toLowerCase();
            return [at(box.left + 2, box.top + 2), at(box.left + 5, box.bottom - 3)];
        }})()"""
    )
    assert hits == ["svg", "polygon"]
    texts = browser.value(TOOLTIP_TEXTS)
    assert any("Bus 12" in t and "priority 1 (critical)" in t for t in texts)
    assert any("Clinic c" in t and "no recent data" in t for t in texts)
    # The legend: the priorities' numbers, then the shapes drawn (no event was).
    swatches = browser.value(
        "[...document.querySelectorAll('.cityops-export-swatch')].map((e) => e.textContent)"
    )
    assert swatches == ["1", "2", "3", "4", "", ""]
    key = browser.value(
        """[...document.querySelectorAll('.cityops-export-shapes li')].map((li) =>
            [li.querySelector('svg').getAttribute('class').match(/shape-(\\w+)/)[1],
             li.textContent])"""
    )
    assert key == [
        ["circle", "Stations"],
        ["square", "Sites"],
        ["diamond", "Road points"],
        ["triangle", "Vehicles"],
        ["pentagon", "Other"],
    ]
    assert browser.page.errors() == []
    assert browser.spy.urls == [browser.url]


@pytest.mark.webengine
def test_view_bounds_are_kept(browser: Browser) -> None:
    snapshot = city_snapshot()
    snapshot["bounds"] = [112.0, 28.0, 113.0, 29.0]
    browser.open(standalone_map_html(snapshot, title=TITLE, saved_at=SAVED))
    view = browser.value(f"{MAP}.getBounds().toBBoxString().split(',').map(Number)")
    west, south, east, north = view
    assert west <= 112.0 and south <= 28.0 and east >= 113.0 and north >= 29.0
    assert east - west < 2.5  # fitted, not the whole world


@pytest.mark.webengine
@pytest.mark.parametrize("policy", [True, False], ids=["with-csp", "escaping-alone"])
def test_hostile_texts_stay_text(browser: Browser, policy: bool) -> None:
    """Hostile strings in every text field run nothing and fetch nothing, and read as
    themselves; also with the page's Content-Security-Policy taken out, so that the
    escaping alone is what is tested."""
    title = f"Title {HOSTILE}"
    snapshot = city_snapshot(f" {HOSTILE}")
    snapshot["entities"][1]["shape"] = HOSTILE
    page = standalone_map_html(snapshot, title=title, saved_at=HOSTILE)
    browser.open(page if policy else without_csp(page))
    texts = browser.value(TOOLTIP_TEXTS)
    browser.qtbot.wait(300)  # an injected image's error handler would have run by now
    assert browser.value("typeof window.pwned") == "undefined"
    # Tooltips and boxes hold text in plain elements only: no injected image, svg, script
    # (the legend's own symbols aside); no element anywhere has an event handler.
    markup = (
        ".leaflet-tooltip *:not(div, span, br), .cityops-export-box *:not(div, span, ul, li,"
        " svg.cityops-export-symbol, svg.cityops-export-symbol *)"
    )
    assert browser.value(f"document.querySelectorAll({markup!r}).length") == 0
    handlers = "[...document.querySelectorAll('*')].flatMap((e) => e.getAttributeNames())"
    assert not [a for a in browser.value(handlers) if a.startswith("on")]
    # A hostile shape name is drawn as a circle, and written nowhere.
    assert browser.value(SYMBOLS)["Camera"]["element"] == "circle"
    for field in (
        "Air a",
        "Air quality",
        "Environment",
        "Camera b",
        "Pump c",
        "Flood warning",
        "Fire",
        "Zi River banks",
        "Kangfu Rd",
        "Bus 12",
    ):
        assert any(f"{field} {HOSTILE}" in t for t in texts), field
    labels = browser.value(
        "[...document.querySelectorAll('.cityops-export-label')].map((e) => e.textContent.trim())"
    )
    assert sorted(labels) == sorted(f"{n} {HOSTILE}" for n in ("Ziyang", "Heshan", "Depot"))
    assert browser.value("document.title") == title
    assert browser.value("document.querySelector('.cityops-export-title').textContent") == title
    assert HOSTILE in browser.value("document.querySelector('.cityops-export-header').textContent")
    assert browser.value(COUNT_LAYERS)["markers"] == 3
    assert browser.page.errors() == []
    assert browser.spy.urls == [browser.url]


@pytest.mark.webengine
def test_the_harness_would_see_an_injection(
    browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A control: with escaping switched off (and the policy taken out) the same check
    catches the payload, so the test above cannot pass for want of a working probe."""
    monkeypatch.setattr(map_export, "_markup", lambda value, limit=500: str(value))
    snapshot = city_snapshot()
    snapshot["entities"][0]["name"] = PAYLOADS[0]
    browser.open(without_csp(standalone_map_html(snapshot, title=TITLE, saved_at=SAVED)))
    browser.value(TOOLTIP_TEXTS)
    browser.qtbot.waitUntil(lambda: browser.value("window.pwned") == 1, timeout=TIMEOUT_MS)


@pytest.mark.webengine
def test_an_empty_snapshot_gives_a_valid_page(browser: Browser) -> None:
    browser.open(standalone_map_html({}, title=TITLE, saved_at=SAVED))
    assert browser.value(f"{MAP} instanceof L.Map") is True
    assert browser.value(COUNT_LAYERS) == {
        "markers": 0,
        "circleMarkers": 0,
        "circles": 0,
        "polygons": 0,
        "polylines": 0,
        "tooltips": 0,
    }
    header = browser.value("document.querySelector('.cityops-export-header').textContent")
    assert "entities: 0 · in alarm: 0 · alert areas: 0" in header
    assert "base map not included" in header
    assert browser.page.errors() == []
    assert browser.spy.urls == [browser.url]
