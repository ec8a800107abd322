"""Publishing the simulated city to an MQTT broker: the embedded demo's feed.

``DemoPublisher(url, simulator).start()`` publishes ``simulator.step(time.time())`` once per
interval from its own thread, warnings and the asset register retained (see
:meth:`CitySimulator.retained`). ``cityops sim`` uses :mod:`services.demo.loadgen` instead,
which paces a given rate over several processes.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt

from services.addresses import parse_broker_url
from services.config import BrokerConfig
from services.demo.simulator import CitySimulator
from services.feeds.mqtt.paho import new_client

log = logging.getLogger(__name__)

_MIN_BACKOFF_S = 0.2
_MAX_BACKOFF_S = 5.0


class DemoPublisher:
    """Publishes ``simulator.step(time.time())`` to an MQTT broker every ``interval`` seconds.

    Runs in its own daemon thread with a paho-mqtt (v2 callback API) client. Until the broker
    is reachable it retries with exponential backoff; errors are logged, never raised.
    """

    def __init__(self, url: str, simulator: CitySimulator, *, interval: float = 1.0) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        self._broker = BrokerConfig(url, parse_broker_url(url))
        self._simulator = simulator
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connected = False
        self._published = 0

    @property
    def messages_published(self) -> int:
        """How many messages were handed to the broker connection so far."""
        return self._published

    @property
    def connected(self) -> bool:
        """True while the broker has accepted the connection."""
        return self._connected

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start publishing in a daemon thread (no-op when already running)."""
        with self._lock:
            if self.running:
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="cityops-demo-publisher", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop publishing, disconnect and join the thread. Safe to call more than once."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
            if thread is not None:
                thread.join(timeout)
                if thread.is_alive():
                    log.warning("demo publisher thread did not stop within %.1f s", timeout)

    # -- thread --------------------------------------------------------------------------

    def _run(self) -> None:
        client: mqtt.Client | None = None
        try:
            client = new_client(self._broker, client_id="")
            client.on_connect = self._on_connect
            client.on_disconnect = self._on_disconnect
            self._publish_loop(client)
        except Exception:
            log.exception("demo publisher stopped after an unexpected error")
        finally:
            if client is not None:
                self._close(client)

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: Any, props: object
    ) -> None:
        if reason.is_failure:
            log.warning("broker %s refused the demo publisher: %s", self._broker.url, reason)
            return
        self._connected = True
        log.info("demo publisher connected to %s", self._broker.url)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: Any, props: object
    ) -> None:
        if self._connected and not self._stop.is_set():
            log.warning("demo publisher lost the connection to %s: %s", self._broker.url, reason)
        self._connected = False

    def _publish_loop(self, client: mqtt.Client) -> None:
        backoff = _MIN_BACKOFF_S
        failures = 0
        socket_open = False
        next_due = time.monotonic()
        while not self._stop.is_set():
            if not socket_open:
                try:
                    client.connect(
                        self._broker.address.host, self._broker.address.port, keepalive=30
                    )
                    socket_open = True
                    failures = 0
                    backoff = _MIN_BACKOFF_S
                except (OSError, ValueError) as exc:
                    failures += 1
                    level = logging.WARNING if failures == 1 else logging.DEBUG
                    log.log(
                        level, "cannot reach broker %s yet (%s); retrying", self._broker.url, exc
                    )
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2.0, _MAX_BACKOFF_S)
                    continue
            wait = 0.1
            if self._connected:
                wait = max(0.0, min(wait, next_due - time.monotonic()))
            rc = client.loop(timeout=wait)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                self._connected = False
                socket_open = False
                log.debug("demo publisher network loop ended: %s", mqtt.error_string(rc))
                self._stop.wait(backoff)
                continue
            now = time.monotonic()
            if self._connected and now >= next_due:
                self._publish_batch(client)
                next_due = max(next_due + self._interval, now)

    def _publish_batch(self, client: mqtt.Client) -> None:
        simulator = self._simulator
        for topic, payload in simulator.step(time.time()):
            info = client.publish(topic, payload, qos=0, retain=simulator.retained(topic))
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                self._published += 1
            else:
                log.debug("publish to %s failed: %s", topic, mqtt.error_string(info.rc))
                break

    def _close(self, client: mqtt.Client) -> None:
        try:
            if client.socket() is not None:
                client.disconnect()
                for _ in range(10):
                    if client.socket() is None:
                        break
                    client.loop(timeout=0.05)
        except Exception:
            log.debug("error while disconnecting the demo publisher", exc_info=True)
        self._connected = False
