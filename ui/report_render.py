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
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QUrl
from PySide6.QtGui import (
    QGuiApplication,
    QImage,
    QImageWriter,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QTextDocument,
)

from services.model import Severity, priority_of
from services.report.handover import (
    OUTPUT_SUFFIXES,
    AlarmLine,
    HandoverReport,
    IncidentSection,
)
from ui.report_pictures import (
    ImageSource,
    map_picture,
    priority_chart,
    report_font,
    report_font_families,
    trend_chart,
)
from widgets.alarm_kpis_view import priority_shares, rate_band, rate_band_text
from widgets.format import (
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
from widgets.palette import PAPER
from widgets.terms import alarm_state_text, domain_text, severity_text

log = logging.getLogger(__name__)


class ReportFormatError(ValueError):
    """The output file's suffix is not one the report can be written as."""


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
