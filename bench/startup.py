"""Start-up: a real ``cityops`` process, from its spawn to the window painted with the cached
state and to the map drawn with all its markers.

Run (after ``make test``'s install)::

    .venv/bin/python -m bench.startup [--runs 5] [--warmup 1] [--entities 10000]
        [--rounds 6] [--timeout 60] [--json FILE]

What runs, once before the runs:

- a mosquitto of the bench's own on a free loopback port, the config's broker (the app
  connects as in production; nothing is published, so the window stays on its cached state);
- the config: the demo city's ``resources/demo.toml`` as a file of its own (every feed, rule,
  KPI, district and dashboard of it), its ``[broker] url`` pointed at that mosquitto, its
  district files by absolute path, and one more JSON feed ``bench`` on ``bench/air/#``
  (domain environment): ``cityops --config`` with it is not demo mode (no embedded broker,
  no simulator; the config file is watched);
- the offline cache, built with the app's own code: ``OfflineCache`` and an
  ``IngestPipeline`` on that config taking ``--rounds`` rounds of ``--entities`` 1-reading
  JSON messages of the bench feed (``bench._common.json_messages``: stations on a grid over
  Yiyang, 5 % of them swinging across the PM2.5 alarm thresholds), the rounds spread over
  the last hour, decoded, alarmed and written as a running app writes them. It then holds
  the entities (10,000) with their latest values, an hour of readings (what the app reads
  back for trends at start) and the open alarms.

Then ``--warmup`` starts that are not counted (they warm the OS's file cache and the private
per-user folders, as on a workstation that ran CityOps before) and ``--runs`` counted
starts. Each start gets a fresh copy of the built cache and spawns, with
``subprocess.Popen``, ``.venv/bin/python -m bench.startup --child ... -- --config FILE
--cache-dir DIR --lang en``: the child runs ``ui.app.main`` with those arguments, the very
entry point ``.venv/bin/cityops`` runs (argument parsing, logging, the config file, the
display check, the theme, ``ui.runtime.run_gui``: sign-in, ``CitySession`` opening the cache
and restoring its last known state, ``build_window``, ``show``, the event loop), offscreen
(``QT_QPA_PLATFORM=offscreen``, ``QTWEBENGINE_CHROMIUM_FLAGS=--no-sandbox`` unless set),
per-user folders (XDG_*) in a temporary folder. The app has no hook of its own for this:
the child wraps ``ui.runtime.build_window`` when that module is first imported (nothing is
imported earlier than the app imports it) and the wrapper, on the GUI thread, watches the
window it returns. The moments go back to this process over a pipe, as
``time.monotonic()`` (one clock for every process on Linux).

How it measures, in seconds from just before ``Popen`` (fork and exec of the interpreter):

- *python*: the child's first line of code (interpreter up, ``bench.startup`` imported);
- *built*: ``build_window`` returned: the session started (cache opened and checked, its last
  known state read and restored into the ingest state), the window built, the restored state
  applied to it (``DeltaBridge.tick``) and marked as the cached state (``show_restored``);
- *painted* (target): the first frame of the shown window painted: the window's first paint
  event (a paint pass paints the window, then the widgets in it), then the end of that pass
  (a zero timer queued from the event runs once the pass is done). The cached state must be
  what it shows: the window's entities are the cache's, its alarm list has the cached
  alarms and the banner says ``NOT LIVE — showing the last known state from the cache (N
  entities)``; a run where it does not is a failure;
- *page*: the map page loaded and ready (``MapView.pageReady``); the view sends it every
  entity it holds then;
- *markers*: the page holds all ``--entities`` markers (``cityops.markerCount()``);
- *map* (target): the marker canvas drawn with them: the first animation frame the page runs
  after *markers* (the canvas asks for its redraw when markers are put, and animation-frame
  callbacks run in the order asked for, so its redraw ran before that frame or in it).
  The page is asked from the GUI thread every ``--poll-ms`` (20) ms once ready, one question
  at a time (a script through ``MapView.evaluate_json``); *markers* is the page's clock when
  a question found them all (late by up to a poll interval), *map* the page's clock in that
  frame (both wall-clock ms, turned into the child's monotonic clock).

After the map is ready the bench reads the RSS and PSS of the app process and every
process below it (``bench._procmem``; the table shows RSS of the app + renderer and PSS of
all), then stops the app as ``kill <pid>`` does (SIGTERM: the window
closes, the session drains into the cache) and times that.

Targets (issue 14), printed as PASS/FAIL and never asserted: the median over the counted
runs of *painted* <= 1.0 s and of *map* <= 2.0 s (the worst is printed beside them), with the
cached state shown in every run. Exits 1 on FAIL.

The figures go to ``--json`` (default ``bench/results/startup.json``, not committed).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.abc
import importlib.util
import json
import logging
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if not __package__:  # run as a file (bench/startup.py): the checkout's packages first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

    from ui.main_window import MainWindow

# Only the standard library at the top: the child imports this module before the app, and
# what it imports here would count in the app's start-up. The bench's own modules are
# imported where the parent uses them.

log = logging.getLogger("bench.startup")

TARGET_WINDOW_S = 1.0
"""The window painted with the cached state within this many seconds of the spawn."""
TARGET_MAP_S = 2.0
"""The map ready with every marker drawn within this many seconds of the spawn."""
HISTORY_S = 3600.0
"""The cache's readings are spread over this last stretch of time (what the app reads back)."""
POLL_JS = """(function () {
  var page = window.cityops;
  var count = page.markerCount();
  var draws = page.drawTimes().length;
  var bench = window.__cityopsBench || (window.__cityopsBench = {armed: false, frameAt: null});
  if (!bench.armed && count >= EXPECTED) {
    bench.armed = true;
    requestAnimationFrame(function () {
      bench.frameAt = performance.timeOrigin + performance.now();
    });
  }
  return [count, draws, bench.frameAt, performance.timeOrigin + performance.now()];
})()"""
"""What the child asks the map page: its marker count, the canvas redraws since last asked,
when the animation frame it asked for once every marker was there ran (epoch ms, null
before) and the page's time now (epoch ms). Animation-frame callbacks run in the order
asked for, so the marker canvas's redraw, asked for when the markers were put, ran before
that frame's callback or in the same frame."""
EVENTS = ("python", "built", "painted", "page", "markers", "map")
"""The moments of a start, in order."""
REPO = Path(__file__).resolve().parents[1]


# -- the child: the `cityops` entry point, watched -------------------------------------------


class _Reporter:
    """Writes the child's moments to the bench, one JSON line each."""

    def __init__(self, fd: int) -> None:
        os.set_inheritable(fd, False)  # not passed on to QtWebEngine's processes
        self._out = os.fdopen(fd, "w", buffering=1, encoding="utf-8")

    def say(self, event: str, **details: Any) -> None:
        line = json.dumps({"event": event, "at": time.monotonic()} | details)
        with contextlib.suppress(OSError, ValueError):  # the bench is gone
            self._out.write(line + "\n")
            self._out.flush()


class _AfterImport(importlib.abc.MetaPathFinder):
    """Calls ``then(module)`` right after the module ``name`` is first executed, wherever it
    is imported from (the app imports ``ui.runtime`` only after choosing its theme)."""

    def __init__(self, name: str, then: Callable[[ModuleType], None]) -> None:
        self.name = name
        self.then = then

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module
        then = self.then

        def exec_module(module: ModuleType) -> None:
            execute(module)
            then(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _page_moment(epoch_ms: Any) -> float:
    """A moment the page gave (wall-clock ms) on this process's ``time.monotonic()``."""
    return time.monotonic() - (time.time() - float(epoch_ms) / 1000.0)


_KEPT: list[object] = []
"""The child's watcher (kept alive for the process)."""


def _watch(window: MainWindow, reporter: _Reporter, expected: int, poll_ms: int) -> None:
    """On the GUI thread: report the end of the window's first paint pass (with what it
    shows), the map page ready, all ``expected`` markers in it, and then a canvas redraw."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    script = POLL_JS.replace("EXPECTED", str(int(expected)))

    class Watch(QObject):
        def __init__(self) -> None:
            super().__init__(window)
            self.page_seen = False
            self.full = False
            self.asking = False
            self.draws = 0
            self.poller = QTimer(self)
            self.poller.setInterval(poll_ms)
            self.poller.timeout.connect(self.poll)
            window.map_view.pageReady.connect(self.page_ready)
            window.installEventFilter(self)

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
            if event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                QTimer.singleShot(0, self.painted)  # runs once this paint pass is done
            return False

        def painted(self) -> None:
            reporter.say(
                "painted",
                entities=len(window.entities),
                alarms=window.alarm_view.model.rowCount(),
                banner=window.banner.line("live") or "",
                label=window.freshness_label.text(),
                visible=window.isVisible(),
                size=[window.width(), window.height()],
            )

        def page_ready(self) -> None:
            if self.page_seen:
                return  # a reloaded page (its renderer restarted): the first one counts
            self.page_seen = True
            reporter.say("page")
            self.poller.start()

        def poll(self) -> None:
            if not self.asking:
                self.asking = True
                window.map_view.evaluate_json(script, self.answered)

        def answered(self, value: Any) -> None:
            self.asking = False
            if not self.poller.isActive() or not isinstance(value, list) or len(value) != 4:
                return
            count, draws, frame_at, page_now = value
            self.draws += int(draws or 0)
            if not self.full and int(count or 0) >= expected:
                self.full = True
                reporter.say("markers", at=_page_moment(page_now), count=count)
            if frame_at is not None:
                self.poller.stop()
                reporter.say("map", at=_page_moment(frame_at), count=count, draws=self.draws)

    _KEPT.append(Watch())


def child_main(argv: list[str]) -> int:
    """``--child --report-fd N --expect M [--poll-ms P] -- <cityops arguments>``: run
    ``ui.app.main`` on the cityops arguments, reporting the moments on descriptor N."""
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(prog="bench.startup --child")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--report-fd", type=int, required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--poll-ms", type=int, default=20)
    own = parser.parse_args(argv[:split])
    app_argv = argv[split + 1 :]
    reporter = _Reporter(own.report_fd)
    reporter.say("python")

    def wrap(module: Any) -> None:  # ui.runtime, just executed
        build = module.build_window

        def build_window(*args: Any, **kwargs: Any) -> Any:
            window, bridge = build(*args, **kwargs)
            reporter.say("built", entities=len(window.entities))
            _watch(window, reporter, own.expect, own.poll_ms)
            return window, bridge

        module.build_window = build_window

    sys.meta_path.insert(0, _AfterImport("ui.runtime", wrap))
    from ui.app import main as cityops_main

    sys.argv = ["cityops", *app_argv]
    return cityops_main(app_argv)


# -- what the app starts with ------------------------------------------------------------


def write_config(path: Path, broker_url: str, *, engine_process: bool = True) -> None:
    """The demo city's config as a file of its own, on ``broker_url``, with the bench feed
    (see the module notes), and ``[app] engine_process`` as given; checked by loading it as
    the app does."""
    from importlib.resources import files

    from bench._common import BENCH_FEED, BENCH_TOPIC
    from services.config import load_config

    folder = files("resources")
    text = folder.joinpath("demo.toml").read_text(encoding="utf-8")
    broker_line = 'url = "mqtt://127.0.0.1:1883"'
    district_file = 'file = "demo_city.json"'
    if text.count(broker_line) != 1 or district_file not in text or "[[feeds]]" not in text:
        raise RuntimeError("resources/demo.toml changed: bench.startup cannot adapt it")
    city = Path(str(folder.joinpath("demo_city.json")))
    text = text.replace(broker_line, f"url = {json.dumps(broker_url)}")
    text = text.replace(district_file, f"file = {json.dumps(str(city))}")
    feed = (
        f'[[feeds]]\nname = "{BENCH_FEED}"\ntopic = "{BENCH_TOPIC}"\nformat = "json"\n'
        'domain = "environment"\n\n'
    )
    head, tail = text.split("[[feeds]]", 1)
    if not engine_process:
        if "[app]\n" not in head:
            raise RuntimeError("resources/demo.toml changed: bench.startup cannot adapt it")
        head = head.replace("[app]\n", "[app]\nengine_process = false\n", 1)
    path.write_text(f"{head}{feed}[[feeds]]{tail}", encoding="utf-8")
    load_config(path)  # a ConfigError here is the bench's fault


def build_cache(
    config_path: Path, cache_dir: Path, entities: int, rounds: int, alarming: float
) -> dict[str, Any]:
    """The offline cache the app starts from, written by the app's own ingest code (see the
    module notes); returns what it holds."""
    from bench._common import BENCH_FEED, json_messages
    from services.config import load_config
    from services.ingest.pipeline import IngestPipeline
    from services.messages import RawMessage
    from services.store.cache import OfflineCache

    started = time.monotonic()
    config = load_config(config_path)
    cache = OfflineCache(cache_dir, retention_days=config.retention_days)
    pipeline = IngestPipeline(config, cache)  # not started: batches run on this thread
    messages = json_messages(0, 1, entities, alarming)
    now = time.time()
    step = HISTORY_S / max(1, rounds)
    for round_ in range(rounds):
        at = now - (rounds - 1 - round_) * step
        batch: list[RawMessage] = []
        for _ in range(entities):
            topic, payload = next(messages)
            record = json.loads(payload)
            record["ts"] = at
            batch.append(RawMessage(BENCH_FEED, topic, json.dumps(record).encode(), at))
        for first in range(0, len(batch), pipeline.max_batch):
            pipeline.process_batch(batch[first : first + pipeline.max_batch])
            pipeline.flush_cache(force=True)
    report = pipeline.stop()
    cache.close()
    if not report.complete:
        raise RuntimeError(f"the cache did not take everything: {report}")
    with OfflineCache(cache_dir, retention_days=config.retention_days) as check:
        snapshot = check.load_snapshot()
        readings = check.count("readings")
    size = sum(p.stat().st_size for p in cache_dir.iterdir() if p.is_file())
    return {
        "entities": len(snapshot.entities),
        "latest_values": len(snapshot.latest),
        "open_alarms": len(snapshot.alarms),
        "readings": readings,
        "bytes": size,
        "build_s": time.monotonic() - started,
    }


# -- one start -----------------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    """One start of the app."""

    index: int
    warmup: bool
    seconds: dict[str, float] = field(default_factory=dict)
    """Event -> seconds from the spawn (see :data:`EVENTS`)."""
    shown: dict[str, Any] = field(default_factory=dict)
    """What the window showed when its first frame was painted."""
    markers: int = 0
    memory: dict[str, Any] | None = None
    stop_s: float | None = None
    exit_code: int | None = None
    errors: list[str] = field(default_factory=list)

    def cached_state_shown(self, expected: int, alarms: int) -> bool:
        """Whether the first frame showed the cache's entities and alarms, as the last
        known state (the banner's NOT LIVE line saying so)."""
        banner = str(self.shown.get("banner", ""))
        return (
            self.shown.get("entities") == expected
            and self.shown.get("alarms") == alarms
            and banner.startswith("NOT LIVE")
            and f"last known state from the cache ({expected}" in banner.replace(",", "")
        )

    def figures(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "warmup": self.warmup,
            "seconds": self.seconds,
            "shown": self.shown,
            "markers": self.markers,
            "memory": self.memory,
            "stop_s": self.stop_s,
            "exit_code": self.exit_code,
            "errors": self.errors,
        }


class _Events:
    """Reads the child's JSON lines from a pipe, with a deadline."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = b""
        self.closed = False

    def next(self, deadline: float) -> dict[str, Any] | None:
        """The next event, or None at the deadline or when the child closed its end."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if self.closed or remaining <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], min(remaining, 0.5))
            if not ready:
                continue
            chunk = os.read(self.fd, 65536)
            if not chunk:
                self.closed = True
                continue
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        event: dict[str, Any] = json.loads(line)
        return event


def start_once(
    run: Run,
    *,
    args: argparse.Namespace,
    config_path: Path,
    pristine: Path,
    scratch: Path,
    alarms: int,
) -> None:
    """Spawn the app on a fresh copy of the cache, take its moments until the map is ready,
    sample its memory, stop it; the figures go into ``run``."""
    from bench._procmem import sample

    folder = scratch / f"start-{run.index}{'w' if run.warmup else ''}"
    cache_dir = folder / "cache"
    shutil.copytree(pristine, cache_dir)
    log_path = folder / "cityops.log"
    read_fd, write_fd = os.pipe()
    command = [
        sys.executable,
        "-m",
        "bench.startup",
        "--child",
        "--report-fd",
        str(write_fd),
        "--expect",
        str(args.entities),
        "--poll-ms",
        str(args.poll_ms),
        "--",
        "--config",
        str(config_path),
        "--cache-dir",
        str(cache_dir),
        "--lang",
        "en",
        "--log-level",
        args.log_level,
    ]
    events = _Events(read_fd)
    with log_path.open("wb") as output:
        spawned = time.monotonic()
        process = subprocess.Popen(
            command, cwd=REPO, stdout=output, stderr=subprocess.STDOUT, pass_fds=(write_fd,)
        )
    os.close(write_fd)
    try:
        deadline = spawned + args.timeout
        while "map" not in run.seconds:
            event = events.next(deadline)
            if event is None:
                if process.poll() is not None:
                    run.errors.append(f"cityops ended (exit code {process.returncode})")
                else:
                    missing = [name for name in EVENTS if name not in run.seconds]
                    run.errors.append(f"no {missing[0]} within {args.timeout:g} s")
                break
            name = str(event.pop("event"))
            run.seconds[name] = float(event.pop("at")) - spawned
            if name == "painted":
                run.shown = event
                if not run.cached_state_shown(args.entities, alarms):
                    run.errors.append("the first frame did not show the cached state")
            elif name == "markers":
                run.markers = int(event.get("count", 0))
        if process.poll() is None:
            run.memory = sample(process.pid).figures()
    finally:
        stopping = time.monotonic()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            run.exit_code = process.wait(args.stop_timeout)
            run.stop_s = time.monotonic() - stopping
        except subprocess.TimeoutExpired:
            run.errors.append(f"cityops did not stop within {args.stop_timeout:g} s")
            process.kill()
            run.exit_code = process.wait()
        os.close(read_fd)
    if run.exit_code not in (0, None) and not run.errors:
        run.errors.append(f"cityops exit code {run.exit_code}")
    if run.errors:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        run.errors.append("its output ends: " + " | ".join(tail))


# -- the table -------------------------------------------------------------------------------

HEADER = (
    f"{'run':>6} {'python':>7} {'built':>7} {'painted':>8} {'page':>7} {'markers':>8} "
    f"{'map':>7} {'entities':>9} {'alarms':>7} {'banner':>7} {'app+rend RSS':>13} "
    f"{'PSS all':>8} {'stop':>6} {'exit':>5}"
)


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_run(run: Run, expected: int, alarms: int) -> str:
    from bench._procmem import MB

    seconds = run.seconds
    memory = run.memory or {}
    rss = memory.get("app_renderer_rss")
    pss = memory.get("pss_total")
    banner = "ok" if run.cached_state_shown(expected, alarms) else ("-" if not run.shown else "NO")
    label = f"w{run.index}" if run.warmup else str(run.index)
    line = (
        f"{label:>6} {_s(seconds.get('python')):>7} {_s(seconds.get('built')):>7} "
        f"{_s(seconds.get('painted')):>8} {_s(seconds.get('page')):>7} "
        f"{_s(seconds.get('markers')):>8} {_s(seconds.get('map')):>7} "
        f"{run.shown.get('entities', '-'):>9} {run.shown.get('alarms', '-'):>7} {banner:>7} "
        f"{'-' if rss is None else f'{rss / MB:,.0f} MB':>13} "
        f"{'-' if pss is None else f'{pss / MB:,.0f} MB':>8} "
        f"{_s(run.stop_s):>6} {'-' if run.exit_code is None else run.exit_code:>5}"
    )
    if run.errors:
        line += "  ! " + "; ".join(run.errors)
    return line


def summarize(runs: Sequence[Run], expected: int, alarms: int) -> tuple[dict[str, Any], bool]:
    """Median and worst of each moment over the counted runs, and the verdicts (printed)."""
    counted = [run for run in runs if not run.warmup]
    summary: dict[str, Any] = {}
    print()
    print(
        f"{'moment':>8} {'median':>8} {'worst':>8} {'best':>8}  (s from the spawn, "
        f"{len(counted)} runs)"
    )
    for name in EVENTS:
        values = [run.seconds[name] for run in counted if name in run.seconds]
        missing = len(counted) - len(values)
        figures = {
            "median": statistics.median(values) if values else None,
            "worst": max(values) if values and not missing else None,
            "best": min(values) if values else None,
            "missing": missing,
        }
        summary[name] = figures
        worst = _s(figures["worst"]) if not missing else f"({missing} missing)"
        print(f"{name:>8} {_s(figures['median']):>8} {worst:>8} {_s(figures['best']):>8}")
    passed = bool(counted)
    for name, target, what in (
        ("painted", TARGET_WINDOW_S, "window painted with the cached state"),
        ("map", TARGET_MAP_S, "map ready with its markers drawn"),
    ):
        figures = summary[name]
        ok = (
            figures["median"] is not None and not figures["missing"] and figures["median"] <= target
        )
        passed = passed and ok
        worst = figures["worst"]
        within = "" if worst is None else (" (within)" if worst <= target else " (over)")
        print(
            f"{'PASS' if ok else 'FAIL'}  {what}: median {_s(figures['median'])} s <= "
            f"{target:g} s; worst {_s(worst)} s{within}"
        )
    shown = all(run.cached_state_shown(expected, alarms) for run in counted) and bool(counted)
    passed = passed and shown
    print(
        f"{'PASS' if shown else 'FAIL'}  the first frame showed the cached state in every run "
        f"({expected:,} entities, {alarms:,} alarms, NOT LIVE: the last known state)"
    )
    clean = all(not run.errors for run in counted)
    passed = passed and clean
    if not clean:
        print("FAIL  some runs had errors (see the table)")
    summary["cached_state_shown"] = shown
    summary["passed"] = passed
    return summary, passed


# -- main -------------------------------------------------------------------------------------


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Start-up of a real cityops process on a 10,000-entity offline cache: "
        "spawn to the window painted with the cached state, and to the map drawn.",
    )
    parser.add_argument("--runs", type=int, default=5, help="counted starts (default %(default)s)")
    parser.add_argument(
        "--warmup", type=int, default=1, help="uncounted starts first (default %(default)s)"
    )
    parser.add_argument(
        "--entities", type=int, default=10_000, help="entities in the cache (default %(default)s)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=6,
        help="readings per entity in the cache, over the last hour (default %(default)s)",
    )
    parser.add_argument(
        "--alarming",
        type=float,
        default=0.05,
        help="share of stations swinging across the PM2.5 thresholds (default %(default)g)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds for a start (default %(default)g)"
    )
    parser.add_argument(
        "--stop-timeout",
        type=float,
        default=60.0,
        help="seconds for the app to stop after SIGTERM (default %(default)g)",
    )
    parser.add_argument(
        "--poll-ms",
        type=int,
        default=20,
        help="the map page is asked for its markers this often, once ready (default %(default)s)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="the app's --log-level (default %(default)s, the app's own default)",
    )
    parser.add_argument(
        "--json", type=Path, help="figures file (default bench/results/startup.json)"
    )
    parser.add_argument(
        "--engine-in-app",
        action="store_true",
        help="[app] engine_process = false: the session in the window's process (the design "
        "before the engine process)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0 or args.entities < 1 or args.rounds < 1:
        parser.error("--runs, --entities and --rounds must be positive, --warmup not negative")
    if not 0 <= args.alarming <= 1 or args.poll_ms < 1:
        parser.error("--alarming is a share (0 to 1); --poll-ms at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["--child"]:
        return child_main(arguments)
    from bench._common import (
        machine,
        prepare_environment,
        private_home,
        results_file,
        start_broker,
        write_json,
    )

    args = parse_arguments(arguments)
    prepare_environment()
    json_path: Path = args.json or results_file("startup.json")
    about = machine()
    print(
        f"bench.startup: {about['cpus']} CPUs ({about['cpu_model']}), load "
        f"{' '.join(f'{x:.2f}' for x in about['load_average'])}; {args.warmup} warm-up + "
        f"{args.runs} starts on a cache of {args.entities:,} entities",
        flush=True,
    )
    runs: list[Run] = []
    cache: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    passed = False
    interrupted = False
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        scratch = Path(folder)
        private_home(scratch / "home")  # the children inherit it
        broker = start_broker(scratch / "broker")
        try:
            config_path = scratch / "cityops.toml"
            write_config(config_path, broker.url, engine_process=not args.engine_in_app)
            pristine = scratch / "cache"
            cache = build_cache(config_path, pristine, args.entities, args.rounds, args.alarming)
            alarms = int(cache["open_alarms"])
            print(
                f"cache built in {cache['build_s']:.1f} s with the app's ingest: "
                f"{cache['entities']:,} entities, {cache['open_alarms']:,} open alarms, "
                f"{cache['readings']:,} readings over the last hour, "
                f"{cache['bytes'] / 1e6:.1f} MB; broker {broker.url}",
                flush=True,
            )
            print("seconds from the spawn; RSS/PSS when the map was ready", flush=True)
            print(HEADER, flush=True)
            for index in range(args.warmup + args.runs):
                warmup = index < args.warmup
                run = Run(index + 1 - (0 if warmup else args.warmup), warmup)
                runs.append(run)
                start_once(
                    run,
                    args=args,
                    config_path=config_path,
                    pristine=pristine,
                    scratch=scratch,
                    alarms=alarms,
                )
                print(format_run(run, args.entities, alarms), flush=True)
            summary, passed = summarize(runs, args.entities, alarms)
        except KeyboardInterrupt:
            interrupted = True
            print("\ninterrupted: the figures so far follow", file=sys.stderr)
        finally:
            broker.stop()
    minutes = (time.monotonic() - started) / 60.0
    print(f"run took {minutes:.1f} min; load average now {os.getloadavg()[0]:.2f}")
    write_json(
        json_path,
        {
            "script": "bench.startup",
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "options": {key: value for key, value in vars(args).items() if key != "json"},
            "machine": about,
            "load_average_end": os.getloadavg(),
            "minutes": minutes,
            "interrupted": interrupted,
            "targets": {"painted_s": TARGET_WINDOW_S, "map_s": TARGET_MAP_S},
            "cache": cache,
            "summary": summary,
            "runs": [run.figures() for run in runs],
        },
    )
    print(f"figures written to {json_path}")
    return 0 if passed and not interrupted else 1


if __name__ == "__main__":
    sys.exit(main())
