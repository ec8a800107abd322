"""WGS-84 ↔ GCJ-02, the datum Chinese map providers (AMap, Tencent, Google in China) draw
their tiles in: the public form of the obfuscating transform, and its inverse by iteration.

Points outside China (a rough box, as the providers use) are not shifted. Coordinates are
(latitude, longitude) in degrees.
"""

from __future__ import annotations

import math

SEMI_MAJOR_AXIS = 6_378_245.0
"""Of the Krasovsky 1940 ellipsoid the transform is defined on (metres)."""
ECCENTRICITY_SQUARED = 0.00669342162296594323
CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)
INVERSE_TOLERANCE_DEG = 1e-9
"""The inverse iterates until a step is below this (about 0.1 mm)."""
INVERSE_MAX_STEPS = 30
EARTH_RADIUS_M = 6_371_008.8


def in_china(lat: float, lon: float) -> bool:
    """Whether the point is inside the box the transform shifts."""
    return CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1]


def _offset(lat: float, lon: float) -> tuple[float, float]:
    """The GCJ-02 shift (degrees of latitude, longitude) at a WGS-84 point."""
    x, y = lon - 105.0, lat - 35.0
    root = math.sqrt(abs(x))
    ripple = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * root + ripple
    d_lat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    d_lat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2 / 3
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * root + ripple
    d_lon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    d_lon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    rad = math.radians(lat)
    magic = 1.0 - ECCENTRICITY_SQUARED * math.sin(rad) ** 2
    root_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / (
        (SEMI_MAJOR_AXIS * (1.0 - ECCENTRICITY_SQUARED)) / (magic * root_magic) * math.pi
    )
    d_lon = (d_lon * 180.0) / (SEMI_MAJOR_AXIS / root_magic * math.cos(rad) * math.pi)
    return d_lat, d_lon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """A WGS-84 point in GCJ-02 (unchanged outside China)."""
    if not in_china(lat, lon):
        return lat, lon
    d_lat, d_lon = _offset(lat, lon)
    return lat + d_lat, lon + d_lon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """A GCJ-02 point in WGS-84: the point whose GCJ-02 is it, found by fixed-point iteration
    (the shift changes slowly, so each step gains several digits; well under a millimetre)."""
    if not in_china(lat, lon):
        return lat, lon
    wgs_lat, wgs_lon = lat, lon
    for _ in range(INVERSE_MAX_STEPS):
        gcj_lat, gcj_lon = wgs84_to_gcj02(wgs_lat, wgs_lon)
        step_lat, step_lon = gcj_lat - lat, gcj_lon - lon
        wgs_lat, wgs_lon = wgs_lat - step_lat, wgs_lon - step_lon
        if abs(step_lat) < INVERSE_TOLERANCE_DEG and abs(step_lon) < INVERSE_TOLERANCE_DEG:
            break
    return wgs_lat, wgs_lon


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The great-circle distance between two (lat, lon) points, in metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))
