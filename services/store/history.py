"""History tiers of the offline cache: 1-minute and 15-minute aggregates of the raw samples,
and a metric's series over a window at a resolution that fits it.

Raw samples are clustered by series and time (``PRIMARY KEY (series, ts)``), so every query
here walks the series table and seeks each series' time range (``series CROSS JOIN samples``
makes SQLite take the series as the outer loop). The functions take a connection; the cache
runs them under its lock, in transactions of its own.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

TIERS: dict[str, float] = {"1m": 60.0, "15m": 900.0}
"""Aggregate tiers: name → bucket width in seconds."""
ROLLUP_LAG_S = 300.0
"""A bucket is aggregated once it ended this long ago (readings arriving late within it
still count)."""
ROLLUP_SPAN_S = 900.0
"""At most this much raw time is aggregated in one transaction."""
MIN_ROLLUP_SPAN_S = 60.0
"""At least this much raw time is aggregated in one transaction."""
ROLLUP_STEP_TARGET_S = 0.25
"""How long one rollup transaction should hold the cache (ingest's writes wait meanwhile):
the span shrinks or grows towards it (measured: 2.5 s for a quarter hour at 2,000
readings/s over 10,000 series, so about 90 s of raw time a step at that rate)."""


def next_rollup_span(span: float, took: float) -> float:
    """The span for the next rollup step, after one of ``span`` seconds took ``took``."""
    wanted = span * ROLLUP_STEP_TARGET_S / max(took, 1e-3)
    return min(ROLLUP_SPAN_S, max(MIN_ROLLUP_SPAN_S, min(wanted, 2 * span)))


RAW_MAX_SPAN_S = 2 * 3_600.0
"""Windows up to this long are shown from raw readings (while the raw tier holds them)."""
MINUTE_MAX_SPAN_S = 3 * 86_400.0
"""Windows up to this long are shown in 1-minute buckets; longer ones in 15-minute buckets."""
RESOLUTIONS = ("auto", "raw", *TIERS)


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One point of a series: a raw reading (``count`` 1, min = max = value) or a bucket
    starting at ``ts`` (``value`` its mean, with its min, max and last)."""

    ts: float
    value: float
    minimum: float
    maximum: float
    count: int
    last: float


def tier_table(tier: str) -> str:
    """The table of a history tier (``agg_1m``, ``agg_15m``)."""
    if tier not in TIERS:
        raise ValueError(f"unknown history tier {tier!r} (expected one of {', '.join(TIERS)})")
    return f"agg_{tier}"


def _bucket_sql(width: float) -> str:
    return f"CAST(x.ts / {width:g} AS INTEGER) * {width:g}"


def _aggregate_select(width: float, where: str) -> str:
    """Buckets of raw samples of the series matched by ``where`` (on ``s``) with time in
    [?1, ?2): series, bucket, count, min, max, sum, last value, last time."""
    bucket = _bucket_sql(width)
    grouped = (
        f"SELECT x.series AS series, {bucket} AS bucket, count(x.value) AS n,"
        " min(x.value) AS low, max(x.value) AS high, sum(x.value) AS total,"
        " max(x.ts) AS last_ts"
        " FROM series s CROSS JOIN samples x ON x.series = s.id AND x.ts >= ?1 AND x.ts < ?2"
        f" WHERE {where} GROUP BY x.series, bucket"
    )
    return (
        "SELECT g.series, g.bucket, g.n, g.low, g.high, g.total,"
        " (SELECT y.value FROM samples y WHERE y.series = g.series AND y.ts = g.last_ts),"
        f" g.last_ts FROM ({grouped}) g WHERE true"
    )


def watermark(conn: sqlite3.Connection, tier: str) -> float | None:
    """Up to when (excluded) the tier holds every raw sample's bucket; None: not started."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"rollup_{tier}",)).fetchone()
    return None if row is None else float(row[0])


def oldest_sample(conn: sqlite3.Connection) -> float | None:
    """The time of the oldest raw sample (one seek per series)."""
    row = conn.execute(
        "SELECT min((SELECT ts FROM samples WHERE series = s.id ORDER BY ts LIMIT 1)) FROM series s"
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def rollup_step(
    conn: sqlite3.Connection, tier: str, now: float, span: float = ROLLUP_SPAN_S
) -> bool:
    """Aggregate the next ``span`` seconds of raw samples (whole minutes, at least one)
    into ``tier``; False when it is up to date. A span may end inside a bucket: the rest
    of the bucket is merged into it by the next step."""
    width = TIERS[tier]
    table = tier_table(tier)
    ready = math.floor((now - ROLLUP_LAG_S) / width) * width
    start = watermark(conn, tier)
    if start is None:
        oldest = oldest_sample(conn)
        if oldest is None:
            return False
        start = math.floor(oldest / width) * width
    if start >= ready:
        return False
    following = next_sample(conn, start)
    if following is None or following >= ready:  # nothing to aggregate: skip the gap
        _set_watermark(conn, tier, ready)
        return False
    start = max(start, math.floor(following / width) * width)
    end = min(ready, start + max(MIN_ROLLUP_SPAN_S, math.floor(span / 60.0) * 60.0))
    conn.execute(
        f"INSERT INTO {table} (series, bucket, n, min, max, sum, last, last_ts) "
        + _aggregate_select(width, "true")
        + " ON CONFLICT (series, bucket) DO UPDATE SET n = n + excluded.n,"
        " min = min(coalesce(min, excluded.min), coalesce(excluded.min, min)),"
        " max = max(coalesce(max, excluded.max), coalesce(excluded.max, max)),"
        " sum = coalesce(sum, 0) + coalesce(excluded.sum, 0),"
        " last = CASE WHEN excluded.last_ts >= last_ts THEN excluded.last ELSE last END,"
        " last_ts = max(last_ts, excluded.last_ts)",
        (start, end),
    )
    _set_watermark(conn, tier, end)
    return True


def _set_watermark(conn: sqlite3.Connection, tier: str, until: float) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (f"rollup_{tier}", repr(until)),
    )


def next_sample(conn: sqlite3.Connection, since: float) -> float | None:
    """The time of the first raw sample at or after ``since`` (one seek per series)."""
    row = conn.execute(
        "SELECT min((SELECT ts FROM samples WHERE series = s.id AND ts >= ? ORDER BY ts LIMIT 1))"
        " FROM series s",
        (since,),
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def values_at(
    conn: sqlite3.Connection, metric: str, moments: Sequence[float]
) -> dict[float, dict[str, tuple[float, float]]]:
    """For each of ``moments``: each entity's newest value of ``metric`` by then, as
    {moment: {entity: (time, value)}} — per series from its raw samples, or where those of
    then are gone, from its newest 1-minute (then 15-minute) bucket ended by then (the
    bucket's last value). An index seek per series, moment and source asked; an entity with
    several feeds of the metric gets the newest of them."""
    found: dict[float, dict[str, tuple[float, float]]] = {moment: {} for moment in moments}
    total = int(
        conn.execute("SELECT count(*) FROM series WHERE metric = ?", (metric,)).fetchone()[0]
    )
    seen_series: dict[float, set[int]] = {}
    wanted = list(moments)
    oldest_raw = oldest_sample(conn)
    oldest_minute = oldest_bucket(conn, "1m")
    starts = {  # no source can have a value before its oldest data
        "raw": math.inf if oldest_raw is None else oldest_raw,
        "1m": math.inf if oldest_minute is None else oldest_minute + TIERS["1m"],
        "15m": -math.inf,
    }
    for source in ("raw", *TIERS):  # each series from the first source that has it
        asked = [moment for moment in wanted if moment >= starts[source]]
        if not asked:
            continue
        listed = ", ".join("(?)" for _ in asked)
        if source == "raw":
            sql = (
                f"WITH m(at) AS (VALUES {listed}), t AS (SELECT m.at AS at, s.id AS series,"
                " s.entity_id AS entity, (SELECT max(ts) FROM samples WHERE series = s.id"
                " AND ts <= m.at) AS ts FROM m CROSS JOIN series s WHERE s.metric = ?)"
                " SELECT t.at, t.series, t.entity, t.ts, x.value FROM t CROSS JOIN samples x"
                " ON x.series = t.series AND x.ts = t.ts"
            )
        else:
            table, width = tier_table(source), TIERS[source]
            sql = (
                f"WITH m(at) AS (VALUES {listed}), t AS (SELECT m.at AS at, s.id AS series,"
                f" s.entity_id AS entity, (SELECT max(bucket) FROM {table} WHERE"
                f" series = s.id AND bucket <= m.at - {width!r}) AS bucket"
                " FROM m CROSS JOIN series s WHERE s.metric = ?)"
                f" SELECT t.at, t.series, t.entity, a.last_ts, a.last FROM t CROSS JOIN {table} a"
                " ON a.series = t.series AND a.bucket = t.bucket"
            )
        seen = {moment: seen_series.get(moment, set()) for moment in asked}
        for at, series, entity, ts, value in conn.execute(sql, (*asked, metric)):
            moment = float(at)
            if series in seen[moment]:
                continue  # an earlier source had it
            seen[moment].add(series)
            if value is None:
                continue
            moment_values = found[moment]
            held = moment_values.get(str(entity))
            if held is None or float(ts) > held[0]:
                moment_values[str(entity)] = (float(ts), float(value))
        seen_series.update(seen)
        wanted = [m for m in wanted if len(seen_series.get(m, ())) < total]
    return found


def used_bytes(conn: sqlite3.Connection) -> int:
    """The bytes of the database file in use (free pages, which SQLite reuses, left out)."""
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    return (pages - free) * size


def oldest_bucket(conn: sqlite3.Connection, tier: str) -> float | None:
    """The start of the oldest bucket of ``tier`` (one seek per series)."""
    table = tier_table(tier)
    row = conn.execute(
        f"SELECT min((SELECT bucket FROM {table} WHERE series = s.id ORDER BY bucket LIMIT 1))"
        " FROM series s"
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def trim_oldest(conn: sqlite3.Connection, span: float, chunk: int, oldest: float | None) -> int:
    """Delete up to ``chunk`` rows of the oldest ``span`` seconds of history: raw samples
    first (``oldest``: the time of the oldest, :func:`oldest_sample`), then 1-minute
    buckets, then 15-minute ones (alarms, actions and incidents are never trimmed here);
    returns the rows deleted (0: no history left to trim)."""
    if oldest is not None:
        return conn.execute(
            "DELETE FROM samples WHERE (series, ts) IN (SELECT x.series, x.ts FROM series s"
            " CROSS JOIN samples x ON x.series = s.id AND x.ts < ? LIMIT ?)",
            (oldest + span, chunk),
        ).rowcount
    for tier in TIERS:
        start = oldest_bucket(conn, tier)
        if start is not None:
            return prune_tier(conn, tier, start + span, chunk)
    return 0


def prune_tier(conn: sqlite3.Connection, tier: str, cutoff: float, chunk: int) -> int:
    """Delete up to ``chunk`` buckets of ``tier`` that start before ``cutoff``."""
    table = tier_table(tier)
    return conn.execute(
        f"DELETE FROM {table} WHERE (series, bucket) IN (SELECT a.series, a.bucket FROM series s"
        f" CROSS JOIN {table} a ON a.series = s.id AND a.bucket < ? LIMIT ?)",
        (cutoff, chunk),
    ).rowcount


def choose_resolution(since: float, until: float, now: float, raw_days: float) -> str:
    """The resolution that fits a window: raw while short and still in the raw tier, then
    1-minute, then 15-minute buckets."""
    span = until - since
    if span <= RAW_MAX_SPAN_S and since >= now - raw_days * 86_400.0:
        return "raw"
    return "1m" if span <= MINUTE_MAX_SPAN_S else "15m"


def series_points(
    conn: sqlite3.Connection,
    entity_id: str,
    metric: str,
    since: float,
    until: float,
    *,
    resolution: str,
) -> list[SeriesPoint]:
    """The metric of the entity (all its feeds) in [since, until], oldest first: raw
    readings, or buckets of the tier; the buckets the tier has not aggregated yet come from
    the raw samples on the fly."""
    where = "s.entity_id = ?3 AND s.metric = ?4"
    if resolution == "raw":
        rows = conn.execute(
            "SELECT x.ts, x.value FROM series s CROSS JOIN samples x"
            " ON x.series = s.id AND x.ts >= ?1 AND x.ts <= ?2"
            f" WHERE {where} ORDER BY x.ts",
            (since, until, entity_id, metric),
        ).fetchall()
        return [
            SeriesPoint(ts, v, v, v, 1, v)
            for ts, value in rows
            for v in (math.nan if value is None else float(value),)
        ]
    width = TIERS[resolution]
    table = tier_table(resolution)
    first = math.floor(since / width) * width
    done = watermark(conn, resolution)
    stored_until = first if done is None else max(first, min(done, until + width))
    rows = conn.execute(
        f"SELECT a.bucket, a.n, a.min, a.max, a.sum, a.last, a.last_ts FROM series s"
        f" CROSS JOIN {table} a ON a.series = s.id AND a.bucket >= ?1 AND a.bucket < ?2"
        f" WHERE {where}",
        (first, stored_until, entity_id, metric),
    ).fetchall()
    if stored_until <= until:
        fresh = conn.execute(
            _aggregate_select(width, where), (stored_until, until + 1e-9, entity_id, metric)
        ).fetchall()
        rows.extend(row[1:] for row in fresh)
    return _merge_buckets(rows)


def _merge_buckets(rows: list[tuple[object, ...]]) -> list[SeriesPoint]:
    """Buckets of several series (feeds) of one metric merged per bucket start."""
    merged: dict[float, list[float]] = {}
    for bucket, n, low, high, total, last, last_ts in rows:
        count = int(n or 0)  # type: ignore[call-overload]
        if not count:
            continue
        held = merged.get(float(bucket))  # type: ignore[arg-type]
        values = [count, _f(low), _f(high), _f(total), _f(last), _f(last_ts)]
        if held is None:
            merged[float(bucket)] = values  # type: ignore[arg-type]
            continue
        held[0] += count
        held[1] = min(held[1], values[1])
        held[2] = max(held[2], values[2])
        held[3] += values[3]
        if values[5] >= held[5]:
            held[4], held[5] = values[4], values[5]
    return [
        SeriesPoint(bucket, total / n, low, high, int(n), last)
        for bucket, (n, low, high, total, last, _last_ts) in sorted(merged.items())
    ]


def _f(value: object) -> float:
    return math.nan if value is None else float(value)  # type: ignore[arg-type]
