"""A trend plot for config-declared dashboards and walls, in the ISA-101 manner.

One plot shows one or several series over a fixed window (5 minutes to 24 hours) ending at
"now". Series are drawn in neutral greys and told apart by their dash pattern and by a
legend, never by colour; colour is kept for the abnormal: the warning and alarm limits are
horizontal lines in the theme's warning and alarm colours, labelled with their values, and
the region beyond the alarm limit (above it when high values are bad, below otherwise) is a
light alarm-coloured band. Further reference lines (``thresholds``) are grey and dashed.
Data that is not live is faded, with ``STALE`` in the header, so colour is never the only
cue.

Rendering discipline (issue 12): :meth:`DashboardTrend.append` only appends to the
series' pending lists and :meth:`DashboardTrend.set_points` only replaces its ring (both
are :class:`widgets.trend_buffer.SeriesBuffer`); :meth:`DashboardTrend.refresh`, called
by the owner from one shared timer, is the only method that changes what is drawn. It
merges the pending points, clips each series to ``[now - window, now]`` and, when more
points are left than twice the plot's width in pixels, keeps the minimum and the maximum
of each pixel-wide time bucket (peak downsampling), so a one-sample spike is never lost.
Buckets are aligned to absolute time (multiples of the bucket's width), so the picture
does not shimmer as the window slides, and a curve gets new data only when the points it
shows changed. The time axis moves only by whole pixel columns (its end is ``now`` rounded
up to one), so a 24 h window is not redrawn 30 times a second for moves smaller than a
pixel. Nothing changed, nothing is redrawn. Curves are one-pixel lines and the plot has no
grid: both cost more to paint than anything else (see :data:`CURVE_WIDTH`).

The y axis always includes the limits and thresholds, so that the distance to a limit can
be read; it is set by :meth:`~DashboardTrend.refresh`, not auto-ranged. There is no mouse
interaction (walls have no mouse): no pan, zoom or context menu. Colours and the type size
come from the theme active when the plot is built (:func:`widgets.palette.current_theme`).
"""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from widgets.format import format_exact
from widgets.gauge import high_is_bad_for, on_chart_background
from widgets.i18n import QT_TRANSLATE_NOOP, smallest_text_px, translate
from widgets.palette import current_theme, text_color_for
from widgets.plain_text import plain_tooltip
from widgets.trend_buffer import Array, SeriesBuffer, as_points

log = logging.getLogger(__name__)

STALE_WORD = QT_TRANSLATE_NOOP("DashboardTrend", "STALE")
"""The word in the header while the data is not live."""
WARN_LABEL = QT_TRANSLATE_NOOP("DashboardTrend", "warn {value}")
ALARM_LABEL = QT_TRANSLATE_NOOP("DashboardTrend", "alarm {value}")

DEFAULT_MAX_POINTS = 100_000
"""Points kept per series: a day at one point a second, with room to spare."""
MIN_COLUMNS = 100
"""Pixel columns assumed while the plot is narrower (not laid out yet)."""
BAND_ALPHA = 0.28
"""Opacity of the alarm band over the chart background: a light tint, lines stay legible."""
STALE_OPACITY = 0.4
"""Opacity of the curves while the data is stale: faded, still legible."""
Y_PADDING = 0.06
"""Room above and below the data and limits, as a share of their span."""

_DASHES: tuple[tuple[float, ...], ...] = (
    (),  # solid
    (8.0, 4.0),
    (2.0, 3.0),
    (8.0, 3.0, 2.0, 3.0),
    (14.0, 4.0, 2.0, 4.0, 2.0, 4.0),
)
"""Dash patterns (dash, gap, ... in pen widths) that tell series apart, with the legend and
the grey's lightness: never colour."""
CURVE_WIDTH = 1.0
"""Curves are cosmetic one-pixel lines in every theme. Qt's raster engine strokes wider
lines over a jagged (peak-downsampled, noisy) path far slower: one noisy series of 1,920
points across 960 px paints in about 4 ms at 1 px (solid or dashed), 7 ms at 2 px solid
without antialiasing, and 0.3 to 1.3 s at 2 or 3 px antialiased or dashed (offscreen)."""
CURVE_ANTIALIAS = False
"""Antialiasing costs about half as much again for noisy series (a 1 px line shows no
steps worth that); set it where smooth curves matter more than the frame time."""

# Sizes in pixels at font_scale 1; every one grows with the theme's font_scale.
_TITLE_PX = 14.0
_TICK_PX = 11.0
_LEGEND_PT = 9.0
_LIMIT_W = 1.5
_LEGEND_OFFSET = 8.0


@dataclass(eq=False)
class _Series:
    """One series: its buffer (which owns the curve) and what the curve was last given."""

    key: str
    label: str
    buffer: SeriesBuffer
    version: int = 0
    drawn_key: tuple[int, int, int, float] | None = None
    x: Array = field(default_factory=lambda: np.empty(0, dtype=np.float64))
    y: Array = field(default_factory=lambda: np.empty(0, dtype=np.float64))


def peak_downsample(ts: Array, vals: Array, bucket_s: float) -> tuple[Array, Array]:
    """Keep the minimum and the maximum of each ``bucket_s``-wide time bucket.

    ``ts`` is sorted; buckets are aligned to multiples of ``bucket_s`` (absolute time), so
    the same points always give the same result. Each non-empty bucket becomes two points:
    its minimum at its first time and its maximum at its last. NaN values are ignored, and
    a bucket of NaN only stays NaN (a gap). ``bucket_s <= 0`` returns the points unchanged.
    """
    n = ts.size
    if n == 0 or bucket_s <= 0:
        return ts, vals
    first = math.floor(ts[0] / bucket_s)
    last = math.floor(ts[-1] / bucket_s)
    edges = np.arange(first + 1, last + 1, dtype=np.float64) * bucket_s
    starts = np.searchsorted(ts, edges, side="left")
    starts = np.concatenate(([0], starts[starts < n]))
    starts = starts[np.concatenate(([True], np.diff(starts) > 0))]
    ends = np.append(starts[1:], n) - 1
    x = np.empty(2 * starts.size, dtype=np.float64)
    y = np.empty(2 * starts.size, dtype=np.float64)
    x[0::2] = ts[starts]
    x[1::2] = ts[ends]
    y[0::2] = np.fmin.reduceat(vals, starts)
    y[1::2] = np.fmax.reduceat(vals, starts)
    return x, y


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class DashboardTrend(QWidget):
    """Series over a fixed time window with limit lines and an alarm band; see the module
    docstring for how updates, downsampling and styles work."""

    def __init__(  # noqa: PLR0917 (the positional order is the documented API)
        self,
        title: str,
        unit: str,
        window_s: float,
        warn: float | None = None,
        alarm: float | None = None,
        thresholds: Sequence[float] = (),
        high_is_bad: bool | None = None,
        parent: QWidget | None = None,
        *,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> None:
        super().__init__(parent)
        if not (math.isfinite(window_s) and window_s > 0):
            raise ValueError(f"window_s must be positive, got {window_s}")
        if max_points < 1:
            raise ValueError(f"max_points must be at least 1, got {max_points}")
        self._theme = current_theme()
        self._title = title
        self._unit = unit
        self._window = float(window_s)
        self._max_points = int(max_points)
        self._warn = _finite(warn)
        self._alarm = _finite(alarm)
        self._extra = tuple(v for v in (_finite(t) for t in thresholds) if v is not None)
        if high_is_bad is None:
            high_is_bad = high_is_bad_for(self._warn, self._alarm)
        self._high_is_bad = bool(high_is_bad)

        self._series: dict[str, _Series] = {}
        self._stale = False
        self._shown_stale = False
        self._view_end: float | None = None
        self._y_range: tuple[float, float] | None = None

        theme = self._theme
        scale = theme.font_scale
        self.setObjectName("dashboardTrend")
        self.setToolTip(plain_tooltip(title))
        self.setAccessibleName(title)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        on_chart_background(self, theme)

        self._title_label = self._label(title, theme.chart_text, _TITLE_PX * scale, bold=True)
        self._title_label.setObjectName("dashboardTrendTitle")
        self._title_label.setMinimumWidth(1)  # a long title is cut, not the plot widened
        self._unit_label = self._label(unit, theme.chart_dim_text, _TITLE_PX * scale)
        self._unit_label.setObjectName("dashboardTrendUnit")
        self._stale_chip = self._label(
            translate("DashboardTrend", STALE_WORD), text_color_for(theme.stale), _TITLE_PX * scale
        )
        self._stale_chip.setObjectName("dashboardTrendStale")
        chip_pad = round(4 * scale)
        self._stale_chip.setStyleSheet(
            f"background:{theme.stale};color:{text_color_for(theme.stale)};"
            f"border:1px solid {theme.chart_mark};padding:0 {chip_pad}px;font-weight:bold"
        )
        keep_room = self._stale_chip.sizePolicy()
        keep_room.setRetainSizeWhenHidden(True)  # the plot does not jump when it shows
        self._stale_chip.setSizePolicy(keep_room)
        self._stale_chip.hide()

        header = QHBoxLayout()
        margin = round(8 * scale)
        header.setContentsMargins(margin, round(6 * scale), margin, 0)
        header.setSpacing(round(6 * scale))
        header.addWidget(self._title_label)
        header.addWidget(self._unit_label)
        header.addStretch(1)
        header.addWidget(self._stale_chip)

        self._canvas = pg.PlotWidget(
            background=theme.chart_background,
            axisItems={"bottom": pg.DateAxisItem(orientation="bottom")},
        )
        self._canvas.setInteractive(False)
        self._canvas.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._plot: pg.PlotItem = self._canvas.getPlotItem()
        self._vb: pg.ViewBox = self._plot.getViewBox()
        self._style_plot()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(round(2 * scale))
        layout.addLayout(header)
        layout.addWidget(self._canvas, 1)

        self._band = self._make_band()
        self._lines: list[tuple[str, float, pg.InfiniteLine]] = []
        self._make_lines()
        self._apply_y_range(*self._y_bounds())

    # ----------------------------------------------------------------- public API

    @property
    def title(self) -> str:
        """The title in the header."""
        return self._title

    @property
    def window_s(self) -> float:
        """The time window shown, seconds."""
        return self._window

    def add_series(self, key: str, label: str) -> None:
        """Add a series named ``label`` in the legend (ValueError if ``key`` exists)."""
        if key in self._series:
            raise ValueError(f"series {key!r} exists already")
        index = len(self._series)
        curve = pg.PlotDataItem(
            pen=self._series_pen(index), connect="finite", antialias=CURVE_ANTIALIAS, symbol=None
        )
        curve.setSymbolPen(None)
        curve.setSymbolBrush(pg.mkBrush(self._series_color(index)))
        curve.setSymbolSize(round(6 * self._theme.font_scale))
        self._plot.addItem(curve)
        self._legend.addItem(curve, html.escape(label))
        self._legend.setPos(_LEGEND_OFFSET, _LEGEND_OFFSET)  # updateSize moved it to 0, 0
        if self._shown_stale:
            curve.setOpacity(STALE_OPACITY)
        self._series[key] = _Series(key, label, SeriesBuffer(self._max_points, curve, self._unit))
        log.debug("trend %r: series %r added", self._title, key)

    def set_points(self, key: str, points: Sequence[tuple[float, float]]) -> None:
        """Replace ``key``'s points (and drop its pending ones) by ``(ts, value)`` pairs in
        any order, e.g. history from the cache. Drawn by the next :meth:`refresh`."""
        self._series[key].buffer.replace(*as_points(points))

    def append(self, key: str, ts: float, value: float) -> None:
        """Buffer one live point of ``key`` (NaN draws a gap); drawn by the next
        :meth:`refresh`. Cheap: no drawing, no numpy."""
        buffer = self._series[key].buffer
        buffer.pending_ts.append(float(ts))
        buffer.pending_vals.append(float(value))
        if len(buffer.pending_ts) >= 2 * self._max_points:
            buffer.flush()  # nobody refreshes: keep the pending lists bounded

    def set_stale(self, stale: bool) -> None:
        """Mark the data as not live (or live again); shown by the next :meth:`refresh`."""
        self._stale = bool(stale)

    def refresh(self, now: float) -> None:
        """Show the window ending at ``now`` (epoch seconds) with the points stored so far.

        The only method that changes what is drawn; call it from the owner's shared timer.
        Curves get new data only when the points they show changed, and nothing is redrawn
        when neither ``now``, the points, the stale state nor the plot's width changed.
        """
        now = float(now)
        start = now - self._window
        columns = self._columns()
        data_changed = False
        for series in self._series.values():
            data_changed |= self._refresh_series(series, start, now, columns)
        if data_changed or self._y_range is None:
            self._apply_y_range(*self._y_bounds())
        # The view ends at now rounded up to a whole pixel column: it moves only when a
        # pixel would change (a 24 h window moves once every minute or so, not 30 times a
        # second), and the newest point is always inside it.
        step = self._window / columns
        view_end = math.ceil(now / step) * step
        if view_end != self._view_end:
            self._view_end = view_end
            self._vb.setXRange(view_end - self._window, view_end, padding=0)
        if self._stale != self._shown_stale:
            self._apply_stale(self._stale)

    def series_keys(self) -> list[str]:
        """The series' keys, in the order they were added."""
        return list(self._series)

    def set_series_label(self, key: str, label: str) -> None:
        """Name ``key`` ``label`` in the legend (e.g. once its entity's name is known)."""
        series = self._series[key]
        if series.label == label:
            return
        series.label = label
        for sample, text in self._legend.items:
            if sample.item is series.buffer.curve:
                text.setText(html.escape(label))
        self._legend.updateSize()
        self._legend.setPos(_LEGEND_OFFSET, _LEGEND_OFFSET)

    def series_label(self, key: str) -> str:
        """The legend text of ``key``."""
        return self._series[key].label

    def legend_texts(self) -> list[str]:
        """The legend's entries as they read on screen."""
        return [str(label.item.toPlainText()) for _sample, label in self._legend.items]

    def drawn_points(self, key: str) -> tuple[Array, Array]:
        """The times and values ``key``'s curve draws (as of the last :meth:`refresh`;
        clipped and downsampled). Read-only views: do not modify."""
        series = self._series[key]
        return series.x, series.y

    def curve(self, key: str) -> pg.PlotDataItem:
        """The plot item drawing ``key`` (KeyError when there is none)."""
        return self._series[key].buffer.curve

    def is_stale(self) -> bool:
        """Whether the plot shows its data as stale (as of the last :meth:`refresh`)."""
        return self._shown_stale

    def stale_word(self) -> str:
        """``"STALE"`` (translated) while shown stale, else empty."""
        return self._stale_chip.text() if self._shown_stale else ""

    def x_range(self) -> tuple[float, float]:
        """The visible time span, epoch seconds: the window, ending at the last refresh's
        ``now`` rounded up to a whole pixel column (``window_s / plot_columns()``)."""
        low, high = self._vb.viewRange()[0]
        return float(low), float(high)

    def y_range(self) -> tuple[float, float]:
        """The visible value span."""
        low, high = self._vb.viewRange()[1]
        return float(low), float(high)

    def limits(self) -> tuple[float | None, float | None, bool]:
        """``(warn, alarm, high_is_bad)``."""
        return self._warn, self._alarm, self._high_is_bad

    def threshold_lines(self) -> list[tuple[str, float]]:
        """The horizontal lines drawn: ``("warn", v)``, ``("alarm", v)``, ``("threshold", v)``."""
        return [(kind, value) for kind, value, line in self._lines if line.isVisible()]

    def alarm_band(self) -> tuple[float, float] | None:
        """The value span of the alarm band (low, high), or None without an alarm limit."""
        if self._band is None:
            return None
        low, high = self._band.getRegion()
        return float(low), float(high)

    def plot_columns(self) -> int:
        """The pixel columns downsampling aims at (the plot area's width, at least
        :data:`MIN_COLUMNS`); a curve draws at most about twice as many points."""
        return self._columns()

    def data_to_widget(self, ts: float, value: float) -> QPoint:
        """Where the point ``(ts, value)`` is drawn, in this widget's coordinates."""
        scene = self._vb.mapViewToScene(QPointF(ts, value))
        return QPoint(self._canvas.mapTo(self, self._canvas.mapFromScene(scene)))

    def plot_viewport(self) -> QWidget:
        """The widget the plot paints on (to watch its repaints)."""
        return cast(QWidget, self._canvas.viewport())

    # ----------------------------------------------------------------- building

    @staticmethod
    def _label(text: str, color: str, pixels: float, *, bold: bool = False) -> QLabel:
        label = QLabel(text)
        label.setTextFormat(Qt.TextFormat.PlainText)
        font = QFont(label.font())
        font.setPixelSize(max(smallest_text_px(), round(pixels)))
        font.setBold(bold)
        label.setFont(font)
        label.setStyleSheet(f"color:{color}")
        return label

    def _style_plot(self) -> None:
        theme = self._theme
        scale = theme.font_scale
        plot, vb = self._plot, self._vb
        plot.setMenuEnabled(False)
        plot.hideButtons()
        vb.setMouseEnabled(x=False, y=False)
        vb.disableAutoRange()
        tick_font = QFont()
        tick_font.setPixelSize(max(smallest_text_px(), round(_TICK_PX * scale)))
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(theme.chart_axis))
            axis.setTextPen(pg.mkPen(theme.chart_dim_text))
            axis.setStyle(tickFont=tick_font)
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.getAxis("left").setWidth(round(52 * scale))
        self._legend = pg.LegendItem(
            offset=None,  # not anchored: placed once in the top-left corner
            brush=pg.mkBrush(theme.chart_background + "d0"),
            pen=pg.mkPen(theme.chart_axis),
            labelTextColor=theme.chart_text,
            labelTextSize=f"{round(_LEGEND_PT * scale)}pt",
            verSpacing=-4,
        )
        self._legend.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._legend.setParentItem(vb)
        self._legend.setZValue(50)
        self._legend.setPos(_LEGEND_OFFSET, _LEGEND_OFFSET)

    def _series_color(self, index: int) -> str:
        """Neutral greys only: the chart's text colour and the gauge's normal value colour."""
        theme = self._theme
        return (theme.chart_text, theme.chart_value)[index % 2]

    def _series_pen(self, index: int) -> object:
        pen = pg.mkPen(self._series_color(index), width=CURVE_WIDTH)
        pen.setCosmetic(True)
        dashes = _DASHES[index % len(_DASHES)]
        if dashes:
            pen.setDashPattern(list(dashes))
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        return pen

    def _make_band(self) -> pg.LinearRegionItem | None:
        if self._alarm is None:
            return None
        color = QColor(self._theme.alarm)
        color.setAlphaF(BAND_ALPHA)
        band = pg.LinearRegionItem(
            values=(self._alarm, self._alarm + 1.0),
            orientation="horizontal",
            brush=pg.mkBrush(color),
            pen=pg.mkPen(None),
            hoverBrush=pg.mkBrush(color),
            hoverPen=pg.mkPen(None),
            movable=False,
        )
        band.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        band.setZValue(-20)
        self._plot.addItem(band, ignoreBounds=True)
        return band

    def _make_lines(self) -> None:
        theme = self._theme
        scale = theme.font_scale
        limits = (
            ("warn", self._warn, theme.warning, WARN_LABEL),
            ("alarm", self._alarm, theme.alarm, ALARM_LABEL),
        )
        for kind, value, color, text in limits:
            if value is None:
                continue
            label = translate("DashboardTrend", text).format(value=format_exact(value))
            self._add_line(kind, value, pg.mkPen(color, width=_LIMIT_W * scale), label)
        for value in self._extra:
            pen = pg.mkPen(theme.chart_dim_text, width=1.0 * scale, style=Qt.PenStyle.DashLine)
            self._add_line("threshold", value, pen, format_exact(value))

    def _add_line(self, kind: str, value: float, pen: object, text: str) -> None:
        theme = self._theme
        line = pg.InfiniteLine(
            pos=value,
            angle=0,
            movable=False,
            pen=pen,
            label=text.replace("{", "{{").replace("}", "}}"),  # the label is a format string
            labelOpts={
                "position": 0.98,
                "color": theme.chart_text,
                "anchors": [(1, 1), (1, 1)],
            },
        )
        line.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        line.setZValue(-5)
        self._plot.addItem(line, ignoreBounds=True)
        self._lines.append((kind, value, line))

    # ----------------------------------------------------------------- refreshing

    def _columns(self) -> int:
        return max(MIN_COLUMNS, int(self._vb.width()))

    def _refresh_series(self, series: _Series, start: float, end: float, columns: int) -> bool:
        """Give ``series``' curve the points of ``[start, end]`` if they changed; True then."""
        buffer = series.buffer
        buffer.flush()
        if buffer.dirty:
            buffer.dirty = False
            series.version += 1
        ts, vals = buffer.times(), buffer.values()
        first = int(np.searchsorted(ts, start, side="left"))
        last = int(np.searchsorted(ts, end, side="right"))
        bucket_s = self._window / columns if last - first > 2 * columns else 0.0
        drawn_key = (series.version, first, last, bucket_s)
        if drawn_key == series.drawn_key:
            return False
        series.drawn_key = drawn_key
        x, y = peak_downsample(ts[first:last], vals[first:last], bucket_s)
        # Copies: the ring's arrays are reused by later appends.
        series.x, series.y = np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)
        lone = int(np.count_nonzero(np.isfinite(series.y))) == 1  # no line: draw a dot
        if lone != buffer.with_symbol:
            buffer.curve.setSymbol("o" if lone else None)
            buffer.with_symbol = lone
        buffer.curve.setData(series.x, series.y)
        return True

    def _y_bounds(self) -> tuple[float, float]:
        """The value span to show: the drawn points, the limits and the thresholds."""
        lows: list[float] = []
        highs: list[float] = []
        for series in self._series.values():
            finite = series.y[np.isfinite(series.y)]
            if finite.size:
                lows.append(float(finite.min()))
                highs.append(float(finite.max()))
        marks = [v for v in (self._warn, self._alarm, *self._extra) if v is not None]
        lows.extend(marks)
        highs.extend(marks)
        if not lows:
            return 0.0, 1.0
        low, high = min(lows), max(highs)
        span = high - low
        pad = span * Y_PADDING if span > 0 else max(abs(high) * Y_PADDING, 1.0)
        return low - pad, high + pad

    def _apply_y_range(self, low: float, high: float) -> None:
        if (low, high) == self._y_range:
            return
        self._y_range = (low, high)
        self._vb.setYRange(low, high, padding=0)
        if self._band is not None and self._alarm is not None:
            # The band reaches well past the edge of the view on its side of the limit.
            beyond = 2 * (high - low)
            if self._high_is_bad:
                self._band.setRegion((self._alarm, max(high, self._alarm) + beyond))
            else:
                self._band.setRegion((min(low, self._alarm) - beyond, self._alarm))

    def _apply_stale(self, stale: bool) -> None:
        self._shown_stale = stale
        self._stale_chip.setVisible(stale)
        for series in self._series.values():
            series.buffer.curve.setOpacity(STALE_OPACITY if stale else 1.0)
        word = translate("DashboardTrend", STALE_WORD)
        self.setAccessibleDescription(word if stale else "")
