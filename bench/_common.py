"""What the bench scripts share: a mosquitto of their own, paced publishers, a bare paho
subscriber and CityOps with its window, each in a process of its own.

- :func:`start_broker`: a mosquitto on a free loopback port (``tests.helpers.brokers``),
  with ``$SYS`` counters every second (read with ``bench_soak``'s :class:`BrokerCounters`).
- :class:`Publishers`: the load generator's pacing loop (``services.demo.loadgen``, as
  ``cityops sim --rate`` paces) in one or more spawned processes, started together, for a
  given rate and duration; the messages are either 1-reading JSON (:func:`json_messages`)
  or the demo city in its real formats (the simulator behind ``cityops sim``).
- :class:`BareSubscriber`: the honest reference, a paho client whose ``on_message`` only
  counts, in a process of its own.
- :class:`CityOpsProcess`: the app's session and its workstation window on the demo
  layout (``services.session.CitySession`` + ``ui.runtime.build_window``, offscreen), in a
  process of its own, answering requests for its counters over a pipe; a script may add
  an instrument of its own to it (``CityOpsOptions.instrument``: hooks and views it reads in
  the app's process, asked over the same pipe, on the control or the GUI thread).

Every process is spawned (a fresh interpreter: no GIL shared with another side) and
ignores SIGINT; the script that started them stops them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import multiprocessing
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.config import AppConfig
    from tests.helpers.brokers import MosquittoBroker

log = logging.getLogger("bench")

REPO = Path(__file__).resolve().parents[1]
"""The checkout's root."""
RESULTS = REPO / "bench" / "results"
"""Where the scripts write their figures by default (ignored by git: see :func:`results_file`)."""

SYS_INTERVAL_S = 1
"""mosquitto updates its ``$SYS`` counters this often."""
BENCH_FEED = "bench"
BENCH_TOPIC = "bench/air/#"
"""The bench feed's subscription (1-reading JSON messages on ``bench/air/<station>``)."""
PER_PROCESS_RATE = {"json": 15_000.0, "demo": 10_000.0}
"""Messages per second one publishing process is given, per kind of message. ``cityops sim``
counts on 20,000 (measured on an idle 2-core machine); here the publishers share the
machine with the broker, both subscribers and the app, and one process fell short of 20,000
msg/s of JSON and of 15,000 msg/s of the demo city's formats (its simulator costs more)."""
MESSAGE_KINDS = ("json", "demo")
"""``json``: 1-reading JSON on the bench feed; ``demo``: the demo city's real formats."""

_CONTEXT = multiprocessing.get_context("spawn")


def prepare_environment() -> None:
    """Offscreen Qt and an unsandboxed QtWebEngine unless the caller set them otherwise
    (children inherit the environment)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")


def private_home(root: Path) -> None:
    """Per-user folders (XDG_*) under ``root``: the window's layouts and settings stay out of
    the developer's own (and the window opens on the default layout)."""
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        folder = root / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(folder)


def results_file(name: str) -> Path:
    """``bench/results/<name>``; the folder is made when missing, with a ``.gitignore``
    that keeps every result out of git."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    ignore = RESULTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# figures written by the bench scripts: not committed\n*\n")
    return RESULTS / name


def write_json(path: Path, figures: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n", encoding="utf-8")


def add_app_arguments(parser: argparse.ArgumentParser, script: str) -> None:
    """The options of every script that runs CityOps: how long it may take to get ready,
    where the figures go, its log level and whether its output reaches this terminal."""
    parser.add_argument(
        "--ready-timeout",
        type=float,
        default=120.0,
        help="seconds for CityOps to connect and load its map (default %(default)g)",
    )
    parser.add_argument(
        "--json", type=Path, help=f"figures file (default bench/results/{script}.json)"
    )
    parser.add_argument("--log-level", default="WARNING", help="CityOps' log level")
    parser.add_argument(
        "--engine-in-app",
        action="store_true",
        help="run feeds, decoding, state, alarms and the cache in the window's process "
        "([app] engine_process = false: the design before the engine process)",
    )
    parser.add_argument(
        "--app-output",
        action="store_true",
        help="let CityOps (and Qt, QtWebEngine) write to this terminal (default: a log file, "
        "whose end is shown when CityOps fails)",
    )


def parse_rates(parser: argparse.ArgumentParser, text: str) -> list[float]:
    """``--rates`` as rising messages/s; a usage error (exit 2) when it is not a list of
    positive numbers."""
    try:
        rates = sorted(float(rate) for rate in text.split(",") if rate.strip())
    except ValueError:
        parser.error(f"--rates: not a list of numbers: {text!r}")
    if not rates or any(not (rate > 0 and math.isfinite(rate)) for rate in rates):
        parser.error("--rates must be positive numbers")
    return rates


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` percentile of ``values`` (nearest rank; 0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(len(ordered) * share) - 1))]


# -- the machine and its processes -------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        memory = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    versions: dict[str, str] = {"python": platform.python_version()}
    for package in ("PySide6", "paho-mqtt"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[package] = version(package)
    from tests.helpers.brokers import mosquitto_binary

    binary = mosquitto_binary()
    if binary is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [binary, "-h"], capture_output=True, text=True, timeout=5, check=False
            )
            versions["mosquitto"] = (out.stdout or out.stderr).splitlines()[0].strip()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_bytes": memory,
        "kernel": platform.release(),
        "load_average": os.getloadavg(),
        "versions": versions,
    }


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of one process (None when it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # the name may hold spaces
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def thread_schedstat(pid: int, tid: int | None = None) -> tuple[float, float]:
    """Seconds thread ``tid`` of process ``pid`` (its main thread by default) has run on a
    CPU and has waited, runnable, for one (``/proc/<pid>/task/<tid>/schedstat``; zeros when
    the kernel does not say)."""
    try:
        text = Path(f"/proc/{pid}/task/{tid or pid}/schedstat").read_text(encoding="ascii")
        ran_ns, waited_ns = (int(field) for field in text.split()[:2])
    except (OSError, ValueError):
        return 0.0, 0.0
    return ran_ns / 1e9, waited_ns / 1e9


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (every CPU, all processes: user, nice,
    system, interrupts, steal; not idle or waiting for I/O), from ``/proc/stat``."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()
    except (OSError, IndexError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / _CLOCK_TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and every live process below it (QtWebEngine's renderer and
    helpers for the app)."""
    from tests.benchmarks.bench_soak import descendants

    total = 0.0
    for each in (pid, *descendants(pid)):
        total += cpu_seconds(each) or 0.0
    return total


def child_named(name: str) -> int | None:
    """The pid of a process below this one whose command name is ``name``."""
    from tests.benchmarks.bench_soak import descendants

    for pid in descendants(os.getpid()):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                return pid
    return None


# -- the broker ----------------------------------------------------------------------------


def start_broker(folder: Path) -> MosquittoBroker:
    """A started mosquitto (defaults, anonymous, no persistence) on a free loopback port,
    publishing its ``$SYS`` counters every second."""
    from tests.helpers.brokers import MosquittoBroker

    folder.mkdir(parents=True, exist_ok=True)
    broker = MosquittoBroker(folder, extra_config=f"sys_interval {SYS_INTERVAL_S}\n")
    broker.start()
    return broker


# -- messages ------------------------------------------------------------------------------


def station_id(index: int) -> str:
    return f"bench-{index:05d}"


def json_messages(
    shard: int, shards: int, entities: int, alarming: float
) -> Iterator[tuple[str, bytes]]:
    """1-reading JSON messages (``{"id", "lat", "lon", "pm25", "ts"}``) of the stations
    ``shard, shard + shards, …`` below ``entities``, round and round, on
    ``bench/air/<station>``; positions on a grid over Yiyang. The first ``alarming`` share of
    the stations swing across the PM2.5 thresholds (as ``tests.helpers.ingest`` does), the
    others stay normal. ``ts`` is the time the message is made, never the same twice: each
    message is a reading of its own in the cache (samples are unique per series and time)."""
    swinging = int(entities * alarming)
    stations = []
    for index in range(shard, entities, shards):
        entity = station_id(index)
        lat = round(28.50 + (index // 50) * 0.004, 6)
        lon = round(112.26 + (index % 50) * 0.004, 6)
        head = f'{{"id":"{entity}","lat":{lat},"lon":{lon},"pm25":'
        stations.append((index < swinging, f"bench/air/{entity}", head))
    if not stations:
        return
    count = 0
    last = 0.0
    while True:
        for swings, topic, head in stations:
            swing = (count * 7919) % 120
            value = 40 + swing if swings else 30 + swing % 30
            now = time.time()
            last = now if now > last else last + 1e-6
            count += 1
            yield topic, f'{head}{value},"ts":{last!r}}}'.encode()


def demo_messages(
    shard: int, shards: int, entities: int | None, seed: int
) -> Iterator[tuple[str, bytes]]:
    """The demo city's messages in its real formats, exactly as ``cityops sim --rate``
    draws them (one simulator step after another, each at the time it is taken)."""
    from services.demo.city import load_demo_city
    from services.demo.loadgen import _messages
    from services.demo.simulator import CitySimulator

    simulator = CitySimulator(
        load_demo_city(), seed=seed, entities=entities, shard=shard, shards=shards
    )
    return _messages(simulator)


# -- publishers ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublishPlan:
    """What the publishers send."""

    kind: str
    """One of :data:`MESSAGE_KINDS`."""
    broker: str
    rate: float
    """Messages per second, all processes together."""
    seconds: float
    qos: int = 0
    processes: int = 0
    """0: one per :data:`PER_PROCESS_RATE` msg/s of the kind, at most one per CPU."""
    entities: int | None = None
    """Stations (json) or devices (demo; None: the demo city's own)."""
    alarming: float = 0.05
    seed: int = 0

    def process_count(self) -> int:
        if self.processes:
            return self.processes
        each = PER_PROCESS_RATE[self.kind]
        return max(1, min(os.cpu_count() or 1, math.ceil(self.rate / each)))


def publisher_main(
    plan: PublishPlan,
    *,
    shard: int,
    shards: int,
    go: Any,
    start_at: Any,
    halt: Any,
    reports: Any,
) -> None:
    """Entry point of one publishing process: connect, say ready, wait for the common start,
    publish ``plan.rate / shards`` messages a second for ``plan.seconds``, report."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the bench decides when to stop
    from services.demo.loadgen import (
        LoadError,
        LoadOptions,
        _client,
        _connect,
        _Connection,
        _Pacer,
    )

    options = LoadOptions(
        broker=plan.broker,
        rate=plan.rate,
        duration=plan.seconds,
        qos=plan.qos,
        processes=shards,
    )
    if plan.kind == "json":
        messages = json_messages(shard, shards, plan.entities or 2000, plan.alarming)
    else:
        messages = demo_messages(shard, shards, plan.entities, plan.seed)
    address = options.check()
    connection = _Connection()
    try:
        client = _client(options, address, shard)
        client.on_connect = connection.on_connect
        _connect(client, address, connection)
    except LoadError as error:
        reports.put(("error", shard, str(error)))
        return
    pacer = _Pacer(client, options, shards)
    reports.put(("ready", shard, ""))
    go.wait()
    begin = float(start_at.value)
    while time.monotonic() < begin and not halt.is_set():
        client.loop(timeout=min(0.05, max(0.0, begin - time.monotonic())))
    cpu = time.process_time()
    try:
        pacer.paced(messages, halt)
        pacer.flush()
    except LoadError as error:
        pacer.error = str(error)
    cpu = time.process_time() - cpu
    with contextlib.suppress(Exception):
        client.disconnect()
        client.loop(timeout=0.05)
    reports.put(
        (
            "done",
            shard,
            {
                "published": pacer.published,
                "delivered": pacer.delivered,
                "failed": pacer.failed,
                "elapsed_s": pacer.elapsed,
                "cpu_s": cpu,
                "error": pacer.error,
            },
        )
    )


class Publishers:
    """A :class:`PublishPlan` in its processes: :meth:`start` (connected and waiting),
    :meth:`go` (they start together), :meth:`finish` (their reports)."""

    def __init__(self, plan: PublishPlan) -> None:
        self.plan = plan
        self.count = plan.process_count()
        self._go = _CONTEXT.Event()
        self._halt = _CONTEXT.Event()
        self._start_at = _CONTEXT.Value("d", 0.0)
        self._reports: Any = _CONTEXT.Queue()
        self._processes = [
            _CONTEXT.Process(
                target=publisher_main,
                args=(plan,),
                kwargs={
                    "shard": shard,
                    "shards": self.count,
                    "go": self._go,
                    "start_at": self._start_at,
                    "halt": self._halt,
                    "reports": self._reports,
                },
                name=f"bench-publisher-{shard}",
                daemon=True,
            )
            for shard in range(self.count)
        ]
        self.errors: list[str] = []

    def start(self, timeout: float = 60.0) -> None:
        """Start the processes and wait until each is connected; RuntimeError if not."""
        for process in self._processes:
            process.start()
        ready = 0
        deadline = time.monotonic() + timeout
        while ready < self.count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError("the publishers did not connect in time")
            try:
                kind, _shard, detail = self._reports.get(timeout=min(remaining, 0.5))
            except Exception:  # queue.Empty
                if not any(p.is_alive() for p in self._processes):
                    raise RuntimeError("the publishers ended before connecting") from None
                continue
            if kind == "error":
                raise RuntimeError(f"a publisher could not connect: {detail}")
            ready += 1

    def go(self, delay: float = 0.2) -> float:
        """Let them start publishing together ``delay`` seconds from now; returns that
        moment (``time.monotonic``, the same clock in every process)."""
        begin = time.monotonic() + delay
        self._start_at.value = begin
        self._go.set()
        return begin

    def finish(self, timeout: float) -> list[dict[str, Any]]:
        """Wait for every report (they end by themselves after ``plan.seconds``)."""
        done: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(done) < self.count and time.monotonic() < deadline:
            try:
                kind, _shard, detail = self._reports.get(timeout=0.5)
            except Exception:  # queue.Empty
                if not any(p.is_alive() for p in self._processes):
                    break
                continue
            if kind == "done":
                done.append(detail)
        if len(done) < self.count:
            self.errors.append(f"{self.count - len(done)} publisher(s) sent no report")
        self.stop()
        return done

    def stop(self) -> None:
        self._halt.set()
        self._go.set()
        for process in self._processes:
            if process.pid is None:
                continue
            process.join(10.0)
            if process.is_alive():
                process.terminate()
                process.join()


# -- the bare subscriber -----------------------------------------------------------------------


def bare_main(conn: Connection, port: int, filters: Sequence[str], qos: int) -> None:
    """Entry point of the bare subscriber: a paho client (MQTT 3.1.1, clean session, its own
    network thread) whose ``on_message`` only counts; answers ``count`` and ``quit``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    received = [0]
    subscribed = threading.Event()

    def on_message(_client: mqtt.Client, _userdata: object, _message: object) -> None:
        received[0] += 1

    def on_connect(client: mqtt.Client, *_args: object) -> None:
        client.subscribe([(topic, qos) for topic in filters])

    def on_subscribe(*_args: object) -> None:
        subscribed.set()

    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"bench-bare-{os.getpid()}"
    )
    client.on_message = on_message
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.connect("127.0.0.1", port)
    client.loop_start()
    conn.send(("ready", subscribed.wait(15)))
    while True:
        try:
            command = conn.recv()
        except EOFError:
            break
        if command == "count":
            conn.send((received[0], time.monotonic()))
        elif command == "quit":
            break
    client.disconnect()
    client.loop_stop()
    with contextlib.suppress(OSError):
        conn.send(("bye", received[0]))


class BareSubscriber:
    """The reference subscriber in its own process."""

    def __init__(self, port: int, filters: Sequence[str], qos: int) -> None:
        self.filters = list(filters)
        self._conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(
            target=bare_main, args=(child, port, self.filters, qos), name="bench-bare", daemon=True
        )

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def start(self, timeout: float = 30.0) -> None:
        self.process.start()
        if not self._conn.poll(timeout):
            raise RuntimeError("the bare subscriber did not start")
        _kind, subscribed = self._conn.recv()
        if not subscribed:
            raise RuntimeError("the bare subscriber got no SUBACK")

    def count(self) -> int:
        self._conn.send("count")
        received, _at = self._conn.recv()
        return int(received)

    def drain(self, target: int, quiet: float, timeout: float) -> int:
        """Wait until it has ``target`` messages, or nothing came for ``quiet`` seconds;
        returns its count."""
        deadline = time.monotonic() + timeout
        last = self.count()
        changed = time.monotonic()
        while last < target and time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.count()
            if now != last:
                last, changed = now, time.monotonic()
            elif time.monotonic() - changed >= quiet:
                break
        return last

    def stop(self) -> None:
        with contextlib.suppress(OSError, EOFError):
            self._conn.send("quit")
            if self._conn.poll(10):
                self._conn.recv()
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()


# -- CityOps ----------------------------------------------------------------------------------


def bench_config(
    broker_url: str,
    *,
    with_bench_feed: bool,
    qos: int,
    source: Path | None = None,
    separate_process: bool = True,
    engine_process: bool = True,
) -> AppConfig:
    """The demo city's config on the bench's broker: every broker in it is ``broker_url``
    (same names, no TLS or credentials), every MQTT feed subscribed with ``qos``, the
    embedded demo broker and simulator off, no health endpoint; with ``with_bench_feed`` a
    JSON feed ``bench`` on :data:`BENCH_TOPIC` (domain environment) as well. ``source``
    (a frozen copy of the demo config) is what the app would watch for changes;
    ``separate_process``: each broker's messages received in a child process (the app's
    default) or on a thread of the app; ``engine_process``: the session in a child process
    of the window's (the app's default) or in the window's."""
    from dataclasses import replace

    from services.addresses import parse_broker_url
    from services.config import BrokerConfig, FeedConfig, MonitoringConfig, load_demo_config

    base = load_demo_config()
    address = parse_broker_url(broker_url)
    brokers = tuple(
        BrokerConfig(
            url=broker_url,
            address=address,
            name=broker.name,
            separate_process=separate_process,
        )
        for broker in base.brokers
    ) or (BrokerConfig(url=broker_url, address=address, separate_process=separate_process),)
    feeds = [replace(feed, qos=qos) if feed.kind == "mqtt" else feed for feed in base.feeds]
    if with_bench_feed:
        feeds.append(
            FeedConfig(
                BENCH_FEED,
                BENCH_TOPIC,
                "json",
                "environment",
                qos=qos,
                broker=brokers[0].name,
            )
        )
    return replace(
        base,
        source=str(source) if source is not None else base.source,
        brokers=brokers,
        feeds=tuple(feeds),
        demo=False,
        monitoring=MonitoringConfig(),
        engine_process=engine_process,
    )


def subscriptions(config: AppConfig) -> list[str]:
    """Every MQTT topic filter the app subscribes with ``config``."""
    return [feed.topic for broker in config.brokers for feed in config.mqtt_feeds(broker.name)]


@dataclass(frozen=True, slots=True)
class CityOpsOptions:
    broker_url: str
    cache_dir: Path
    home: Path
    with_bench_feed: bool
    qos: int = 0
    log_level: str = "WARNING"
    probe_ms: int = 0
    """The event-loop probe's interval (0: no probe: nothing of the bench's own runs on the
    GUI thread while it measures)."""
    log_file: Path | None = None
    """Where its output goes (None: the bench's terminal)."""
    separate_process: bool = True
    """Whether its brokers' messages are received in child processes (the app's default)
    or on threads of its own process (``[[brokers]] separate_process = false``)."""
    engine_process: bool = True
    """Whether its session runs in the engine process (the app's default) or in the window's
    process (``[app] engine_process = false``)."""
    instrument: str = ""
    """``module:function`` of a bench script, called on the GUI thread once the window is
    shown as ``function(window, session, instrument_args)`` (before the bench is told the
    app is ready); the object it returns answers ``("call", method, *args)`` (on the control
    thread: ``method(*args)``'s value is the answer) and ``("gui", method, *args)`` (on the
    GUI thread: ``method(reply, *args)`` answers by calling ``reply`` once, then or later).
    "": none."""
    instrument_args: Mapping[str, Any] = field(default_factory=dict)
    """What the instrument is given (picklable values)."""


def cityops_main(conn: Connection, options: CityOpsOptions) -> None:
    """Entry point of the CityOps process: the session and its workstation window as the
    demo shows them (offscreen), fed from the bench's broker; answers requests on ``conn``
    from a thread of its own (see :class:`_Control`) until told to quit, then stops as
    ``cityops`` does (the window first, then the session, which drains into the cache)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    prepare_environment()
    private_home(options.home)
    if options.log_file is not None:  # Qt's and Chromium's chatter too (file descriptors)
        with options.log_file.open("ab") as log_file:
            os.dup2(log_file.fileno(), 1)
            os.dup2(log_file.fileno(), 2)
    logging.basicConfig(
        level=getattr(logging, options.log_level.upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s [cityops]: %(message)s",
    )
    frozen = options.home / "demo.toml"
    from importlib.resources import files

    frozen.write_bytes(files("resources").joinpath("demo.toml").read_bytes())
    config = bench_config(
        options.broker_url,
        with_bench_feed=options.with_bench_feed,
        qos=options.qos,
        source=frozen,
        separate_process=options.separate_process,
        engine_process=options.engine_process,
    )
    from widgets.palette import use_theme

    use_theme(config.theme)  # before the window's modules are imported, as ui.app does
    from widgets.map_scheme import register_scheme

    register_scheme()  # before the QApplication exists
    from ui.rendering import use_rendering

    use_rendering(config.rendering)  # as ui.runtime.run_gui does
    from dataclasses import replace

    from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from ui.i18n import install_translation
    from ui.runtime import build_window, install_signal_handlers, open_session
    from ui.theme import apply_theme

    app = QApplication([sys.argv[0]])
    app.setApplicationName("CityOps")
    apply_theme(app)
    install_translation(app, None)
    # As the app runs: SIGTERM quits the event loop (a timer keeps Python's signal handling
    # going); SIGINT stays the bench's (a Ctrl-C reaches every process of the group).
    install_signal_handlers(app)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    session = open_session(config, options.cache_dir)
    session.start()
    # The window as `cityops --demo` shows it (banner, district outlines, no config
    # watcher): the session runs without the embedded demo broker and simulator, on the
    # bench's broker instead, and only the window is told it shows the demo.
    session.config = replace(config, demo=True)
    window, bridge = build_window(session)
    window.show()
    control = _Control(conn, session)
    if options.instrument:
        control.instrument = _load_instrument(options.instrument)(
            window, session, dict(options.instrument_args)
        )
        control.gui_calls = _gui_calls(control)
    started = time.monotonic()

    last = [time.monotonic()]

    def probe_tick() -> None:
        now = time.monotonic()
        control.gaps.append((now, (now - last[0]) * 1000.0 - options.probe_ms))
        last[0] = now

    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(max(1, options.probe_ms))
    probe.timeout.connect(probe_tick)

    def watch() -> None:
        if session.feeds_connected() and window.map_view.is_ready():
            control.ready_info = {
                "seconds_to_ready": time.monotonic() - started,
                "feeds": [feed.name for feed in config.feeds],
                "window": [window.width(), window.height()],
            }
            if options.probe_ms > 0:
                last[0] = time.monotonic()
                probe.start()
            watcher.stop()  # no timer of the bench's own runs while it measures
            control.ready.set()

    watcher = QTimer()
    watcher.setInterval(100)
    watcher.timeout.connect(watch)
    watcher.start()
    control.start()
    from ui.runtime import tune_garbage_collector

    tune_garbage_collector()  # as ui.runtime.run_gui does before its event loop
    app.exec()
    probe.stop()
    watcher.stop()
    bridge.stop()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    report = session.stop()
    control.finish(
        {
            "complete": report.complete,
            "unsaved_readings": report.unsaved_readings,
            "unsaved_changes": report.unsaved_changes,
            "dropped_readings": report.dropped_readings,
        }
    )


def _load_instrument(spec: str) -> Callable[[Any, Any, dict[str, Any]], Any]:
    """The function ``module:function`` names (see :attr:`CityOpsOptions.instrument`)."""
    import importlib

    module_name, _, function_name = spec.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    if not callable(function):
        raise TypeError(f"{spec} is not callable")
    return function  # type: ignore[no-any-return]


def _gui_calls(control: _Control) -> Any:
    """A GUI-thread object whose ``requested`` signal, emitted from the control thread,
    runs ``("gui", method, *args)`` requests of the instrument on the GUI thread."""
    from PySide6.QtCore import QObject, Signal

    class GuiCalls(QObject):
        requested = Signal(object)

        def run(self, request: tuple[Any, ...]) -> None:
            name, args = request[0], request[1:]
            answered = [False]

            def reply(answer: object) -> None:
                if not answered[0]:
                    answered[0] = True
                    control.send(answer)

            try:
                getattr(control.instrument, name)(reply, *args)
            except Exception as error:  # answer rather than leave the bench waiting
                log.exception("bench GUI request %r failed", name)
                reply({"error": f"{type(error).__name__}: {error}"})

    calls = GuiCalls()
    calls.requested.connect(calls.run)  # queued: emitted from the control thread
    return calls


class _Control(threading.Thread):
    """Answers the bench's requests in the CityOps process (off the GUI thread: the
    pipeline's and the cache's methods used here are safe from any thread).

    Requests: ``("ready", timeout)``, ``("counts",)``, ``("drain", target, quiet, timeout)``,
    ``("lag", since, until)``, ``("call", method, *args)`` and ``("gui", method, *args)``
    (the instrument's, see :attr:`CityOpsOptions.instrument`) and ``("quit",)``; each gets
    one answer."""

    def __init__(self, conn: Connection, session: Any) -> None:
        super().__init__(name="bench-control", daemon=True)
        self.conn = conn
        self.session = session
        self.ready = threading.Event()
        self.quit = threading.Event()
        self.ready_info: dict[str, Any] = {}
        self.gaps: list[tuple[float, float]] = []
        """(time.monotonic() of a probe tick, its lateness in ms), appended by the GUI thread."""
        self.instrument: Any = None
        """What :attr:`CityOpsOptions.instrument` made (None: no instrument)."""
        self.gui_calls: Any = None
        self._send_lock = threading.Lock()

    def send(self, message: object) -> None:
        with self._send_lock, contextlib.suppress(OSError):
            self.conn.send(message)

    def counts(self) -> dict[str, Any]:
        times = os.times()
        return dict(self.session.ingest_counts()) | {
            "cpu_s": times.user + times.system,
            "at": time.monotonic(),
        }

    def drain(self, target: int, quiet: float, timeout: float) -> dict[str, Any]:
        """Wait until ``target`` messages were processed (or none came for ``quiet``
        seconds with the inbox empty), then write everything processed to the cache."""
        session = self.session
        started = time.monotonic()
        deadline = started + timeout
        last = session.ingest_counts()["processed"]
        changed = time.monotonic()
        timed_out = True
        while time.monotonic() < deadline:
            time.sleep(0.1)
            counts = session.ingest_counts()
            now = counts["processed"]
            if now != last:
                last, changed = now, time.monotonic()
            if counts["idle"] and (now >= target or time.monotonic() - changed >= quiet):
                timed_out = False
                break
        settled = session.settle(30.0)
        return self.counts() | {
            "settled": settled,
            "drain_timed_out": timed_out,
            "drain_s": time.monotonic() - started,
        }

    def lag(self, since: float, until: float) -> dict[str, Any]:
        late = [gap for at, gap in list(self.gaps) if since <= at <= until]
        return {
            "ticks": len(late),
            "p99_ms": percentile(late, 0.99),
            "max_ms": max(late, default=0.0),
        }

    def run(self) -> None:
        while True:
            try:
                request = self.conn.recv()
            except (EOFError, OSError):  # the bench is gone
                self.quit.set()
                os.kill(os.getpid(), signal.SIGTERM)
                return
            name = request[0]
            try:
                if name == "ready":
                    self.send(self.ready_info if self.ready.wait(request[1]) else None)
                elif name == "counts":
                    self.send(self.counts())
                elif name == "drain":
                    self.send(self.drain(*request[1:]))
                elif name == "lag":
                    self.send(self.lag(*request[1:]))
                elif name in ("call", "gui") and self.instrument is None:
                    self.send({"error": "no instrument (CityOpsOptions.instrument)"})
                elif name == "call":
                    self.send(getattr(self.instrument, request[1])(*request[2:]))
                elif name == "gui":  # answered from the GUI thread
                    self.gui_calls.requested.emit(tuple(request[1:]))
                elif name == "quit":  # as `kill <pid>` stops cityops (install_signal_handlers)
                    self.quit.set()
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
                else:
                    self.send({"error": f"unknown request {name!r}"})
            except Exception as error:  # answer rather than leave the bench waiting
                log.exception("bench request %r failed", name)
                self.send({"error": f"{type(error).__name__}: {error}"})

    def finish(self, report: dict[str, Any]) -> None:
        """The session's stop report, the last message."""
        self.send(("stopped", report))


class CityOpsProcess:
    """CityOps in its own process (see :func:`cityops_main`)."""

    def __init__(self, options: CityOpsOptions) -> None:
        self.options = options
        self._conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(
            target=cityops_main, args=(child, options), name="bench-cityops", daemon=False
        )

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def start(self, timeout: float = 120.0) -> dict[str, Any]:
        """Start it and wait until its feeds are connected and its map page is ready;
        returns what it said then."""
        self.process.start()
        info = self.request(("ready", timeout), timeout + 10.0)
        if not isinstance(info, dict) or not info:
            raise RuntimeError(
                f"CityOps did not get ready (connected, map loaded) in time{self.log_tail()}"
            )
        return info

    def request(self, request: tuple[Any, ...], timeout: float = 60.0) -> Any:
        """Send ``request`` and wait for its answer."""
        self.send(request)
        return self.answer(timeout)

    def send(self, request: tuple[Any, ...]) -> None:
        """Send ``request``; its answer comes with :meth:`answer`."""
        self._conn.send(request)

    def answer(self, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while not self._conn.poll(0.5):
            if not self.process.is_alive():
                raise RuntimeError(
                    f"CityOps ended (exit code {self.process.exitcode}){self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError("CityOps did not answer in time")
        answer = self._conn.recv()
        if isinstance(answer, dict) and "error" in answer:
            raise RuntimeError(f"CityOps: {answer['error']}")
        return answer

    def log_tail(self, lines: int = 20) -> str:
        """The end of its log file (with a line break first), or ""."""
        path = self.options.log_file
        if path is None or not path.exists():
            return ""
        tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        return "; its log ends:\n" + "\n".join(tail)

    def stop(self, timeout: float = 60.0) -> dict[str, Any] | None:
        """Close it as ``cityops`` closes; returns its session's stop report."""
        report: dict[str, Any] | None = None
        if self.process.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send(("quit",))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.process.is_alive():
                if self._conn.poll(0.5):
                    with contextlib.suppress(EOFError, OSError):
                        message = self._conn.recv()
                        if isinstance(message, tuple) and message[0] == "stopped":
                            report = message[1]
                            break
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(10)
        return report
