"""Geofences: point-in-polygon, and alarms raised and cleared by entities entering or
leaving one (with dwell), through the alarm store's life cycle and the ingest pipeline."""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from pathlib import Path

import pytest

from services.alarms.geofence import Shape, point_in_polygon, point_in_ring
from services.alarms.store import AlarmStore
from services.config import AppConfig, FeedConfig, GeofenceConfig, load_config
from services.config.schema import PolygonRings, Ring
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.model import AlarmState, Condition, Entity, Severity, alarm_id
from services.store.cache import OfflineCache
from tests.helpers.paths import SHARED_INTEROP

YIYANG = SHARED_INTEROP / "geo" / "yiyang-430900.geojson"


def ring(*points: tuple[float, float]) -> Ring:
    return (*points, points[0])


def box(west: float, south: float, east: float, north: float) -> Ring:
    return ring((west, south), (east, south), (east, north), (west, north))


DEPOT = box(112.30, 28.50, 112.40, 28.60)
IN_DEPOT = (112.35, 28.55)
OUTSIDE = (112.50, 28.55)
# A U open to the north: the notch between its arms is outside.
U_SHAPE = ring((0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3))
# A square with a square hole, and a second square further east.
WITH_HOLE: PolygonRings = (box(0, 0, 10, 10), box(4, 4, 6, 6))
ISLAND: PolygonRings = (box(20, 0, 30, 10),)


def test_ray_casting_in_a_concave_ring() -> None:
    assert point_in_ring(0.5, 2.5, U_SHAPE)  # in the west arm
    assert point_in_ring(2.5, 2.5, U_SHAPE)  # in the east arm
    assert point_in_ring(1.5, 0.5, U_SHAPE)  # in the base
    assert not point_in_ring(1.5, 2.0, U_SHAPE)  # in the notch
    assert not point_in_ring(-1.0, 1.0, U_SHAPE)
    assert point_in_ring(0.5, 2.5, U_SHAPE[:-1])  # an open ring is closed implicitly


def test_holes_and_multipolygons() -> None:
    assert point_in_polygon(2, 2, WITH_HOLE)
    assert not point_in_polygon(5, 5, WITH_HOLE)  # in the hole
    assert not point_in_polygon(25, 5, WITH_HOLE)
    shape = Shape([WITH_HOLE, ISLAND])
    assert shape.contains(2, 2)
    assert not shape.contains(5, 5)
    assert shape.contains(25, 5)  # in the second polygon
    assert not shape.contains(15, 5)  # between them, inside the bounding box
    assert not shape.contains(5, 50)


def test_the_indexed_shape_agrees_with_plain_ray_casting() -> None:
    """Many-sided rings, convex and star-shaped, with long and short edges."""
    rng = random.Random(7)
    star = tuple(
        (math.cos(a) * r, math.sin(a) * r)
        for a, r in ((n * 2 * math.pi / 400, 1.0 if n % 2 else 0.3) for n in range(400))
    )
    polygons = [(ring(*star),), (box(-0.2, -0.2, 0.2, 0.2), ring((-0.1, 0), (0, 0.1), (0.1, 0)))]
    for polygon in polygons:
        shape = Shape([polygon])
        for _ in range(2000):
            lon, lat = rng.uniform(-1.2, 1.2), rng.uniform(-1.2, 1.2)
            assert shape.contains(lon, lat) == point_in_polygon(lon, lat, polygon), (lon, lat)


@pytest.mark.skipif(not YIYANG.exists(), reason="../shared/interop is not here")
def test_yiyang_district_boundaries_from_a_real_geojson_file(tmp_path: Path) -> None:
    """The city's six districts (GCJ-02, like their seat coordinates in the same file): each
    seat is inside its own district and in no other."""
    document = json.loads(YIYANG.read_text(encoding="utf-8"))
    names = [feature["properties"]["name"] for feature in document["features"]]
    text = "".join(
        f'[[geofences]]\nname = "{name}"\nfile = "{YIYANG}"\nfeature = "{name}"\n' for name in names
    )
    text += f'[[geofences]]\nname = "Yiyang"\nfile = "{YIYANG}"\n'
    config_path = tmp_path / "c.toml"
    config_path.write_text(text, encoding="utf-8")
    fences = load_config(config_path).geofences
    shapes = {fence.name: Shape(fence.polygons) for fence in fences}
    for feature in document["features"]:
        for key in ("center", "centroid"):
            lon, lat = feature["properties"][key]
            inside = {name for name, shape in shapes.items() if shape.contains(lon, lat)}
            assert inside == {feature["properties"]["name"], "Yiyang"}
    assert not shapes["Yiyang"].contains(113.5, 28.5)  # east of the city
    rng = random.Random(3)
    for fence in fences[:2]:
        for _ in range(500):
            lon, lat = rng.uniform(111.0, 113.2), rng.uniform(27.8, 29.6)
            expected = any(point_in_polygon(lon, lat, polygon) for polygon in fence.polygons)
            assert shapes[fence.name].contains(lon, lat) == expected


def fence(**changes: object) -> GeofenceConfig:
    return replace(GeofenceConfig(name="depot", polygons=((DEPOT,),)), **changes)  # type: ignore[arg-type]


def bus(at: tuple[float, float], ts: float, entity: str = "bus-1", kind: str = "vehicle") -> Entity:
    lon, lat = at
    return Entity(id=entity, name=entity, type=kind, lat=lat, lon=lon, updated_at=ts)


KEY = alarm_id("bus-1", "depot", Condition.GEOFENCE)


def test_entering_raises_leaving_returns_and_entering_again_is_counted() -> None:
    store = AlarmStore([], [fence(priority=2)])
    assert store.evaluate_positions([bus(OUTSIDE, 1)]) == []
    (raised,) = store.evaluate_positions([bus(IN_DEPOT, 2)])
    assert (raised.id, raised.state, raised.severity, raised.count) == (
        KEY,
        AlarmState.UNACKNOWLEDGED,
        Severity.HIGH,
        1,
    )
    assert (raised.metric, raised.value, raised.raised_at) == ("depot", 1.0, 2)
    assert math.isnan(raised.threshold)
    assert raised.message == "entered depot"
    assert store.worst_active_severity("bus-1") is Severity.HIGH
    assert store.evaluate_positions([bus((112.36, 28.56), 3)]) == []  # still inside
    (left,) = store.evaluate_positions([bus(OUTSIDE, 4)])
    assert left.state is AlarmState.RTN_UNACKNOWLEDGED
    (again,) = store.evaluate_positions([bus(IN_DEPOT, 5)])
    assert (again.state, again.count, again.raised_at) == (AlarmState.UNACKNOWLEDGED, 2, 2)
    store.evaluate_positions([bus(OUTSIDE, 6)])
    (normal,) = store.acknowledge([KEY], "ops", 7)
    assert normal.state is AlarmState.NORMAL
    (new,) = store.evaluate_positions([bus(IN_DEPOT, 8)])  # a new occurrence
    assert (new.state, new.count, new.raised_at, new.acked_by) == (
        AlarmState.UNACKNOWLEDGED,
        3,
        8,
        "",
    )


def test_an_acknowledged_alarm_clears_to_normal_when_the_entity_leaves() -> None:
    store = AlarmStore([], [fence(description="Bus in the depot")])
    (raised,) = store.evaluate_positions([bus(IN_DEPOT, 1)])
    assert raised.message == "Bus in the depot"
    store.acknowledge([KEY], "ops", 2)
    (cleared,) = store.evaluate_positions([bus(OUTSIDE, 3)])
    assert cleared.state is AlarmState.NORMAL
    assert store.worst_active_severity("bus-1") is None


def test_dwell_is_measured_in_entity_update_time_and_restarts_on_the_other_side() -> None:
    store = AlarmStore([], [fence(dwell=60)])
    assert store.evaluate_positions([bus(IN_DEPOT, 0)]) == []
    assert store.evaluate_positions([bus(IN_DEPOT, 30)]) == []
    assert store.evaluate_positions([bus(OUTSIDE, 50)]) == []  # left before the dwell: reset
    assert store.evaluate_positions([bus(IN_DEPOT, 70)]) == []
    assert store.evaluate_positions([bus(IN_DEPOT, 129)]) == []
    (raised,) = store.evaluate_positions([bus(IN_DEPOT, 130)])
    assert (raised.state, raised.raised_at) == (AlarmState.UNACKNOWLEDGED, 130)
    (cleared,) = store.evaluate_positions([bus(OUTSIDE, 131)])  # clearing needs no dwell
    assert cleared.state is AlarmState.RTN_UNACKNOWLEDGED


def test_leaving_alarms_only_after_the_entity_was_seen_inside() -> None:
    store = AlarmStore([], [fence(trigger="leave", dwell=120)])
    assert store.evaluate_positions([bus(OUTSIDE, 0)]) == []  # never inside: not left
    assert store.evaluate_positions([bus(OUTSIDE, 500)]) == []
    assert store.evaluate_positions([bus(IN_DEPOT, 600)]) == []
    assert store.evaluate_positions([bus(OUTSIDE, 700)]) == []  # out, waiting for the dwell
    (raised,) = store.evaluate_positions([bus(OUTSIDE, 820)])
    assert (raised.state, raised.value, raised.message) == (
        AlarmState.UNACKNOWLEDGED,
        0.0,
        "left depot",
    )
    (back,) = store.evaluate_positions([bus(IN_DEPOT, 821)])
    assert back.state is AlarmState.RTN_UNACKNOWLEDGED


def test_a_restored_leave_alarm_is_not_cleared_for_want_of_history() -> None:
    store = AlarmStore([], [fence(trigger="leave")])
    store.evaluate_positions([bus(IN_DEPOT, 1)])
    (raised,) = store.evaluate_positions([bus(OUTSIDE, 2)])
    restarted = AlarmStore([], [fence(trigger="leave")])
    restarted.restore([raised])
    assert restarted.evaluate_positions([bus(OUTSIDE, 3)]) == []  # still out: still active
    (back,) = restarted.evaluate_positions([bus(IN_DEPOT, 4)])
    assert back.state is AlarmState.RTN_UNACKNOWLEDGED


def test_old_and_repeated_updates_change_nothing() -> None:
    store = AlarmStore([], [fence()])
    store.evaluate_positions([bus(IN_DEPOT, 10)])
    assert store.evaluate_positions([bus(OUTSIDE, 9)]) == []  # older than what was seen
    assert store.evaluate_positions([bus(OUTSIDE, 10)]) == []  # the same time again
    alarm = store.get(KEY)
    assert alarm is not None and alarm.state is AlarmState.UNACKNOWLEDGED


def test_entity_patterns_types_and_entities_without_a_position() -> None:
    store = AlarmStore([], [fence(entity="bus-*", types=("vehicle",))])
    assert store.evaluate_positions([bus(IN_DEPOT, 1, entity="taxi-1")]) == []
    assert store.evaluate_positions([bus(IN_DEPOT, 1, kind="camera")]) == []
    assert store.evaluate_positions([Entity(id="bus-2", name="b", type="vehicle")]) == []
    (raised,) = store.evaluate_positions([bus(IN_DEPOT, 1, entity="bus-3")])
    assert raised.entity_id == "bus-3"
    assert AlarmStore([]).evaluate_positions([bus(IN_DEPOT, 1)]) == []  # no geofences


def test_a_hole_of_a_geojson_polygon_is_outside(tmp_path: Path) -> None:
    """A park (from a GeoJSON file written here) with a lake in it: entering the lake is
    leaving the park."""
    park = {
        "type": "Feature",
        "properties": {"name": "park"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [list(p) for p in box(112.30, 28.50, 112.40, 28.60)],
                [list(p) for p in box(112.34, 28.54, 112.36, 28.56)],
            ],
        },
    }
    (tmp_path / "park.geojson").write_text(json.dumps(park), encoding="utf-8")
    config_path = tmp_path / "c.toml"
    config_path.write_text('[[geofences]]\nname = "park"\nfile = "park.geojson"\n')
    store = AlarmStore([], load_config(config_path).geofences)
    (raised,) = store.evaluate_positions([bus((112.31, 28.51), 1)])
    assert raised.id == alarm_id("bus-1", "park", Condition.GEOFENCE)
    (lake,) = store.evaluate_positions([bus((112.35, 28.55), 2)])
    assert lake.state is AlarmState.RTN_UNACKNOWLEDGED


def test_a_shelved_geofence_alarm_follows_the_entity_underneath() -> None:
    store = AlarmStore([], [fence()])
    store.evaluate_positions([bus(IN_DEPOT, 1)])
    store.shelve([KEY], "ops", 2, until=math.inf, note="depot visit")
    (cleared,) = store.evaluate_positions([bus(OUTSIDE, 3)])
    assert cleared.state is AlarmState.NORMAL  # shelved until it clears: it cleared


T0 = 1_790_000_000.0


def owntracks(at: tuple[float, float], seconds: float) -> RawMessage:
    """Bus line1-01 at ``at``, ``seconds`` after T0 (sent and received then)."""
    lon, lat = at
    payload = {"_type": "location", "tid": "01", "lat": lat, "lon": lon, "tst": int(T0 + seconds)}
    topic = "owntracks/yiyang-bus/line1-01"
    return RawMessage("buses", topic, json.dumps(payload).encode(), T0 + seconds)


def test_an_owntracks_position_raises_a_geofence_alarm_in_the_pipeline() -> None:
    buses = FeedConfig(name="buses", topic="owntracks/#", format="owntracks", domain="transport")
    config = AppConfig(
        source="test",
        feeds=(buses,),
        geofences=(fence(types=("vehicle",), priority=1, dwell=30),),
    )
    pipeline = IngestPipeline(config, None)
    key = alarm_id("yiyang-bus/line1-01", "depot", Condition.GEOFENCE)
    pipeline.process_batch([owntracks(OUTSIDE, 0)])
    pipeline.process_batch([owntracks(IN_DEPOT, 10)])
    pipeline.process_batch([owntracks(IN_DEPOT, 30)])
    assert pipeline.take_delta().alarms == {}  # inside for 20 s of the 30 s dwell
    pipeline.process_batch([owntracks(IN_DEPOT, 40)])
    delta = pipeline.take_delta()
    alarm = delta.alarms[key]
    assert (alarm.state, alarm.severity, alarm.raised_at) == (
        AlarmState.UNACKNOWLEDGED,
        Severity.CRITICAL,
        T0 + 40,
    )
    assert delta.entities["yiyang-bus/line1-01"].worst_severity is Severity.CRITICAL
    pipeline.process_batch([owntracks(OUTSIDE, 50)])
    delta = pipeline.take_delta()
    assert delta.alarms[key].state is AlarmState.RTN_UNACKNOWLEDGED
    assert delta.entities["yiyang-bus/line1-01"].worst_severity is None


def test_a_json_station_inside_a_geofence_raises_once(tmp_path: Path) -> None:
    config = AppConfig(
        source="test",
        feeds=(FeedConfig(name="air", topic="yiyang/env/air/#", domain="environment"),),
        geofences=(fence(entity="aq-*"),),
    )
    pipeline = IngestPipeline(config, None)
    payload = {"id": "aq-1", "lat": IN_DEPOT[1], "lon": IN_DEPOT[0], "pm25": 30, "ts": 1}
    for at in (100.0, 101.0):
        payload["ts"] = at
        message = RawMessage("air", "yiyang/env/air/aq-1", json.dumps(payload).encode(), at)
        pipeline.process_batch([message])
    alarms = pipeline.alarms.alarms()
    assert [(a.id, a.count) for a in alarms] == [(alarm_id("aq-1", "depot", "geofence"), 1)]


def test_a_geofence_alarm_is_cached_and_restored_after_a_restart(cache_dir: Path) -> None:
    buses = FeedConfig(name="buses", topic="owntracks/#", format="owntracks", domain="transport")
    config = AppConfig(source="test", feeds=(buses,), geofences=(fence(trigger="leave"),))
    key = alarm_id("yiyang-bus/line1-01", "depot", Condition.GEOFENCE)
    with OfflineCache(cache_dir) as cache:
        first = IngestPipeline(config, cache, flush_interval=0.0)
        first.process_batch([owntracks(IN_DEPOT, 0), owntracks(OUTSIDE, 10)])
        first.process_batch([owntracks(OUTSIDE, 20)])
        first.stop()
    with OfflineCache(cache_dir) as cache:
        second = IngestPipeline(config, cache, flush_interval=0.0)
        second.restore_from_cache()
        restored = second.take_delta().alarms[key]
        assert (restored.condition, restored.state) == (
            Condition.GEOFENCE,
            AlarmState.UNACKNOWLEDGED,
        )
        second.process_batch([owntracks(OUTSIDE, 30)])
        assert second.take_delta().alarms == {}  # still out of the depot
        second.process_batch([owntracks(IN_DEPOT, 40)])
        assert second.take_delta().alarms[key].state is AlarmState.RTN_UNACKNOWLEDGED
        second.stop()


def test_passing_through_within_one_batch_is_not_missed() -> None:
    buses = FeedConfig(name="buses", topic="owntracks/#", format="owntracks", domain="transport")
    pipeline = IngestPipeline(AppConfig(source="test", feeds=(buses,), geofences=(fence(),)), None)
    pipeline.process_batch([owntracks(OUTSIDE, 0), owntracks(IN_DEPOT, 5), owntracks(OUTSIDE, 9)])
    (alarm,) = pipeline.take_delta().alarms.values()
    assert (alarm.state, alarm.count, alarm.raised_at) == (
        AlarmState.RTN_UNACKNOWLEDGED,
        1,
        T0 + 5,
    )
