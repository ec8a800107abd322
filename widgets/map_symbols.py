"""Which shape each entity type has on the map (and in the layer panel's key), so that an
entity's kind is never told by colour alone; its alarm priority is its colour and number."""

from __future__ import annotations

from widgets.i18n import QT_TRANSLATE_NOOP

SHAPES = ("circle", "square", "diamond", "triangle", "hexagon", "pentagon")
"""The shapes the map page draws, by name."""

TYPE_SHAPES: dict[str, str] = {
    # measuring stations
    "air_quality": "circle",
    "AirQualityObserved": "circle",
    "water_quality": "circle",
    "WaterQualityObserved": "circle",
    "noise": "circle",
    "NoiseLevelObserved": "circle",
    "river_gauge": "circle",
    # buildings and sites
    "pumping_station": "square",
    "clinic": "square",
    "parking": "square",
    "waste_bin": "square",
    "epidemic_checkpoint": "square",
    # points on the roads
    "intersection": "diamond",
    "traffic_checkpoint": "diamond",
    "streetlight": "diamond",
    "camera": "diamond",
    # things that move
    "bus": "triangle",
    "vehicle": "triangle",
    # events
    "accident": "hexagon",
    "fire": "hexagon",
    "incident": "hexagon",
    "alert_area": "hexagon",
}
"""Shapes by family: stations round, sites square, road points diamonds, vehicles
triangles, events hexagons; any other type (a device, ``Thing``) is a pentagon."""

OTHER_SHAPE = "pentagon"

SHAPE_OUTLINES: dict[str, tuple[tuple[float, float], ...]] = {
    "square": ((2, 2), (22, 2), (22, 22), (2, 22)),
    "diamond": ((12, 0.5), (23.5, 12), (12, 23.5), (0.5, 12)),
    "triangle": ((12, 1), (23.5, 22), (0.5, 22)),
    "hexagon": ((6, 1.6), (18, 1.6), (23.5, 12), (18, 22.4), (6, 22.4), (0.5, 12)),
    "pentagon": ((12, 0.8), (23.4, 9.1), (19, 22.6), (5, 22.6), (0.6, 9.1)),
}
"""The outlines in a 24 by 24 box, as the map page draws them (``circle`` is a circle of
radius 10), for the layer panel's key."""

SHAPE_FAMILIES: tuple[tuple[str, str], ...] = (
    ("circle", QT_TRANSLATE_NOOP("MapShapes", "Stations")),
    ("square", QT_TRANSLATE_NOOP("MapShapes", "Sites")),
    ("diamond", QT_TRANSLATE_NOOP("MapShapes", "Road points")),
    ("triangle", QT_TRANSLATE_NOOP("MapShapes", "Vehicles")),
    ("hexagon", QT_TRANSLATE_NOOP("MapShapes", "Events")),
    ("pentagon", QT_TRANSLATE_NOOP("MapShapes", "Other")),
)
"""The key's rows: a shape and what it stands for (translated where shown)."""


def shape_of(entity_type: str) -> str:
    """The map shape of an entity type."""
    return TYPE_SHAPES.get(entity_type, OTHER_SHAPE)
