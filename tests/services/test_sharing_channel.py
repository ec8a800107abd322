"""The broker side of sharing: the channel that carries actions (against a fake paho client
for a race, and against real mosquitto), and the ACL the README shows, which lets each
broker user write actions only under its own name."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from services.addresses import parse_broker_url
from services.config import BrokerConfig
from services.feeds.mqtt import action_channel
from services.feeds.mqtt.action_channel import ActionChannel
from services.messages import OutboxSent
from services.sharing.protocol import (
    SHARING_FEED,
    SharedAction,
    action_topic,
    encode_action,
    state_topic,
    subscriptions,
)
from tests.helpers.brokers import Broker
from tests.helpers.mqtt import Recorder, Subscriber
from tests.helpers.polling import wait_for

PREFIX = "cityops/yiyang"
README_ACL = """\
# every account reads the city's feeds and everything shared
pattern read yiyang/#
pattern read cityops/yiyang/#
# actions only under its own broker user name
pattern write cityops/yiyang/actions/%u/#
# the merged state of each alarm, retained, written by every workstation
pattern readwrite cityops/yiyang/alarm-state/#
"""
PASSWORDS = {"acct-a": "a-s3cret", "acct-b": "b-s3cret"}


# -- the channel against a fake paho client ------------------------------------------------


class Info:
    def __init__(self, mid: int, rc: MQTTErrorCode) -> None:
        self.mid, self.rc = mid, rc


class QuickBrokerClient:
    """Stands in for paho: the broker's PUBACK is handled (on_publish called) before
    ``publish`` returns, as paho's network thread can do on a fast link."""

    def __init__(self) -> None:
        self.on_publish: Callable[..., None] | None = None
        self.on_connect: Callable[..., None] | None = None
        self.published: list[tuple[str, bytes, bool]] = []
        self.subscribed: list[str] = []
        self.connected = False

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> Info:
        assert qos == 1
        self.published.append((topic, payload, retain))
        mid = len(self.published)
        if not self.connected:
            return Info(mid, MQTTErrorCode.MQTT_ERR_NO_CONN)
        assert self.on_publish is not None
        self.on_publish(self, None, mid, ReasonCode(PacketTypes.PUBACK, identifier=0), None)
        return Info(mid, MQTTErrorCode.MQTT_ERR_SUCCESS)

    def subscribe(self, topic: str, qos: int) -> None:
        self.subscribed.append(topic)

    def reconnect_delay_set(self, *_args: object) -> None:
        pass

    def connect_async(self, *_args: object, **_kwargs: object) -> None:
        pass

    def loop_start(self) -> None:
        pass

    def loop_stop(self) -> None:
        pass

    def disconnect(self) -> None:
        self.connected = False

    def come_online(self) -> None:
        self.connected = True
        assert self.on_connect is not None
        self.on_connect(self, None, None, ReasonCode(PacketTypes.CONNACK, identifier=0), None)


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ActionChannel, QuickBrokerClient]]:
    client = QuickBrokerClient()
    monkeypatch.setattr(action_channel, "new_client", lambda *_a, **_k: client)
    url = "mqtt://127.0.0.1:1883"
    channel = ActionChannel(
        BrokerConfig(url=url, address=parse_broker_url(url)), subscriptions(PREFIX), Recorder()
    )
    channel.start()
    yield channel, client
    channel.stop(timeout=0)


def sent_keys(channel: ActionChannel) -> list[str]:
    sink = channel._sink
    assert isinstance(sink, Recorder)
    return [key for item in sink.items if isinstance(item, OutboxSent) for key in item.keys]


def test_a_message_the_broker_takes_before_publish_returns_is_not_left_waiting(
    quick: tuple[ActionChannel, QuickBrokerClient],
) -> None:
    channel, client = quick
    client.come_online()
    assert client.subscribed == list(subscriptions(PREFIX))
    channel.publish([("a1", f"{PREFIX}/actions/acct-a/ws-a", b"{}", False)])
    assert channel.waiting == 0
    assert sent_keys(channel) == ["a1"]


def test_messages_paho_holds_are_not_sent_twice_on_connect(
    quick: tuple[ActionChannel, QuickBrokerClient],
) -> None:
    channel, client = quick
    client.come_online()
    client.connected = False  # the link dropped; paho does not know yet
    channel.publish([("a1", f"{PREFIX}/actions/acct-a/ws-a", b"{}", False)])
    assert len(client.published) == 1 and channel.waiting == 1
    client.come_online()  # paho sends a1 again itself
    assert len(client.published) == 1, "a1 was not handed to paho a second time"
    channel.publish([("a2", f"{PREFIX}/actions/acct-a/ws-a", b"{}", False)])
    assert sent_keys(channel) == ["a2"]


# -- real mosquitto --------------------------------------------------------------------------


@contextmanager
def channel_as(
    broker: Broker, account: str, monkeypatch: pytest.MonkeyPatch, protocol: str = "3.1.1"
) -> Iterator[tuple[ActionChannel, Recorder]]:
    variable = f"CITYOPS_TEST_{account.upper().replace('-', '_')}"
    monkeypatch.setenv(variable, PASSWORDS[account])
    config = broker.config(username=account, password_env=variable, protocol=protocol)
    recorder = Recorder()
    channel = ActionChannel(config, subscriptions(PREFIX), recorder)
    channel.start()
    try:
        wait_for(lambda: channel.connected, 10, f"{account} connected")
        yield channel, recorder
    finally:
        channel.stop()


def claimed(account: str, workstation: str, key: str) -> tuple[str, bytes]:
    """An action claiming to come from ``account``/``workstation`` (payload and topic)."""
    action = SharedAction(
        id=key,
        kind="ack",
        alarm="aq-1|pm25|high",
        occurrence=1.0,
        user="someone",
        workstation=workstation,
        account=account,
        role="operator",
        ts=2.0,
    )
    return action_topic(PREFIX, account, workstation), encode_action(action).encode()


def received(recorder: Recorder) -> list[tuple[str, bytes]]:
    return [(m.topic, m.payload) for m in recorder.messages if m.feed == SHARING_FEED]


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_the_readme_acl_lets_an_account_write_actions_only_under_its_own_name(
    brokers: Callable[..., Broker],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    protocol: str,
) -> None:
    broker = brokers(users=PASSWORDS, acl=README_ACL)
    caplog.set_level(logging.INFO, logger=action_channel.__name__)
    with (
        channel_as(broker, "acct-a", monkeypatch, protocol) as (a, at_a),
        channel_as(broker, "acct-b", monkeypatch, protocol) as (b, at_b),
    ):
        forged = claimed("acct-a", "ws-a", "forged")  # b pretending to be a
        own_b = claimed("acct-b", "ws-b", "own-b")
        own_a = claimed("acct-a", "ws-a", "own-a")
        state = (state_topic(PREFIX, "aq-1|pm25|high"), b'{"alarm":"aq-1|pm25|high"}')
        # one publisher's messages arrive in order: once own-b is there, forged would be too
        b.publish([("forged", *forged, False), ("own-b", *own_b, False)])
        b.publish([("state", *state, True)])
        a.publish([("own-a", *own_a, False)])
        for recorder in (at_a, at_b):
            wait_for(
                lambda recorder=recorder: {own_a, own_b, state} <= set(received(recorder)),
                10,
                "the allowed messages everywhere",
            )
        wait_for(lambda: a.waiting == 0 and b.waiting == 0, 10, "every message taken")
        for recorder in (at_a, at_b):
            assert forged not in received(recorder)
            assert sorted(received(recorder)) == sorted([own_a, own_b, state])
    assert "Denied PUBLISH" in broker.log_text()
    assert f"'{forged[0]}'" in broker.log_text()
    refused = [r.getMessage() for r in caplog.records if "refused by" in r.getMessage()]
    if protocol == "5":  # the PUBACK says so: the workstation logs it
        (message,) = refused
        assert message.startswith("sharing: forged refused by") and "Not authorized" in message
    else:  # MQTT 3.1.1 acknowledges a denied publish like any other
        assert refused == []


def test_the_readme_acl_lets_workstations_read_feeds_but_not_write_them(
    brokers: Callable[..., Broker],
) -> None:
    broker = brokers(users=PASSWORDS, acl=README_ACL)
    control = Subscriber(broker.control_port, ["yiyang/#"])
    reader = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    reader.username_pw_set("acct-a", PASSWORDS["acct-a"])
    seen: list[tuple[str, bytes]] = []
    subscribed: list[Any] = []
    reader.on_message = lambda _c, _u, message: seen.append((message.topic, message.payload))
    reader.on_subscribe = lambda *args: subscribed.append(args)
    reader.connect("127.0.0.1", broker.port)
    reader.loop_start()
    try:
        reader.subscribe("yiyang/#", qos=1)
        wait_for(lambda: subscribed, 10, "SUBACK")
        broker.publish("yiyang/env/air/aq-1", b'{"pm25": 12}')  # a feed, on the control side
        wait_for(lambda: ("yiyang/env/air/aq-1", b'{"pm25": 12}') in seen, 10, "the reading")
        info = reader.publish("yiyang/env/air/aq-1", b'{"pm25": 999}', qos=1)
        info.wait_for_publish(5)
        broker.publish("yiyang/env/air/aq-2", b"marker")
        got = control.collect(2)
        assert got == [
            ("yiyang/env/air/aq-1", b'{"pm25": 12}'),
            ("yiyang/env/air/aq-2", b"marker"),
        ], "the workstation's write to a feed topic was denied"
    finally:
        reader.loop_stop()
        reader.disconnect()
        control.close()
    assert ("yiyang/env/air/aq-1", b'{"pm25": 999}') not in seen
