"""Ingest throughput: messages through decode → hub → alarms → cache, with no broker.

Run: ``.venv/bin/python -m tests.benchmarks.bench_ingest [--messages N] [--entities M]``.
Prints figures; asserts nothing (timings are noisy on shared machines).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from services.config import AppConfig, FeedConfig, RuleConfig
from services.ingest.pipeline import IngestPipeline
from services.store.cache import OfflineCache
from tests.helpers.ingest import make_messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--entities", type=int, default=2_000)
    parser.add_argument(
        "--alarming", type=float, default=0.05, help="share of stations crossing thresholds"
    )
    args = parser.parse_args()
    config = AppConfig(
        source="bench",
        feeds=(FeedConfig(name="air", topic="yiyang/env/air/#", domain="environment"),),
        rules=(RuleConfig(metric="pm25", high=75, high_high=150, deadband=5),),
    )
    messages = make_messages(args.messages, args.entities, args.alarming)
    with tempfile.TemporaryDirectory() as folder, OfflineCache(Path(folder)) as cache:
        pipeline = IngestPipeline(config, cache)
        pipeline.start()
        started = time.perf_counter()
        pipeline.put_many(messages)
        pipeline.wait_idle(600)
        processed = time.perf_counter() - started
        pipeline.stop()
        total = time.perf_counter() - started
        stored = cache.count("readings")
    print(f"messages            {args.messages:>12,}")
    print(f"entities            {args.entities:>12,}")
    print(f"processed in        {processed:>12.2f} s  ({args.messages / processed:,.0f} msg/s)")
    print(f"stored in cache     {stored:>12,} readings, {total:.2f} s with the final flush")
    print(f"dead letters        {pipeline.messages_rejected:>12,}")


if __name__ == "__main__":
    main()
