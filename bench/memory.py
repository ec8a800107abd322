"""Memory: RSS and PSS of CityOps and its QtWebEngine processes, at start and under a steady
load of 1-reading JSON for ``--minutes`` minutes.

Run (after ``make test``'s install)::

    .venv/bin/python -m bench.memory [--minutes 10] [--rate 5000] [--entities 10000]
        [--sample 10] [--json FILE]

What runs, each in a process of its own:

- a mosquitto of the bench's own on a free loopback port (defaults: anonymous, no
  persistence; ``$SYS`` counters every second);
- CityOps: its session and workstation window as ``cityops --demo`` shows them (offscreen,
  default layout, the map page loaded; ``bench._common.CityOpsProcess``), on the demo config
  with every broker pointed at the bench's mosquitto and a JSON feed ``bench`` on
  ``bench/air/#``, with a fresh offline cache;
- once CityOps is connected with its map loaded and ``--settle`` seconds have passed: the
  load generator's pacing loop (``bench._common.Publishers``, as ``cityops sim --rate``)
  publishing ``--rate`` messages/s (5,000) of 1-reading JSON (``{"id", "lat", "lon", "pm25",
  "ts"}``) of ``--entities`` stations (10,000, 5 % of them swinging across the PM2.5 alarm
  thresholds) at QoS 0 for ``--minutes`` minutes.

How it measures: ``/proc/<pid>/smaps_rollup`` (``bench._procmem``) of the app process and
every process below it, sorted by kind: the app, its own helper processes if it has any
(counted with the app), the QtWebEngine renderer(s), GPU process, zygotes and utility
processes. RSS counts every page a process maps (pages the app and its renderer share count
in both); PSS shares each page out between the processes mapping it, so the PSS of every
process summed is what the whole tree costs; but libraries are shared with other programs
on the machine too, so PSS moves by tens of MB when another Qt program starts or ends (on a
shared machine, read its growth with care). USS (private pages only) moves with the app
alone; it is in the growth table.

Sampled at start (after the settle, before publishing), every ``--sample`` seconds while
publishing, and at the end (the moment publishing stops). One line is printed at start,
after each minute and at the end: RSS and PSS of the app and of the renderer, PSS of the
other QtWebEngine processes, RSS of the app + renderer, PSS of every process, what the
broker received since the line before (msg/s), the messages it dropped since publishing
began because CityOps did not read them in time, the cores CityOps used (its whole process
tree) and the machine's load. After the end the app is drained (its ingest catches up and
writes to the cache) and its processed messages are counted.

Growth, for RSS of the app + renderer, PSS and USS of every process, and RSS and PSS of the
app and of the renderer: end - start, the peak, and per 10 minutes: the least-squares slope
of the samples after ``--warmup`` minutes of load (default a third of the run, at most 2
minutes: the app's state of 10,000 entities and its caches fill at first).

Then RSS at start and at the end of each process of the app and of its renderer, to see
which grew: with the engine process, the app's helper is the engine and the engine's are
its MQTT receivers. (The engine's state hub keeps a bounded recent history, 3 million points
over all series, ``services.limits.HUB_POINTS_BUDGET``: at 5,000 readings a second it fills
in about 10 minutes, and the engine's RSS grows by about 70 MB until it is full.)

Target (issue 14), printed as PASS/FAIL and never asserted: RSS of the app + its renderer
<= 500 MB at every sample (the peak is judged), with the publishers reaching 95 % of
``--rate``. Exits 1 on FAIL.

The figures and every sample go to ``--json`` (default ``bench/results/memory.json``, not
committed).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if not __package__:  # run as a file (bench/memory.py): the checkout's packages first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    CityOpsOptions,
    CityOpsProcess,
    Publishers,
    PublishPlan,
    add_app_arguments,
    machine,
    prepare_environment,
    results_file,
    start_broker,
    tree_cpu_seconds,
    write_json,
)
from bench._procmem import MB, TreeMemory, sample, slope_per_10_min

if TYPE_CHECKING:
    from tests.benchmarks.bench_soak import BrokerCounters

TARGET_RSS = 500 * MB
"""RSS of the app and its renderer at most this much."""
MIN_RATE_SHARE = 0.95
"""The publishers must reach this share of ``--rate`` for the figures to count."""


@dataclass(slots=True)
class Line:
    """One printed line: a sample with what happened since the line before."""

    label: str
    minutes: float
    memory: TreeMemory
    received_rate: float | None = None
    """Messages/s the broker received since the line before."""
    dropped: int | None = None
    """Messages the broker dropped since publishing began."""
    cores: float | None = None
    """CPU cores CityOps (with its QtWebEngine processes) used since the line before."""
    load: float = 0.0

    def figures(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "minutes": self.minutes,
            "received_rate": self.received_rate,
            "dropped": self.dropped,
            "cores": self.cores,
            "load": self.load,
            "memory": self.memory.figures(),
        }


HEADER = (
    f"{'min':>6} {'app RSS':>8} {'app PSS':>8} {'rend RSS':>9} {'rend PSS':>9} "
    f"{'web PSS':>8} {'app+rend RSS':>13} {'PSS all':>8} {'in msg/s':>9} {'dropped':>8} "
    f"{'cores':>6} {'load':>5}"
)


def _mb(value: float) -> str:
    return f"{value / MB:,.0f}"


def format_line(line: Line) -> str:
    memory = line.memory
    web = memory.pss("gpu", "zygote", "utility")
    rate = "-" if line.received_rate is None else f"{line.received_rate:,.0f}"
    dropped = "-" if line.dropped is None else f"{line.dropped:,}"
    cores = "-" if line.cores is None else f"{line.cores:.2f}"
    app_rss, app_pss = memory.rss("app", "helper"), memory.pss("app", "helper")
    return (
        f"{line.label:>6} {_mb(app_rss):>8} {_mb(app_pss):>8} {_mb(memory.rss('renderer')):>9} "
        f"{_mb(memory.pss('renderer')):>9} {_mb(web):>8} {_mb(memory.app_renderer_rss):>13} "
        f"{_mb(memory.pss()):>8} {rate:>9} {dropped:>8} {cores:>6} {line.load:>5.2f}"
    )


@dataclass(slots=True)
class Soak:
    """The samples of one run and the counters lines are made from."""

    app_pid: int
    counters: BrokerCounters
    began: float = 0.0
    """``time.monotonic()`` when publishing began."""
    samples: list[TreeMemory] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    _last: tuple[float, int | None, float] = (0.0, None, 0.0)
    """(monotonic, broker received, CityOps CPU s) at the line before."""
    _dropped_base: int | None = None

    def mark(self) -> None:
        """Remember the counters now (the base of the next line)."""
        self._last = (
            time.monotonic(),
            self.counters.get("received"),
            tree_cpu_seconds(self.app_pid),
        )

    def begin(self, began: float) -> None:
        self.began = began
        self._dropped_base = self.counters.get("dropped")

    def take(self) -> TreeMemory:
        memory = sample(self.app_pid)
        self.samples.append(memory)
        return memory

    def line(self, label: str) -> Line:
        """A sample now, with the counters since the line before; printed and kept."""
        memory = self.take()
        at, received, cpu = self._last
        now = time.monotonic()
        line = Line(label, (now - self.began) / 60.0 if self.began else 0.0, memory)
        line.load = os.getloadavg()[0]
        received_now = self.counters.get("received")
        if self.began and received is not None and received_now is not None and now > at:
            line.received_rate = (received_now - received) / (now - at)
        dropped_now = self.counters.get("dropped")
        if self.began and self._dropped_base is not None and dropped_now is not None:
            line.dropped = dropped_now - self._dropped_base
        if self.began and now > at and at:
            line.cores = (tree_cpu_seconds(self.app_pid) - cpu) / (now - at)
        self.mark()
        self.lines.append(line)
        print(format_line(line), flush=True)
        return line


# -- the verdict -----------------------------------------------------------------------------


def growth(
    soak: Soak, figure: str, start: TreeMemory, end: TreeMemory, warmup_min: float
) -> dict[str, Any]:
    """Start, end, peak and growth of one figure (see :func:`figure_of`)."""
    first, last = figure_of(start, figure), figure_of(end, figure)
    during = [m for m in soak.samples if m.at >= soak.began]
    points = [
        ((m.at - soak.began), float(figure_of(m, figure)))
        for m in during
        if m.at - soak.began >= warmup_min * 60.0
    ]
    peak = max(soak.samples, key=lambda m: figure_of(m, figure))
    return {
        "start": first,
        "end": last,
        "growth": last - first,
        "growth_share": (last - first) / first if first else math.nan,
        "peak": figure_of(peak, figure),
        "peak_minutes": max(0.0, (peak.at - soak.began) / 60.0),
        "per_10_min": slope_per_10_min(points),
        "fit_samples": len(points),
    }


def figure_of(memory: TreeMemory, figure: str) -> int:
    """``app_renderer_rss``, ``pss_total``, ``uss_total``, ``app_rss``, ``app_pss``,
    ``renderer_rss`` or ``renderer_pss`` of a sample (the app's own helpers count with the
    app)."""
    if figure == "app_renderer_rss":
        return memory.app_renderer_rss
    if figure == "pss_total":
        return memory.pss()
    if figure == "uss_total":
        return memory.uss()
    who, what = figure.rsplit("_", 1)
    kinds = ("app", "helper") if who == "app" else (who,)
    return memory.rss(*kinds) if what == "rss" else memory.pss(*kinds)


FIGURES = {
    "app_renderer_rss": "RSS app + renderer",
    "pss_total": "PSS, every process",
    "uss_total": "USS, every process",
    "app_rss": "RSS app",
    "app_pss": "PSS app",
    "renderer_rss": "RSS renderer",
    "renderer_pss": "PSS renderer",
}


def summarize(
    soak: Soak, args: argparse.Namespace, warmup_min: float, achieved: float | None
) -> tuple[dict[str, Any], bool]:
    """Growth of each figure and the verdicts (printed)."""
    summary: dict[str, Any] = {"warmup_min": warmup_min}
    if len(soak.lines) < 2:
        print("FAIL  no figures at the end of the run")
        return summary, False
    start, end = soak.lines[0].memory, soak.lines[-1].memory
    print()
    print(
        f"{'figure (MB)':<20} {'start':>7} {'end':>7} {'growth':>8} {'%':>6} {'peak':>7} "
        f"{'at min':>7} {'per 10 min':>11}"
    )
    for figure, label in FIGURES.items():
        figures = growth(soak, figure, start, end, warmup_min)
        summary[figure] = figures
        slope = figures["per_10_min"]
        print(
            f"{label:<20} {_mb(figures['start']):>7} {_mb(figures['end']):>7} "
            f"{figures['growth'] / MB:>+8.1f} {figures['growth_share'] * 100:>+6.1f} "
            f"{_mb(figures['peak']):>7} {figures['peak_minutes']:>7.1f} "
            f"{'-' if slope is None else f'{slope / MB:+.1f}':>11}"
        )
    print(
        f"(per 10 min: the least-squares slope of the {summary['pss_total']['fit_samples']} "
        f"samples after {warmup_min:.1f} min of load)"
    )
    peak = summary["app_renderer_rss"]["peak"]
    ok = peak <= TARGET_RSS
    print(
        f"{'PASS' if ok else 'FAIL'}  RSS of the app + renderer <= {TARGET_RSS / MB:.0f} MB: "
        f"peak {_mb(peak)} MB (start {_mb(summary['app_renderer_rss']['start'])}, end "
        f"{_mb(summary['app_renderer_rss']['end'])}); PSS of every process: end "
        f"{_mb(summary['pss_total']['end'])} MB"
    )
    loaded = achieved is not None and achieved >= MIN_RATE_SHARE * args.rate
    print(
        f"{'PASS' if loaded else 'FAIL'}  the load: published "
        f"{'-' if achieved is None else f'{achieved:,.0f}'} msg/s (>= {MIN_RATE_SHARE:.0%} of "
        f"{args.rate:,.0f})"
    )
    summary["target_rss"] = TARGET_RSS
    summary["passed"] = ok and loaded
    summary["by_process"] = by_process(start, end)
    return summary, ok and loaded


def by_process(start: TreeMemory, end: TreeMemory) -> list[dict[str, Any]]:
    """RSS of each process of the app and of its renderer at start and at the end (printed):
    which of them grew (the app's helpers by their parent: with the engine process, the
    app's child is the engine and the engine's are the MQTT receivers)."""
    ended = {process.pid: process for process in end.processes}
    rows: list[dict[str, Any]] = []
    print()
    print(f"{'process (RSS MB)':<28} {'start':>7} {'end':>7} {'growth':>8}")
    for process in start.processes:
        if process.kind not in ("app", "helper", "renderer"):
            continue
        last = ended.get(process.pid)
        label = process.kind if process.kind != "helper" else f"helper of {process.parent}"
        label = f"{label} ({process.pid})"
        after = last.rss if last is not None else None
        growth = "gone" if after is None else f"{(after - process.rss) / MB:+.1f}"
        ended_mb = "-" if after is None else _mb(after)
        print(f"{label:<28} {_mb(process.rss):>7} {ended_mb:>7} {growth:>8}")
        rows.append(
            {
                "pid": process.pid,
                "kind": process.kind,
                "parent": process.parent,
                "start_rss": process.rss,
                "end_rss": after,
            }
        )
    return rows


# -- main -------------------------------------------------------------------------------------


def run(args: argparse.Namespace, scratch: Path, result: dict[str, Any]) -> Soak | None:
    """CityOps under the load, sampled; the figures go into ``result`` as they come."""
    from tests.benchmarks.bench_soak import BrokerCounters

    broker = start_broker(scratch / "broker")
    counters = BrokerCounters(broker.port)
    cityops = CityOpsProcess(
        CityOpsOptions(
            broker_url=broker.url,
            cache_dir=scratch / "cache",
            home=scratch / "home",
            with_bench_feed=True,
            log_level=args.log_level,
            engine_process=not args.engine_in_app,
            log_file=None if args.app_output else scratch / "cityops.log",
        )
    )
    publishers: Publishers | None = None
    soak: Soak | None = None
    try:
        result["cityops_ready"] = cityops.start(timeout=args.ready_timeout)
        soak = Soak(cityops.pid, counters)
        print(
            f"CityOps (pid {cityops.pid}) connected with its map loaded "
            f"{result['cityops_ready']['seconds_to_ready']:.1f} s after its window showed; "
            f"{args.settle:g} s to settle, then {args.rate:,.0f} msg/s of 1-reading JSON "
            f"({args.entities:,} stations) on {broker.url} for {args.minutes:g} min",
            flush=True,
        )
        time.sleep(args.settle)
        print("MB; web PSS: QtWebEngine's GPU, zygote and utility processes", flush=True)
        print(HEADER, flush=True)
        soak.mark()
        soak.line("start")
        seconds = args.minutes * 60.0
        publishers = Publishers(
            PublishPlan(
                kind="json",
                broker=broker.url,
                rate=args.rate,
                seconds=seconds,
                entities=args.entities,
                alarming=args.alarming,
            )
        )
        publishers.start()
        began = publishers.go()
        soak.begin(began)
        time.sleep(max(0.0, began - time.monotonic()))
        soak.mark()
        minute = 1
        minute_at = began + 60.0
        next_sample = began + args.sample
        end = began + seconds
        while True:
            if not cityops.process.is_alive():
                raise RuntimeError(
                    f"CityOps ended (exit code {cityops.process.exitcode}){cityops.log_tail()}"
                )
            now = time.monotonic()
            if now >= end:
                break
            time.sleep(max(0.0, min(next_sample, minute_at, end) - now))
            now = time.monotonic()
            if now >= end:
                break
            if now >= minute_at:
                soak.line(f"{minute}")
                minute += 1
                minute_at += 60.0
                next_sample = now + args.sample
            elif now >= next_sample:
                soak.take()
                next_sample += args.sample
        soak.line("end")
        reports = publishers.finish(timeout=120.0)
        published = sum(int(r["delivered"]) for r in reports)
        elapsed = max((float(r["elapsed_s"]) for r in reports), default=0.0)
        result["published"] = published
        result["achieved"] = published / elapsed if elapsed > 0 else None
        result["publisher_errors"] = publishers.errors + [
            str(r["error"]) for r in reports if r.get("error")
        ]
        drained = cityops.request(("drain", published, 5.0, 300.0), timeout=400.0)
        result["drained"] = drained
        print(
            f"published {published:,} messages ({result['achieved'] or 0:,.0f} msg/s); "
            f"CityOps processed {drained['processed']:,}, stored {drained['samples']:,} "
            f"readings, dropped {drained['dropped_readings']:,} (drained in "
            f"{drained['drain_s']:.1f} s)",
            flush=True,
        )
    finally:
        if publishers is not None:
            publishers.stop()
        result["cityops_stop"] = cityops.stop()
        log_file = cityops.options.log_file
        if log_file is not None and log_file.exists():
            text = log_file.read_text(encoding="utf-8", errors="replace")
            result["cityops_log_tail"] = text.splitlines()[-40:]
        counters.stop()
        broker.stop()
    return soak


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="RSS and PSS of CityOps (window open) and its QtWebEngine processes, at "
        "start and under a steady load of 1-reading JSON.",
    )
    parser.add_argument(
        "--minutes", type=float, default=10.0, help="minutes of load (default %(default)g)"
    )
    parser.add_argument(
        "--rate", type=float, default=5000.0, help="messages per second (default %(default)g)"
    )
    parser.add_argument(
        "--entities", type=int, default=10_000, help="stations publishing (default %(default)s)"
    )
    parser.add_argument(
        "--alarming",
        type=float,
        default=0.05,
        help="share of stations swinging across the PM2.5 thresholds (default %(default)g)",
    )
    parser.add_argument(
        "--sample",
        type=float,
        default=10.0,
        help="seconds between samples (lines are printed each minute; default %(default)g)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        help="minutes of load left out of the growth fit (default: a third of the run, at most 2)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=10.0,
        help="seconds between CityOps being ready and the start figures (default %(default)g)",
    )
    add_app_arguments(parser, "memory")
    args = parser.parse_args(argv)
    if not (args.minutes > 0 and args.rate > 0 and args.sample > 0 and args.entities > 0):
        parser.error("--minutes, --rate, --sample and --entities must be positive")
    if not 0 <= args.alarming <= 1 or args.settle < 0:
        parser.error("--alarming is a share (0 to 1); --settle not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    prepare_environment()
    json_path: Path = args.json or results_file("memory.json")
    warmup_min = args.warmup if args.warmup is not None else min(2.0, args.minutes / 3.0)
    about = machine()
    print(
        f"bench.memory: {about['cpus']} CPUs ({about['cpu_model']}), "
        f"{about['memory_bytes'] / 2**30:.0f} GiB, load "
        f"{' '.join(f'{x:.2f}' for x in about['load_average'])}; {args.rate:,.0f} msg/s for "
        f"{args.minutes:g} min",
        flush=True,
    )
    result: dict[str, Any] = {}
    soak: Soak | None = None
    summary: dict[str, Any] = {}
    passed = False
    interrupted = False
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as scratch:
        try:
            soak = run(args, Path(scratch), result)
        except KeyboardInterrupt:
            interrupted = True
            print("\ninterrupted: the figures so far follow", file=sys.stderr)
        except RuntimeError as error:  # CityOps or the publishers did not start or went away
            result["error"] = str(error)
            print(f"stopped: {error}", file=sys.stderr)
    if soak is not None:
        summary, passed = summarize(soak, args, warmup_min, result.get("achieved"))
    passed = passed and "error" not in result
    minutes = (time.monotonic() - started) / 60.0
    print(f"run took {minutes:.1f} min; load average now {os.getloadavg()[0]:.2f}")
    write_json(
        json_path,
        {
            "script": "bench.memory",
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "options": {key: value for key, value in vars(args).items() if key != "json"},
            "machine": about,
            "load_average_end": os.getloadavg(),
            "minutes": minutes,
            "interrupted": interrupted,
            "summary": summary,
            "run": result,
            "lines": [line.figures() for line in soak.lines] if soak else [],
            "samples": [memory.figures() for memory in soak.samples] if soak else [],
        },
    )
    print(f"figures written to {json_path}")
    return 0 if passed and not interrupted else 1


if __name__ == "__main__":
    sys.exit(main())
