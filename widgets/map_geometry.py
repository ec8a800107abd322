"""Moving map data into the shown base map's datum: a projection is a function
``(lat, lon) -> (lat, lon)`` (for instance WGS-84 to GCJ-02, given by the application),
applied to points and, with :func:`services.model.transform_geojson`, to GeoJSON."""

from __future__ import annotations

from collections.abc import Callable

from services.model import transform_geojson as project_geojson

Projection = Callable[[float, float], tuple[float, float]]

__all__ = ["Projection", "project_geojson"]
