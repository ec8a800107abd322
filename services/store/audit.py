"""The audit trail: every operator action, append-only and hash-chained.

Each entry's hash covers its own fields and the previous entry's hash, so editing an
entry, deleting one or putting them in another order breaks the chain at the first
entry touched. Removing entries from the end leaves a shorter, intact chain: compare the
head (the last entry's number and hash, which ``cityops audit verify`` prints) with one
recorded elsewhere to catch that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from services.model import OperatorAction

GENESIS = "0" * 64
"""The 'previous hash' of the first entry."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited action, as stored."""

    seq: int
    ts: float
    kind: str
    alarm_id: str
    user: str
    workstation: str
    note: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The outcome of checking the chain."""

    entries: int
    head_seq: int
    head_hash: str
    problem: str = ""
    first_bad: int | None = None

    @property
    def intact(self) -> bool:
        return not self.problem


def entry_hash(  # noqa: PLR0917 - the fields of an entry, in order
    prev_hash: str,
    seq: int,
    ts: float,
    kind: str,
    alarm_id: str,
    user: str,
    workstation: str,
    note: str,
) -> str:
    """The SHA-256 of an entry's fields and the previous entry's hash (canonical JSON)."""
    fields = [prev_hash, seq, repr(float(ts)), kind, alarm_id, user, workstation, note]
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain(actions: Iterable[OperatorAction], last_seq: int, last_hash: str) -> list[AuditEntry]:
    """New entries for ``actions``, continuing a chain that ends at ``last_seq``/``last_hash``."""
    entries: list[AuditEntry] = []
    seq, prev = last_seq, last_hash
    for action in actions:
        seq += 1
        digest = entry_hash(
            prev,
            seq,
            action.ts,
            action.action,
            action.alarm_id,
            action.user,
            action.workstation,
            action.comment,
        )
        entries.append(
            AuditEntry(
                seq,
                action.ts,
                action.action,
                action.alarm_id,
                action.user,
                action.workstation,
                action.comment,
                prev,
                digest,
            )
        )
        prev = digest
    return entries


def verify(entries: Iterable[AuditEntry]) -> AuditReport:
    """Check entries in stored order: numbers without gaps, each linked to the one before,
    each hash matching its fields. Stops at the first bad entry."""
    expected_seq, prev = 1, GENESIS
    count = 0
    for entry in entries:
        count += 1
        problem = ""
        if entry.seq != expected_seq:
            problem = (
                f"entry {entry.seq} follows entry {expected_seq - 1} (entries deleted or reordered)"
            )
        elif entry.prev_hash != prev:
            problem = f"entry {entry.seq} does not link to the entry before it (reordered)"
        elif entry.hash != entry_hash(
            entry.prev_hash,
            entry.seq,
            entry.ts,
            entry.kind,
            entry.alarm_id,
            entry.user,
            entry.workstation,
            entry.note,
        ):
            problem = f"entry {entry.seq} was changed after it was written"
        if problem:
            return AuditReport(count, expected_seq - 1, prev, problem, entry.seq)
        expected_seq, prev = entry.seq + 1, entry.hash
    return AuditReport(count, expected_seq - 1, prev)
