"""WGS-84 ↔ GCJ-02 against published point pairs, the inverse within a metre."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.geo.gcj02 import distance_m, gcj02_to_wgs84, in_china, wgs84_to_gcj02
from tests.helpers.paths import SHARED_INTEROP

# (WGS-84 lat, lon) → (GCJ-02 lat, lon), as two public implementations of the transform
# give them (Shanghai, Shenzhen, Beijing twice).
PAIRS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
    ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),
]
VARIANT_PAIRS = [
    ((40.0, 116.0), (40.001213650174, 116.006141221789)),
    ((30.6107779, 121.0917077), (30.608604331756705, 121.09626935575027)),
]
"""From implementations whose constants differ in the last digits: centimetres apart."""
YIYANG = (28.5539, 112.3553)


@pytest.mark.parametrize(("wgs", "gcj"), PAIRS)
def test_the_forward_transform_matches_published_pairs(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    got = wgs84_to_gcj02(*wgs)
    assert got == pytest.approx(gcj, abs=1e-8)  # about a millimetre
    assert 100 < distance_m(wgs, got) < 1_000  # the offset is hundreds of metres


@pytest.mark.parametrize(("wgs", "gcj"), VARIANT_PAIRS)
def test_variants_of_the_transform_agree_within_centimetres(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    assert distance_m(wgs84_to_gcj02(*wgs), gcj) < 0.05


@pytest.mark.parametrize(("wgs", "gcj"), PAIRS + VARIANT_PAIRS)
def test_the_inverse_is_within_a_metre(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    assert distance_m(gcj02_to_wgs84(*gcj), wgs) < 1.0


def test_round_trips_across_yiyang_stay_within_a_centimetre() -> None:
    worst = 0.0
    for row in range(-10, 11):
        for column in range(-10, 11):
            point = (YIYANG[0] + row * 0.05, YIYANG[1] + column * 0.05)
            back = gcj02_to_wgs84(*wgs84_to_gcj02(*point))
            worst = max(worst, distance_m(point, back))
    assert worst < 0.01
    shift = distance_m(YIYANG, wgs84_to_gcj02(*YIYANG))
    assert 300 < shift < 800  # Yiyang's data lands hundreds of metres off without it


def test_points_outside_china_are_not_shifted() -> None:
    for point in ((48.8566, 2.3522), (0.0, 0.0), (-33.87, 151.21), (56.5, 120.0)):
        assert not in_china(*point)
        assert wgs84_to_gcj02(*point) == point
        assert gcj02_to_wgs84(*point) == point
    assert in_china(*YIYANG)


def test_the_yiyang_outlines_round_trip_through_wgs84() -> None:
    """The shared Yiyang district outlines are in GCJ-02: each vertex taken to WGS-84 moves
    hundreds of metres, and comes back to within a centimetre."""
    path = SHARED_INTEROP / "geo" / "yiyang-430900.geojson"
    if not path.exists():
        pytest.skip(f"{path} is not there")
    collection = json.loads(path.read_text(encoding="utf-8"))
    vertices = [
        (lat, lon)
        for feature in collection["features"]
        for polygon in _polygons(feature["geometry"])
        for ring in polygon
        for lon, lat in ring
    ]
    assert len(vertices) > 100
    shifts = [distance_m(vertex, gcj02_to_wgs84(*vertex)) for vertex in vertices]
    assert min(shifts) > 300 and max(shifts) < 800
    worst = max(distance_m(v, wgs84_to_gcj02(*gcj02_to_wgs84(*v))) for v in vertices)
    assert worst < 0.01


def _polygons(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    return list(geometry["coordinates"])
