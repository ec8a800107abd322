"""The handover report's pictures, drawn with QPainter: the alarms-by-priority chart, the KPI
trends and the map of the city at the end of the window."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
)

from services.model import Severity, priority_of
from services.report.handover import (
    KpiTrend,
    MapPoint,
)
from widgets.format import (
    format_axis_time,
    format_count,
    format_number,
    format_value,
)
from widgets.i18n import translate
from widgets.incident_terms import priority_text
from widgets.palette import OPERATOR, PAPER, text_color_for

log = logging.getLogger(__name__)

LATIN_FAMILIES = ("Noto Sans", "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica")
"""Families for Latin letters and digits, in order of preference."""
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
)
"""Families with Chinese glyphs, in order of preference. They come second: in Qt's PDFs a
CJK font's digits (shaped with its own substitutions) lose their text, so Latin letters and
digits are set in a Latin family and Chinese falls back to the CJK one."""
CHART_WIDTH = 600
"""Width of charts and the map in the document, in layout pixels."""
TREND_HEIGHT = 180
PRIORITY_ROW_HEIGHT = 30
MAP_HEIGHT = 440
PIXEL_RATIO = 3
"""Image pixels per layout pixel (sharp on paper)."""
MAX_MAP_LABELS = 60
"""Alarm entities named on the map picture; more would hide the city."""
PRIORITY_SHAPES: dict[int, str] = {1: "octagon", 2: "diamond", 3: "triangle", 4: "square"}
"""Each alarm priority's shape, as on the live map (resources/map/map.js)."""

ImageSource = Callable[[str, QImage], str]
"""Given a picture's name and image, the ``src`` the document refers to it by."""


def report_font_families() -> list[str]:
    """The first installed family of :data:`LATIN_FAMILIES` and of :data:`CJK_FAMILIES`
    (a missing CJK family is logged: Chinese would not show)."""
    installed = set(QFontDatabase.families())
    chosen = [next((f for f in LATIN_FAMILIES if f in installed), QFont().family())]
    cjk = next((f for f in CJK_FAMILIES if f in installed), None)
    if cjk is None:
        log.warning(
            "no font with Chinese glyphs installed (%s): Chinese will not show", CJK_FAMILIES[0]
        )
    else:
        chosen.append(cjk)
    return chosen


def report_font(pixel_size: int | None = None) -> QFont:
    """The report's font (:func:`report_font_families`), 9 pt or ``pixel_size`` pixels."""
    font = QFont()
    font.setFamilies(report_font_families())
    if pixel_size is None:
        font.setPointSizeF(9.0)
    else:
        font.setPixelSize(pixel_size)
    return font


def _canvas(width: int, height: int) -> tuple[QImage, QPainter]:
    image = QImage(width * PIXEL_RATIO, height * PIXEL_RATIO, QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(PIXEL_RATIO)
    image.fill(QColor(PAPER["background"]))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(report_font(11))
    return image, painter


def priority_chart(counts: Mapping[Severity, int]) -> QImage:
    """Horizontal bars of raises per priority, each named by number and word (not colour
    alone) with its count."""
    order = sorted(Severity, reverse=True)
    height = PRIORITY_ROW_HEIGHT * len(order) + 10
    image, painter = _canvas(CHART_WIDTH, height)
    label_width = 130.0
    most = max([*counts.values(), 1])
    usable = CHART_WIDTH - label_width - 70.0
    for row, sev in enumerate(order):
        top = 5.0 + row * PRIORITY_ROW_HEIGHT
        count = counts.get(sev, 0)
        painter.setPen(QColor(PAPER["text"]))
        painter.drawText(
            QRectF(0, top, label_width - 8, PRIORITY_ROW_HEIGHT),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            priority_text(priority_of(sev)),
        )
        width = usable * count / most
        bar = QRectF(label_width, top + 5, max(width, 1.0), PRIORITY_ROW_HEIGHT - 10)
        painter.fillRect(bar, QColor(OPERATOR.severities[sev]))
        painter.setPen(QPen(QColor(PAPER["marker-outline"]), 0.8))
        painter.drawRect(bar)
        painter.drawText(
            QRectF(label_width + width + 6, top, 64, PRIORITY_ROW_HEIGHT),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            format_count(count),
        )
    painter.end()
    return image


def trend_chart(trend: KpiTrend, index: int = 0) -> QImage:
    """The KPI's line across the window, with its warning and alarm limits dashed and
    labelled; gaps where no entity had a value."""
    kpi = trend.kpi
    image, painter = _canvas(CHART_WIDTH, TREND_HEIGHT)
    left, right, top, bottom = 56.0, 12.0, 10.0, 24.0
    plot = QRectF(left, top, CHART_WIDTH - left - right, TREND_HEIGHT - top - bottom)
    values = [v for _t, v in trend.points if v is not None]
    limits = [v for v in (kpi.warn, kpi.alarm) if v is not None]
    low = min([kpi.minimum, *values, *limits])
    high = max([kpi.maximum, *values, *limits])
    if high <= low:
        high = low + 1.0
    start, end = trend.points[0][0], trend.points[-1][0]
    span = max(end - start, 1e-9)

    def x_of(ts: float) -> float:
        return plot.left() + plot.width() * (ts - start) / span

    def y_of(value: float) -> float:
        return plot.bottom() - plot.height() * (value - low) / (high - low)

    dim = QColor(PAPER["dim-text"])
    painter.setPen(QPen(QColor(PAPER["grid"]), 0.6))
    for step in range(5):
        tick = low + (high - low) * step / 4
        painter.drawLine(QPointF(plot.left(), y_of(tick)), QPointF(plot.right(), y_of(tick)))
        painter.setPen(dim)
        painter.drawText(
            QRectF(0, y_of(tick) - 8, left - 6, 16),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            format_number(tick),
        )
        painter.setPen(QPen(QColor(PAPER["grid"]), 0.6))
    painter.setPen(dim)
    for step in range(5):
        ts = start + span * step / 4
        align = (
            Qt.AlignmentFlag.AlignLeft
            if step == 0
            else Qt.AlignmentFlag.AlignRight
            if step == 4
            else Qt.AlignmentFlag.AlignHCenter
        )
        box = QRectF(x_of(ts) - 60, plot.bottom() + 4, 120, 16)
        if step == 0:
            box.moveLeft(x_of(ts))
        elif step == 4:
            box.moveRight(x_of(ts))
        painter.drawText(box, int(align | Qt.AlignmentFlag.AlignTop), format_axis_time(ts, span))
    painter.setPen(QPen(QColor(PAPER["axis"]), 1.0))
    painter.drawRect(plot)
    for line, word, sev in (
        (kpi.warn, translate("HandoverReport", "warning"), Severity.MEDIUM),
        (kpi.alarm, translate("HandoverReport", "alarm"), Severity.HIGH),
    ):
        if line is None:
            continue
        pen = QPen(QColor(OPERATOR.severities[sev]).darker(130), 1.2, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(QPointF(plot.left(), y_of(line)), QPointF(plot.right(), y_of(line)))
        painter.setPen(QColor(PAPER["text"]))
        painter.drawText(
            QRectF(plot.left() + 4, y_of(line) - 15, 200, 14),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom),
            f"{word} {format_value(line, kpi.unit, kpi.decimals)}",
        )
    curves = OPERATOR.trend_curves
    painter.setPen(QPen(QColor(curves[index % len(curves)]), 1.8))
    path = QPainterPath()
    drawing = False
    for ts, value in trend.points:
        if value is None or math.isnan(value):
            drawing = False
            continue
        point = QPointF(x_of(ts), y_of(value))
        if drawing:
            path.lineTo(point)
        else:
            path.moveTo(point)
            drawing = True
    painter.drawPath(path)
    if not values:
        painter.setPen(dim)
        painter.drawText(
            plot, int(Qt.AlignmentFlag.AlignCenter), translate("HandoverReport", "no data")
        )
    painter.end()
    return image


def _shape(kind: str, center: QPointF, radius: float) -> QPolygonF:
    """The outline of a priority's shape around ``center``."""
    corners = {"octagon": 8, "diamond": 4, "triangle": 3, "square": 4}[kind]
    turn = {"octagon": math.pi / 8, "diamond": 0.0, "triangle": -math.pi / 2, "square": math.pi / 4}
    polygon = QPolygonF()
    for corner in range(corners):
        angle = turn[kind] + 2 * math.pi * corner / corners
        polygon.append(
            QPointF(center.x() + radius * math.cos(angle), center.y() + radius * math.sin(angle))
        )
    return polygon


def draw_priority_mark(painter: QPainter, center: QPointF, severity: Severity, size: float) -> None:
    """An alarm's mark: its priority's shape in its colour, outlined, with its number."""
    priority = priority_of(severity)
    fill = OPERATOR.severities[severity]
    painter.setPen(QPen(QColor(PAPER["marker-outline"]), 1.0))
    painter.setBrush(QColor(fill))
    painter.drawPolygon(_shape(PRIORITY_SHAPES[priority], center, size))
    painter.setPen(QColor(text_color_for(fill)))
    font = painter.font()
    font.setBold(True)
    font.setPixelSize(max(8, int(size)))
    painter.setFont(font)
    box = QRectF(
        center.x() - size,
        center.y() - size + (size * 0.2 if priority == 3 else 0.0),
        2 * size,
        2 * size,
    )
    painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), str(priority))
    font.setBold(False)
    font.setPixelSize(11)
    painter.setFont(font)


def _rings(districts: Mapping[str, object] | None) -> list[tuple[str, list[tuple[float, float]]]]:
    """(name, [(lon, lat), …]) of every outer ring of the districts' GeoJSON polygons."""
    rings: list[tuple[str, list[tuple[float, float]]]] = []
    features = (districts or {}).get("features")
    if not isinstance(features, list):
        return rings
    for feature in features:
        if not isinstance(feature, dict):
            continue
        geometry = feature.get("geometry") or {}
        props = feature.get("properties") or {}
        name = str(props.get("name", "")) if isinstance(props, dict) else ""
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        polygons = (
            [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
        )
        for polygon in polygons if isinstance(polygons, list) else []:
            try:
                ring = [(float(p[0]), float(p[1])) for p in polygon[0]]
            except (TypeError, ValueError, IndexError):
                continue
            if len(ring) >= 3:
                rings.append((name, ring))
    return rings


def map_picture(
    points: Sequence[MapPoint], districts: Mapping[str, object] | None = None
) -> QImage:
    """The city at the end of the window: district outlines, entities as grey dots, alarm
    entities as their worst alarm's priority mark (colour, shape and number) and name."""
    image, painter = _canvas(CHART_WIDTH, MAP_HEIGHT)
    rings = _rings(districts)
    # Framed on the entities (the districts around them are cut at the frame).
    lons = [p.lon for p in points]
    lats = [p.lat for p in points]
    pad_lon = max((max(lons) - min(lons)) * 0.08, 0.01)
    pad_lat = max((max(lats) - min(lats)) * 0.08, 0.01)
    west, east = min(lons) - pad_lon, max(lons) + pad_lon
    south, north = min(lats) - pad_lat, max(lats) + pad_lat
    squeeze = math.cos(math.radians((south + north) / 2))  # a degree of longitude is shorter
    width_deg = max((east - west) * squeeze, 1e-4)
    height_deg = max(north - south, 1e-4)
    margin = 8.0
    scale = min((CHART_WIDTH - 2 * margin) / width_deg, (MAP_HEIGHT - 2 * margin) / height_deg)
    x0 = (CHART_WIDTH - width_deg * scale) / 2
    y0 = (MAP_HEIGHT - height_deg * scale) / 2

    def at(lon: float, lat: float) -> QPointF:
        return QPointF(x0 + (lon - west) * squeeze * scale, y0 + (north - lat) * scale)

    painter.setClipRect(QRectF(0, 0, CHART_WIDTH, MAP_HEIGHT))
    painter.setPen(QPen(QColor(PAPER["boundary-line"]), 1.0))
    painter.setBrush(QColor(PAPER["boundary-fill"]))
    for _name, ring in rings:
        painter.drawPolygon(QPolygonF([at(lon, lat) for lon, lat in ring]))
    painter.setPen(QColor(PAPER["dim-text"]))
    for name, ring in rings:
        center = at(sum(x for x, _ in ring) / len(ring), sum(y for _, y in ring) / len(ring))
        painter.drawText(
            QRectF(center.x() - 60, center.y() - 8, 120, 16),
            int(Qt.AlignmentFlag.AlignCenter),
            name,
        )
    normal = QColor(PAPER["normal"])
    painter.setPen(QPen(QColor(PAPER["marker-outline"]), 0.5))
    painter.setBrush(normal)
    for point in points:
        if point.worst is None:
            painter.drawEllipse(at(point.lon, point.lat), 3.0, 3.0)
    alarmed = sorted((p for p in points if p.worst is not None), key=lambda p: p.worst or 0)
    for point in alarmed:
        assert point.worst is not None
        draw_priority_mark(painter, at(point.lon, point.lat), point.worst, 8.0)
    painter.setPen(QColor(PAPER["text"]))
    for point in alarmed[-MAX_MAP_LABELS:]:
        where = at(point.lon, point.lat)
        name = point.name[:28]
        width = painter.fontMetrics().horizontalAdvance(name)
        if where.x() + 11 + width <= CHART_WIDTH - 4:  # right of the mark, else left of it
            box, side = (
                QRectF(where.x() + 11, where.y() - 8, width + 2, 16),
                Qt.AlignmentFlag.AlignLeft,
            )
        else:
            box, side = (
                QRectF(where.x() - 13 - width, where.y() - 8, width + 2, 16),
                Qt.AlignmentFlag.AlignRight,
            )
        painter.drawText(box, int(side | Qt.AlignmentFlag.AlignVCenter), name)
    painter.setPen(QPen(QColor(PAPER["axis"]), 1.0))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(QRectF(0.5, 0.5, CHART_WIDTH - 1, MAP_HEIGHT - 1))
    painter.end()
    return image
