"""The Yiyang demo city, its simulator, its formats and the MQTT demo publisher."""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from services.config import load_demo_config
from services.demo.city import distance_m, point_in_ring
from services.demo.embedded_broker import EmbeddedBroker
from services.demo.publisher import DemoPublisher
from services.demo.simulator import (
    METRIC_UNITS,
    STATION_KINDS,
    CitySimulator,
    DemoCity,
    load_demo_city,
    parse_demo_city,
    scaled_stations,
)
from services.ingest.pipeline import IngestPipeline
from services.session import CitySession
from services.timeutil import parse_timestamp
from tests.helpers.brokers import MosquittoBroker, mosquitto_binary
from tests.helpers.demo import DEMO, START, decode, feed_of, raw
from tests.helpers.mqtt import Subscriber
from tests.helpers.polling import wait_for

CENTRE_LAT, CENTRE_LON = 28.57, 112.36
FEED_TOPICS = [feed.topic for feed in DEMO.feeds]


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return load_demo_city()


# -- the city data -----------------------------------------------------------------------


def test_demo_city_covers_every_domain_with_plausible_devices(city: DemoCity) -> None:
    ids = [s.id for s in city.stations]
    assert len(set(ids)) == len(ids)
    assert 90 <= len(city.stations) <= 130
    assert {s.type for s in city.stations} == set(STATION_KINDS)
    assert {s.domain for s in city.stations} == {
        "environment",
        "water",
        "traffic",
        "transport",
        "city",
        "safety",
        "health",
    }
    for spec in city.stations:
        assert re.fullmatch(r"[a-z]+\d*-[a-z]+-?\d\d|line\d+-\d\d|incident-\d\d", spec.id), spec.id
        if spec.type not in ("bus", "incident"):
            assert re.search(r"[\u4e00-\u9fff]", spec.name), spec.name  # Chinese
            assert re.search(r"[A-Za-z]{3}", spec.name), spec.name  # pinyin / English
        assert abs(spec.lat - CENTRE_LAT) <= 0.12 and abs(spec.lon - CENTRE_LON) <= 0.12
        assert all(metric in METRIC_UNITS for metric in spec.metrics)
        for topic in spec.topics():
            feed_of(topic)
    assert city.station("aq-heshan-01").topic == "yiyang/env/air/aq-heshan-01"
    with pytest.raises(KeyError):
        city.station("nope")


def district_rings(city: DemoCity) -> dict[str, list[list[float]]]:
    return {
        f["properties"]["id"]: f["geometry"]["coordinates"][0] for f in city.districts["features"]
    }


def test_districts_are_closed_polygons_with_ziyang_north_and_heshan_south_of_the_river(
    city: DemoCity,
) -> None:
    features = city.districts["features"]
    names = {f["properties"]["name_en"] for f in features}
    assert names == {
        "Heshan District",
        "Ziyang District",
        "Taojiang County",
        "Anhua County",
        "Yuanjiang City",
        "Nan County",
        "Urban area",
    }
    for feature in features:
        ring = feature["geometry"]["coordinates"][0]
        assert feature["geometry"]["type"] == "Polygon"
        assert len(ring) >= 4 and ring[0] == ring[-1]
        for lon, lat in ring:  # GeoJSON order: longitude first
            assert 27.5 < lat < 30.0 and 110.5 < lon < 113.5
    rings = district_rings(city)
    assert city.river is not None and city.river["geometry"]["type"] == "LineString"
    for lon, lat in city.river["geometry"]["coordinates"]:
        if 112.25 <= lon <= 112.47:  # the urban reach separates the two districts
            assert point_in_ring(lon, lat + 0.004, rings["ziyang"])
            assert point_in_ring(lon, lat - 0.004, rings["heshan"])
    # county seats fall in their own outline
    seats = {
        "taojiang": (112.15, 28.52),
        "anhua": (111.21, 28.38),
        "yuanjiang": (112.36, 28.84),
        "nan": (112.40, 29.36),
    }
    for county, (lon, lat) in seats.items():
        assert point_in_ring(lon, lat, rings[county]), county


def test_devices_stand_where_their_names_say(city: DemoCity) -> None:
    rings = district_rings(city)
    assert city.river is not None
    river = city.river["geometry"]["coordinates"]

    def to_river(lon: float, lat: float) -> float:
        best = math.inf
        for (x1, y1), (x2, y2) in itertools.pairwise(river):
            for step in range(51):
                u = step / 50
                best = min(best, distance_m(lon, lat, x1 + (x2 - x1) * u, y1 + (y2 - y1) * u))
        return best

    for spec in city.stations:
        place = spec.id.split("-")[1] if spec.type not in ("bus", "incident") else ""
        if place in ("heshan", "ziyang", "urban"):
            assert point_in_ring(spec.lon, spec.lat, rings[place]), spec.id
        if place == "zijiang":
            assert to_river(spec.lon, spec.lat) < 300, spec.id
    for route in city.routes:  # city buses stay in the two districts
        for lon, lat in route.path:
            assert any(point_in_ring(lon, lat, rings[d]) for d in ("heshan", "ziyang")), route.id
    buses = [spec for spec in city.stations if spec.type == "bus"]
    assert len(buses) == sum(route.buses for route in city.routes) >= 8


def test_malformed_city_data_is_rejected(city: DemoCity) -> None:
    doc = json.loads(resources.files("resources").joinpath("demo_city.json").read_text("utf-8"))
    assert len(parse_demo_city(doc).stations) == len(city.stations)
    doc["stations"][1]["type"] = "teleporter"
    with pytest.raises(ValueError, match="unknown type"):
        parse_demo_city(doc)
    doc["stations"][1]["type"] = "air_quality"
    doc["stations"][1]["id"] = doc["stations"][0]["id"]
    with pytest.raises(ValueError, match="duplicate"):
        parse_demo_city(doc)
    doc["stations"][1]["id"] = "aq-heshan-99"
    doc["stations"][1]["sim"]["episodes"][0]["width_s"] = 10_000
    with pytest.raises(ValueError, match="within its period"):
        parse_demo_city(doc)
    doc["stations"][1]["sim"]["episodes"][0]["width_s"] = 100
    assert parse_demo_city(doc).station("aq-heshan-99").episodes[0].width_s == 100
    del doc["districts"]
    with pytest.raises(ValueError, match="malformed"):
        parse_demo_city(doc)


# -- formats: every message decodes into the expected entities ---------------------------


EXPECTED_FORMATS = {
    "environment": "ngsi-ld",
    "water": "senml",
    "water-assets": "json",
    "traffic": "sensorthings",
    "buses": "owntracks",
    "warnings": "cap",
    "bus-dispatch": "json",
    "city": "json",
    "incidents": "json",
    "health": "json",
}


def test_every_message_decodes_into_its_devices_entity_and_metrics(city: DemoCity) -> None:
    simulator = CitySimulator(city, seed=1)
    now = START + 12.345
    messages = simulator.step(now)
    assert {feed.name: feed.format for feed in DEMO.feeds} == EXPECTED_FORMATS
    seen: dict[str, set[str]] = {}
    names: dict[str, str | None] = {}
    positions: dict[str, tuple[float, float]] = {}
    feeds_used: set[str] = set()
    alarms = []
    for topic, payload in messages:
        feeds_used.add(feed_of(topic).name)
        decoded = decode(topic, payload, now)
        alarms.extend(decoded.alarms)
        for reading in decoded.readings:
            seen.setdefault(reading.entity_id, set()).add(reading.metric)
            assert reading.ts == pytest.approx(now, abs=1.0)
            assert math.isfinite(reading.value)
        for update in decoded.entities:
            names[update.id] = update.name or names.get(update.id)
            if update.lat is not None and update.lon is not None:
                positions[update.id] = (update.lat, update.lon)
    assert feeds_used == set(EXPECTED_FORMATS)
    for spec in city.stations:
        assert seen.get(spec.entity_id) == set(spec.metrics), spec.id
        if spec.type != "incident":  # incidents are named after what happened
            assert names[spec.entity_id] == spec.name  # SenML devices: from the asset register
        if spec.type != "incident" or simulator.models.incident(spec, simulator.clock(now))[1]:
            lat, lon = positions[spec.entity_id]
            assert abs(lat - CENTRE_LAT) <= 0.12 and abs(lon - CENTRE_LON) <= 0.12
    cap_entities = {alarm.entity_id for alarm in alarms}
    assert cap_entities == {
        "cap:weather.yiyang.demo/ADCODE=430903",  # Heshan
        "cap:weather.yiyang.demo/ADCODE=430902",  # Ziyang
        "cap:weather.yiyang.demo/ADCODE=430981",  # Yuanjiang
        "cap:weather.yiyang.demo/ADCODE=430921",  # Nan
    }
    assert all(alarm.area is not None for alarm in alarms)


def test_payloads_look_like_each_formats_real_messages(city: DemoCity) -> None:
    simulator = CitySimulator(city, seed=1)
    now = START + 5.0
    by_topic = dict(simulator.step(now))
    ngsi = json.loads(by_topic["yiyang/env/air/aq-heshan-01"])
    assert ngsi["type"] == "Notification" and len(ngsi["data"]) == 1
    entity = ngsi["data"][0]
    assert entity["id"] == "urn:ngsi-ld:AirQualityObserved:yiyang:aq-heshan-01"
    assert entity["pm25"]["unitCode"] == "GQ" and entity["pm25"]["type"] == "Property"
    assert entity["location"]["value"]["coordinates"] == [112.355, 28.553]
    senml = json.loads(by_topic["yiyang/water/gauge/wl-zijiang-03"])
    assert senml[0]["bn"] == "urn:dev:ops:yiyang-wl-zijiang-03:"
    assert senml[0]["bt"] == pytest.approx(now)
    assert {record["n"] for record in senml} == {"water_level", "discharge", "lat", "lon"}
    topic = "v1.1/Datastreams('tr-heshan-01:occupancy')/Observations"
    observation = json.loads(by_topic[topic])
    assert observation["Datastream"]["Thing"]["@iot.id"] == "tr-heshan-01"
    assert observation["Datastream"]["unitOfMeasurement"]["symbol"] == "%"
    assert parse_timestamp(observation["phenomenonTime"]) == pytest.approx(now)
    location = json.loads(by_topic["owntracks/yiyang-bus/line1-01"])
    assert location["_type"] == "location" and location["tst"] == int(now)
    assert {"lat", "lon", "vel", "cog", "batt", "acc", "tid"} <= set(location)
    status = json.loads(by_topic["yiyang/transport/bus/line1-01"])
    assert status["id"] == "yiyang-bus/line1-01" and "delay_min" in status
    cap = by_topic["yiyang/warnings/cap/lightning/heshan"].decode("utf-8")
    assert cap.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "<msgType>Alert</msgType>" in cap and "<valueName>ADCODE</valueName>" in cap
    assert "<sent>2026-01-01T08:00:05+08:00</sent>" in cap
    assert "<polygon>" in cap and "<language>zh-CN</language>" in cap


# -- determinism and time ----------------------------------------------------------------


def test_same_seed_and_times_give_identical_messages(city: DemoCity) -> None:
    times = [START + i * 7.0 for i in range(20)]
    for scenario in ("normal", "sensor-failures"):
        first = CitySimulator(city, seed=7, scenario=scenario)
        second = CitySimulator(city, seed=7, scenario=scenario)
        assert [first.step(t) for t in times] == [second.step(t) for t in times]
    other = CitySimulator(city, seed=8)
    again = CitySimulator(city, seed=7)
    assert [other.step(t) for t in times] != [again.step(t) for t in times]


def test_readings_do_not_depend_on_earlier_steps(city: DemoCity) -> None:
    stepped = CitySimulator(city, seed=3, start_time=START)
    for i in range(10):
        stepped.step(START + i)
    fresh = CitySimulator(city, seed=3, start_time=START)
    for spec in city.stations:
        assert stepped.values(spec, START + 42.5) == fresh.values(spec, START + 42.5)
    # warnings are sent on change: only the first step sends those in force
    assert any(topic.startswith("yiyang/warnings/") for topic, _ in fresh.step(START + 42.5))
    assert not any(topic.startswith("yiyang/warnings/") for topic, _ in stepped.step(START + 43))


def test_start_time_defaults_to_the_first_step(city: DemoCity) -> None:
    lazy = CitySimulator(city, seed=5)
    explicit = CitySimulator(city, seed=5, start_time=START + 100)
    assert lazy.start_time is None
    assert lazy.step(START + 100) == explicit.step(START + 100)
    assert lazy.start_time == START + 100
    assert lazy.step(START + 130) == explicit.step(START + 130)


def test_speed_runs_the_simulated_clock_faster_but_stamps_wall_clock_time(city: DemoCity) -> None:
    fast = CitySimulator(city, seed=2, speed=60.0, start_time=START)
    slow = CitySimulator(city, seed=2, speed=1.0, start_time=START)
    assert fast.clock(START + 10).elapsed == pytest.approx(600.0)
    spec = city.station("aq-heshan-03")
    assert fast.values(spec, START + 10) == slow.values(spec, START + 600)
    for topic, payload in fast.step(START + 10):
        for reading in decode(topic, payload, START + 10).readings:
            assert reading.ts == pytest.approx(START + 10, abs=1.0)
    gridlock = CitySimulator(city, scenario="rush-hour-gridlock", start_time=START)
    assert gridlock.clock(START).hour == pytest.approx(6.75)  # the scenario's start hour
    with pytest.raises(ValueError, match="speed"):
        CitySimulator(city, speed=0)
    with pytest.raises(ValueError, match="unknown scenario"):
        CitySimulator(city, scenario="earthquake")


def test_buses_drive_their_routes_without_jumping(city: DemoCity) -> None:
    simulator = CitySimulator(city, seed=4, start_time=START)
    buses = [spec for spec in city.stations if spec.type == "bus"]
    track: dict[str, list[tuple[float, float]]] = {spec.id: [] for spec in buses}
    for second in range(0, 600, 5):
        for spec in buses:
            t = simulator.clock(START + second)
            values = simulator.models.values(spec, t, simulator.conditions(t.elapsed))
            track[spec.id].append((values["lat"], values["lon"]))
    for bus_id, points in track.items():
        hops = [distance_m(a[1], a[0], b[1], b[0]) for a, b in itertools.pairwise(points)]
        assert max(hops) < 60, bus_id  # at most ~40 km/h over 5 s
        assert sum(hops) > 1500, bus_id  # it keeps going


# -- scaling -----------------------------------------------------------------------------


def test_scaled_city_has_unique_devices_that_all_decode(city: DemoCity) -> None:
    stations = scaled_stations(city, 250)
    assert len({spec.id for spec in stations}) == 250
    assert {spec.type for spec in stations[:14]} == set(STATION_KINDS)  # kinds interleaved
    assert scaled_stations(city, 5)[0].type != scaled_stations(city, 5)[1].type
    simulator = CitySimulator(city, entities=250, seed=9)
    entities = set()
    for topic, payload in simulator.step(START):
        decoded = decode(topic, payload, START)
        entities.update(reading.entity_id for reading in decoded.readings)
    assert {spec.entity_id for spec in stations} <= entities
    shards = [CitySimulator(city, entities=250, shard=i, shards=3) for i in range(3)]
    ids = [spec.id for shard in shards for spec in shard.stations]
    assert sorted(ids) == sorted(spec.id for spec in stations)
    assert any(topic.startswith("yiyang/warnings/") for topic, _ in shards[0].step(START))
    assert not any(topic.startswith("yiyang/warnings/") for topic, _ in shards[1].step(START))


# -- the demo comes alive at once --------------------------------------------------------


def test_first_five_seconds_show_alarms_warnings_incidents_and_moving_buses(
    city: DemoCity,
) -> None:
    pipeline = IngestPipeline(DEMO, None)
    simulator = CitySimulator(city)  # exactly as the demo session builds it
    first_positions: dict[str, tuple[float | None, float | None]] = {}
    for second in range(5):
        now = START + second
        pipeline.process_batch(raw(simulator.step(now), now))
        if second == 0:
            first_positions = {
                e.id: (e.lat, e.lon) for e in pipeline.hub.entities() if e.type == "vehicle"
            }
            active = [alarm for alarm in pipeline.alarms.alarms() if alarm.state.is_active]
            assert len({alarm.metric for alarm in active}) >= 10
            assert len(pipeline.alert_areas()) >= 2
            assert any(alarm.entity_id.startswith("incident-") for alarm in active)
    moved = [
        e.id
        for e in pipeline.hub.entities()
        if e.type == "vehicle" and (e.lat, e.lon) != first_positions[e.id]
    ]
    assert len(first_positions) == 12
    assert len(moved) >= 9  # a bus or two may be waiting at a stop


def wait_until_the_demo_is_alive(session: CitySession, timeout: float) -> tuple[int, set[str]]:
    """Poll the running demo session until it shows five active alarms and a moving vehicle
    (or ``timeout`` seconds pass); returns the active alarm count and the vehicles that moved."""
    seen_at: dict[str, tuple[float | None, float | None]] = {}
    moved: set[str] = set()
    deadline = time.monotonic() + timeout
    alarms = 0
    while time.monotonic() < deadline and not (moved and alarms >= 5):
        time.sleep(0.2)
        alarms = sum(1 for a in session.pipeline.alarms.alarms() if a.state.is_active)
        for entity in session.pipeline.hub.entities():
            if entity.type != "vehicle":
                continue
            first = seen_at.setdefault(entity.id, (entity.lat, entity.lon))
            if first != (entity.lat, entity.lon):
                moved.add(entity.id)
    return alarms, moved


def test_the_demo_session_comes_alive_with_alarms_warnings_and_moving_buses(
    cache_dir: Path,
) -> None:
    session = CitySession(load_demo_config(), cache_dir)
    session.start()
    try:
        alarms, moved = wait_until_the_demo_is_alive(session, timeout=60.0)
        assert alarms >= 5
        assert moved
        assert session.pipeline.alert_areas()
    finally:
        session.stop()


@pytest.mark.perf
def test_the_demo_session_is_alive_within_five_seconds(cache_dir: Path) -> None:
    session = CitySession(load_demo_config(), cache_dir)
    session.start()
    try:
        alarms, moved = wait_until_the_demo_is_alive(session, timeout=5.0)
        assert alarms >= 5
        assert moved
        assert session.pipeline.alert_areas()
    finally:
        session.stop()


# -- publishing --------------------------------------------------------------------------


@pytest.fixture
def publisher_factory(city: DemoCity) -> Iterator[Any]:
    made: list[DemoPublisher] = []

    def make(url: str) -> DemoPublisher:
        publisher = DemoPublisher(url, CitySimulator(city, seed=2), interval=0.2)
        made.append(publisher)
        return publisher

    yield make
    for publisher in made:
        publisher.stop()


def device_topics(city: DemoCity) -> set[str]:
    return {topic for spec in city.stations for topic in spec.topics()}


def assert_full_batches_arrive(city: DemoCity, port: int, publisher: DemoPublisher) -> None:
    expected = device_topics(city)
    subscriber = Subscriber(port, FEED_TOPICS)
    try:
        publisher.start()
        received = subscriber.collect(enough=2 * len(expected))
    finally:
        subscriber.close()
    topics = {topic for topic, _ in received}
    assert expected <= topics
    for topic, payload in received:
        decode(topic, payload, time.time())  # raises DecodeError if the decoder refuses it
    assert publisher.connected
    assert publisher.messages_published >= len(expected)


def test_publisher_delivers_through_the_embedded_broker(
    city: DemoCity, publisher_factory: Any
) -> None:
    with EmbeddedBroker() as broker:
        publisher = publisher_factory(broker.url)
        assert_full_batches_arrive(city, broker.port, publisher)
        publisher.stop()
        publisher.stop()
        assert not publisher.running
        assert not publisher.connected


def test_publisher_delivers_through_mosquitto(
    city: DemoCity, mosquitto: MosquittoBroker, publisher_factory: Any
) -> None:
    publisher = publisher_factory(mosquitto.url)
    assert_full_batches_arrive(city, mosquitto.port, publisher)


def test_publisher_waits_for_a_late_broker_and_survives_a_restart(
    city: DemoCity, publisher_factory: Any, tmp_path: Path
) -> None:
    # mosquitto, not the embedded broker: amqtt 0.12 sometimes hangs in shutdown() while a
    # client is publishing, which would keep the port bound and make the restart fail
    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    for _ in range(3):  # another process may take the free port before the broker binds it
        broker = MosquittoBroker(tmp_path)
        publisher = publisher_factory(broker.url)
        publisher.start()
        time.sleep(0.5)  # let it fail to connect a few times
        assert publisher.running and publisher.messages_published == 0
        try:
            broker.start()
            break
        except TimeoutError:
            broker.stop()
            publisher.stop()
    else:
        pytest.fail("no free port could be bound three times in a row")
    try:
        assert_full_batches_arrive(city, broker.port, publisher)
        broker.stop()
        before = publisher.messages_published
        broker.start()
        subscriber = Subscriber(broker.port, FEED_TOPICS)
        try:
            assert len(subscriber.collect(enough=len(city.stations))) >= len(city.stations)
        finally:
            subscriber.close()
        assert publisher.messages_published > before
    finally:
        publisher.stop()
        broker.stop()


def test_warnings_in_force_reach_a_late_subscriber(city: DemoCity, publisher_factory: Any) -> None:
    with EmbeddedBroker() as broker:
        publisher = publisher_factory(broker.url)
        publisher.start()
        wait_for(
            lambda: publisher.messages_published >= 2 * len(city.stations),
            timeout=30,
            what="two rounds published",
        )
        # warnings and asset records went out with the first batch only; a new subscriber
        # still gets them
        water = [spec for spec in city.stations if spec.format == "senml"]
        subscriber = Subscriber(broker.port, ["yiyang/warnings/#", "yiyang/assets/#"])
        try:
            received = subscriber.collect(enough=4 + len(water), timeout=5)
        finally:
            subscriber.close()
            publisher.stop()  # before the broker: see the restart test
    topics = {topic for topic, _ in received}
    assert topics == {
        "yiyang/warnings/cap/lightning/heshan",
        "yiyang/warnings/cap/lightning/ziyang",
        "yiyang/warnings/cap/fog/yuanjiang",
        "yiyang/warnings/cap/fog/nan",
    } | {f"yiyang/assets/water/{spec.id}" for spec in water}
    assert CitySimulator.retained("yiyang/assets/water/wl-zijiang-01")
    assert CitySimulator.retained("yiyang/warnings/cap/fog/nan")
    assert not CitySimulator.retained("yiyang/warnings/cap/gateway")
    assert not CitySimulator.retained("yiyang/env/air/aq-heshan-01")


def test_publisher_rejects_bad_arguments(city: DemoCity) -> None:
    simulator = CitySimulator(city)
    with pytest.raises(ValueError, match="mqtt://"):
        DemoPublisher("http://127.0.0.1:1883", simulator)
    with pytest.raises(ValueError, match="interval"):
        DemoPublisher("mqtt://127.0.0.1", simulator, interval=0)
