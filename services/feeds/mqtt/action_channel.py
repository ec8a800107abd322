"""The broker connection that carries operator actions between workstations.

One paho client (its own network thread, started by ``loop_start``) subscribes to the
sharing topics and hands what arrives to the ingest inbox as ``RawMessage`` items of the
``sharing`` pseudo-feed, with ``ConnectionEvent`` items for its connection state. The
ingest worker hands it messages to publish (:meth:`ActionChannel.publish`); they stay
queued here while the broker is unreachable and go out, QoS 1, when it is back (those
handed to paho already, paho sends again itself after a reconnect) until the broker has
taken them, when :class:`OutboxSent` tells the worker so. Retained state messages are kept
per topic (only the newest is sent). This module knows topics and bytes, nothing of alarms.
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
EARLY_ACK_KEPT_S = 60.0
"""How long an acknowledgement of a mid not (yet) recorded is kept for ``_send``."""


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
        """Messages paho holds (it sends them again itself after a reconnect), by mid."""
        self._acked_early: dict[int, float] = {}
        """Mids acknowledged before ``_send`` had recorded them (the broker was quicker
        than this thread), with when."""
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
        with self._lock:  # a new client holds none of them: send everything queued
            self._in_flight.clear()
            self._acked_early.clear()
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
            if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
                log.info("sharing: %s not sent now (%s); sent on reconnect", key, info.rc)
                continue
            # paho holds it now (also when the connection just dropped: it sends it again
            # after reconnecting). Its PUBACK may have been handled already, on paho's
            # thread, before this thread got here.
            with self._lock:
                taken = self._acked_early.pop(info.mid, None) is not None
                if not taken:
                    self._in_flight[info.mid] = (key, message)
            if taken:
                self._taken(key, message)

    def _taken(self, key: str, message: tuple[str, bytes, bool]) -> None:
        """The broker has taken ``message``: forget it unless a newer one replaced it."""
        with self._lock:
            if self._queued.get(key) is message:
                del self._queued[key]
        self._sink(OutboxSent((key,)))

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
        with self._lock:  # what paho holds, it sends again itself
            held = {id(message) for _key, message in self._in_flight.values()}
            keys = [key for key, message in self._queued.items() if id(message) not in held]
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
        reason: ReasonCode,
        _properties: Any = None,
    ) -> None:
        now = time.monotonic()
        with self._lock:
            sent = self._in_flight.pop(mid, None)
            if sent is None:
                self._acked_early[mid] = now
                for early, since in list(self._acked_early.items()):
                    if now - since > EARLY_ACK_KEPT_S:
                        del self._acked_early[early]
                return
        key, message = sent
        if reason.is_failure:  # MQTT 5: e.g. "not authorized", the ACL refused the topic
            log.error(
                "sharing: %s refused by %s (%s) on %s; check the broker's ACL for this user",
                key,
                self.broker.address.url,
                reason,
                message[0],
            )
        self._taken(key, message)
