"""History at the scale of issue 11: state as of T, series, bytes per raw reading.

Run: ``.venv/bin/python -m tests.benchmarks.bench_history [--series N] [--raw-hours H]
[--rate R] [--agg-days D] [--cache-dir DIR [--reuse]] [--json PATH]``.

Builds a real offline cache (schema made by :class:`OfflineCache`) holding, by default, the
issue's numbers: 10,000 entities with positions and one metric each, 2 h of raw readings
at 2,000 readings/s (14.4 M rows in ``samples``, written in time order across the series,
as live ingest writes them), 30 days of 1-minute aggregates (432 M rows, with 15-minute
aggregates over the same days) and alarm history (raises, acknowledgements with their
operator actions, clears). The bulk rows are generated in SQL into the real tables (a test
fixture, not ingest); the aggregates of the raw window itself are made by the app's own
rollup, and the alarm history by the cache's ``write_batch`` and ``record_actions``. Then
the app's own queries run on it and the figures are printed against the issue's targets
(PASS/FAIL), and written as JSON. Exits 1 on FAIL. Asserts nothing about time in tests.

The full scale needs about 30 GB of disk and a long build; ``--cache-dir`` keeps the cache
and ``--reuse`` skips the build when the cache there was built with the same options.

It also opens the review workspace on the cache (offscreen, the real map page) and times
slider moves, and builds and writes a 12 h handover report as PDF.

To add a measurement, write a function
``(cache, scale) -> dict[str, float]`` and append it to :data:`MEASUREMENTS`; add its
limits to :data:`TARGETS`. :func:`measure` runs them all.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from services.config import AppConfig, FeedConfig, KpiConfig, RuleConfig
from services.model import (
    Alarm,
    AlarmState,
    Condition,
    OperatorAction,
    Severity,
)
from services.store import history
from services.store.cache import FILE_NAME, OfflineCache

META_KEY = "bench_history"
"""The ``meta`` row that says the cache was built completely, and with which options."""
END_TS = 1_800_000_000.0
"""The end of the history (the "now" of the benchmark)."""
METRIC, FEED, UNIT = "pm25", "air", "µg/m³"
THRESHOLD = 75.0
USERS = ("wang.fang", "li.na", "zhang.wei", "liu.yang")
RUNS_STATE = 5
RUNS_SERIES = 20

TARGETS: dict[str, tuple[float, str]] = {
    "state_at_end_median_ms": (300.0, "state as of T (near the end of the raw window)"),
    "state_at_mid_median_ms": (300.0, "state as of T (middle of the raw window)"),
    "series_24h_median_ms": (100.0, "a 24 h series (1-minute tier)"),
    "bytes_per_raw_reading": (30.0, "bytes per raw reading on disk, with indexes"),
    "replay_move_median_ms": (250.0, "a replay slider move: every view redrawn after release"),
    "report_12h_s": (20.0, "a 12 h handover report, built and written as PDF"),
}
"""Figure name → (upper limit, what it is): the figures checked PASS/FAIL (issue 11)."""


@dataclass(frozen=True)
class Scale:
    """What the cache holds (stored in its ``meta`` table, so a reused cache says)."""

    series: int
    raw_hours: float
    rate: float
    agg_days: float
    transitions: int

    @property
    def end(self) -> float:
        return END_TS

    @property
    def raw_start(self) -> float:
        return END_TS - self.raw_hours * 3_600.0

    @property
    def agg_start(self) -> float:
        return math.floor((END_TS - self.agg_days * 86_400.0) / 900.0) * 900.0

    @property
    def raw_rows(self) -> int:
        return round(self.raw_hours * 3_600.0 * self.rate)

    def entity(self, index: int) -> str:
        """The id of entity ``index`` (0-based; its series has id ``index + 1``)."""
        return f"aq-{index:05d}"


# -- building -------------------------------------------------------------------------------


def _phase(key: str, what: str, timings: dict[str, float]) -> Callable[[], None]:
    """Start timing a build phase; call the result when it is done (kept as ``key``)."""
    began = time.perf_counter()
    print(f"  {what} …", flush=True)

    def done() -> None:
        timings[key] = time.perf_counter() - began
        print(f"  {what}: {timings[key]:.1f} s", flush=True)

    return done


def build(cache_dir: Path, scale: Scale) -> dict[str, float]:
    """Build the cache in ``cache_dir`` (replacing one there); returns phase times (s)."""
    for suffix in ("", "-wal", "-shm"):
        (cache_dir / (FILE_NAME + suffix)).unlink(missing_ok=True)
    timings: dict[str, float] = {}
    began = time.perf_counter()
    OfflineCache(cache_dir, retention_days=max(1.0, scale.raw_hours / 24.0 * 2)).close()
    path = cache_dir / FILE_NAME
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # A fixture being generated: no journal, no syncs, a large page cache.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -2000000")  # 2 GB
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        done = _phase("entities", "entities and series", timings)
        _build_entities(conn, scale)
        done()
        done = _phase("samples", f"raw samples ({scale.raw_rows:,} rows, time order)", timings)
        before = path.stat().st_size
        _build_samples(conn, scale)
        timings["samples_file_delta_bytes"] = path.stat().st_size - before
        done()
        rows_1m = scale.series * round((scale.raw_start - scale.agg_start) / 60.0)
        done = _phase(
            "agg_1m", f"1-minute aggregates before the raw window ({rows_1m:,} rows)", timings
        )
        _build_aggregates(conn, scale, "1m")
        done()
        done = _phase("agg_15m", "15-minute aggregates before the raw window", timings)
        _build_aggregates(conn, scale, "15m")
        done()
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    with OfflineCache(cache_dir, retention_days=3650) as cache:
        done = _phase("rollup", "rollup of the raw window (the app's own rollup)", timings)
        steps = cache.rollup(scale.end)
        done()
        timings["rollup_steps"] = steps
        done = _phase("alarms", f"alarm history ({scale.transitions:,} transitions)", timings)
        _build_alarms(cache, scale)
        done()
    timings["build"] = time.perf_counter() - began
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            (META_KEY, json.dumps({"scale": asdict(scale), "timings": timings})),
        )
    finally:
        conn.close()
    return timings


def _build_entities(conn: sqlite3.Connection, scale: Scale) -> None:
    """Entities on a grid over Yiyang, one series each (id = index + 1), their latest value."""
    side = max(1, math.isqrt(scale.series))
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO entities (id, name, type, domain, lat, lon, feed, updated_at)"
        " VALUES (?, ?, 'air_quality', 'environment', ?, ?, ?, ?)",
        (
            (
                scale.entity(i),
                f"Air station {i}",
                28.45 + 0.2 * (i // side) / side,
                112.20 + 0.3 * (i % side) / side,
                FEED,
                scale.end,
            )
            for i in range(scale.series)
        ),
    )
    conn.executemany(
        "INSERT INTO series (id, entity_id, metric, feed, unit) VALUES (?, ?, ?, ?, ?)",
        ((i + 1, scale.entity(i), METRIC, FEED, UNIT) for i in range(scale.series)),
    )
    conn.execute(
        "INSERT INTO latest (entity_id, metric, value, unit, ts, feed)"
        " SELECT entity_id, metric, 42.5, unit, ?, feed FROM series",
        (scale.end,),
    )
    conn.execute("COMMIT")


def _build_samples(conn: sqlite3.Connection, scale: Scale) -> None:
    """Reading ``n`` of the window is at ``raw_start + n / rate`` of series ``n % series + 1``:
    every series in turn, in time order, a minute of readings per statement."""
    chunk = max(1, round(scale.rate * 60.0))
    conn.execute("BEGIN")
    for first in range(0, scale.raw_rows, chunk):
        last = min(scale.raw_rows, first + chunk) - 1
        conn.execute(
            "WITH RECURSIVE c(n) AS (SELECT ?1 UNION ALL SELECT n + 1 FROM c WHERE n < ?2)"
            " INSERT INTO samples (series, ts, value)"
            " SELECT n % ?3 + 1, ?4 + n / ?5, ((n * 2654435761) % 3001) / 10.0 FROM c",
            (first, last, scale.series, scale.raw_start, float(scale.rate)),
        )
    conn.execute("COMMIT")


def _build_aggregates(conn: sqlite3.Connection, scale: Scale, tier: str) -> None:
    """Buckets of ``tier`` from ``agg_start`` to the raw window (where the rollup starts),
    series after series (each appended in key order: fast), with their watermark."""
    width = history.TIERS[tier]
    stop = math.floor(scale.raw_start / width) * width
    buckets = max(0, round((stop - scale.agg_start) / width))
    per_bucket = max(1, round(scale.rate * width / scale.series))
    conn.execute("DROP TABLE IF EXISTS temp.bucket_numbers")
    conn.execute("CREATE TEMP TABLE bucket_numbers (k INTEGER PRIMARY KEY)")
    conn.execute(
        "WITH RECURSIVE c(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM c WHERE k + 1 < ?)"
        " INSERT INTO temp.bucket_numbers SELECT k FROM c",
        (buckets,),
    )
    sql = (
        f"INSERT INTO agg_{tier} (series, bucket, n, min, max, sum, last, last_ts)"
        " SELECT ?1, ?2 + k * ?3, ?4, m - 3.3, m + 4.1, m * ?4, m + 0.7,"
        " ?2 + k * ?3 + ?3 - 5.0 + ?1 % 1000 / 2000.0"
        " FROM (SELECT k, 20.0 + ((?1 * 7919 + k * 104729) % 2000) / 10.0 AS m"
        " FROM temp.bucket_numbers ORDER BY k)"
    )
    step = max(1, scale.series // 20)
    conn.execute("BEGIN")
    for index in range(scale.series):
        conn.execute(sql, (index + 1, scale.agg_start, width, per_bucket))
        if (index + 1) % step == 0:
            conn.execute("COMMIT")
            print(f"    {tier}: {index + 1:,} of {scale.series:,} series", flush=True)
            conn.execute("BEGIN")
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        (f"rollup_{tier}", repr(stop)),
    )
    conn.execute("COMMIT")
    conn.execute("DROP TABLE temp.bucket_numbers")


def _alarm_cycles(scale: Scale) -> Iterator[tuple[int, float, float | None, float | None]]:
    """(entity index, raised, acknowledged or None, cleared or None) of each alarm cycle:
    three transitions a cycle, spread over the raw window, one entity each."""
    cycles = max(1, scale.transitions // 3)
    span = scale.end - scale.raw_start
    for j in range(cycles):
        raised = scale.raw_start + span * (j + 0.5) / cycles
        acked = raised + 30.0 + (j * 37) % 600 if j % 10 else None  # a tenth never acked
        cleared = raised + 60.0 + (j * 53) % 1_800
        yield (j * 7_919) % scale.series, raised, acked, cleared if cleared < scale.end else None


def _build_alarms(cache: OfflineCache, scale: Scale) -> None:
    """Alarm versions through ``write_batch`` (every transition into ``alarm_events``, the
    final version into ``alarms``) and acknowledgements through ``record_actions``."""
    events: list[Alarm] = []
    finals: dict[str, Alarm] = {}
    actions: list[tuple[OperatorAction, Alarm | None]] = []
    revision = 0
    for index, raised, acked, cleared in _alarm_cycles(scale):
        entity = scale.entity(index)
        value = THRESHOLD + 10.0 + index % 50
        alarm = Alarm(
            entity_id=entity,
            metric=METRIC,
            condition=Condition.HIGH,
            severity=Severity.HIGH if index % 3 else Severity.CRITICAL,
            state=AlarmState.UNACKNOWLEDGED,
            value=value,
            threshold=THRESHOLD,
            raised_at=raised,
            updated_at=raised,
            message=f"PM2.5 {value:.1f} above {THRESHOLD:g}",
        )
        versions = [alarm]
        if acked is not None and (cleared is None or acked < cleared):
            versions.append(
                replace(
                    versions[-1],
                    state=AlarmState.ACKNOWLEDGED,
                    updated_at=acked,
                    acked_at=acked,
                    acked_by=USERS[index % len(USERS)],
                )
            )
            actions.append(
                (
                    OperatorAction(
                        alarm.id,
                        "ack",
                        USERS[index % len(USERS)],
                        acked,
                        workstation="ws-1",
                        action_id=f"bench-ack-{len(actions)}",
                    ),
                    None,
                )
            )
        if cleared is not None:
            state = (
                AlarmState.NORMAL
                if versions[-1].state is AlarmState.ACKNOWLEDGED
                else AlarmState.RTN_UNACKNOWLEDGED
            )
            versions.append(
                replace(versions[-1], state=state, updated_at=cleared, value=THRESHOLD - 20.0)
            )
        for version in versions:
            revision += 1
            events.append(replace(version, revision=revision))
        finals[alarm.id] = events[-1]
    events.sort(key=lambda a: a.updated_at)
    cache.write_batch([], [], list(finals.values()), alarm_events=events)
    cache.record_actions(sorted(actions, key=lambda pair: pair[0].ts))


def built_scale(cache_dir: Path) -> tuple[Scale, dict[str, float]] | None:
    """The options a complete benchmark cache in ``cache_dir`` was built with, and its
    build's phase times; None when there is none."""
    path = cache_dir / FILE_NAME
    if not path.exists():
        return None
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (META_KEY,)).fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    if row is None:
        return None
    stored = json.loads(row[0])
    return Scale(**stored["scale"]), stored["timings"]


# -- measuring ------------------------------------------------------------------------------


def _times_ms(work: Callable[[int], object], runs: int) -> list[float]:
    times: list[float] = []
    for run in range(runs):
        began = time.perf_counter()
        work(run)
        times.append((time.perf_counter() - began) * 1_000.0)
    return times


def _summary(name: str, times: list[float]) -> dict[str, float]:
    return {
        f"{name}_median_ms": statistics.median(times),
        f"{name}_max_ms": max(times),
        f"{name}_first_ms": times[0],
    }


def measure_state_at(cache: OfflineCache, scale: Scale) -> dict[str, float]:
    """State as of T near the end and in the middle of the raw window, as the replay asks
    for it (``OfflineCache.state_at``), with counts that show it is complete."""
    figures: dict[str, float] = {}
    moments = {"end": scale.end - 1.0, "mid": (scale.raw_start + scale.end) / 2.0}
    for name, at in moments.items():
        found: list[int] = []

        def run(i: int, at: float = at, found: list[int] = found) -> None:
            snapshot = cache.state_at(at + i * 0.25)  # a slightly different T each run
            found[:] = [len(snapshot.entities), len(snapshot.latest), len(snapshot.alarms)]

        figures.update(_summary(f"state_at_{name}", _times_ms(run, RUNS_STATE)))
        figures[f"state_at_{name}_entities"] = found[0]
        figures[f"state_at_{name}_values"] = found[1]
        figures[f"state_at_{name}_alarms"] = found[2]
    return figures


def measure_series(cache: OfflineCache, scale: Scale) -> dict[str, float]:
    """A metric's series over 2 h, 24 h and 30 days ending at the end of the history, as the
    trend asks for it (resolution "auto"), a different entity each run."""
    figures: dict[str, float] = {}
    for name, span in (
        ("series_2h", 7_200.0),
        ("series_24h", 86_400.0),
        ("series_30d", 30 * 86_400.0),
    ):
        points: list[int] = []
        chosen: list[str] = []

        def run(
            i: int, span: float = span, points: list[int] = points, chosen: list[str] = chosen
        ) -> None:
            entity = scale.entity((i * 7_919 + 13) % scale.series)
            resolution, found = cache.series(
                entity, METRIC, scale.end - span, scale.end, now=scale.end
            )
            points.append(len(found))
            chosen.append(resolution)

        figures.update(_summary(name, _times_ms(run, RUNS_SERIES)))
        figures[f"{name}_points"] = statistics.median(points)
        print(f"  {name}: resolution {chosen[0]}, {points[0]:,} points")
    return figures


def measure_storage(cache: OfflineCache, scale: Scale) -> dict[str, float]:
    """Bytes on disk per raw reading (the ``samples`` table and any index on it, from the
    ``dbstat`` table: whole pages, free space in them included) and per aggregate row, and
    the file's size."""
    conn = sqlite3.connect(f"{cache.path.as_uri()}?mode=ro", uri=True)
    figures: dict[str, float] = {}
    try:
        raw = int(conn.execute("SELECT count(*) FROM samples").fetchone()[0])
        figures["raw_readings"] = raw
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        try:
            for table in ("samples", "agg_1m", "agg_15m"):
                # aggregate rows give the page count in ``pageno`` (their ``pgsize`` is a
                # 32-bit sum that wraps beyond 4 GiB in SQLite 3.40)
                pages = int(
                    conn.execute(
                        "SELECT coalesce(sum(pageno), 0) FROM dbstat WHERE aggregate = TRUE"
                        " AND name IN (SELECT name FROM sqlite_master WHERE tbl_name = ?)",
                        (table,),
                    ).fetchone()[0]
                )
                figures[f"{table}_bytes"] = pages * page_size
        except sqlite3.OperationalError:  # no dbstat in this SQLite: the build's file growth
            built = built_scale(cache.path.parent)
            figures["samples_bytes"] = built[1]["samples_file_delta_bytes"] if built else math.nan
        figures["bytes_per_raw_reading"] = figures["samples_bytes"] / max(1, raw)
        for tier in history.TIERS:
            if f"agg_{tier}_bytes" in figures:
                rows = int(conn.execute(f"SELECT count(*) FROM agg_{tier}").fetchone()[0])
                figures[f"agg_{tier}_rows"] = rows
                figures[f"bytes_per_agg_{tier}_row"] = figures[f"agg_{tier}_bytes"] / max(1, rows)
    finally:
        conn.close()
    figures["file_bytes"] = sum(
        p.stat().st_size for p in cache.path.parent.glob(FILE_NAME + "*") if p.is_file()
    )
    return figures


RUNS_REPLAY = 12
REPORT_HOURS = 12.0


def _qt_app() -> Any:
    """The one QApplication of the benchmark (offscreen, the map's URL scheme registered)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")
    from PySide6.QtWidgets import QApplication

    from ui.rendering import use_rendering
    from widgets.map_scheme import register_scheme

    app = QApplication.instance()
    if app is None:
        register_scheme()
        use_rendering()  # as the app chooses by default
        app = QApplication(["bench_history"])
    return app


def _wait(app: Any, done: Callable[[], bool], timeout: float = 60.0) -> None:
    """Run Qt's own event loop (as the app does: idle waits hold no Python lock) until
    ``done`` says so, checking every 2 ms."""
    from PySide6.QtCore import QEventLoop, QTimer

    if done():
        return
    loop = QEventLoop()
    deadline = time.monotonic() + timeout
    failed: list[bool] = []

    def check() -> None:
        if done():
            loop.quit()
        elif time.monotonic() > deadline:
            failed.append(True)
            loop.quit()

    timer = QTimer()
    timer.setInterval(2)
    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    if failed:
        raise TimeoutError("the window did not get there in time")


def _bench_config() -> AppConfig:
    return AppConfig(
        source="bench_history",
        feeds=(FeedConfig(name=FEED, topic="a/#", domain="environment"),),
        rules=(RuleConfig(metric=METRIC, high=THRESHOLD),),
        kpis=(
            KpiConfig(name="Mean PM2.5", metric=METRIC, maximum=250.0, unit=UNIT),
            KpiConfig(name="Worst PM2.5", metric=METRIC, aggregate="max", maximum=250.0),
        ),
    )


def measure_replay(cache: OfflineCache, scale: Scale) -> dict[str, float]:
    """A slider move in the review workspace: from the release (``seek``) until every view
    shows the new moment — the moment read on the replay thread, the delta applied to the
    alarm list, gauges, details and trend, the map's batch sent and run in the page (a
    script round trip after it). The window first shows the live state (the state at the
    end), as when a supervisor switches to review."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from services.model import Delta
    from services.store.replay import ViewState
    from ui.bridge import DeltaBridge
    from ui.main_window import MainWindow
    from ui.review import ReviewControls, live_view_state, open_replay_source

    app = _qt_app()
    window = MainWindow(_bench_config(), acknowledge=lambda ids, note: None)
    window.resize(1600, 1000)
    window.show()
    _wait(app, window.map_view.is_ready)
    live = ViewState.from_snapshot(cache.state_at(scale.end), scale.end)
    window.apply_delta(ViewState().delta_to(live))
    window.refresh_map()
    bridge = DeltaBridge(Delta, parent=window)
    bridge.deltaReady.connect(window.apply_delta)

    review = ReviewControls(
        window,
        bridge,
        open_replay_source(cache.path, 3650.0),
        shifts=("07:00", "15:00", "23:00"),
        clock=lambda: scale.end,
    )
    entity = live.entities.get(scale.entity(0))
    if entity is not None:
        window.show_details(entity)
        window.show_trend(entity)
    assert len(live_view_state(window).entities) == len(live.entities)
    figures: dict[str, float] = {}
    try:
        if not review.enter("custom", scale.raw_start, (scale.raw_start, scale.end)):
            raise RuntimeError("the review did not start")
        _wait(app, lambda: review.shown_at == scale.raw_start)
        changes: list[int] = []
        shown_ms: list[float] = []

        def move(i: int) -> None:
            at = scale.raw_start + ((i + 1) * 0.37 % 1.0) * (scale.end - scale.raw_start)
            began = time.perf_counter()
            review.seek(at)
            _wait(app, lambda: review.shown_at == at)
            shown_ms.append((time.perf_counter() - began) * 1_000.0)
            answered: list[object] = []
            window.map_view.evaluate("1", answered.append)  # after the map's batch ran
            _wait(app, lambda: bool(answered))
            changes.append(len(review._shown.alarms))

        figures.update(_summary("replay_move", _times_ms(move, RUNS_REPLAY)))
        # the part before the map page: read, delta, every Qt view, the map's batch sent
        figures["replay_move_qt_median_ms"] = statistics.median(shown_ms)
        figures["replay_entities"] = len(window.entities)
        figures["replay_alarms_listed"] = statistics.median(changes)
    finally:
        review.leave()
        bridge.stop()
        window.close()
        window.deleteLater()  # with its page, before the web profile goes at exit
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        app.processEvents()
    return figures


def measure_report(cache: OfflineCache, scale: Scale) -> dict[str, float]:
    """The handover report of the last 12 hours (or of everything the cache holds when it
    covers less): built from the cache, then written as PDF, as ``cityops report`` does."""
    from services.report.handover import build_report
    from ui.report_render import write_report

    _qt_app()
    until = scale.end
    since = until - REPORT_HOURS * 3_600.0
    with tempfile.TemporaryDirectory(prefix="bench-report-") as folder:
        out = Path(folder) / "report.pdf"
        began = time.perf_counter()
        made = build_report(cache.path, _bench_config(), since, until, now=until)
        built = time.perf_counter() - began
        write_report(made, out)
        total = time.perf_counter() - began
        size = out.stat().st_size
    return {
        "report_12h_build_s": built,
        "report_12h_s": total,
        "report_12h_pdf_bytes": float(size),
    }


Measurement = Callable[[OfflineCache, Scale], dict[str, float]]
MEASUREMENTS: list[Measurement] = [
    measure_state_at,
    measure_series,
    measure_storage,
    measure_replay,
    measure_report,
]
"""The measurements :func:`measure` runs, in order, on the open benchmark cache. Hook: append
a function ``(cache, scale) -> {figure name: value}`` (names ending ``_ms`` are times) to
add one, e.g. a 12 h report or a replay slider move, and its limit to :data:`TARGETS`."""


def measure(cache_dir: Path) -> dict[str, float]:
    """Every figure of :data:`MEASUREMENTS` on the benchmark cache built in ``cache_dir``
    (with the build's own figures and how long the cache took to open)."""
    built = built_scale(cache_dir)
    if built is None:
        raise SystemExit(f"no complete benchmark cache in {cache_dir}")
    scale, timings = built
    figures: dict[str, float] = {
        "build_s": timings["build"],
        **{
            f"build_{name}_s": value
            for name, value in timings.items()
            if name != "build" and not name.endswith(("_bytes", "_steps"))
        },
        "rollup_steps": timings.get("rollup_steps", math.nan),
        # each step holds the cache's one connection (ingest waits): its mean length
        "rollup_step_mean_s": timings["rollup"] / max(1.0, timings.get("rollup_steps", 1.0)),
    }
    began = time.perf_counter()
    with OfflineCache(cache_dir, retention_days=3650) as cache:
        figures["open_s"] = time.perf_counter() - began  # includes the integrity check
        for measurement in MEASUREMENTS:
            print(f"measuring {measurement.__name__} …", flush=True)
            figures.update(measurement(cache, scale))
    return figures


# -- reporting ------------------------------------------------------------------------------


def _show(name: str, value: float) -> str:
    if name.endswith("_bytes"):
        return f"{value / 1e6:,.1f} MB"
    if name.endswith("_ms"):
        return f"{value:,.1f} ms"
    if name.endswith("_s"):
        return f"{value:,.1f} s"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def report(figures: dict[str, float]) -> dict[str, bool]:
    """Print the figures as a table, then PASS/FAIL for each target; returns the verdicts."""
    width = max(len(name) for name in figures)
    for name, value in figures.items():
        print(f"{name:<{width}}  {_show(name, value):>16}")
    verdicts: dict[str, bool] = {}
    print()
    for name, (limit, what) in TARGETS.items():
        if name not in figures:
            print(f"SKIP  {what}: {name} not measured")
            continue
        ok = verdicts[name] = figures[name] <= limit
        print(f"{'PASS' if ok else 'FAIL'}  {what}: {_show(name, figures[name])} (≤ {limit:g})")
    return verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=10_000, help="entities, one series each")
    parser.add_argument("--raw-hours", type=float, default=2.0, help="hours of raw readings")
    parser.add_argument("--rate", type=float, default=2_000.0, help="raw readings per second")
    parser.add_argument("--agg-days", type=float, default=30.0, help="days of aggregates")
    parser.add_argument("--transitions", type=int, default=2_000, help="alarm transitions")
    parser.add_argument("--cache-dir", type=Path, help="where the cache is (default: a temp dir)")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse a cache built with these options"
    )
    parser.add_argument("--json", type=Path, default=Path("bench_history.json"))
    args = parser.parse_args()
    scale = Scale(args.series, args.raw_hours, args.rate, args.agg_days, args.transitions)
    temporary = args.cache_dir is None
    cache_dir = Path(tempfile.mkdtemp(prefix="bench-history-")) if temporary else args.cache_dir
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        built = built_scale(cache_dir)
        if args.reuse and built is not None and built[0] == scale:
            print(f"reusing the cache in {cache_dir} ({scale})")
        else:
            if args.reuse:
                print("no cache built with these options to reuse: building")
            print(f"building {cache_dir} ({scale})", flush=True)
            build(cache_dir, scale)
        figures = measure(cache_dir)
    finally:
        if temporary:
            shutil.rmtree(cache_dir, ignore_errors=True)
    print()
    print(f"scale: {scale}")
    verdicts = report(figures)
    args.json.write_text(
        json.dumps(
            {
                "scale": asdict(scale),
                "figures": figures,
                "targets": {name: limit for name, (limit, _what) in TARGETS.items()},
                "passed": verdicts,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"figures written to {args.json}")
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
