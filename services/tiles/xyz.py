"""Web-Mercator tile numbering (XYZ, as Leaflet and tile servers use it): the tile of a
point, a tile's bounds, the tiles of a box over a zoom range and how many there are, and the
text forms the command line takes (``W,S,E,N``, ``10-15``)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

MAX_LATITUDE = 85.05112878
"""Web Mercator's limit: the square world's top and bottom edges."""
MAX_ZOOM = 22


@dataclass(frozen=True, slots=True)
class BBox:
    """A box in degrees: west, south, east, north (west < east: no date-line crossing)."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        if not all(math.isfinite(v) for v in (self.west, self.south, self.east, self.north)):
            raise ValueError("the box's corners must be numbers")
        if not (-180.0 <= self.west < self.east <= 180.0):
            raise ValueError(
                f"west must be less than east, both within -180..180 (got {self.west}, {self.east})"
            )
        if not (-90.0 <= self.south < self.north <= 90.0):
            raise ValueError(
                "south must be less than north, both within -90..90 "
                f"(got {self.south}, {self.north})"
            )


def tile_of(lat: float, lon: float, zoom: int) -> tuple[int, int]:
    """The (x, y) of the tile holding the point at ``zoom``."""
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    n = 2**zoom
    x = int((lon + 180.0) / 360.0 * n)
    rad = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tile_bounds(zoom: int, x: int, y: int) -> BBox:
    """The box a tile covers."""
    n = 2**zoom

    def lat_of(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return BBox(x / n * 360.0 - 180.0, lat_of(y + 1), (x + 1) / n * 360.0 - 180.0, lat_of(y))


def tile_range(box: BBox, zoom: int) -> tuple[int, int, int, int]:
    """The tiles covering ``box`` at ``zoom``: (x_min, y_min, x_max, y_max), inclusive."""
    x0, y0 = tile_of(box.north, box.west, zoom)
    x1, y1 = tile_of(box.south, box.east, zoom)
    return x0, y0, x1, y1


def count_tiles(box: BBox, min_zoom: int, max_zoom: int) -> int:
    """How many tiles cover ``box`` over the zooms ``min_zoom``..``max_zoom``."""
    total = 0
    for zoom in range(min_zoom, max_zoom + 1):
        x0, y0, x1, y1 = tile_range(box, zoom)
        total += (x1 - x0 + 1) * (y1 - y0 + 1)
    return total


def tiles_in(box: BBox, min_zoom: int, max_zoom: int) -> Iterator[tuple[int, int, int]]:
    """Every (z, x, y) covering ``box``, zoom by zoom, row by row."""
    for zoom in range(min_zoom, max_zoom + 1):
        x0, y0, x1, y1 = tile_range(box, zoom)
        for y in range(y0, y1 + 1):
            for x in range(x0, x1 + 1):
                yield zoom, x, y


def parse_bbox(text: str) -> BBox:
    """``W,S,E,N`` in degrees; ValueError saying what is wrong."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 4:
        raise ValueError(f"a box is W,S,E,N (four numbers), got {text!r}")
    try:
        west, south, east, north = (float(part) for part in parts)
    except ValueError:
        raise ValueError(f"a box is W,S,E,N in degrees, got {text!r}") from None
    return BBox(west, south, east, north)


def format_bbox(box: BBox) -> str:
    """``W,S,E,N`` as :func:`parse_bbox` reads it (at most 6 decimals, no trailing zeros)."""
    return ",".join(_degrees(v) for v in (box.west, box.south, box.east, box.north))


def _degrees(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def parse_zoom_range(text: str) -> tuple[int, int]:
    """``N-M`` (or ``N``): zoom levels from 0 to MAX_ZOOM; ValueError saying what is wrong."""
    low, _dash, high = text.partition("-")
    try:
        first, last = int(low), int(high or low)
    except ValueError:
        raise ValueError(f"zoom levels are N-M (whole numbers), got {text!r}") from None
    if not 0 <= first <= last <= MAX_ZOOM:
        raise ValueError(f"zoom levels must be 0 <= N <= M <= {MAX_ZOOM}, got {text!r}")
    return first, last


def tile_url(template: str, zoom: int, x: int, y: int, subdomains: str = "abc") -> str:
    """``template`` with ``{z}``, ``{x}``, ``{y}`` and ``{s}`` (a subdomain, spread evenly)
    filled in."""
    subdomain = subdomains[(x + y) % len(subdomains)] if subdomains else ""
    return (
        template.replace("{z}", str(zoom))
        .replace("{x}", str(x))
        .replace("{y}", str(y))
        .replace("{s}", subdomain)
    )
