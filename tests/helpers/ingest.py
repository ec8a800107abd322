"""Synthetic air-quality messages for the ingest pipeline (tests and benchmarks)."""

from __future__ import annotations

import json
import time

from services.messages import RawMessage


def make_messages(count: int, entities: int, alarming: float = 0.05) -> list[RawMessage]:
    """``count`` json payloads spread over ``entities`` stations; the first ``alarming``
    share of the stations swing across the PM2.5 thresholds, the others stay normal."""
    now = time.time()
    swinging = int(entities * alarming)
    messages = []
    for index in range(count):
        station = index % entities
        entity = f"aq-{station:05d}"
        swing = (index * 7919) % 120
        payload = {
            "id": entity,
            "lat": 28.5 + station * 1e-4,
            "lon": 112.3,
            "pm25": 40 + swing if station < swinging else 30 + swing % 30,
            "aqi": 80 + index % 50,
            "ts": now + index * 1e-3,
        }
        messages.append(
            RawMessage("air", f"yiyang/env/air/{entity}", json.dumps(payload).encode(), now)
        )
    return messages
