"""Group KPIs: a metric aggregated over a domain, a type, a district or an entity glob,
over real config parsing, real polygons and the one ``aggregate``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.config import ConfigError, KpiConfig, load_config
from services.config.schema import DistrictConfig, Group
from services.ingest.kpi import DistrictIndex, GroupMembers, compute_kpis
from services.model import Entity, Reading

SQUARE = "polygon = [[112.30, 28.50], [112.40, 28.50], [112.40, 28.60], [112.30, 28.60]]\n"
"""A 0.1-degree square around (112.35, 28.55)."""
DISTRICT = f'[[districts]]\nname = "Heshan"\n{SQUARE}'


def write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def entity(
    entity_id: str,
    domain: str = "environment",
    kind: str = "air_quality",
    at: tuple[float, float] | None = None,
) -> Entity:
    lon, lat = at if at is not None else (None, None)
    return Entity(id=entity_id, name=entity_id, type=kind, domain=domain, lat=lat, lon=lon)


def reading(entity_id: str, metric: str, value: float) -> Reading:
    return Reading(entity_id=entity_id, metric=metric, value=value, ts=1.0, feed="f")


INSIDE = (112.35, 28.55)
OUTSIDE = (112.45, 28.55)
ENTITIES = [
    entity("aq-heshan-01", at=INSIDE),
    entity("aq-heshan-02", at=(112.31, 28.51)),
    entity("aq-ziyang-01", at=OUTSIDE),
    entity("aq-roaming", at=None),
    entity("wl-01", domain="water", kind="river_gauge", at=INSIDE),
    entity("wl-02", domain="water", kind="river_gauge", at=OUTSIDE),
]
LATEST = [
    reading("aq-heshan-01", "pm25", 40.0),
    reading("aq-heshan-02", "pm25", 60.0),
    reading("aq-ziyang-01", "pm25", 100.0),
    reading("aq-roaming", "pm25", 1000.0),
    reading("wl-01", "pm25", 7.0),
    reading("wl-01", "water_level", 35.0),
    reading("wl-02", "water_level", 37.0),
]


def kpis_of(tmp_path: Path, *tables: str) -> dict[str, float | None]:
    """The values of the ``[[kpis]]`` tables, read from a real config file."""
    config = load_config(write(tmp_path, DISTRICT + "".join(tables)))
    return compute_kpis(config.kpis, LATEST, ENTITIES, config.districts)


def kpi(name: str, metric: str, aggregate: str, **group: str) -> str:
    lines = [f'name = "{name}"', f'metric = "{metric}"', f'aggregate = "{aggregate}"']
    lines += [f'{key} = "{value}"' for key, value in group.items()]
    return "[[kpis]]\n" + "\n".join(lines) + "\nmax = 2000\n"


def test_mean_over_a_domain_leaves_other_domains_out(tmp_path: Path) -> None:
    values = kpis_of(
        tmp_path,
        kpi("all", "pm25", "mean"),
        kpi("env", "pm25", "mean", domain="environment"),
    )
    assert values["all"] == pytest.approx((40 + 60 + 100 + 1000 + 7) / 5)
    assert values["env"] == pytest.approx((40 + 60 + 100 + 1000) / 4)


def test_max_over_a_type(tmp_path: Path) -> None:
    values = kpis_of(
        tmp_path,
        kpi("gauges", "water_level", "max", type="river_gauge"),
        kpi("stations", "water_level", "max", type="air_quality"),
    )
    assert values == {"gauges": 37.0, "stations": None}


def test_a_district_takes_entities_whose_position_is_inside_its_polygon(tmp_path: Path) -> None:
    values = kpis_of(
        tmp_path,
        kpi("heshan", "pm25", "mean", district="Heshan", domain="environment"),
        kpi("heshan levels", "water_level", "min", district="Heshan"),
    )
    assert values["heshan"] == pytest.approx(50.0)  # not the one outside, not the roaming one
    assert values["heshan levels"] == 35.0


def test_a_glob_on_entity_ids_and_a_count(tmp_path: Path) -> None:
    values = kpis_of(
        tmp_path,
        kpi("heshan ids", "pm25", "sum", entities="aq-heshan-*"),
        kpi("reporting", "pm25", "count", entities="aq-*"),
        kpi("nobody", "pm25", "count", entities="zz-*"),
    )
    assert values == {"heshan ids": 100.0, "reporting": 4.0, "nobody": 0.0}


def test_an_entity_without_a_position_is_outside_every_district() -> None:
    district = DistrictConfig(
        name="everywhere",
        polygons=((((-180.0, -90.0), (180.0, -90.0), (180.0, 90.0), (-180.0, -90.0)),),),
    )
    group = KpiConfig(name="k", metric="pm25", group=Group(district="everywhere"))
    latest = [reading("aq-roaming", "pm25", 5.0), reading("aq-heshan-01", "pm25", 9.0)]
    entities = [entity("aq-roaming"), entity("aq-heshan-01", at=(0.0, -45.0))]
    assert compute_kpis([group], latest, entities, [district]) == {"k": 9.0}


def test_readings_of_unknown_entities_count_only_for_kpis_without_a_group() -> None:
    plain = KpiConfig(name="plain", metric="pm25", aggregate="count")
    grouped = KpiConfig(name="grouped", metric="pm25", aggregate="count", group=Group("x"))
    values = compute_kpis([plain, grouped], [reading("ghost", "pm25", 1.0)], [], [])
    assert values == {"plain": 1.0, "grouped": 0.0}


def test_the_district_index_remembers_positions() -> None:
    index = DistrictIndex(
        [DistrictConfig("sq", ((((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)),),))]
    )
    assert index.contains("sq", 0.5, 0.5)
    assert not index.contains("sq", 1.5, 0.5)
    assert not index.contains("unknown", 0.5, 0.5)
    assert index._inside[("sq", 0.5, 0.5)] is True


def test_an_unknown_district_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    text = DISTRICT + kpi("ziyang", "pm25", "mean", district="Ziyang")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.key == "kpis[0].district"
    assert "Ziyang" in caught.value.problem
    assert "'Heshan'" in caught.value.problem
    assert str(tmp_path / "c.toml") in str(caught.value)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('[[districts]]\nname = "a"\n', "districts[1].polygon"),
        (f"[[districts]]\n{SQUARE}", "districts[1].name"),
        (DISTRICT, "districts[1].name"),
        (f'[[districts]]\nname = "b"\n{SQUARE}colour = "red"\n', "districts[1].colour"),
        (kpi("k", "pm25", "mean", domain="sewers"), "kpis[0].domain"),
    ],
)
def test_bad_districts_and_group_keys_are_named(tmp_path: Path, table: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, DISTRICT + table))
    assert caught.value.key == key


def test_districts_from_a_member_of_a_json_file(tmp_path: Path) -> None:
    square = [[112.3, 28.5], [112.4, 28.5], [112.4, 28.6], [112.3, 28.6], [112.3, 28.5]]
    document = {
        "comment": "not GeoJSON at the top",
        "districts": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": "赫山区"},
                    "geometry": {"type": "Polygon", "coordinates": [square]},
                }
            ],
        },
    }
    (tmp_path / "city.json").write_text(json.dumps(document), encoding="utf-8")
    text = '[[districts]]\nname = "Heshan"\nfile = "city.json"\nmember = "districts"\n'
    config = load_config(write(tmp_path, text + 'feature = "赫山区"\n'))
    assert config.districts[0].polygons[0][0][0] == (112.3, 28.5)
    assert config.districts[0].file == tmp_path / "city.json"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text.replace('"districts"\n', '"areas"\n')))
    assert caught.value.key == "districts[0].member"


def test_memberships_kept_between_calls_follow_an_entity_that_moves() -> None:
    square = DistrictConfig(
        "sq", ((((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)),),)
    )
    inside = KpiConfig(name="in", metric="pm25", aggregate="count", group=Group(district="sq"))
    members = GroupMembers()
    latest = [reading("bus-1", "pm25", 5.0)]
    at_first = [entity("bus-1", at=(0.5, 0.5))]
    assert compute_kpis([inside], latest, at_first, [square], members) == {"in": 1.0}
    moved = [entity("bus-1", at=(0.5, 2.5))]
    assert compute_kpis([inside], latest, moved, [square], members) == {"in": 0.0}
    back = {"bus-1": entity("bus-1", at=(0.25, 0.75))}  # a mapping of entities also does
    assert compute_kpis([inside], latest, back, [square], members) == {"in": 1.0}


def test_memberships_follow_every_group_once_given_even_when_a_later_call_names_fewer() -> None:
    square = DistrictIndex(
        [DistrictConfig("sq", ((((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)),),))]
    )
    water, inside = Group(domain="water"), Group(district="sq")
    members = GroupMembers()
    known = {"bus-1": entity("bus-1", domain="water", at=(0.5, 0.5))}
    members.update(known, [water, inside], square)
    assert members.members(water) == members.members(inside) == {"bus-1"}
    assert members.follows(inside) and not members.follows(Group(domain="city"))
    known["bus-1"] = entity("bus-1", domain="city", at=(3.0, 3.0))  # moved and changed
    known["bus-2"] = entity("bus-2", domain="water", at=(0.2, 0.2))
    members.update(known, [water], square)  # the district's group not named this time
    assert members.members(water) == {"bus-2"}
    assert members.members(inside) == {"bus-2"}  # still followed: bus-1 left, bus-2 came
    del known["bus-2"]
    members.update(known, [], square)
    assert members.members(water) == members.members(inside) == set()
