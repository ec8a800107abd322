"""Publish the simulated city to any MQTT broker at a controlled rate (``cityops sim``).

Two modes:

- **city pace** (no rate): every device of the (possibly scaled) city sends once per
  ``interval`` seconds, as the embedded demo does, for watching the demo on a real broker;
- **paced rate**: ``rate`` messages per second in total, spread evenly over time (each
  message has its own slot, ``1/rate`` apart; bursts are at most one millisecond's worth),
  drawn from the simulator's steps so that every format and scenario is exercised.

``processes > 1`` splits the devices and the rate over that many processes (``spawn``),
each with its own connection, started together; the report adds them up; ``processes=0``
picks enough processes for the rate (``SINGLE_PROCESS_RATE`` each).

Measured on the 2-core reference machine against a local mosquitto, QoS 0, 1000 devices:
one process holds 20,000 msg/s at about 90 % of a core and tops out at 23,000-26,000 msg/s;
two processes reach 40,000-42,000 msg/s (the machine is then saturated: 1.7 cores for the
publishers, 0.3 for mosquitto). QoS 1 costs about twice as much per message in paho
(about 10,000 msg/s per process). Half of the per-message cost is paho's ``publish``.

The achieved rate is the number of messages the client library handed to the broker
connection (written to the socket for QoS 0, acknowledged for QoS 1 and 2) divided by the
publishing time (the duration, or longer when the broker held acknowledgements back).
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import paho.mqtt.client as mqtt

from services.addresses import BrokerAddress, parse_broker_url
from services.config import BrokerConfig
from services.demo.city import load_demo_city
from services.demo.scenarios import get_scenario
from services.demo.simulator import RETAINED_PREFIXES, CitySimulator
from services.feeds.mqtt.paho import new_client

log = logging.getLogger(__name__)

SINGLE_PROCESS_RATE = 20_000.0
"""Messages per second one process is counted on for ``processes=0`` (measured, see above)."""
MAX_BURST_S = 0.001
"""Publish at most this many seconds' worth of messages back to back."""
CONNECT_TIMEOUT_S = 10.0
FLUSH_TIMEOUT_S = 10.0
UNLIMITED = 1 << 62
SERVICE_EVERY_S = 0.01
"""How often the network is serviced (acknowledgements, keep-alive) while publishing."""


class LoadError(Exception):
    """The load could not be generated (broker unreachable, refused, connection lost)."""


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """What to publish, where and how fast."""

    broker: str = "mqtt://127.0.0.1:1883"
    rate: float | None = None
    """Messages per second in total; None: every device once per ``interval``."""
    entities: int | None = None
    """Devices to simulate; None: the demo city's own."""
    duration: float = 0.0
    """Seconds to publish; 0: until stopped."""
    scenario: str = "normal"
    qos: int = 0
    seed: int = 0
    speed: float = 1.0
    processes: int = 1
    """Publishing processes; 0: as many as the rate needs (up to the CPU count)."""
    interval: float = 1.0
    username: str = ""
    password: str | None = field(default=None, repr=False)
    ca_file: str = ""

    def check(self) -> BrokerAddress:
        """Validate the options; returns the broker address. ValueError with a reason."""
        address = parse_broker_url(self.broker)
        if self.rate is not None and not (self.rate > 0 and math.isfinite(self.rate)):
            raise ValueError(f"rate must be a positive number of messages per second: {self.rate}")
        if self.entities is not None and self.entities < 1:
            raise ValueError(f"entities must be at least 1, got {self.entities}")
        if not (self.duration >= 0 and math.isfinite(self.duration)):
            raise ValueError(f"duration must be 0 (until stopped) or positive: {self.duration}")
        if self.qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, got {self.qos}")
        if not (self.speed > 0 and math.isfinite(self.speed)):
            raise ValueError(f"speed must be positive, got {self.speed}")
        if not (self.interval > 0 and math.isfinite(self.interval)):
            raise ValueError(f"interval must be positive, got {self.interval}")
        if self.processes < 0:
            raise ValueError(f"processes must be 0 (automatic) or more, got {self.processes}")
        get_scenario(self.scenario)
        return address

    def process_count(self) -> int:
        """How many processes will publish."""
        if self.processes:
            return self.processes
        if self.rate is None:
            return 1
        return max(1, min(os.cpu_count() or 1, math.ceil(self.rate / SINGLE_PROCESS_RATE)))


@dataclass(frozen=True, slots=True)
class WorkerResult:
    """What one publishing process did."""

    published: int = 0
    delivered: int = 0
    failed: int = 0
    elapsed: float = 0.0
    cpu_seconds: float = 0.0
    entities: int = 0
    error: str = ""


@dataclass(frozen=True, slots=True)
class LoadReport:
    """The outcome of a run, all processes together."""

    options: LoadOptions
    processes: int
    published: int
    delivered: int
    failed: int
    elapsed: float
    cpu_seconds: float
    entities: int
    errors: tuple[str, ...] = ()

    @property
    def rate(self) -> float:
        """Achieved messages per second (delivered to the broker connection)."""
        return self.delivered / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def kept_up(self) -> bool:
        """Whether the achieved rate is within 5 % of the target (True without a target)."""
        target = self.options.rate
        return target is None or self.rate >= 0.95 * target

    def summary(self) -> str:
        """One line for the terminal."""
        target = (
            f"target {self.options.rate:.0f} msg/s"
            if self.options.rate is not None
            else f"city pace, every {self.options.interval:g} s"
        )
        plural = "process" if self.processes == 1 else "processes"
        cpu = self.cpu_seconds / self.elapsed * 100.0 if self.elapsed > 0 else 0.0
        return (
            f"cityops sim: {self.delivered} messages in {self.elapsed:.2f} s = "
            f"{self.rate:.0f} msg/s ({target}); {self.processes} {plural}, "
            f"QoS {self.options.qos}, {self.entities} entities, scenario "
            f"{self.options.scenario}, CPU {self.cpu_seconds:.1f} s ({cpu:.0f}% of one core)"
        )


def run_load(options: LoadOptions, stop: threading.Event | None = None) -> LoadReport:
    """Publish as ``options`` say until the duration is over or ``stop`` is set.

    Raises LoadError when no process could publish at all (for example when the broker is
    unreachable); partial failures are listed in ``LoadReport.errors``.
    """
    options.check()
    stop = stop or threading.Event()
    count = options.process_count()
    if count == 1:
        results = [_publish(options, 0, 1, stop, None)]
    else:
        results = _run_processes(replace(options, processes=count), count, stop)
    errors = tuple(result.error for result in results if result.error)
    if errors and not any(result.delivered for result in results):
        raise LoadError(errors[0])
    return LoadReport(
        options=options,
        processes=count,
        published=sum(result.published for result in results),
        delivered=sum(result.delivered for result in results),
        failed=sum(result.failed for result in results),
        elapsed=max(result.elapsed for result in results),
        cpu_seconds=sum(result.cpu_seconds for result in results),
        entities=sum(result.entities for result in results),
        errors=errors,
    )


# -- several processes -------------------------------------------------------------------


def _run_processes(options: LoadOptions, count: int, stop: threading.Event) -> list[WorkerResult]:
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    halt = context.Event()
    start_at = context.Value("d", 0.0)
    reports: Any = context.Queue()
    workers = [
        context.Process(
            target=_worker_main,
            kwargs={
                "options": options,
                "shard": shard,
                "shards": count,
                "go": go,
                "halt": halt,
                "start_at": start_at,
                "reports": reports,
            },
            name=f"cityops-sim-{shard}",
            daemon=True,
        )
        for shard in range(count)
    ]
    for worker in workers:
        worker.start()
    results: list[WorkerResult] = []
    try:
        ready = 0
        deadline = time.monotonic() + 60.0
        while ready < count and time.monotonic() < deadline and not stop.is_set():
            try:
                message = reports.get(timeout=0.2)
            except queue.Empty:
                if not any(worker.is_alive() for worker in workers):
                    break
                continue
            if message == "ready":
                ready += 1
            else:
                results.append(message)
                count -= 1  # a worker that failed to connect reports at once
        start_at.value = time.time() + 0.2
        go.set()
        limit = options.duration + FLUSH_TIMEOUT_S + 30.0 if options.duration else math.inf
        deadline = time.monotonic() + limit
        while len(results) < len(workers) and time.monotonic() < deadline:
            if stop.is_set():
                halt.set()
            try:
                results.append(reports.get(timeout=0.2))
            except queue.Empty:
                if not any(worker.is_alive() for worker in workers):
                    break
    finally:
        halt.set()
        go.set()
        for worker in workers:
            worker.join(FLUSH_TIMEOUT_S)
            if worker.is_alive():
                worker.terminate()
                worker.join()
    missing = len(workers) - len(results)
    results.extend(
        WorkerResult(error="a publishing process ended without a report") for _ in range(missing)
    )
    return results


def _worker_main(
    *,
    options: LoadOptions,
    shard: int,
    shards: int,
    go: Any,
    halt: Any,
    start_at: Any,
    reports: Any,
) -> None:
    """Entry point of one publishing process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop

    def wait_for_go() -> float:
        reports.put("ready")
        go.wait()
        return float(start_at.value)

    reports.put(_publish(options, shard, shards, halt, wait_for_go))


class _Stop(Protocol):
    """A threading or multiprocessing event, as far as the publishing loop needs one."""

    def is_set(self) -> bool: ...


# -- one publisher -----------------------------------------------------------------------


class _Connection:
    """Connection state reported by paho's callbacks."""

    def __init__(self) -> None:
        self.connected = threading.Event()
        self.refused = ""

    def on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: Any, props: object
    ) -> None:
        if reason.is_failure:
            self.refused = str(reason)
        else:
            self.connected.set()


def _client(options: LoadOptions, address: BrokerAddress, shard: int) -> mqtt.Client:
    broker = BrokerConfig(
        options.broker,
        address,
        username=options.username,
        ca_file=Path(options.ca_file) if options.ca_file else None,
    )
    try:
        client = new_client(broker, f"cityops-sim-{os.getpid()}-{shard}", password=options.password)
    except ValueError as error:  # an unusable CA file
        raise LoadError(str(error)) from None
    if options.qos:
        client.max_inflight_messages_set(1000)
    return client


def _connect(client: mqtt.Client, address: BrokerAddress, counters: _Connection) -> None:
    try:
        client.connect(address.host, address.port, keepalive=30)
    except (OSError, ValueError) as error:
        raise LoadError(f"cannot reach broker {address.url}: {error}") from None
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while not counters.connected.is_set():
        if counters.refused:
            raise LoadError(f"broker {address.url} refused the connection: {counters.refused}")
        if time.monotonic() > deadline:
            raise LoadError(f"no answer from broker {address.url} within {CONNECT_TIMEOUT_S:g} s")
        rc = client.loop(timeout=0.05)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise LoadError(f"connection to {address.url} failed: {mqtt.error_string(rc)}")


def _messages(simulator: CitySimulator) -> Iterator[tuple[str, bytes]]:
    """The simulator's messages, one step after another, each step at the time it is taken."""
    while True:
        yield from simulator.step(time.time())


def _publish(
    options: LoadOptions,
    shard: int,
    shards: int,
    stop: _Stop,
    wait_for_go: Any,
) -> WorkerResult:
    cpu_start = time.process_time()
    address = options.check()
    simulator = CitySimulator(
        load_demo_city(),
        seed=options.seed,
        scenario=options.scenario,
        speed=options.speed,
        entities=options.entities,
        shard=shard,
        shards=shards,
    )
    connection = _Connection()
    try:
        client = _client(options, address, shard)
        client.on_connect = connection.on_connect
        _connect(client, address, connection)
    except LoadError as error:
        return WorkerResult(error=str(error), entities=len(simulator.stations))
    publisher = _Pacer(client, options, shards)
    try:
        if wait_for_go is not None:
            begin = wait_for_go()
            while time.time() < begin and not stop.is_set():
                client.loop(timeout=min(0.05, max(0.0, begin - time.time())))
        if options.rate is None:
            publisher.city_pace(simulator, stop)
        else:
            publisher.paced(_messages(simulator), stop)
        publisher.flush()
    except LoadError as error:
        publisher.error = str(error)
    finally:
        try:
            client.disconnect()
            client.loop(timeout=0.05)
        except Exception:
            log.debug("error while disconnecting", exc_info=True)
    return WorkerResult(
        published=publisher.published,
        delivered=publisher.delivered,
        failed=publisher.failed,
        elapsed=publisher.elapsed,
        cpu_seconds=time.process_time() - cpu_start,
        entities=len(simulator.stations),
        error=publisher.error,
    )


class _Pacer:
    """The publishing loop of one connection.

    Delivery is tracked with paho's ``MQTTMessageInfo`` (set when a QoS 0 message has been
    written, or a QoS 1/2 message acknowledged) rather than ``on_publish``, whose per-message
    objects cost more than the rest of the publishing.
    """

    def __init__(self, client: mqtt.Client, options: LoadOptions, shards: int) -> None:
        self.client = client
        self.options = options
        self.rate = (options.rate or 0.0) / shards
        self.published = 0
        self.delivered = 0
        self.failed = 0
        self.elapsed = 0.0
        self.error = ""
        self._in_flight: deque[mqtt.MQTTMessageInfo] = deque()
        self._started = 0.0
        self._next_service = 0.0
        self._backlog_limit = max(1000, int(self.rate * 0.5))

    def _send(self, topic: str, payload: bytes) -> None:
        retain = topic.startswith(RETAINED_PREFIXES) and CitySimulator.retained(topic)
        info = self.client.publish(topic, payload, qos=self.options.qos, retain=retain)
        if info.rc == mqtt.MQTT_ERR_SUCCESS:
            self.published += 1
            self._in_flight.append(info)
        elif info.rc == mqtt.MQTT_ERR_NO_CONN:
            raise LoadError(f"connection lost after {self.published} messages")
        else:
            self.failed += 1

    def backlog(self) -> int:
        """Messages published but not yet written (QoS 0) or acknowledged (QoS 1, 2)."""
        in_flight = self._in_flight
        while in_flight and in_flight[0].is_published():
            in_flight.popleft()
            self.delivered += 1
        return len(in_flight)

    def _service(self, now: float, timeout: float = 0.0) -> None:
        if timeout > 0 or now >= self._next_service:
            rc = self.client.loop(timeout=timeout)
            if rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_AGAIN):
                raise LoadError(
                    f"connection lost after {self.published} messages: {mqtt.error_string(rc)}"
                )
            self._next_service = now + SERVICE_EVERY_S

    def paced(self, messages: Iterator[tuple[str, bytes]], stop: _Stop) -> None:
        """``rate`` messages per second, each in its own time slot, until the duration ends.

        Slot ``k`` opens at ``k / rate`` seconds; all open slots are served at once, at most
        ``MAX_BURST_S`` worth per go. Slots still open at the end (a late wake-up) are served
        when they are few; a publisher that cannot keep up simply ends short.
        """
        rate = self.rate
        duration = self.options.duration
        total = int(rate * duration) if duration else UNLIMITED
        burst = max(1, int(rate * MAX_BURST_S))
        start = time.monotonic()
        self._started = start
        end = start + duration if duration else math.inf
        sent = 0
        while sent < total and not stop.is_set():
            now = time.monotonic()
            due = min(int((now - start) * rate) + 1, total) - sent
            if now >= end:
                if 0 < due <= 4 * burst:
                    for _ in range(due):
                        self._send(*next(messages))
                    sent += due
                break
            if due <= 0:
                # sleep until a whole burst is due (one wake-up per millisecond at most)
                wait = start + (sent + burst - 1) / rate - now
                time.sleep(max(0.0, min(wait, end - now, SERVICE_EVERY_S)))
                self._service(time.monotonic())
                continue
            if self.backlog() > self._backlog_limit:  # the broker is not keeping up
                self._service(now, timeout=MAX_BURST_S)
                continue
            count = min(due, burst)
            for _ in range(count):
                self._send(*next(messages))
            sent += count
            self._service(now)
        finished = time.monotonic() - start
        self.elapsed = max(duration, finished) if duration else finished

    def city_pace(self, simulator: CitySimulator, stop: _Stop) -> None:
        """Every device once per ``interval`` (the embedded demo's pace)."""
        interval = self.options.interval
        duration = self.options.duration
        start = time.monotonic()
        self._started = start
        end = start + duration if duration else math.inf
        due = start
        while not stop.is_set():
            now = time.monotonic()
            if now >= end:
                break
            if now >= due:
                for topic, payload in simulator.step(time.time()):
                    self._send(topic, payload)
                due += interval
                if due < now:
                    due = now + interval
            self._service(now, timeout=max(0.0, min(due, end) - time.monotonic()))
        self.elapsed = time.monotonic() - start

    def flush(self) -> None:
        """Wait until everything published has been written (QoS 0) or acknowledged.

        Waiting for acknowledgements after the duration counts as publishing time.
        """
        deadline = time.monotonic() + FLUSH_TIMEOUT_S
        waited = False
        while self.backlog() and time.monotonic() < deadline:
            waited = True
            self._service(time.monotonic(), timeout=0.01)
        if waited:
            self.elapsed = max(self.elapsed, time.monotonic() - self._started)
        self.delivered += sum(1 for info in self._in_flight if info.is_published())
        self._in_flight.clear()
