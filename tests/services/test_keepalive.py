"""A broker that stops answering (a half-open connection) is reported DOWN within 1.5x the
keep-alive, against a real mosquitto stopped with SIGSTOP."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from services.feeds.mqtt.client import MqttFeedClient
from services.model import FeedState
from tests.helpers.brokers import Broker
from tests.helpers.mqtt import Recorder, feed, publish_until_received, running

KEEPALIVE = 2
"""Seconds; below the config's minimum of 5 to keep the test short (BrokerConfig allows it)."""
MARGIN = 0.5
"""Seconds allowed on top of 1.5x the keep-alive for the network loop and a loaded machine."""


def _freeze_and_time_down(broker: Broker, recorder: Recorder) -> tuple[float, str]:
    """Freeze the broker just after a message came in; how long until DOWN, and its detail.

    A message arriving right before the freeze is the worst case: the client heard from the
    broker a moment ago, so it has the longest wait before it may give up.
    """
    publish_until_received(broker, "air/probe", recorder, prefix="before-freeze")
    with broker.frozen():
        frozen_at = time.monotonic()
        event = recorder.wait_state(FeedState.DOWN, timeout=6 * KEEPALIVE)
        elapsed = time.monotonic() - frozen_at
    return elapsed, event.detail


def test_a_broker_that_stops_answering_is_down_and_back_when_it_answers_again(
    brokers: Callable[..., Broker],
) -> None:
    broker = brokers()
    recorder = Recorder()
    config = broker.config(keepalive=KEEPALIVE)
    with running(MqttFeedClient(config, [feed("air", "air/#")], recorder)) as client:
        recorder.wait_state(FeedState.CONNECTED)
        _elapsed, detail = _freeze_and_time_down(broker, recorder)
        assert "keep-alive" in detail
        assert not client.connected
        recorder.wait_state(FeedState.CONNECTED, timeout=30)
        publish_until_received(broker, "air/after", recorder, prefix="after-thaw")


@pytest.mark.perf
@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_a_half_open_connection_is_down_within_one_and_a_half_keepalives(
    brokers: Callable[..., Broker], protocol: str
) -> None:
    broker = brokers()
    recorder = Recorder()
    config = broker.config(keepalive=KEEPALIVE, protocol=protocol)
    with running(MqttFeedClient(config, [feed("air", "air/#")], recorder)):
        recorder.wait_state(FeedState.CONNECTED)
        elapsed, _detail = _freeze_and_time_down(broker, recorder)
    print(f"half-open connection reported DOWN after {elapsed:.2f} s (keep-alive {KEEPALIVE} s)")
    assert elapsed <= 1.5 * KEEPALIVE + MARGIN
