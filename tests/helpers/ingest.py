"""Synthetic air-quality messages for the ingest pipeline (tests and benchmarks)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

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


class PacedProducer:
    """A thread handing ``messages`` (round and round) to ``put_many`` at ``rate`` messages
    a second, ``chunk`` at a time, until :meth:`stop`; :attr:`sent` counts them."""

    def __init__(
        self,
        put_many: Callable[[list[RawMessage]], object],
        messages: list[RawMessage],
        rate: float,
        chunk: int,
    ) -> None:
        self._put_many = put_many
        self._messages = messages
        self._rate = rate
        self._chunk = chunk
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-producer", daemon=True)
        self.sent = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        started = time.perf_counter()
        index = 0
        while not self._stop.is_set():
            delay = started + self.sent / self._rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self._put_many(self._messages[index : index + self._chunk])
            self.sent += self._chunk
            index = (index + self._chunk) % len(self._messages)
