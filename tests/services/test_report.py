"""The handover report's contents, from a cache with a known shift (tests/helpers/
report_history.py): counts, lists, incidents with notes, trends, map, sign-ins; progress and
cancellation; a bad window."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from services.config import Group, KpiConfig
from services.model import AlarmState, IncidentStatus, Severity, TimelineKind
from services.report.handover import (
    HandoverReport,
    ReportCancelled,
    ReportError,
    Summary,
    build_report,
)
from services.store.cache import FILE_NAME, OfflineCache
from tests.helpers.report_history import (
    ACK_NOTE,
    AQ1,
    AQ2,
    CONFIG,
    EVIL,
    INCIDENT_NOTE,
    OPEN_INCIDENT_NOTE,
    READINGS_IN_WINDOW,
    SECOND_NOTE,
    SINCE,
    ST1,
    T0,
    T3,
    UNTIL,
    WL1,
    build_shift,
)


@pytest.fixture
def shift(cache_dir: Path) -> Path:
    """The cache file with the known shift."""
    build_shift(cache_dir)
    return cache_dir / FILE_NAME


def report_of(path: Path, since: float = SINCE, until: float = UNTIL) -> HandoverReport:
    return build_report(path, CONFIG, since, until, now=T0 + 2_000)


def test_the_summary_counts_what_happened_in_the_window(shift: Path) -> None:
    report = report_of(shift)
    # Raised: aq-1, wl-1, aq-2 three times, evil-1 (st-1 was raised before the window).
    # Cleared: aq-1 (acknowledged, then normal) and aq-2 three times (to cleared, unack.).
    assert report.summary == Summary(
        alarms_raised=6,
        acknowledged=1,
        cleared=4,
        operator_actions=2,  # the acknowledgement and the comment
        readings_stored=READINGS_IN_WINDOW,
        incidents_opened=2,
        incidents_closed=1,
    )
    assert report.raises_by_priority == {Severity.MEDIUM: 4, Severity.HIGH: 2}
    assert report.raises_by_domain == {"environment": 4, "water": 2}
    assert not report.truncated
    assert (report.title, report.since, report.until) == ("Yiyang test shift", SINCE, UNTIL)


def test_a_narrower_window_counts_less(shift: Path) -> None:
    # Only the chattering of aq-2 falls in [T0 + 390, T0 + 460].
    report = report_of(shift, T0 + 390, T0 + 460)
    assert (report.summary.alarms_raised, report.summary.cleared) == (3, 3)
    assert report.summary.acknowledged == report.summary.incidents_opened == 0
    assert report.summary.readings_stored == 6
    assert report.raises_by_domain == {"environment": 3}


def test_alarm_lists_standing_chattering_and_to_hand_over(shift: Path) -> None:
    report = report_of(shift)
    assert [line.alarm.id for line in report.standing] == [ST1]
    assert [(line.alarm.id, line.raises) for line in report.chattering] == [(AQ2, 3)]
    assert report.alarm_kpis.chattering == (AQ2,)
    handed = {line.alarm.id: line for line in report.unacknowledged}
    assert set(handed) == {ST1, AQ2, WL1, EVIL}  # aq-1 was acknowledged, then cleared
    assert handed[WL1].entity_name == "资江水位站" and handed[WL1].domain == "water"
    assert handed[AQ2].alarm.state is AlarmState.RTN_UNACKNOWLEDGED
    assert handed[WL1].alarm.severity is Severity.HIGH
    kpis = report.alarm_kpis
    assert (kpis.raises_24h, kpis.active, kpis.flood) == (6, 3, False)


def test_the_acknowledgement_names_who_and_the_note(shift: Path) -> None:
    report = report_of(shift)
    closed = report.closed_incidents
    assert [s.incident.title for s in closed] == ["资江水位上涨"]
    (ack,) = [e for e in closed[0].timeline if e.what == "ack"]
    assert (ack.alarm_id, ack.user, ack.workstation, ack.note) == (
        AQ1,
        "wang.fang",
        "ws-2",
        ACK_NOTE,
    )
    assert (ack.previous, ack.state) == ("unacknowledged", "acknowledged")


def test_incidents_open_and_closed_with_their_notes(shift: Path) -> None:
    report = report_of(shift)
    (closed,) = report.closed_incidents
    assert closed.status is IncidentStatus.CLOSED and closed.closed_at == T3 + 50
    notes = [e.note for e in closed.timeline if e.kind is TimelineKind.NOTE]
    assert notes == [INCIDENT_NOTE, SECOND_NOTE]
    (still_open,) = report.open_incidents
    assert still_open.incident.title == "Bus depot smoke"
    assert [e.note for e in still_open.timeline if e.kind is TimelineKind.NOTE] == [
        OPEN_INCIDENT_NOTE
    ]
    # Before its closing, the first incident was still open.
    earlier = report_of(shift, SINCE, T3 + 10)
    assert [s.status for s in earlier.incidents] == [IncidentStatus.OPEN]
    assert earlier.summary.incidents_closed == 0
    # A window after the closing leaves the closed incident out.
    later = report_of(shift, T0 + 600, UNTIL)
    assert [s.incident.title for s in later.incidents] == ["Bus depot smoke"]


def test_kpi_trends_map_and_sign_ins(shift: Path) -> None:
    report = report_of(shift)
    pm25, water = report.trends
    assert len(pm25.points) == 100 and pm25.resolution == "raw"
    assert pm25.points[0] == (SINCE, 30.0)  # aq-1 40 and aq-2 20 before the window
    assert pm25.points[-1] == (UNTIL, 20.0)  # aq-1 20, aq-2 20
    assert water.points[0][1] == 37.0 and water.points[-1][1] == 37.5  # st-1's peaks
    # aq-1 at 90 (T1 to T3) with aq-2 at 20: the highest mean.
    assert max(v for _t, v in pm25.points if v is not None) == pytest.approx((90 + 20) / 2)
    worst = {p.entity_id: p.worst for p in report.map_points}
    assert worst == {
        "aq-1": None,
        "aq-2": Severity.MEDIUM,
        "wl-1": Severity.HIGH,
        "st-1": Severity.HIGH,
        "evil-1": Severity.HIGH,
    }
    assert [(s.user, s.event) for s in report.sign_ins] == [
        ("wang.fang", "sign-in"),
        ("wang.fang", "sign-out"),
    ]
    assert report.entity_name("aq-1") == "赫山区空气站"


def test_progress_reaches_the_end_and_cancel_stops_the_build(shift: Path) -> None:
    seen: list[tuple[int, int]] = []
    build_report(shift, CONFIG, SINCE, UNTIL, progress=lambda *p: seen.append(p))
    total = seen[-1][1]
    assert seen[0] == (0, total) and seen[-1] == (total, total)
    assert [done for done, _total in seen] == list(range(total + 1))

    calls: list[int] = []

    def cancel_after_three() -> bool:
        calls.append(1)
        return len(calls) > 3

    steps: list[tuple[int, int]] = []
    with pytest.raises(ReportCancelled, match="cancelled"):
        build_report(
            shift,
            CONFIG,
            SINCE,
            UNTIL,
            progress=lambda *p: steps.append(p),
            cancelled=cancel_after_three,
        )
    assert steps[-1][0] < total


def test_the_report_reads_without_writing_and_refuses_bad_windows(
    shift: Path, tmp_path: Path
) -> None:
    before = shift.read_bytes()
    report_of(shift)
    assert shift.read_bytes() == before
    with pytest.raises(ReportError, match="must start before it ends"):
        report_of(shift, UNTIL, SINCE)
    with pytest.raises(ReportError, match="no offline cache"):
        report_of(tmp_path / "nowhere" / FILE_NAME)


def test_the_report_reads_while_the_cache_is_open_and_written(shift: Path) -> None:
    with OfflineCache(shift.parent) as cache:
        cache.write_batch([], [], [])  # the writer holds its own connection meanwhile
        report = report_of(shift)
    assert report.summary.alarms_raised == 6
    with sqlite3.connect(shift) as conn:  # the file is still a good cache
        assert conn.execute("PRAGMA quick_check").fetchone() == ("ok",)


def test_a_kpi_over_a_group_trends_only_its_entities(shift: Path) -> None:
    grouped = replace(
        CONFIG,
        kpis=(
            KpiConfig(name="PM2.5 of aq-1", metric="pm25", group=Group(entities="aq-1")),
            KpiConfig(name="Env PM2.5", metric="pm25", aggregate="max", group=Group("environment")),
            KpiConfig(name="Water PM2.5", metric="pm25", group=Group(domain="water")),
        ),
    )
    report = build_report(shift, grouped, SINCE, UNTIL, now=T0 + 2_000)
    only, environment, water = report.trends
    assert only.points[0][1] == 40.0 and only.points[-1][1] == 20.0  # aq-1 alone
    assert max(v for _t, v in only.points if v is not None) == 90.0
    assert environment.points[0][1] == 40.0  # the max of aq-1 40 and aq-2 20
    assert only.entities == 1 and environment.entities == 2
    assert all(v is None for _t, v in water.points) and water.entities == 0
