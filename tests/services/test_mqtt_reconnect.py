"""Broker outages, credentials and persistent sessions against real mosquitto brokers."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from services.feeds.mqtt.client import MqttFeedClient
from services.model import FeedState
from tests.helpers.brokers import Broker
from tests.helpers.mqtt import Recorder, feed, publish_until_received, running
from tests.helpers.polling import wait_for

PASSWORD_ENV = "CITYOPS_TEST_MQTT_PASSWORD"


# -- (b) user name and password -------------------------------------------------------------


@pytest.mark.parametrize("password_tool", [True, False], ids=["mosquitto_passwd", "written"])
def test_right_password_connects(
    brokers: Callable[..., Broker], monkeypatch: pytest.MonkeyPatch, password_tool: bool
) -> None:
    broker = brokers(users={"ops": "s3cret-yiyang"}, password_tool=password_tool)
    monkeypatch.setenv(PASSWORD_ENV, "s3cret-yiyang")
    recorder = Recorder()
    config = broker.config(username="ops", password_env=PASSWORD_ENV)
    with running(MqttFeedClient(config, [feed("air", "air/#")], recorder)) as client:
        recorder.wait_state(FeedState.CONNECTED)
        publish_until_received(broker, "air/1", recorder)
        assert client.connected
    assert "u'ops'" in broker.log_text()


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_wrong_password_is_down_not_authorised(
    brokers: Callable[..., Broker], monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    broker = brokers(users={"ops": "s3cret-yiyang"})
    monkeypatch.setenv(PASSWORD_ENV, "guess")
    recorder = Recorder()
    config = broker.config(username="ops", password_env=PASSWORD_ENV, protocol=protocol)
    with running(MqttFeedClient(config, [feed("air", "air/#")], recorder)) as client:
        event = recorder.wait_state(FeedState.DOWN)
        assert event.detail.startswith("not authorised")
        assert event.feeds == ("air",)
        assert not client.connected
    assert FeedState.CONNECTED not in recorder.states()


def test_missing_password_is_tried_and_explained(
    brokers: Callable[..., Broker],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = brokers(users={"ops": "s3cret-yiyang"})
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    recorder = Recorder()
    config = broker.config(username="ops", password_env=PASSWORD_ENV)
    with running(MqttFeedClient(config, [feed("air", "air/#")], recorder)):
        event = recorder.wait_state(FeedState.DOWN)
    assert event.detail.startswith("not authorised")
    assert f"no password for user 'ops' (environment variable {PASSWORD_ENV} is not set)" in (
        event.detail
    )
    assert "connecting with the user name only" in caplog.text
    assert "disconnected, not authorised" in broker.log_text(), "the client still tried"


# -- (c) broker killed and restarted on the same port ---------------------------------------


def test_back_and_resubscribed_after_the_broker_was_killed(
    brokers: Callable[..., Broker],
) -> None:
    broker = brokers()
    recorder = Recorder()
    client = MqttFeedClient(broker.config(), [feed("traffic", "yiyang/traffic/#")], recorder)
    with running(client):
        recorder.wait_state(FeedState.CONNECTED)
        publish_until_received(broker, "yiyang/traffic/j1", recorder, prefix="before")

        broker.kill()
        down = recorder.wait_state(FeedState.DOWN)
        assert down.feeds == ("traffic",)
        assert down.detail.startswith("connection lost")
        assert not client.connected

        broker.start()  # same ports; returns once they accept connections
        # the new broker process knows no subscriptions: a message only arrives once the
        # client has reconnected AND subscribed again
        publish_until_received(broker, "yiyang/traffic/j2", recorder, prefix="after", timeout=60)
        wait_for(lambda: client.connected, what="connected")
        assert recorder.states()[-2:] == [FeedState.DOWN, FeedState.CONNECTED]


@pytest.mark.perf
def test_back_and_resubscribed_within_5_s_of_the_broker_returning(
    brokers: Callable[..., Broker],
) -> None:
    broker = brokers()
    recorder = Recorder()
    client = MqttFeedClient(broker.config(), [feed("traffic", "yiyang/traffic/#")], recorder)
    with running(client):
        recorder.wait_state(FeedState.CONNECTED)
        publish_until_received(broker, "yiyang/traffic/j1", recorder, prefix="before")

        broker.kill()
        down = recorder.wait_state(FeedState.DOWN)
        assert down.feeds == ("traffic",)
        assert down.detail.startswith("connection lost")
        assert not client.connected
        # stay away long enough for the backoff to climb: without the low cap for recent
        # outages the next attempt would often come more than 5 s after the return
        time.sleep(5.0)
        assert recorder.states()[-1] is FeedState.DOWN, "still down while the broker is away"

        broker.start()  # same ports; returns once they accept connections
        accepted = time.monotonic()
        # the new broker process knows no subscriptions: a message only arrives once the
        # client has reconnected AND subscribed again
        received = publish_until_received(
            broker, "yiyang/traffic/j2", recorder, prefix="after", timeout=15.0
        )
        took = received - accepted
        assert took <= 5.0, f"back and resubscribed {took:.2f} s after the broker returned"
        assert client.connected
        assert recorder.states()[-2:] == [FeedState.DOWN, FeedState.CONNECTED]


def test_broker_down_at_start_is_reached_when_it_comes_up(brokers: Callable[..., Broker]) -> None:
    broker = brokers()
    broker.stop()
    recorder = Recorder()
    with running(MqttFeedClient(broker.config(), [feed("air", "air/#")], recorder)) as client:
        event = recorder.wait_state(FeedState.DOWN)
        assert event.detail == "connection refused"
        broker.start()
        recorder.wait_state(FeedState.CONNECTED)
        publish_until_received(broker, "air/1", recorder)
        assert client.connected
    assert recorder.states()[:3] == [FeedState.CONNECTING, FeedState.DOWN, FeedState.CONNECTED]


# -- (d) persistent sessions ----------------------------------------------------------------


def _subscribe_once_then_leave(broker: Broker, **options: object) -> None:
    """Connect with ``options``, make sure the subscription is live, then disconnect."""
    recorder = Recorder()
    client = MqttFeedClient(broker.config(**options), [feed("water", "water/#", qos=1)], recorder)
    with running(client):
        publish_until_received(broker, "water/probe", recorder, prefix="probe")


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
@pytest.mark.parametrize("persistent", [True, False], ids=["persistent", "clean"])
def test_qos1_messages_sent_while_away_arrive_only_with_a_persistent_session(
    brokers: Callable[..., Broker], protocol: str, persistent: bool
) -> None:
    broker = brokers()
    options = {
        "protocol": protocol,
        "client_id": f"cityops-ws-{protocol}",
        "clean_session": not persistent,
    }
    _subscribe_once_then_leave(broker, **options)
    broker.publish("water/gauge-1", b"while-away-1", qos=1)
    broker.publish("water/gauge-2", b"while-away-2", qos=1)

    recorder = Recorder()
    client = MqttFeedClient(broker.config(**options), [feed("water", "water/#", qos=1)], recorder)
    with running(client):
        # queued messages come before anything published after the reconnect
        publish_until_received(broker, "water/live", recorder, prefix="live")
        # a resumed session may deliver before the subscription acknowledgement arrives
        wait_for(
            lambda: any(e.state is FeedState.CONNECTED for e in recorder.events),
            what="connected event",
        )
        connected = [e for e in recorder.events if e.state is FeedState.CONNECTED]
    away = {b"while-away-1", b"while-away-2"} & set(recorder.payloads("water"))
    if persistent:
        assert away == {b"while-away-1", b"while-away-2"}
        assert connected[0].detail == "connected (session resumed)"
    else:
        assert away == set()
        assert connected[0].detail == "connected"


def test_persistent_session_survives_a_broker_restart(brokers: Callable[..., Broker]) -> None:
    broker = brokers(persistence=True)
    options = {"client_id": "cityops-ws-restart", "clean_session": False}
    _subscribe_once_then_leave(broker, **options)
    broker.publish("water/gauge-1", b"queued-before-restart", qos=1)
    broker.stop()  # mosquitto saves sessions and queued messages on the way out
    broker.start()

    recorder = Recorder()
    client = MqttFeedClient(broker.config(**options), [feed("water", "water/#", qos=1)], recorder)
    with running(client):
        recorder.wait_payload(b"queued-before-restart")
        wait_for(lambda: client.connected, what="connected")
    assert all(m.feed == "water" and not m.retained for m in recorder.messages)
