"""The audit trail: every action appended, hash-chained; edits, deletions and reordering
are found by ``cityops audit verify``, which names the first bad entry."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from services.model import Alarm, AlarmState, Condition, OperatorAction, Severity
from services.store.cache import FILE_NAME, OfflineCache
from tests.helpers.cli import run_cityops

T0 = 1_790_000_000.0


def alarm(entity: str) -> Alarm:
    return Alarm(entity, "pm25", Condition.HIGH, Severity.HIGH, AlarmState.ACKNOWLEDGED,
                 90.0, 75.0, T0, T0, revision=2)  # fmt: skip


def action(n: int, user: str, note: str, workstation: str) -> tuple[OperatorAction, Alarm]:
    key = f"aq-{n}|pm25|high"
    return OperatorAction(key, "ack", user, T0 + n, note, workstation), alarm(f"aq-{n}")


@pytest.fixture
def audited(cache_dir: Path) -> Path:
    """A cache with five audited actions (two transactions)."""
    with OfflineCache(cache_dir) as cache:
        first = [
            (
                OperatorAction(f"aq-{n}|pm25|high", "ack", "li.wei", T0 + n, "", "ws-1"),
                alarm(f"aq-{n}"),
            )
            for n in range(3)
        ]
        cache.record_actions(first)
        second = [
            (
                OperatorAction(f"aq-{n}|pm25|high", "ack", "王芳", T0 + n, "看过了", "ws-2"),
                alarm(f"aq-{n}"),
            )
            for n in range(3, 5)
        ]
        cache.record_actions(second)
        report = cache.verify_audit()
        assert report.intact and (report.entries, report.head_seq) == (5, 5)
    return cache_dir


def tamper(cache_dir: Path, *statements: str) -> None:
    with sqlite3.connect(cache_dir / FILE_NAME) as conn:
        for statement in statements:
            conn.execute(statement)


def verify(cache_dir: Path) -> tuple[int, str]:
    with OfflineCache(cache_dir) as cache:
        report = cache.verify_audit()
    return report.first_bad or 0, report.problem


def test_an_intact_trail_verifies_and_the_cli_says_so(audited: Path) -> None:
    done = run_cityops("audit", "verify", "--cache-dir", str(audited))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("cityops audit: intact, 5 entries; head 5 ")
    exported = run_cityops("export", "actions", "--cache-dir", str(audited), check=True)
    rows = json.loads(exported.stdout)
    assert [(r["seq"], r["user"], r["workstation"]) for r in rows][-1] == (5, "王芳", "ws-2")
    assert rows[3]["note"] == "看过了"


def test_an_edited_entry_is_named(audited: Path) -> None:
    tamper(audited, "UPDATE audit SET \"user\" = 'someone else' WHERE seq = 2")
    assert verify(audited) == (2, "entry 2 was changed after it was written")
    done = run_cityops("audit", "verify", "--cache-dir", str(audited))
    assert done.returncode == 3
    assert "entry 2 was changed" in done.stderr


def test_a_deleted_entry_is_named(audited: Path) -> None:
    tamper(audited, "DELETE FROM audit WHERE seq = 3")
    assert verify(audited) == (4, "entry 4 follows entry 2 (entries deleted or reordered)")


def test_reordered_entries_are_named(audited: Path) -> None:
    # Swap the contents of entries 2 and 4, keeping their numbers.
    columns = 'ts, kind, alarm_id, "user", workstation, note, prev_hash, hash'
    tamper(
        audited,
        f"CREATE TEMP TABLE keep AS SELECT seq, {columns} FROM audit WHERE seq IN (2, 4)",
        f"UPDATE audit SET ({columns}) ="
        f" (SELECT {columns} FROM keep WHERE keep.seq = 6 - audit.seq) WHERE seq IN (2, 4)",
    )
    first_bad, problem = verify(audited)
    assert first_bad == 2 and "does not link" in problem
