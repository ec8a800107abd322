"""Export of cached alarms and readings to JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from services.alarms.store import AlarmStore
from services.config import RuleConfig
from services.model import Alarm, AlarmState, Condition, OperatorAction, Reading, Severity
from services.store.cache import OfflineCache
from services.store.export import (
    ALARM_COLUMNS,
    READING_COLUMNS,
    alarm_rows,
    export,
    reading_rows,
    write_rows,
)
from tests.helpers.cli import run_cityops

T0 = 1_760_000_000.0  # 2025-10-09T08:53:20Z
T0_ISO = "2025-10-09T08:53:20.000Z"


def alarm(
    entity: str = "ziyang-wl-01",
    *,
    raised_at: float = T0,
    updated_at: float | None = None,
    message: str = "water level above 4.0 m",
) -> Alarm:
    return Alarm(
        entity_id=entity,
        metric="level",
        condition=Condition.HIGH_HIGH,
        severity=Severity.CRITICAL,
        state=AlarmState.UNACKNOWLEDGED,
        value=4.75,
        threshold=4.5,
        raised_at=raised_at,
        updated_at=raised_at if updated_at is None else updated_at,
        count=2,
        message=message,
    )


def reading(entity: str = "ziyang-wl-01", value: float = 1.25, ts: float = T0) -> Reading:
    return Reading(entity_id=entity, metric="level", value=value, ts=ts, feed="water", unit="m")


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture
def cache(cache_dir: Path) -> Iterator[OfflineCache]:
    opened = OfflineCache(cache_dir)
    yield opened
    opened.close()


def test_alarm_rows_have_labels_and_iso_times() -> None:
    acked = alarm(updated_at=T0 + 90)
    acked.acked_at = T0 + 90.5
    acked.acked_by = "li.wei"
    rows = alarm_rows([alarm(), acked])
    assert tuple(rows[0]) == ALARM_COLUMNS
    assert rows[0] == {
        "entity": "ziyang-wl-01",
        "metric": "level",
        "condition": "high_high",
        "severity": "critical",
        "state": "unacknowledged",
        "raised_at": T0_ISO,
        "value": 4.75,
        "threshold": 4.5,
        "count": 2,
        "acked_at": None,
        "acked_by": "",
        "updated_at": T0_ISO,
        "message": "water level above 4.0 m",
        "shelved_until": None,
        "shelved_by": "",
        "shelve_note": "",
    }
    assert rows[1]["acked_at"] == "2025-10-09T08:54:50.500Z"
    assert rows[1]["updated_at"] == "2025-10-09T08:54:50.000Z"
    one_shot = replace(alarm(), state=AlarmState.SHELVED, shelved_until=math.inf)
    timed = replace(one_shot, shelved_until=T0 + 90, shelved_by="li.wei", shelve_note="test")
    assert [row["shelved_until"] for row in alarm_rows([one_shot, timed])] == [
        "until it clears",
        "2025-10-09T08:54:50.000Z",
    ]


def test_reading_rows() -> None:
    rows = reading_rows([reading(value=-2.5)])
    assert rows == [
        {
            "ts": T0_ISO,
            "entity": "ziyang-wl-01",
            "metric": "level",
            "value": -2.5,
            "unit": "m",
            "feed": "water",
        }
    ]
    assert tuple(rows[0]) == READING_COLUMNS


def test_write_rows_json_is_an_array_of_objects_in_column_order() -> None:
    rows = reading_rows([reading(value=1.0), reading("b", math.nan, T0 + 1)])
    out = io.StringIO()
    write_rows(rows, ("entity", "value", "ts"), "json", out)
    text = out.getvalue()
    assert text.count("\n") >= 3  # one object per line, readable in a text editor
    parsed = json.loads(text)
    assert parsed == [
        {"entity": "ziyang-wl-01", "value": 1.0, "ts": T0_ISO},
        {"entity": "b", "value": None, "ts": "2025-10-09T08:53:21.000Z"},  # NaN is not JSON
    ]
    assert list(parsed[0]) == ["entity", "value", "ts"]


def test_write_rows_empty() -> None:
    out = io.StringIO()
    write_rows([], READING_COLUMNS, "json", out)
    assert json.loads(out.getvalue()) == []
    out = io.StringIO()
    write_rows([], READING_COLUMNS, "csv", out)
    assert out.getvalue().strip() == ",".join(READING_COLUMNS)


def test_write_rows_csv_has_header_and_rows() -> None:
    rows = alarm_rows([alarm(), alarm("b", message='quote " and, comma\nnewline')])
    out = io.StringIO(newline="")
    write_rows(rows, ALARM_COLUMNS, "csv", out)
    parsed = parse_csv(out.getvalue())
    assert out.getvalue().splitlines()[0] == ",".join(ALARM_COLUMNS)
    assert len(parsed) == 2
    assert parsed[0]["severity"] == "critical"
    assert parsed[0]["raised_at"] == T0_ISO
    assert parsed[0]["value"] == "4.75"
    assert parsed[0]["count"] == "2"
    assert parsed[0]["acked_at"] == ""
    assert parsed[1]["message"] == 'quote " and, comma\nnewline'


def test_csv_defuses_spreadsheet_formulas_but_not_numbers() -> None:
    hostile = alarm('=HYPERLINK("http://evil.example","x")', message="+cmd|' /C calc'!A0")
    hostile.acked_by = "@SUM(1+1)"
    hostile.value = -12.5
    hostile.threshold = -10.0
    rows = alarm_rows([hostile])
    rows.append({**rows[0], "entity": "-2+3", "message": "\tTAB", "acked_by": "safe"})
    out = io.StringIO(newline="")
    write_rows(rows, ALARM_COLUMNS, "csv", out)
    first, second = parse_csv(out.getvalue())
    assert first["entity"] == '\'=HYPERLINK("http://evil.example","x")'
    assert first["message"] == "'+cmd|' /C calc'!A0"
    assert first["acked_by"] == "'@SUM(1+1)"
    assert first["value"] == "-12.5"  # a real number is left as it is
    assert first["threshold"] == "-10.0"
    assert second["entity"] == "'-2+3"  # text that looks like a sum is still text
    assert second["message"] == "'\tTAB"
    assert second["acked_by"] == "safe"


def test_json_keeps_feed_strings_verbatim() -> None:
    rows = alarm_rows([alarm("=cmd", message="@here")])
    out = io.StringIO()
    write_rows(rows, ALARM_COLUMNS, "json", out)
    (parsed,) = json.loads(out.getvalue())
    assert parsed["entity"] == "=cmd"
    assert parsed["message"] == "@here"


def test_unknown_format_is_refused_before_writing(cache: OfflineCache) -> None:
    out = io.StringIO()
    with pytest.raises(ValueError, match="xlsx"):
        write_rows(alarm_rows([alarm()]), ALARM_COLUMNS, "xlsx", out)
    with pytest.raises(ValueError, match="xml"):
        export(cache, "alarms", "xml", out)
    with pytest.raises(ValueError, match="incidents"):
        export(cache, "incidents", "json", out)
    assert out.getvalue() == ""


def test_export_alarms_json_with_window(cache: OfflineCache) -> None:
    early = alarm("a", raised_at=T0, updated_at=T0 + 100)
    middle = alarm("b", raised_at=T0 + 200, updated_at=T0 + 300)
    late = alarm("c", raised_at=T0 + 1000)
    cache.write_batch([], [], [late, early, middle])

    out = io.StringIO()
    assert export(cache, "alarms", "json", out) == 3
    assert [row["entity"] for row in json.loads(out.getvalue())] == ["a", "b", "c"]

    out = io.StringIO()
    assert export(cache, "alarms", "json", out, since=T0 + 150, until=T0 + 500) == 1
    (row,) = json.loads(out.getvalue())
    assert row["entity"] == "b"
    assert row["raised_at"] == "2025-10-09T08:56:40.000Z"
    assert row["severity"] == "critical"


def test_export_readings_csv_with_window(cache: OfflineCache) -> None:
    cache.write_batch([reading(f"s{i}", float(i), T0 + i) for i in range(30)], [], [])
    out = io.StringIO(newline="")
    assert export(cache, "readings", "csv", out, since=T0 + 10, until=T0 + 19) == 10
    rows = parse_csv(out.getvalue())
    assert [r["entity"] for r in rows] == [f"s{i}" for i in range(10, 20)]
    assert rows[0] == {
        "ts": "2025-10-09T08:53:30.000Z",
        "entity": "s10",
        "metric": "level",
        "value": "10.0",
        "unit": "m",
        "feed": "water",
    }

    out = io.StringIO(newline="")
    assert export(cache, "readings", "csv", out) == 30
    assert len(parse_csv(out.getvalue())) == 30


def test_export_streams_many_readings(cache: OfflineCache) -> None:
    count = 25_000  # more than one internal batch
    cache.write_batch([reading(f"s{i % 7}", float(i), T0 + i / 100) for i in range(count)], [], [])
    out = io.StringIO()
    assert export(cache, "readings", "json", out) == count
    parsed = json.loads(out.getvalue())
    assert len(parsed) == count
    assert [row["value"] for row in parsed] == [float(i) for i in range(count)]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_unicode_entity_survives_export_to_file(
    cache: OfflineCache, tmp_path: Path, fmt: str
) -> None:
    cache.write_batch(
        [reading("资阳区-水位站", 3.5)],
        [],
        [alarm("资阳区-水位站", message="资江 益阳段 水位超警戒 (above warning level)")],
    )
    target = tmp_path / f"alarms.{fmt}"
    with target.open("w", encoding="utf-8", newline="") as out:
        assert export(cache, "alarms", fmt, out) == 1
    readings_file = tmp_path / f"readings.{fmt}"
    with readings_file.open("w", encoding="utf-8", newline="") as out:
        assert export(cache, "readings", fmt, out) == 1

    text = target.read_text(encoding="utf-8")
    assert "资阳区-水位站" in text  # written as characters, not \\u escapes
    if fmt == "json":
        (row,) = json.loads(text)
        (reading_row,) = json.loads(readings_file.read_text(encoding="utf-8"))
    else:
        (row,) = parse_csv(text)
        (reading_row,) = parse_csv(readings_file.read_text(encoding="utf-8"))
    assert row["entity"] == "资阳区-水位站"
    assert row["message"] == "资江 益阳段 水位超警戒 (above warning level)"
    assert reading_row["entity"] == "资阳区-水位站"


def test_csv_escapes_control_and_bidi_characters() -> None:
    hostile = alarm("st\x00ation\x1b[31m", message="evil\u202etxt.exe\rnext\nline\ttab\x7f")
    out = io.StringIO(newline="")
    write_rows(alarm_rows([hostile]), ALARM_COLUMNS, "csv", out)
    text = out.getvalue()
    assert not any(ord(ch) < 0x20 and ch not in "\t\n\r" for ch in text)
    assert "\u202e" not in text and "\x7f" not in text
    (row,) = parse_csv(text)
    assert row["entity"] == "st\\x00ation\\x1b[31m"
    assert row["message"] == "evil\\u202etxt.exe\\x0dnext\nline\ttab\\x7f"


def test_alarm_events_name_each_transition_and_who_acknowledged(cache_dir: Path) -> None:
    store = AlarmStore([RuleConfig(metric="level", high=4.0)])
    key = "ziyang-wl-01|level|high"

    def reading(value: float, ts: float) -> list[Alarm]:
        return store.evaluate([Reading("ziyang-wl-01", "level", value, ts, "water")])

    with OfflineCache(cache_dir) as cache:
        cache.write_batch([], [], reading(4.5, T0 + 1))
        cache.write_batch([], [], reading(4.8, T0 + 2))  # still high: no new version
        acked = store.acknowledge([key], "li.wei", T0 + 3)
        cache.record_actions(
            [(OperatorAction(key, "ack", "li.wei", T0 + 3, "pumps on", "ws-1"), acked[0])]
        )
        cache.write_batch([], [], acked)
        cache.write_batch([], [], reading(3.0, T0 + 4))
        cache.write_batch([], [], reading(4.2, T0 + 5))  # a new occurrence
        shelved = store.shelve([key], "wang.fang", T0 + 6, until=T0 + 60, note="gauge swap")
        cache.record_actions(
            [(OperatorAction(key, "shelve", "wang.fang", T0 + 6, "gauge swap", "ws-2"), shelved[0])]
        )
        cache.write_batch([], [], shelved)
        cache.write_batch([], [], store.unshelve_due(T0 + 60))

    printed = run_cityops(
        "export", "alarm-events", "--format", "csv", "--cache-dir", str(cache_dir), check=True
    ).stdout
    rows = list(csv.DictReader(io.StringIO(printed)))
    assert [(r["event"], r["state"], r["user"], r["note"]) for r in rows] == [
        ("raise", "unacknowledged", "", ""),
        ("acknowledge", "acknowledged", "li.wei", "pumps on"),
        ("clear", "normal", "", ""),
        ("raise", "unacknowledged", "", ""),
        ("shelve", "shelved", "wang.fang", "gauge swap"),
        ("unshelve", "unacknowledged", "", ""),
    ]
    assert rows[1]["workstation"] == "ws-1" and rows[0]["value"] == "4.5"

    since = run_cityops(
        "export", "alarm-events", "--since", str(T0 + 4), "--cache-dir", str(cache_dir),
        check=True,
    ).stdout  # fmt: skip
    assert [row["event"] for row in json.loads(since)] == ["clear", "raise", "shelve", "unshelve"]
