"""A bar chart for dashboards and walls, in the high-performance (ISA-101) manner.

The chart shows a title and one horizontal bar per category: the category's label on the
left, the bar scaled to the largest value, and the count (or value) at the bar's end. Bars
are grey (the theme's ``normal``); a bar that is a priority (its :attr:`Bar.severity` is
set) and has a value above zero takes that priority's colour, and its label names the
priority (``Flooding (Critical)``), so colour is never the only cue. A zero bar is a thin
grey stub with ``0``; a chart without bars says ``No data``.

Updates follow the views' timer discipline: :meth:`BarChart.set_bars` only stores,
:meth:`BarChart.refresh` (called by the owner from one shared timer) works out what to show
and repaints only when that changed. Colours and the type size are read from the active
theme (:func:`widgets.palette.current_theme`) when the chart is painted; the wall theme's
``font_scale`` makes the type and the bars larger.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from services.model import Severity
from widgets import palette
from widgets.format import NO_VALUE, format_count, format_number
from widgets.i18n import QT_TRANSLATE_NOOP, smallest_text_px, translate
from widgets.plain_text import plain_tooltip
from widgets.terms import severity_text

log = logging.getLogger(__name__)

NO_DATA = QT_TRANSLATE_NOOP("BarChart", "No data")
"""What a chart without bars says."""
PRIORITY_LABEL = QT_TRANSLATE_NOOP("BarChart", "{label} ({priority})")
"""The label of a bar drawn in its priority's colour: the priority is named as well."""

# Sizes in pixels at font_scale 1; every one grows with the theme's font_scale.
_PAD = 10.0
_GAP = 8.0
_TITLE_PX = 14.0
_LABEL_PX = 13.0
_ROW_PITCH = 1.75
"""A row's height relative to the label font's height."""
_BAR_THICKNESS = 1.05
"""A bar's height relative to the label font's height."""
_STUB_W = 2.0
"""The width of a zero bar's stub; a bar above zero is at least twice as long."""
_LABEL_SHARE = 0.4
"""Labels take at most this share of the chart's inner width (longer ones are elided)."""
_BASE_WIDTH = 360
_BASE_MINIMUM_WIDTH = 220


@dataclass(frozen=True)
class Bar:
    """One category: its label, its value (a count or a number) and, for a priority, its
    severity (drawn in the priority's colour while the value is above zero)."""

    label: str
    value: float
    severity: Severity | None = None


@dataclass(frozen=True)
class _Row:
    """One bar as shown."""

    label: str
    value_text: str
    fraction: float
    """The bar's length relative to the longest one (0 for a stub)."""
    severity: Severity | None
    """The priority whose colour the bar is drawn in; None for grey."""


@dataclass(frozen=True)
class _Shown:
    """What the chart shows; a refresh repaints only when it changes."""

    title: str
    rows: tuple[_Row, ...]
    empty_text: str
    theme: str


def _value_text(value: float) -> str:
    """A whole value as a count with thousands separators (``12,345``), else a number."""
    if not math.isfinite(value):
        return format_number(value)
    if value.is_integer():
        return format_count(int(value))
    return format_number(value)


def _names(label: str, severity: Severity) -> bool:
    """True when ``label`` is the priority's own word already (a bar per priority)."""
    words = {severity_text(severity).casefold(), severity.label}
    return label.strip().casefold() in words


def _rows(bars: Sequence[Bar]) -> tuple[_Row, ...]:
    values = [float(bar.value) for bar in bars]
    largest = max((value for value in values if math.isfinite(value) and value > 0), default=0.0)
    rows = []
    for bar, value in zip(bars, values, strict=True):
        positive = math.isfinite(value) and value > 0
        fraction = value / largest if positive else 0.0
        severity = bar.severity if positive else None
        label = bar.label
        if severity is not None and not _names(label, severity):
            template = translate("BarChart", PRIORITY_LABEL)
            label = template.format(label=bar.label, priority=severity_text(severity))
        rows.append(_Row(label, _value_text(value), fraction, severity))
    return tuple(rows)


class BarChart(QWidget):
    """A title and horizontal bars, one per category, each labelled with its value."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = title
        self._bars: tuple[Bar, ...] = ()
        self._shown = self._compute()
        self.setObjectName("barChart")
        self.setToolTip(plain_tooltip(title))
        self.setAccessibleName(title)
        self.setAccessibleDescription(self._shown.empty_text)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    # ----------------------------------------------------------------- public API

    def title(self) -> str:
        """The title above the bars."""
        return self._title

    def bars(self) -> tuple[Bar, ...]:
        """The bars last given to :meth:`set_bars` (shown or not yet)."""
        return self._bars

    def set_bars(self, bars: Sequence[Bar]) -> None:
        """Keep ``bars``, top to bottom. Nothing is redrawn until :meth:`refresh`."""
        self._bars = tuple(bars)

    def refresh(self) -> bool:
        """Show what :meth:`set_bars` stored; repaints only when what is shown changed (and
        says whether it did). Call it from the dashboard's shared timer."""
        shown = self._compute()
        if shown == self._shown:
            return False
        resized = len(shown.rows) != len(self._shown.rows)
        self._shown = shown
        parts = [f"{row.label}: {row.value_text}" for row in shown.rows]
        self.setAccessibleDescription(", ".join(parts) or shown.empty_text)
        if resized:
            self.updateGeometry()
        self.update()
        return True

    def shown_count(self) -> int:
        """How many bars are shown (as of the last :meth:`refresh`)."""
        return len(self._shown.rows)

    def label_text(self, index: int) -> str:
        """The label shown by bar ``index``, with its priority when drawn in its colour."""
        return self._shown.rows[index].label

    def value_text(self, index: int) -> str:
        """The count or value shown at the end of bar ``index``: ``"1,234"``, ``"12.3"``."""
        return self._shown.rows[index].value_text

    def empty_text(self) -> str:
        """``"No data"`` (translated) while no bars are shown, else empty."""
        return self._shown.empty_text

    def bar_color(self, index: int) -> str:
        """The colour bar ``index`` is drawn in, in the active theme: ``normal`` (grey)
        unless it is a priority with a value above zero."""
        return palette.current_theme().severity(self._shown.rows[index].severity)

    def bar_rect(self, index: int) -> QRect:
        """Where bar ``index`` is drawn, in widget pixels (a zero bar: its stub)."""
        return self._bar_rectf(index).toAlignedRect()

    # ----------------------------------------------------------------- sizes

    def sizeHint(self) -> QSize:
        return QSize(round(_BASE_WIDTH * self._scale()), self._height_for_rows())

    def minimumSizeHint(self) -> QSize:
        return QSize(round(_BASE_MINIMUM_WIDTH * self._scale()), self._height_for_rows())

    def _height_for_rows(self) -> int:
        scale = self._scale()
        rows = max(1, len(self._shown.rows))
        height = 2 * _PAD * scale + self._title_height() + _GAP * scale
        return math.ceil(height + rows * self._row_pitch())

    # ----------------------------------------------------------------- state

    def _compute(self) -> _Shown:
        rows = _rows(self._bars)
        empty = "" if rows else translate("BarChart", NO_DATA)
        return _Shown(self._title, rows, empty, palette.current_theme().name)

    # ----------------------------------------------------------------- geometry

    @staticmethod
    def _scale() -> float:
        return palette.current_theme().font_scale

    def _font(self, pixels: float, *, bold: bool = False) -> QFont:
        font = QFont(self.font())
        font.setPixelSize(max(smallest_text_px(), round(pixels * self._scale())))
        font.setBold(bold)
        return font

    def _title_font(self) -> QFont:
        return self._font(_TITLE_PX, bold=True)

    def _label_font(self, *, bold: bool = False) -> QFont:
        return self._font(_LABEL_PX, bold=bold)

    def _title_height(self) -> float:
        return QFontMetricsF(self._title_font()).height()

    def _row_pitch(self) -> float:
        return QFontMetricsF(self._label_font()).height() * _ROW_PITCH

    def _columns(self) -> tuple[float, float, float]:
        """``(label_left, bar_left, bar_room)``: where labels start, where bars start, and
        the longest bar's length (leaving room for the widest value after it)."""
        scale = self._scale()
        pad, gap = _PAD * scale, _GAP * scale
        inner = max(1.0, self.width() - 2 * pad)
        bold = QFontMetricsF(self._label_font(bold=True))
        label_w = max((bold.horizontalAdvance(row.label) for row in self._shown.rows), default=0)
        label_w = min(label_w, inner * _LABEL_SHARE)
        value_w = max(
            (bold.horizontalAdvance(row.value_text) for row in self._shown.rows), default=0
        )
        bar_left = float(round(pad + label_w + gap))
        room = self.width() - pad - value_w - gap - bar_left
        return pad, bar_left, max(_STUB_W * scale, room)

    def _row_rect(self, index: int) -> QRectF:
        scale = self._scale()
        top = _PAD * scale + self._title_height() + _GAP * scale + index * self._row_pitch()
        return QRectF(0.0, top, float(self.width()), self._row_pitch())

    def _bar_rectf(self, index: int) -> QRectF:
        row = self._shown.rows[index]
        _, bar_left, room = self._columns()
        stub = max(2.0, round(_STUB_W * self._scale()))
        thickness = round(QFontMetricsF(self._label_font()).height() * _BAR_THICKNESS)
        length = max(2 * stub, round(room * row.fraction)) if row.fraction > 0 else stub
        line = self._row_rect(index)
        top = round(line.center().y() - thickness / 2)
        return QRectF(bar_left, top, length, thickness)

    # ----------------------------------------------------------------- drawing

    def paintEvent(self, event: QPaintEvent) -> None:
        theme = palette.current_theme()
        shown = self._shown
        scale = theme.font_scale
        pad = _PAD * scale
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.fillRect(self.rect(), QColor(theme.chart_background))

        title_font = self._title_font()
        title_rect = QRectF(pad, pad, max(0.0, self.width() - 2 * pad), self._title_height())
        painter.setFont(title_font)
        painter.setPen(QColor(theme.chart_text))
        title = QFontMetricsF(title_font).elidedText(
            shown.title, Qt.TextElideMode.ElideRight, title_rect.width()
        )
        painter.drawText(
            title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title
        )

        if not shown.rows:
            self._paint_empty(painter, shown.empty_text, title_rect.bottom())
        else:
            self._paint_rows(painter)
        painter.end()

    def _paint_empty(self, painter: QPainter, text: str, below: float) -> None:
        theme = palette.current_theme()
        pad = _PAD * theme.font_scale
        room = QRectF(pad, below, max(0.0, self.width() - 2 * pad), self.height() - below - pad)
        painter.setFont(self._label_font())
        painter.setPen(QColor(theme.chart_dim_text))
        painter.drawText(room, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_rows(self, painter: QPainter) -> None:
        theme = palette.current_theme()
        gap = _GAP * theme.font_scale
        label_left, bar_left, _ = self._columns()
        label_room = max(0.0, bar_left - gap - label_left)

        # The bars' baseline: a thin axis line the bars start from.
        first, last = self._row_rect(0), self._row_rect(len(self._shown.rows) - 1)
        painter.setPen(QPen(QColor(theme.chart_axis), 1.0))
        axis_x = bar_left - 0.5
        painter.drawLine(QPointF(axis_x, first.top()), QPointF(axis_x, last.bottom()))

        for index, row in enumerate(self._shown.rows):
            line = self._row_rect(index)
            bar = self._bar_rectf(index)
            painter.fillRect(bar, QColor(theme.severity(row.severity)))

            # A priority row's label and value are bold as well: a cue besides colour.
            font = self._label_font(bold=row.severity is not None)
            metrics = QFontMetricsF(font)
            painter.setFont(font)
            painter.setPen(QColor(theme.chart_text))
            label = metrics.elidedText(row.label, Qt.TextElideMode.ElideRight, label_room)
            painter.drawText(
                QRectF(label_left, line.top(), label_room, line.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            value_left = bar.right() + gap
            painter.setPen(
                QColor(theme.chart_dim_text if row.value_text == NO_VALUE else theme.chart_text)
            )
            painter.drawText(
                QRectF(value_left, line.top(), max(0.0, self.width() - value_left), line.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                row.value_text,
            )
