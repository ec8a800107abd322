"""Tile numbering: known tiles of known places, bounds, counts over a box, parsing."""

from __future__ import annotations

import pytest

from services.tiles.xyz import (
    BBox,
    count_tiles,
    parse_bbox,
    parse_zoom_range,
    tile_bounds,
    tile_of,
    tile_url,
    tiles_in,
)


def test_known_tiles_and_their_bounds() -> None:
    assert tile_of(0.0, 0.0, 1) == (1, 1)
    assert tile_of(85.0, -179.9, 1) == (0, 0)
    assert tile_of(51.5074, -0.1278, 10) == (511, 340)  # London, the usual example
    x, y = tile_of(28.5539, 112.3553, 12)  # Yiyang
    box = tile_bounds(12, x, y)
    assert box.west <= 112.3553 < box.east and box.south <= 28.5539 < box.north
    whole = tile_bounds(0, 0, 0)
    assert whole.west == -180.0 and whole.east == 180.0
    assert whole.north == pytest.approx(85.0511287798) and whole.south == pytest.approx(
        -85.0511287798
    )


def test_counting_the_tiles_of_a_box() -> None:
    world = BBox(-180.0, -85.0, 179.999, 85.0)
    assert count_tiles(world, 0, 2) == 1 + 4 + 16
    yiyang = parse_bbox("112.0,28.3,112.6,28.8")
    tiles = list(tiles_in(yiyang, 10, 13))
    assert len(tiles) == count_tiles(yiyang, 10, 13) == len(set(tiles))
    for zoom, x, y in tiles:  # every tile touches the box
        box = tile_bounds(zoom, x, y)
        assert box.west < yiyang.east and box.east > yiyang.west
        assert box.south < yiyang.north and box.north > yiyang.south


def test_bad_boxes_and_zoom_ranges_say_what_is_wrong() -> None:
    assert parse_zoom_range("10-15") == (10, 15) and parse_zoom_range("7") == (7, 7)
    for text, words in (
        ("112,28,112.5", "four numbers"),
        ("a,b,c,d", "in degrees"),
        ("112.5,28,112,29", "west must be less than east"),
        ("112,29,112.5,28", "south must be less than north"),
    ):
        with pytest.raises(ValueError, match=words):
            parse_bbox(text)
    for text in ("15-10", "x-3", "-1-3", "20-30"):
        with pytest.raises(ValueError, match="zoom levels"):
            parse_zoom_range(text)


def test_url_templates_are_filled_in() -> None:
    assert (
        tile_url("http://{s}.t/{z}/{x}/{y}.png", 3, 4, 5) == "http://a.t/3/4/5.png"
    )  # (x + y) % 3
    assert tile_url("http://t/{z}/{x}/{y}", 1, 0, 1, subdomains="") == "http://t/1/0/1"
