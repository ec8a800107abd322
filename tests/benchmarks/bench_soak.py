"""Kiosk soak (issue 12, "Runs for weeks"): the wall rotating its pages under a steady flood.

Run::

    QT_QPA_PLATFORM=offscreen QTWEBENGINE_CHROMIUM_FLAGS=--no-sandbox \\
        .venv/bin/python -m tests.benchmarks.bench_soak [--minutes N (30)] [--rate R (5000)]
        [--config FILE (the demo city)] [--cache-dir DIR] [--interval S (10)]
        [--p1-timeout S (20)] [--pages NAME,NAME] [--warmup MIN] [--json FILE]

What runs: a mosquitto of its own on a free loopback port (``tests.helpers.brokers``); the
simulated Yiyang city published to it at ``--rate`` messages/s, evenly paced, by the load
generator behind ``cityops sim`` (``services.demo.loadgen``) in a separate process; and, in
this process, the app exactly as ``cityops --kiosk`` builds it (``ui.runtime.run_gui`` with
``kiosk=True``: wall theme, the session, the hidden workstation window that owns the data,
the :class:`ui.kiosk.KioskWindow` rotating its pages). The config (default: the demo's) is
used as it is, except that every broker in it is this mosquitto (no TLS, no credentials),
the embedded demo broker is off, ``[kiosk] interval`` is ``--interval`` seconds and a new
priority-1 alarm holds the wall ``--p1-timeout`` seconds (20 by default, so that the
rotation goes on: the demo city raises priority-1 alarms every few minutes);
``--pages`` replaces ``[kiosk] pages``. The app watches a frozen copy of the config file,
so edits to the real file during the soak do not reload the wall's playlist. Per-user
folders (XDG_*) point at a temporary folder, so the soak leaves the developer's settings
alone.

What it measures: every minute one line with the minutes elapsed, the resident memory
(VmRSS) of this process (and its anonymous part, RssAnon: heaps rather than mapped files)
and of the web renderer processes (``QtWebEngineProcess`` descendants that are renderers,
see :func:`web_processes`; the other QtWebEngine helpers, zygotes and GPU, go to the JSON),
widgets (``QApplication.allWidgets()``), QObjects (every parentless top-level widget and the
application with all their ``findChildren(QObject)``), the blocks Python's allocator holds
(``sys.getallocatedblocks()``; the objects the garbage collector tracks go to the JSON),
the cache folder's size on disk, the messages the broker received from the publisher and the ones it
dropped because the app did not read them in time (mosquitto's ``$SYS`` counters), how far
the app's ingest is behind what the broker sent it ("behind": its unprocessed inbox, give or
take a few seconds' worth), this process's CPU (% of one core) and the machine's load
average over the last minute, and the kiosk's rotations and page. RSS is also sampled every
10 seconds in between. "renderer: none" when no renderer runs.

After the run: the growth after warm-up (``--warmup`` minutes; default the first third of
the run or 5 minutes, whichever is smaller), as the least-squares slope of RSS over time in
% of the fitted RSS at the end of the warm-up per 10 minutes, for the main process and the
renderer; the growth of the object counts (and which QObject classes changed in number);
and PASS/FAIL against issue 12's target: RSS
growth at most 2 % per 10 minutes after warm-up (main and renderer). The figures and every
sample go to ``--json`` (default ``bench_soak.json`` in ``--cache-dir``, else in the current
folder). Exits 1 on FAIL; asserts nothing (the machine's other work makes the figures noisy).

``--tracemalloc`` also lists the source lines whose Python allocations (numpy's included)
grew most between the first line after the warm-up and the end: where to look for a leak.
It slows the app down and its own bookkeeping counts in the RSS, so run it at a lower
``--rate`` and take its RSS figures with a grain of salt.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.addresses import parse_broker_url
from services.config import AppConfig, BrokerConfig, load_config, load_demo_config

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from services.session import CitySession
    from ui.kiosk import KioskWindow

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")

log = logging.getLogger("bench_soak")

TARGET_PCT_PER_10_MIN = 2.0
"""Issue 12: RSS growth at most 2 % per 10 minutes after warm-up."""
RSS_EVERY_S = 10.0
"""RSS is sampled this often (a printed line once a minute)."""
SYS_INTERVAL_S = 1
"""mosquitto updates its ``$SYS`` counters this often."""
MAX_WARMUP_MIN = 5.0
MB = 1024 * 1024
WEB_PROCESS = "QtWebEngineProcess"


# -- processes and folders (Linux /proc) ----------------------------------------------------


def memory_fields(pid: int) -> dict[str, int]:
    """The memory fields of ``/proc/<pid>/status`` in bytes (VmRSS, RssAnon, RssFile, ...);
    empty when the process is gone."""
    fields: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                name, _, rest = line.partition(":")
                words = rest.split()
                if len(words) == 2 and words[1] == "kB":
                    fields[name] = int(words[0]) * 1024
    except OSError:
        return {}
    return fields


def rss_bytes(pid: int) -> int | None:
    """VmRSS of ``pid`` in bytes (None when it is gone)."""
    return memory_fields(pid).get("VmRSS")


def descendants(root: int) -> dict[int, int]:
    """Every process below ``root`` (children, their children, ...): pid -> parent pid."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                text = stat.read()
        except OSError:
            continue
        parent = int(text.rsplit(")", 1)[1].split()[1])  # the name may hold spaces
        children.setdefault(parent, []).append(int(entry.name))
    found: dict[int, int] = {}
    pending = [root]
    while pending:
        parent = pending.pop()
        for child in children.get(parent, []):
            found[child] = parent
            pending.append(child)
    return found


@dataclass(frozen=True, slots=True)
class WebProcesses:
    """The QtWebEngine processes below this one, by kind."""

    renderers: dict[int, int]
    """pid -> RSS of each renderer."""
    helpers: dict[int, int]
    """pid -> RSS of the others (the zygotes, GPU and utility processes)."""

    @property
    def renderer_rss(self) -> int | None:
        return sum(self.renderers.values()) if self.renderers else None


def web_processes() -> WebProcesses:
    """The QtWebEngine processes below this one.

    A renderer is a process started with ``--type=renderer`` or, as Chromium on Linux
    starts them, forked by the (sandboxed) zygote: such a child keeps the zygote's command
    line. Children of the unsandboxed zygote (``--no-zygote-sandbox``) are utility
    processes.
    """
    tree = descendants(os.getpid())
    argvs: dict[int, list[bytes]] = {}
    for pid in tree:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and WEB_PROCESS in os.path.basename(argv[0].decode(errors="replace")):
            argvs[pid] = argv
    renderers: dict[int, int] = {}
    helpers: dict[int, int] = {}
    for pid, argv in argvs.items():
        rss = rss_bytes(pid)
        if rss is None:
            continue
        parent = argvs.get(tree[pid], [])
        forked_by_zygote = b"--type=zygote" in parent and b"--no-zygote-sandbox" not in parent
        if b"--type=renderer" in argv or forked_by_zygote:
            renderers[pid] = rss
        else:
            helpers[pid] = rss
    return WebProcesses(renderers, helpers)


def disk_usage(folder: Path) -> int:
    """Bytes the files under ``folder`` take on disk (allocated blocks)."""
    total = 0
    pending = [folder]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:  # deleted meanwhile (a WAL checkpoint, a rotated file)
                continue
    return total


# -- the publisher (its own process) and the broker's counters ---------------------------------


def publish_city(broker: str, rate: float, halt: Any, reports: Any) -> None:
    """Entry point of the publishing process: ``cityops sim --rate`` until ``halt`` is set;
    puts the load generator's report (a dict) on ``reports``."""
    import signal

    from services.demo.loadgen import LoadError, LoadOptions, run_load

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the benchmark decides when to stop
    stop = threading.Event()

    def wait_for_halt() -> None:
        halt.wait()
        stop.set()

    threading.Thread(target=wait_for_halt, daemon=True).start()
    try:
        report = run_load(LoadOptions(broker=broker, rate=rate, processes=0), stop)
    except LoadError as error:
        reports.put({"error": str(error)})
        return
    reports.put(
        {
            "summary": report.summary(),
            "delivered": report.delivered,
            "failed": report.failed,
            "elapsed_s": report.elapsed,
            "rate": report.rate,
            "kept_up": report.kept_up,
            "processes": report.processes,
            "errors": list(report.errors),
        }
    )


class Publisher:
    """The load generator in a process of its own (spawned: no GIL shared with the app)."""

    def __init__(self, broker: str, rate: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._halt = context.Event()
        self._reports: Any = context.Queue()
        # not a daemon: the load generator starts processes of its own above 20,000 msg/s
        self._process = context.Process(
            target=publish_city,
            args=(broker, rate, self._halt, self._reports),
            name="bench-soak-publisher",
        )

    def start(self) -> None:
        self._process.start()

    def halt(self) -> None:
        """Ask it to stop (returns at once)."""
        self._halt.set()

    def finish(self, timeout: float = 30.0) -> dict[str, Any]:
        """Stop it and return its report."""
        self._halt.set()
        report: dict[str, Any] = {"error": "the publisher ended without a report"}
        try:
            report = self._reports.get(timeout=timeout)
        except Exception:  # queue.Empty, or a broken pipe when it died
            log.warning("no report from the publishing process")
        self._process.join(10.0)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        return report


class BrokerCounters:
    """mosquitto's ``$SYS/broker/publish/messages/*`` counters (received, sent, dropped)."""

    def __init__(self, port: int) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self._lock = threading.Lock()
        self._values: dict[str, int] = {}
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id="bench-soak-sys"
        )
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()

    def _on_connect(self, client: mqtt.Client, *_args: object) -> None:
        client.subscribe("$SYS/broker/publish/messages/+")

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: Any) -> None:
        try:
            value = int(message.payload)
        except ValueError:
            return
        with self._lock:
            self._values[message.topic.rsplit("/", 1)[-1]] = value

    def get(self, name: str) -> int | None:
        """``received``, ``sent`` or ``dropped``; None before mosquitto first said."""
        with self._lock:
            return self._values.get(name)

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


# -- the config the kiosk runs with ----------------------------------------------------------


def soak_config(
    base: AppConfig,
    frozen: Path,
    broker_url: str,
    *,
    interval: float,
    p1_timeout: float | None,
    pages: Sequence[str] | None,
) -> AppConfig:
    """``base`` on the benchmark's broker: every broker there (same names, so the feeds stay
    on them; no TLS or credentials), no embedded demo broker, the kiosk rotating every
    ``interval`` seconds (through ``pages`` when given; a priority-1 alarm holding it for
    ``p1_timeout`` seconds when given).

    ``frozen`` is a copy of the config file taken at the start, named as the config's
    source: the app watches its source and takes the kiosk and dashboards of a changed file
    at once, and someone editing the real file must not change the playlist mid-soak."""
    address = parse_broker_url(broker_url)
    brokers = tuple(
        BrokerConfig(url=broker_url, address=address, name=broker.name) for broker in base.brokers
    ) or (BrokerConfig(url=broker_url, address=address),)
    kiosk = replace(base.kiosk, interval=interval)
    if p1_timeout is not None:
        kiosk = replace(kiosk, p1_timeout=p1_timeout)
    if pages:
        kiosk = replace(kiosk, pages=tuple(pages))
    return replace(base, source=str(frozen), brokers=brokers, demo=False, kiosk=kiosk)


def config_bytes(path: Path | None) -> bytes:
    """The text of the config file ``path`` (None: the demo's, ``resources/demo.toml``)."""
    if path is not None:
        return path.read_bytes()
    from importlib.resources import files

    return files("resources").joinpath("demo.toml").read_bytes()


def check_pages(config: AppConfig, pages: Sequence[str]) -> str | None:
    """Why ``pages`` cannot be a kiosk playlist of ``config`` (None: they can)."""
    from services.config.dashboards import KIOSK_SPECIAL_PAGES

    known = [*(dashboard.name for dashboard in config.dashboards), *KIOSK_SPECIAL_PAGES]
    unknown = [page for page in pages if page not in known]
    if unknown:
        return f"no kiosk page named {unknown[0]!r} (known: {', '.join(known)})"
    return None


# -- sampling ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Line:
    """One printed line (once a minute)."""

    minutes: float
    main_rss: int
    main_anon: int
    """The anonymous part of ``main_rss`` (heaps; not mapped files and libraries)."""
    renderer_rss: int | None
    renderers: int
    web_helpers_rss: int
    widgets: int
    qobjects: int
    py_objects: int
    """Objects the garbage collector tracks (containers: a queue of messages, not tuples
    of floats)."""
    py_blocks: int
    """Blocks Python's allocator holds (``sys.getallocatedblocks``: every Python object)."""
    cache_bytes: int
    published: int | None
    delivered: int | None
    dropped: int | None
    processed: int | None
    rotations: int
    page: str
    cpu_pct: float
    """This process's CPU time since the previous line, in % of one core."""
    load: float
    """The machine's 1-minute load average (other work makes the figures noisy)."""

    @property
    def behind(self) -> int | None:
        """Messages the broker sent the app that its ingest has not processed (give or take
        the broker's counters' lag, a few seconds' worth)."""
        if self.delivered is None or self.processed is None:
            return None
        return self.delivered - self.processed


@dataclass(slots=True)
class RssSample:
    """One RSS sample (every 10 seconds)."""

    minutes: float
    main: int
    main_anon: int
    renderer: int | None
    renderer_pids: list[int] = field(default_factory=list)
    page: str = ""


HEADER = (
    f"{'min':>5} {'main MB':>8} {'anon MB':>8} {'renderer MB':>12} {'widgets':>8} "
    f"{'QObjects':>9} {'py blocks':>10} {'cache MB':>9} {'published':>11} {'dropped':>8} "
    f"{'behind':>8} {'cpu%':>5} {'load':>5} {'rot':>4}  page"
)


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def format_line(line: Line) -> str:
    renderer = (
        "none" if line.renderer_rss is None else f"{line.renderer_rss / MB:.1f} ({line.renderers})"
    )
    return (
        f"{line.minutes:>5.1f} {line.main_rss / MB:>8.1f} {line.main_anon / MB:>8.1f} "
        f"{renderer:>12} {line.widgets:>8,} {line.qobjects:>9,} "
        f"{line.py_blocks:>10,} {line.cache_bytes / MB:>9.1f} {_count(line.published):>11} "
        f"{_count(line.dropped):>8} {_count(line.behind):>8} {line.cpu_pct:>5.0f} "
        f"{line.load:>5.2f} {line.rotations:>4}  {line.page}"
    )


def qt_counts(app: QApplication) -> tuple[int, Counter[str]]:
    """The number of widgets, and the QObjects reachable from the application and the
    parentless widgets by class name."""
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QApplication

    widgets = len(QApplication.allWidgets())
    roots: list[QObject] = [app]
    # a parented window is counted with its parent
    roots += [top for top in QApplication.topLevelWidgets() if top.parent() is None]
    classes: Counter[str] = Counter()
    for root in roots:
        for item in [root, *root.findChildren(QObject)]:
            classes[item.metaObject().className()] += 1
    return widgets, classes


class Soak:
    """Samples the running kiosk from the GUI thread and ends the run after ``minutes``."""

    def __init__(
        self,
        app: QApplication,
        *,
        minutes: float,
        rate: float,
        every: float,
        cache_dir: Path,
        counters: BrokerCounters,
        before_quit: Callable[[], None],
        warmup: float = 0.0,
    ) -> None:
        self.app = app
        self.warmup = warmup
        self.snapshots: list[tracemalloc.Snapshot] = []
        """With tracemalloc on: at the first line after the warm-up, and at the end."""
        self.minutes = minutes
        self.rate = rate
        self.every = every
        self.cache_dir = cache_dir
        self.counters = counters
        self.before_quit = before_quit
        self.kiosk: KioskWindow | None = None
        self.session: CitySession | None = None
        self.lines: list[Line] = []
        self.classes: list[Counter[str]] = []
        """QObjects by class name, at each line."""
        self.rss: list[RssSample] = []
        self.started = 0.0
        self.renderer_pids_seen: set[int] = set()
        self._next_line = 0.0
        self._tries = 0
        self._finished = False
        self._timer: QTimer | None = None
        self._cpu_at = (0.0, 0.0)

    # The first call comes from app.exec() in run_gui, once the kiosk is on screen.
    def begin(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        from services.session import CitySession
        from ui.kiosk import KioskWindow

        kiosk = next((w for w in self.app.topLevelWidgets() if isinstance(w, KioskWindow)), None)
        if kiosk is None:
            self._tries += 1
            if self._tries > 100:
                print("bench_soak: the kiosk window did not appear; stopping", file=sys.stderr)
                self.before_quit()
                self.app.quit()
                return
            QTimer.singleShot(200, self.begin)
            return
        self.kiosk = kiosk
        # run_gui keeps its session to itself: found once among the live objects, for the
        # ingest counters only
        self.session = next((o for o in gc.get_objects() if isinstance(o, CitySession)), None)
        self._timer = QTimer()
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self.started = time.monotonic()
        times = os.times()
        self._cpu_at = (times.user + times.system, self.started)
        self._tick()

    def elapsed_min(self) -> float:
        return (time.monotonic() - self.started) / 60.0

    def _tick(self) -> None:
        if self._finished or self._timer is None:
            return
        now = time.monotonic() - self.started
        end = self.minutes * 60.0
        last = now >= end - 0.5
        self.sample_rss()
        if last or now >= self._next_line - 0.5:
            self.print_line(final=last)
            self._next_line += self.every
        if last:
            self._finished = True
            self.before_quit()
            self.app.quit()
            return
        next_rss = (math.floor((now + 0.5) / RSS_EVERY_S) + 1) * RSS_EVERY_S
        due = min(end, self._next_line, next_rss)
        delay_ms = max(1, int((self.started + due - time.monotonic()) * 1000))
        self._timer.start(delay_ms)

    def sample_rss(self) -> None:
        main = memory_fields(os.getpid())
        web = web_processes()
        self.renderer_pids_seen.update(web.renderers)
        self.rss.append(
            RssSample(
                self.elapsed_min(),
                main.get("VmRSS", 0),
                main.get("RssAnon", 0),
                web.renderer_rss,
                sorted(web.renderers),
                self.kiosk.page() if self.kiosk is not None else "",
            )
        )

    def _cpu_since_last_line(self) -> float:
        times = os.times()
        cpu, now = times.user + times.system, time.monotonic()
        previous_cpu, previous_at = self._cpu_at
        self._cpu_at = (cpu, now)
        return (cpu - previous_cpu) / (now - previous_at) * 100.0 if now > previous_at else 0.0

    def print_line(self, *, final: bool = False) -> None:
        widgets, classes = qt_counts(self.app)
        py_objects = len(gc.get_objects())
        py_blocks = sys.getallocatedblocks()
        main = memory_fields(os.getpid())
        web = web_processes()
        kiosk = self.kiosk
        session = self.session
        line = Line(
            minutes=self.elapsed_min(),
            main_rss=main.get("VmRSS", 0),
            main_anon=main.get("RssAnon", 0),
            renderer_rss=web.renderer_rss,
            renderers=len(web.renderers),
            web_helpers_rss=sum(web.helpers.values()),
            widgets=widgets,
            qobjects=classes.total(),
            py_objects=py_objects,
            py_blocks=py_blocks,
            cache_bytes=disk_usage(self.cache_dir),
            published=self.counters.get("received"),
            delivered=self.counters.get("sent"),
            dropped=self.counters.get("dropped"),
            processed=session.pipeline.messages_processed if session is not None else None,
            rotations=kiosk.rotations if kiosk is not None else 0,
            page=kiosk.page() if kiosk is not None else "-",
            cpu_pct=self._cpu_since_last_line(),
            load=os.getloadavg()[0],
        )
        self.lines.append(line)
        self.classes.append(classes)
        if len(self.lines) == 1:
            print(HEADER)
        print(format_line(line), flush=True)
        after_warmup = line.minutes >= self.warmup - 1e-6
        if tracemalloc.is_tracing() and after_warmup and (final or not self.snapshots):
            self.snapshots.append(tracemalloc.take_snapshot())


# -- figures ------------------------------------------------------------------------------------


def growth_per_10_min(points: Sequence[tuple[float, float]]) -> dict[str, float] | None:
    """The least-squares growth of ``(minutes, value)`` points: % of the fitted value at the
    first point per 10 minutes, the same from the first and last points alone, and the
    absolute slope per 10 minutes; None with fewer than two points or no time between."""
    if len(points) < 2 or points[-1][0] - points[0][0] <= 0:
        return None
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    slope, intercept = statistics.linear_regression(xs, ys)
    base = intercept + slope * xs[0]
    span = xs[-1] - xs[0]
    first, last = ys[0], ys[-1]
    return {
        "fit_pct_per_10_min": slope * 10.0 / base * 100.0 if base > 0 else math.inf,
        "endpoints_pct_per_10_min": (
            (last - first) / first * 100.0 * 10.0 / span if first > 0 else math.inf
        ),
        "per_10_min": slope * 10.0,
        "first": first,
        "last": last,
        "span_min": span,
        "points": float(len(points)),
    }


def summarize(soak: Soak, warmup_min: float) -> dict[str, Any]:
    """Growth after warm-up, and the verdict."""
    after = [sample for sample in soak.rss if sample.minutes >= warmup_min - 1e-6]
    main = growth_per_10_min([(s.minutes, float(s.main)) for s in after])
    anon = growth_per_10_min([(s.minutes, float(s.main_anon)) for s in after])
    with_renderer = [s for s in after if s.renderer is not None]
    renderer = growth_per_10_min([(s.minutes, float(s.renderer or 0)) for s in with_renderer])
    lines = [line for line in soak.lines if line.minutes >= warmup_min - 1e-6]
    objects = {
        name: growth_per_10_min([(line.minutes, float(getattr(line, name))) for line in lines])
        for name in (
            "widgets",
            "qobjects",
            "py_objects",
            "py_blocks",
            "web_helpers_rss",
            "cache_bytes",
        )
    }
    changed: dict[str, list[int]] = {}
    kept = [
        classes
        for line, classes in zip(soak.lines, soak.classes, strict=True)
        if line.minutes >= warmup_min - 1e-6
    ]
    if len(kept) >= 2:
        first, last = kept[0], kept[-1]
        changed = {
            name: [first[name], last[name]]
            for name in sorted(set(first) | set(last))
            if first[name] != last[name]
        }
    checks: dict[str, bool | None] = {
        "main": None if main is None else main["fit_pct_per_10_min"] <= TARGET_PCT_PER_10_MIN,
        "renderer": (
            None if renderer is None else renderer["fit_pct_per_10_min"] <= TARGET_PCT_PER_10_MIN
        ),
    }
    from ui.kiosk import INTERRUPTION_PAGE

    held = sum(1 for sample in soak.rss if sample.page == INTERRUPTION_PAGE)
    had_renderer = bool(soak.renderer_pids_seen)
    passed = checks["main"] is True and (checks["renderer"] is True or not had_renderer)
    return {
        "warmup_min": warmup_min,
        "rss_main": main,
        "rss_main_anon": anon,
        "rss_renderer": renderer,
        "renderer_processes_seen": sorted(soak.renderer_pids_seen),
        "objects": objects,
        "qobject_classes_changed": changed,
        "priority_1_share": held / len(soak.rss) if soak.rss else 0.0,
        "checks": checks,
        "passed": passed,
    }


def print_summary(figures: dict[str, Any], publisher: dict[str, Any], soak: Soak) -> None:
    print()
    warmup = figures["warmup_min"]
    print(f"after warm-up ({warmup:.3g} min), least-squares slope; from the ends in brackets:")
    for label, key in (
        ("main RSS", "rss_main"),
        ("  of it anon", "rss_main_anon"),
        ("renderer RSS", "rss_renderer"),
    ):
        growth = figures[key]
        if growth is None:
            none = "none" if key == "rss_renderer" and not soak.renderer_pids_seen else "n/a"
            print(f"  {label:<16} {none}")
            continue
        print(
            f"  {label:<16} {growth['fit_pct_per_10_min']:+.2f} % per 10 min "
            f"({growth['endpoints_pct_per_10_min']:+.2f} %), "
            f"{growth['first'] / MB:.1f} -> {growth['last'] / MB:.1f} MB "
            f"over {growth['span_min']:.1f} min"
        )
    seen = figures["renderer_processes_seen"]
    together = max((len(sample.renderer_pids) for sample in soak.rss), default=0)
    if len(seen) > together:
        print(f"  renderer pids    {seen}: restarted ({together} at a time)")
    elif seen:
        print(f"  renderers        {len(seen)} (pids {', '.join(map(str, seen))}), none restarted")
    for name, label in (
        ("widgets", "widgets"),
        ("qobjects", "QObjects"),
        ("py_objects", "Python objects"),
        ("py_blocks", "Python blocks"),
        ("web_helpers_rss", "web helpers RSS"),
        ("cache_bytes", "cache on disk"),
    ):
        growth = figures["objects"][name]
        if growth is None:
            print(f"  {label:<16} n/a")
            continue
        in_mb = name in ("cache_bytes", "web_helpers_rss")
        scale, unit = (MB, " MB") if in_mb else (1.0, "")
        print(
            f"  {label:<16} {growth['first'] / scale:,.1f}{unit} -> "
            f"{growth['last'] / scale:,.1f}{unit} ({growth['per_10_min'] / scale:+,.1f}{unit} "
            f"per 10 min, {growth['fit_pct_per_10_min']:+.2f} %)"
        )
    changed = figures["qobject_classes_changed"]
    if changed:
        biggest = sorted(changed.items(), key=lambda item: -abs(item[1][1] - item[1][0]))
        print(
            "  QObject classes  "
            + ", ".join(f"{name} {was:,} -> {now:,}" for name, (was, now) in biggest[:8])
            + (f" (and {len(biggest) - 8} more)" if len(biggest) > 8 else "")
        )
    if soak.lines:
        last = soak.lines[-1]
        print(
            f"  messages         broker received {_count(last.published)}, sent to "
            f"subscribers {_count(last.delivered)}, dropped {_count(last.dropped)}; "
            f"ingest processed {_count(last.processed)}"
        )
        behind = [line.behind for line in soak.lines if line.behind is not None]
        if behind and behind[-1] > max(5 * soak.rate, 10_000):
            print(
                f"  note             the app's ingest ended {behind[-1]:,} messages behind "
                "the broker: the RSS growth includes its unprocessed inbox"
            )
        print(
            f"  rotations        {last.rotations}; the priority-1 page showed in "
            f"{figures['priority_1_share'] * 100:.0f} % of the samples"
        )
    print(f"  publisher        {publisher.get('summary') or publisher.get('error')}")
    checks = figures["checks"]
    target = f"RSS growth <= {TARGET_PCT_PER_10_MIN:g} % per 10 minutes after warm-up"
    print(f"{'PASS' if checks['main'] else 'FAIL'}  main process: {target}")
    if not soak.renderer_pids_seen:
        print("----  renderer: none (no QtWebEngine renderer process ran)")
    else:
        print(f"{'PASS' if checks['renderer'] else 'FAIL'}  renderer: {target}")
    print(f"{'PASS' if figures['passed'] else 'FAIL'}  kiosk soak")


def print_allocation_growth(snapshots: Sequence[tracemalloc.Snapshot]) -> list[str]:
    """The source lines whose Python allocations grew most between the two snapshots
    (``--tracemalloc``); also returned, for the JSON."""
    if len(snapshots) < 2:
        return []
    growth = [
        stat for stat in snapshots[1].compare_to(snapshots[0], "lineno") if stat.size_diff > 0
    ]
    lines = [
        f"{stat.size_diff / MB:+8.2f} MB {stat.count_diff:+9,} blocks  {stat.traceback[0]}"
        for stat in growth[:15]
    ]
    print("Python allocations that grew after the warm-up (tracemalloc):")
    for line in lines:
        print(f"  {line}")
    return lines


# -- main ---------------------------------------------------------------------------------------


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Kiosk soak: RSS, Qt objects and cache size of the rotating wall under load.",
    )
    parser.add_argument("--minutes", type=float, default=30.0, help="default %(default)g")
    parser.add_argument(
        "--rate", type=float, default=5000.0, help="messages/s published (default %(default)g)"
    )
    parser.add_argument("--config", type=Path, help="TOML config (default: the demo city)")
    parser.add_argument(
        "--cache-dir", type=Path, help="offline cache folder, kept (default: a temporary one)"
    )
    parser.add_argument(
        "--interval", type=float, default=10.0, help="seconds per kiosk page (default %(default)g)"
    )
    parser.add_argument(
        "--p1-timeout",
        type=float,
        default=20.0,
        help="seconds a new priority-1 alarm holds the wall (default %(default)g; 0: the "
        "config's [kiosk] p1_timeout)",
    )
    parser.add_argument(
        "--pages", help="comma-separated kiosk pages instead of the config's [kiosk] pages"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        help="minutes of warm-up (default: a third of the run, at most 5)",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace Python's allocations and print where memory grew after the warm-up "
        "(slows the app down: use a lower --rate)",
    )
    parser.add_argument(
        "--every", type=float, default=60.0, help="seconds between lines (default %(default)g)"
    )
    parser.add_argument(
        "--theme", default="wall", help="the kiosk's theme (default %(default)s, as --kiosk)"
    )
    parser.add_argument("--json", type=Path, help="figures file (default: bench_soak.json)")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    if not (args.minutes > 0 and args.rate > 0 and args.every > 0 and args.interval > 0):
        parser.error("--minutes, --rate, --interval and --every must be positive")
    if args.p1_timeout < 0:
        parser.error("--p1-timeout must be 0 (the config's) or positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    warmup = args.warmup if args.warmup is not None else min(args.minutes / 3.0, MAX_WARMUP_MIN)
    base = load_config(args.config) if args.config is not None else load_demo_config()
    text = config_bytes(args.config)
    pages = [page.strip() for page in args.pages.split(",")] if args.pages else None
    if pages:
        problem = check_pages(base, pages)
        if problem is not None:
            print(f"bench_soak: {problem}", file=sys.stderr)
            return 2
    json_path: Path = args.json or (args.cache_dir or Path.cwd()) / "bench_soak.json"

    from tests.helpers.brokers import MosquittoBroker

    with tempfile.TemporaryDirectory(prefix="bench-soak-") as scratch:
        root = Path(scratch)
        for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
            folder = root / "home" / name.lower()
            folder.mkdir(parents=True)
            os.environ[name] = str(folder)
        cache_dir: Path = args.cache_dir or root / "cache"
        cache_dir.mkdir(parents=True, exist_ok=True)
        broker_dir = root / "broker"
        broker_dir.mkdir()
        broker = MosquittoBroker(broker_dir, extra_config=f"sys_interval {SYS_INTERVAL_S}\n")
        broker.start()
        frozen = root / "config" / (args.config.name if args.config else "demo.toml")
        frozen.parent.mkdir()
        frozen.write_bytes(text)
        config = soak_config(
            base,
            frozen,
            broker.url,
            interval=args.interval,
            p1_timeout=args.p1_timeout or None,
            pages=pages,
        )
        print(
            f"kiosk soak: {args.minutes:g} min at {args.rate:g} msg/s on {broker.url}, "
            f"pages {list(config.kiosk.pages)} every {config.kiosk.interval:g} s "
            f"(priority-1 holds {config.kiosk.p1_timeout:g} s), warm-up {warmup:.3g} min, "
            f"cache {cache_dir}",
            flush=True,
        )
        publisher = Publisher(broker.url, args.rate)
        counters = BrokerCounters(broker.port)
        try:
            publisher.start()
            soak, code = run_kiosk(args, config, cache_dir, counters, publisher, warmup=warmup)
            report = publisher.finish()
        finally:
            publisher.halt()
            counters.stop()
            broker.stop()
        print(f"run_gui returned {code}")
        figures = summarize(soak, warmup)
        print_summary(figures, report, soak)
        figures["tracemalloc_growth"] = print_allocation_growth(soak.snapshots)
    json_path.write_text(
        json.dumps(
            {
                "options": {
                    "minutes": args.minutes,
                    "rate": args.rate,
                    "config": str(args.config) if args.config else "demo",
                    "interval": config.kiosk.interval,
                    "p1_timeout": config.kiosk.p1_timeout,
                    "pages": list(config.kiosk.pages),
                    "warmup_min": warmup,
                },
                "target_pct_per_10_min": TARGET_PCT_PER_10_MIN,
                "figures": figures,
                "publisher": report,
                "run_gui_exit_code": code,
                "lines": [asdict(line) | {"behind": line.behind} for line in soak.lines],
                "rss_samples": [asdict(sample) for sample in soak.rss],
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    print(f"figures written to {json_path}")
    return 0 if figures["passed"] else 1


def run_kiosk(
    args: argparse.Namespace,
    config: AppConfig,
    cache_dir: Path,
    counters: BrokerCounters,
    publisher: Publisher,
    *,
    warmup: float,
) -> tuple[Soak, int]:
    """Run the app as ``cityops --kiosk`` does, sampled by a :class:`Soak`, until the end."""
    from widgets.map_scheme import register_scheme
    from widgets.palette import use_theme

    use_theme(args.theme)  # before the window's modules are imported, as ui.app does
    register_scheme()  # before the QApplication exists
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ui.runtime import run_gui

    if args.tracemalloc:
        tracemalloc.start()
    app = QApplication([sys.argv[0]])  # run_gui takes this one
    soak = Soak(
        app,
        minutes=args.minutes,
        rate=args.rate,
        every=args.every,
        cache_dir=cache_dir,
        counters=counters,
        before_quit=publisher.halt,
        warmup=warmup,
    )
    QTimer.singleShot(0, soak.begin)  # runs once run_gui's event loop runs
    code = run_gui(config, cache_dir, kiosk=True)
    return soak, code


if __name__ == "__main__":
    sys.exit(main())
