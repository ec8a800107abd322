"""Ingest through a real broker: CityOps against a bare paho subscriber, at rising rates.

Run (after ``make test``'s install)::

    .venv/bin/python -m bench.ingest [--rates 1000,2000,...] [--seconds 10]
        [--formats json,demo] [--qos 0] [--entities 2000] [--json FILE]

What runs, for each message format (``json``: 1-reading JSON messages of ``--entities``
stations on ``bench/air/<station>``; ``demo``: the demo city in its real formats, NGSI-LD,
SenML, SensorThings, OwnTracks, CAP and plain JSON, as ``cityops sim`` sends it), each in a
process of its own and all at the same time:

- a mosquitto of the bench's own on a free loopback port (defaults: anonymous, no
  persistence, ``max_queued_messages`` 1000; ``$SYS`` counters every second);
- the reference: a bare paho-mqtt subscriber whose ``on_message`` only counts, subscribed
  to the same topic filters as CityOps;
- CityOps: its session and workstation window as ``cityops --demo`` shows them (offscreen,
  default layout, the map page loaded), on the demo config with every broker pointed at the
  bench's mosquitto (and, for ``json``, a JSON feed ``bench`` on ``bench/air/#``); its
  MQTT received in a child process per broker as the app does by default, or with
  ``--mqtt-in-app`` on a thread of its own process (the design before issue 14; run both to
  compare);
- per rate, ``--seconds`` of paced publishing by the load generator's pacing loop (as
  ``cityops sim --rate``), in one process per 15,000 msg/s of JSON or 10,000 of the demo
  city's formats (at most one per CPU).

Both subscribers are fresh for each format and stay connected through all its rates.
Every message is QoS ``--qos`` (0 by default) end to end: published with it, and both
subscribers subscribe with it.

How it counts, per rate: *published* is what the publishers handed to the broker
connection (written to the socket at QoS 0, acknowledged at QoS 1) and the rate they
achieved; after publishing, each subscriber is drained (until it has as many as were
published, or nothing came for ``--quiet`` seconds). The bare subscriber's count is its
``on_message`` calls. CityOps' *committed* is taken after its ingest worker has written
everything it processed to the offline cache (``IngestPipeline.sync``, as the app does on
closing): for ``json`` the new rows in the cache's readings (every message is one reading
with its own time, so rows = messages); for ``demo`` (several readings per message, and
OwnTracks times in whole seconds, which the cache keeps once) the messages the ingest worker
processed, minus the dead-lettered ones, counted only when the sync left nothing unsaved.
*Loss-free* means nothing lost at all (received or committed >= published).

Also printed: the messages the broker dropped (mosquitto's ``$SYS`` counter: a subscriber
that did not read in time), the CPU each side used (cores, over publishing and draining;
CityOps with its QtWebEngine processes; "other" is the rest of the machine's busy time:
another job running meanwhile makes the figures worse), the machine's load and, with
``--probe-ms 5``, the GUI thread's event-loop lag while publishing (a probe timer's
lateness, p99 and max). The probe is off by default: a timer of the bench's own on the GUI
thread, every 5 ms, competes for the GIL with what is measured here (``bench.ui`` is the
script for the lag).

Target (issue 14), printed as PASS/FAIL and never asserted: CityOps' highest loss-free
rate is at least 0.9 x the bare subscriber's, up to what the machine can publish (which
must be at least 20,000 msg/s). The highest loss-free rate is the achieved rate of the
highest step with no loss at it and at every step below. Exits 1 on FAIL.

The figures go to ``--json`` (default ``bench/results/ingest.json``, not committed).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if not __package__:  # run as a file (bench/ingest.py): the checkout's packages first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    SYS_INTERVAL_S,
    BareSubscriber,
    CityOpsOptions,
    CityOpsProcess,
    Publishers,
    PublishPlan,
    add_app_arguments,
    bench_config,
    child_named,
    cpu_seconds,
    machine,
    machine_busy_seconds,
    parse_rates,
    prepare_environment,
    results_file,
    start_broker,
    subscriptions,
    tree_cpu_seconds,
    write_json,
)

TARGET_RATIO = 0.9
"""CityOps' highest loss-free rate at least this share of the bare subscriber's."""
MIN_PUBLISH_RATE = 20_000.0
"""The rate the machine must publish for the comparison to count."""
DEFAULT_RATES = (1_000, 2_000, 5_000, 10_000, 15_000, 20_000, 30_000)
LABELS = {"json": "1-reading JSON", "demo": "the demo city's formats"}


@dataclass(slots=True)
class Row:
    """One rate of one format."""

    kind: str
    target: float
    published: int = 0
    achieved: float = 0.0
    """Messages per second the publishers achieved."""
    processes: int = 0
    bare_received: int = 0
    committed: int = 0
    """CityOps' messages committed to the cache (see the module docstring)."""
    processed: int = 0
    rejected: int = 0
    readings_stored: int = 0
    """New rows in the cache's readings (samples)."""
    settled: bool = False
    """Whether CityOps' cache took everything its ingest processed."""
    dropped_readings: int = 0
    broker_received: int | None = None
    broker_dropped: int | None = None
    lag_p99_ms: float | None = None
    lag_max_ms: float | None = None
    """CityOps' event-loop lag while publishing (with ``--probe-ms``)."""
    cores: dict[str, float] = field(default_factory=dict)
    load: float = 0.0
    drain_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    """What went wrong (the step counts as lossy for both)."""
    notes: list[str] = field(default_factory=list)

    @property
    def bare_lost(self) -> int:
        return max(0, self.published - self.bare_received)

    @property
    def lost(self) -> int:
        return max(0, self.published - self.committed)

    @property
    def bare_loss_free(self) -> bool:
        return self.published > 0 and not self.errors and self.bare_lost == 0

    @property
    def loss_free(self) -> bool:
        return self.published > 0 and not self.errors and self.settled and self.lost == 0

    def figures(self) -> dict[str, Any]:
        return asdict(self) | {
            "bare_lost": self.bare_lost,
            "lost": self.lost,
            "bare_loss_free": self.bare_loss_free,
            "loss_free": self.loss_free,
        }


def highest_loss_free(rows: list[Row], bare: bool) -> float:
    """The achieved rate of the highest step that, like every step below it, lost nothing
    (0 when the first one lost already)."""
    best = 0.0
    for row in sorted(rows, key=lambda r: r.target):
        if not (row.bare_loss_free if bare else row.loss_free):
            break
        best = row.achieved
    return best


# -- the table ----------------------------------------------------------------------------


def _lost(lost: int, published: int) -> str:
    if published <= 0:
        return "-"
    return f"{lost:,} ({lost / published * 100:.1f}%)" if lost else "0"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


HEADER = (
    f"{'target/s':>8} {'published':>10} {'achieved/s':>10} {'bare rcvd':>10} {'bare lost':>15} "
    f"{'CityOps':>10} {'CityOps lost':>15} {'readings':>10} {'brk drop':>9} "
    f"{'lag p99/max ms':>15} {'cores pub/mq/bare/app/other':>28} {'load':>5}"
)


def format_row(row: Row) -> str:
    cores = "/".join(
        f"{row.cores.get(k, 0.0):.2f}"
        for k in ("publishers", "mosquitto", "bare", "cityops", "other")
    )
    committed = f"{row.committed:,}" + ("" if row.settled else "*")
    lag = "-"
    if row.lag_p99_ms is not None and row.lag_max_ms is not None:
        lag = f"{row.lag_p99_ms:.0f}/{row.lag_max_ms:.0f}"
    line = (
        f"{row.target:>8,.0f} {row.published:>10,} {row.achieved:>10,.0f} "
        f"{row.bare_received:>10,} {_lost(row.bare_lost, row.published):>15} "
        f"{committed:>10} {_lost(row.lost, row.published):>15} {row.readings_stored:>10,} "
        f"{_count(row.broker_dropped):>9} "
        f"{lag:>15} {cores:>28} {row.load:>5.2f}"
    )
    if row.errors or row.notes:
        line += "  ! " + "; ".join([*row.errors, *row.notes])
    return line


# -- one format -----------------------------------------------------------------------------


def run_kind(kind: str, args: argparse.Namespace, scratch: Path, result: dict[str, Any]) -> None:
    """Every rate of one format, with its own broker and subscribers; the figures go into
    ``result`` as they come (``rows``: a :class:`Row` per rate)."""
    from tests.benchmarks.bench_soak import BrokerCounters

    rows: list[Row] = result["rows"]
    root = scratch / kind
    broker = start_broker(root / "broker")
    counters = BrokerCounters(broker.port)
    cityops: CityOpsProcess | None = None
    bare: BareSubscriber | None = None
    try:
        config = bench_config(broker.url, with_bench_feed=kind == "json", qos=args.qos)
        filters = subscriptions(config)
        cityops = CityOpsProcess(
            CityOpsOptions(
                broker_url=broker.url,
                cache_dir=root / "cache",
                home=root / "home",
                with_bench_feed=kind == "json",
                qos=args.qos,
                log_level=args.log_level,
                engine_process=not args.engine_in_app,
                probe_ms=args.probe_ms,
                log_file=None if args.app_output else root / "cityops.log",
                separate_process=not args.mqtt_in_app,
            )
        )
        bare = BareSubscriber(broker.port, filters, args.qos)
        bare.start()
        result["cityops_ready"] = cityops.start(timeout=args.ready_timeout)
        time.sleep(args.settle)
        app_base = cityops.request(("counts",))
        bare_base = bare.count()
        mosquitto = child_named("mosquitto")
        entities = args.entities if kind == "json" else args.demo_entities
        what = f"{entities:,} stations" if kind == "json" else "the demo city"
        if kind == "demo" and entities:
            what = f"the demo city scaled to {entities:,} devices"
        print(
            f"\n{LABELS[kind]} ({what}) on {broker.url}, QoS {args.qos}, {args.seconds:g} s per "
            f"rate; CityOps connected with its map loaded "
            f"{result['cityops_ready']['seconds_to_ready']:.1f} s after its window showed "
            f"(window {result['cityops_ready']['window']}, feeds "
            f"{len(result['cityops_ready']['feeds'])}); bare subscriber on {len(filters)} "
            "filters",
            flush=True,
        )
        print(HEADER, flush=True)
        for rate in args.rates:
            row = Row(kind, float(rate))
            rows.append(row)
            plan = PublishPlan(
                kind=kind,
                broker=broker.url,
                rate=float(rate),
                seconds=args.seconds,
                qos=args.qos,
                processes=args.publishers,
                entities=entities,
                alarming=args.alarming,
            )
            publishers = Publishers(plan)
            row.processes = publishers.count
            try:
                publishers.start()
            except RuntimeError as error:
                publishers.stop()
                row.errors.append(str(error))
                print(format_row(row), flush=True)
                break
            sys_before = (counters.get("received"), counters.get("dropped"))
            cpu_before = _cpu(cityops.pid, bare.pid, mosquitto)
            began = publishers.go()
            reports = publishers.finish(timeout=args.seconds + 90.0)
            ended = time.monotonic()
            row.errors.extend(publishers.errors)
            row.errors.extend(r["error"] for r in reports if r.get("error"))
            row.published = sum(int(r["delivered"]) for r in reports)
            elapsed = max((float(r["elapsed_s"]) for r in reports), default=0.0)
            row.achieved = row.published / elapsed if elapsed > 0 else 0.0
            if row.achieved < 0.95 * rate:
                plural = "process" if row.processes == 1 else "processes"
                row.notes.append(f"publishers short of the rate ({row.processes} {plural})")
            drain_timeout = max(60.0, args.seconds * 6)
            cityops.send(
                ("drain", app_base["processed"] + row.published, args.quiet, drain_timeout)
            )
            bare_now = bare.drain(bare_base + row.published, args.quiet, drain_timeout)
            app_now = cityops.answer(drain_timeout + 60.0)
            drained = time.monotonic()
            if args.probe_ms > 0:
                lag = cityops.request(("lag", began, ended))
                row.lag_p99_ms, row.lag_max_ms = lag["p99_ms"], lag["max_ms"]
            cpu_after = _cpu(cityops.pid, bare.pid, mosquitto)
            wall = max(1e-6, drained - began)
            used = {name: (cpu_after[name] - cpu_before[name]) / wall for name in cpu_after}
            busy = used.pop("machine")
            used["publishers"] = sum(float(r["cpu_s"]) for r in reports) / wall
            # everything else the machine did meanwhile (another job's tests, say)
            used["other"] = max(0.0, busy - sum(used.values()))
            row.cores = used
            row.drain_s = float(app_now["drain_s"])
            row.bare_received = bare_now - bare_base
            row.processed = app_now["processed"] - app_base["processed"]
            row.rejected = app_now["rejected"] - app_base["rejected"]
            row.readings_stored = app_now["samples"] - app_base["samples"]
            row.dropped_readings = app_now["dropped_readings"] - app_base["dropped_readings"]
            row.settled = bool(app_now["settled"]) and row.dropped_readings == 0
            if kind == "json":
                row.committed = row.readings_stored
                if row.readings_stored != row.processed - row.rejected:
                    row.notes.append(
                        f"{row.processed - row.rejected:,} messages processed but "
                        f"{row.readings_stored:,} readings stored"
                    )
            else:
                row.committed = row.processed - row.rejected
            # mosquitto's $SYS counters lag by up to their interval
            time.sleep(max(0.0, SYS_INTERVAL_S + 0.3 - (time.monotonic() - drained)))
            sys_after = (counters.get("received"), counters.get("dropped"))
            if None not in sys_before and None not in sys_after:
                row.broker_received = int(sys_after[0] or 0) - int(sys_before[0] or 0)
                row.broker_dropped = int(sys_after[1] or 0) - int(sys_before[1] or 0)
            row.load = os.getloadavg()[0]
            app_base, bare_base = app_now, bare_now
            print(format_row(row), flush=True)
    finally:
        if cityops is not None:
            result["cityops_stop"] = cityops.stop()
            log_file = cityops.options.log_file
            if log_file is not None and log_file.exists():
                text = log_file.read_text(encoding="utf-8", errors="replace")
                result["cityops_log_tail"] = text.splitlines()[-40:]
        if bare is not None:
            bare.stop()
        counters.stop()
        broker.stop()


def _cpu(cityops_pid: int, bare_pid: int, mosquitto_pid: int | None) -> dict[str, float]:
    return {
        "machine": machine_busy_seconds(),
        "cityops": tree_cpu_seconds(cityops_pid),
        "bare": cpu_seconds(bare_pid) or 0.0,
        "mosquitto": (cpu_seconds(mosquitto_pid) or 0.0) if mosquitto_pid else 0.0,
    }


# -- the verdict -------------------------------------------------------------------------------


def summarize(results: list[dict[str, Any]]) -> tuple[dict[str, Any], bool]:
    """Each format's highest loss-free rates, their ratio and the verdicts (also printed)."""
    print()
    summary: dict[str, Any] = {}
    passed = True
    top = 0.0
    for result in results:
        rows: list[Row] = result["rows"]
        kind = result["kind"]
        if "error" in result:
            passed = False
            print(f"FAIL  {LABELS[kind]}: the run stopped: {result['error'].splitlines()[0]}")
        if not rows:
            passed = False
            continue
        top = max([top, *(row.achieved for row in rows)])
        bare = highest_loss_free(rows, bare=True)
        app = highest_loss_free(rows, bare=False)
        ratio = app / bare if bare > 0 else math.nan
        ok = bare > 0 and ratio >= TARGET_RATIO
        passed = passed and ok
        shares = [
            (row.committed / row.bare_received, row.target) for row in rows if row.bare_received > 0
        ]
        lowest = min(shares, default=(math.nan, 0.0))
        summary[kind] = {
            "bare_highest_loss_free": bare,
            "cityops_highest_loss_free": app,
            "ratio": ratio,
            "passed": ok,
            "lowest_share_of_bare": lowest[0],
            "lowest_share_at_rate": lowest[1],
        }
        print(
            f"{LABELS[kind]}: highest loss-free rate: bare subscriber {bare:,.0f} msg/s, "
            f"CityOps {app:,.0f} msg/s, ratio {ratio:.2f}; CityOps committed at least "
            f"{lowest[0] * 100:.1f} % of what the bare subscriber received at every rate "
            f"(lowest at {lowest[1]:,.0f} msg/s)"
        )
        print(
            f"{'PASS' if ok else 'FAIL'}  {LABELS[kind]}: CityOps' highest loss-free rate "
            f">= {TARGET_RATIO:g} x the bare subscriber's ({ratio:.2f})"
        )
    reached = top >= MIN_PUBLISH_RATE * 0.95
    summary["max_achieved_rate"] = top
    summary["publisher_reached_target"] = reached
    print(
        f"{'PASS' if reached else 'FAIL'}  the machine published >= {MIN_PUBLISH_RATE:,.0f} "
        f"msg/s (within 5 %; highest achieved {top:,.0f} msg/s)"
    )
    passed = passed and reached
    summary["passed"] = passed
    return summary, passed


# -- main -------------------------------------------------------------------------------------


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Ingest through mosquitto: CityOps (window open, demo layout) against a "
        "bare paho subscriber at rising rates.",
    )
    parser.add_argument(
        "--rates",
        default=",".join(str(rate) for rate in DEFAULT_RATES),
        help="comma-separated messages/s, rising (default %(default)s)",
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="publishing per rate (default %(default)g)"
    )
    parser.add_argument(
        "--formats", default="json,demo", help="json and/or demo (default %(default)s)"
    )
    parser.add_argument("--qos", type=int, choices=(0, 1), default=0, help="default %(default)s")
    parser.add_argument(
        "--entities",
        type=int,
        default=2000,
        help="stations sending 1-reading JSON (default %(default)s)",
    )
    parser.add_argument(
        "--demo-entities",
        type=int,
        default=None,
        help="scale the demo city to this many devices (default: its own 101)",
    )
    parser.add_argument(
        "--alarming",
        type=float,
        default=0.05,
        help="share of JSON stations swinging across the PM2.5 thresholds (default %(default)g)",
    )
    parser.add_argument(
        "--publishers",
        type=int,
        default=0,
        help="publishing processes (default 0: one per 15,000 msg/s of json, 10,000 of demo, "
        "at most one per CPU)",
    )
    parser.add_argument(
        "--quiet",
        type=float,
        default=3.0,
        help="a subscriber is drained after this many seconds without a message "
        "(default %(default)g)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=2.0,
        help="seconds between CityOps being ready and the first rate (default %(default)g)",
    )
    parser.add_argument(
        "--probe-ms",
        type=int,
        default=0,
        help="a timer on CityOps' GUI thread every this many ms, whose lateness is the "
        "event-loop lag (default 0: none, the app's threads only)",
    )
    parser.add_argument(
        "--mqtt-in-app",
        action="store_true",
        help="CityOps receives MQTT on a thread of its own process ([[brokers]] "
        "separate_process = false, as before issue 14) instead of a child process per broker",
    )
    add_app_arguments(parser, "ingest")
    args = parser.parse_args(argv)
    args.rates = parse_rates(parser, args.rates)
    args.formats = [kind.strip() for kind in args.formats.split(",") if kind.strip()]
    unknown = [kind for kind in args.formats if kind not in LABELS]
    if unknown or not args.formats:
        parser.error(f"--formats: json and/or demo, not {unknown}")
    if not args.seconds > 0 or args.entities < 1 or args.quiet <= 0:
        parser.error("--seconds, --entities and --quiet must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    prepare_environment()
    json_path: Path = args.json or results_file("ingest.json")
    about = machine()
    print(
        f"bench.ingest: {about['cpus']} CPUs ({about['cpu_model']}), load "
        f"{' '.join(f'{x:.2f}' for x in about['load_average'])}; rates "
        f"{', '.join(f'{r:,.0f}' for r in args.rates)} msg/s, {args.seconds:g} s each; "
        f"formats {', '.join(args.formats)}; QoS {args.qos}; CityOps receives MQTT "
        f"{'on a thread of its process' if args.mqtt_in_app else 'in a child process'}",
        flush=True,
    )
    results: list[dict[str, Any]] = []
    interrupted = False
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as scratch:
        try:
            for kind in args.formats:
                result: dict[str, Any] = {"kind": kind, "label": LABELS[kind], "rows": []}
                results.append(result)
                try:
                    run_kind(kind, args, Path(scratch), result)
                except RuntimeError as error:  # a side that did not start or answer
                    result["error"] = str(error)
                    print(f"{LABELS[kind]}: stopped: {error}", file=sys.stderr)
        except KeyboardInterrupt:
            interrupted = True
            print("\ninterrupted: the figures so far follow", file=sys.stderr)
    summary, passed = summarize(results)
    minutes = (time.monotonic() - started) / 60.0
    print(f"run took {minutes:.1f} min; load average now {os.getloadavg()[0]:.2f}")
    write_json(
        json_path,
        {
            "script": "bench.ingest",
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "options": {key: value for key, value in vars(args).items() if key not in ("json",)},
            "machine": about,
            "load_average_end": os.getloadavg(),
            "minutes": minutes,
            "interrupted": interrupted,
            "target_ratio": TARGET_RATIO,
            "min_publish_rate": MIN_PUBLISH_RATE,
            "summary": summary,
            "formats": [
                {key: value for key, value in result.items() if key != "rows"}
                | {"rows": [row.figures() for row in result["rows"]]}
                for result in results
            ],
        },
    )
    print(f"figures written to {json_path}")
    return 0 if passed and not interrupted else 1


if __name__ == "__main__":
    sys.exit(main())
