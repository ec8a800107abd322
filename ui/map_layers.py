"""The workstation map's layers: the Map layers dock (:class:`~widgets.map_layers.
MapLayerPanel`) and what fills the layers it switches on — geofences from the config,
vehicle tracks from the state hub's recent positions, the heat of a measurement from the
latest values, and pulsing rings around entities with an unacknowledged priority-1 alarm.

Everything here runs on the GUI thread: a refresh every two seconds reads what the window
already holds (its entities, values and alarm list) and the hub's tracks (a copy taken
under the hub's lock). The panel's setting is kept with each saved layout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QScrollArea

from services.config import AppConfig, DistrictConfig, GeofenceConfig
from services.model import Entity, Severity, TrackPoint
from widgets.i18n import translate
from widgets.map_layers import LAYERS, MapLayerPanel

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)

REFRESH_MS = 2_000
"""How often heat and attention rings are brought up to date."""
TRACK_REFRESH_S = 10.0
"""How often the tracks are read again (a track gains a point at most this often)."""
LAYOUT_KEY = "map-layers"
"""The panel's setting's name in a saved layout."""

TracksFunction = Callable[[float], Mapping[str, Sequence[TrackPoint]]]
"""The positions of moving entities since a moment: {entity id: [(time, lat, lon)]}."""


def outline_geojson(areas: Iterable[GeofenceConfig | DistrictConfig]) -> dict[str, Any]:
    """The config's geofences or districts as one FeatureCollection (named features,
    WGS-84)."""
    features = [
        {
            "type": "Feature",
            "properties": {"name": fence.name},
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [
                    [[list(point) for point in ring] for ring in polygon]
                    for polygon in fence.polygons
                ],
            },
        }
        for fence in areas
    ]
    return {"type": "FeatureCollection", "features": features}


class MapLayers:
    """The Map layers dock of a window and the layers it switches on its map."""

    def __init__(self, window: MainWindow, tracks: TracksFunction | None) -> None:
        self.window = window
        self._tracks = tracks
        self.panel = MapLayerPanel()
        area = QScrollArea()  # so that its dock can be made small
        area.setWidget(self.panel)
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        window.dock_panels.add("layers", translate("MainWindow", "Map layers"), area)
        window.dock_panels.add_extra(LAYOUT_KEY, self.panel.state, self.panel.restore)
        self._state: dict[str, Any] = self.panel.state()
        self._heat_sent: dict[str, Any] | None = None
        self._tracks_shown = False
        self._tracks_sent: list[dict[str, Any]] = []
        self._tracks_read_at = 0.0
        self._replay_tracks: TracksFunction | None = None
        self.panel.changed.connect(self.apply)
        window.mapEntitiesChanged.connect(self._entities_changed)
        window.configChanged.connect(self._config_changed)
        window.map_view.set_geofences(outline_geojson(window.config.geofences))
        self._config_districts = window.boundaries is None
        self._config_changed(window.config)
        window.map_view.set_layers(self._visibility())
        self._timer = QTimer(window)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def apply(self, state: Mapping[str, Any]) -> None:
        """Show the layers as ``state`` (the panel's) says, and fill them now."""
        self._state = dict(state)
        self.window.map_view.set_layers(self._visibility())
        self._tracks_read_at = 0.0  # the tracks' setting may have changed: read them now
        self.refresh()

    def refresh(self) -> None:
        """Bring tracks, heat and attention rings up to date."""
        window = self.window
        window.map_view.set_attention(self.attention_ids())
        if self._state.get("heat") or self.panel.isVisible():  # else nobody picks one
            self.panel.set_heat_metrics(
                {metric for readings in window.values.values() for metric in readings}
            )
        self._refresh_tracks()
        self._refresh_heat()

    def track_span_s(self) -> float:
        """How far back the vehicle tracks reach (seconds; 0 while they are not shown)."""
        return int(self._state.get("trackMinutes", 15)) * 60.0 if self._state.get("tracks") else 0.0

    def set_replay_tracks(self, tracks: TracksFunction | None) -> None:
        """Where the tracks come from while the window replays (None: live again); they
        are drawn at once."""
        self._replay_tracks = tracks
        self._tracks_read_at = 0.0
        self._refresh_tracks()

    def attention_ids(self) -> set[str]:
        """Entities with a priority-1 alarm waiting for acknowledgement (not shelved)."""
        return {
            alarm.entity_id
            for alarm in self.window.alarm_view.model.alarms()
            if alarm.severity is Severity.CRITICAL
            and alarm.state.needs_ack
            and not alarm.state.is_hidden
        }

    # -- internals -------------------------------------------------------------------------

    def _visibility(self) -> dict[str, Any]:
        return {"domains": self._state.get("domains", {})} | {
            key: bool(self._state.get(key)) for key in LAYERS
        }

    def _refresh_tracks(self) -> None:
        window = self.window
        if not self._state.get("tracks"):
            if self._tracks_shown:
                window.map_view.set_tracks([])
                self._tracks_shown = False
                self._tracks_sent = []
            return
        source = self._replay_tracks if window.replaying else self._tracks
        if source is None:
            if self._tracks_shown:
                window.map_view.set_tracks([])
                self._tracks_shown = False
                self._tracks_sent = []
            self.panel.set_note(translate("MapLayers", "No vehicle tracks are kept here."))
            return
        now = time.monotonic()
        if (
            self._tracks_shown
            and not window.replaying  # a replay's tracks change with the moment shown
            and now - self._tracks_read_at < TRACK_REFRESH_S
        ):
            return
        self._tracks_read_at = now
        since = window.clock() - self.track_span_s()
        read = {key: points for key, points in source(since).items() if len(points) >= 2}
        tracks = [
            {
                "id": entity_id,
                "name": window.entity_name(entity_id),
                "points": [(lat, lon) for _ts, lat, lon in points],
            }
            for entity_id, points in sorted(read.items())
            if entity_id in window.entities
        ]
        if len(tracks) < len(read):
            # Some entities are not known to the window yet (at a start, before the
            # restored city arrives): read again at the next refresh, not in 10 s.
            self._tracks_read_at = 0.0
        if tracks != self._tracks_sent or not self._tracks_shown:
            window.map_view.set_tracks(tracks)
            self._tracks_sent = tracks
        self._tracks_shown = True
        self.panel.set_note(
            translate("MapLayers", "{count} vehicle tracks").format(count=len(tracks))
            if tracks
            else translate("MapLayers", "Nothing has moved in that time.")
        )

    def _refresh_heat(self) -> None:
        metric = str(self._state.get("heatMetric") or "")
        spec = self._heat_spec(metric) if self._state.get("heat") and metric else None
        if spec != self._heat_sent:
            self._heat_sent = spec
            self.window.map_view.set_heat(spec)

    def _heat_spec(self, metric: str) -> dict[str, Any] | None:
        """The heat of ``metric``: each located, fresh entity's latest value."""
        points = []
        unit = ""
        for entity_id, readings in self.window.values.items():
            reading = readings.get(metric)
            entity: Entity | None = self.window.entities.get(entity_id)
            if reading is None or entity is None or entity.stale or not entity.has_location:
                continue
            assert entity.lat is not None and entity.lon is not None
            points.append((entity.lat, entity.lon, reading.value))
            unit = unit or reading.unit
        if not points:
            return None
        values = [value for _lat, _lon, value in points]
        return {
            "points": points,
            "title": metric,
            "unit": unit,
            "min": min(values),
            "max": max(values),
        }

    def _entities_changed(self, entities: Sequence[Entity]) -> None:
        self.panel.set_domains({entity.domain for entity in entities})

    def _config_changed(self, config: AppConfig) -> None:
        window = self.window
        window.map_view.set_geofences(outline_geojson(config.geofences))
        if self._config_districts:  # the config's districts, unless the demo's are shown
            window.boundaries = outline_geojson(config.districts) if config.districts else None
            window.map_view.set_boundaries(window.boundaries)
