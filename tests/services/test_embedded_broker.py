"""The embedded amqtt broker: start, relay messages between real paho clients, stop."""

from __future__ import annotations

import gc
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from services.demo.embedded_broker import EmbeddedBroker, EmbeddedBrokerError
from tests.helpers.mqtt import Subscriber
from tests.helpers.net import free_port


def publish_once(port: int, topic: str, payload: bytes) -> None:
    """Connect, publish one QoS 1 message, wait for PUBACK, disconnect."""
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        info = client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=10)
        assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    embedded = EmbeddedBroker()
    embedded.start()
    yield embedded
    embedded.stop()


def test_relays_messages_between_clients_on_a_free_port(broker: EmbeddedBroker) -> None:
    assert broker.port > 0
    assert broker.url == f"mqtt://127.0.0.1:{broker.port}"
    subscriber = Subscriber(broker.port, ["yiyang/#"])
    try:
        publish_once(broker.port, "yiyang/env/air/x", b'{"pm25": 12}')
        assert subscriber.get() == ("yiyang/env/air/x", b'{"pm25": 12}')
    finally:
        subscriber.close()


def test_stop_is_idempotent_and_closes_the_port() -> None:
    embedded = EmbeddedBroker()
    embedded.stop()  # never started: nothing to do
    embedded.start()
    port = embedded.port
    assert embedded.running
    embedded.stop()
    embedded.stop()
    assert not embedded.running
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_restart_keeps_the_port_and_relays_again() -> None:
    embedded = EmbeddedBroker()
    embedded.start()
    first_port = embedded.port
    embedded.stop()
    embedded.start()
    try:
        assert embedded.port == first_port
        subscriber = Subscriber(embedded.port, ["a/#"])
        try:
            publish_once(embedded.port, "a/b", b"again")
            assert subscriber.get() == ("a/b", b"again")
        finally:
            subscriber.close()
    finally:
        embedded.stop()


def test_explicit_port_is_used() -> None:
    port = free_port()
    with EmbeddedBroker(port=port) as embedded:
        assert embedded.port == port
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_start_fails_clearly_when_the_port_is_taken() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        embedded = EmbeddedBroker(port=port)
        with pytest.raises(EmbeddedBrokerError, match=f"127.0.0.1:{port}"):
            embedded.start()
        assert not embedded.running
        embedded.stop()


def test_rejects_an_impossible_port() -> None:
    with pytest.raises(ValueError, match="port"):
        EmbeddedBroker(port=70000)


def test_port_probes_leave_nothing_open(broker: EmbeddedBroker) -> None:
    """A bare TCP connect + close (a readiness check) must not leak a transport."""
    for _ in range(3):
        socket.create_connection(("127.0.0.1", broker.port), timeout=2).close()
    # the broker still serves real clients afterwards
    subscriber = Subscriber(broker.port, ["p/#"])
    try:
        publish_once(broker.port, "p/q", b"ok")
        assert subscriber.get() == ("p/q", b"ok")
    finally:
        subscriber.close()
    broker.stop()
    gc.collect()  # an unclosed transport would raise ResourceWarning (an error here)


def test_is_quiet_and_writes_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    with EmbeddedBroker() as embedded:
        subscriber = Subscriber(embedded.port, ["q/#"])
        try:
            publish_once(embedded.port, "q/r", b"x")
            assert subscriber.get() == ("q/r", b"x")
        finally:
            subscriber.close()
    assert list(workdir.iterdir()) == []
    assert logging.getLogger("amqtt").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("amqtt.broker").getEffectiveLevel() >= logging.WARNING
