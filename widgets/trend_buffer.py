"""The trend plot's point buffers: one time-sorted numpy ring per metric.

Readings arrive in any order and at any rate; :class:`SeriesBuffer` collects them in
plain lists and merges them into its ring when :meth:`~SeriesBuffer.flush` runs (on the
plot's refresh timer), keeping at most ``max_points`` points sorted by time. Late points
are merged at their place; once the ring is full the oldest points are dropped. Points
with a non-finite time are dropped and infinite values become NaN (a gap).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg

log = logging.getLogger(__name__)

Array = np.ndarray
"""A one-dimensional float64 numpy array."""


def as_points(values: Sequence[tuple[float, float]]) -> tuple[Array, Array]:
    """(ts, value) pairs as two float arrays, sorted by time, non-finite times removed."""
    data = np.asarray(values, dtype=np.float64).reshape(-1, 2)
    return clean(data[:, 0], data[:, 1])


def clean(ts: Array, vals: Array) -> tuple[Array, Array]:
    """Drop points with a non-finite time, turn infinite values into NaN, sort by time."""
    keep = np.isfinite(ts)
    if not keep.all():
        ts, vals = ts[keep], vals[keep]
    vals = np.where(np.isinf(vals), np.nan, vals)
    if ts.size > 1 and bool(np.any(np.diff(ts) < 0)):
        order = np.argsort(ts, kind="stable")
        ts, vals = ts[order], vals[order]
    return ts, vals


def normalise(vals: Array) -> Array:
    """Scale ``vals`` to 0..1 by their finite minimum and maximum (flat series at 0.5)."""
    finite = vals[np.isfinite(vals)]
    if finite.size == 0:
        return vals.copy()
    low, high = float(finite.min()), float(finite.max())
    if high <= low:
        return np.where(np.isfinite(vals), 0.5, np.nan)
    return (vals - low) / (high - low)


class SeriesBuffer:
    """Buffered points of one metric: a sorted numpy ring plus readings not yet merged.

    ``curve`` is the plot item that draws them; ``dirty`` says it needs new data.
    """

    def __init__(self, max_points: int, curve: pg.PlotDataItem, unit: str) -> None:
        self.max_points = max_points
        self.curve = curve
        self.unit = unit
        self._ts = np.empty(0, dtype=np.float64)
        self._vals = np.empty(0, dtype=np.float64)
        self._start = 0
        self._end = 0
        self.pending_ts: list[float] = []
        self.pending_vals: list[float] = []
        self.dirty = True
        self.with_symbol = False

    def __len__(self) -> int:
        """How many points the ring holds (pending readings not counted)."""
        return self._end - self._start

    def times(self) -> Array:
        """The ring's times, oldest first (a view: do not modify)."""
        return self._ts[self._start : self._end]

    def values(self) -> Array:
        """The ring's values, in the order of :meth:`times` (a view: do not modify)."""
        return self._vals[self._start : self._end]

    def replace(self, ts: Array, vals: Array) -> None:
        """Drop everything and hold the newest ``max_points`` of (sorted) ``ts``/``vals``."""
        ts, vals = ts[-self.max_points :], vals[-self.max_points :]
        capacity = 2 * self.max_points
        # Fresh arrays: views handed to the curve earlier must never change underneath it.
        self._ts = np.empty(capacity, dtype=np.float64)
        self._vals = np.empty(capacity, dtype=np.float64)
        self._ts[: ts.size] = ts
        self._vals[: vals.size] = vals
        self._start, self._end = 0, ts.size
        self.pending_ts.clear()
        self.pending_vals.clear()
        self.dirty = True

    def flush(self) -> None:
        """Merge the pending readings into the ring."""
        if not self.pending_ts:
            return
        ts = np.asarray(self.pending_ts, dtype=np.float64)
        vals = np.asarray(self.pending_vals, dtype=np.float64)
        self.pending_ts.clear()
        self.pending_vals.clear()
        ts, vals = clean(ts, vals)
        if ts.size == 0:
            return
        self.dirty = True
        size = len(self)
        if size and ts[0] < self._ts[self._end - 1]:
            # Late points: a stable merge keeps earlier-received points first on equal times.
            all_ts = np.concatenate((self.times(), ts))
            all_vals = np.concatenate((self.values(), vals))
            order = np.argsort(all_ts, kind="stable")
            self.replace(all_ts[order], all_vals[order])
            return
        if ts.size >= self.max_points or self._end + ts.size > self._ts.size:
            keep = min(size, self.max_points - min(ts.size, self.max_points))
            self.replace(
                np.concatenate((self.times()[size - keep :], ts)),
                np.concatenate((self.values()[size - keep :], vals)),
            )
            return
        self._ts[self._end : self._end + ts.size] = ts
        self._vals[self._end : self._end + ts.size] = vals
        self._end += ts.size
        self._start = max(self._start, self._end - self.max_points)
