"""TLS to a real mosquitto broker with a CA, server and client certificates made by the test."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from services.feeds.mqtt.client import MqttFeedClient
from services.model import FeedState
from tests.helpers.brokers import Broker
from tests.helpers.mqtt import Recorder, feed, publish_until_received, running
from tests.helpers.tls import TlsFiles, make_tls_files


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A CA with a server certificate for localhost/127.0.0.1 and a client certificate."""
    return make_tls_files(tmp_path_factory.mktemp("tls"))


def connect_and_receive(broker: Broker, **options: object) -> Recorder:
    recorder = Recorder()
    client = MqttFeedClient(broker.config(**options), [feed("cam", "cams/#")], recorder)
    with running(client):
        recorder.wait_state(FeedState.CONNECTED)
        publish_until_received(broker, "cams/gate-1", recorder)
        assert client.connected
    return recorder


def first_down(broker: Broker, **options: object) -> str:
    """The detail of the DOWN event a client gets from ``broker``."""
    recorder = Recorder()
    client = MqttFeedClient(broker.config(**options), [feed("cam", "cams/#")], recorder)
    with running(client):
        event = recorder.wait_state(FeedState.DOWN)
        assert not client.connected
    assert FeedState.CONNECTED not in recorder.states()
    return event.detail


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_tls_with_the_ca_file_connects_and_receives(
    brokers: Callable[..., Broker], tls: TlsFiles, protocol: str
) -> None:
    broker = brokers(scheme="mqtts", tls=tls)
    assert broker.url.startswith("mqtts://localhost:")
    recorder = connect_and_receive(broker, ca_file=tls.ca, protocol=protocol)
    assert {m.feed for m in recorder.messages} == {"cam"}


def test_tls_by_ip_address_matches_the_ip_in_the_certificate(
    brokers: Callable[..., Broker], tls: TlsFiles
) -> None:
    broker = brokers(scheme="mqtts", tls=tls)
    connect_and_receive(broker, url=f"mqtts://127.0.0.1:{broker.port}", ca_file=tls.ca)


def test_tls_without_the_ca_file_is_down_with_a_tls_reason(
    brokers: Callable[..., Broker], tls: TlsFiles
) -> None:
    broker = brokers(scheme="mqtts", tls=tls)
    detail = first_down(broker)  # the system CAs do not know the test CA
    assert detail.startswith("TLS: certificate verify failed"), detail


def test_tls_to_a_plain_listener_is_down_with_a_tls_reason(
    brokers: Callable[..., Broker], tls: TlsFiles
) -> None:
    broker = brokers()
    detail = first_down(broker, url=f"mqtts://127.0.0.1:{broker.port}", ca_file=tls.ca)
    assert detail.startswith("TLS: the broker closed the connection during the handshake"), detail


def test_host_name_is_verified_unless_switched_off(
    brokers: Callable[..., Broker], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = make_tls_files(tmp_path / "other-name", server_names=("broker.yiyang.example",))
    broker = brokers(scheme="mqtts", tls=other)
    detail = first_down(broker, ca_file=other.ca)
    assert detail.startswith("TLS: certificate verify failed"), detail
    assert "mismatch" in detail.lower(), detail

    with caplog.at_level(logging.WARNING, logger="services.feeds.mqtt.client"):
        connect_and_receive(broker, ca_file=other.ca, verify_hostname=False)
    assert "host name verification is OFF" in caplog.text
    # switching the host name check off still checks the chain
    assert first_down(broker, verify_hostname=False).startswith("TLS: certificate verify failed")


def test_client_certificate_when_the_broker_requires_one(
    brokers: Callable[..., Broker], tls: TlsFiles
) -> None:
    broker = brokers(scheme="mqtts", tls=tls, require_certificate=True)
    detail = first_down(broker, ca_file=tls.ca)
    assert "TLS" in detail, detail
    recorder = connect_and_receive(
        broker, ca_file=tls.ca, cert_file=tls.client_cert, key_file=tls.client_key
    )
    assert recorder.messages


def test_websocket_over_tls(brokers: Callable[..., Broker], tls: TlsFiles) -> None:
    broker = brokers(scheme="wss", tls=tls)
    assert broker.url.startswith("wss://localhost:")
    connect_and_receive(broker, ca_file=tls.ca)
    assert first_down(broker).startswith("TLS: certificate verify failed")


def test_unusable_tls_files_are_reported_at_start(
    brokers: Callable[..., Broker], tls: TlsFiles, tmp_path: Path
) -> None:
    broker = brokers(scheme="mqtts", tls=tls)
    broken = tmp_path / "broken-ca.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    recorder = Recorder()
    client = MqttFeedClient(broker.config(ca_file=broken), [feed("cam", "cams/#")], recorder)
    client.start()
    client.stop()
    assert [e.state for e in recorder.events] == [FeedState.DOWN]
    assert recorder.events[0].detail.startswith(f"TLS: cannot load ca_file {broken}")
    assert not client.connected

    recorder = Recorder()
    config = broker.config(ca_file=tls.ca, cert_file=tls.client_cert, key_file=tls.ca)
    client = MqttFeedClient(config, [feed("cam", "cams/#")], recorder)
    client.start()
    client.stop()
    assert recorder.events[0].state is FeedState.DOWN
    assert recorder.events[0].detail.startswith(f"TLS: cannot load cert_file {tls.client_cert}")
