"""The app's garbage-collector settings: start-up objects frozen, collections rarer."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ui.runtime import GC_THRESHOLDS, tune_garbage_collector


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restored_gc")
def test_start_up_objects_are_frozen_and_collections_rarer() -> None:
    gc.unfreeze()
    tune_garbage_collector()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] > 700  # less often than Python's default
    assert gc.get_freeze_count() > 1000
