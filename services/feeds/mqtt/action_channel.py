"""The broker connection that carries operator actions between workstations.

One paho client (its own network thread, started by ``loop_start``) subscribes to the
sharing topics and hands what arrives to the ingest inbox as ``RawMessage`` items of the
``sharing`` pseudo-feed, with ``ConnectionEvent`` items for its connection state. The
ingest worker hands it messages to publish (:meth:`ActionChannel.publish`); they stay
queued here while the broker is unreachable and go out, QoS 1, on every (re)connect until
the broker has taken them, when :class:`OutboxSent` tells the worker so. Retained state
messages are kept per topic (only the newest is sent). This module knows topics and
bytes, nothing of alarms.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from services.config import BrokerConfig
from services.feeds.mqtt.paho import new_client
from services.messages import ConnectionEvent, InboxItem, OutboxSent, RawMessage
from services.model import FeedState
from services.sharing.protocol import SHARING_FEED

log = logging.getLogger(__name__)

RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 5


class ActionChannel:
    """Publishes this workstation's actions and receives everyone's, on one broker."""

    def __init__(
        self,
        broker: BrokerConfig,
        filters: Sequence[str],
        sink: Callable[[InboxItem], None],
        *,
        keepalive: int | None = None,
    ) -> None:
        self.broker = broker
        self.filters = tuple(filters)
        self._sink = sink
        self._keepalive = keepalive or broker.keepalive
        self.client_id = f"cityops-share-{uuid.uuid4().hex[:12]}"
        self._lock = threading.Lock()
        self._queued: OrderedDict[str, tuple[str, bytes, bool]] = OrderedDict()
        """Messages not yet taken by the broker: key → (topic, payload, retain)."""
        self._in_flight: dict[int, tuple[str, tuple[str, bytes, bool]]] = {}
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        client = new_client(self.broker, self.client_id, password=self.broker.password())
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self._client = client
        self._sink(ConnectionEvent(SHARING_FEED, FeedState.CONNECTING, (SHARING_FEED,)))
        client.connect_async(
            self.broker.address.host, self.broker.address.port, keepalive=self._keepalive
        )
        client.loop_start()

    def stop(self, timeout: float = 3.0) -> None:
        """Give queued messages up to ``timeout`` seconds to go out, then disconnect."""
        client = self._client
        if client is None:
            return
        deadline = time.monotonic() + timeout
        while self.connected and self.waiting and time.monotonic() < deadline:
            time.sleep(0.02)
        client.disconnect()
        client.loop_stop()
        self._client = None
        self._connected.clear()

    @property
    def waiting(self) -> int:
        """Messages not yet taken by the broker."""
        with self._lock:
            return len(self._queued)

    def publish(self, messages: Sequence[tuple[str, str, bytes, bool]]) -> None:
        """Queue (key, topic, payload, retain) messages and send them when connected; a key
        queued again replaces its waiting message (the newest retained state wins). Safe
        from any thread."""
        with self._lock:
            for key, topic, payload, retain in messages:
                self._queued[key] = (topic, payload, retain)
                self._queued.move_to_end(key)
        if self.connected:
            self._send(list(dict.fromkeys(key for key, *_rest in messages)))

    def _send(self, keys: Sequence[str]) -> None:
        client = self._client
        if client is None:
            return
        for key in keys:
            with self._lock:
                message = self._queued.get(key)
            if message is None:
                continue
            topic, payload, retain = message
            info = client.publish(topic, payload, qos=1, retain=retain)
            if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                with self._lock:
                    self._in_flight[info.mid] = (key, message)
            else:
                log.info("sharing: %s not sent now (%s); sent on reconnect", key, info.rc)

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        _flags: Any,
        reason: ReasonCode,
        _properties: Any = None,
    ) -> None:
        if reason.is_failure:
            detail = f"sharing refused by {self.broker.address.url}: {reason}"
            log.warning("%s", detail)
            self._sink(ConnectionEvent(SHARING_FEED, FeedState.DOWN, (SHARING_FEED,), detail))
            return
        for topic_filter in self.filters:
            client.subscribe(topic_filter, qos=1)
        self._connected.set()
        with self._lock:
            self._in_flight.clear()
            keys = list(self._queued)
        log.info(
            "sharing online at %s; %d queued messages to send",
            self.broker.address.url,
            len(keys),
        )
        self._sink(ConnectionEvent(SHARING_FEED, FeedState.CONNECTED, (SHARING_FEED,)))
        self._send(keys)

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: Any,
        reason: ReasonCode,
        _properties: Any = None,
    ) -> None:
        self._connected.clear()
        detail = f"sharing connection to {self.broker.address.url} lost: {reason}"
        log.info("%s", detail)
        self._sink(ConnectionEvent(SHARING_FEED, FeedState.DOWN, (SHARING_FEED,), detail))

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._sink(
            RawMessage(
                SHARING_FEED, message.topic, bytes(message.payload), time.time(), message.retain
            )
        )

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        mid: int,
        _reason: ReasonCode,
        _properties: Any = None,
    ) -> None:
        with self._lock:
            sent = self._in_flight.pop(mid, None)
            if sent is None:
                return
            key, message = sent
            if self._queued.get(key) is message:  # not replaced by a newer one meanwhile
                del self._queued[key]
        self._sink(OutboxSent((key,)))
