"""Who worked at a workstation when: the sign-ins and sign-outs kept in the offline cache."""

from __future__ import annotations

import sqlite3

from services.model import SignInRecord

SIGN_IN = "sign-in"
SIGN_OUT = "sign-out"


def record_sign_in(conn: sqlite3.Connection, record: SignInRecord) -> None:
    """Keep one sign-in or sign-out (inside the caller's transaction)."""
    conn.execute(
        'INSERT INTO sign_ins (ts, "user", role, workstation, event) VALUES (?, ?, ?, ?, ?)',
        (record.ts, record.user, record.role, record.workstation, record.event),
    )


def sign_ins(conn: sqlite3.Connection, since: float, until: float) -> list[SignInRecord]:
    """Sign-ins and sign-outs from ``since`` to ``until`` (epoch seconds), oldest first."""
    return [
        SignInRecord(float(ts), str(user), str(role), str(workstation), str(event))
        for ts, user, role, workstation, event in conn.execute(
            'SELECT ts, "user", role, workstation, event FROM sign_ins'
            " WHERE ts >= ? AND ts <= ? ORDER BY ts, rowid",
            (since, until),
        )
    ]


def prune_sign_ins(conn: sqlite3.Connection, cutoff: float, chunk: int) -> int:
    """Delete at most ``chunk`` sign-ins older than ``cutoff``; returns how many went."""
    return conn.execute(
        "DELETE FROM sign_ins WHERE rowid IN (SELECT rowid FROM sign_ins WHERE ts < ? LIMIT ?)",
        (cutoff, chunk),
    ).rowcount
