"""The Yiyang demo city, its simulator and the MQTT demo publisher."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from importlib import resources
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from services.embedded_broker import EmbeddedBroker
from services.simulator import (
    FEED_FILTERS,
    METRIC_UNITS,
    STATION_TYPES,
    CitySimulator,
    DemoCity,
    DemoPublisher,
    load_demo_city,
    parse_demo_city,
)
from services.timeutil import parse_timestamp
from tests.conftest import MosquittoBroker, free_port
from tests.services.test_embedded_broker import Subscriber

CENTRE_LAT, CENTRE_LON = 28.57, 112.36
START = 1_767_225_600.0  # 2026-01-01 00:00 UTC = 08:00 in Yiyang

# metric: (direction, warning, critical) as the demo configuration uses them
THRESHOLDS = {
    "pm25": ("high", 75.0, 150.0),
    "aqi": ("high", 150.0, 200.0),
    "noise_db": ("high", 70.0, 85.0),
    "level_m": ("high", 36.0, 37.5),
    "occupancy_pct": ("high", 85.0, 95.0),
    "free_spaces": ("low", 20.0, 5.0),
}


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return load_demo_city()


def decode(messages: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    return [json.loads(payload) for _, payload in messages]


def beyond(metric: str, value: float, limit: float) -> bool:
    return value > limit if THRESHOLDS[metric][0] == "high" else value < limit


# -- the city data -----------------------------------------------------------------------


def test_demo_city_has_a_plausible_station_list(city: DemoCity) -> None:
    assert 36 <= len(city.stations) <= 48
    ids = [s.id for s in city.stations]
    assert len(set(ids)) == len(ids)
    assert {s.type for s in city.stations} == set(STATION_TYPES)
    assert {s.domain for s in city.stations} == {"environment", "water", "traffic", "city"}
    for spec in city.stations:
        assert re.fullmatch(r"[a-z]+-[a-z]+-\d\d", spec.id), spec.id
        assert re.search(r"[\u4e00-\u9fff]", spec.name), spec.name  # Chinese
        assert re.search(r"[A-Za-z]{3}", spec.name), spec.name  # pinyin / English
        assert abs(spec.lat - CENTRE_LAT) <= 0.12 and abs(spec.lon - CENTRE_LON) <= 0.12
        assert any(mqtt.topic_matches_sub(f, spec.topic) for f in FEED_FILTERS), spec.topic
        assert spec.topic.endswith("/" + spec.id)
        assert all(metric in METRIC_UNITS for metric in spec.metrics)
    assert city.station("aq-heshan-01").topic == "yiyang/env/air/aq-heshan-01"
    with pytest.raises(KeyError):
        city.station("nope")


def test_district_outlines_are_closed_wgs84_polygons(city: DemoCity) -> None:
    districts = city.districts
    assert districts["type"] == "FeatureCollection"
    names = {f["properties"]["name_en"] for f in districts["features"]}
    assert names == {"Heshan District", "Ziyang District", "Urban area"}
    for feature in districts["features"]:
        assert feature["geometry"]["type"] == "Polygon"
        ring = feature["geometry"]["coordinates"][0]
        assert len(ring) >= 4 and ring[0] == ring[-1]
        for lon, lat in ring:  # GeoJSON order: longitude first
            assert abs(lat - CENTRE_LAT) <= 0.13 and abs(lon - CENTRE_LON) <= 0.13
    assert city.river is not None and city.river["geometry"]["type"] == "LineString"


def test_malformed_city_data_is_rejected(city: DemoCity) -> None:
    doc = json.loads(resources.files("resources").joinpath("demo_city.json").read_text("utf-8"))
    assert len(parse_demo_city(doc).stations) == len(city.stations)
    good_topic = doc["stations"][0]["topic"]
    doc["stations"][0]["topic"] = "elsewhere/aq-heshan-01"
    with pytest.raises(ValueError, match="must publish on"):
        parse_demo_city(doc)
    doc["stations"][0]["topic"] = good_topic
    doc["stations"][1]["type"] = "teleporter"
    with pytest.raises(ValueError, match="unknown type"):
        parse_demo_city(doc)
    doc["stations"][1]["type"] = "air_quality"
    del doc["districts"]
    with pytest.raises(ValueError, match="malformed"):
        parse_demo_city(doc)


# -- simulation --------------------------------------------------------------------------


def test_same_seed_and_times_give_identical_payloads(city: DemoCity) -> None:
    times = [START + i * 1.0 for i in range(30)]
    first, second = CitySimulator(city, seed=7), CitySimulator(city, seed=7)
    assert [first.step(t) for t in times] == [second.step(t) for t in times]
    other = CitySimulator(city, seed=8)
    again = CitySimulator(city, seed=7)
    assert [other.step(t) for t in times] != [again.step(t) for t in times]


def test_values_do_not_depend_on_earlier_calls(city: DemoCity) -> None:
    stepped = CitySimulator(city, seed=3, start_time=START)
    for i in range(10):
        stepped.step(START + i)
    fresh = CitySimulator(city, seed=3, start_time=START)
    assert stepped.step(START + 42.5) == fresh.step(START + 42.5)


def test_payloads_are_json_objects_the_json_decoder_understands(city: DemoCity) -> None:
    simulator = CitySimulator(city, seed=1)
    now = START + 12.345
    messages = simulator.step(now)
    assert [topic for topic, _ in messages] == [s.topic for s in city.stations]
    for spec, body in zip(city.stations, decode(messages), strict=True):
        assert body["id"] == spec.id
        assert body["name"] == spec.name and body["type"] == spec.type
        assert abs(body["lat"] - CENTRE_LAT) <= 0.3 and abs(body["lon"] - CENTRE_LON) <= 0.3
        assert body["ts"].endswith("Z")
        assert parse_timestamp(body["ts"]) == pytest.approx(now, abs=0.001)
        for metric in spec.metrics:
            value = body[metric]
            assert isinstance(value, int | float) and not isinstance(value, bool)
            assert value >= 0, (spec.id, metric, value)
        extra = set(body) - {"id", "name", "type", "lat", "lon", "ts"} - set(spec.metrics)
        assert not extra


@pytest.mark.parametrize("hour_offset", [0, 7, 14, 19])  # 08:00, 15:00, 22:00, 03:00 local
def test_every_threshold_is_crossed_and_cleared_within_ten_minutes(
    city: DemoCity, hour_offset: int
) -> None:
    start = START + hour_offset * 3600.0
    simulator = CitySimulator(city, seed=hour_offset)
    episodic = {s.id for s in city.stations if s.episode is not None}
    crossed: dict[tuple[str, int], float] = {}
    cleared: set[tuple[str, int]] = set()
    inside: dict[tuple[str, str, int], bool] = {}
    for second in range(600):
        for body in decode(simulator.step(start + second)):
            for metric, (_, *limits) in THRESHOLDS.items():
                if metric not in body:
                    continue
                for level, limit in enumerate(limits):
                    key = (body["id"], metric, level)
                    now_beyond = beyond(metric, body[metric], limit)
                    if now_beyond:
                        assert body["id"] in episodic, f"{body['id']} {metric} alarms outside"
                        crossed.setdefault((metric, level), second)
                    elif inside.get(key):
                        cleared.add((metric, level))
                    inside[key] = now_beyond
    expected = {(metric, level) for metric in THRESHOLDS for level in (0, 1)}
    assert set(crossed) == expected
    assert cleared == expected
    assert min(crossed.values()) <= 20, crossed  # the demo shows alarms right away


def test_start_time_defaults_to_the_first_step(city: DemoCity) -> None:
    lazy = CitySimulator(city, seed=5)
    explicit = CitySimulator(city, seed=5, start_time=START + 100)
    assert lazy.start_time is None
    assert lazy.step(START + 100) == explicit.step(START + 100)
    assert lazy.start_time == START + 100
    assert lazy.step(START + 130) == explicit.step(START + 130)


# -- broker URLs -------------------------------------------------------------------------


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


def assert_full_batches_arrive(city: DemoCity, port: int, publisher: DemoPublisher) -> None:
    subscriber = Subscriber(port, list(FEED_FILTERS))
    try:
        publisher.start()
        received = subscriber.collect(enough=2 * len(city.stations))
    finally:
        subscriber.close()
    topics = {topic for topic, _ in received}
    assert topics == {s.topic for s in city.stations}
    for topic, payload in received:
        body = json.loads(payload)
        assert topic.endswith("/" + body["id"])
    assert publisher.connected
    assert publisher.messages_published >= len(city.stations)


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
    city: DemoCity, publisher_factory: Any
) -> None:
    port = free_port()
    broker = EmbeddedBroker(port=port)
    publisher = publisher_factory(broker.url)
    publisher.start()
    time.sleep(0.5)  # let it fail to connect a few times
    assert publisher.running and publisher.messages_published == 0
    broker.start()
    try:
        assert_full_batches_arrive(city, port, publisher)
        broker.stop()
        before = publisher.messages_published
        broker.start()
        assert broker.port == port
        subscriber = Subscriber(port, list(FEED_FILTERS))
        try:
            assert len(subscriber.collect(enough=len(city.stations))) >= len(city.stations)
        finally:
            subscriber.close()
        assert publisher.messages_published > before
    finally:
        publisher.stop()
        broker.stop()


def test_publisher_rejects_bad_arguments(city: DemoCity) -> None:
    simulator = CitySimulator(city)
    with pytest.raises(ValueError, match="mqtt://"):
        DemoPublisher("http://127.0.0.1:1883", simulator)
    with pytest.raises(ValueError, match="interval"):
        DemoPublisher("mqtt://127.0.0.1", simulator, interval=0)
