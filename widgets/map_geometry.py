"""Moving map data into the shown base map's datum: a projection is a function
``(lat, lon) -> (lat, lon)`` (for instance WGS-84 to GCJ-02, given by the application),
applied to points and to GeoJSON coordinates (``[lon, lat]`` order) before the page gets
them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Projection = Callable[[float, float], tuple[float, float]]


def project_geojson(value: Any, projection: Projection) -> Any:
    """A copy of a GeoJSON object with every ``coordinates`` position projected; other
    members (properties, a circle's ``radius_km``) unchanged."""
    if isinstance(value, dict):
        return {
            key: _project_positions(item, projection)
            if key == "coordinates"
            else project_geojson(item, projection)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [project_geojson(item, projection) for item in value]
    return value


def _project_positions(value: Any, projection: Projection) -> Any:
    if (
        isinstance(value, list)
        and len(value) >= 2
        and all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in value[:2])
    ):
        lat, lon = projection(float(value[1]), float(value[0]))
        return [lon, lat, *value[2:]]
    if isinstance(value, list):
        return [_project_positions(item, projection) for item in value]
    return value
