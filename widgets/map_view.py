"""An offline city map: a folium/Leaflet page in a QWebEngineView, fed with JSON batches.

The page is generated once with folium, served from the ``cityops://`` scheme (see
:mod:`widgets.map_scheme`) and never reloaded for updates: entity changes are pushed as one
call per :meth:`MapView.apply_entities`, alert areas (CAP polygons and circles) as one per
:meth:`MapView.apply_alert_areas`, each as JSON data over a QWebChannel (no script is
compiled per update), and clicks come back the same way. The page draws the entities on one
canvas (``resources/map/cityops-markers.js``).
Feed strings only ever travel as JSON data; the page puts them into the DOM with
``textContent``. A Content-Security-Policy allows scripts only from ``cityops:``/``qrc:`` and
the page's own inline scripts (by hash), and no network at all.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import folium
from branca.element import MacroElement
from folium.template import Template
from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile, QWebEngineSettings
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QWidget

from services.model import AlertArea, Entity, Severity
from widgets.i18n import current_locale, translate
from widgets.map_areas import area_text, clean_area_geojson
from widgets.map_geometry import Projection, project_geojson
from widgets.map_scheme import (
    BASE_URL,
    HOST,
    SCHEME,
    CityOpsSchemeHandler,
    inline_script_hashes,
    install_scheme_handler,
)
from widgets.map_symbols import shape_of
from widgets.palette import MAP_PAGE_COLORS, current_theme
from widgets.terms import domain_text, entity_type_text

log = logging.getLogger(__name__)

QWEBCHANNEL_JS = "qrc:///qtwebchannel/qwebchannel.js"


class OfflineMap(folium.Map):
    """A folium map whose page loads Leaflet and our assets from ``cityops://``, never a CDN."""

    default_js = [
        ("leaflet", f"{BASE_URL}/leaflet/leaflet.js"),
        ("qwebchannel", QWEBCHANNEL_JS),
        ("cityops_heat", f"{BASE_URL}/map/cityops-heat.js"),
        ("cityops_markers", f"{BASE_URL}/map/cityops-markers.js"),
        ("cityops_map", f"{BASE_URL}/map/cityops-map.js"),
    ]
    default_css = [
        ("leaflet_css", f"{BASE_URL}/leaflet/leaflet.css"),
        ("cityops_map_css", f"{BASE_URL}/map/cityops-map.css"),
    ]


class _CityOpsInit(MacroElement):
    """Hands the generated Leaflet map variable and the page's options to ``window.cityops.init``.

    The options are data (JSON through the template's ``tojson``): whether to cluster
    markers, the page's colours by name, and the size of its markers and text.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            window.cityops.init({{ this._parent.get_name() }}, {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(
        self, cluster: bool, colors: Mapping[str, str], scale: float, texts: Mapping[str, str]
    ) -> None:
        super().__init__()
        self._name = "CityOpsInit"
        self.options = {
            "cluster": cluster,
            "colors": dict(colors),
            "scale": scale,
            "texts": dict(texts),
        }


def _csp(html: str) -> str:
    """A Content-Security-Policy that allows exactly this page's inline scripts."""
    hashes = inline_script_hashes(html)
    return (
        "default-src 'none'; "
        f"script-src {SCHEME}: qrc: {hashes}; "
        f"style-src {SCHEME}: 'unsafe-inline'; "
        f"img-src {SCHEME}: data:; "
        f"font-src {SCHEME}:; "
        "connect-src 'none'; base-uri 'none'; form-action 'none'"
    )


def page_texts() -> dict[str, str]:
    """The words the map page writes itself (tooltips), in the UI's language; data for the
    page like its colours. ``{severity}`` and ``{priority}`` are filled in by the page."""
    return {
        "noRecentData": translate("MapPage", "no recent data"),
        "alarm": translate("MapPage", "alarm: {severity} (priority {priority})"),
        "low": translate("MapPage", "low"),
        "medium": translate("MapPage", "medium"),
        "high": translate("MapPage", "high"),
        "critical": translate("MapPage", "critical"),
        "cluster": translate("MapPage", "{count} entities here"),
        "nothingHere": translate("MapPage", "no markers in view"),
    }


def build_map_html(
    center: tuple[float, float],
    zoom: int,
    *,
    cluster: bool = True,
    colors: Mapping[str, str] = MAP_PAGE_COLORS,
    scale: float = 1.0,
) -> str:
    """Render the map page: no tiles, no CDN, every asset from ``cityops://`` or ``qrc:``.

    ``colors`` (by default the palette's :data:`~widgets.palette.MAP_PAGE_COLORS`, the
    active theme's) reach the page as JSON data in its init call; the page's script and
    style sheet hold no colours. ``scale`` sizes its markers and text (the wall's are
    larger).
    """
    fmap = OfflineMap(
        location=list(center),
        zoom_start=zoom,
        tiles=None,
        prefer_canvas=False,
        attribution_control=False,
        font_size="13px",
    )
    _CityOpsInit(cluster, colors, scale, page_texts()).add_to(fmap)
    html = fmap.get_root().render()
    head = (
        f'<meta http-equiv="Content-Security-Policy" content="{_csp(html)}" />\n'
        '    <link rel="icon" href="data:," />\n'
    )
    charset = '<meta http-equiv="content-type" content="text/html; charset=UTF-8" />'
    if charset in html:
        return html.replace(charset, charset + "\n    " + head, 1)
    return html.replace("<head>", "<head>\n    " + head, 1)


def _lock_down(settings: QWebEngineSettings) -> None:
    """The map needs scripts and nothing else: no remote content, files, windows or plugins."""
    attr = QWebEngineSettings.WebAttribute
    for name, on in (
        (attr.JavascriptEnabled, True),
        (attr.LocalContentCanAccessRemoteUrls, False),
        (attr.LocalContentCanAccessFileUrls, False),
        (attr.JavascriptCanOpenWindows, False),
        (attr.JavascriptCanAccessClipboard, False),
        (attr.PluginsEnabled, False),
        (attr.NavigateOnDropEnabled, False),
        (attr.AutoLoadIconsForPage, False),
    ):
        settings.setAttribute(name, on)


class MapPage(QWebEnginePage):
    """The map's web page: JS console output goes to Python logging; it never navigates away."""

    navigating = Signal()  # a new document is about to replace the current one

    def javaScriptConsoleMessage(
        self,
        level: QWebEnginePage.JavaScriptConsoleMessageLevel,
        message: str,
        line_number: int,
        source_id: str,
    ) -> None:
        """Log page console output to ``cityops.map`` instead of the Qt message log."""
        levels = QWebEnginePage.JavaScriptConsoleMessageLevel
        if level == levels.ErrorMessageLevel:
            py_level = logging.WARNING
        elif level == levels.WarningMessageLevel:
            py_level = logging.INFO
        else:
            py_level = logging.DEBUG
        log.log(py_level, "js: %s (%s:%d)", message, source_id, line_number)

    def acceptNavigationRequest(
        self, url: QUrl | str, nav_type: QWebEnginePage.NavigationType, is_main_frame: bool
    ) -> bool:
        """Allow only our own pages; links or scripts must not take the map elsewhere."""
        qurl = QUrl(url)
        if qurl.scheme() == SCHEME and qurl.host() == HOST and qurl.path().startswith("/page/"):
            if is_main_frame:
                self.navigating.emit()
            return True
        log.warning("map page: refused navigation to %s", qurl.toString())
        return False


class _Bridge(QObject):
    """The object the page sees as ``bridge`` over QWebChannel."""

    clicked = Signal(str)
    areaClicked = Signal(str)
    loaded = Signal()
    basemap = Signal(str)
    moved = Signal(list)
    call = Signal(str, str)
    """To the page: call ``window.cityops.<name>`` with a JSON argument."""
    boxPicked = Signal(list)

    @Slot(list)
    def viewMoved(self, bounds: list[float]) -> None:  # JS-facing name
        """Called by the page when its view has moved: [west, south, east, north]."""
        self.moved.emit(list(bounds))

    @Slot(list)
    def areaPicked(self, bounds: list[float]) -> None:  # JS-facing name
        """Called by the page when the operator has drawn a box: [west, south, east, north]."""
        self.boxPicked.emit(list(bounds))

    @Slot(str)
    def basemapChanged(self, name: str) -> None:  # JS-facing name
        """Called by the page when another base map is shown."""
        self.basemap.emit(str(name))

    @Slot(str)
    def entityClicked(self, entity_id: str) -> None:  # JS-facing name
        """Called by the page when a marker is clicked."""
        self.clicked.emit(str(entity_id))

    @Slot(str)
    def alertAreaClicked(self, alarm_id: str) -> None:  # JS-facing name
        """Called by the page when an alert area is clicked."""
        self.areaClicked.emit(str(alarm_id))

    @Slot()
    def ready(self) -> None:
        """Called by the page once the map and the channel are set up."""
        self.loaded.emit()

    @Slot(str, result=str)
    def tooltipValues(self, entity_id: str) -> str:  # JS-facing name
        """Called by the page when a marker's tooltip opens (and while it stays open): the
        entity's values as JSON {metric: text}, read when asked rather than sent with every
        update ("{}" without a value source)."""
        source = self.values_source
        values = source(str(entity_id)) if source is not None else {}
        return json.dumps({str(k): str(v) for k, v in values.items()}, ensure_ascii=False)

    values_source: Callable[[str], Mapping[str, str]] | None = None


@functools.lru_cache(maxsize=4096)
def _kind(_locale: str, entity_type: str, domain: str) -> dict[str, str]:
    """An entity's type and domain as the tooltip says them and its shape (kept: thousands
    of entities share a few kinds, and a batch can hold thousands)."""
    return {
        "type": entity_type_text(entity_type) if entity_type else "",
        "domain": domain_text(domain) if domain else "",
        "shape": shape_of(entity_type),
    }


_SEVERITY_LABELS: dict[Severity | None, str] = {severity: severity.label for severity in Severity}
"""The page's name of each priority (a dict: an enum property costs more, thousands a tick)."""


def marker_look(entity: Entity) -> tuple[object, ...]:
    """What an entity's marker shows (a change of anything else needs no redraw): name,
    type, domain, place, worst priority, staleness."""
    return (
        entity.name,
        entity.type,
        entity.domain,
        entity.lat,
        entity.lon,
        entity.worst_severity,
        entity.stale,
    )


def _location(entity: Entity) -> tuple[float, float] | None:
    """The entity's (lat, lon) if it has a usable one."""
    if entity.lat is None or entity.lon is None:
        return None
    lat, lon = float(entity.lat), float(entity.lon)
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    return lat, lon


class MapView(QWebEngineView):
    """The city map. Feed it entities and alert areas; it shows them and reports clicks.

    Call every method from the GUI thread. Updates given before the page is ready are queued
    and merged, then sent in one batch when it is.
    """

    entityClicked = Signal(str)
    alertAreaClicked = Signal(str)  # the alarm id of a clicked alert area
    pageReady = Signal()
    rendererRestarted = Signal(int)  # how many times its renderer was restarted so far
    basemapChanged = Signal(str)  # the name of the base map now shown
    boxPicked = Signal(tuple)  # (west, south, east, north) drawn by the operator, in the
    # base map's datum (the box of its tiles)

    def __init__(
        self,
        center: tuple[float, float],
        zoom: int = 11,
        parent: QWidget | None = None,
        *,
        profile: QWebEngineProfile | None = None,
        cluster: bool = True,
    ) -> None:
        super().__init__(parent)
        self._ready = False
        self._known: dict[str, dict[str, Any]] = {}
        self._looks: dict[str, tuple[object, ...]] = {}
        """Per entity, what its record was made of (a cheap check before making it)."""
        self._values: dict[str, dict[str, str]] = {}
        self._pending: set[str] = set()
        self._patched: set[str] = set()  # known markers whose priority or staleness changed
        self._boundaries: Mapping[str, Any] | None = None
        self._areas: dict[str, dict[str, Any]] = {}
        self._areas_pending: set[str] = set()
        self._areas_removed: set[str] = set()
        self._focus_pending: str | None = None
        self._bounds: tuple[float, float, float, float] | None = None
        self._basemaps: list[dict[str, Any]] = []
        self._layers: dict[str, Any] = {}
        self._geofences: Mapping[str, Any] | None = None
        self._tracks: list[dict[str, Any]] = []
        self._heat: dict[str, Any] | None = None
        self._attention: list[str] = []
        self._projection: Projection | None = None
        self.view_bounds: tuple[float, float, float, float] | None = None
        """What the page shows, (west, south, east, north) in WGS-84, as it last said."""
        self.shown_basemap = ""
        """The name of the base map the page shows ("" before it says or without one)."""
        self.restarts = 0
        """How many times the page was reloaded because its renderer ended abnormally."""

        profile = profile if profile is not None else QWebEngineProfile.defaultProfile()
        handler = install_scheme_handler(profile)
        self._page = MapPage(profile, self)
        self._bridge = _Bridge(self)
        self._bridge.clicked.connect(self._on_clicked)
        self._bridge.areaClicked.connect(self._on_area_clicked)
        self._bridge.loaded.connect(self._on_page_ready)
        self._bridge.basemap.connect(self._on_basemap_changed)
        self._bridge.moved.connect(self._on_moved)
        self._bridge.boxPicked.connect(self._on_box_picked)
        self._channel = QWebChannel(self._page)
        self._channel.registerObject("bridge", self._bridge)
        self._page.setWebChannel(self._channel)
        self._page.navigating.connect(self._on_navigating)
        self._page.loadFinished.connect(self._on_load_finished)
        self._page.renderProcessTerminated.connect(self._on_render_process_terminated)
        self.setPage(self._page)
        _lock_down(self._page.settings())
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.setAcceptDrops(False)

        self._html = build_map_html(center, zoom, cluster=cluster, scale=current_theme().map_scale)
        self._url = handler.add_page(self._html)
        url = QUrl(self._url)
        self.destroyed.connect(lambda: _forget_page(handler, url))
        self._page.load(self._url)

    # -- public API ------------------------------------------------------------------------

    def is_ready(self) -> bool:
        """True once the page has loaded and the map accepts updates."""
        return self._ready

    def page_html(self) -> str:
        """The generated page's HTML (for checks and debugging)."""
        return self._html

    def apply_entities(
        self,
        entities: Iterable[Entity],
        values: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """Create or update markers; ``values`` maps entity id to {metric: display text}.

        Values are merged per metric into what the map already shows. Entities without a
        usable location are taken off the map. Sends at most one script to the page.
        """
        changed: set[str] = set()
        patched: set[str] = set()
        removed: list[str] = []
        for key, metrics in (values or {}).items():
            entity_id = str(key)
            merged = self._values.setdefault(entity_id, {})
            new = {str(k): str(v) for k, v in metrics.items() if merged.get(str(k)) != str(v)}
            if not new:
                continue
            merged.update(new)
            known = self._known.get(entity_id)
            if known is not None:
                self._known[entity_id] = {**known, "values": dict(merged)}
                changed.add(entity_id)
        looks, known, stored_values = self._looks, self._known, self._values
        locale = current_locale().name()
        for entity in entities:
            entity_id = entity.id
            look = marker_look(entity)
            before = looks.get(entity_id)
            record = known.get(entity_id)
            if before == look and record is not None:
                continue  # nothing the page shows changed (values come with their own call)
            location = _location(entity)
            if location is None:
                looks.pop(entity_id, None)
                if known.pop(entity_id, None) is not None:
                    removed.append(entity_id)
                    self._pending.discard(entity_id)
                    self._patched.discard(entity_id)
                    changed.discard(entity_id)
                    patched.discard(entity_id)
                continue
            severity = _SEVERITY_LABELS.get(entity.worst_severity)
            looks[entity_id] = look
            if (
                before is not None
                and record is not None
                and before[0] == look[0]  # name, type and domain as before
                and before[1] == look[1]
                and before[2] == look[2]
            ):
                record["severity"], record["stale"] = severity, bool(entity.stale)
                record["lat"], record["lon"] = location
                patched.add(entity_id)  # only its place, priority or staleness: a short row
                continue
            values_shown = stored_values.get(entity_id)
            known[entity_id] = {
                "id": entity_id,
                "name": entity.name,
                # What the tooltip says, in the chosen language.
                **_kind(locale, entity.type, entity.domain),
                "group": entity.domain,
                "lat": location[0],
                "lon": location[1],
                "severity": severity,
                "stale": bool(entity.stale),
                "values": dict(values_shown) if values_shown else {},
            }
            changed.add(entity_id)
        self._pending |= changed
        self._patched |= patched
        if self._ready:
            self._flush(removed)

    def set_values_source(self, source: Callable[[str], Mapping[str, str]] | None) -> None:
        """Let tooltips ask for an entity's values ({metric: text}) when they open, instead
        of every update carrying them: with many entities changing at once (a replay, a
        busy city), the page then gets only the markers whose look changed."""
        self._bridge.values_source = source

    def remove_entities(self, ids: Iterable[str]) -> None:
        """Take these entities' markers off the map (unknown ids are ignored)."""
        gone = []
        for entity_id in ids:
            self._values.pop(entity_id, None)
            self._pending.discard(entity_id)
            self._patched.discard(entity_id)
            self._looks.pop(entity_id, None)
            if self._known.pop(entity_id, None) is not None:
                gone.append(entity_id)
        if gone and self._ready:
            self._call("removeEntities", _js(gone))

    def apply_alert_areas(self, areas: Mapping[str, AlertArea | None]) -> None:
        """Draw, redraw or remove external alarms' areas, keyed by alarm id (None removes).

        Shapes are checked and limited here (see :func:`clean_area_geojson`) and again in the
        page; an area with nothing drawable is taken off the map. Sends at most one script.
        """
        for key, area in areas.items():
            area_id = str(key)
            record = None if area is None else self._area_record(area_id, area)
            if record is None:
                self._areas_pending.discard(area_id)
                if self._areas.pop(area_id, None) is not None:
                    self._areas_removed.add(area_id)
            elif self._areas.get(area_id) != record:
                self._areas[area_id] = record
                self._areas_pending.add(area_id)
                self._areas_removed.discard(area_id)
        if self._ready:
            self._flush()

    def clear_alert_areas(self) -> None:
        """Take every alert area off the map."""
        self.apply_alert_areas(dict.fromkeys(self._areas))

    def alert_area_ids(self) -> list[str]:
        """The ids of the alert areas the map shows (or will show once the page is ready)."""
        return sorted(self._areas)

    def set_boundaries(self, geojson: Mapping[str, Any] | None) -> None:
        """Draw a GeoJSON FeatureCollection as labelled outlines (None clears them).

        Coordinates must be in the same datum as the entities (WGS-84 for Leaflet).
        """
        self._boundaries = geojson
        if self._ready:
            self._call("setBoundaries", self._geojson_js(geojson))

    def set_basemaps(self, basemaps: Sequence[Mapping[str, Any]]) -> None:
        """Draw these base maps under the data (``name``, ``attribution``, ``minZoom``,
        ``maxZoom`` each; the first shown, a switcher for several); their tiles come through
        the scheme's tile provider."""
        self._basemaps = [dict(basemap) for basemap in basemaps]
        if self._ready:
            self._call("setBasemaps", _js(self._basemaps))

    def set_layers(self, spec: Mapping[str, Any]) -> None:
        """Show or hide layers: ``domains`` ({domain: shown}), ``alarmsOnly``, ``districts``,
        ``alertAreas``, ``geofences``, ``tracks``, ``heat`` (booleans); keys left out keep
        their setting."""
        domains = spec.get("domains")
        if isinstance(domains, Mapping):
            self._layers["domains"] = {
                **self._layers.get("domains", {}),
                **{str(k): bool(v) for k, v in domains.items()},
            }
        for key, value in spec.items():
            if key != "domains":
                self._layers[str(key)] = bool(value)
        if self._ready:
            self._call("setLayers", _js(dict(spec)))

    def set_geofences(self, geojson: Mapping[str, Any] | None) -> None:
        """Draw the alarm rules' geofences (a FeatureCollection, ``name`` in properties) as
        dashed, labelled outlines; None clears them."""
        self._geofences = geojson
        if self._ready:
            self._call("setGeofences", self._geojson_js(geojson))

    def set_tracks(self, tracks: Sequence[Mapping[str, Any]]) -> None:
        """Draw vehicle tracks: ``{"id", "name", "points": [(lat, lon), ...]}``, oldest
        point first."""
        self._tracks = [
            {
                "id": str(track["id"]),
                "name": str(track.get("name", "")),
                "points": [[float(lat), float(lon)] for lat, lon in track["points"]],
            }
            for track in tracks
        ]
        if self._ready:
            self._call("setTracks", _js(self._projected_tracks()))

    def set_heat(self, heat: Mapping[str, Any] | None) -> None:
        """Draw a heat layer: ``{"points": [(lat, lon, value)], "title", "unit", "min",
        "max"}``; None takes it off."""
        self._heat = None if heat is None else dict(heat)
        if self._ready:
            self._call("setHeat", _js(self._projected_heat()))

    def set_attention(self, entity_ids: Iterable[str]) -> None:
        """Pulsing rings around these entities (their priority-1 alarms unacknowledged)."""
        ids = sorted(set(entity_ids))
        if ids == self._attention:
            return
        self._attention = ids
        if self._ready:
            self._flush()
            self._call("setAttention", _js(ids))

    def set_projection(self, projection: Projection | None) -> None:
        """Move every position into the shown base map's datum with ``projection``
        ((lat, lon) → (lat, lon); None: as given, WGS-84). Everything is sent again."""
        if projection is self._projection:
            return
        self._projection = projection
        if self._ready:
            self._send_all()

    def set_bounds(self, bounds: tuple[float, float, float, float]) -> None:
        """Show exactly ``(west, south, east, north)`` from now on, panning and zooming off
        (a dashboard's or a wall's fixed view)."""
        west, south, east, north = (float(b) for b in bounds)
        self._bounds = (west, south, east, north)
        if self._ready:
            self._call("showBounds", _js(self._projected_bounds()))

    def focus_entity(self, entity_id: str) -> None:
        """Fly to an entity's marker, opening its cluster, and ring it (after pending
        updates, so a marker sent in this tick can be found)."""
        self._flush()
        if self._ready:
            self._call("focusEntity", _js(entity_id))
        else:
            self._focus_pending = entity_id

    def snapshot(self) -> dict[str, Any]:
        """What the map shows, as plain data in WGS-84 (for saving the view): ``entities``
        (the records the page got, those its layers hide left out; ``severity`` a level
        name or None), ``areas`` (alert areas: ``severity``, ``label``, ``geojson``),
        ``boundaries`` and ``geofences`` (FeatureCollections or None), ``tracks``
        (``id``, ``name``, ``points`` [[lat, lon]]), ``heat`` (or None), ``bounds`` (the
        view, [west, south, east, north], when the page has said) and ``layers``."""
        hidden = {k for k, shown in self._layers.get("domains", {}).items() if not shown}
        alarms_only = bool(self._layers.get("alarmsOnly"))

        def layer(name: str) -> bool:
            return bool(self._layers.get(name, True))

        entities = [
            dict(record)
            for record in self._known.values()
            if record["group"] not in hidden and (record["severity"] or not alarms_only)
        ]
        return {
            "entities": sorted(entities, key=lambda record: str(record["id"])),
            "areas": [dict(area) for area in self._areas.values()] if layer("alertAreas") else [],
            "boundaries": self._boundaries if layer("districts") else None,
            "geofences": self._geofences if layer("geofences") else None,
            "tracks": [dict(track) for track in self._tracks] if layer("tracks") else [],
            "heat": dict(self._heat) if self._heat is not None and layer("heat") else None,
            "bounds": list(self.view_bounds) if self.view_bounds is not None else None,
            "layers": dict(self._layers),
        }

    def evaluate(self, script: str, callback: Callable[[Any], None]) -> None:
        """Run ``script`` in the page and pass its result to ``callback`` (for tests)."""
        self._page.runJavaScript(script, 0, callback)

    def evaluate_json(self, expression: str, callback: Callable[[Any], None]) -> None:
        """Evaluate a JS expression and pass its value to ``callback`` as Python data.

        The value travels as JSON, because PySide hands JS objects, arrays and null from
        ``runJavaScript`` to Python as an empty string.
        """
        script = f"JSON.stringify(({expression}) ?? null)"
        self._page.runJavaScript(script, 0, lambda text: callback(json.loads(text or "null")))

    # -- internals -------------------------------------------------------------------------

    def _flush(self, removed: list[str] | None = None) -> None:
        script: list[tuple[str, str]] = []
        if removed:
            script.append(("removeEntities", _js(removed)))
        if self._pending:
            batch = [
                self._projected_record(self._known[i])
                for i in sorted(self._pending)
                if i in self._known
            ]
            self._patched -= self._pending
            self._pending.clear()
            if batch:
                script.append(("applyEntities", _js(batch)))
        if self._patched:
            known, projection = self._known, self._projection
            rows = [
                [i, record["severity"], record["stale"], record["lat"], record["lon"]]
                for i in self._patched  # in no order: the page takes rows one by one
                if (record := known.get(i)) is not None
            ]
            if projection is not None:
                for row in rows:
                    row[3], row[4] = projection(row[3], row[4])
            self._patched.clear()
            if rows:
                script.append(("patchEntities", _js(rows)))
        areas: list[dict[str, Any]] = [
            {"id": i, "remove": True} for i in sorted(self._areas_removed)
        ]
        areas += [
            self._projected_area(self._areas[i])
            for i in sorted(self._areas_pending)
            if i in self._areas
        ]
        self._areas_removed.clear()
        self._areas_pending.clear()
        if areas:
            script.append(("setAlertAreas", _js(areas)))
        if script:
            for name, argument in script:
                self._call(name, argument)

    def _area_record(self, area_id: str, area: AlertArea) -> dict[str, Any] | None:
        """What the page gets for one area, or None when there is nothing to draw."""
        try:
            severity = Severity(area.severity).label
        except ValueError:
            log.warning("alert area %r: unknown severity %r; not drawn", area_id, area.severity)
            return None
        geojson, dropped = clean_area_geojson(area.geojson)
        if dropped:
            log.warning("alert area %r: left out %d unusable shape(s)", area_id, dropped)
        if not geojson["features"]:
            log.warning("alert area %r: nothing to draw", area_id)
            return None
        return {
            "id": area_id,
            "severity": severity,
            "label": area_text(area.label),
            "geojson": geojson,
        }

    def _call(self, name: str, argument: str) -> None:
        """Call ``window.cityops.<name>`` in the page with ``argument`` (JSON text), through
        the web channel: the page parses data, it never compiles a new script per update
        (scripts sent with runJavaScript are kept by the page's engine and add up)."""
        self._bridge.call.emit(name, argument)

    def _send_all(self) -> None:
        """Everything the page draws, again (a fresh document, another datum)."""
        self._pending = set(self._known)
        self._areas_pending = set(self._areas)
        self._areas_removed.clear()
        script: list[tuple[str, str]] = []
        if self._boundaries is not None:
            script.append(("setBoundaries", self._geojson_js(self._boundaries)))
        if self._geofences is not None:
            script.append(("setGeofences", self._geojson_js(self._geofences)))
        if self._bounds is not None:
            script.append(("showBounds", _js(self._projected_bounds())))
        if self._tracks:
            script.append(("setTracks", _js(self._projected_tracks())))
        if self._heat is not None:
            script.append(("setHeat", _js(self._projected_heat())))
        if script:
            for name, argument in script:
                self._call(name, argument)
        self._flush()
        if self._attention:
            self._call("setAttention", _js(self._attention))

    def _project(self, lat: float, lon: float) -> tuple[float, float]:
        return (lat, lon) if self._projection is None else self._projection(lat, lon)

    def _projected_record(self, record: dict[str, Any]) -> dict[str, Any]:
        if self._projection is None:
            return record
        lat, lon = self._projection(record["lat"], record["lon"])
        return {**record, "lat": lat, "lon": lon}

    def _projected_area(self, record: dict[str, Any]) -> dict[str, Any]:
        if self._projection is None:
            return record
        return {**record, "geojson": project_geojson(record["geojson"], self._projection)}

    def _geojson_js(self, geojson: Mapping[str, Any] | None) -> str:
        if geojson is None:
            return "null"
        if self._projection is None:
            return _js(geojson)
        return _js(project_geojson(geojson, self._projection))

    def _projected_bounds(self) -> list[float]:
        assert self._bounds is not None
        west, south, east, north = self._bounds
        south, west = self._project(south, west)
        north, east = self._project(north, east)
        return [west, south, east, north]

    def _projected_tracks(self) -> list[dict[str, Any]]:
        if self._projection is None:
            return self._tracks
        return [
            {**track, "points": [list(self._project(lat, lon)) for lat, lon in track["points"]]}
            for track in self._tracks
        ]

    def _projected_heat(self) -> dict[str, Any] | None:
        if self._heat is None:
            return None
        points = []
        for lat, lon, value in self._heat.get("points", []):
            plat, plon = self._project(float(lat), float(lon))
            points.append([plat, plon, float(value)])
        return {**self._heat, "points": points}

    @Slot()
    def _on_page_ready(self) -> None:
        # Each ready() comes from a fresh document, which has to be sent everything.
        self._ready = True
        chosen = self.shown_basemap  # the operator's choice, kept across a reload
        if self._basemaps:
            self._call("setBasemaps", _js(self._basemaps))
            if chosen:
                self._call("showBasemap", _js(chosen))
        if self._layers:
            self._call("setLayers", _js(self._layers))
        self._send_all()
        if self._focus_pending is not None:
            self._call("focusEntity", _js(self._focus_pending))
            self._focus_pending = None
        log.debug(
            "map page ready with %d entities, %d alert areas", len(self._known), len(self._areas)
        )
        self.pageReady.emit()

    def pick_box(self) -> None:
        """Let the operator draw a box on the map (press, drag, release; Esc gives up);
        :attr:`boxPicked` tells where."""
        if self._ready:
            self._call("pickBox", "null")

    @Slot(list)
    def _on_moved(self, bounds: list[float]) -> None:
        box = _box(bounds)
        if box is None:
            return
        if self._projection is not None:  # the page's datum: back to WGS-84, nearly enough
            west, south, east, north = box
            moved_lat, moved_lon = self._project(south, west)
            dlat, dlon = moved_lat - south, moved_lon - west
            box = (west - dlon, south - dlat, east - dlon, north - dlat)
        self.view_bounds = box

    @Slot(list)
    def _on_box_picked(self, bounds: list[float]) -> None:
        box = _box(bounds)
        if box is not None:
            self.boxPicked.emit(box)

    def page_bounds(self) -> tuple[float, float, float, float] | None:
        """What the page shows in the base map's datum (the box of its tiles)."""
        if self.view_bounds is None:
            return None
        if self._projection is None:
            return self.view_bounds
        west, south, east, north = self.view_bounds
        south, west = self._project(south, west)
        north, east = self._project(north, east)
        return (west, south, east, north)

    @Slot(str)
    def _on_basemap_changed(self, name: str) -> None:
        self.shown_basemap = name
        self.basemapChanged.emit(name)

    @Slot(str)
    def _on_clicked(self, entity_id: str) -> None:
        if entity_id in self._known:
            self.entityClicked.emit(entity_id)

    @Slot(str)
    def _on_area_clicked(self, alarm_id: str) -> None:
        if alarm_id in self._areas:
            self.alertAreaClicked.emit(alarm_id)

    @Slot()
    def _on_navigating(self) -> None:
        # Updates wait until the new document reports ready, then it gets everything.
        self._ready = False

    @Slot(bool)
    def _on_load_finished(self, ok: bool) -> None:
        if not ok and not self._ready:
            log.warning("map page failed to load: %s", self._url.toString())

    @Slot(QWebEnginePage.RenderProcessTerminationStatus, int)
    def _on_render_process_terminated(
        self, status: QWebEnginePage.RenderProcessTerminationStatus, exit_code: int
    ) -> None:
        self._ready = False
        if status == QWebEnginePage.RenderProcessTerminationStatus.NormalTerminationStatus:
            return
        log.warning("map page renderer ended (%s, exit code %d); reloading", status.name, exit_code)
        self.restarts += 1
        self.rendererRestarted.emit(self.restarts)
        QTimer.singleShot(0, self, lambda: self._page.load(self._url))


def _box(bounds: Sequence[Any]) -> tuple[float, float, float, float] | None:
    """[west, south, east, north] from the page, if it is four finite, ordered numbers."""
    try:
        west, south, east, north = (float(b) for b in bounds)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(b) for b in (west, south, east, north)):
        return None
    if west >= east or south >= north:
        return None
    return (west, south, east, north)


def _js(value: Any) -> str:
    """Serialise plain data as a JavaScript literal (JSON, ASCII only, no NaN)."""
    return json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":"))


def _forget_page(handler: CityOpsSchemeHandler, url: QUrl) -> None:
    with contextlib.suppress(RuntimeError):  # the profile (and its handler) went first
        handler.remove_page(url)
