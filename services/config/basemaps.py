"""Base maps in the config: ``[[map.basemaps]]``, each a tile source the map can draw under
the city's data — an XYZ URL template of a tile server, or a local MBTiles / PMTiles file
(``file:///…/yiyang.pmtiles``) — with its attribution, zoom range and datum (``crs``:
``wgs84``, or ``gcj02`` for Chinese providers such as AMap or Tianditu's GCJ layers).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from services.config.loader import _Reader

log = logging.getLogger(__name__)

CRS_CHOICES = ("wgs84", "gcj02")
"""The datums a base map may be drawn in; the first is the default."""
TILE_FILE_SUFFIXES = (".mbtiles", ".pmtiles")
MIN_ZOOM, MAX_ZOOM = 0, 22
DEFAULT_MAX_ZOOM = 18


@dataclass(frozen=True, slots=True)
class BasemapConfig:
    """One base map: where its tiles come from, in which datum, over which zooms."""

    name: str
    url: str
    """An http(s) XYZ template with ``{z}``, ``{x}``, ``{y}`` (and optionally ``{s}``), or a
    ``file://`` URL of an MBTiles or PMTiles file."""
    attribution: str = ""
    min_zoom: int = MIN_ZOOM
    max_zoom: int = DEFAULT_MAX_ZOOM
    crs: str = CRS_CHOICES[0]

    @property
    def file(self) -> Path | None:
        """The local tile file, for a ``file://`` base map."""
        parts = urlsplit(self.url)
        return Path(unquote(parts.path)) if parts.scheme == "file" else None


def read_basemaps(map_reader: _Reader) -> tuple[BasemapConfig, ...]:
    """``[[map.basemaps]]``: ConfigError naming the key for a wrong one."""
    basemaps: list[BasemapConfig] = []
    for reader in map_reader.table_list("basemaps"):
        name = reader.text("name")
        if name in (basemap.name for basemap in basemaps):
            raise reader.fail("name", f"{name!r} is used twice")
        url = _url(reader)
        min_zoom = reader.integer("min_zoom", MIN_ZOOM)
        max_zoom = reader.integer("max_zoom", DEFAULT_MAX_ZOOM)
        if not MIN_ZOOM <= min_zoom <= max_zoom <= MAX_ZOOM:
            raise reader.fail(
                "max_zoom",
                f"zooms must be {MIN_ZOOM} <= min_zoom <= max_zoom <= {MAX_ZOOM}, "
                f"got {min_zoom} and {max_zoom}",
            )
        basemaps.append(
            BasemapConfig(
                name=name,
                url=url,
                attribution=reader.optional_text("attribution"),
                min_zoom=min_zoom,
                max_zoom=max_zoom,
                crs=reader.choice("crs", CRS_CHOICES, CRS_CHOICES[0]),
            )
        )
        reader.reject_unknown()
    return tuple(basemaps)


def _url(reader: _Reader) -> str:
    url = reader.text("url")
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        missing = [field for field in ("{z}", "{x}", "{y}") if field not in url]
        if missing or not parts.netloc:
            raise reader.fail(
                "url",
                "an http(s) tile URL needs a host and {z}, {x} and {y} "
                f"(missing: {', '.join(missing) or 'the host'}): {url!r}",
            )
        return url
    if parts.scheme == "file":
        path = Path(unquote(parts.path))
        if path.suffix.lower() not in TILE_FILE_SUFFIXES:
            raise reader.fail("url", f"a tile file must be .mbtiles or .pmtiles, got {path.name!r}")
        if not path.is_file():
            log.warning(
                "%s: %s: the tile file %s is not there (yet)",
                reader.source,
                reader.key("url"),
                path,
            )
        return url
    raise reader.fail(
        "url", f"must be an http(s) XYZ template or a file:// URL of a tile file, got {url!r}"
    )
