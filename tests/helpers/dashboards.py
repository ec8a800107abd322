"""A workstation window fed by a real pipeline and cache, with its dashboards (the
dashboard and wall tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pytestqt.qtbot import QtBot

from services.config import AppConfig
from services.ingest.pipeline import IngestPipeline
from services.store.cache import OfflineCache
from ui.bridge import DeltaBridge
from ui.dashboards import DashboardControls
from ui.main_window import MainWindow


@dataclass
class FedWindow:
    """The window, what feeds it, and its dashboards."""

    window: MainWindow
    pipeline: IngestPipeline
    bridge: DeltaBridge
    cache: OfflineCache
    controls: DashboardControls


@contextmanager
def fed_window(qtbot: QtBot, config: AppConfig, cache_dir: Path) -> Iterator[FedWindow]:
    """A shown window on a pipeline over a cache in ``cache_dir``, its dashboards knowing
    the cache (for their trends' past); closed and stopped afterwards."""
    with OfflineCache(cache_dir) as cache:
        pipeline = IngestPipeline(config, cache, flush_interval=0.0)
        window = MainWindow(config, acknowledge=lambda ids, note: None)
        qtbot.addWidget(window)
        window.cache_path = cache.path
        bridge = DeltaBridge(pipeline.take_delta, parent=window)
        bridge.deltaReady.connect(window.apply_delta)
        window.dashboards = controls = DashboardControls(window, config)
        window.resize(1400, 900)
        window.show()
        try:
            yield FedWindow(window, pipeline, bridge, cache, controls)
        finally:
            window.close()
            pipeline.stop()
