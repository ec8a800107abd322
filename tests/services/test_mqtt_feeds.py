"""MQTT subscriptions against a real mosquitto broker."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from services.addresses import parse_broker_url
from services.config import BrokerConfig, FeedConfig
from services.feeds.mqtt.client import MqttFeedClient
from services.feeds.mqtt.retry import FAST_RETRY_CAP, MIN_RETRY_DELAY, SLOW_RETRY_CAP, retry_delay
from services.messages import ConnectionEvent, InboxItem, RawMessage
from services.model import FeedState
from tests.helpers.brokers import Broker, MosquittoBroker
from tests.helpers.mqtt import Recorder, feed, publish_until_received, running
from tests.helpers.polling import wait_for


def publish(url: str, topic: str, payload: bytes, *, retain: bool = False) -> None:
    address = parse_broker_url(url)
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.connect(address.host, address.port)
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def test_feeds_receive_their_topics_and_report_connection(mosquitto: MosquittoBroker) -> None:
    from services.feeds.mqtt.client import MqttFeedClient

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
    from services.feeds.mqtt.client import MqttFeedClient
    from tests.helpers.net import free_port

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


# -- helpers for the tests below ------------------------------------------------------------


# -- backoff and validation -----------------------------------------------------------------


def test_retry_delays_are_jittered_capped_and_fast_after_a_recent_loss() -> None:
    rng = random.Random(20240611)
    fast = [retry_delay(attempt, outage=30.0, rng=rng) for attempt in range(40)]
    assert all(MIN_RETRY_DELAY <= d <= FAST_RETRY_CAP for d in fast)
    assert fast[0] <= 1.0
    assert len({round(d, 6) for d in fast[3:]}) > 30, "delays at the cap must be jittered"
    slow = [retry_delay(attempt, outage=3600.0, rng=rng) for attempt in range(40)]
    assert all(MIN_RETRY_DELAY <= d <= SLOW_RETRY_CAP for d in slow)
    assert slow[0] <= 1.0 < slow[2]
    assert all(d >= SLOW_RETRY_CAP / 2 for d in slow[10:])
    assert len({round(d, 6) for d in slow[10:]}) > 25


def test_bad_feeds_are_rejected_with_a_reason() -> None:
    url = "mqtt://127.0.0.1:1883"
    config = BrokerConfig(url=url, address=parse_broker_url(url))
    with pytest.raises(ValueError, match="'#' must be"):
        MqttFeedClient(config, [feed("a", "city/#/x")], Recorder())
    client = MqttFeedClient(config, [feed("a", "city/a")], Recorder())
    with pytest.raises(ValueError, match="already exists"):
        client.add_feed(feed("a", "city/b"))
    with pytest.raises(ValueError, match="'\\+' must be"):
        client.add_feed(feed("b", "city/a+"))
    with pytest.raises(ValueError, match="qos"):
        client.add_feed(feed("c", "city/c", qos=3))
    with pytest.raises(KeyError):
        client.remove_feed("nope")
    with pytest.raises(KeyError):
        client.pause_feed("nope")
    assert [f.name for f in client.feeds] == ["a"]


# -- (e) retained messages, (f) MQTT 5 and WebSocket ----------------------------------------


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_retained_on_subscribe_are_marked_retained_and_live_ones_not(
    brokers: Callable[..., Broker], protocol: str
) -> None:
    broker = brokers()
    broker.publish("yiyang/env/air/old", b"retained-1", retain=True)
    recorder = Recorder()
    client = MqttFeedClient(
        broker.config(protocol=protocol), [feed("air", "yiyang/env/air/#", qos=1)], recorder
    )
    with running(client):
        recorder.wait_payload(b"retained-1")
        broker.publish("yiyang/env/air/aq-1", b"live-1", qos=1)
        # retained on publish, but delivered to a subscriber that is already there: not retained
        broker.publish("yiyang/env/air/aq-2", b"live-retained", qos=1, retain=True)
        recorder.wait_payload(b"live-retained")
    flags = {m.payload: m.retained for m in recorder.messages}
    assert flags == {b"retained-1": True, b"live-1": False, b"live-retained": False}
    assert all(m.feed == "air" for m in recorder.messages)


def test_mqtt5_connects_and_receives(brokers: Callable[..., Broker]) -> None:
    broker = brokers()
    recorder = Recorder()
    client = MqttFeedClient(broker.config(protocol="5"), [feed("bus", "yiyang/bus/+")], recorder)
    with running(client):
        recorder.wait_state(FeedState.CONNECTED)
        publish_until_received(broker, "yiyang/bus/12", recorder)
        assert client.connected
    assert {m.topic for m in recorder.messages} == {"yiyang/bus/12"}
    log_text = broker.log_text()
    assert f"as {client.client_id} (p5," in log_text, "the broker saw an MQTT 5 client"


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_websocket_transport_connects_and_receives(
    brokers: Callable[..., Broker], protocol: str
) -> None:
    broker = brokers(scheme="ws")
    assert broker.url.startswith("ws://")
    recorder = Recorder()
    client = MqttFeedClient(
        broker.config(protocol=protocol, ws_path="/mqtt"), [feed("lights", "lights/#")], recorder
    )
    with running(client):
        event = recorder.wait_state(FeedState.CONNECTED)
        assert event.broker == broker.url
        publish_until_received(broker, "lights/zone-3", recorder)
    assert all(m.feed == "lights" for m in recorder.messages)


# -- (g) feeds at runtime -------------------------------------------------------------------


def test_feeds_added_removed_paused_and_resumed_without_reconnecting(
    brokers: Callable[..., Broker],
) -> None:
    broker = brokers()
    recorder = Recorder()
    client = MqttFeedClient(broker.config(), [feed("air", "air/#")], recorder)
    with running(client):
        recorder.wait_state(FeedState.CONNECTED)
        publish_until_received(broker, "air/probe", recorder, prefix="air")
        events_before = len(recorder.events)

        client.add_feed(feed("water", "water/#", qos=1))
        publish_until_received(broker, "water/g1", recorder, prefix="water-on")
        assert [f.name for f in client.feeds] == ["air", "water"]

        unsubscribed = f"Received UNSUBSCRIBE from {client.client_id}"
        client.pause_feed("water")
        assert client.paused == {"water"}
        assert [f.name for f in client.feeds] == ["air", "water"], "paused feeds stay configured"
        wait_for(lambda: broker.log_text().count(unsubscribed) == 1, what="UNSUBSCRIBE water")
        broker.publish("water/g1", b"while-paused")
        publish_until_received(broker, "air/x", recorder, prefix="air-sentinel-1")

        client.resume_feed("water")
        publish_until_received(broker, "water/g1", recorder, prefix="water-resumed")

        client.remove_feed("air")
        assert [f.name for f in client.feeds] == ["water"]
        wait_for(lambda: broker.log_text().count(unsubscribed) == 2, what="UNSUBSCRIBE air")
        broker.publish("air/x", b"after-removal")
        publish_until_received(broker, "water/g2", recorder, prefix="water-sentinel")
        assert client.connected

    assert broker.log_text().count(unsubscribed) == 2
    assert b"while-paused" not in recorder.payloads()
    assert b"after-removal" not in recorder.payloads()
    water = recorder.payloads("water")
    assert any(p.startswith(b"water-on") for p in water)
    assert any(p.startswith(b"water-resumed") for p in water)
    later = recorder.events[events_before:]
    assert all(e.state is not FeedState.DOWN for e in later), later
    # the only events after the first connect announce the added/resumed feed
    assert all(e.feeds == ("water",) and e.detail == "subscribed" for e in later), later
    assert broker.log_text().count(f"as {client.client_id} (") == 1, "no second connection"


def test_feed_changes_from_many_threads_end_consistent(brokers: Callable[..., Broker]) -> None:
    broker = brokers()
    recorder = Recorder()
    names = [f"f{i}" for i in range(4)]
    client = MqttFeedClient(broker.config(), [feed(n, f"t/{n}/#") for n in names], recorder)

    def toggle(name: str) -> None:
        for _ in range(40):
            client.pause_feed(name)
            client.resume_feed(name)
        client.pause_feed(name)

    with running(client):
        recorder.wait_state(FeedState.CONNECTED)
        threads = [threading.Thread(target=toggle, args=(n,)) for n in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert client.paused == set(names)
        client.resume_feed("f2")
        publish_until_received(broker, "t/f2/x", recorder, prefix="f2")
        time.sleep(0.3)
        broker.publish("t/f1/x", b"f1-paused")
        publish_until_received(broker, "t/f2/y", recorder, prefix="f2-sentinel")
        assert client.connected
    assert b"f1-paused" not in recorder.payloads()
    assert {m.feed for m in recorder.messages} == {"f2"}
    assert all(e.state is not FeedState.DOWN for e in recorder.events)


def test_two_feeds_on_one_filter_both_get_the_message(brokers: Callable[..., Broker]) -> None:
    broker = brokers()
    recorder = Recorder()
    client = MqttFeedClient(
        broker.config(), [feed("raw", "city/+/alarm"), feed("audit", "city/+/alarm")], recorder
    )
    with running(client):
        publish_until_received(broker, "city/d1/alarm", recorder)
        client.remove_feed("raw")
        time.sleep(0.2)
        publish_until_received(broker, "city/d2/alarm", recorder, prefix="only-audit")
    first = [m.feed for m in recorder.messages if m.topic == "city/d1/alarm"]
    assert sorted(set(first)) == ["audit", "raw"]
    second = {m.feed for m in recorder.messages if m.topic == "city/d2/alarm"}
    assert second == {"audit"}


# -- SUBACK failures ------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_refused_subscription_marks_only_that_feed_failing(
    brokers: Callable[..., Broker], protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    broker = brokers(allowed_subscriptions=["allowed/#"])
    recorder = Recorder()
    client = MqttFeedClient(
        broker.config(protocol=protocol),
        [feed("ok", "allowed/#"), feed("secret", "forbidden/#")],
        recorder,
    )
    with caplog.at_level(logging.WARNING, logger="services.feeds.mqtt.client"), running(client):
        wait_for(
            lambda: any(e.state is FeedState.FAILING for e in recorder.events),
            what="a FAILING event",
        )
        publish_until_received(broker, "allowed/x", recorder)
        assert client.connected
    failing = [e for e in recorder.events if e.state is FeedState.FAILING]
    assert [e.feeds for e in failing] == [("secret",)]
    assert failing[0].detail.startswith("subscription refused")
    assert "forbidden/#" in caplog.text and "refused the subscription" in caplog.text
    assert {m.feed for m in recorder.messages} == {"ok"}


def test_a_stopped_client_can_start_again(brokers: Callable[..., Broker]) -> None:
    broker = brokers()
    recorder = Recorder()
    client = MqttFeedClient(broker.config(), [feed("air", "air/#")], recorder)
    with running(client):
        publish_until_received(broker, "air/1", recorder, prefix="first")
    assert not client.connected
    with running(client):
        publish_until_received(broker, "air/1", recorder, prefix="second")
        assert client.connected
    assert recorder.states().count(FeedState.CONNECTED) == 2
    assert FeedState.DOWN not in recorder.states(), "a requested stop is not an outage"
