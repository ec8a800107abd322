"""Fixtures of the abuse suite: a real mosquitto and the app's services behind it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.abuse import AbuseCity
from tests.helpers.brokers import mosquitto_binary


@pytest.fixture
def city(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[AbuseCity]:
    """A mosquitto on a free loopback port and a CitySession (offline cache in tmp_path)
    subscribed to one QoS 1 feed per payload format; stopped after the test."""
    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    caplog.set_level(logging.WARNING)
    started = AbuseCity(tmp_path / "city")
    try:
        yield started
    finally:
        started.close()
