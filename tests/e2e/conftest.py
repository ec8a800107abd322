"""End-to-end fixtures: a real broker, mosquitto when installed, else the embedded one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.brokers import MosquittoBroker, mosquitto_binary


@pytest.fixture
def broker_url(tmp_path: Path) -> Iterator[str]:
    """URL of a running MQTT broker on loopback, stopped after the test."""
    if mosquitto_binary() is not None:
        broker = MosquittoBroker(tmp_path)
        broker.start()
        yield broker.url
        broker.stop()
        return
    from services.demo.embedded_broker import EmbeddedBroker

    embedded = EmbeddedBroker()
    embedded.start()
    yield embedded.url
    embedded.stop()
