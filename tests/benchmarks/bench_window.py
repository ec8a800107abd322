"""Ingest with the window open: messages/s processed and the longest event-loop stall.

A producer thread hands pre-encoded ``json`` payloads to the ingest pipeline at a target
rate (no broker: this measures the app's side); the real main window is on screen
(offscreen platform) with the 20 Hz delta bridge; a 5 ms timer on the GUI thread records
the longest gap between its ticks.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.benchmarks.bench_window
[--rate N] [--entities M] [--seconds S]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from tests.helpers.ingest import PacedProducer, make_messages

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=20_000, help="messages per second")
    parser.add_argument("--entities", type=int, default=2_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--alarming", type=float, default=0.05, help="share of stations crossing thresholds"
    )
    parser.add_argument("--switch-interval", type=float, default=None, help="seconds")
    args = parser.parse_args()
    if args.switch_interval:
        import sys

        sys.setswitchinterval(args.switch_interval)

    from ui.rendering import use_rendering
    from widgets.map_scheme import register_scheme

    register_scheme()
    use_rendering()  # as the app chooses by default
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from services.auth.roles import Principal, Role
    from services.config import AppConfig, FeedConfig, KpiConfig, RuleConfig
    from services.ingest.pipeline import IngestPipeline
    from services.store.cache import OfflineCache
    from ui.bridge import DeltaBridge
    from ui.main_window import MainWindow

    app = QApplication([])
    config = AppConfig(
        source="bench",
        feeds=(FeedConfig(name="air", topic="yiyang/env/air/#", domain="environment"),),
        rules=(RuleConfig(metric="pm25", high=75, high_high=150, deadband=5),),
        kpis=(KpiConfig(name="Mean PM2.5", metric="pm25", maximum=250),),
    )
    chunk = max(1, args.rate // 100)  # one hand-over every 10 ms
    messages = make_messages(chunk * 100, args.entities, args.alarming)
    with tempfile.TemporaryDirectory() as folder:
        cache = OfflineCache(Path(folder))
        pipeline = IngestPipeline(config, cache)
        who = Principal("bench", Role.OPERATOR)
        window = MainWindow(
            config, acknowledge=lambda ids, note: pipeline.acknowledge(ids, who, note)
        )
        bridge = DeltaBridge(pipeline.take_delta, parent=window)
        bridge.deltaReady.connect(window.apply_delta)
        window.show()
        pipeline.start()
        bridge.start()

        producer = PacedProducer(pipeline.put_many, messages, args.rate, chunk)

        stalls: list[float] = []
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            stalls.append(now - last[0])
            last[0] = now

        probe = QTimer()
        probe.setInterval(5)
        probe.timeout.connect(tick)
        probe.start()
        started = time.perf_counter()
        producer.start()
        QTimer.singleShot(int(args.seconds * 1000), app.quit)
        app.exec()
        producer.stop()
        sent = producer.sent
        elapsed = time.perf_counter() - started
        processed = pipeline.messages_processed
        pipeline.stop()
        bridge.stop()
        window.close()
        cache.close()

    stalls.sort()
    print(f"target rate         {args.rate:>10,} msg/s for {args.seconds:.0f} s")
    print(f"handed over         {sent:>10,} messages ({sent / elapsed:,.0f} msg/s)")
    print(f"processed           {processed:>10,} messages ({processed / elapsed:,.0f} msg/s)")
    print(f"backlog at the end  {sent - processed:>10,} messages")
    print(
        f"GUI loop gap        max {stalls[-1] * 1000:.0f} ms, p99 "
        f"{stalls[int(len(stalls) * 0.99)] * 1000:.0f} ms (5 ms timer)"
    )


if __name__ == "__main__":
    main()
