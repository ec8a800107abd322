"""A KPI tile for dashboards and walls, in the high-performance (ISA-101) manner.

The tile shows a title, the value big with its unit, a trend arrow with the change against
the value an hour ago (``▲ +12.3 vs 1 h ago``) and a sparkline of the last hour. A normal
value is drawn in greys; a value past a limit colours the status band on the left and the
tile's border, and says so in a word (``WARNING``, ``ALARM``), so colour is never the only
cue. Data that is not live is faded, with ``STALE`` (or ``NO DATA`` when there is no value).

Limits work as on the dial gauge (:class:`widgets.gauge.Gauge`): with both given,
``warn < alarm`` means high values are bad (a value at or past a limit is in its band) and
``warn > alarm`` means low values are bad; with only one of them, high is bad unless
``high_is_bad=False`` is passed.

Updates follow the views' timer discipline: :meth:`KpiTile.set_value` and
:meth:`KpiTile.set_history` only store, :meth:`KpiTile.refresh` (called by the owner from
one shared timer, at most 4 Hz for text) works out what to show and repaints only when that
changed. Colours and the type size come from the theme active when the tile is built
(:func:`widgets.palette.current_theme`); the wall theme's ``font_scale`` makes the small
print larger, and the value always takes the room the tile leaves it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from widgets.format import NO_VALUE, format_number, format_value
from widgets.gauge import high_is_bad_for, limit_band
from widgets.i18n import QT_TRANSLATE_NOOP, smallest_text_px, translate
from widgets.palette import current_theme, text_color_for
from widgets.plain_text import plain_tooltip
from widgets.sparkline import Sparkline

log = logging.getLogger(__name__)

COMPARE_AGO_S = 3600.0
"""The change is against the value this long before the current one's time."""
COMPARE_TOLERANCE_S = 900.0
"""The history point nearest to an hour ago is used only when it is at most this far from
it (a quarter of an hour, the coarsest history tier); else there is nothing to compare."""

ARROW_UP = "\u25b2"
ARROW_DOWN = "\u25bc"
ARROW_STEADY = "\u25ac"

STATUSES = ("normal", "warning", "alarm", "stale")
"""What :meth:`KpiTile.status` returns."""

STATUS_WORDS = {
    "warning": QT_TRANSLATE_NOOP("KpiTile", "WARNING"),
    "alarm": QT_TRANSLATE_NOOP("KpiTile", "ALARM"),
    "stale": QT_TRANSLATE_NOOP("KpiTile", "STALE"),
    "no data": QT_TRANSLATE_NOOP("KpiTile", "NO DATA"),
}
"""The word a tile shows by its state (a normal tile shows none)."""

CHANGE_TEMPLATE = QT_TRANSLATE_NOOP("KpiTile", "{change} vs 1 h ago")

STALE_OPACITY = 0.5
"""Opacity of the value, the change and the arrow of stale data: faded, still legible."""

# Sizes in pixels at font_scale 1; every one grows with the theme's font_scale.
_PAD = 8.0
_GAP = 4.0
_BAND = 7.0
_BORDER_ABNORMAL = 3.0
_TITLE_PX = 13.0
_WORD_PX = 12.0
_CHANGE_PX = 12.0
_SPARK_H = 24.0
_VALUE_MIN_PX = 22.0
_UNIT_RATIO = 0.42
"""The unit's type size relative to the value's."""
_BASE_SIZE = QSize(240, 150)
_BASE_MINIMUM = QSize(190, 118)


@dataclass(frozen=True)
class _Shown:
    """What the tile shows; a refresh repaints only when it changes."""

    status: str
    word: str
    number: str
    value_text: str
    arrow: str
    change: str


def _fraction_digits(text: str) -> int | None:
    """Decimals written in ``text`` (a :func:`format_number` result); None for exponents."""
    if "e" in text or not text[-1:].isdigit():
        return None
    return len(text.split(".", 1)[1]) if "." in text else 0


class KpiTile(QWidget):
    """One KPI: title, value and unit, change against an hour ago, sparkline, status."""

    def __init__(  # noqa: PLR0917 (the positional order is the documented API)
        self,
        title: str,
        unit: str,
        warn: float | None,
        alarm: float | None,
        decimals: int | None = None,
        parent: QWidget | None = None,
        *,
        high_is_bad: bool | None = None,
    ) -> None:
        super().__init__(parent)
        self._theme = current_theme()
        self._title = title
        self._unit = unit
        self._warn = None if warn is None else float(warn)
        self._alarm = None if alarm is None else float(alarm)
        if high_is_bad is None:
            high_is_bad = high_is_bad_for(warn, alarm)
        self._high_is_bad = high_is_bad
        self._decimals = None if decimals is None else max(0, decimals)

        # Stored by set_value / set_history, shown by refresh.
        self._value: float | None = None
        self._ts = 0.0
        self._stale = False
        self._history: list[tuple[float, float]] = []
        self._history_version = 0
        self._spark_key: tuple[int, float, bool] | None = None
        self._shown = self._compute()

        self.setObjectName("kpiTile")
        self.setToolTip(plain_tooltip(title))
        self.setAccessibleName(title)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

        scale = self._theme.font_scale
        self._title_font = self._font(_TITLE_PX * scale, bold=True)
        self._word_font = self._font(_WORD_PX * scale, bold=True)
        self._change_font = self._font(_CHANGE_PX * scale)
        self._spark = Sparkline(self)
        self._spark.setMinimumSize(1, 1)
        self._rects: dict[str, QRectF] = {}
        self.setMinimumSize(self.minimumSizeHint())
        self._layout()

    # ----------------------------------------------------------------- public API

    @property
    def title(self) -> str:
        """The title at the top of the tile."""
        return self._title

    def set_value(self, value: float | None, *, ts: float, stale: bool = False) -> None:
        """Keep ``value`` measured at epoch ``ts`` (None or NaN: no data); ``stale`` when it
        is not live. Nothing is redrawn until :meth:`refresh`."""
        if value is not None:
            value = float(value)
            if math.isnan(value):
                value = None
        self._value = value
        self._ts = float(ts)
        self._stale = bool(stale)

    def set_history(self, points: Sequence[tuple[float, float]]) -> None:
        """Keep the recent ``(ts, value)`` points (any order): the sparkline draws the hour
        before the value's time and the change is against the point nearest to an hour
        before it. Nothing is redrawn until :meth:`refresh`."""
        self._history = [(float(t), float(v)) for t, v in points]
        self._history_version += 1

    def refresh(self) -> None:
        """Show what :meth:`set_value` and :meth:`set_history` stored; repaints only what
        changed. Call it from the dashboard's shared timer (at most 4 Hz)."""
        stale = self._shown_stale()
        spark_key = (self._history_version, self._ts, stale)
        if spark_key != self._spark_key:
            self._spark_key = spark_key
            self._spark.set_points(self._history, self._ts, stale)
        shown = self._compute()
        if shown == self._shown:
            return
        self._shown = shown
        parts = [shown.value_text, shown.word, shown.change]
        self.setAccessibleDescription(", ".join(part for part in parts if part))
        self.update()

    def value_text(self) -> str:
        """The value shown, with its unit (:func:`widgets.format.format_value`); a dash when
        there is none."""
        return self._shown.value_text

    def change_text(self) -> str:
        """The change shown against an hour ago, e.g. ``"+12.3 vs 1 h ago"``
        (``"— vs 1 h ago"`` without a point near an hour ago); empty without a value."""
        return self._shown.change

    def arrow(self) -> str:
        """``"▲"``, ``"▼"`` or ``"▬"`` (the change rounds to zero) by the change shown; empty
        when there is no change to show."""
        return self._shown.arrow

    def status(self) -> str:
        """``"normal"``, ``"warning"``, ``"alarm"`` or ``"stale"`` (stale, or no value)."""
        return self._shown.status

    def status_word(self) -> str:
        """The word shown with the status (translated): ``WARNING``, ``ALARM``, ``STALE``,
        ``NO DATA``; empty while normal."""
        return self._shown.word

    def thresholds(self) -> tuple[float | None, float | None, bool]:
        """``(warn, alarm, high_is_bad)``."""
        return self._warn, self._alarm, self._high_is_bad

    def band_rect(self) -> QRect:
        """Where the status band is drawn, in widget pixels."""
        return self._rects["band"].toAlignedRect()

    def sparkline(self) -> Sparkline:
        """The sparkline under the value."""
        return self._spark

    # ----------------------------------------------------------------- sizes

    def sizeHint(self) -> QSize:
        scale = self._theme.font_scale
        return QSize(round(_BASE_SIZE.width() * scale), round(_BASE_SIZE.height() * scale))

    def minimumSizeHint(self) -> QSize:
        scale = self._theme.font_scale
        return QSize(round(_BASE_MINIMUM.width() * scale), round(_BASE_MINIMUM.height() * scale))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._layout()

    # ----------------------------------------------------------------- state

    def _shown_stale(self) -> bool:
        return self._stale or self._value is None

    def _band_of(self, value: float) -> str:
        return limit_band(value, self._warn, self._alarm, high_is_bad=self._high_is_bad)

    def _hour_ago(self) -> float | None:
        """The history value nearest to an hour before the value's time, if near enough."""
        target = self._ts - COMPARE_AGO_S
        best: tuple[float, float] | None = None
        for ts, value in self._history:
            if not math.isfinite(value):
                continue
            distance = abs(ts - target)
            if best is None or distance < best[0]:
                best = (distance, value)
        if best is None or best[0] > COMPARE_TOLERANCE_S:
            return None
        return best[1]

    def _compute(self) -> _Shown:
        value = self._value
        if value is None:
            word = translate("KpiTile", STATUS_WORDS["no data"])
            return _Shown("stale", word, NO_VALUE, NO_VALUE, "", "")
        number = format_number(value, self._decimals)
        value_text = format_value(value, self._unit, self._decimals)
        status = "stale" if self._stale else self._band_of(value)
        word = translate("KpiTile", STATUS_WORDS[status]) if status != "normal" else ""
        arrow, change = self._change(value, number)
        return _Shown(status, word, number, value_text, arrow, change)

    def _change(self, value: float, number: str) -> tuple[str, str]:
        """The arrow and the signed change against an hour ago, written to the precision
        the value is shown with."""
        before = self._hour_ago()
        template = translate("KpiTile", CHANGE_TEMPLATE)
        if before is None:
            return "", template.format(change=NO_VALUE)
        delta = value - before
        if math.isnan(delta):
            return "", template.format(change=NO_VALUE)
        decimals = self._decimals if self._decimals is not None else _fraction_digits(number)
        size = format_number(abs(delta), decimals)
        if size.strip("0.") == "":
            return ARROW_STEADY, template.format(change="\u00b1" + size)
        if delta > 0:
            return ARROW_UP, template.format(change="+" + size)
        return ARROW_DOWN, template.format(change=format_number(delta, decimals))

    # ----------------------------------------------------------------- drawing

    @staticmethod
    def _font(pixels: float, *, bold: bool = False) -> QFont:
        font = QFont()
        font.setPixelSize(max(smallest_text_px(), round(pixels)))
        font.setBold(bold)
        return font

    def _status_color(self, status: str) -> str:
        theme = self._theme
        if status == "alarm":
            return theme.alarm
        if status == "warning":
            return theme.warning
        if status == "stale":
            return theme.stale
        return theme.normal

    def _layout(self) -> None:
        """Place the band, header, value, change line and sparkline for the tile's size."""
        scale = self._theme.font_scale
        pad, gap = _PAD * scale, _GAP * scale
        width, height = float(self.width()), float(self.height())
        band_w = round(_BAND * scale)
        left = band_w + pad
        inner_w = max(1.0, width - left - pad)
        header_h = max(
            QFontMetricsF(self._title_font).height(),
            QFontMetricsF(self._word_font).height() + 2 * gap * 0.75,
        )
        change_h = QFontMetricsF(self._change_font).height()
        spark_h = round(_SPARK_H * scale)
        top = pad
        bottom = height - pad
        spark = QRectF(left, bottom - spark_h, inner_w, spark_h)
        change = QRectF(left, spark.top() - gap - change_h, inner_w, change_h)
        header = QRectF(left, top, inner_w, header_h)
        value = QRectF(left, header.bottom() + gap, inner_w, change.top() - gap - header.bottom())
        self._rects = {
            "band": QRectF(0.0, 0.0, band_w, height),
            "header": header,
            "value": value,
            "change": change,
            "spark": spark,
        }
        self._spark.setGeometry(spark.toAlignedRect())

    def _value_font(self, number: str, unit: str, room: QRectF) -> tuple[QFont, QFont]:
        """The largest value font (and its unit's) that fits ``room``."""
        probe = QFont()
        probe.setBold(True)
        probe.setPixelSize(100)
        unit_probe = QFont()
        unit_probe.setPixelSize(round(100 * _UNIT_RATIO))
        metrics, unit_metrics = QFontMetricsF(probe), QFontMetricsF(unit_probe)
        width = metrics.horizontalAdvance(number)
        if unit:
            width += unit_metrics.horizontalAdvance(" " + unit)
        by_height = room.height() / (metrics.ascent() + metrics.descent() * 0.3) * 100
        by_width = room.width() / max(1.0, width) * 100
        pixels = max(_VALUE_MIN_PX * self._theme.font_scale * 0.6, min(by_height, by_width))
        value_font = QFont(probe)
        value_font.setPixelSize(max(smallest_text_px(), math.floor(pixels)))
        unit_font = QFont(unit_probe)
        unit_font.setPixelSize(max(smallest_text_px(), math.floor(pixels * _UNIT_RATIO)))
        return value_font, unit_font

    def paintEvent(self, event: QPaintEvent) -> None:
        theme = self._theme
        shown = self._shown
        scale = theme.font_scale
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        outer = QRectF(self.rect())
        painter.fillRect(outer, QColor(theme.chart_background))
        status_color = QColor(self._status_color(shown.status))
        abnormal = shown.status in ("warning", "alarm")

        # Border: a thin grey line while normal, thick and coloured past a limit, dashed
        # when stale.
        if abnormal:
            border = max(2.0, round(_BORDER_ABNORMAL * scale))
            pen = QPen(status_color, border)
        else:
            border = 1.0
            pen = QPen(QColor(theme.chart_axis), border)
            if shown.status == "stale":
                pen.setStyle(Qt.PenStyle.DashLine)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        half = border / 2
        painter.drawRect(outer.adjusted(half, half, -half, -half))
        painter.fillRect(self._rects["band"], status_color)

        self._paint_header(painter, shown)
        faded = shown.status == "stale"
        if faded:
            painter.setOpacity(STALE_OPACITY)
        self._paint_value(painter, shown)
        self._paint_change(painter, shown)
        painter.end()

    def _paint_header(self, painter: QPainter, shown: _Shown) -> None:
        theme = self._theme
        header = self._rects["header"]
        title_room = header.width()
        if shown.word:
            fill = self._status_color(shown.status)
            metrics = QFontMetricsF(self._word_font)
            chip_pad = _GAP * theme.font_scale
            chip_w = metrics.horizontalAdvance(shown.word) + 2 * chip_pad
            chip = QRectF(header.right() - chip_w, header.top(), chip_w, header.height())
            painter.setPen(QPen(QColor(theme.chart_mark), 1.0))
            painter.setBrush(QColor(fill))
            painter.drawRect(chip.adjusted(0.5, 0.5, -0.5, -0.5))
            painter.setFont(self._word_font)
            painter.setPen(QColor(text_color_for(fill)))
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, shown.word)
            title_room -= chip_w + chip_pad
        painter.setFont(self._title_font)
        painter.setPen(QColor(theme.chart_text))
        title = QFontMetricsF(self._title_font).elidedText(
            self._title, Qt.TextElideMode.ElideRight, max(0.0, title_room)
        )
        painter.drawText(
            QRectF(header.left(), header.top(), max(0.0, title_room), header.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            title,
        )

    def _paint_value(self, painter: QPainter, shown: _Shown) -> None:
        theme = self._theme
        room = self._rects["value"]
        unit = self._unit if shown.number != NO_VALUE else ""
        value_font, unit_font = self._value_font(shown.number, unit, room)
        metrics, unit_metrics = QFontMetricsF(value_font), QFontMetricsF(unit_font)
        # Baseline so that the digits (no descenders) sit centred in the room.
        baseline = room.center().y() + metrics.capHeight() / 2
        painter.setFont(value_font)
        painter.setPen(QColor(theme.chart_text))
        painter.drawText(QPointF(room.left(), baseline), shown.number)
        if unit:
            painter.setFont(unit_font)
            painter.setPen(QColor(theme.chart_dim_text))
            x = room.left() + metrics.horizontalAdvance(shown.number)
            x += unit_metrics.horizontalAdvance(" ")
            painter.drawText(QPointF(x, baseline), unit)

    def _paint_change(self, painter: QPainter, shown: _Shown) -> None:
        theme = self._theme
        room = self._rects["change"]
        if not shown.change:
            return
        metrics = QFontMetricsF(self._change_font)
        x = room.left()
        if shown.arrow:
            size = metrics.capHeight()
            mid_y = room.center().y()
            arrow = self._arrow_polygon(shown.arrow, x, mid_y, size)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(theme.chart_text))
            painter.drawPolygon(arrow)
            x += size * 1.2 + metrics.horizontalAdvance(" ")
        painter.setFont(self._change_font)
        painter.setPen(QColor(theme.chart_dim_text))
        text = metrics.elidedText(shown.change, Qt.TextElideMode.ElideRight, room.right() - x)
        painter.drawText(
            QRectF(x, room.top(), room.right() - x, room.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            text,
        )

    @staticmethod
    def _arrow_polygon(arrow: str, x: float, mid_y: float, size: float) -> QPolygonF:
        """The trend mark drawn as a shape (not a glyph: every font has it): a triangle up
        or down ``size`` high, or a flat bar for steady."""
        width = size * 1.2
        top, bottom = mid_y - size / 2, mid_y + size / 2
        if arrow == ARROW_UP:
            points = [QPointF(x, bottom), QPointF(x + width / 2, top), QPointF(x + width, bottom)]
        elif arrow == ARROW_DOWN:
            points = [QPointF(x, top), QPointF(x + width / 2, bottom), QPointF(x + width, top)]
        else:
            bar = size * 0.35
            points = [
                QPointF(x, mid_y - bar / 2),
                QPointF(x + width, mid_y - bar / 2),
                QPointF(x + width, mid_y + bar / 2),
                QPointF(x, mid_y + bar / 2),
            ]
        return QPolygonF(points)
