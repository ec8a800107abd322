"""Broker URL parsing."""

from __future__ import annotations

import re

import pytest

from services.addresses import BrokerAddress, parse_broker_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1:1884", BrokerAddress("mqtt", "127.0.0.1", 1884)),
        ("mqtt://broker.example", BrokerAddress("mqtt", "broker.example", 1883)),
        ("mqtts://broker.example", BrokerAddress("mqtts", "broker.example", 8883)),
        ("MQTTS://Broker.Example:9000/", BrokerAddress("mqtts", "broker.example", 9000)),
        ("  mqtt://[::1]:1883  ", BrokerAddress("mqtt", "::1", 1883)),
        ("ws://host", BrokerAddress("ws", "host", 80)),
        ("wss://host:9443", BrokerAddress("wss", "host", 9443)),
    ],
)
def test_accepts(url: str, expected: BrokerAddress) -> None:
    assert parse_broker_url(url) == expected


def test_address_round_trips_and_knows_tls() -> None:
    assert parse_broker_url("mqtts://h").tls
    assert not parse_broker_url("mqtt://h").tls
    assert parse_broker_url("wss://h").tls and parse_broker_url("wss://h").websocket
    assert not parse_broker_url("mqtts://h").websocket
    assert parse_broker_url("mqtt://[::1]:1").url == "mqtt://[::1]:1"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "empty"),
        ("127.0.0.1:1883", "mqtt://, mqtts://, ws:// or wss://"),
        ("tcp://127.0.0.1:1883", "mqtt://, mqtts://, ws:// or wss://"),
        ("http://host:80", "mqtt://, mqtts://, ws:// or wss://"),
        ("mqtt://", "no host"),
        ("mqtt://host:notaport", "invalid port"),
        ("mqtt://host:70000", "invalid port"),
        ("mqtt://host:0", "invalid port"),
        ("mqtt://user:secret@host", "user name or password"),
        ("mqtt://host/some/path", "path"),
    ],
)
def test_rejects(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_broker_url(url)
