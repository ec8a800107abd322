"""The handover report on paper: a :class:`services.report.handover.HandoverReport` as HTML
(standalone, its pictures inline) or as an A4 PDF (``QTextDocument`` printed on a
``QPdfWriter``), with its charts and the map picture drawn by ``QPainter``.

Every string from the cache (entity names, notes, users, titles) is escaped: text, never
markup. The document's font has Chinese glyphs (:data:`CJK_FAMILIES`), so Chinese names
and notes show in the PDF. Rendering needs a ``QGuiApplication`` (fonts); it uses no
widgets and may run in a worker thread.
"""

from __future__ import annotations

import base64
import html
import logging
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPointF, QRectF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QImage,
    QImageWriter,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
    QPolygonF,
    QTextDocument,
)

from services.model import Severity, priority_of
from services.report.handover import (
    OUTPUT_SUFFIXES,
    AlarmLine,
    HandoverReport,
    IncidentSection,
    KpiTrend,
    MapPoint,
)
from widgets.alarm_kpis_view import priority_shares, rate_band, rate_band_text
from widgets.format import (
    format_axis_time,
    format_clock,
    format_count,
    format_duration,
    format_number,
    format_timestamp,
    format_value,
)
from widgets.i18n import translate
from widgets.incident_terms import incident_status_text, priority_text
from widgets.incidents_view import TimelineModel
from widgets.palette import OPERATOR, PAPER, text_color_for
from widgets.terms import alarm_state_text, domain_text, severity_text

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


class ReportFormatError(ValueError):
    """The output file's suffix is not one the report can be written as."""


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


def write_report(
    report: HandoverReport,
    path: Path,
    districts: Mapping[str, object] | None = None,
) -> None:
    """Write ``report`` to ``path`` as PDF or HTML, by its suffix; ReportFormatError for
    another suffix, OSError when the file cannot be written."""
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise ReportFormatError(
            f"{path.name}: a report is written as .pdf or .html, not {suffix or 'no suffix'}"
        )
    data = pdf_bytes(report, districts) if suffix == ".pdf" else html_bytes(report, districts)
    path.write_bytes(data)
    log.info("handover report written to %s (%d bytes)", path, len(data))


def html_bytes(report: HandoverReport, districts: Mapping[str, object] | None = None) -> bytes:
    """The report as a standalone UTF-8 HTML page, its pictures inline (``data:`` URIs)."""

    def inline(_name: str, image: QImage) -> str:
        return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")

    body = report_body(report, inline, districts)
    title = html.escape(page_title(report))
    family = ", ".join(f"'{html.escape(name)}'" for name in report_font_families())
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{title}</title><style>"
        f"body {{ font-family: {family}, sans-serif; color: {PAPER['text']};"
        f" background: {PAPER['background']}; max-width: 60em; margin: 2em auto; }}"
        f" table {{ border-collapse: collapse; }} td, th {{ padding: 2px 6px;"
        f" border: 1px solid {PAPER['table-line']}; vertical-align: top; }}"
        f" th {{ background: {PAPER['table-header']}; text-align: left; }}"
        " img { max-width: 100%; height: auto; }"
        f"</style></head><body>{body}</body></html>\n"
    )
    return page.encode("utf-8")


def pdf_bytes(report: HandoverReport, districts: Mapping[str, object] | None = None) -> bytes:
    """The report as an A4 PDF (page numbers at the foot of each page)."""
    document = report_document(report, districts)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setTitle(page_title(report))
    writer.setCreator("CityOps")
    writer.setResolution(300)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(0, 0, 0, 0),  # print_ keeps a margin of 2 cm of its own
            QPageLayout.Unit.Millimeter,
        )
    )
    document.print_(writer)
    del writer  # ends the PDF
    buffer.close()
    return bytes(data.data())


def report_document(
    report: HandoverReport, districts: Mapping[str, object] | None = None
) -> QTextDocument:
    """The report as a ``QTextDocument``, its pictures added as image resources."""
    document = QTextDocument()
    document.setDefaultFont(report_font())
    document.setDefaultStyleSheet(
        f"th {{ background-color: {PAPER['table-header']}; }} h1 {{ font-size: 16pt; }}"
        " h2 { font-size: 12pt; } h3 { font-size: 10pt; }"
    )

    def resource(name: str, image: QImage) -> str:
        url = f"report:{name}"
        document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(url), image)
        return url

    document.setHtml(report_body(report, resource, districts))
    return document


def png_bytes(image: QImage) -> bytes:
    """``image`` as PNG."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not QImageWriter(buffer, QByteArray(b"png")).write(image):
        raise ValueError("a picture of the report could not be made into PNG")
    buffer.close()
    return bytes(data.data())


def page_title(report: HandoverReport) -> str:
    """``Shift handover — Yiyang``: the report's title."""
    return translate("HandoverReport", "Shift handover — {title}").format(title=report.title)


# -- the document --------------------------------------------------------------------------


def _e(text: object) -> str:
    """Text from anywhere, escaped: never markup."""
    return html.escape(str(text), quote=True)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, escaped: bool = False) -> str:
    """A table with a header row; cells are escaped unless ``escaped`` says they are."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{c if escaped else _e(c)}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return (
        f'<table border="1" cellspacing="0" cellpadding="3" width="100%"'
        f' style="border-color: {PAPER["table-line"]};"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _none(text: str) -> str:
    return f'<p style="color: {PAPER["dim-text"]};">{_e(text)}</p>'


def report_body(
    report: HandoverReport,
    image_src: ImageSource,
    districts: Mapping[str, object] | None = None,
) -> str:
    """The report's HTML body; pictures are referred to by what ``image_src`` returns."""
    return _Body(report, image_src, districts).html()


class _Body:
    """One report's HTML, section by section."""

    def __init__(
        self,
        report: HandoverReport,
        image_src: ImageSource,
        districts: Mapping[str, object] | None,
    ) -> None:
        self.report = report
        self.image_src = image_src
        self.districts = districts
        self.words = TimelineModel(report.entity_name)
        self.span = report.until - report.since

    def when(self, ts: float) -> str:
        """A time in a table: the clock within a day's window, else the date too."""
        return format_clock(ts) if self.span <= 86_400.0 else format_timestamp(ts)

    def image(self, name: str, picture: QImage, alt: str) -> str:
        width = round(picture.width() / picture.devicePixelRatio())
        height = round(picture.height() / picture.devicePixelRatio())
        src = _e(self.image_src(name, picture))
        return f'<p><img src="{src}" width="{width}" height="{height}" alt="{_e(alt)}"></p>'

    def html(self) -> str:
        parts = [
            self.header(),
            self.summary(),
            self.handover(),
            self.incidents(),
            self.alarm_counts(),
            self.alarm_system(),
            self.standing_and_chattering(),
            self.trends(),
            self.map(),
            self.sign_ins(),
        ]
        return "\n".join(parts)

    # -- sections ---------------------------------------------------------------------------

    def header(self) -> str:
        report = self.report
        window = translate("HandoverReport", "{since} to {until} ({duration})").format(
            since=format_timestamp(report.since),
            until=format_timestamp(report.until),
            duration=format_duration(self.span),
        )
        built = translate("HandoverReport", "Made {when} from the offline cache.").format(
            when=format_timestamp(report.built_at)
        )
        text = f"<h1>{_e(page_title(report))}</h1><p><b>{_e(window)}</b><br>{_e(built)}</p>"
        if report.truncated:
            text += _none(
                translate(
                    "HandoverReport",
                    "The window holds more alarm history than one report reads: the counts "
                    "are partial; choose a shorter window.",
                )
            )
        return text

    def summary(self) -> str:
        s = self.report.summary
        rows = [
            (translate("HandoverReport", "Alarms raised"), s.alarms_raised),
            (translate("HandoverReport", "Alarms acknowledged"), s.acknowledged),
            (translate("HandoverReport", "Alarms cleared"), s.cleared),
            (translate("HandoverReport", "Operator actions on alarms"), s.operator_actions),
            (translate("HandoverReport", "Readings stored"), s.readings_stored),
            (translate("HandoverReport", "Incidents opened"), s.incidents_opened),
            (translate("HandoverReport", "Incidents closed"), s.incidents_closed),
            (
                translate("HandoverReport", "Alarms to hand over (unacknowledged)"),
                len(self.report.unacknowledged),
            ),
        ]
        table = _table(
            (translate("HandoverReport", "Figure"), translate("HandoverReport", "Count")),
            ((label, format_count(value)) for label, value in rows),
        )
        return f"<h2>{_e(translate('HandoverReport', 'Summary'))}</h2>{table}"

    def alarm_rows(self, lines: Sequence[AlarmLine], *, raises: bool = False) -> str:
        headers = [
            translate("HandoverReport", "Priority"),
            translate("HandoverReport", "Alarm"),
            translate("HandoverReport", "State"),
            translate("HandoverReport", "Raised"),
            translate("HandoverReport", "Value"),
        ]
        if raises:
            headers.append(translate("HandoverReport", "Raises in window"))
        rows = []
        for line in lines:
            alarm = line.alarm
            row = [
                priority_text(priority_of(alarm.severity)),
                self.words.describe_alarm(alarm.id),
                alarm_state_text(alarm.state),
                self.when(alarm.raised_at),
                format_value(alarm.value),
            ]
            if raises:
                row.append(format_count(line.raises))
            rows.append(row)
        return _table(headers, rows)

    def handover(self) -> str:
        title = _e(translate("HandoverReport", "Alarms to hand over"))
        lines = sorted(
            self.report.unacknowledged, key=lambda a: (-a.alarm.severity, a.alarm.raised_at)
        )
        if not lines:
            return f"<h2>{title}</h2>" + _none(
                translate("HandoverReport", "None: every alarm was acknowledged.")
            )
        intro = _e(
            translate(
                "HandoverReport", "Still waiting for an acknowledgement at the end of the window."
            )
        )
        return f"<h2>{title}</h2><p>{intro}</p>{self.alarm_rows(lines)}"

    def incidents(self) -> str:
        parts = [f"<h2>{_e(translate('HandoverReport', 'Incidents'))}</h2>"]
        sections = (
            (translate("HandoverReport", "Open"), self.report.open_incidents),
            (translate("HandoverReport", "Closed in the window"), self.report.closed_incidents),
        )
        for heading, found in sections:
            parts.append(f"<h3>{_e(heading)} ({format_count(len(found))})</h3>")
            if not found:
                parts.append(_none(translate("HandoverReport", "None.")))
            parts.extend(self.incident(section) for section in found)
        return "".join(parts)

    def incident(self, section: IncidentSection) -> str:
        incident = section.incident
        facts = translate(
            "HandoverReport",
            "{status} · priority {priority} · opened {opened} by {who} · owner {owner}",
        ).format(
            status=incident_status_text(section.status),
            priority=priority_text(incident.priority),
            opened=self.when(incident.opened_at),
            who=incident.opened_by,
            owner=incident.owner or translate("HandoverReport", "nobody"),
        )
        rows = [
            (
                self.when(entry.ts),
                self.words.what_text(entry),
                self.words.who_text(entry),
                self.words.note_text(entry),
            )
            for entry in section.timeline
        ]
        table = _table(
            (
                translate("HandoverReport", "Time"),
                translate("HandoverReport", "What"),
                translate("HandoverReport", "Who"),
                translate("HandoverReport", "Note"),
            ),
            rows,
        )
        return f"<p><b>{_e(incident.title)}</b><br>{_e(facts)}</p>{table}"

    def alarm_counts(self) -> str:
        report = self.report
        title = _e(translate("HandoverReport", "Alarms raised by priority and domain"))
        by_priority = [
            (priority_text(priority_of(sev)), format_count(report.raises_by_priority.get(sev, 0)))
            for sev in sorted(Severity, reverse=True)
        ]
        chart = self.image(
            "priorities",
            priority_chart(report.raises_by_priority),
            translate("HandoverReport", "Alarms raised by priority"),
        )
        domains = sorted(report.raises_by_domain.items(), key=lambda item: (-item[1], item[0]))
        by_domain = [(domain_text(domain), format_count(count)) for domain, count in domains]
        return (
            f"<h2>{title}</h2>{chart}"
            + _table(
                (translate("HandoverReport", "Priority"), translate("HandoverReport", "Raised")),
                by_priority,
            )
            + "<p></p>"
            + (
                _table(
                    (translate("HandoverReport", "Domain"), translate("HandoverReport", "Raised")),
                    by_domain,
                )
                if by_domain
                else ""
            )
        )

    def alarm_system(self) -> str:
        kpis = self.report.alarm_kpis
        per_10min = kpis.raises_24h / max(self.span / 600.0, 1.0)
        shares = priority_shares(kpis.by_priority)
        groups = {
            "low": severity_text(Severity.LOW),
            "medium": severity_text(Severity.MEDIUM),
            "high": translate("HandoverReport", "high and critical"),
        }
        share_text = ", ".join(
            translate("HandoverReport", "{group} {share} %").format(
                group=groups.get(group, group), share=format_number(share, 0)
            )
            for group, (_n, share) in shares.items()
        )
        rows = [
            (
                translate("HandoverReport", "Mean rate (raises per 10 min)"),
                translate("HandoverReport", "{rate}: {band}").format(
                    rate=format_number(per_10min, 2), band=rate_band_text(rate_band(per_10min))
                ),
            ),
            (
                translate("HandoverReport", "Raises in the last 10 min of the window"),
                format_count(kpis.raises_10min),
            ),
            (
                translate("HandoverReport", "Flood at the end"),
                translate("HandoverReport", "yes")
                if kpis.flood
                else translate("HandoverReport", "no"),
            ),
            (translate("HandoverReport", "Active at the end"), format_count(kpis.active)),
            (translate("HandoverReport", "Standing (active > 24 h)"), format_count(kpis.standing)),
            (
                translate("HandoverReport", "Stale (unacknowledged > 24 h)"),
                format_count(kpis.stale),
            ),
            (translate("HandoverReport", "Shelved at the end"), format_count(kpis.shelved)),
            (translate("HandoverReport", "Suppressed at the end"), format_count(kpis.suppressed)),
            (
                translate("HandoverReport", "Out of service at the end"),
                format_count(kpis.out_of_service),
            ),
            (translate("HandoverReport", "Chattering alarms"), format_count(len(kpis.chattering))),
            (
                translate(
                    "HandoverReport", "Priority shares (guideline: low 80, medium 15, high 5)"
                ),
                share_text,
            ),
        ]
        top = [(self.words.describe_alarm(key), format_count(count)) for key, count in kpis.top]
        text = f"<h2>{_e(translate('HandoverReport', 'Alarm system (EEMUA 191)'))}</h2>" + _table(
            (translate("HandoverReport", "Figure"), translate("HandoverReport", "Value")), rows
        )
        if top:
            text += f"<h3>{_e(translate('HandoverReport', 'Most frequent alarms'))}</h3>" + _table(
                (translate("HandoverReport", "Alarm"), translate("HandoverReport", "Raised")), top
            )
        return text

    def standing_and_chattering(self) -> str:
        standing = _e(translate("HandoverReport", "Standing alarms"))
        standing_intro = _e(
            translate(
                "HandoverReport",
                "Active at the end of the window and raised before it began or more than "
                "24 h before its end.",
            )
        )
        chattering = _e(translate("HandoverReport", "Chattering alarms"))
        chattering_intro = _e(
            translate("HandoverReport", "Raised {count} times or more within {window}.").format(
                count=format_count(self.report.chatter_raises),
                window=format_duration(self.report.chatter_window),
            )
        )
        none = translate("HandoverReport", "None.")
        return (
            f"<h2>{standing}</h2><p>{standing_intro}</p>"
            + (self.alarm_rows(self.report.standing) if self.report.standing else _none(none))
            + f"<h2>{chattering}</h2><p>{chattering_intro}</p>"
            + (
                self.alarm_rows(self.report.chattering, raises=True)
                if self.report.chattering
                else _none(none)
            )
        )

    def trends(self) -> str:
        parts = [f"<h2>{_e(translate('HandoverReport', 'KPI trends'))}</h2>"]
        if not self.report.trends:
            parts.append(_none(translate("HandoverReport", "No KPIs are configured.")))
        for index, trend in enumerate(self.report.trends):
            kpi = trend.kpi
            caption = translate(
                "HandoverReport", "{name} ({aggregate} of {metric} over {count} entities)"
            ).format(
                name=kpi.name,
                aggregate=kpi.aggregate,
                metric=kpi.metric,
                count=format_count(trend.entities),
            )
            values = [v for _t, v in trend.points if v is not None]
            if values:
                caption += " · " + translate("HandoverReport", "min {low}, max {high}").format(
                    low=format_value(min(values), kpi.unit, kpi.decimals),
                    high=format_value(max(values), kpi.unit, kpi.decimals),
                )
            parts.append(f"<p><b>{_e(caption)}</b></p>")
            parts.append(self.image(f"trend-{index}", trend_chart(trend, index), kpi.name))
        return "".join(parts)

    def map(self) -> str:
        title = _e(translate("HandoverReport", "The city at the end of the window"))
        points = self.report.map_points
        if not points:
            return f"<h2>{title}</h2>" + _none(
                translate("HandoverReport", "No entity positions are known.")
            )
        picture = map_picture(points, self.districts)
        legend = _e(
            translate(
                "HandoverReport",
                "Grey dots: no alarm. Alarms: 1 critical (octagon), 2 high (diamond), "
                "3 medium (triangle), 4 low (square), each with its number.",
            )
        )
        return (
            f'<h2 style="page-break-before: always;">{title}</h2>'
            + self.image("map", picture, translate("HandoverReport", "Map"))
            + f"<p>{legend}</p>"
        )

    def sign_ins(self) -> str:
        title = _e(translate("HandoverReport", "Sign-ins"))
        events = {
            "sign-in": translate("HandoverReport", "signed in"),
            "sign-out": translate("HandoverReport", "signed out"),
            "failed": translate("HandoverReport", "sign-in failed"),
        }
        if not self.report.sign_ins:
            return f"<h2>{title}</h2>" + _none(translate("HandoverReport", "None."))
        rows = [
            (
                self.when(record.ts),
                record.user,
                record.role,
                record.workstation,
                events.get(record.event, record.event),
            )
            for record in self.report.sign_ins
        ]
        return f"<h2>{title}</h2>" + _table(
            (
                translate("HandoverReport", "Time"),
                translate("HandoverReport", "User"),
                translate("HandoverReport", "Role"),
                translate("HandoverReport", "Workstation"),
                translate("HandoverReport", "Event"),
            ),
            rows,
        )


# -- pictures ------------------------------------------------------------------------------


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


def demo_districts() -> dict[str, object]:
    """The demo city's district outlines (GeoJSON), for the map picture."""
    from services.demo.simulator import load_demo_city

    return dict(load_demo_city().districts)


def write_headless(
    report: HandoverReport, path: Path, districts: Mapping[str, object] | None = None
) -> None:
    """:func:`write_report` outside the window (``cityops report``): makes the
    ``QGuiApplication`` fonts need, on the offscreen platform unless one is chosen."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a headless command: no display
    app = QGuiApplication.instance() or QGuiApplication(["cityops"])
    write_report(report, path, districts)
    del app
