"""MQTT subscriptions against a real mosquitto broker."""

from __future__ import annotations

import json
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from services.broker_url import parse_broker_url
from services.config import BrokerConfig, FeedConfig
from services.ingest import ConnectionEvent, InboxItem, RawMessage
from services.model import FeedState
from tests.conftest import MosquittoBroker


def publish(url: str, topic: str, payload: bytes, *, retain: bool = False) -> None:
    address = parse_broker_url(url)
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.connect(address.host, address.port)
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


def wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_feeds_receive_their_topics_and_report_connection(mosquitto: MosquittoBroker) -> None:
    from services.mqtt_feeds import MqttFeedClient

    received: list[InboxItem] = []
    broker = BrokerConfig(url=mosquitto.url, address=parse_broker_url(mosquitto.url))
    feeds = [
        FeedConfig(name="air", topic="yiyang/env/air/#"),
        FeedConfig(name="water", topic="yiyang/water/+/level"),
    ]
    client = MqttFeedClient(broker, feeds, received.append)
    publish(mosquitto.url, "yiyang/env/air/old", b'{"pm25": 1}', retain=True)
    client.start()
    try:
        wait_for(
            lambda: any(
                isinstance(i, ConnectionEvent) and i.state is FeedState.CONNECTED for i in received
            )
        )
        publish(mosquitto.url, "yiyang/env/air/aq-1", json.dumps({"pm25": 80}).encode())
        publish(mosquitto.url, "yiyang/water/g1/level", b'{"level_m": 35}')
        publish(mosquitto.url, "yiyang/other", b"{}")
        wait_for(lambda: len([i for i in received if isinstance(i, RawMessage)]) >= 3)
        time.sleep(0.3)
        messages = {(i.feed, i.topic, i.retained) for i in received if isinstance(i, RawMessage)}
        assert messages == {
            ("air", "yiyang/env/air/old", True),
            ("air", "yiyang/env/air/aq-1", False),
            ("water", "yiyang/water/g1/level", False),
        }
        mosquitto.stop()
        wait_for(
            lambda: (
                isinstance(received[-1], ConnectionEvent) and received[-1].state is FeedState.DOWN
            )
        )
    finally:
        client.stop()


def test_unreachable_broker_is_reported_down() -> None:
    from services.mqtt_feeds import MqttFeedClient
    from tests.conftest import free_port

    received: list[InboxItem] = []
    url = f"mqtt://127.0.0.1:{free_port()}"
    client = MqttFeedClient(
        BrokerConfig(url=url, address=parse_broker_url(url)),
        [FeedConfig(name="air", topic="a/#")],
        received.append,
    )
    client.start()
    try:
        wait_for(
            lambda: any(
                isinstance(i, ConnectionEvent) and i.state is FeedState.DOWN for i in received
            )
        )
        assert not client.connected
    finally:
        client.stop()
