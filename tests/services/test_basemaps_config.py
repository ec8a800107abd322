"""``[[map.basemaps]]``: tile servers and tile files, their datum and zooms; a wrong one is
an error naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.config import ConfigError, load_config

BASE = """
[broker]
url = "mqtt://127.0.0.1:1883"

[[feeds]]
name = "air"
topic = "a/#"
"""


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "city.toml"
    path.write_text(BASE + text, encoding="utf-8")
    return load_config(path)


def test_servers_and_files_with_their_datum_and_zooms(tmp_path: Path) -> None:
    tiles = tmp_path / "yiyang.pmtiles"
    tiles.write_bytes(b"PMTiles")
    config = load(
        tmp_path,
        f"""
[map]
zoom = 12

[[map.basemaps]]
name = "City tiles"
url = "https://tiles.example.cn/{{z}}/{{x}}/{{y}}.png"
attribution = "© Yiyang Natural Resources Bureau"
max_zoom = 19

[[map.basemaps]]
name = "AMap"
url = "https://webrd0{{s}}.is.autonavi.com/appmaptile?x={{x}}&y={{y}}&z={{z}}&style=8"
crs = "gcj02"

[[map.basemaps]]
name = "Offline"
url = "{tiles.as_uri()}"
min_zoom = 8
max_zoom = 15
""",
    )
    city, amap, offline = config.map.basemaps  # type: ignore[attr-defined]
    assert (city.crs, city.max_zoom, city.attribution) == (
        "wgs84",
        19,
        "© Yiyang Natural Resources Bureau",
    )
    assert amap.crs == "gcj02" and amap.file is None
    assert offline.file == tiles and (offline.min_zoom, offline.max_zoom) == (8, 15)


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ('url = "https://t.example/{z}/{x}.png"', "map.basemaps[0].url", "{y}"),
        ('url = "ftp://t.example/{z}/{x}/{y}"', "map.basemaps[0].url", "http(s)"),
        ('url = "file:///data/yiyang.zip"', "map.basemaps[0].url", ".mbtiles or .pmtiles"),
        ('url = "https://t/{z}/{x}/{y}"\ncrs = "bd09"', "map.basemaps[0].crs", "wgs84, gcj02"),
        ('url = "https://t/{z}/{x}/{y}"\nmin_zoom = 12\nmax_zoom = 9', "max_zoom", "min_zoom"),
        ('url = "https://t/{z}/{x}/{y}"\nopacity = 0.5', "opacity", "not a known"),
    ],
)
def test_a_wrong_base_map_names_its_key(tmp_path: Path, table: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, f'[[map.basemaps]]\nname = "Tiles"\n{table}\n')
    assert key in str(raised.value) and words in str(raised.value)
    assert str(tmp_path / "city.toml") in str(raised.value)


def test_two_base_maps_of_one_name_are_an_error(tmp_path: Path) -> None:
    twice = '[[map.basemaps]]\nname = "T"\nurl = "https://t/{z}/{x}/{y}"\n'
    with pytest.raises(ConfigError, match="used twice"):
        load(tmp_path, twice + twice)
