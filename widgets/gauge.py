"""A KPI dial gauge drawn with pyqtgraph.

Every graphics item is created once in ``__init__``; :meth:`Gauge.set_value` only pushes
new data, text and colours into them, so the gauge can be updated at the UI tick rate.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QFont, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from widgets.format import NO_VALUE, decimals_for_span, format_exact, format_number
from widgets.palette import (
    ALARM_COLOR,
    CHART_BACKGROUND,
    CHART_DIM_TEXT_COLOR,
    CHART_NEEDLE_COLOR,
    CHART_TEXT_COLOR,
    CHART_TRACK_COLOR,
    NEUTRAL_COLOR,
    NORMAL_COLOR,
    STALE_COLOR,
    WARNING_COLOR,
)
from widgets.plain_text import plain_tooltip

log = logging.getLogger(__name__)

START_DEGREES = 210.0
"""Angle (counter-clockwise from east) of the dial's minimum."""
SWEEP_DEGREES = 240.0
"""How far the dial turns clockwise from minimum to maximum."""

_RING_OUTER = 1.0
_RING_INNER = 0.93
_TRACK_OUTER = 0.88
_TRACK_INNER = 0.72
_NEEDLE_BASE = 0.54
_NEEDLE_TIP = 0.97
_NEEDLE_HALF_WIDTH = 0.04
_ARC_POINTS = 97

_BAND_COLORS = {"normal": NORMAL_COLOR, "warning": WARNING_COLOR, "alarm": ALARM_COLOR}


def _sector(
    f0: float, f1: float, inner: float, outer: float, points: int
) -> tuple[np.ndarray, np.ndarray]:
    """Closed outline of the ring sector between dial fractions ``f0`` and ``f1``."""
    angles = np.radians(START_DEGREES - SWEEP_DEGREES * np.linspace(f0, f1, points))
    cos, sin = np.cos(angles), np.sin(angles)
    x = np.concatenate((outer * cos, inner * cos[::-1], outer * cos[:1]))
    y = np.concatenate((outer * sin, inner * sin[::-1], outer * sin[:1]))
    return x, y


class Gauge(QWidget):
    """A 240 degree dial showing one KPI with normal / warning / alarm bands.

    Thresholds: when both are given, ``warn < alarm`` means high values are bad and
    ``warn > alarm`` means low values are bad; with only one of them, high is bad unless
    ``high_is_bad=False`` is passed.
    """

    def __init__(  # noqa: PLR0917 (the positional order is the documented API)
        self,
        title: str,
        minimum: float,
        maximum: float,
        unit: str = "",
        warn: float | None = None,
        alarm: float | None = None,
        parent: QWidget | None = None,
        *,
        high_is_bad: bool | None = None,
        decimals: int | None = None,
    ) -> None:
        super().__init__(parent)
        if not (math.isfinite(minimum) and math.isfinite(maximum)) or maximum <= minimum:
            raise ValueError(f"gauge range needs minimum < maximum, got {minimum}..{maximum}")
        self._title = title
        self._minimum = float(minimum)
        self._maximum = float(maximum)
        self._unit = unit
        self._decimals = (
            decimals_for_span(self._maximum - self._minimum)
            if decimals is None
            else max(0, decimals)
        )
        self._warn: float | None = None
        self._alarm: float | None = None
        self._high_is_bad = True
        self._value: float | None = None
        self._stale = False
        self._band = "none"
        self._value_text = NO_VALUE
        self._shown: tuple[float | None, bool] | None = None

        self.setObjectName("gauge")
        self.setToolTip(plain_tooltip(title))
        self.setMinimumSize(160, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self._canvas = pg.GraphicsLayoutWidget()
        self._canvas.setBackground(CHART_BACKGROUND)
        self._canvas.setAntialiasing(True)
        self._canvas.setInteractive(False)
        self._canvas.ci.setContentsMargins(0, 0, 0, 0)
        self._canvas.ci.layout.setSpacing(0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._canvas)

        vb = self._canvas.ci.addViewBox(lockAspect=True, enableMouse=False, enableMenu=False)
        vb.setMouseEnabled(x=False, y=False)
        vb.disableAutoRange()
        vb.setRange(xRange=(-1.12, 1.12), yRange=(-0.92, 1.06), padding=0)
        self._vb: pg.ViewBox = vb

        def filled(color: str, z: float) -> pg.PlotCurveItem:
            item = pg.PlotCurveItem(
                fillLevel="enclosed", brush=pg.mkBrush(color), pen=None, antialias=True
            )
            item.setZValue(z)
            vb.addItem(item)
            return item

        # Zone ring: one item per band so thresholds can move without new items.
        self._neutral_ring = filled(CHART_TRACK_COLOR, 0)
        self._band_items = {name: filled(color, 1) for name, color in _BAND_COLORS.items()}
        # Value track and the arc that fills it up to the value.
        self._track = filled(CHART_TRACK_COLOR, 2)
        self._track.setData(*_sector(0.0, 1.0, _TRACK_INNER, _TRACK_OUTER, _ARC_POINTS))
        self._value_arc = filled(NEUTRAL_COLOR, 3)
        self._needle = filled(CHART_NEEDLE_COLOR, 5)

        def text(color: str, anchor: tuple[float, float], x: float, y: float) -> pg.TextItem:
            item = pg.TextItem("", color=color, anchor=anchor)
            item.setPos(x, y)
            item.setZValue(6)
            vb.addItem(item)
            return item

        self._value_label = text(CHART_TEXT_COLOR, (0.5, 0.5), 0.0, 0.02)
        self._unit_label = text(CHART_DIM_TEXT_COLOR, (0.5, 0.0), 0.0, -0.22)
        self._stale_label = text(STALE_COLOR, (0.5, 0.5), 0.0, 0.42)
        self._title_label = text(CHART_TEXT_COLOR, (0.5, 0.0), 0.0, -0.55)
        end = math.radians(START_DEGREES)
        self._min_label = text(CHART_DIM_TEXT_COLOR, (0.5, 0.0), _RING_OUTER * math.cos(end), -0.52)
        self._max_label = text(
            CHART_DIM_TEXT_COLOR, (0.5, 0.0), -_RING_OUTER * math.cos(end), -0.52
        )

        self._value_label.setText(NO_VALUE)
        self._unit_label.setText(unit)
        self._title_label.setText(title)
        self._min_label.setText(format_exact(self._minimum))
        self._max_label.setText(format_exact(self._maximum))
        self._apply_fonts(1.0)

        self.set_thresholds(warn, alarm, high_is_bad=high_is_bad)
        self._render()

    # ----------------------------------------------------------------- public API

    @property
    def title(self) -> str:
        """The title shown under the dial."""
        return self._title

    @property
    def view_box(self) -> pg.ViewBox:
        """The pyqtgraph view box holding every graphics item of the dial."""
        return self._vb

    def set_value(self, value: float | None, *, stale: bool = False) -> None:
        """Show ``value`` (None or NaN shows a dash); ``stale`` greys it out with a hint.

        Values outside the range pin the needle to the end of the dial but the label
        shows the true number.
        """
        if value is not None:
            value = float(value)
            if math.isnan(value):
                value = None
        self._value = value
        self._stale = bool(stale)
        if self._shown == (self._value, self._stale):
            return
        self._render()

    def value(self) -> float | None:
        """The last value given to :meth:`set_value` (None when there is none)."""
        return self._value

    def is_stale(self) -> bool:
        """True when the shown value was marked stale."""
        return self._stale

    def band(self) -> str:
        """``"normal"``, ``"warning"`` or ``"alarm"`` for the value; ``"none"`` without one."""
        return self._band

    def value_text(self) -> str:
        """The text of the value label (the number without its unit, or a dash)."""
        return self._value_text

    def needle_fraction(self) -> float | None:
        """Where the needle points, 0 (minimum) to 1 (maximum); None when it is hidden."""
        if self._value is None:
            return None
        return self._fraction(self._value)

    def hint_text(self) -> str:
        """The hint above the value: ``"stale"`` for stale values, else empty."""
        return "stale" if self._stale else ""

    def unit(self) -> str:
        """The unit shown under the value."""
        return self._unit

    def thresholds(self) -> tuple[float | None, float | None, bool]:
        """``(warn, alarm, high_is_bad)``."""
        return self._warn, self._alarm, self._high_is_bad

    def set_thresholds(
        self, warn: float | None, alarm: float | None, *, high_is_bad: bool | None = None
    ) -> None:
        """Move the warning and alarm thresholds (see the class docstring for direction)."""
        if high_is_bad is None:
            high_is_bad = not (warn is not None and alarm is not None and warn > alarm)
        self._warn = None if warn is None else float(warn)
        self._alarm = None if alarm is None else float(alarm)
        self._high_is_bad = high_is_bad
        self._layout_bands()
        self._shown = None
        self._render()

    def sizeHint(self) -> QSize:
        return QSize(220, 190)

    def minimumSizeHint(self) -> QSize:
        return QSize(160, 140)

    # ------------------------------------------------------------------ internals

    def _fraction(self, value: float) -> float:
        span = self._maximum - self._minimum
        return min(1.0, max(0.0, (value - self._minimum) / span))

    def _bands(self) -> dict[str, tuple[float, float]]:
        """Dial fractions covered by each band (empty bands are left out)."""
        warn = None if self._warn is None else self._fraction(self._warn)
        alarm = None if self._alarm is None else self._fraction(self._alarm)
        spans: dict[str, tuple[float, float]] = {}
        if warn is None and alarm is None:
            return spans
        if self._high_is_bad:
            alarm_start = 1.0 if alarm is None else alarm
            warn_start = alarm_start if warn is None else min(warn, alarm_start)
            spans = {
                "normal": (0.0, warn_start),
                "warning": (warn_start, alarm_start),
                "alarm": (alarm_start, 1.0),
            }
        else:
            alarm_end = 0.0 if alarm is None else alarm
            warn_end = alarm_end if warn is None else max(warn, alarm_end)
            spans = {
                "alarm": (0.0, alarm_end),
                "warning": (alarm_end, warn_end),
                "normal": (warn_end, 1.0),
            }
        return {name: span for name, span in spans.items() if span[1] > span[0]}

    def _layout_bands(self) -> None:
        spans = self._bands()
        self._neutral_ring.setVisible(not spans)
        self._neutral_ring.setData(*_sector(0.0, 1.0, _RING_INNER, _RING_OUTER, _ARC_POINTS))
        for name, item in self._band_items.items():
            span = spans.get(name)
            if span is None:
                item.setVisible(False)
                continue
            points = max(4, int(_ARC_POINTS * (span[1] - span[0])) + 2)
            item.setData(*_sector(span[0], span[1], _RING_INNER, _RING_OUTER, points))
            item.setVisible(True)

    def _band_of(self, value: float) -> str:
        if self._warn is None and self._alarm is None:
            return "normal"
        if self._high_is_bad:
            if self._alarm is not None and value >= self._alarm:
                return "alarm"
            if self._warn is not None and value >= self._warn:
                return "warning"
            return "normal"
        if self._alarm is not None and value <= self._alarm:
            return "alarm"
        if self._warn is not None and value <= self._warn:
            return "warning"
        return "normal"

    def _render(self) -> None:
        value, stale = self._value, self._stale
        self._shown = (value, stale)
        if value is None:
            self._band = "none"
            self._value_text = NO_VALUE
            self._needle.setVisible(False)
            self._value_arc.setVisible(False)
        else:
            self._band = self._band_of(value)
            self._value_text = format_number(value, self._decimals)
            fraction = self._fraction(value)
            has_bands = self._warn is not None or self._alarm is not None
            color = _BAND_COLORS[self._band] if has_bands else NEUTRAL_COLOR
            if stale:
                color = STALE_COLOR
            self._value_arc.setData(
                *_sector(0.0, fraction, _TRACK_INNER, _TRACK_OUTER, _ARC_POINTS)
            )
            self._value_arc.setBrush(pg.mkBrush(color))
            self._value_arc.setVisible(True)
            self._needle.setData(*self._needle_outline(fraction))
            self._needle.setBrush(pg.mkBrush(STALE_COLOR if stale else CHART_NEEDLE_COLOR))
            self._needle.setVisible(True)
        self._value_label.setText(self._value_text)
        self._value_label.setColor(QColor(STALE_COLOR if stale else CHART_TEXT_COLOR))
        self._stale_label.setText(self.hint_text())

    @staticmethod
    def _needle_outline(fraction: float) -> tuple[np.ndarray, np.ndarray]:
        angle = math.radians(START_DEGREES - SWEEP_DEGREES * fraction)
        ux, uy = math.cos(angle), math.sin(angle)
        px, py = -uy * _NEEDLE_HALF_WIDTH, ux * _NEEDLE_HALF_WIDTH
        bx, by = ux * _NEEDLE_BASE, uy * _NEEDLE_BASE
        x = np.array([bx + px, ux * _NEEDLE_TIP, bx - px, bx + px])
        y = np.array([by + py, uy * _NEEDLE_TIP, by - py, by + py])
        return x, y

    def _apply_fonts(self, scale: float) -> None:
        def font(pixels: float, bold: bool = False) -> QFont:
            result = QFont()
            result.setPixelSize(max(8, round(pixels * scale)))
            result.setBold(bold)
            return result

        self._value_label.setFont(font(30, bold=True))
        self._unit_label.setFont(font(12))
        self._stale_label.setFont(font(11))
        self._title_label.setFont(font(13, bold=True))
        self._min_label.setFont(font(10))
        self._max_label.setFont(font(10))

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Scale the text with the dial."""
        super().resizeEvent(event)
        size = event.size()
        self._apply_fonts(max(0.6, min(size.width() / 220, size.height() / 190)))
