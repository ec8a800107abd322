"""A broker's subscriptions received in a child process (``MqttFeedProcess``) against a real
mosquitto: batches, feed changes, the child's log, a child killed and started again, and the
back-pressure of its outbox."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Sequence

import pytest

from services.feeds.mqtt import process as mqtt_process
from services.feeds.mqtt.process import MqttFeedProcess
from services.messages import InboxItem, RawMessage
from services.model import FeedState
from tests.helpers.brokers import Broker
from tests.helpers.mqtt import Recorder, feed, publish_until_received, running
from tests.helpers.net import free_port
from tests.helpers.polling import wait_for


class BatchRecorder(Recorder):
    """A recorder that also notes the size of every batch handed over at once."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def many(self, items: Sequence[InboxItem]) -> None:
        self.batches.append(len(items))
        for item in items:
            self(item)


def test_messages_and_events_arrive_in_batches_and_feeds_change_at_run_time(
    brokers: Callable[..., Broker],
) -> None:
    broker = brokers()
    recorder = BatchRecorder()
    client = MqttFeedProcess(broker.config(), [feed("air", "air/#")], recorder, recorder.many)
    with running(client):
        recorder.wait_state(FeedState.CONNECTED)
        assert client.connected
        assert client.pid is not None and client.pid != os.getpid()
        for index in range(500):
            broker.publish(f"air/aq-{index}", f"{index}".encode(), qos=0)
        wait_for(lambda: len(recorder.payloads("air")) == 500, what="all 500 messages")
        assert recorder.payloads("air") == [f"{index}".encode() for index in range(500)]
        assert max(recorder.batches) > 1, "several messages handed over in one call"
        message = recorder.messages[0]
        assert isinstance(message, RawMessage) and message.topic == "air/aq-0"
        assert message.ack is None  # QoS 0 on a clean session: nothing to acknowledge

        with pytest.raises(ValueError, match="already exists"):
            client.add_feed(feed("air", "other/#"))
        with pytest.raises(ValueError, match="qos"):
            client.add_feed(feed("bad", "bad/#", qos=3))
        with pytest.raises(KeyError):
            client.pause_feed("nothing")

        client.add_feed(feed("water", "water/#"))
        publish_until_received(broker, "water/g1", recorder)
        client.pause_feed("water")
        assert client.paused == frozenset({"water"})
        publish_until_received(broker, "air/after-pause", recorder, prefix="air-probe")
        before = len(recorder.payloads("water"))
        broker.publish("water/g1", b"while paused", qos=1)
        publish_until_received(broker, "air/after", recorder, prefix="air-again")
        assert len(recorder.payloads("water")) == before
        client.resume_feed("water")
        publish_until_received(broker, "water/g1", recorder, prefix="resumed")
        client.remove_feed("water")
        assert [f.name for f in client.feeds] == ["air"]
    assert not client.connected
    assert client.pid is None


def test_a_killed_child_is_reported_down_and_started_again(
    brokers: Callable[..., Broker],
) -> None:
    broker = brokers()
    recorder = Recorder()
    client = MqttFeedProcess(broker.config(), [feed("air", "air/#")], recorder)
    with running(client):
        recorder.wait_state(FeedState.CONNECTED)
        first = client.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        down = recorder.wait_state(FeedState.DOWN)
        assert "receiver process ended (exit code -9)" in down.detail
        assert down.feeds == ("air",)
        recorder.wait_state(FeedState.CONNECTED, timeout=20.0)
        assert client.restarts == 1 and client.pid not in (None, first)
        publish_until_received(broker, "air/aq-1", recorder)
        second = client.pid
        assert second is not None
        os.kill(second, signal.SIGKILL)  # again at once: a crash loop waits longer each time
        again = recorder.wait_state(FeedState.DOWN)
        assert "restarting in 2 s" in again.detail
        recorder.wait_state(FeedState.CONNECTED, timeout=20.0)
        assert client.restarts == 2


def test_the_childs_log_is_the_apps_log(caplog: pytest.LogCaptureFixture) -> None:
    from services.addresses import parse_broker_url
    from services.config import BrokerConfig

    url = f"mqtt://127.0.0.1:{free_port()}"
    broker = BrokerConfig(url=url, address=parse_broker_url(url))
    recorder = Recorder()
    caplog.set_level(logging.INFO)
    with running(MqttFeedProcess(broker, [feed("air", "air/#")], recorder)):
        event = recorder.wait_state(FeedState.DOWN)
        assert "refused" in event.detail
        wait_for(
            lambda: any(
                record.name == "services.feeds.mqtt.client" and "is down" in record.getMessage()
                for record in caplog.records
            ),
            what="the child's warning in this process's log",
        )


def test_a_full_outbox_holds_the_network_thread_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond the backlog the child's network thread waits until the outbox is sent."""
    import multiprocessing

    monkeypatch.setattr(mqtt_process, "MQTT_PROCESS_BACKLOG", 3)
    reader, writer = multiprocessing.Pipe(duplex=False)
    outbox = mqtt_process._Outbox(writer)  # its sending thread not started yet
    for index in range(3):
        outbox.put(RawMessage("air", f"air/{index}", b"{}", 0.0))
    fourth_in = threading.Event()

    def put_fourth() -> None:
        outbox.put(RawMessage("air", "air/3", b"{}", 0.0))
        fourth_in.set()

    threading.Thread(target=put_fourth, daemon=True).start()
    assert not fourth_in.wait(0.5), "the fourth message waits for room"
    outbox.start()
    assert fourth_in.wait(5.0)
    received: list[tuple[object, ...]] = []
    while len(received) < 4 and reader.poll(5.0):
        kind, entries, _connected = reader.recv()
        assert kind == "items"
        received.extend(entries)
    assert [entry[1] for entry in received] == [f"air/{index}" for index in range(4)]
    outbox.close(5.0)
    assert reader.recv() == ("stopped",)
