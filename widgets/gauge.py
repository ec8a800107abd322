"""A KPI dial gauge drawn with pyqtgraph, in the high-performance (ISA-101) manner.

A normal value is drawn in greys; colour appears only when the value is past a limit, and
never alone: the limits are tick marks on the ring, the alarm band is hatched, and a value
in a band says so in words (``HIGH``, ``HIGH-HIGH``, ``LOW``, ``LOW-LOW``). A value beyond
the scale hides the needle and shows an over-range arrow at that end of the dial.

Every graphics item is created once in ``__init__``; :meth:`Gauge.set_value` only pushes
new data, text and colours into them, so the gauge can be updated at the UI tick rate. The
title is a label under the dial, so it can never run into the scale's numbers. Colours
come from the theme active when the gauge is built (:func:`widgets.palette.current_theme`).
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPalette, QPen, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from widgets.format import NO_VALUE, decimals_for_span, format_exact, format_number
from widgets.i18n import QT_TRANSLATE_NOOP, smallest_text_px, translate
from widgets.palette import Theme, current_theme, text_color_for
from widgets.plain_text import plain_tooltip

log = logging.getLogger(__name__)

MINIMUM_SIZE = QSize(120, 112)
"""The smallest a gauge gets; its layout is measured, so text never overlaps down to it."""

START_DEGREES = 210.0
"""Angle (counter-clockwise from east) of the dial's minimum."""
SWEEP_DEGREES = 240.0
"""How far the dial turns clockwise from minimum to maximum."""

_RING_OUTER = 1.0
_RING_INNER = 0.90
_TRACK_OUTER = 0.86
_TRACK_INNER = 0.70
_TICK_INNER = 0.87
_TICK_OUTER = 1.07
_NEEDLE_BASE = 0.52
_NEEDLE_TIP = 0.97
_NEEDLE_HALF_WIDTH = 0.04
_ARC_POINTS = 97
_HATCH_STEP = 0.018
"""Dial fraction between two strokes of the alarm band's hatching."""
_OVER_RANGE_DEGREES = 14.0
"""How far past the end of the dial the over-range arrow reaches."""

_VIEW_HALF_WIDTH = 1.12
_VIEW_TOP = 1.08
_VIEW_BOTTOM = -0.80
_SCALE_TOP = -0.58
"""Where the scale's end numbers start, under the ends of the dial (which are at -0.5)."""
_VALUE_Y = 0.10
_GAP = 0.03
_REFERENCE_UNIT_PX = 89.0
"""Pixels per dial radius at which the text has its nominal size (a 220x190 gauge)."""

BAND_WORDS = {
    (True, "warning"): QT_TRANSLATE_NOOP("Gauge", "HIGH"),
    (True, "alarm"): QT_TRANSLATE_NOOP("Gauge", "HIGH-HIGH"),
    (False, "warning"): QT_TRANSLATE_NOOP("Gauge", "LOW"),
    (False, "alarm"): QT_TRANSLATE_NOOP("Gauge", "LOW-LOW"),
}
"""The words a value in a band shows, by (high is bad, band)."""


def _angle(fraction: float) -> float:
    return math.radians(START_DEGREES - SWEEP_DEGREES * fraction)


def _sector(
    f0: float, f1: float, inner: float, outer: float, points: int
) -> tuple[np.ndarray, np.ndarray]:
    """Closed outline of the ring sector between dial fractions ``f0`` and ``f1``."""
    angles = np.radians(START_DEGREES - SWEEP_DEGREES * np.linspace(f0, f1, points))
    cos, sin = np.cos(angles), np.sin(angles)
    x = np.concatenate((outer * cos, inner * cos[::-1], outer * cos[:1]))
    y = np.concatenate((outer * sin, inner * sin[::-1], outer * sin[:1]))
    return x, y


def _pen(color: str, width: float) -> QPen:
    """A pen ``width`` dial radii wide: it scales with the dial and with the screen's device
    pixel ratio (a cosmetic pen would stay one device pixel thin on a HiDPI screen)."""
    pen = QPen(QColor(color))
    pen.setWidthF(width)
    pen.setCosmetic(False)
    return pen


def _radial_pairs(
    inner: list[float], outer: list[float], radii: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Line segments (for ``connect="pairs"``) from fraction ``inner[i]`` at the inner
    radius to ``outer[i]`` at the outer one."""
    x: list[float] = []
    y: list[float] = []
    for start, end in zip(inner, outer, strict=True):
        a, b = _angle(start), _angle(end)
        x += [radii[0] * math.cos(a), radii[1] * math.cos(b)]
        y += [radii[0] * math.sin(a), radii[1] * math.sin(b)]
    return np.array(x), np.array(y)


def high_is_bad_for(warn: float | None, alarm: float | None) -> bool:
    """Whether high values are the bad ones: yes unless the warning limit is above the
    alarm limit (then low values are)."""
    return not (warn is not None and alarm is not None and warn > alarm)


def limit_band(value: float, warn: float | None, alarm: float | None, *, high_is_bad: bool) -> str:
    """``normal``, ``warning`` or ``alarm`` for ``value`` against its limits (a value at a
    limit is in that limit's band)."""
    if high_is_bad:
        if alarm is not None and value >= alarm:
            return "alarm"
        if warn is not None and value >= warn:
            return "warning"
        return "normal"
    if alarm is not None and value <= alarm:
        return "alarm"
    if warn is not None and value <= warn:
        return "warning"
    return "normal"


def on_chart_background(widget: QWidget, theme: Theme) -> None:
    """Fill ``widget`` with the theme's chart background, its text in the chart's colour."""
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(theme.chart_background))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(theme.chart_text))
    widget.setPalette(palette)
    widget.setAutoFillBackground(True)


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
        self._theme = current_theme()
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

        theme = self._theme
        self.setObjectName("gauge")
        self.setToolTip(plain_tooltip(title))
        self.setMinimumSize(MINIMUM_SIZE)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        on_chart_background(self, theme)

        self._canvas = pg.GraphicsLayoutWidget()
        self._canvas.setBackground(theme.chart_background)
        self._canvas.setAntialiasing(True)
        self._canvas.setInteractive(False)
        self._canvas.ci.setContentsMargins(0, 0, 0, 0)
        self._canvas.ci.layout.setSpacing(0)
        self._title_label = QLabel(title)
        self._title_label.setObjectName("gaugeTitle")
        self._title_label.setTextFormat(Qt.TextFormat.PlainText)
        self._title_label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self._title_label.setWordWrap(True)
        self._title_label.setContentsMargins(4, 0, 4, 4)
        title_font = QFont(self._title_label.font())
        title_font.setBold(True)
        self._title_label.setFont(title_font)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._canvas, 1)
        layout.addWidget(self._title_label)

        vb = self._canvas.ci.addViewBox(lockAspect=True, enableMouse=False, enableMenu=False)
        vb.setMouseEnabled(x=False, y=False)
        vb.disableAutoRange()
        vb.setRange(
            xRange=(-_VIEW_HALF_WIDTH, _VIEW_HALF_WIDTH),
            yRange=(_VIEW_BOTTOM, _VIEW_TOP),
            padding=0,
        )
        self._vb: pg.ViewBox = vb

        def filled(color: str, z: float) -> pg.PlotCurveItem:
            item = pg.PlotCurveItem(
                fillLevel="enclosed", brush=pg.mkBrush(color), pen=None, antialias=True
            )
            item.setZValue(z)
            vb.addItem(item)
            return item

        def strokes(width: float, z: float) -> pg.PlotCurveItem:
            item = pg.PlotCurveItem(
                pen=_pen(theme.chart_mark, width), connect="pairs", antialias=True
            )
            item.setZValue(z)
            vb.addItem(item)
            return item

        # Zone ring: one item per band so thresholds can move without new items.
        self._neutral_ring = filled(theme.chart_track, 0)
        self._band_items = {
            "normal": filled(theme.chart_track, 1),
            "warning": filled(theme.chart_warning_band, 1),
            "alarm": filled(theme.chart_alarm_band, 1),
        }
        self._hatch = strokes(0.014, 1.5)
        self._ticks = strokes(0.026, 4)
        # Value track and the arc that fills it up to the value.
        self._track = filled(theme.chart_track, 2)
        self._track.setData(*_sector(0.0, 1.0, _TRACK_INNER, _TRACK_OUTER, _ARC_POINTS))
        self._value_arc = filled(theme.chart_value, 3)
        self._needle = filled(theme.chart_needle, 5)
        self._over_range = filled(theme.chart_value, 5)
        self._over_range.setPen(_pen(theme.chart_mark, 0.016))

        def text(color: str, anchor: tuple[float, float], x: float, y: float) -> pg.TextItem:
            item = pg.TextItem("", color=color, anchor=anchor)
            item.textItem.document().setDocumentMargin(0)
            item.setPos(x, y)
            item.setZValue(6)
            vb.addItem(item)
            return item

        end_x = _RING_OUTER * math.cos(math.radians(START_DEGREES))
        self._hint_label = text(theme.chart_dim_text, (0.5, 1.0), 0.0, 0.45)
        self._value_label = text(theme.chart_text, (0.5, 0.5), 0.0, _VALUE_Y)
        self._unit_label = text(theme.chart_dim_text, (0.5, 0.0), 0.0, -0.13)
        self._state_label = text(theme.chart_text, (0.5, 0.0), 0.0, -0.30)
        self._state_label.textItem.document().setDocumentMargin(3)
        self._min_label = text(theme.chart_dim_text, (0.5, 0.0), end_x, _SCALE_TOP)
        self._max_label = text(theme.chart_dim_text, (0.5, 0.0), -end_x, _SCALE_TOP)

        self._value_label.setText(NO_VALUE)
        self._unit_label.setText(unit)
        self._min_label.setText(format_exact(self._minimum))
        self._max_label.setText(format_exact(self._maximum))
        self._layout_text(self.sizeHint())

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

        A value outside the range hides the needle and shows the over-range arrow at that
        end of the dial; the label shows the true number.
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

    def state_text(self) -> str:
        """The words under the value: ``"HIGH"``, ``"HIGH-HIGH"``, ``"LOW"``, ``"LOW-LOW"``
        for a value in a band, else empty."""
        words = BAND_WORDS.get((self._high_is_bad, self._band), "")
        return translate("Gauge", words) if words else ""

    def range_state(self) -> str:
        """``"above"`` or ``"below"`` when the value is beyond the scale, else empty."""
        if self._value is None:
            return ""
        if self._value > self._maximum:
            return "above"
        if self._value < self._minimum:
            return "below"
        return ""

    def needle_fraction(self) -> float | None:
        """Where the needle points, 0 (minimum) to 1 (maximum); None when it is hidden
        (no value, or a value beyond the scale)."""
        if self._value is None or self.range_state():
            return None
        return self._fraction(self._value)

    def over_range_visible(self) -> bool:
        """True when the over-range arrow is shown."""
        return bool(self._over_range.isVisible())

    def hint_text(self) -> str:
        """The hint above the value: ``"stale"`` for stale values, ``"above scale"`` or
        ``"below scale"`` beyond the range, both joined by ``" · "``, else empty."""
        parts = []
        if self._stale:
            parts.append(translate("Gauge", "stale"))
        if self.range_state() == "above":
            parts.append(translate("Gauge", "above scale"))
        elif self.range_state() == "below":
            parts.append(translate("Gauge", "below scale"))
        return " · ".join(parts)

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
            high_is_bad = high_is_bad_for(warn, alarm)
        self._warn = None if warn is None else float(warn)
        self._alarm = None if alarm is None else float(alarm)
        self._high_is_bad = high_is_bad
        self._layout_bands()
        self._shown = None
        self._render()

    def text_rects(self) -> dict[str, QRectF]:
        """Where each shown text lies, in this widget's coordinates, by name: ``title``,
        ``hint``, ``value``, ``unit``, ``state``, ``minimum``, ``maximum``."""
        rects = {"title": QRectF(self._title_label.geometry())}
        items = {
            "hint": self._hint_label,
            "value": self._value_label,
            "unit": self._unit_label,
            "state": self._state_label,
            "minimum": self._min_label,
            "maximum": self._max_label,
        }
        self._canvas.ci.layout.activate()
        self._vb.prepareForPaint()  # the view's transform is otherwise updated at paint time
        origin = self._canvas.pos()
        for name, item in items.items():
            if not item.isVisible() or not item.toPlainText():
                continue
            item.updateTransform(force=True)
            rect = self._canvas.mapFromScene(item.sceneBoundingRect()).boundingRect()
            rects[name] = QRectF(rect.translated(origin))
        return rects

    def sizeHint(self) -> QSize:
        scale = self._theme.font_scale
        return QSize(round(220 * scale), round(190 * scale))

    def minimumSizeHint(self) -> QSize:
        return QSize(MINIMUM_SIZE)

    def hasHeightForWidth(self) -> bool:
        """No: the title wraps within the gauge's height, which the layout around it sets
        from the size hints (a wrapping label would otherwise make scroll areas ask for the
        canvas's large preferred height)."""
        return False

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
        # Hatching across the alarm band: slanted strokes, so it reads without colour.
        alarm = spans.get("alarm")
        if alarm is None:
            self._hatch.setVisible(False)
        else:
            count = max(1, round((alarm[1] - alarm[0]) / _HATCH_STEP))
            step = (alarm[1] - alarm[0]) / count
            starts = [alarm[0] + step * (i + 0.5) for i in range(count)]
            slant = step * 0.6
            inner = [min(alarm[1], s + slant / 2) for s in starts]
            outer = [max(alarm[0], s - slant / 2) for s in starts]
            self._hatch.setData(*_radial_pairs(inner, outer, (_RING_INNER, _RING_OUTER)))
            self._hatch.setVisible(True)
        # A tick across the ring at each threshold inside the scale.
        limits = [
            self._fraction(limit)
            for limit in (self._warn, self._alarm)
            if limit is not None and self._minimum < limit < self._maximum
        ]
        if limits:
            self._ticks.setData(*_radial_pairs(limits, limits, (_TICK_INNER, _TICK_OUTER)))
        self._ticks.setVisible(bool(limits))

    def _band_of(self, value: float) -> str:
        return limit_band(value, self._warn, self._alarm, high_is_bad=self._high_is_bad)

    def _value_color(self) -> str:
        """The value arc's colour: grey while normal, the band's colour past a limit."""
        theme = self._theme
        if self._stale:
            return theme.stale
        if self._band == "warning":
            return theme.warning
        if self._band == "alarm":
            return theme.alarm
        return theme.chart_value

    def _render(self) -> None:
        theme = self._theme
        value, stale = self._value, self._stale
        self._shown = (value, stale)
        if value is None:
            self._band = "none"
            self._value_text = NO_VALUE
            self._needle.setVisible(False)
            self._value_arc.setVisible(False)
            self._over_range.setVisible(False)
        else:
            self._band = self._band_of(value)
            self._value_text = format_number(value, self._decimals)
            color = self._value_color()
            abnormal = self._band in ("warning", "alarm") and not stale
            self._value_arc.setData(
                *_sector(0.0, self._fraction(value), _TRACK_INNER, _TRACK_OUTER, _ARC_POINTS)
            )
            self._value_arc.setBrush(pg.mkBrush(color))
            self._value_arc.setPen(_pen(theme.chart_mark, 0.011) if abnormal else None)
            self._value_arc.setVisible(True)
            beyond = self.range_state()
            if beyond:
                self._over_range.setData(*self._over_range_outline(beyond == "above"))
                self._over_range.setBrush(pg.mkBrush(color))
            self._over_range.setVisible(bool(beyond))
            self._needle.setVisible(not beyond)
            if not beyond:
                self._needle.setData(*self._needle_outline(self._fraction(value)))
                self._needle.setBrush(pg.mkBrush(theme.stale if stale else theme.chart_needle))
        self._value_label.setText(self._value_text)
        self._value_label.setColor(QColor(theme.chart_dim_text if stale else theme.chart_text))
        hint = self.hint_text()
        if hint != self._hint_label.textItem.toPlainText():
            self._hint_label.setText(hint)
            self._layout_text(self._canvas.size())  # the hint must fit inside the dial
        words = self.state_text()
        self._state_label.setText(words)
        if words:
            fill = self._value_color()
            self._state_label.fill = pg.mkBrush(fill)
            # In the label's own (unscaled) pixels, not device pixels: HiDPI draws it wider.
            self._state_label.border = pg.mkPen(theme.chart_mark, width=1, cosmetic=False)
            self._state_label.setColor(QColor(text_color_for(fill)))
        self._state_label.setVisible(bool(words))

    @staticmethod
    def _needle_outline(fraction: float) -> tuple[np.ndarray, np.ndarray]:
        angle = _angle(fraction)
        ux, uy = math.cos(angle), math.sin(angle)
        px, py = -uy * _NEEDLE_HALF_WIDTH, ux * _NEEDLE_HALF_WIDTH
        bx, by = ux * _NEEDLE_BASE, uy * _NEEDLE_BASE
        x = np.array([bx + px, ux * _NEEDLE_TIP, bx - px, bx + px])
        y = np.array([by + py, uy * _NEEDLE_TIP, by - py, by + py])
        return x, y

    @staticmethod
    def _over_range_outline(above: bool) -> tuple[np.ndarray, np.ndarray]:
        """An arrowhead just past the end of the dial, pointing on along the scale."""
        end = _angle(1.0 if above else 0.0)
        beyond = end + math.radians(-_OVER_RANGE_DEGREES if above else _OVER_RANGE_DEGREES)
        middle = (_TRACK_INNER + _RING_OUTER) / 2
        base = (_TRACK_INNER - 0.03, _RING_OUTER + 0.03)
        x = [base[0] * math.cos(end), middle * math.cos(beyond), base[1] * math.cos(end)]
        y = [base[0] * math.sin(end), middle * math.sin(beyond), base[1] * math.sin(end)]
        return np.array([*x, x[0]]), np.array([*y, y[0]])

    def _apply_fonts(self, scale: float) -> None:
        def font(pixels: float, bold: bool = False, smallest: int = 8) -> QFont:
            result = QFont()
            result.setPixelSize(max(smallest, round(pixels * scale)))
            result.setBold(bold)
            return result

        # The small print grows a little with the theme's type size (the wall's is larger).
        small = 1.0 + (self._theme.font_scale - 1.0) / 2
        self._value_label.setFont(font(30, bold=True))
        # Words (not numbers) in the chosen language: CJK glyphs need more pixels.
        legible = smallest_text_px()
        self._unit_label.setFont(font(12 * small, smallest=legible))
        self._hint_label.setFont(font(11 * small, smallest=legible))
        self._state_label.setFont(font(11 * small, bold=True, smallest=legible))
        self._min_label.setFont(font(10 * small))
        self._max_label.setFont(font(10 * small))

    def _layout_text(self, canvas: QSize) -> None:
        """Size the dial's text for a canvas of ``canvas`` pixels, then place it from its
        measured size: hint over the value, unit and state words under it, the scale's
        numbers under the dial's ends; the dial shrinks when they need the room."""
        width, height = max(1, canvas.width()), max(1, canvas.height())
        unit_px = min(width / (2 * _VIEW_HALF_WIDTH), height / (_VIEW_TOP - _VIEW_BOTTOM))
        self._apply_fonts(max(0.6, unit_px / _REFERENCE_UNIT_PX))

        def size(item: pg.TextItem) -> tuple[float, float]:
            rect = item.textItem.boundingRect()
            return rect.width(), rect.height()

        value_h = size(self._value_label)[1]
        unit_h = size(self._unit_label)[1]
        state_h = size(self._state_label)[1]
        ends_w = max(size(self._min_label)[0], size(self._max_label)[0])
        ends_h = max(size(self._min_label)[1], size(self._max_label)[1])
        end_x = -_RING_OUTER * math.cos(math.radians(START_DEGREES))
        half_width, bottom = _VIEW_HALF_WIDTH, _VIEW_BOTTOM
        for _ in range(4):  # the room the text needs depends on the scale, and back
            unit_px = min(width / (2 * half_width), height / (_VIEW_TOP - bottom))
            unit_top = _VALUE_Y - value_h / 2 / unit_px - _GAP
            state_top = unit_top - (unit_h / unit_px + _GAP if self._unit else 0.0)
            lowest = min(_SCALE_TOP - ends_h / unit_px, state_top - state_h / unit_px) - _GAP
            half_width = max(_VIEW_HALF_WIDTH, end_x + ends_w / 2 / unit_px + _GAP)
            bottom = min(_VIEW_BOTTOM, lowest)
        self._fit_hint(unit_px, value_h)
        self._hint_label.setPos(0.0, _VALUE_Y + value_h / 2 / unit_px + _GAP)
        self._unit_label.setPos(0.0, unit_top)
        self._state_label.setPos(0.0, state_top)
        self._vb.setRange(xRange=(-half_width, half_width), yRange=(bottom, _VIEW_TOP), padding=0)

    def _fit_hint(self, unit_px: float, value_h: float) -> None:
        """Make the hint's type smaller (down to 8 px) while it would reach the dial's
        track over the value (wide CJK words on a small gauge)."""
        label = self._hint_label.textItem
        if not label.toPlainText():
            return
        font = label.font()
        while font.pixelSize() > 8:
            hint = label.boundingRect()
            half_w = hint.width() / 2 / unit_px
            top = _VALUE_Y + (value_h / 2 + hint.height()) / unit_px + _GAP
            if half_w**2 + top**2 <= _TRACK_INNER**2:
                return
            font.setPixelSize(font.pixelSize() - 1)
            self._hint_label.setFont(font)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Lay the dial's text out again for the new size (the title keeps the window's
        type size)."""
        super().resizeEvent(event)
        self._layout_text(self._canvas.size())
