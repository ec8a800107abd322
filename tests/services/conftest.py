"""Fixtures for the service tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.brokers import Broker, broker_factory


@pytest.fixture
def brokers(tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    """Start real mosquitto brokers on free loopback ports; stopped after the test."""
    with broker_factory(tmp_path) as make:
        yield make
