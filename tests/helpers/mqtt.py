"""MQTT on the test side: what a feed client hands over, real subscribers, publishing."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from services.addresses import parse_broker_url
from services.config import FeedConfig
from services.messages import ConnectionEvent, InboxItem, RawMessage
from services.model import FeedState
from tests.helpers.brokers import Broker
from tests.helpers.polling import wait_for


class _Startable(Protocol):
    def start(self) -> None: ...
    def stop(self, timeout: float = ...) -> None: ...


FeedClientT = TypeVar("FeedClientT", bound=_Startable)


class Recorder:
    """A thread-safe sink that keeps everything an MqttFeedClient hands over."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[InboxItem] = []

    def __call__(self, item: InboxItem) -> None:
        with self._lock:
            self._items.append(item)

    @property
    def items(self) -> list[InboxItem]:
        with self._lock:
            return list(self._items)

    @property
    def messages(self) -> list[RawMessage]:
        return [item for item in self.items if isinstance(item, RawMessage)]

    @property
    def events(self) -> list[ConnectionEvent]:
        return [item for item in self.items if isinstance(item, ConnectionEvent)]

    def payloads(self, feed: str | None = None) -> list[bytes]:
        return [m.payload for m in self.messages if feed is None or m.feed == feed]

    def states(self) -> list[FeedState]:
        return [event.state for event in self.events]

    def last_event(self) -> ConnectionEvent | None:
        events = self.events
        return events[-1] if events else None

    def wait_state(self, state: FeedState, timeout: float = 10.0) -> ConnectionEvent:
        """Wait until the latest connection event has ``state`` and return it."""
        wait_for(
            lambda: (last := self.last_event()) is not None and last.state is state,
            timeout,
            f"last connection event is {state} (events: {self.events})",
        )
        event = self.last_event()
        assert event is not None
        return event

    def wait_payload(self, payload: bytes, feed: str | None = None, timeout: float = 10.0) -> None:
        wait_for(lambda: payload in self.payloads(feed), timeout, f"{payload!r} received")


class Subscriber:
    """A real paho client that records every message on ``filters``."""

    def __init__(self, port: int, filters: list[str]) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._subscribed = threading.Event()
        self._filters = filters
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self._subscribed.wait(10), "no SUBACK from the broker"

    def _on_connect(self, client: mqtt.Client, *args: Any) -> None:
        client.subscribe([(topic, 0) for topic in self._filters])

    def _on_subscribe(self, *args: Any) -> None:
        self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.messages.put((message.topic, message.payload))

    def get(self, timeout: float = 10.0) -> tuple[str, bytes]:
        return self.messages.get(timeout=timeout)

    def collect(self, enough: int, timeout: float = 15.0) -> list[tuple[str, bytes]]:
        """Wait for at least ``enough`` messages (or the timeout) and return them."""
        received: list[tuple[str, bytes]] = []
        deadline = time.monotonic() + timeout
        while len(received) < enough and time.monotonic() < deadline:
            try:
                received.append(self.messages.get(timeout=0.2))
            except queue.Empty:
                continue
        return received

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish(url: str, topic: str, payload: bytes) -> None:
    """Publish one message with QoS 1 and wait until the broker has it."""
    address = parse_broker_url(url)
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.connect(address.host, address.port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1).wait_for_publish(5)
    finally:
        client.loop_stop()
        client.disconnect()


def feed(name: str, topic: str, qos: int = 0) -> FeedConfig:
    """A JSON MQTT feed on the default broker."""
    return FeedConfig(name=name, topic=topic, qos=qos)


def publish_until_received(
    broker: Broker,
    topic: str,
    recorder: Recorder,
    *,
    prefix: str = "probe",
    interval: float = 0.1,
    timeout: float = 10.0,
) -> float:
    """Publish ``prefix-N`` payloads to ``topic`` every ``interval`` seconds until one of them
    reaches ``recorder``; returns the monotonic time at which it was seen.

    Proves a subscription is live without guessing how long subscribing takes.
    """
    deadline = time.monotonic() + timeout
    sent: set[bytes] = set()
    count = 0
    while time.monotonic() < deadline:
        payload = f"{prefix}-{count}".encode()
        count += 1
        sent.add(payload)
        if broker.running:
            broker.publish(topic, payload, qos=0)
        until = time.monotonic() + interval
        while time.monotonic() < until:
            if sent.intersection(recorder.payloads()):
                return time.monotonic()
            time.sleep(0.01)
    raise AssertionError(f"nothing published to {topic} arrived within {timeout:g} s")


@contextmanager
def running(client: FeedClientT) -> Iterator[FeedClientT]:
    """Start ``client`` for the ``with`` block and stop it afterwards."""
    client.start()
    try:
        yield client
    finally:
        client.stop()
