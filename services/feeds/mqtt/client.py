"""MQTT subscriptions: one paho-mqtt client per broker, on a network thread of our own.

How it behaves
--------------
* **Transport and security** come from :class:`BrokerConfig`: MQTT 3.1.1 or 5, plain TCP or
  WebSocket (``ws``/``wss`` with ``ws_path``), TLS for ``mqtts``/``wss`` with the configured
  CA (else the system's CAs), an optional client certificate, and hostname verification
  unless ``verify_hostname = false`` (logged as a warning).
* **Credentials**: the password comes from :meth:`BrokerConfig.password` (environment or
  keyring). When a user name is configured but no password is found, a warning is logged
  and the client still connects with the user name alone (some brokers allow that); if the
  broker then refuses, the DOWN event's detail says the password was missing.
* **Sessions**: the client id is the configured one (a random ``cityops-…`` id otherwise).
  ``clean_session = false`` asks for a persistent session: ``clean_session=False`` with
  MQTT 3.1.1, ``clean_start=False`` plus a one-day ``SessionExpiryInterval`` with MQTT 5, so
  QoS 1/2 messages published while the app was away are delivered when it comes back.
* **Reconnecting**: paho's own retry loop has no jitter, so the client runs its own thread:
  ``reconnect()``, then ``loop()`` until the connection ends, then a pause before the next
  attempt. The pause uses capped exponential backoff with *equal jitter* (half the step
  fixed, half random): steps of 1, 2, 4 … seconds, i.e. pauses of 0.5 to 1 s, 1 to 2 s, …
  While an outage is younger than :data:`FAST_RETRY_WINDOW` (10 min) the step is capped at
  :data:`FAST_RETRY_CAP` (2 s), so a broker that comes back is reached within about 2 s plus
  the connect time (the requirement is 5 s). Longer outages, and brokers that refuse our
  credentials, back off up to :data:`SLOW_RETRY_CAP` (30 s).
* **Subscriptions** are reconciled on the network thread: after every (re)connect every
  active feed is subscribed again with its QoS (always, even when the broker says the
  session was resumed, which is harmless), and runtime changes (:meth:`add_feed`,
  :meth:`remove_feed`, :meth:`pause_feed`, :meth:`resume_feed`) are applied within about
  0.1 s without reconnecting. These methods may be called from any thread: they only
  change the desired state under a lock; every paho call happens on the network thread
  (with a private network loop paho would otherwise write to the socket from the calling
  thread).
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
import re
import socket
import ssl
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from services.addresses import topic_filter_problem
from services.config import BrokerConfig, FeedConfig
from services.messages import ConnectionEvent, InboxItem, RawMessage
from services.model import FeedState

log = logging.getLogger(__name__)

MIN_RETRY_DELAY = 0.5
"""The shortest pause between connection attempts (seconds)."""
FAST_RETRY_CAP = 2.0
"""The longest pause while an outage is younger than :data:`FAST_RETRY_WINDOW`."""
SLOW_RETRY_CAP = 30.0
"""The longest pause after that, and after the broker refused our credentials."""
FAST_RETRY_WINDOW = 600.0
"""How long (seconds) after losing a connection the client keeps retrying quickly."""
STABLE_CONNECTION = 10.0
"""A connection that lasted this long resets the backoff to its first step."""
SESSION_EXPIRY = 24 * 3600
"""MQTT 5 session expiry (seconds) asked for with ``clean_session = false``."""
CONNACK_TIMEOUT = 10.0
"""Give up on a connection whose broker does not answer CONNECT within this time."""
LOOP_INTERVAL = 0.1
"""How long one network loop iteration waits for traffic; bounds feed-change latency."""

# CONNACK reason codes (MQTT 5 numbering; paho maps 3.1.1 codes onto these).
_BAD_CREDENTIALS = 134
_NOT_AUTHORISED = 135
_CREDENTIAL_REFUSALS = {133, 134, 135, 138, 140}


def retry_delay(attempt: int, outage: float, rng: random.Random | None = None) -> float:
    """The pause before connection attempt ``attempt + 1`` (0-based), ``outage`` seconds
    after the connection was lost: capped exponential backoff with equal jitter."""
    cap = FAST_RETRY_CAP if outage < FAST_RETRY_WINDOW else SLOW_RETRY_CAP
    step = min(cap, 2 * MIN_RETRY_DELAY * 2.0 ** min(attempt, 16))
    jitter = rng.uniform(0, step / 2) if rng is not None else random.uniform(0, step / 2)
    return step / 2 + jitter


def describe_error(error: BaseException, *, tls: bool = False) -> str:
    """A short, readable reason for a failed connection attempt (``tls``: over TLS)."""
    if tls and isinstance(error, ConnectionResetError | ConnectionAbortedError | ssl.SSLEOFError):
        return "TLS: the broker closed the connection during the handshake (not a TLS port?)"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS: certificate verify failed: {error.verify_message!s}"
    if isinstance(error, ssl.SSLError):
        return f"TLS: {_clean_ssl_text(str(error))}"
    if isinstance(error, mqtt.WebsocketConnectionError):
        return f"WebSocket handshake failed: {error}"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror})"
    if isinstance(error, TimeoutError):
        return "connection timed out"
    if isinstance(error, OSError):
        return error.strerror or str(error) or type(error).__name__
    return f"{type(error).__name__}: {error}"


def tls_files_problem(broker: BrokerConfig) -> str:
    """Why the broker's CA, certificate or key file cannot be loaded ('' if they can)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if broker.ca_file is not None:
        try:
            context.load_verify_locations(str(broker.ca_file))
        except (OSError, ssl.SSLError) as error:
            return f"cannot load ca_file {broker.ca_file}: {_clean_ssl_text(str(error))}"
    if broker.cert_file is not None:
        try:
            context.load_cert_chain(
                str(broker.cert_file), str(broker.key_file) if broker.key_file else None
            )
        except (OSError, ssl.SSLError) as error:
            return (
                f"cannot load cert_file {broker.cert_file} with key_file {broker.key_file}: "
                f"{_clean_ssl_text(str(error))}"
            )
    return ""


def _clean_ssl_text(text: str) -> str:
    """'[SSL: X] some reason (_ssl.c:1006)' → 'some reason'."""
    text = re.sub(r"^\[[A-Z0-9_]+(: [A-Z0-9_]+)?\] ", "", text)
    return re.sub(r" \(_ssl\.c:\d+\)$", "", text)


def _close_sockets_in(error: BaseException) -> None:
    """Close sockets left open by a failed connect.

    paho does not close the socket when the TLS or WebSocket handshake fails; it is only
    referenced by the exception's traceback, and would be closed (with a ResourceWarning)
    whenever that is freed. Closing it here is prompt and quiet.
    """
    for frame, _line in traceback.walk_tb(error.__traceback__):
        for value in frame.f_locals.values():
            if isinstance(value, socket.socket):
                value.close()


class _PahoErrors(logging.Handler):
    """Keeps the last socket error paho logged (why a read failed) for DOWN details, and
    passes exceptions raised in our callbacks on to the log as errors."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if " on socket: " in message:
            self.last = message.rsplit(" on socket: ", 1)[-1]
            log.debug("paho: %s", message)
        elif message.startswith("Caught exception"):
            log.error("paho: %s", message)
        else:
            log.debug("paho: %s", message)


class MqttFeedClient:
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
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.broker = broker
        self._sink = sink
        self._clock = clock
        self._lock = threading.RLock()
        self._feeds: dict[str, FeedConfig] = {}
        self._paused: set[str] = set()
        for feed in feeds:
            self._check_new_feed(feed)
            self._feeds[feed.name] = feed
        # filter -> names of the active feeds using it; replaced, never mutated (read lock-free)
        self._routes: dict[str, tuple[str, ...]] = {}
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

        self._stop_requested = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        self._last_event: tuple[FeedState, str, tuple[str, ...]] | None = None
        self._missing_password = ""
        self._setup_error = ""
        self._random = random.Random()

        persistent = not broker.clean_session
        if persistent and not broker.client_id:
            log.warning(
                "broker %s: a persistent session needs a fixed client_id; using a random one",
                broker.name,
            )
        self.client_id = broker.client_id or f"cityops-{uuid.uuid4().hex[:12]}"
        self._v5 = broker.protocol == "5"
        transport: Literal["tcp", "websockets"] = (
            "websockets" if broker.address.websocket else "tcp"
        )
        if self._v5:
            self._client = mqtt.Client(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=self.client_id,
                protocol=mqtt.MQTTv5,
                transport=transport,
            )
        else:
            self._client = mqtt.Client(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=self.client_id,
                protocol=mqtt.MQTTv311,
                clean_session=broker.clean_session,
                transport=transport,
            )
        self._client.suppress_exceptions = True
        self._paho_errors = _PahoErrors()
        paho_logger = logging.Logger("cityops.mqtt.paho", logging.WARNING)
        paho_logger.propagate = False
        paho_logger.addHandler(self._paho_errors)
        self._client.enable_logger(paho_logger)
        if broker.address.websocket:
            self._client.ws_set_options(path=broker.ws_path)
        if broker.address.tls:
            self._configure_tls()
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_unrouted_message
        self._update_routes()

    # -- public API ----------------------------------------------------------------------
    @property
    def label(self) -> str:
        """How connection events name this broker (its URL)."""
        return self.broker.address.url

    @property
    def connected(self) -> bool:
        """True while the broker has accepted the connection."""
        return self._connected

    @property
    def feeds(self) -> tuple[FeedConfig, ...]:
        """Every feed of this client, paused ones included, in the order they were added."""
        with self._lock:
            return tuple(self._feeds.values())

    @property
    def paused(self) -> frozenset[str]:
        """Names of the paused feeds."""
        with self._lock:
            return frozenset(self._paused)

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
            if self._setup_error:
                log.error("broker %s cannot be used: %s", self.label, self._setup_error)
                self._emit(FeedState.DOWN, self._setup_error)
                return
            self._started = True
            self._stop_requested.clear()
            self._prepare_credentials()
            self._client.connect_async(
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
    def _check_new_feed(self, feed: FeedConfig) -> None:
        if feed.name in self._feeds:
            raise ValueError(f"a feed named {feed.name!r} already exists")
        problem = topic_filter_problem(feed.topic)
        if problem:
            raise ValueError(f"feed {feed.name!r}: {problem}: {feed.topic!r}")
        if feed.qos not in (0, 1, 2):
            raise ValueError(f"feed {feed.name!r}: qos must be 0, 1 or 2, got {feed.qos}")

    def _require(self, name: str) -> None:
        if name not in self._feeds:
            raise KeyError(f"no feed named {name!r} on {self.label}")

    def _configure_tls(self) -> None:
        broker = self.broker
        problem = tls_files_problem(broker)
        if problem:
            self._setup_error = f"TLS: {problem}"
            return
        self._client.tls_set(
            ca_certs=str(broker.ca_file) if broker.ca_file else None,
            certfile=str(broker.cert_file) if broker.cert_file else None,
            keyfile=str(broker.key_file) if broker.key_file else None,
            cert_reqs=ssl.CERT_REQUIRED,
        )
        if not broker.verify_hostname:
            log.warning(
                "broker %s: TLS host name verification is OFF (verify_hostname = false); "
                "any server with a certificate from the trusted CA is accepted",
                broker.address.url,
            )
            self._client.tls_insecure_set(True)

    def _prepare_credentials(self) -> None:
        broker = self.broker
        if not broker.username:
            return
        password = broker.password()
        self._missing_password = ""
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
        self._client.username_pw_set(broker.username, password)

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
        for topic in self._routes.keys() - routes.keys():
            self._client.message_callback_remove(topic)
        for topic in routes.keys() - self._routes.keys():
            self._client.message_callback_add(topic, self._router(topic))
        self._routes = routes
        self._dirty.set()

    # -- events --------------------------------------------------------------------------
    def _active_feed_names(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(name for name in self._feeds if name not in self._paused)

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
        self._connack_at = None
        self._refused = ""
        self._refused_credentials = False
        self._paho_errors.last = ""
        try:
            client.reconnect()
        except Exception as error:
            _close_sockets_in(error)
            self._report_down(describe_error(error, tls=self.broker.address.tls))
            return None
        opened = time.monotonic()
        closing_since: float | None = None
        while True:
            if self._stop_requested.is_set() and closing_since is None:
                closing_since = time.monotonic()
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
            try:
                if client.loop(LOOP_INTERVAL) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
                if closing_since is not None:
                    if time.monotonic() - closing_since > 2.0:
                        break
                elif self._connack_at is not None and self._dirty.is_set():
                    self._sync_subscriptions()
            except Exception as error:  # a paho or callback bug: drop this connection, retry
                log.exception("MQTT connection to %s failed unexpectedly", self.label)
                self._report_down(f"internal error: {type(error).__name__}: {error}")
                break  # the next reconnect() closes the socket
        self._connected = False
        if self._connack_at is None:
            return None
        return time.monotonic() - self._connack_at

    def _sync_subscriptions(self) -> None:
        """Bring the broker's subscriptions in line with the active feeds."""
        with self._lock:
            self._dirty.clear()
            wanted: dict[str, int] = {}
            for feed in self._feeds.values():
                if feed.name not in self._paused:
                    wanted[feed.topic] = max(wanted.get(feed.topic, 0), feed.qos)
        stale = [topic for topic in self._subscribed if topic not in wanted]
        fresh = [
            (topic, qos) for topic, qos in wanted.items() if self._subscribed.get(topic) != qos
        ]
        if stale:
            result, _mid = self._client.unsubscribe(stale)
            if result != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._dirty.set()
                return
            for topic in stale:
                del self._subscribed[topic]
            log.debug("unsubscribed %s from %s", stale, self.label)
        if fresh:
            result, mid = self._client.subscribe(fresh)
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
        _client: mqtt.Client,
        _userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self._refused = self._refusal_detail(reason_code)
            self._refused_credentials = reason_code.value in _CREDENTIAL_REFUSALS
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
        self._sync_subscriptions()

    def _refusal_detail(self, reason_code: ReasonCode) -> str:
        if reason_code.value in (_BAD_CREDENTIALS, _NOT_AUTHORISED):
            detail = "not authorised"
            if reason_code.value == _BAD_CREDENTIALS:
                detail += " (bad user name or password)"
            if self._missing_password:
                detail += f": {self._missing_password}"
            return detail
        return f"refused by the broker: {reason_code}"

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
        if self._paho_errors.last:
            detail += f": {_clean_ssl_text(self._paho_errors.last)}"
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

    def _router(self, topic_filter: str) -> Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None]:
        def route(_client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
            names = self._routes.get(topic_filter, ())
            if not names:
                return  # paused or removed a moment ago
            try:
                topic = message.topic
            except UnicodeDecodeError:
                log.warning("dropped a message with a topic that is not UTF-8 on %s", self.label)
                return
            received = self._clock()
            payload = bytes(message.payload)
            for name in names:
                self._send(RawMessage(name, topic, payload, received, bool(message.retain)))

        return route

    def _on_unrouted_message(
        self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage
    ) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = "(not UTF-8)"
        log.debug("a message on %r matches no active feed of %s; dropped", topic, self.label)
