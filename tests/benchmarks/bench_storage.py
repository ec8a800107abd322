"""Raw history on disk: bytes per stored reading, as live ingest writes them.

Run: ``.venv/bin/python -m tests.benchmarks.bench_storage [--readings N] [--series M]``.
Writes readings in time order across many series (batches of 5,000, as the ingest worker
does), checkpoints, and prints the cache file's size per reading against the target of at
most 30 bytes (issue 11), with write throughput. Exits 1 on FAIL.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from services.model import Reading
from services.store.cache import FILE_NAME, OfflineCache

TARGET_BYTES_PER_READING = 30.0
BATCH = 5_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--series", type=int, default=10_000)
    args = parser.parse_args()
    rng = random.Random(7)
    start_ts = 1_800_000_000.0
    with tempfile.TemporaryDirectory() as folder:
        cache = OfflineCache(Path(folder), retention_days=3650)
        began = time.perf_counter()
        batch: list[Reading] = []
        for n in range(args.readings):
            series = n % args.series
            ts = start_ts + n / 2_000.0  # 2,000 readings a second
            value = round(rng.uniform(0.0, 300.0), 1)
            batch.append(Reading(f"aq-{series:05d}", "pm25", value, ts, "air", "µg/m³"))
            if len(batch) == BATCH:
                cache.write_batch(batch, [], [])
                batch = []
        if batch:
            cache.write_batch(batch, [], [])
        seconds = time.perf_counter() - began
        stored = cache.count("readings")
        cache.close()  # checkpoints the WAL into the file
        size = (Path(folder) / FILE_NAME).stat().st_size
        with sqlite3.connect(Path(folder) / FILE_NAME) as conn:
            latest = conn.execute("SELECT count(*) FROM latest").fetchone()[0]
    per_reading = size / stored
    print(f"readings stored     {stored:,} in {args.series:,} series ({latest:,} latest values)")
    print(f"file size           {size / 1e6:.1f} MB  ->  {per_reading:.1f} bytes per reading")
    print(f"write throughput    {stored / seconds:,.0f} readings/s (batches of {BATCH:,})")
    ok = per_reading <= TARGET_BYTES_PER_READING
    print(f"{'PASS' if ok else 'FAIL'}  at most {TARGET_BYTES_PER_READING:g} bytes per reading")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
