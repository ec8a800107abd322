"""MQTT subscriptions: paho-mqtt (callback API v2) in its own thread, feeding the ingest queue."""

from __future__ import annotations

import logging
import ssl
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from services.config import BrokerConfig, FeedConfig
from services.ingest import ConnectionEvent, InboxItem, RawMessage
from services.model import FeedState

log = logging.getLogger("cityops.mqtt")


class MqttFeedClient:
    """One broker connection carrying every feed configured for it.

    Network callbacks run on paho's thread and only append to ``sink``; they never touch
    Qt or the state. Reconnects use paho's capped backoff and resubscribe every feed.
    """

    def __init__(
        self,
        broker: BrokerConfig,
        feeds: Sequence[FeedConfig],
        sink: Callable[[InboxItem], None],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.broker = broker
        self.feeds = tuple(feeds)
        self._sink = sink
        self._clock = clock
        self._feed_names = tuple(feed.name for feed in self.feeds)
        self.connected = False
        client_id = broker.client_id or f"cityops-{uuid.uuid4().hex[:12]}"
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        if broker.username:
            self._client.username_pw_set(broker.username, broker.password())
        if broker.address.tls:
            self._client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_connect_fail = self._on_connect_fail
        for feed in self.feeds:
            self._client.message_callback_add(feed.topic, self._make_handler(feed.name))
        self._started = False
        self._reported_down = False

    @property
    def label(self) -> str:
        return self.broker.address.url

    def start(self) -> None:
        """Connect in the background; a broker that is down is retried until it is up."""
        if self._started:
            return
        self._started = True
        self._emit(FeedState.CONNECTING, "connecting")
        self._client.connect_async(
            self.broker.address.host, self.broker.address.port, keepalive=self.broker.keepalive
        )
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        if not self._started:
            return
        self._started = False
        self._client.disconnect()
        self._client.loop_stop()
        self.connected = False

    def _emit(self, state: FeedState, detail: str) -> None:
        self._sink(ConnectionEvent(self.label, state, self._feed_names, detail))

    def _make_handler(self, feed: str) -> Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None]:
        sink, clock = self._sink, self._clock

        def on_feed_message(
            _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage
        ) -> None:
            sink(
                RawMessage(
                    feed, message.topic, bytes(message.payload), clock(), bool(message.retain)
                )
            )

        return on_feed_message

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        _flags: Any,
        reason_code: Any,
        _properties: Any,
    ) -> None:
        if reason_code.is_failure:
            log.warning("broker %s refused the connection: %s", self.label, reason_code)
            self._emit(FeedState.DOWN, f"refused: {reason_code}")
            return
        subscriptions = [(feed.topic, feed.qos) for feed in self.feeds]
        if subscriptions:
            client.subscribe(subscriptions)
        self.connected = True
        self._reported_down = False
        log.info("connected to %s, subscribed to %d feeds", self.label, len(subscriptions))
        self._emit(FeedState.CONNECTED, "connected")

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        if self._started and not self._reported_down:
            log.warning("cannot reach broker %s; retrying", self.label)
        self._reported_down = True
        self._emit(FeedState.DOWN, "unreachable; retrying")

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: Any,
        reason_code: Any,
        _properties: Any,
    ) -> None:
        self.connected = False
        if self._started:
            log.warning("lost connection to %s: %s; reconnecting", self.label, reason_code)
            self._emit(FeedState.DOWN, f"disconnected: {reason_code}")
