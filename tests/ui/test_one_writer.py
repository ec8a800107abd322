"""One writer per piece of state: operator acknowledgements racing the ingest worker.

The GUI thread acknowledges alarms thousands of times while the worker keeps raising and
clearing the same alarms; afterwards the alarm list, the alarm store and the cache must
hold the same version of every alarm.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from pytestqt.qtbot import QtBot

from services.auth.roles import Principal, Role
from services.config import AppConfig, FeedConfig, RuleConfig
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.model import Alarm, AlarmState
from services.store.cache import OfflineCache
from ui.bridge import DeltaBridge
from ui.main_window import MainWindow

STATIONS = 40
ACKNOWLEDGEMENTS = 3000
CONFIG = AppConfig(
    source="test",
    feeds=(FeedConfig(name="air", topic="yiyang/air/#", domain="environment"),),
    rules=(RuleConfig(metric="pm25", high=75, deadband=0),),
)


def reading(station: int, value: float, ts: float) -> RawMessage:
    payload = json.dumps({"id": f"aq-{station:02d}", "pm25": value, "ts": ts}).encode()
    return RawMessage("air", f"yiyang/air/aq-{station:02d}", payload, ts)


class Producer:
    """Raises and clears every station's alarm over and over, in small batches, in bursts."""

    def __init__(self, pipeline: IngestPipeline) -> None:
        self.pipeline = pipeline
        self.ts = 1_790_000_000.0
        self.rounds = 0

    def burst(self, rounds: int) -> threading.Thread:
        def run() -> None:
            for _ in range(rounds):
                self.rounds += 1
                self.ts += 1.0
                value = 100.0 if self.rounds % 2 else 50.0
                self.pipeline.put_many([reading(n, value, self.ts) for n in range(STATIONS)])
                time.sleep(0.001)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


def same(a: Alarm | None, b: Alarm | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.state, a.acked_by, a.count, a.raised_at) == (
        b.state,
        b.acked_by,
        b.count,
        b.raised_at,
    )


def test_acknowledgements_racing_new_alarm_versions_end_in_agreement(
    qtbot: QtBot, tmp_path: Path
) -> None:
    cache = OfflineCache(tmp_path)
    pipeline = IngestPipeline(CONFIG, cache, flush_interval=0.02, max_batch=40)
    pipeline.start()
    who = Principal("li.wei", Role.OPERATOR)
    window = MainWindow(CONFIG, acknowledge=lambda ids, note: pipeline.acknowledge(ids, who, note))
    qtbot.addWidget(window)
    bridge = DeltaBridge(pipeline.take_delta, parent=window)
    bridge.deltaReady.connect(window.apply_delta)
    model = window.alarm_view.model
    producer = Producer(pipeline)

    def disagreements() -> list[tuple[str, Alarm | None, Alarm]]:
        """Alarms the list shows differently from the alarm store (normal ones may go)."""
        wrong = []
        for alarm in pipeline.alarms.alarms():
            listed = model.alarm(alarm.id)
            if alarm.state is AlarmState.NORMAL and listed is None:
                continue
            if not same(listed, alarm):
                wrong.append((alarm.id, listed, alarm))
        return wrong

    acknowledged = 0
    checkpoints = 0
    while acknowledged < ACKNOWLEDGEMENTS:
        burst = producer.burst(rounds=7)
        while burst.is_alive():
            bridge.tick()
            waiting = [
                model.alarm_at(row).id
                for row in range(model.rowCount())
                if model.alarm_at(row).state.needs_ack
            ]
            for alarm_id in waiting[:5]:
                window.acknowledge_alarms([alarm_id])
                acknowledged += 1
            qtbot.wait(1)
        # Quiet: everything queued is handled and shown; the list must match the store.
        assert pipeline.wait_idle(30)
        bridge.tick()
        assert disagreements() == [], f"after {acknowledged} acknowledgements"
        checkpoints += 1
    pipeline.stop()
    bridge.tick()
    assert disagreements() == []

    stored = {alarm.id: alarm for alarm in cache.query_alarms()}
    cache.close()
    in_memory = {alarm.id: alarm for alarm in pipeline.alarms.alarms()}
    assert set(stored) == set(in_memory) and len(in_memory) == STATIONS
    for alarm_id, alarm in in_memory.items():
        assert same(stored[alarm_id], alarm), (alarm_id, stored[alarm_id], alarm)
    with OfflineCache(tmp_path) as reader:
        assert len(reader.query_actions()) > 0
