"""The load generator against a real mosquitto, counted by a real subscriber."""

from __future__ import annotations

import os
import re
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from services.config import load_demo_config
from services.demo.loadgen import SINGLE_PROCESS_RATE, LoadError, LoadOptions, run_load
from services.demo.simulator import load_demo_city
from tests.helpers.brokers import MosquittoBroker
from tests.helpers.cli import run_cityops
from tests.helpers.net import free_port
from tests.helpers.polling import wait_for

SUMMARY = re.compile(
    r"cityops sim: (?P<count>\d+) messages in (?P<elapsed>[\d.]+) s = (?P<rate>\d+) msg/s"
)


class Counter:
    """A real subscriber on ``#`` that counts messages and notes when they arrive."""

    def __init__(self, port: int, qos: int = 0) -> None:
        self.count = 0
        self.first = 0.0
        self.last = 0.0
        self.topics: set[str] = set()
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda client, *_: client.subscribe("#", qos=qos)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert subscribed.wait(10), "no SUBACK"

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        now = time.monotonic()
        with self._lock:
            if not self.count:
                self.first = now
            self.count += 1
            self.last = now
            self.topics.add(message.topic)

    def settle(self, quiet: float = 0.5, timeout: float = 15.0) -> int:
        """Wait until no message has arrived for ``quiet`` seconds; returns the count."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                last, count = self.last, self.count
            if count and time.monotonic() - last >= quiet:
                break
            time.sleep(0.1)
        return self.count

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def counter(mosquitto: MosquittoBroker) -> Any:
    made: list[Counter] = []

    def make(qos: int = 0) -> Counter:
        made.append(Counter(mosquitto.port, qos))
        return made[-1]

    yield make
    for item in made:
        item.close()


def test_a_timed_run_publishes_rate_times_duration_messages_then_exits(
    mosquitto: MosquittoBroker, counter: Any
) -> None:
    received = counter()
    result = run_cityops("sim", "--broker", mosquitto.url, "--rate", "2000", "--duration", "1")
    assert result.returncode == 0, result.stderr
    match = SUMMARY.search(result.stdout)
    assert match, result.stdout
    assert int(match["count"]) == 2000
    assert received.settle() == 2000  # every message written reached the subscriber, once


@pytest.mark.perf
def test_rate_holds_within_five_percent_at_5000_per_second(
    mosquitto: MosquittoBroker, counter: Any
) -> None:
    received = counter()
    duration, rate = 3.0, 5000
    result = run_cityops(
        "sim", "--broker", mosquitto.url, "--rate", str(rate), "--duration", str(duration)
    )
    assert result.returncode == 0, result.stderr
    match = SUMMARY.search(result.stdout)
    assert match, result.stdout
    assert abs(int(match["rate"]) - rate) <= 0.05 * rate
    count = received.settle()
    assert abs(count - rate * duration) <= 0.05 * rate * duration
    assert int(match["count"]) == count  # every message written reached the subscriber
    # paced over the whole duration, not sent in a burst
    assert received.last - received.first >= 0.9 * duration


def test_qos1_messages_are_all_acknowledged_and_received(
    mosquitto: MosquittoBroker, counter: Any
) -> None:
    received = counter(qos=1)
    report = run_load(LoadOptions(broker=mosquitto.url, rate=1000, duration=1.0, qos=1))
    assert report.published == report.delivered == 1000
    assert report.processes == 1 and report.kept_up and not report.errors
    assert received.settle() == 1000
    config = load_demo_config()
    for topic in received.topics:  # every message lands on a feed of the demo config
        assert any(mqtt.topic_matches_sub(feed.topic, topic) for feed in config.feeds), topic


def test_several_processes_split_devices_and_rate(mosquitto: MosquittoBroker, counter: Any) -> None:
    received = counter()
    options = LoadOptions(
        broker=mosquitto.url, rate=2000, duration=1.0, processes=2, entities=300, seed=3
    )
    report = run_load(options)
    assert report.processes == 2
    assert report.entities == 300
    assert 0 < report.delivered <= 2000  # the rate is shared, not given to each process
    assert not report.errors
    assert received.settle() == report.delivered
    # devices of both halves (and numbered replicas) were published
    assert any("-r001" in topic for topic in received.topics)
    assert any("-r002" in topic for topic in received.topics)
    assert "processes" in report.summary()


@pytest.mark.perf
def test_several_processes_together_hold_the_rate_within_five_percent(
    mosquitto: MosquittoBroker, counter: Any
) -> None:
    received = counter()
    options = LoadOptions(
        broker=mosquitto.url, rate=4000, duration=1.5, processes=2, entities=300, seed=3
    )
    report = run_load(options)
    assert abs(report.delivered - 6000) <= 0.05 * 6000
    assert received.settle() == report.delivered


def test_city_pace_sends_every_device_once_per_interval(
    mosquitto: MosquittoBroker, counter: Any
) -> None:
    received = counter()
    report = run_load(
        LoadOptions(broker=mosquitto.url, duration=2.5, interval=1.0, scenario="rainstorm-flood")
    )
    city = load_demo_city()
    per_round = sum(len(spec.topics()) for spec in city.stations)
    assets = sum(1 for spec in city.stations if spec.format == "senml")
    rainstorm = 3  # the first warnings of the story, for three districts
    assert report.delivered == 3 * per_round + assets + rainstorm
    assert received.settle() == report.delivered
    assert {topic for spec in city.stations for topic in spec.topics()} <= received.topics
    assert "yiyang/warnings/cap/rainstorm/heshan" in received.topics
    assert "city pace" in report.summary()


def test_an_open_ended_run_stops_when_asked(mosquitto: MosquittoBroker, counter: Any) -> None:
    received = counter()
    stop = threading.Event()

    def stop_once_publishing() -> None:
        try:
            wait_for(lambda: received.count >= 100, timeout=60, what="100 messages received")
        finally:
            stop.set()

    stopper = threading.Thread(target=stop_once_publishing, daemon=True)
    stopper.start()
    report = run_load(LoadOptions(broker=mosquitto.url, rate=500), stop)
    assert stop.is_set(), "the run ended before it was asked to stop"
    stopper.join()
    assert report.delivered >= 100
    assert not report.errors
    assert received.settle() == report.delivered


@pytest.mark.perf
def test_an_open_ended_run_stopped_after_1_s_has_run_less_than_5_s(
    mosquitto: MosquittoBroker,
) -> None:
    stop = threading.Event()
    timer = threading.Timer(1.0, stop.set)
    timer.start()
    try:
        report = run_load(LoadOptions(broker=mosquitto.url, rate=500), stop)
    finally:
        timer.cancel()
    assert 300 <= report.delivered <= 1500
    assert report.elapsed < 5


def test_unreachable_broker_is_a_load_error() -> None:
    with pytest.raises(LoadError, match="cannot reach broker"):
        run_load(LoadOptions(broker=f"mqtt://127.0.0.1:{free_port()}", rate=10, duration=1))


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (LoadOptions(broker="http://x"), "mqtt://"),
        (LoadOptions(rate=0), "rate"),
        (LoadOptions(rate=float("inf")), "rate"),
        (LoadOptions(entities=0), "entities"),
        (LoadOptions(duration=-1), "duration"),
        (LoadOptions(qos=3), "qos"),
        (LoadOptions(speed=0), "speed"),
        (LoadOptions(processes=-1), "processes"),
        (LoadOptions(scenario="earthquake"), "unknown scenario"),
    ],
)
def test_bad_options_are_refused(options: LoadOptions, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        options.check()
    with pytest.raises(ValueError, match=problem):
        run_load(options)


def test_automatic_process_count_follows_the_rate() -> None:
    assert LoadOptions(processes=0).process_count() == 1
    assert LoadOptions(rate=SINGLE_PROCESS_RATE, processes=0).process_count() == 1
    cpus = os.cpu_count() or 1
    assert LoadOptions(rate=SINGLE_PROCESS_RATE * 1.5, processes=0).process_count() == min(2, cpus)
    assert LoadOptions(rate=SINGLE_PROCESS_RATE * 99, processes=0).process_count() == cpus
    assert LoadOptions(rate=10, processes=3).process_count() == 3
