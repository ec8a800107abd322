"""A dashboard's map widget: the city in a fixed view (``bounds``) with the chosen
``layers``, following the workstation window's map (the same entities, alert areas and
district outlines; never fed per message: the window's map refresh hands it batches).

Layers: ``entities`` (every entity) or a domain's name (that domain's entities),
``districts`` (the outlines), ``alarm_areas`` (external alarms' areas) and ``geofences``
(the alarm rules' geofences). No layers given: all of them. ``river`` is accepted and not
drawn. The window's base maps are drawn under it, in their datum.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from services.config.dashboards import WidgetConfig
from services.config.schema import DOMAINS
from services.model import AlertArea, Entity
from ui.map_layers import outline_geojson
from ui.tile_worker import show_basemaps
from widgets.map_view import MapView

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)

MAP_ZOOM = 12
"""The zoom the page starts at before the fixed view applies."""


class DashboardMap(MapView):
    """A :class:`MapView` showing ``widget``'s layers within its bounds, fed by ``window``."""

    def __init__(self, widget: WidgetConfig, window: MainWindow) -> None:
        bounds = widget.bounds
        center = (
            ((bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2)
            if bounds is not None
            else window.config.map.center
        )
        super().__init__(center, MAP_ZOOM if bounds is not None else window.config.map.zoom)
        layers = set(widget.layers)
        self._layer_all = not layers or "entities" in layers
        self._layer_domains = layers & set(DOMAINS)
        self._layer_areas = not layers or "alarm_areas" in layers
        if bounds is not None:
            self.set_bounds(bounds)
        if (not layers or "districts" in layers) and window.boundaries:
            self.set_boundaries(window.boundaries)
        if (not layers or "geofences" in layers) and window.config.geofences:
            self.set_geofences(outline_geojson(window.config.geofences))
        if window.config.map.basemaps:
            show_basemaps(self, window.config.map.basemaps)
        self.set_values_source(window.marker_values)
        self.show_entities(window.entities.values())
        if self._layer_areas:
            self.apply_alert_areas(window.alert_areas)
        window.mapEntitiesChanged.connect(self.show_entities)
        window.mapEntitiesRemoved.connect(self.remove_entities)
        window.alertAreasChanged.connect(self.show_areas)

    def shows(self, entity: Entity) -> bool:
        """Whether ``entity`` is on one of the map's layers."""
        return self._layer_all or entity.domain in self._layer_domains

    def show_entities(self, entities: Iterable[Entity]) -> None:
        """Show the changed ``entities`` that are on its layers."""
        self.apply_entities([entity for entity in entities if self.shows(entity)])

    def show_areas(self, areas: Mapping[str, AlertArea | None]) -> None:
        """Draw the changed alert areas, when the map shows them."""
        if self._layer_areas:
            self.apply_alert_areas(areas)
