"""The health endpoint: Prometheus metrics about what the app shows, served over HTTP.

The GUI thread builds an immutable :class:`HealthSnapshot` once a second and publishes it
(:meth:`HealthCollector.publish`); the metrics server's threads only read the newest one.
Nothing here imports Qt. A later subsystem adds its own metrics with another collector on
:attr:`MetricsServer.registry`, or with a new field in the snapshot and a family in
:mod:`services.monitoring.metrics`.
"""

from __future__ import annotations

from services.monitoring.metrics import (
    HealthCollector,
    MetricsError,
    MetricsServer,
    start_metrics,
)
from services.monitoring.snapshot import BrokerSample, FeedSample, HealthSnapshot

__all__ = [
    "BrokerSample",
    "FeedSample",
    "HealthCollector",
    "HealthSnapshot",
    "MetricsError",
    "MetricsServer",
    "start_metrics",
]
