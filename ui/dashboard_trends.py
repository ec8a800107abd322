"""The dashboards' trend plots: their past read from the offline cache off the GUI thread
(:class:`TrendBackfill`), then the live values appended once a second (:class:`TrendFeed`).

A KPI's line starts from the values the window kept in memory (the last hour); a window
longer than that is filled from the history tiers (the KPI at evenly spaced moments, see
:meth:`ReplaySource.kpi_series`). An entity's metric is read from the cache at the
resolution that fits the window (raw, then 1-minute and 15-minute buckets). While the window
shows a replay, the trends stay live and take nothing from it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal

from services.config import KpiConfig
from services.config.dashboards import SeriesRef, WidgetConfig
from services.ingest.kpi import DistrictIndex
from services.model import Reading
from services.store.replay import ReplaySource
from ui.config_terms import config_text
from widgets.dashboard_trend import DashboardTrend

log = logging.getLogger(__name__)

BACKFILL_POINTS = 240
"""Moments at which a KPI is read back from history for a window longer than the memory."""

Points = list[tuple[float, float]]


class TrendBackfill(QObject):
    """Reads series from the offline cache on its own thread (``cityops-dashboards``) with
    a read-only connection of its own, and hands each result back on the GUI thread."""

    _finished = Signal(object)

    def __init__(
        self, open_source: Callable[[], ReplaySource] | None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._open_source = open_source
        self._source: ReplaySource | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._futures: list[Future[None]] = []
        self._closed = False
        self._finished.connect(self._run_finished, Qt.ConnectionType.QueuedConnection)

    @property
    def available(self) -> bool:
        """Whether there is a cache to read from."""
        return self._open_source is not None

    def read(self, work: Callable[[ReplaySource], Any], done: Callable[[Any], None]) -> None:
        """Run ``work`` on the reading thread, then ``done`` with its result on this one
        (with None when the reading failed: that is logged). Nothing once closed."""
        open_source = self._open_source
        if open_source is None or self._closed:
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="cityops-dashboards")

        def run() -> None:
            if self._closed:
                return
            try:
                source = self._source
                if source is None:
                    source = self._source = open_source()
                result = work(source)
            except Exception:
                log.exception("dashboards: reading a trend's past from the offline cache failed")
                result = None
            if not self._closed:
                with contextlib.suppress(RuntimeError):  # deleted meanwhile: nobody waits
                    self._finished.emit(partial(done, result))

        self._futures = [future for future in self._futures if not future.done()]
        self._futures.append(self._executor.submit(run))

    def _run_finished(self, call: Callable[[], None]) -> None:
        call()

    def close(self) -> None:
        """Stop reading: what is queued is dropped, a read under way ends unreported, and
        the connection closes on the thread after it."""
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is None:
            return
        for future in self._futures:
            future.cancel()
        self._futures = []

        def close_source() -> None:
            source, self._source = self._source, None
            if source is not None:
                source.close()

        executor.submit(close_source)
        executor.shutdown(wait=False)


class TrendFeed:
    """One dashboard trend widget: its lines (KPIs or entity metrics), back-filled once,
    then fed the live values."""

    def __init__(
        self,
        widget: WidgetConfig,
        kpis: Mapping[str, KpiConfig],
        backfill: TrendBackfill | None,
        districts: Callable[[], DistrictIndex],
        name_of: Callable[[str], str] = str,
    ) -> None:
        self.widget = widget
        self._name_of = name_of
        self.refs = widget.series
        self._kpis = kpis
        self._backfill = backfill
        self._districts = districts
        first = kpis.get(widget.series[0].kpi) if widget.series else None
        units = {kpis[ref.kpi].unit for ref in widget.series if ref.kpi in kpis}
        only_kpi = first if len(widget.series) == 1 else None
        self.view = DashboardTrend(
            config_text(widget.title) or ", ".join(self._label(ref) for ref in widget.series),
            config_text(units.pop()) if len(units) == 1 else "",
            widget.window,
            warn=only_kpi.warn if only_kpi is not None else None,
            alarm=only_kpi.alarm if only_kpi is not None else None,
            thresholds=widget.thresholds,
        )
        for ref in self.refs:
            self.view.add_series(str(ref), self._label(ref))
        self._started = False
        self._last: dict[str, float] = {}
        """The time of the newest point appended per line."""
        self._since_request: dict[str, Points] | None = None
        """Live points appended while the past is being read (kept on top of it)."""
        self._shown: tuple[float, bool] = (0.0, True)
        """The time and staleness last fed."""
        self._kept: dict[str, Points] = {}
        """The KPIs' values the window kept, drawn first (kept on top of the past read)."""

    def feed(
        self,
        values: Mapping[str, float | None],
        *,
        kpi_memory: Callable[[str], Points],
        latest: Mapping[str, Mapping[str, Reading]],
        ts: float,
        stale: bool,
        live: bool,
        draw: bool = True,
    ) -> None:
        """The KPI timer ticked: append the new values (live ones only) and redraw (when
        ``draw``: the plot is on screen)."""
        if not live:  # a replay on the window: the trends stay live, untouched
            return
        if not self._started:
            self._start(kpi_memory, ts)
        for ref in self.refs:
            key = str(ref)
            if ref.kpi:
                value = values.get(ref.kpi)
                point = None if value is None else (ts, value)
            else:
                reading = latest.get(ref.entity, {}).get(ref.metric)
                point = None if reading is None else (reading.ts, reading.value)
            if point is not None and point[0] > self._last.get(key, float("-inf")):
                self._append(key, point)
        self._shown = (ts, stale)
        if draw:
            self.redraw()

    def redraw(self) -> DashboardTrend:
        """Draw what was fed (the redraw clock calls this)."""
        ts, stale = self._shown
        for ref in self.refs:
            if ref.entity:  # its name, once the entity is known
                self.view.set_series_label(str(ref), self._label(ref))
        self.view.set_stale(stale)
        self.view.refresh(ts)
        return self.view

    def _label(self, ref: SeriesRef) -> str:
        if ref.kpi:
            return config_text(ref.kpi)
        return f"{self._name_of(ref.entity)} · {ref.metric}"

    def _append(self, key: str, point: tuple[float, float]) -> None:
        self._last[key] = point[0]
        self.view.append(key, *point)
        if self._since_request is not None:
            self._since_request.setdefault(key, []).append(point)

    def _start(self, kpi_memory: Callable[[str], Points], now: float) -> None:
        """Draw what the window kept of the KPIs and ask the cache for the rest."""
        self._started = True
        since = now - self.widget.window
        wanted: list[tuple[SeriesRef, float]] = []  # (line, read back until)
        for ref in self.refs:
            key = str(ref)
            if ref.kpi:
                kept = [point for point in kpi_memory(ref.kpi) if point[0] >= since]
                self._kept[key] = kept
                self.view.set_points(key, kept)
                if kept:
                    self._last[key] = kept[-1][0]
                until = kept[0][0] if kept else now
                if until - since > 60.0 and ref.kpi in self._kpis:
                    wanted.append((ref, until))
            else:
                wanted.append((ref, now))
        if wanted and self._backfill is not None and self._backfill.available:
            self._since_request = {}
            districts = self._districts()
            kpis = self._kpis

            def read(source: ReplaySource) -> dict[str, Points]:
                found: dict[str, Points] = {}
                for ref, until in wanted:
                    if ref.kpi:
                        kpi = kpis[ref.kpi]
                        found[str(ref)] = source.kpi_series(
                            kpi, since, until, BACKFILL_POINTS, districts
                        )
                    else:
                        found[str(ref)] = source.series(ref.entity, ref.metric, since, until)
                return found

            self._backfill.read(read, self._filled)

    def _filled(self, found: dict[str, Points] | None) -> None:
        """The past arrived from the cache (None: it could not be read): put it under what
        is drawn (what the window kept and what arrived live since, which win where they
        overlap)."""
        live, self._since_request = self._since_request or {}, None
        if found is None or not shiboken6.isValid(self.view):
            self._kept = {}
            return
        for key, past in found.items():
            tail = self._kept.get(key, []) + live.get(key, [])
            cut = tail[0][0] if tail else float("inf")
            points = [point for point in past if point[0] < cut] + tail
            self.view.set_points(key, points)
            if points:
                self._last[key] = max(self._last.get(key, float("-inf")), points[-1][0])
        self._kept = {}
        log.debug("dashboards: %s filled from the cache", self.view.title)
