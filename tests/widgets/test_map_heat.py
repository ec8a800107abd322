"""The map's heat layer (resources/map/cityops-heat.js) on the real page, read back with
JavaScript: what it draws, where, how fast, and that its legend keeps feed text as text."""

from __future__ import annotations

import json
import logging
import re
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtGui import QColor
from PySide6.QtWebEngineCore import QWebEngineProfile
from pytestqt.qtbot import QtBot

from services.model import Severity
from tests.helpers.map_page import TIMEOUT_MS, js, value
from widgets import palette
from widgets.map_view import MapView

pytestmark = [
    pytest.mark.webengine,
    pytest.mark.qt_log_ignore(
        "QRhiGles2",
        "Failed to create RHI",
        "GPUInfo not initialized",
        "Unable to detect GPU vendor",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
HEAT_JS = ROOT / "resources" / "map" / "cityops-heat.js"
CENTER = (28.5539, 112.3550)
SIZE = (800, 600)

# A gradient from the palette, coldest first (the app chooses its own; any will do here).
COLORS = [palette.OPERATOR.stale, *(palette.OPERATOR.severities[s] for s in Severity)]
HOSTILE = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture
def view(qtbot: QtBot, profile: QWebEngineProfile) -> Iterator[MapView]:
    """A ready map page with ``window.__map`` (the Leaflet map) and ``window.__heat`` (a
    heat layer on it, in the palette's colours, radius 20)."""
    map_view = MapView(CENTER, 12, profile=profile)
    map_view.resize(*SIZE)
    map_view.show()
    qtbot.waitUntil(map_view.is_ready, timeout=TIMEOUT_MS)
    js(
        qtbot,
        map_view,
        f"""
        window.__map = window[Object.keys(window).find(k => k.startsWith("map_"))];
        window.__heat = CityOpsHeat.layer({{
            pane: "cityopsHeat", zIndex: 380, colors: {json.dumps(COLORS)}, radius: 20,
            title: "PM2.5", unit: "µg/m³"
        }}).addTo(window.__map);
        true
        """,
    )
    yield map_view
    map_view.close()
    shiboken6.delete(map_view)


def heat(qtbot: QtBot, view: MapView, method: str, *args: Any) -> Any:
    """Call ``window.__heat.<method>(*args)`` with JSON arguments; its result as data."""
    encoded = ",".join(json.dumps(a) for a in args)
    return value(
        qtbot,
        view,
        f"(() => {{ const r = window.__heat.{method}({encoded}); "
        "return r === window.__heat ? 'layer' : r; })()",
    )


def pixel_at(qtbot: QtBot, view: MapView, lat: float, lon: float) -> list[int]:
    """The heat canvas's pixel under the map's container point of (lat, lon), read directly
    from the canvas (not through sample())."""
    pixel: list[int] = value(
        qtbot,
        view,
        f"""(() => {{
            const p = window.__map.latLngToContainerPoint([{lat}, {lon}]);
            const canvas = document.querySelector(".cityops-heat-canvas");
            const pos = L.DomUtil.getPosition(canvas);
            const corner = window.__map.containerPointToLayerPoint([0, 0]);
            const x = Math.round(p.x + corner.x - pos.x), y = Math.round(p.y + corner.y - pos.y);
            return Array.from(canvas.getContext("2d").getImageData(x, y, 1, 1).data);
        }})()""",
    )
    return pixel


def rgb(hex_color: str) -> list[int]:
    return [int(hex_color[i : i + 2], 16) for i in (1, 3, 5)]


EAST = (CENTER[0], CENTER[1] + 0.06)  # about 175 px east of the centre at zoom 12
WEST = (CENTER[0], CENTER[1] - 0.06)


def test_points_are_drawn_and_counted_and_invalid_ones_skipped(qtbot: QtBot, view: MapView) -> None:
    assert heat(qtbot, view, "info")["points"] == 0
    drawn = js(
        qtbot,
        view,
        f"""
        window.__heat.setPoints([
            [{CENTER[0]}, {CENTER[1]}, 5], [{EAST[0]}, {EAST[1]}, 1], [{WEST[0]}, {WEST[1]}, 9],
            [0/0, 112, 1], [28.5, Infinity, 1], [28.5, 112.3, "5"], [28.5, 112.3],
            [91, 112.3, 1], [28.5, 181, 1], null, "28.5,112.3,1", {{lat: 28.5}}, [28.5, 112.3, null]
        ]).info().drawn
        """,
    )
    info = heat(qtbot, view, "info")
    assert drawn == 3
    assert info["points"] == 3 and info["drawn"] == 3
    assert info["skipped"] == 10 and info["dropped"] == 0
    assert (info["min"], info["max"]) == (1, 9)  # the points' own range by default
    assert info["radius"] == 20
    assert (info["width"], info["height"]) == SIZE
    canvas = value(
        qtbot,
        view,
        """(() => { const c = document.querySelector(".cityops-heat-canvas");
            return {pane: c.parentElement.classList.contains("leaflet-cityopsHeat-pane"),
                    z: c.parentElement.style.zIndex,
                    n: document.querySelectorAll("canvas.cityops-heat-canvas").length,
                    w: c.style.width, pointer: c.style.pointerEvents}; })()""",
    )
    assert canvas == {"pane": True, "z": "380", "n": 1, "w": f"{SIZE[0]}px", "pointer": "none"}
    assert heat(qtbot, view, "setRange", 0, 100) == "layer"
    assert (heat(qtbot, view, "info")["min"], heat(qtbot, view, "info")["max"]) == (0, 100)
    heat(qtbot, view, "setRange")
    assert heat(qtbot, view, "info")["max"] == 9
    heat(qtbot, view, "setRadius", 500)
    assert heat(qtbot, view, "info")["radius"] == 200
    heat(qtbot, view, "setPoints", [])
    assert heat(qtbot, view, "info")["drawn"] == 0
    assert heat(qtbot, view, "sample", *CENTER) == [0, 0, 0, 0]


def test_heavier_points_are_hotter_and_far_away_is_clear(qtbot: QtBot, view: MapView) -> None:
    heat(qtbot, view, "setPoints", [[*WEST, 1], [*EAST, 10]])
    heat(qtbot, view, "setRange", 0, 10)
    heavy = heat(qtbot, view, "sample", *EAST)
    light = heat(qtbot, view, "sample", *WEST)
    assert heavy[3] > light[3] > 0
    # A lone point at the top of the range is opaque in the gradient's hottest colour.
    assert heavy == [*rgb(COLORS[-1]), 255]
    assert light[3] == pytest.approx(255 * (0.08 + 0.92 * 0.1), abs=2)  # the faint floor
    assert heat(qtbot, view, "sample", *CENTER) == [0, 0, 0, 0]  # 175 px from either
    assert heat(qtbot, view, "sample", 10.0, 10.0) is None  # off the canvas
    assert pixel_at(qtbot, view, *EAST) == heavy
    # Blobs add up: two light points on one spot are more than one.
    heat(qtbot, view, "setPoints", [[*WEST, 1], [*WEST, 1], [*EAST, 10]])
    assert heat(qtbot, view, "sample", *WEST)[3] > light[3]


def test_a_redraw_after_set_view_moves_the_blob_with_the_map(qtbot: QtBot, view: MapView) -> None:
    heat(qtbot, view, "setPoints", [[*CENTER, 1]])
    assert pixel_at(qtbot, view, *CENTER)[3] == 255
    before = value(qtbot, view, f"window.__map.latLngToContainerPoint([{CENTER[0]}, {CENTER[1]}])")
    js(qtbot, view, f"window.__map.setView([{EAST[0]}, {EAST[1]}], 12, {{animate: false}}); true")
    after = value(qtbot, view, f"window.__map.latLngToContainerPoint([{CENTER[0]}, {CENTER[1]}])")
    assert after["x"] < before["x"] - 100
    assert pixel_at(qtbot, view, *CENTER)[3] == 255
    assert heat(qtbot, view, "sample", *CENTER)[3] == 255
    # The old place on the screen is clear: the blob moved, it was not only shifted by CSS.
    old = value(
        qtbot,
        view,
        f"""Array.from(document.querySelector(".cityops-heat-canvas").getContext("2d")
            .getImageData({round(before["x"])}, {round(before["y"])}, 1, 1).data)""",
    )
    assert old == [0, 0, 0, 0]
    # The canvas lies at the container's top left, in layer coordinates.
    placed = value(
        qtbot,
        view,
        """(() => { const p = L.DomUtil.getPosition(document.querySelector(".cityops-heat-canvas"));
            const c = window.__map.containerPointToLayerPoint([0, 0]);
            return [p.x - c.x, p.y - c.y]; })()""",
    )
    assert placed == [0, 0]
    js(
        qtbot,
        view,
        f"window.__map.setView([{CENTER[0]}, {CENTER[1]}], 14, {{animate: false}}); true",
    )
    assert heat(qtbot, view, "sample", *CENTER)[3] == 255
    assert heat(qtbot, view, "info")["drawn"] == 1
    # A smaller map: the canvas follows its size.
    view.resize(500, 400)
    qtbot.waitUntil(lambda: heat(qtbot, view, "info")["width"] == 500, timeout=TIMEOUT_MS)
    assert heat(qtbot, view, "info")["height"] == 400


def test_removing_the_layer_removes_its_canvas(qtbot: QtBot, view: MapView) -> None:
    heat(qtbot, view, "setPoints", [[*CENTER, 1]])
    assert value(qtbot, view, "document.querySelectorAll('.cityops-heat-canvas').length") == 1
    js(qtbot, view, "window.__map.removeLayer(window.__heat); true")
    assert value(qtbot, view, "document.querySelectorAll('.cityops-heat-canvas').length") == 0
    assert value(qtbot, view, "window.__map.getPane('cityopsHeat').childElementCount") == 0
    assert heat(qtbot, view, "sample", *CENTER) is None
    # Moving the map no longer draws it; adding it back draws its points again.
    js(qtbot, view, "window.__map.setZoom(13, {animate: false}); true")
    js(qtbot, view, "window.__heat.addTo(window.__map); true")
    assert value(qtbot, view, "document.querySelectorAll('.cityops-heat-canvas').length") == 1
    assert heat(qtbot, view, "sample", *CENTER)[3] == 255


def test_the_legend_keeps_hostile_text_as_text(qtbot: QtBot, view: MapView) -> None:
    heat(qtbot, view, "setPoints", [[*WEST, 2.5], [*EAST, 1234.5]])
    legend = value(
        qtbot,
        view,
        f"""(() => {{
            const el = window.__heat.legend();
            document.body.appendChild(el);
            window.__heat.setLegend({json.dumps(HOSTILE)}, {json.dumps(HOSTILE)});
            const bar = el.querySelector("canvas").getContext("2d").getImageData(0, 0, 256, 1).data;
            return {{
                same: el === window.__heat.legend(),
                cls: el.className,
                text: el.textContent,
                images: el.querySelectorAll("img").length,
                elements: el.querySelectorAll("*").length,
                min: el.querySelector(".cityops-heat-legend-min").textContent,
                max: el.querySelector(".cityops-heat-legend-max").textContent,
                first: Array.from(bar.slice(0, 4)), last: Array.from(bar.slice(1020, 1024)),
                background: el.style.background, color: el.style.color
            }};
        }})()""",
    )
    assert legend["same"] is True
    assert legend["cls"] == "cityops-heat-legend"
    assert legend["text"].count(HOSTILE) == 2
    assert legend["images"] == 0
    assert legend["elements"] == 7  # heading, title, unit, bar, scale, min, max
    assert legend["min"] == "2.5"
    assert legend["max"] == value(
        qtbot, view, "(1234.5).toLocaleString(undefined, {maximumFractionDigits: 0})"
    )
    assert legend["first"][3] == legend["last"][3] == 255
    assert legend["last"][:3] == rgb(COLORS[-1])
    assert "var(--cityops-" in legend["background"] and "var(--cityops-" in legend["color"]
    # A hostile title given at construction stays text as well.
    js(
        qtbot,
        view,
        f"""document.body.appendChild(CityOpsHeat.layer({{colors: {json.dumps(COLORS)},
            title: {json.dumps(HOSTILE)}}}).legend()); true""",
    )
    qtbot.wait(300)
    assert value(qtbot, view, "document.querySelectorAll('img[src=x]').length") == 0
    assert value(qtbot, view, "typeof window.__pwned") == "undefined"


def test_too_few_valid_colours_draw_nothing(
    qtbot: QtBot, view: MapView, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="widgets.map_view"):
        heat(qtbot, view, "setPoints", [[*CENTER, 1]])
        heat(qtbot, view, "setColors", [COLORS[0], "#12345", "red", 7, "#1234567"])
        assert heat(qtbot, view, "info")["drawn"] == 0
        assert heat(qtbot, view, "sample", *CENTER) == [0, 0, 0, 0]
        qtbot.waitUntil(lambda: "at least 2 colours" in caplog.text, timeout=TIMEOUT_MS)
        heat(qtbot, view, "setColors", COLORS[:2])
        assert heat(qtbot, view, "sample", *CENTER) == [*rgb(COLORS[1]), 255]


def test_points_beyond_the_cap_are_dropped_with_one_warning(
    qtbot: QtBot, view: MapView, caplog: pytest.LogCaptureFixture
) -> None:
    cap = value(qtbot, view, "CityOpsHeat.MAX_POINTS")
    assert cap == 20_000
    with caplog.at_level(logging.INFO, logger="widgets.map_view"):
        info = value(
            qtbot,
            view,
            f"""window.__heat.setPoints(Array.from({{length: {cap + 5}}},
                (_, i) => [{CENTER[0]} + (i % 100) * 1e-4,
                           {CENTER[1]} + Math.floor(i / 100) * 1e-4, i]))
                .info()""",
        )
        qtbot.waitUntil(lambda: "dropped the last 5" in caplog.text, timeout=TIMEOUT_MS)
    assert info["points"] == cap and info["dropped"] == 5
    assert caplog.text.count("cityops heat: kept") == 1


def test_five_thousand_points_draw_quickly(qtbot: QtBot, view: MapView) -> None:
    """Prints the draw times; the bound is loose (a loaded machine is slow)."""
    times = value(
        qtbot,
        view,
        f"""(() => {{
            let seed = 42;
            const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
            const points = Array.from({{length: 5000}}, () =>
                [{CENTER[0]} + (random() - 0.5) * 0.09, {CENTER[1]} + (random() - 0.5) * 0.13,
                 random() * 100]);
            let start = performance.now();
            window.__heat.setPoints(points);
            const first = performance.now() - start;
            const redraws = [];
            for (let i = 0; i < 10; i++) {{
                start = performance.now();
                window.__heat.redraw();
                redraws.push(performance.now() - start);
            }}
            return {{first: first, redraws: redraws, info: window.__heat.info()}};
        }})()""",
    )
    info = times["info"]
    median = statistics.median(times["redraws"])
    print(
        f"\nheat layer, 5000 points on {info['width']}x{info['height']} px, radius "
        f"{info['radius']}: setPoints + first draw {times['first']:.1f} ms, redraw median "
        f"{median:.1f} ms (min {min(times['redraws']):.1f}, max {max(times['redraws']):.1f})"
    )
    assert info["points"] == 5000 and info["drawn"] == 5000
    assert median < 1000


def _color_names() -> list[str]:
    return sorted({name.lower() for name in QColor.colorNames()} | {"transparent"})


def test_the_heat_script_holds_no_colours() -> None:
    text = HEAT_JS.read_text(encoding="utf-8")
    assert re.findall(r"#[0-9a-fA-F]{3,8}\b", text) == []
    assert not re.search(r"\b(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch|color)\(", text)
    named = re.compile(r"\b(?:" + "|".join(map(re.escape, _color_names())) + r")\b", re.I)
    assert named.findall(text) == []
    # The CSS variables it names are the page's palette colours.
    used = set(re.findall(r"var\(--cityops-([a-z0-9-]+)\)", text))
    assert used and used <= set(palette.MAP_PAGE_COLORS)


def test_the_canvas_is_drawn_at_the_device_pixel_ratio(qtbot: QtBot, view: MapView) -> None:
    """With the view zoomed to 2 (window.devicePixelRatio 2) the canvas holds two device
    pixels per CSS pixel and its blobs cover the same CSS area; sample() and info() still
    answer in CSS pixels."""
    heat(qtbot, view, "setPoints", [[*WEST, 1], [*EAST, 10]])
    heat(qtbot, view, "setRange", 0, 10)
    # Places inside the blob around EAST, 8 and 14 CSS px from its centre.
    near = value(
        qtbot,
        view,
        f"""(() => {{ const p = window.__map.project([{EAST[0]}, {EAST[1]}]);
            return [[-8, 0], [0, -14]].map(([dx, dy]) => {{
                const q = window.__map.unproject([p.x + dx, p.y + dy]);
                return [q.lat, q.lng]; }}); }})()""",
    )
    places = [CENTER, WEST, EAST, *near]

    def canvas() -> dict[str, Any]:
        state: dict[str, Any] = value(
            qtbot,
            view,
            """(() => { const c = document.querySelector(".cityops-heat-canvas");
                return {ratio: window.devicePixelRatio, width: c.width, height: c.height,
                        css: [parseFloat(c.style.width), parseFloat(c.style.height)],
                        map: window.__map.getSize()}; })()""",
        )
        return state

    def samples() -> list[list[int]]:
        return [heat(qtbot, view, "sample", *place) for place in places]

    assert canvas() == {
        "ratio": 1,
        "width": 800,
        "height": 600,
        "css": [800, 600],
        "map": {"x": 800, "y": 600},
    }
    at_one = samples()
    assert at_one[0] == [0, 0, 0, 0] and at_one[2] == [*rgb(COLORS[-1]), 255]
    assert 0 < at_one[4][3] < at_one[3][3] < 255

    view.setZoomFactor(2.0)
    qtbot.waitUntil(lambda: canvas()["ratio"] == 2, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: canvas()["css"] == [400, 300], timeout=TIMEOUT_MS)
    assert canvas() == {
        "ratio": 2,
        "width": 800,
        "height": 600,
        "css": [400, 300],
        "map": {"x": 400, "y": 300},
    }
    info = heat(qtbot, view, "info")
    assert (info["width"], info["height"], info["pixelRatio"], info["radius"]) == (400, 300, 2, 20)
    assert info["drawn"] == 2
    # The same heat at the same places: the blobs cover the same CSS area.
    assert samples() == at_one
    # Sharp: the edge of the blob around EAST is drawn in device pixels, so the canvas has
    # more distinct alphas along a row through it than there are CSS pixels in its radius.
    row = value(
        qtbot,
        view,
        f"""(() => {{ const p = window.__map.latLngToContainerPoint([{EAST[0]}, {EAST[1]}]);
            const c = document.querySelector(".cityops-heat-canvas");
            const r = devicePixelRatio, x = Math.round(p.x * r), y = Math.round(p.y * r);
            const d = c.getContext("2d").getImageData(x - 20 * r, y, 20 * r, 1).data;
            return new Set(Array.from(d).filter((_, i) => i % 4 === 3)).size; }})()""",
    )
    assert row > 30

    view.setZoomFactor(1.0)
    qtbot.waitUntil(lambda: canvas()["css"] == [800, 600], timeout=TIMEOUT_MS)
    assert canvas()["width"] == 800 and heat(qtbot, view, "info")["pixelRatio"] == 1
    assert samples() == at_one
