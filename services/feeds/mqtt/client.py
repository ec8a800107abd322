"""MQTT subscriptions: one paho-mqtt client per broker, on a network thread of our own.

How it behaves
--------------
* **Transport and security** come from :class:`BrokerConfig` (see
  :func:`services.feeds.mqtt.paho.new_client`): MQTT 3.1.1 or 5, plain TCP or WebSocket,
  TLS with the configured or the system's CAs. Unusable TLS files make the client report
  DOWN with the reason when started, and never connect.
* **Credentials**: the password comes from :meth:`BrokerConfig.password` (environment or
  keyring). When a user name is configured but no password is found, a warning is logged
  and the client still connects with the user name alone (some brokers allow that); if the
  broker then refuses, the DOWN event's detail says the password was missing.
* **Sessions**: the client id is the configured one (a random ``cityops-…`` id otherwise).
  ``clean_session = false`` asks for a persistent session: ``clean_session=False`` with
  MQTT 3.1.1, ``clean_start=False`` plus a one-day ``SessionExpiryInterval`` with MQTT 5, so
  QoS 1/2 messages published while the app was away are delivered when it comes back.
* **At least once** (persistent sessions only): QoS 1/2 messages are acknowledged to the
  broker only when the ingest worker calls their ``RawMessage.ack``, that is once the offline
  cache has committed them (paho's manual acknowledgements). A crash before that makes the
  broker send them again; repeats are harmless downstream. ``ack`` only queues the packet id
  for the network thread, which sends it at once (a wake-up socket interrupts its wait);
  acknowledgements for a connection that has since ended are dropped, never sent on the next
  one, where the same packet id may name another message: the broker redelivers those
  anyway. A QoS 2 feed is subscribed with QoS 1 there: paho confirms a QoS 2 message
  (PUBREC) as soon as it arrives, and the broker forgets it then, so only QoS 1 delivery can
  wait for the cache. A message that no active feed takes (paused a moment ago, a topic that
  is not UTF-8) is acknowledged at once. With a clean session nothing is kept across a crash
  anyway, so paho acknowledges on receipt as before (and QoS 0 is never acknowledged).
  How many unacknowledged messages a broker sends at a time is its setting (mosquitto:
  ``max_inflight_messages``, default 20); see the README for what a deployment must set.
* **Keep-alive**: paho pings after ``keepalive`` seconds without traffic and only gives up
  when no answer came within another ``keepalive`` (up to twice the keep-alive after the
  last packet). The network thread notes when it last read anything from the broker and
  drops the connection itself (DOWN, "no answer from the broker ...") after
  ``KEEPALIVE_GRACE`` times the keep-alive of silence, which a healthy idle connection,
  answering paho's ping after one keep-alive, never reaches.
* **Reconnecting**: paho's own retry loop has no jitter, so the client runs its own thread:
  ``reconnect()``, then the network loop until the connection ends, then a pause before the
  next attempt (:mod:`services.feeds.mqtt.retry`: capped exponential backoff with equal jitter;
  within about 2 s plus the connect time while an outage is younger than 10 min, the
  requirement being 5 s; up to 30 s after that and when the broker refuses our credentials).
* **Subscriptions** are reconciled on the network thread: after every (re)connect every
  active feed is subscribed again with its QoS (always, even when the broker says the
  session was resumed, which is harmless), and runtime changes (:meth:`add_feed`,
  :meth:`remove_feed`, :meth:`pause_feed`, :meth:`resume_feed`) are applied at once without
  reconnecting. These methods may be called from any thread: they only change the desired
  state under a lock and wake the network thread; every paho call happens on the network
  thread (with a private network loop paho would otherwise write to the socket from the
  calling thread). The network loop is paho's external-loop API (``loop_read``,
  ``loop_write``, ``loop_misc``) around our own ``select`` that also watches the wake-up
  socket.
* **Events**: a :class:`ConnectionEvent` is handed to the sink on every change: CONNECTING
  at start; CONNECTED on each (re)connect once the broker has acknowledged the
  subscriptions (``connected`` turns true at the same moment); DOWN with a reason when a
  connection fails, is refused or is lost ("connection refused", "not authorised",
  "TLS: certificate verify failed: …"); FAILING for the feeds whose subscription the
  broker refused; CONNECTED with detail "subscribed" for a feed added or resumed at
  runtime. Repeats of the same event are not sent again. Retained messages arrive with
  ``RawMessage.retained = True``.

Network callbacks only append to ``sink``; they never touch Qt or the state.
"""

from __future__ import annotations

import logging
import random
import select
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.matcher import MQTTMatcher
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from services.config import BrokerConfig, FeedConfig
from services.feeds.mqtt.acks import AckQueue, Wakeup
from services.feeds.mqtt.errors import (
    CREDENTIAL_REFUSALS,
    PahoLogTap,
    clean_ssl_text,
    close_sockets_in,
    describe_error,
    refusal_detail,
)
from services.feeds.mqtt.feed_set import BrokerFeeds
from services.feeds.mqtt.paho import new_client
from services.feeds.mqtt.retry import FAST_RETRY_WINDOW, STABLE_CONNECTION, retry_delay
from services.messages import ConnectionEvent, InboxItem, RawMessage
from services.model import FeedState

log = logging.getLogger(__name__)

SESSION_EXPIRY = 24 * 3600
"""MQTT 5 session expiry (seconds) asked for with ``clean_session = false``."""
CONNACK_TIMEOUT = 10.0
"""Give up on a connection whose broker does not answer CONNECT within this time."""
LOOP_INTERVAL = 0.1
"""How long one network loop iteration waits for traffic or a wake-up."""
KEEPALIVE_GRACE = 1.5
"""Drop a connection that has heard nothing from its broker for this many keep-alives."""


class MqttFeedClient(BrokerFeeds):
    """One broker connection carrying every feed configured for it.

    ``start()`` returns at once; connecting, reconnecting and subscribing happen on a
    daemon thread. ``stop()`` disconnects cleanly and joins it. Feeds can be added,
    removed, paused and resumed at runtime from any thread without reconnecting.
    """

    def __init__(
        self,
        broker: BrokerConfig,
        feeds: Sequence[FeedConfig],
        sink: Callable[[InboxItem], None],
    ) -> None:
        super().__init__(broker, feeds)
        self._sink = sink
        # filter -> names of the active feeds using it, and the same as a matcher; both
        # replaced, never mutated (read lock-free by the network thread)
        self._routes: dict[str, tuple[str, ...]] = {}
        self._matcher = MQTTMatcher()  # type: ignore[no-untyped-call]
        self._announce: set[str] = set()  # feeds to report CONNECTED once their SUBACK is in

        # Owned by the network thread.
        self._subscribed: dict[str, int] = {}  # filter -> requested QoS (-1: left from a session)
        self._pending_subscriptions: dict[int, list[str]] = {}
        self._dirty = threading.Event()
        self._connected = False
        self._connack_at: float | None = None
        self._initial_mid: int | None = None
        self._resumed = False
        self._refused = ""
        self._refused_credentials = False
        self._connection = 0  # numbers connections; acknowledgements name the one they belong to
        self._heard_at = 0.0  # when the broker last sent us anything (monotonic)

        # Acknowledgements: queued by the ingest worker, sent by the network thread, which
        # the wake-up socket pair interrupts (also for feed changes and stop()).
        self._wakeup = Wakeup()
        self._acks = AckQueue(self._wakeup.wake, self.label)

        self._stop_requested = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        self._last_event: tuple[FeedState, str, tuple[str, ...]] | None = None
        self._random = random.Random()

        persistent = not broker.clean_session
        self._manual_ack = persistent
        if persistent and not broker.client_id:
            log.warning(
                "broker %s: a persistent session needs a fixed client_id; using a random one",
                broker.name,
            )
        self.client_id = broker.client_id or f"cityops-{uuid.uuid4().hex[:12]}"
        for feed in feeds:
            self._note_delivery_qos(feed)
        self._v5 = broker.protocol == "5"
        self._missing_password = ""
        self._paho_log = PahoLogTap()
        self._setup_error = ""
        self._client: mqtt.Client | None = None  # None: the broker cannot be used
        try:
            self._client = self._new_client()
        except ValueError as error:  # unusable TLS files; start() reports it
            self._setup_error = str(error)
        self._update_routes()

    # -- public API ----------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """True while the broker has accepted the connection."""
        return self._connected

    def start(self) -> None:
        """Connect in the background; a broker that is down is retried until it is up."""
        with self._lock:
            if self._started:
                return
            if self._thread is not None:  # a previous stop() timed out
                self._thread.join(CONNACK_TIMEOUT)
                if self._thread.is_alive():
                    raise RuntimeError(f"the previous MQTT thread for {self.label} still runs")
                self._thread = None
            client = self._client
            if client is None:
                log.error("broker %s cannot be used: %s", self.label, self._setup_error)
                self._emit(FeedState.DOWN, self._setup_error)
                return
            self._started = True
            self._stop_requested.clear()
            self._wakeup.open()
            client.connect_async(
                self.broker.address.host,
                self.broker.address.port,
                keepalive=self.broker.keepalive,
                **self._session_options(),
            )
            self._emit(FeedState.CONNECTING, "connecting")
            self._thread = threading.Thread(
                target=self._run, name=f"cityops-mqtt-{self.broker.name}", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Disconnect cleanly (a persistent session stays on the broker) and stop the thread."""
        with self._lock:
            if not self._started:
                return
            self._started = False
            thread = self._thread
        self._stop_requested.set()
        self._wakeup.wake()
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("MQTT thread for %s did not stop within %.0f s", self.label, timeout)
            else:
                self._thread = None
        self._connected = False

    def add_feed(self, feed: FeedConfig) -> None:
        """Subscribe a new feed now (or at the next connect); ValueError for a bad feed."""
        with self._lock:
            self._check_new_feed(feed)
            self._feeds[feed.name] = feed
            self._announce.add(feed.name)
            self._update_routes()
        log.info("feed %r added on %s (%s)", feed.name, self.label, feed.topic)
        self._note_delivery_qos(feed)

    def remove_feed(self, name: str) -> None:
        """Unsubscribe a feed and forget it; KeyError for an unknown name."""
        with self._lock:
            if name not in self._feeds:
                raise KeyError(f"no feed named {name!r} on {self.label}")
            del self._feeds[name]
            self._paused.discard(name)
            self._announce.discard(name)
            self._update_routes()
        log.info("feed %r removed from %s", name, self.label)

    def pause_feed(self, name: str) -> None:
        """Stop a feed's messages (unsubscribe) but keep its configuration."""
        with self._lock:
            self._require(name)
            if name in self._paused:
                return
            self._paused.add(name)
            self._announce.discard(name)
            self._update_routes()
        log.info("feed %r paused on %s", name, self.label)

    def resume_feed(self, name: str) -> None:
        """Subscribe a paused feed again."""
        with self._lock:
            self._require(name)
            if name not in self._paused:
                return
            self._paused.discard(name)
            self._announce.add(name)
            self._update_routes()
        log.info("feed %r resumed on %s", name, self.label)

    # -- setup ---------------------------------------------------------------------------
    def _note_delivery_qos(self, feed: FeedConfig) -> None:
        if self._manual_ack and feed.qos == 2:
            log.info(
                "feed %r on %s: QoS 2 is subscribed as QoS 1, acknowledged once stored"
                " (at least once; a repeat is harmless)",
                feed.name,
                self.label,
            )

    def _delivery_qos(self, qos: int) -> int:
        """The QoS to subscribe with for a feed's QoS (see the module notes on QoS 2)."""
        return min(qos, 1) if self._manual_ack else qos

    def _new_client(self) -> mqtt.Client:
        client = new_client(
            self.broker, self.client_id, password=self._password(), manual_ack=self._manual_ack
        )
        client.suppress_exceptions = True
        paho_logger = logging.Logger("cityops.mqtt.paho", logging.WARNING)
        paho_logger.propagate = False
        paho_logger.addHandler(self._paho_log)
        client.enable_logger(paho_logger)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _password(self) -> str | None:
        """The broker password; when a user name has none, says why in ``_missing_password``."""
        broker = self.broker
        if not broker.username:
            return None
        password = broker.password()
        if password is None:
            if broker.password_env:
                where = f"environment variable {broker.password_env} is not set"
            elif broker.password_keyring:
                where = f"keyring service {broker.password_keyring!r} has none"
            else:
                where = "neither password_env nor password_keyring is configured"
            self._missing_password = f"no password for user {broker.username!r} ({where})"
            log.warning(
                "broker %s: %s; connecting with the user name only",
                self.label,
                self._missing_password,
            )
        return password

    def _session_options(self) -> dict[str, Any]:
        """MQTT 5 only: clean start every time, or never plus a session that outlives us."""
        if not self._v5:
            return {}  # 3.1.1: clean_session was given to the Client
        if self.broker.clean_session:
            return {"clean_start": True, "properties": None}
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_EXPIRY
        return {"clean_start": False, "properties": properties}

    def _update_routes(self) -> None:
        """Recompute which filters the active feeds need (caller holds the lock)."""
        routes: dict[str, tuple[str, ...]] = {}
        for feed in self._feeds.values():
            if feed.name not in self._paused:
                routes[feed.topic] = (*routes.get(feed.topic, ()), feed.name)
        matcher = MQTTMatcher()  # type: ignore[no-untyped-call]
        for topic, names in routes.items():
            matcher[topic] = names
        self._routes = routes
        self._matcher = matcher
        self._dirty.set()
        self._wakeup.wake()

    # -- events --------------------------------------------------------------------------
    def _emit(self, state: FeedState, detail: str) -> None:
        """A broker-wide event for every active feed, unless it repeats the previous one."""
        feeds = self._active_feed_names()
        if self._last_event == (state, detail, feeds):
            return
        self._last_event = (state, detail, feeds)
        self._send(ConnectionEvent(self.label, state, feeds, detail))

    def _emit_feeds(self, names: Sequence[str], state: FeedState, detail: str) -> None:
        if names:
            self._send(ConnectionEvent(self.label, state, tuple(names), detail))

    def _send(self, item: InboxItem) -> None:
        try:
            self._sink(item)
        except Exception:  # a failing sink must not stop the network thread
            log.exception("the sink of %s rejected %r", self.label, item)

    # -- acknowledgements and wake-ups (any thread) ----------------------------------------
    def _report_down(self, detail: str) -> None:
        if self._stop_requested.is_set():
            return
        if self._last_event is None or self._last_event[:2] != (FeedState.DOWN, detail):
            log.warning("broker %s is down: %s; retrying", self.label, detail)
        self._emit(FeedState.DOWN, detail)

    # -- network thread ------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._run_connections()
        except Exception:
            log.exception("the MQTT thread for %s failed", self.label)
            self._emit(FeedState.DOWN, "internal error (see the log)")
        finally:
            self._connected = False
            self._wakeup.close()

    def _run_connections(self) -> None:
        attempt = 0
        outage_since = time.monotonic()
        while not self._stop_requested.is_set():
            lasted = self._connect_and_serve()
            if self._stop_requested.is_set():
                break
            if lasted is not None:
                outage_since = time.monotonic()
                if lasted >= STABLE_CONNECTION:
                    attempt = 0
            outage = time.monotonic() - outage_since
            if self._refused_credentials:
                outage = max(outage, FAST_RETRY_WINDOW)
            delay = retry_delay(attempt, outage, self._random)
            attempt += 1
            log.debug("next connection attempt to %s in %.2f s", self.label, delay)
            self._stop_requested.wait(delay)

    def _connect_and_serve(self) -> float | None:
        """One connection: connect, run it until it ends; how long it was up (None: never)."""
        client = self._client
        assert client is not None  # the network thread runs only with a client
        self._connack_at = None
        self._refused = ""
        self._refused_credentials = False
        self._paho_log.last = ""
        self._connection += 1  # acknowledgements still queued for the last one are dropped
        try:
            client.reconnect()
        except Exception as error:
            close_sockets_in(error)
            self._report_down(describe_error(error, tls=self.broker.address.tls))
            return None
        opened = self._heard_at = time.monotonic()
        closing_since: float | None = None
        while True:
            silence = time.monotonic() - self._heard_at
            if self._stop_requested.is_set() and closing_since is None:
                closing_since = time.monotonic()
                self._send_acks(client)  # what is stored already needs no redelivery
                client.disconnect()
            elif (
                closing_since is None
                and self._connack_at is None
                and time.monotonic() - opened > CONNACK_TIMEOUT
            ):
                closing_since = time.monotonic()
                self._refused = f"no answer from the broker within {CONNACK_TIMEOUT:g} s"
                self._report_down(self._refused)
                client.disconnect()
            elif (
                closing_since is None
                and self._connack_at is not None
                and client.keepalive > 0  # the configured one, or the broker's (MQTT 5)
                and silence > KEEPALIVE_GRACE * client.keepalive
            ):
                closing_since = time.monotonic()
                self._refused = (
                    f"connection lost: no answer from the broker for {silence:.1f} s"
                    f" (keep-alive {client.keepalive} s)"
                )
                self._report_down(self._refused)
                client.disconnect()  # a half-open socket still takes it; paho then closes
            try:
                if self._loop_once(client) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
                if closing_since is not None:
                    if time.monotonic() - closing_since > 2.0:
                        break
                elif self._connack_at is not None and self._dirty.is_set():
                    self._sync_subscriptions(client)
            except Exception as error:  # a paho or callback bug: drop this connection, retry
                log.exception("MQTT connection to %s failed unexpectedly", self.label)
                self._report_down(f"internal error: {type(error).__name__}: {error}")
                break  # the next reconnect() closes the socket
        self._connected = False
        self._acks.drop()
        if self._connack_at is None:
            return None
        return time.monotonic() - self._connack_at

    def _loop_once(self, client: mqtt.Client) -> MQTTErrorCode:
        """One turn of the network loop, like paho's ``loop()``, plus the wake-up socket, the
        queued acknowledgements and a note of when the broker was last heard."""
        sock: Any = client.socket()
        if sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        pending = getattr(sock, "pending", None)
        buffered = pending() if callable(pending) else 0  # TLS or WebSocket bytes read ahead
        readers: list[Any] = [sock]
        wake_reader = self._wakeup.reader
        if wake_reader is not None:
            readers.append(wake_reader)
        writers: list[Any] = [sock] if client.want_write() else []
        try:
            readable, writable, _ = select.select(
                readers, writers, [], 0.0 if buffered else LOOP_INTERVAL
            )
        except (OSError, ValueError, TypeError):  # the socket was closed under us
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if wake_reader is not None and wake_reader in readable:
            self._wakeup.drain()
        if sock in readable or buffered:
            result = client.loop_read()
            if result != MQTTErrorCode.MQTT_ERR_SUCCESS or client.socket() is None:
                return result
            self._heard_at = time.monotonic()
        self._send_acks(client)
        if sock in writable and client.socket() is sock:
            result = client.loop_write()
            if result != MQTTErrorCode.MQTT_ERR_SUCCESS or client.socket() is None:
                return result
        return client.loop_misc()

    def _send_acks(self, client: mqtt.Client) -> None:
        """Acknowledge what the ingest worker has stored, on the connection it came on."""
        self._acks.send(client, self._connection, self._connack_at is not None)

    def _sync_subscriptions(self, client: mqtt.Client) -> None:
        """Bring the broker's subscriptions in line with the active feeds."""
        with self._lock:
            self._dirty.clear()
            wanted: dict[str, int] = {}
            for feed in self._feeds.values():
                if feed.name not in self._paused:
                    qos = self._delivery_qos(feed.qos)
                    wanted[feed.topic] = max(wanted.get(feed.topic, 0), qos)
        stale = [topic for topic in self._subscribed if topic not in wanted]
        fresh = [
            (topic, qos) for topic, qos in wanted.items() if self._subscribed.get(topic) != qos
        ]
        if stale:
            result, _mid = client.unsubscribe(stale)
            if result != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._dirty.set()
                return
            for topic in stale:
                del self._subscribed[topic]
            log.debug("unsubscribed %s from %s", stale, self.label)
        if fresh:
            result, mid = client.subscribe(fresh)
            if result != MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
                self._dirty.set()
                return
            self._pending_subscriptions[mid] = [topic for topic, _qos in fresh]
            self._subscribed.update(fresh)
            log.debug("subscribing %s on %s", fresh, self.label)
            if not self._connected and self._initial_mid is None:
                self._initial_mid = mid  # its SUBACK completes the (re)connect
        elif not self._connected and self._initial_mid is None:
            self._mark_connected()  # nothing to subscribe

    def _mark_connected(self) -> None:
        """The broker accepted us and acknowledged the subscriptions: report CONNECTED."""
        self._connected = True
        log.info(
            "connected to %s as %s%s; %d feeds subscribed",
            self.label,
            self.client_id,
            " (session resumed)" if self._resumed else "",
            len(self._active_feed_names()),
        )
        detail = "connected (session resumed)" if self._resumed else "connected"
        self._emit(FeedState.CONNECTED, detail)

    # -- paho callbacks (network thread) -------------------------------------------------
    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self._refused = refusal_detail(reason_code, self._missing_password)
            self._refused_credentials = reason_code.value in CREDENTIAL_REFUSALS
            self._report_down(self._refused)
            return
        self._connack_at = time.monotonic()
        self._resumed = bool(flags.session_present) and not self.broker.clean_session
        # A resumed session still has the old subscriptions: mark them unknown (-1) so the
        # wanted ones are subscribed again and the unwanted ones are dropped.
        self._subscribed = {topic: -1 for topic in self._subscribed} if self._resumed else {}
        self._pending_subscriptions.clear()
        self._initial_mid = None
        with self._lock:
            self._announce.clear()
        self._sync_subscriptions(client)

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        was_connected = self._connack_at is not None
        self._connected = False
        if self._stop_requested.is_set() or self._refused:
            return  # stopping, or the refusal was already reported
        if flags.is_disconnect_packet_from_server:
            detail = f"disconnected by the broker: {reason_code}"
        elif was_connected:
            detail = "connection lost"
            if reason_code.value == 141:  # keep alive timeout
                detail += " (no answer to keep-alive)"
        else:
            detail = "connection closed before the broker answered"
        if self._paho_log.last:
            detail += f": {clean_ssl_text(self._paho_log.last)}"
        if self.broker.address.tls and not was_connected and self.broker.cert_file is None:
            detail += " (TLS: does the broker require a client certificate?)"
        self._report_down(detail)

    def _on_subscribe(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        topics = self._pending_subscriptions.pop(mid, [])
        if not self._connected and mid == self._initial_mid:
            self._mark_connected()
        for topic, code in zip(topics, reason_codes, strict=False):
            names = self._routes.get(topic, ())
            if code.is_failure:
                log.warning(
                    "broker %s refused the subscription to %r (%s) for feeds %s",
                    self.label,
                    topic,
                    code,
                    ", ".join(names),
                )
                self._emit_feeds(names, FeedState.FAILING, f"subscription refused: {code}")
                continue
            with self._lock:
                announce = [name for name in names if name in self._announce]
                self._announce.difference_update(announce)
            self._emit_feeds(announce, FeedState.CONNECTED, "subscribed")

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        """Hand a message to every active feed whose filter matches its topic."""
        try:
            topic = message.topic
        except UnicodeDecodeError:
            log.warning("dropped a message with a topic that is not UTF-8 on %s", self.label)
            self._acknowledge_now(message)
            return
        names = _feed_names(self._matcher.iter_match(topic))  # type: ignore[no-untyped-call]
        if not names:  # paused or removed a moment ago
            log.debug("a message on %r matches no active feed of %s; dropped", topic, self.label)
            self._acknowledge_now(message)
            return
        acks: Sequence[Callable[[], None] | None] = [None] * len(names)
        if self._manual_ack and message.qos > 0:
            entry = (self._connection, message.mid, message.qos)
            acks = self._acks.handles(entry, len(names))
        received = time.time()
        payload = bytes(message.payload)
        retained = bool(message.retain)
        for name, ack in zip(names, acks, strict=True):
            self._send(RawMessage(name, topic, payload, received, retained, ack=ack))

    def _acknowledge_now(self, message: mqtt.MQTTMessage) -> None:
        """A message nobody will store still needs its acknowledgement (manual mode)."""
        if self._manual_ack and message.qos > 0:
            self._acks.put((self._connection, message.mid, message.qos))


def _feed_names(matches: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    """The feed names of every matching filter, each once, in order."""
    names: dict[str, None] = {}
    for group in matches:
        names.update(dict.fromkeys(group))
    return tuple(names)
