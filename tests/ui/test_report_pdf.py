"""The handover report on paper: the PDF's text (extracted with pypdf) holds the alarms,
counts, incident notes and Chinese names; the HTML escapes hostile names and carries its
pictures inline; ``cityops report`` writes a PDF in a subprocess and refuses bad options;
the window's report job runs in the background and can be cancelled."""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader
from pytestqt.qtbot import QtBot

from services.report.handover import HandoverReport, build_report
from services.store.cache import FILE_NAME
from tests.helpers.cli import run_cityops
from tests.helpers.report_history import (
    ACK_NOTE,
    CONFIG,
    HOSTILE_NAME,
    INCIDENT_NOTE,
    NAMES,
    OPEN_INCIDENT_NOTE,
    SECOND_NOTE,
    SINCE,
    T0,
    UNTIL,
    build_shift,
)
from ui.report import ReportJob, ReportRequest
from ui.report_render import html_bytes, map_picture, pdf_bytes, write_report


@pytest.fixture
def report(cache_dir: Path) -> HandoverReport:
    build_shift(cache_dir)
    return build_report(cache_dir / FILE_NAME, CONFIG, SINCE, UNTIL, now=T0 + 2_000)


def squashed(text: str) -> str:
    """Text without whitespace, in NFKC: a PDF's text has line breaks and tabs where the
    layout put them, and Qt's PDFs map some shared CJK glyphs to their Kangxi radicals
    (⽔ for 水), which NFKC folds back."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_holds_alarms_counts_notes_and_chinese(
    qapp: object, report: HandoverReport
) -> None:
    data = pdf_bytes(report)
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("NotoSansCJK" in font for font in fonts), fonts
    text = squashed(pdf_text(data))
    for expected in (
        "Alarmsraised6",
        "Alarmsacknowledged1",
        "Alarmscleared4",
        "Readingsstored12",
        "Incidentsopened2",
        "Incidentsclosed1",
        "Alarmstohandover(unacknowledged)4",
        "Standinggauge·water_levelHigh-high",  # to hand over and standing
        "ChatterAQ·pm25High",  # chattering
        "wang.fang(ws-2)",
        ACK_NOTE,
        INCIDENT_NOTE,
        SECOND_NOTE,
        OPEN_INCIDENT_NOTE,
        "资江水位上涨",  # the closed incident's title
        NAMES["aq-1"],
        NAMES["wl-1"],
        "水位继续上涨",  # the comment on wl-1
        "2·High2",  # raises by priority
        "environment4",
        "signedin",
    ):
        assert squashed(expected).replace("_", "") in text.replace("_", ""), expected
    assert re.search(r"[\u4e00-\u9fff]", pdf_text(data))  # Chinese is text, not pictures


def test_the_html_escapes_hostile_names_and_inlines_its_pictures(
    qapp: object, report: HandoverReport
) -> None:
    page = html_bytes(report).decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert HOSTILE_NAME not in page
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    sources = re.findall(r'<img src="([^"]*)"', page)
    assert len(sources) == 1 + len(CONFIG.kpis) + 1  # priorities, one per KPI, the map
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    assert NAMES["wl-1"] in page and INCIDENT_NOTE in page


def test_the_map_marks_alarms_by_shape_not_colour_alone(
    qapp: object, report: HandoverReport
) -> None:
    districts = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "赫山区"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[112.3, 28.5], [112.5, 28.5], [112.5, 28.7], [112.3, 28.5]]],
                },
            }
        ],
    }
    with_alarms = map_picture(report.map_points, districts)
    without = map_picture(
        [p.__class__(p.entity_id, p.name, p.lat, p.lon, None) for p in report.map_points],
        districts,
    )
    assert not with_alarms.isNull() and with_alarms != without


def test_write_report_picks_the_format_by_suffix(
    qapp: object, report: HandoverReport, tmp_path: Path
) -> None:
    write_report(report, tmp_path / "shift.PDF")
    assert (tmp_path / "shift.PDF").read_bytes().startswith(b"%PDF")
    write_report(report, tmp_path / "shift.html")
    assert (tmp_path / "shift.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match=r"\.pdf or \.html"):
        write_report(report, tmp_path / "shift.txt")
    with pytest.raises(OSError):
        write_report(report, tmp_path / "no-such-folder" / "shift.pdf")


def test_cityops_report_writes_a_pdf(cache_dir: Path, tmp_path: Path) -> None:
    build_shift(cache_dir)
    out = tmp_path / "handover.pdf"
    result = run_cityops(
        "report",
        "--since",
        str(SINCE),
        "--until",
        str(UNTIL),
        "--out",
        str(out),
        "--cache-dir",
        str(cache_dir),
    )
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    text = squashed(pdf_text(out.read_bytes()))
    assert "Alarmsraised6" in text and squashed(INCIDENT_NOTE) in text


def test_cityops_report_refuses_bad_options(cache_dir: Path, tmp_path: Path) -> None:
    build_shift(cache_dir)
    common = ("--cache-dir", str(cache_dir))
    backwards = run_cityops(
        "report", "--since", "-1h", "--until", "-2h", "--out", str(tmp_path / "r.pdf"), *common
    )
    assert backwards.returncode == 2
    assert "--since must be before --until" in backwards.stderr
    wrong = run_cityops("report", "--out", str(tmp_path / "r.txt"), *common)
    assert wrong.returncode == 2 and "write a .pdf or an .html file" in wrong.stderr
    nowhere = run_cityops("report", "--out", str(tmp_path / "missing" / "r.pdf"), *common)
    assert nowhere.returncode == 1 and "no folder" in nowhere.stderr
    empty = run_cityops(
        "report", "--out", str(tmp_path / "r.pdf"), "--cache-dir", str(tmp_path / "none")
    )
    assert empty.returncode == 1 and "no offline cache" in empty.stderr
    assert not (tmp_path / "r.pdf").exists()


def test_the_report_job_writes_in_the_background_and_cancels(
    qtbot: QtBot, cache_dir: Path, tmp_path: Path
) -> None:
    build_shift(cache_dir)
    out = tmp_path / "shift.pdf"
    job = ReportJob(cache_dir / FILE_NAME, CONFIG, ReportRequest(SINCE, UNTIL, out))
    steps: list[tuple[int, int]] = []
    job.progressed.connect(lambda done, total: steps.append((done, total)))
    with qtbot.waitSignal(job.succeeded, timeout=30_000) as written:
        job.start()
    assert job.wait() and written.args == [str(out)]
    assert out.read_bytes().startswith(b"%PDF")
    assert steps and steps[-1][0] == steps[-1][1] - 1  # the drawing is the last step

    stopped = ReportJob(
        cache_dir / FILE_NAME, CONFIG, ReportRequest(SINCE, UNTIL, tmp_path / "x.pdf")
    )
    stopped.cancel()
    with qtbot.waitSignal(stopped.cancelled, timeout=30_000):
        stopped.start()
    assert stopped.wait()
    assert not (tmp_path / "x.pdf").exists()

    failing = ReportJob(tmp_path / "none" / FILE_NAME, CONFIG, ReportRequest(SINCE, UNTIL, out))
    with qtbot.waitSignal(failing.failed, timeout=30_000) as failed:
        failing.start()
    assert failing.wait()
    assert "no offline cache" in failed.args[0]
