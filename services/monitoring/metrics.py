"""Prometheus metrics from the newest :class:`HealthSnapshot`, served over HTTP.

:class:`HealthCollector` turns the snapshot into metric families when scraped;
:class:`MetricsServer` serves them, with the process metrics (resident memory, CPU, open
files) of prometheus-client's process collector, on its own thread (``cityops-metrics``).
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from services.config import AppConfig
from services.config.listen import ListenAddress
from services.model import CacheState
from services.monitoring.snapshot import HealthSnapshot, KioskSample

log = logging.getLogger(__name__)

SNAPSHOT_INTERVAL_S = 1.0
"""How often the GUI thread publishes a snapshot."""
SNAPSHOT_FRESH_S = 5.0
"""An older snapshot means the GUI thread is stuck, so the display is not live either."""


class MetricsError(Exception):
    """The metrics endpoint cannot be served (bad host, port in use, no permission)."""


class HealthCollector:
    """A prometheus-client collector over the newest published :class:`HealthSnapshot`.

    :meth:`publish` is called from one thread (the GUI's), :meth:`collect` from the server's;
    a snapshot is immutable and replacing the reference is atomic, so no lock is needed.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._monotonic = monotonic
        self._snapshot: HealthSnapshot | None = None

    def publish(self, snapshot: HealthSnapshot) -> None:
        """Make ``snapshot`` the one the next scrape reports."""
        self._snapshot = snapshot

    @property
    def snapshot(self) -> HealthSnapshot | None:
        return self._snapshot

    def collect(self) -> Iterator[Metric]:
        """The metric families of the newest snapshot (only ``cityops_display_live`` = 0
        before the first)."""
        snapshot = self._snapshot
        if snapshot is None:
            yield _gauge("cityops_display_live", DISPLAY_LIVE_HELP, 0)
            return
        now = self._clock()
        age = max(0.0, self._monotonic() - snapshot.taken_monotonic)
        fresh = age <= SNAPSHOT_FRESH_S
        yield _gauge("cityops_display_live", DISPLAY_LIVE_HELP, snapshot.display_live and fresh)
        yield _gauge(
            "cityops_health_snapshot_age_seconds",
            "Seconds since the window last reported its state (over 5 s: the GUI is stuck)",
            age,
        )
        # A GUI thread that has not run the snapshot timer for a while is that late now.
        lag = max(snapshot.event_loop_lag, age - SNAPSHOT_INTERVAL_S)
        yield _gauge(
            "cityops_event_loop_lag_seconds",
            "Longest delay of the GUI event loop over the last 10 seconds",
            lag,
        )
        yield from self._feeds(snapshot, now)
        brokers = GaugeMetricFamily(
            "cityops_broker_up", "1 when connected to the MQTT broker", labels=["broker"]
        )
        for broker in snapshot.brokers:
            brokers.add_metric([broker.name], int(broker.up))
        yield brokers
        yield from self._cache(snapshot)
        active = GaugeMetricFamily(
            "cityops_alarms_active",
            "Alarms whose condition is present, by priority",
            labels=["priority"],
        )
        for severity, count in snapshot.alarms_active:
            active.add_metric([severity.label], count)
        yield active
        yield _gauge(
            "cityops_alarms_unacknowledged",
            "Alarms waiting for an operator's acknowledgement",
            snapshot.alarms_unacknowledged,
        )
        if snapshot.kiosk is not None:
            yield from self._kiosk(snapshot.kiosk)

    @staticmethod
    def _kiosk(kiosk: KioskSample) -> Iterator[Metric]:
        page = GaugeMetricFamily(
            "cityops_kiosk_page", "1 for the page the wall shows, 0 for the others", labels=["page"]
        )
        for name in dict.fromkeys((*kiosk.pages, kiosk.showing)):
            page.add_metric([name], int(name == kiosk.showing))
        yield page
        yield CounterMetricFamily(
            "cityops_kiosk_rotations", "Times the wall moved to its next page", kiosk.rotations
        )
        yield CounterMetricFamily(
            "cityops_webview_restarts",
            "Times the wall's web view was reloaded after its renderer crashed",
            kiosk.webview_restarts,
        )

    @staticmethod
    def _feeds(snapshot: HealthSnapshot, now: float) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "cityops_feed_up",
            "1 when the feed is connected and delivering (not down, stale, failing or paused)",
            labels=["feed"],
        )
        state = GaugeMetricFamily(
            "cityops_feed_state", "1 for the feed's current state", labels=["feed", "state"]
        )
        age = GaugeMetricFamily(
            "cityops_feed_last_message_age_seconds",
            "Seconds since the feed's last message (absent before its first)",
            labels=["feed"],
        )
        messages = CounterMetricFamily(
            "cityops_messages", "Messages received from the feed", labels=["feed"]
        )
        dead = CounterMetricFamily(
            "cityops_dead_letters",
            "Messages of the feed that could not be decoded (dead letters)",
            labels=["feed"],
        )
        for feed in snapshot.feeds:
            up.add_metric([feed.name], int(feed.up))
            state.add_metric([feed.name, feed.state.value], 1)
            if feed.last_message_at is not None:
                age.add_metric([feed.name], max(0.0, now - feed.last_message_at))
            messages.add_metric([feed.name], feed.messages)
            dead.add_metric([feed.name], feed.dead_letters)
        yield from (up, state, age, messages, dead)

    @staticmethod
    def _cache(snapshot: HealthSnapshot) -> Iterator[Metric]:
        cache = snapshot.cache
        yield _gauge(
            "cityops_cache_writable",
            "1 when the offline cache is storing what arrives (not degraded or damaged)",
            cache.state is CacheState.OK,
        )
        yield _gauge(
            "cityops_cache_backlog_readings",
            "Readings waiting in memory because the offline cache cannot take them",
            cache.backlog_readings,
        )
        yield CounterMetricFamily(
            "cityops_cache_dropped_readings",
            "Readings dropped because the in-memory backlog was full",
            value=cache.dropped_readings,
        )


DISPLAY_LIVE_HELP = "1 only when what the window shows is live and fresh (no NOT LIVE banner)"


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


class MetricsServer:
    """Serves the registry's metrics over HTTP (any path; ``/metrics`` by convention).

    The registry holds the :class:`HealthCollector` and the process collector; more
    collectors can be registered on :attr:`registry` before or after :meth:`start`.
    """

    def __init__(self, address: ListenAddress, collector: HealthCollector | None = None) -> None:
        self.address = address
        self.collector = collector or HealthCollector()
        self.registry = CollectorRegistry()
        self.registry.register(self.collector)
        ProcessCollector(registry=self.registry)
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen and serve on a daemon thread; MetricsError saying why it cannot."""
        try:
            server, thread = start_http_server(
                self.address.port, self.address.host, registry=self.registry
            )
        except OSError as error:
            raise MetricsError(
                f"cannot serve metrics on {self.address}: {_bind_problem(self.address, error)}"
            ) from None
        thread.name = "cityops-metrics"
        self._server, self._thread = server, thread
        log.info("serving Prometheus metrics on %s", self.url)
        if not self.address.is_loopback:
            log.warning(
                "metrics are served on %s: other machines can read them", self.bound_address
            )

    @property
    def bound_address(self) -> ListenAddress:
        """The address actually listened on (the real port when 0 was asked for)."""
        if self._server is None:
            return self.address
        return ListenAddress(self.address.host, int(self._server.server_address[1]))

    @property
    def url(self) -> str:
        return f"http://{self.bound_address}/metrics"

    def stop(self) -> None:
        """Stop serving and close the socket (does nothing when not started)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)


def _bind_problem(address: ListenAddress, error: OSError) -> str:
    if isinstance(error, socket.gaierror):
        return f"{address.host!r} is not a known host name ({error.strerror})"
    if error.errno == errno.EADDRINUSE:
        return f"port {address.port} is in use by another program"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"{address.host} is not an address of this machine"
    if error.errno == errno.EACCES:
        return f"no permission to listen on port {address.port}"
    return error.strerror or str(error)


def start_metrics(config: AppConfig) -> MetricsServer | None:
    """The health endpoint when the config (or --metrics) asks for one, started; raises
    MetricsError when it cannot listen."""
    listen = config.monitoring.listen
    if listen is None:
        return None
    server = MetricsServer(listen)
    server.start()
    return server
