"""``[[geofences]]`` in the config: polygons given inline or read from GeoJSON files, and
every bad input named by file, key and problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.config import ConfigError, load_config
from services.limits import MAX_GEOFENCE_POINTS, MAX_GEOFENCES
from services.model import Severity

SQUARE = "polygon = [[112.30, 28.50], [112.40, 28.50], [112.40, 28.60], [112.30, 28.60]]\n"
DEPOT = f'[[geofences]]\nname = "depot"\n{SQUARE}'


def write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def square(west: float, south: float, size: float) -> list[list[float]]:
    """A closed ring, GeoJSON style."""
    east, north = west + size, south + size
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def feature(name: str, geometry: dict[str, object] | None) -> dict[str, object]:
    return {"type": "Feature", "properties": {"name": name}, "geometry": geometry}


ZONES = {
    "type": "FeatureCollection",
    "features": [
        feature("bus stop", {"type": "Point", "coordinates": [112.35, 28.55]}),
        feature(
            "depot",
            {
                "type": "Polygon",
                "coordinates": [square(112.0, 28.0, 1.0), square(112.4, 28.4, 0.2)],
            },
        ),
        feature(
            "parks",
            {
                "type": "MultiPolygon",
                "coordinates": [[square(113.0, 28.0, 0.1)], [square(113.5, 28.0, 0.1)]],
            },
        ),
        feature("route", {"type": "LineString", "coordinates": [[112.0, 28.0], [113.0, 29.0]]}),
        feature("nowhere", None),
    ],
}


def test_an_inline_polygon_is_closed_and_takes_the_defaults(tmp_path: Path) -> None:
    (fence,) = load_config(write(tmp_path, DEPOT)).geofences
    assert fence.name == "depot"
    assert fence.polygons == (
        (((112.3, 28.5), (112.4, 28.5), (112.4, 28.6), (112.3, 28.6), (112.3, 28.5)),),
    )
    assert (fence.trigger, fence.dwell, fence.entity, fence.types) == ("enter", 0.0, "*", ())
    assert (fence.priority, fence.severity, fence.file) == (3, Severity.MEDIUM, None)
    geometry = json.loads(json.dumps(fence.geometry()))  # plain lists, ready for the map
    assert geometry["type"] == "MultiPolygon"
    assert geometry["coordinates"][0][0][0] == [112.3, 28.5]


def test_every_setting_of_a_geofence(tmp_path: Path) -> None:
    text = DEPOT + (
        'trigger = "leave"\ndwell = 120\nentity = "yiyang-bus/*"\ntypes = ["vehicle"]\n'
        'priority = 1\ndescription = "Bus left the depot"\nguidance = "Call the driver"\n'
    )
    config = load_config(write(tmp_path, text))
    fence = config.geofence("depot")
    assert fence is not None and config.geofence("elsewhere") is None
    assert (fence.trigger, fence.dwell, fence.entity, fence.types) == (
        "leave",
        120.0,
        "yiyang-bus/*",
        ("vehicle",),
    )
    assert (fence.severity, fence.description, fence.guidance) == (
        Severity.CRITICAL,
        "Bus left the depot",
        "Call the driver",
    )
    assert fence.applies_to("yiyang-bus/line1-01", "vehicle")
    assert not fence.applies_to("yiyang-bus/line1-01", "camera")
    assert not fence.applies_to("taxi/7", "vehicle")


def test_polygons_come_from_a_geojson_file_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "zones").mkdir()
    (tmp_path / "zones" / "city.geojson").write_text(json.dumps(ZONES), encoding="utf-8")
    text = (
        '[[geofences]]\nname = "depot"\nfile = "zones/city.geojson"\nfeature = "depot"\n'
        '[[geofences]]\nname = "parks"\nfile = "zones/city.geojson"\nfeature = "parks"\n'
        '[[geofences]]\nname = "all"\nfile = "zones/city.geojson"\n'
    )
    depot, parks, every = load_config(write(tmp_path, text)).geofences
    assert depot.file == tmp_path / "zones" / "city.geojson"
    (rings,) = depot.polygons  # the outer boundary and its hole
    assert len(rings) == 2 and rings[1][0] == (112.4, 28.4)
    assert len(parks.polygons) == 2
    assert every.polygons == depot.polygons + parks.polygons  # the point and line skipped


def test_a_bare_geometry_a_single_feature_and_a_bom(tmp_path: Path) -> None:
    multi = {"type": "MultiPolygon", "coordinates": [[square(112.0, 28.0, 0.5)]]}
    (tmp_path / "bare.geojson").write_bytes(b"\xef\xbb\xbf" + json.dumps(multi).encode())
    lone = feature("lake", {"type": "Polygon", "coordinates": [square(112.0, 28.0, 0.5)]})
    (tmp_path / "one.geojson").write_text(json.dumps(lone), encoding="utf-8")
    text = (
        '[[geofences]]\nname = "a"\nfile = "bare.geojson"\n'
        '[[geofences]]\nname = "b"\nfile = "one.geojson"\nfeature = "lake"\n'
    )
    first, second = load_config(write(tmp_path, text)).geofences
    assert first.polygons == second.polygons


CASES = [
    (
        '[[geofences]]\nname = "x"\npolygon = [[112.3, 28.5], [112.4, 28.5]]\n',
        "geofences[0].polygon",
        "at least 3 distinct points, got 2",
    ),
    (
        '[[geofences]]\nname = "x"\npolygon = [[1, 1], [2, 2], [1, 1], [2, 2]]\n',
        "geofences[0].polygon",
        "at least 3 distinct points",
    ),
    (
        '[[geofences]]\nname = "x"\npolygon = [[1, 1], [2, 2], [3, 3]]\n',
        "geofences[0].polygon",
        "on one line",
    ),
    (
        '[[geofences]]\nname = "x"\npolygon = [[1, 1], ["2", 2], [3, 1]]\n',
        "geofences[0].polygon[1]",
        "numbers",
    ),
    (
        '[[geofences]]\nname = "x"\npolygon = [[1, 1], [2, 1, 5], [3, 2]]\n',
        "geofences[0].polygon[1]",
        "[longitude, latitude] point",
    ),
    (
        '[[geofences]]\nname = "x"\npolygon = [[112.3, 28.5], [112.4, 95], [112.4, 28.6]]\n',
        "geofences[0].polygon[1]",
        "latitude 95 is outside -90 to 90",
    ),
    (  # latitude first, the usual mistake
        '[[geofences]]\nname = "x"\npolygon = [[28.5, 112.3], [28.5, 112.4], [28.6, 112.4]]\n',
        "geofences[0].polygon[0]",
        "(points are [longitude, latitude])",
    ),
    (
        '[[geofences]]\nname = "x"\npolygon = [[181, 1], [2, 1], [2, 2]]\n',
        "geofences[0].polygon[0]",
        "longitude 181 is outside -180 to 180",
    ),
    ('[[geofences]]\nname = "x"\npolygon = "square"\n', "geofences[0].polygon", "a list"),
    ('[[geofences]]\nname = "x"\n', "geofences[0].polygon", "is required (or a GeoJSON file)"),
    ("[[geofences]]\npolygon = [[1, 1], [2, 1], [2, 2]]\n", "geofences[0].name", "is required"),
    (DEPOT + 'file = "z.geojson"\n', "geofences[0].file", "either polygon or file"),
    (DEPOT + 'feature = "depot"\n', "geofences[0].feature", "no file is set"),
    (DEPOT + 'trigger = "exit"\n', "geofences[0].trigger", "one of enter, leave; got 'exit'"),
    (DEPOT + "dwell = -5\n", "geofences[0].dwell", "between 0 and 86400 seconds, got -5"),
    (DEPOT + 'dwell = "5 min"\n', "geofences[0].dwell", "must be a number"),
    (DEPOT + "priority = 5\n", "geofences[0].priority", "1 (highest)"),
    (DEPOT + 'types = "vehicle"\n', "geofences[0].types", "a list of strings"),
    (DEPOT + "dwel = 5\n", "geofences[0].dwel", "not a known setting"),
    (DEPOT + DEPOT, "geofences[1].name", "'depot' is used twice"),
    (DEPOT.replace('"depot"', '"a|b"'), "geofences[0].name", "'|'"),
    ('[geofences]\nname = "x"\n', "geofences", "a list of tables"),
]


@pytest.mark.parametrize(("text", "key", "problem"), CASES)
def test_bad_geofences_name_file_key_and_problem(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert (error.source, error.key) == (str(path), key)
    assert problem in error.problem
    assert str(path) in str(error) and key in str(error)


def geojson_case(document: object) -> bytes:
    return document if isinstance(document, bytes) else json.dumps(document).encode()


LINE = {"type": "LineString", "coordinates": [[112.0, 28.0], [113.0, 29.0]]}
FILE_CASES = [
    (
        LINE,
        "",
        "file",
        "is 'LineString', not a Polygon, MultiPolygon, Feature or FeatureCollection",
    ),
    ({"type": "Point", "coordinates": [112.0, 28.0]}, "", "file", "must be a polygon"),
    (
        {"type": "FeatureCollection", "features": [ZONES["features"][0]]},  # type: ignore[index]
        "",
        "file",
        "has no Polygon or MultiPolygon (found: Point)",
    ),
    (ZONES, "route", "feature", "feature 'route' is a LineString, not a Polygon"),
    (ZONES, "nowhere", "feature", "feature 'nowhere' has no geometry"),
    (ZONES, "harbour", "feature", "has no feature named 'harbour' (names: 'bus stop', 'depot'"),
    (
        {"type": "Polygon", "coordinates": [square(112.0, 28.0, 1.0)]},
        "depot",
        "feature",
        "bare Polygon geometry",
    ),
    (
        {"type": "Polygon", "coordinates": [[[112.0, 28.0], [113.0, 95.0], [113.0, 28.0]]]},
        "",
        "file",
        "coordinates[0][1]: latitude 95 is outside -90 to 90",
    ),
    (
        feature("x", {"type": "Polygon", "coordinates": [[[112.0, 28.0], [113.0, 29.0]]]}),
        "",
        "file",
        "geometry.coordinates[0]: is not a polygon: it needs at least 3 distinct points",
    ),
    (
        feature("x", {"type": "MultiPolygon", "coordinates": [[[[112.0, "28"], [1, 2], [2, 1]]]]}),
        "",
        "file",
        "geometry.coordinates[0][0][0]: must be a [longitude, latitude] point of numbers",
    ),
    (
        {"type": "FeatureCollection", "features": [LINE]},
        "",
        "file",
        "features[0]: is not a GeoJSON Feature",
    ),
    ({"type": "Polygon", "coordinates": []}, "", "file", "non-empty list of rings"),
    ([1, 2, 3], "", "file", "is not a GeoJSON object"),
    (b'{"type": "Polygon", ', "", "file", "is not valid JSON"),
    (b"\xff\xfe{}", "", "file", "is not UTF-8 text"),
    (b"[" * 100_000 + b"]" * 100_000, "", "file", "nested too deeply"),
]


@pytest.mark.parametrize(("document", "feature_name", "setting", "problem"), FILE_CASES)
def test_bad_geojson_files_name_file_key_and_problem(
    tmp_path: Path, document: object, feature_name: str, setting: str, problem: str
) -> None:
    geojson = tmp_path / "zones.geojson"
    geojson.write_bytes(geojson_case(document))
    pick = f'feature = "{feature_name}"\n' if feature_name else ""
    path = write(tmp_path, f'[[geofences]]\nname = "x"\nfile = "zones.geojson"\n{pick}')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert (error.source, error.key) == (str(path), f"geofences[0].{setting}")
    assert problem in error.problem
    assert str(geojson) in error.problem  # which GeoJSON file, besides the config


def test_a_missing_geojson_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[[geofences]]\nname = "x"\nfile = "gone.geojson"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == "geofences[0].file"
    assert f"file not found: {tmp_path / 'gone.geojson'}" in caught.value.problem


def test_too_many_geofences_or_points(tmp_path: Path) -> None:
    many = "".join(f'[[geofences]]\nname = "g{n}"\n{SQUARE}' for n in range(MAX_GEOFENCES + 1))
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, many))
    assert caught.value.key == "geofences"
    assert f"at most {MAX_GEOFENCES} geofences" in caught.value.problem
    count = MAX_GEOFENCE_POINTS // 2 + 1
    ring = [[112.0 + n * 1e-6, 28.0 + (n % 2) * 1e-3] for n in range(count)]
    ring.append(ring[0])
    big = {"type": "Polygon", "coordinates": [ring]}
    (tmp_path / "big.geojson").write_text(json.dumps(big), encoding="utf-8")
    text = (
        '[[geofences]]\nname = "a"\nfile = "big.geojson"\n'
        '[[geofences]]\nname = "b"\nfile = "big.geojson"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.key == "geofences[1].file"
    assert f"at most {MAX_GEOFENCE_POINTS:,} are allowed" in caught.value.problem
