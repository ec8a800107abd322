"""Which shape each entity type has on the map (and in the layer panel's key), so that an
entity's kind is never told by colour alone; its alarm priority is its colour and number."""

from __future__ import annotations

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


def shape_of(entity_type: str) -> str:
    """The map shape of an entity type."""
    return TYPE_SHAPES.get(entity_type, OTHER_SHAPE)
