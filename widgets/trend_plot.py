"""A live trend chart of one entity's metrics, drawn with pyqtgraph.

The operator window shows the recent history of the station the operator clicked:
:meth:`TrendPlot.show_entity` loads the history (e.g. from ``StateHub.series``) and
:meth:`TrendPlot.append` adds live readings.

Design choices:

* **Magnitudes.** Metrics of one station can differ by orders of magnitude (PM2.5 around
  40, pressure around 1000, a flow around 0.2), so a metric selector chooses between
  ``All (normalised)`` (the default: every curve scaled to 0..1 by the minimum and maximum
  of its own buffered points, with the latest real value and unit shown in the legend)
  and a single metric drawn in its real unit on the y axis (auto-ranged to the visible
  time span, with its warning and alarm thresholds as dashed lines). One selector scales
  to any number of metrics, which stacked small plots would not.
* **Cost.** :meth:`~TrendPlot.append` only appends to per-metric Python lists. A fixed
  4 Hz timer moves them into numpy ring buffers (:mod:`widgets.trend_buffer`) of at most
  ``max_points`` points per metric and calls ``setData`` once per changed curve. Curves
  are created once per metric, clip to the view and use automatic peak downsampling.
* **Order.** Points are kept sorted by time: :meth:`~TrendPlot.show_entity` sorts the
  history, and appended points older than the newest buffered one are inserted at their
  place (a stable merge). Once a buffer is full the oldest points are dropped, so a late
  point older than all of a full buffer is dropped too. Readings with a non-finite
  timestamp are ignored; NaN and infinite values are drawn as gaps.
* **Time axis.** Local time. With *Follow live* checked (the default) the x range is
  ``[now - window_seconds, now]`` on every tick. Panning or zooming the time axis with the
  mouse unchecks *Follow live* so that the operator can look back; checking it again snaps
  back to the live window.
* **Text from feeds.** The title is a plain-text label; metric names and units are
  escaped before they reach pyqtgraph's HTML labels.
"""

from __future__ import annotations

import html
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseDragEvent
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from services.model import Reading
from widgets.format import format_clock, format_number, format_value
from widgets.i18n import QT_TRANSLATE_NOOP, translate
from widgets.palette import (
    ALARM_COLOR,
    CHART_AXIS_COLOR,
    CHART_BACKGROUND,
    CHART_DIM_TEXT_COLOR,
    CHART_LEGEND_BACKGROUND,
    CHART_TEXT_COLOR,
    STATUS_WARNING_TEXT_COLOR,
    TREND_CURVE_COLORS,
    WARNING_COLOR,
)
from widgets.plain_text import plain_tooltip
from widgets.trend_buffer import SeriesBuffer, as_points, normalise

log = logging.getLogger(__name__)

REFRESH_INTERVAL_MS = 250
"""How often (4 Hz) buffered readings are pushed into the curves."""

MAX_METRICS = 32
"""Curves per entity; further metric names from a feed are ignored (and logged once)."""

ALL_METRICS_TEXT = QT_TRANSLATE_NOOP("TrendPlot", "All (normalised)")
NORMALISED_AXIS_TEXT = QT_TRANSLATE_NOOP("TrendPlot", "normalised per metric (0 = min, 1 = max)")
TIME_AXIS_TEXT = QT_TRANSLATE_NOOP("TrendPlot", "time (local)")

GRID_ALPHA = 0.18
LEGEND_OFFSET = 8.0


def _curve_color(index: int) -> QColor:
    if index < len(TREND_CURVE_COLORS):
        return QColor(TREND_CURVE_COLORS[index])
    return QColor(pg.intColor(index, hues=13, values=1, maxValue=235, minValue=235, sat=150))


class _PinnedLegend(pg.LegendItem):
    """A legend at a fixed spot in the top-left corner of its view box.

    pyqtgraph's anchored legends follow the view box through its ``geometryChanged``
    signal, which can fire while the view box is half destroyed and then raise from
    inside Qt. This legend is placed once (the top-left corner needs no tracking) and
    cannot be dragged, so it never anchors; a drag pans the plot instead.
    """

    def updateSize(self) -> None:
        """Resize to the entries (which moves the legend to 0, 0) and move back."""
        super().updateSize()
        self.setPos(LEGEND_OFFSET, LEGEND_OFFSET)

    def mouseDragEvent(self, ev: MouseDragEvent) -> None:
        ev.ignore()


class TrendPlot(QWidget):
    """Recent history of one entity's metrics: a title, a metric selector and a time plot.

    See the module docstring for how magnitudes, ordering and live updates are handled.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        window_seconds: float = 3600.0,
        max_points: int = 5000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        if not (math.isfinite(window_seconds) and window_seconds > 0):
            raise ValueError(f"window_seconds must be positive, got {window_seconds}")
        if max_points < 1:
            raise ValueError(f"max_points must be at least 1, got {max_points}")
        self._window = float(window_seconds)
        self._max_points = int(max_points)
        self._clock = clock
        self._entity_id: str | None = None
        self._series: dict[str, SeriesBuffer] = {}
        self._thresholds: dict[str, tuple[float | None, float | None]] = {}
        self._units: dict[str, str] = {}
        self._selected: str | None = None
        self._refused_metrics = False

        self.setObjectName("trendPlot")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(CHART_BACKGROUND))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(CHART_TEXT_COLOR))
        self.setPalette(palette)
        self.setAutoFillBackground(True)

        self._title = QLabel("")
        self._title.setTextFormat(Qt.TextFormat.PlainText)
        self._title.setObjectName("trendTitle")
        title_font = QFont(self._title.font())
        title_font.setBold(True)
        title_font.setPointSizeF(title_font.pointSizeF() * 1.15)
        self._title.setFont(title_font)
        self._title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self._selector = QComboBox()
        self._selector.setObjectName("trendMetric")
        self._selector.setToolTip(
            translate("TrendPlot", "Metric to plot in its own unit, or all of them normalised")
        )
        self._selector.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self._selector.setMinimumContentsLength(14)
        self._selector.addItem(translate("TrendPlot", ALL_METRICS_TEXT), None)
        self._selector.currentIndexChanged.connect(self._on_selector_changed)

        self._follow = QCheckBox()
        self._follow.setObjectName("trendFollowLive")
        self._follow.setText(translate("TrendPlot", "Follow live"))
        self._follow.setToolTip(
            translate("TrendPlot", "Keep the time axis on the last window; panning turns this off")
        )
        self._follow.setChecked(True)
        self._follow.toggled.connect(self._on_follow_toggled)

        self._stale_badge = QLabel("")
        self._stale_badge.setObjectName("trendStale")
        self._stale_badge.setTextFormat(Qt.TextFormat.PlainText)
        self._stale_badge.setStyleSheet(f"color:{STATUS_WARNING_TEXT_COLOR};font-weight:bold")
        self._stale_badge.hide()

        header = QHBoxLayout()
        header.setContentsMargins(8, 6, 8, 0)
        header.addWidget(self._title, 1)
        header.addWidget(self._stale_badge)
        header.addWidget(self._selector)
        header.addWidget(self._follow)

        self._axis = pg.DateAxisItem(orientation="bottom")
        self._canvas = pg.PlotWidget(background=CHART_BACKGROUND, axisItems={"bottom": self._axis})
        self._plot: pg.PlotItem = self._canvas.getPlotItem()
        self._vb: pg.ViewBox = self._plot.getViewBox()
        self._style_plot()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self._canvas, 1)

        self._warn_line = self._threshold_line(WARNING_COLOR)
        self._alarm_line = self._threshold_line(ALARM_COLOR)

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_INTERVAL_MS)
        self._timer.timeout.connect(self._on_tick)

        self._vb.sigRangeChangedManually.connect(self._on_manual_range)
        self._apply_mode()
        self._snap_to_live()

    # ----------------------------------------------------------------- public API

    def show_entity(
        self,
        entity_id: str,
        title: str,
        series: Mapping[str, Sequence[tuple[float, float]]],
        units: Mapping[str, str] | None = None,
    ) -> None:
        """Show ``entity_id``'s history, replacing what was shown (thresholds included).

        ``series`` maps each metric to ``(ts, value)`` pairs in any order (one curve per
        metric, drawn at once); ``units`` maps metrics to their unit, also for metrics that
        only appear later through :meth:`append`.
        """
        self._reset()
        self._entity_id = entity_id
        self._title.setText(title)
        self._title.setToolTip(plain_tooltip(title))
        self._units = dict(units or {})
        for metric, points in series.items():
            buffer = self._add_series(metric, "")
            if buffer is not None:
                buffer.replace(*as_points(points))
        self._push_dirty()
        self._snap_to_live()
        self._timer.start()

    def append(self, readings: Iterable[Reading]) -> None:
        """Buffer new readings of the shown entity (others are ignored); drawn on the next tick."""
        entity_id = self._entity_id
        if entity_id is None:
            return
        series = self._series
        for reading in readings:
            if reading.entity_id != entity_id:
                continue
            buffer = series.get(reading.metric)
            if buffer is None:
                buffer = self._add_series(reading.metric, reading.unit)
                if buffer is None:
                    continue
            try:
                value = float(reading.value)
                ts = float(reading.ts)
            except (TypeError, ValueError):
                continue
            buffer.pending_ts.append(ts)
            buffer.pending_vals.append(value)
            if not buffer.unit and reading.unit:
                self._set_unit(reading.metric, buffer, reading.unit)
            if len(buffer.pending_ts) >= 2 * self._max_points:
                buffer.flush()

    def set_thresholds(self, metric: str, warn: float | None, alarm: float | None) -> None:
        """Dashed warning / alarm lines for ``metric``, drawn while it is shown on its own.

        Cleared by :meth:`show_entity` and :meth:`clear`, so set them after showing.
        """
        if warn is None and alarm is None:
            self._thresholds.pop(metric, None)
        else:
            self._thresholds[metric] = (
                None if warn is None else float(warn),
                None if alarm is None else float(alarm),
            )
        self._update_threshold_lines()

    def clear(self) -> None:
        """Show nothing: no entity, no curves, no thresholds."""
        self._reset()
        self._snap_to_live()

    def entity_id(self) -> str | None:
        """The id of the shown entity, or None."""
        return self._entity_id

    def title_text(self) -> str:
        """The title shown above the plot (plain text)."""
        return self._title.text()

    def metrics(self) -> list[str]:
        """Metrics with a curve, in the order their curves were created."""
        return list(self._series)

    def point_count(self, metric: str) -> int:
        """How many points ``metric``'s curve holds (as of the last refresh); 0 if unknown."""
        buffer = self._series.get(metric)
        if buffer is None:
            return 0
        x, _ = buffer.curve.getOriginalDataset()
        return 0 if x is None else len(x)

    def curve(self, metric: str) -> pg.PlotDataItem:
        """The plot item drawing ``metric`` (KeyError when there is none)."""
        return self._series[metric].curve

    def x_range(self) -> tuple[float, float]:
        """The visible time span, epoch seconds."""
        low, high = self._vb.viewRange()[0]
        return float(low), float(high)

    def selected_metric(self) -> str | None:
        """The metric shown on its own axis, or None for all metrics normalised."""
        return self._selected

    def set_selected_metric(self, metric: str | None) -> None:
        """Show one metric in its unit, or all of them normalised (None)."""
        index = self._selector.findData(metric) if metric is not None else 0
        if index < 0:
            raise KeyError(metric)
        self._selector.setCurrentIndex(index)

    def follow_live(self) -> bool:
        """True while the time axis tracks ``[now - window_seconds, now]``."""
        return self._follow.isChecked()

    def set_follow_live(self, follow: bool) -> None:
        """Track the live window (snapping back now) or leave the time axis where it is."""
        self._follow.setChecked(follow)

    def visible_thresholds(self) -> dict[str, float]:
        """The threshold lines currently drawn: ``{"warn": value, "alarm": value}`` subset."""
        lines = {"warn": self._warn_line, "alarm": self._alarm_line}
        return {name: float(line.value()) for name, line in lines.items() if line.isVisible()}

    def set_stale(self, stale: bool, since: float | None = None) -> None:
        """Say over the plot that the shown entity is not live and fresh (and since when)."""
        if not stale:
            self._stale_badge.hide()
            return
        text = translate("TrendPlot", "STALE")
        if since:
            text += translate("TrendPlot", " · last update {time}").format(time=format_clock(since))
        self._stale_badge.setText(text)
        self._stale_badge.show()

    def stale_text(self) -> str:
        """The stale marker's text ('' while the shown entity is live and fresh)."""
        return self._stale_badge.text() if not self._stale_badge.isHidden() else ""

    def legend_texts(self) -> list[str]:
        """The legend's entries as they read on screen (markup rendered, then as text)."""
        return [str(label.item.toPlainText()) for _sample, label in self._legend.items]

    def y_label(self) -> str:
        """The text of the y axis label (HTML as given to pyqtgraph)."""
        return str(self._plot.getAxis("left").labelText)

    # ------------------------------------------------------------------ internals

    def _style_plot(self) -> None:
        plot = self._plot
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.showGrid(x=True, y=True, alpha=GRID_ALPHA)
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        tick_font = QFont()
        tick_font.setPixelSize(11)
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(CHART_AXIS_COLOR))
            axis.setTextPen(pg.mkPen(CHART_DIM_TEXT_COLOR))
            axis.setStyle(tickFont=tick_font)
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.getAxis("left").setWidth(56)
        plot.setLabel("bottom", translate("TrendPlot", TIME_AXIS_TEXT), color=CHART_DIM_TEXT_COLOR)
        self._legend = _PinnedLegend(
            offset=None,
            brush=pg.mkBrush(CHART_LEGEND_BACKGROUND),
            pen=pg.mkPen(CHART_AXIS_COLOR),
            labelTextColor=CHART_TEXT_COLOR,
            labelTextSize="9pt",
            verSpacing=-4,
        )
        self._legend.setParentItem(self._vb)
        self._legend.updateSize()
        self._vb.setMouseEnabled(x=True, y=False)
        self._vb.enableAutoRange(x=False, y=True)
        self._vb.setAutoVisible(y=True)

    def _threshold_line(self, color: str) -> pg.InfiniteLine:
        line = pg.InfiniteLine(
            angle=0,
            movable=False,
            pen=pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine),
            label="",
            labelOpts={"position": 0.04, "color": color, "anchors": [(0, 1), (0, 1)]},
        )
        line.setZValue(-5)
        line.setVisible(False)
        self._plot.addItem(line, ignoreBounds=False)
        return line

    def _add_series(self, metric: str, unit: str) -> SeriesBuffer | None:
        if metric in self._series:
            return self._series[metric]
        if len(self._series) >= MAX_METRICS:
            if not self._refused_metrics:
                log.warning(
                    "trend of %r: more than %d metrics, ignoring %r and later ones",
                    self._entity_id,
                    MAX_METRICS,
                    metric,
                )
                self._refused_metrics = True
            return None
        unit = unit or self._units.get(metric, "")
        color = _curve_color(len(self._series))
        curve = pg.PlotDataItem(
            pen=pg.mkPen(color, width=2),
            antialias=True,
            connect="finite",
            symbol=None,
            symbolBrush=pg.mkBrush(color),
            symbolPen=None,
            symbolSize=6,
        )
        curve.setClipToView(True)
        curve.setDownsampling(auto=True, method="peak")
        self._plot.addItem(curve)  # the plot has no legend of its own: add to ours
        self._legend.addItem(curve, html.escape(metric))
        buffer = SeriesBuffer(self._max_points, curve, unit)
        self._series[metric] = buffer
        self._selector.addItem(f"{metric} ({unit})" if unit else metric, metric)
        if self._selected is not None:
            curve.setVisible(False)
        return buffer

    def _set_unit(self, metric: str, buffer: SeriesBuffer, unit: str) -> None:
        buffer.unit = unit
        buffer.dirty = True
        index = self._selector.findData(metric)
        if index >= 0:
            self._selector.setItemText(index, f"{metric} ({unit})")

    def _reset(self) -> None:
        self._stale_badge.hide()
        self._timer.stop()
        for buffer in self._series.values():
            self._plot.removeItem(buffer.curve)
            self._legend.removeItem(buffer.curve)
        self._legend.clear()
        self._series.clear()
        self._thresholds.clear()
        self._units = {}
        self._refused_metrics = False
        self._entity_id = None
        self._title.setText("")
        self._title.setToolTip("")
        self._selector.blockSignals(True)
        while self._selector.count() > 1:
            self._selector.removeItem(self._selector.count() - 1)
        self._selector.setCurrentIndex(0)
        self._selector.blockSignals(False)
        self._selected = None
        self._apply_mode()

    def _on_tick(self) -> None:
        self._push_dirty()
        if self._follow.isChecked():
            self._snap_to_live()

    def _push_dirty(self) -> None:
        normalised = self._selected is None
        for metric, buffer in self._series.items():
            buffer.flush()
            if not buffer.dirty:
                continue
            buffer.dirty = False
            ts, vals = buffer.times(), buffer.values()
            shown = normalise(vals) if normalised else vals
            # A lone finite point draws no line, so show it as a dot.
            few = int(np.count_nonzero(np.isfinite(vals))) == 1
            if few != buffer.with_symbol:
                buffer.curve.setSymbol("o" if few else None)
                buffer.with_symbol = few
            buffer.curve.setData(ts, shown)
            self._update_legend_text(metric, buffer)
            if metric == self._selected:
                self._update_axis_label()

    def _update_legend_text(self, metric: str, buffer: SeriesBuffer) -> None:
        label = self._legend.getLabel(buffer.curve)
        if label is None:
            return
        vals = buffer.values()
        latest = float(vals[-1]) if vals.size else math.nan
        value = format_value(latest, buffer.unit)
        label.setText(f"{html.escape(metric)}&nbsp;&nbsp;{html.escape(value)}")

    def _update_axis_label(self) -> None:
        metric = self._selected
        if metric is None:
            text = translate("TrendPlot", NORMALISED_AXIS_TEXT)
        else:
            unit = self._series[metric].unit
            text = f"{metric} ({unit})" if unit else metric
        self._plot.setLabel("left", html.escape(text), color=CHART_DIM_TEXT_COLOR)

    def _apply_mode(self) -> None:
        """Show the curves, axis and thresholds of the selected mode."""
        selected = self._selected
        for metric, buffer in self._series.items():
            buffer.curve.setVisible(selected is None or metric == selected)
            buffer.dirty = True
        self._legend.setVisible(selected is None)
        if selected is None:
            self._vb.disableAutoRange(axis=pg.ViewBox.YAxis)
            self._vb.setYRange(-0.05, 1.05, padding=0)
        else:
            self._vb.enableAutoRange(axis=pg.ViewBox.YAxis)
        self._update_axis_label()
        self._update_threshold_lines()
        self._push_dirty()

    def _update_threshold_lines(self) -> None:
        warn, alarm = (None, None)
        if self._selected is not None:
            warn, alarm = self._thresholds.get(self._selected, (None, None))
        for name, line, value in (
            (translate("TrendPlot", "warn"), self._warn_line, warn),
            (translate("TrendPlot", "alarm"), self._alarm_line, alarm),
        ):
            if value is None or not math.isfinite(value):
                line.setVisible(False)
            else:
                line.setVisible(True)
                line.setValue(value)
                # The label's text is a format string; the number is already formatted.
                # Set after showing the line: the label skips updates while hidden.
                line.label.setFormat(f"{name} {format_number(value)}")

    def _snap_to_live(self) -> None:
        now = float(self._clock())
        self._vb.setXRange(now - self._window, now, padding=0)

    def _on_selector_changed(self, index: int) -> None:
        data = self._selector.itemData(index)
        self._selected = data if isinstance(data, str) else None
        self._apply_mode()

    def _on_follow_toggled(self, checked: bool) -> None:
        if checked:
            self._snap_to_live()

    def _on_manual_range(self, mask: object) -> None:
        if isinstance(mask, (list, tuple)) and mask and mask[0]:
            self._follow.setChecked(False)
