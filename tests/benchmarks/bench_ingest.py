"""Ingest throughput: messages through decode → hub → alarms → cache, with no broker.

Run: ``.venv/bin/python -m tests.benchmarks.bench_ingest [--messages N] [--entities M]``.
Prints figures; asserts nothing (timings are noisy on shared machines).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from services.cache import OfflineCache
from services.config import AppConfig, FeedConfig, RuleConfig
from services.ingest import IngestPipeline, RawMessage


def make_messages(count: int, entities: int) -> list[RawMessage]:
    """``count`` json payloads spread over ``entities`` stations, some above threshold."""
    now = time.time()
    messages = []
    for index in range(count):
        entity = f"aq-{index % entities:05d}"
        payload = {
            "id": entity,
            "lat": 28.5 + (index % entities) * 1e-4,
            "lon": 112.3,
            "pm25": 40 + (index * 7919) % 120,
            "aqi": 80 + index % 50,
            "ts": now + index * 1e-3,
        }
        messages.append(
            RawMessage("air", f"yiyang/env/air/{entity}", json.dumps(payload).encode(), now)
        )
    return messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--entities", type=int, default=2_000)
    args = parser.parse_args()
    config = AppConfig(
        source="bench",
        feeds=(FeedConfig(name="air", topic="yiyang/env/air/#", domain="environment"),),
        rules=(RuleConfig(metric="pm25", high=75, high_high=150, deadband=5),),
    )
    messages = make_messages(args.messages, args.entities)
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
