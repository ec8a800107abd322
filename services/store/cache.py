"""Offline cache: recent readings, entities, alarms and operator actions in SQLite.

One connection (WAL journal, ``synchronous=NORMAL``) is shared by the ingest worker thread,
which writes batches and operator actions, the retention pruner and readers (exports,
queries). A lock serialises every use of the connection. Transactions are
explicit (the connection runs with ``isolation_level=None``): each call is one transaction.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import astuple
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, TypeAlias, TypeVar

from services.limits import (
    ALARM_HISTORY_DAYS,
    HISTORY_DAYS,
    MAX_JOURNAL_ENTRIES,
    MAX_RESTORED_INCIDENTS,
    MAX_TIMELINE_ENTRIES,
    RAW_RETENTION_DAYS,
)
from services.model import (
    Alarm,
    AlarmState,
    AlertArea,
    Entity,
    Incident,
    IncidentNote,
    OperatorAction,
    PositionRow,
    Reading,
    SignInRecord,
    Snapshot,
    TimelineEntry,
    TrackPoint,
)
from services.store import history
from services.store import incidents as incident_tables
from services.store import positions as position_table
from services.store import sign_ins as sign_in_table
from services.store.audit import GENESIS, AuditEntry, AuditReport, chain, verify
from services.store.journal import journal
from services.store.schema import (
    ALARM_COLUMNS,
    ENTITY_COLUMNS,
    MIGRATIONS,
    READING_COLUMNS,
    SAMPLE_COLUMNS,
    SCHEMA_VERSION,
    UPSERT_ALARM,
    UPSERT_ENTITY,
    UPSERT_FEED,
    UPSERT_LATEST,
    UPSERT_SERIES,
    alarm_from_row,
    alarm_params,
    area_from_row,
    entity_from_row,
    reading_from_row,
    sql_float,
)
from services.store.state_at import state_at

OutboxMessage: TypeAlias = tuple[str, str, str]
"""An action waiting to be published: (action id, topic, JSON payload)."""

log = logging.getLogger(__name__)

FILE_NAME = "cityops.sqlite3"
BUSY_TIMEOUT_S = 5.0
SECONDS_PER_DAY = 86_400.0
DEFAULT_MAX_BYTES = 4 * 1024**3
"""The default disk budget of the cache (4 GiB)."""
TRIM_SPAN_S = 3_600.0
"""How much of the oldest history one trimming step removes (at most a chunk of rows)."""
"""How long the aggregate tiers are kept by default (raw: ``retention_days``)."""
PRUNE_CHUNK_ROWS = 5_000
SESSIONS_SUFFIX = "-sessions"
"""The lock file every process holding the cache open keeps a shared lock on."""
QUICK_CHECK_MAX_BYTES = 512 * 2**20
"""A cache larger than this that was closed cleanly skips the quick check at start."""

_T = TypeVar("_T")
AUDIT_COLUMNS = 'seq, ts, kind, alarm_id, "user", workstation, note, prev_hash, hash'


# SQLite primary result codes that matter to the operator.
SQLITE_PERM = 3
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26
SQLITE_ERROR = 1
_DAMAGE_CODES = frozenset({SQLITE_CORRUPT, SQLITE_NOTADB})
_ACCESS_CODES = frozenset({SQLITE_PERM, SQLITE_READONLY, SQLITE_CANTOPEN})
READ_DAMAGE_CODES = _DAMAGE_CODES | {SQLITE_ERROR}
"""Errors that mean the file itself is wrong when it is opened or read (a missing table is
SQLITE_ERROR); a full disk, I/O errors, a busy lock or no memory are not damage."""

DAMAGE_MARKER_SUFFIX = ".damaged-while-running"
"""A file of this name beside the cache says SQLite reported damage while the app ran."""


class CacheError(Exception):
    """The offline cache cannot be opened, read or written."""


class CacheDamaged(CacheError):
    """The cache file is corrupt (or not a database): it should be moved aside."""


class CacheUnavailable(CacheError):
    """The cache location cannot be used: permissions, a read-only file system, …"""


def _result_code(error: sqlite3.Error) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _classify(error: sqlite3.Error, message: str) -> CacheError:
    code = _result_code(error)
    if code in _DAMAGE_CODES:
        return CacheDamaged(message)
    if code in _ACCESS_CODES:
        return CacheUnavailable(message)
    return CacheError(message)


def _window(
    column: str, since: float | None, until: float | None, *, until_column: str | None = None
) -> tuple[list[str], list[object]]:
    """WHERE terms and parameters for ``column >= since`` and ``until_column <= until``."""
    terms: list[str] = []
    params: list[object] = []
    if since is not None:
        terms.append(f"{column} >= ?")
        params.append(since)
    if until is not None:
        terms.append(f"{until_column or column} <= ?")
        params.append(until)
    return terms, params


def _where(terms: Sequence[str]) -> str:
    return f" WHERE {' AND '.join(terms)}" if terms else ""


class OfflineCache:
    """The SQLite file that keeps recent city data and the operators' actions.

    Safe to use from several threads; every public method is one transaction.
    """

    def __init__(self, directory: Path, *, retention_days: float = RAW_RETENTION_DAYS) -> None:
        if retention_days <= 0:
            raise ValueError(f"retention_days must be positive, not {retention_days}")
        self.path: Path = Path(directory) / FILE_NAME
        self.retention_days = retention_days
        self.tier_days: dict[str, float] = dict(HISTORY_DAYS)
        self.events_days: float = ALARM_HISTORY_DAYS
        """``[cache] alarm_history_days``: how long alarm transitions and sign-ins are kept."""
        self.max_bytes: int = DEFAULT_MAX_BYTES
        """``[cache] max_size_mb``: history is trimmed oldest-first beyond this."""
        """How long each aggregate tier is kept (``[cache] aggregate_1m_days`` …)."""
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str, str], tuple[int, str]] = {}
        """Series ids (entity, metric, feed) → (id, unit) known to be stored."""
        self._conn: sqlite3.Connection | None = None
        self._sessions: _SessionLock | None = None
        self._check_location(Path(directory))
        marker = self.damage_marker
        if marker.exists():
            raise CacheDamaged(
                f"the offline cache {self.path} was reported damaged while the app ran "
                f"({marker.read_text(encoding='utf-8', errors='replace').strip()[:200]})"
            )
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise CacheUnavailable(f"cannot open the offline cache {self.path}: {exc}") from exc
        try:
            self._configure(conn)
            self._migrate(conn)
            self._check_integrity(conn)
        except sqlite3.Error as exc:
            conn.close()
            error = _classify(exc, f"the offline cache {self.path} cannot be opened: {exc}")
            if type(error) is CacheError and _result_code(exc) in READ_DAMAGE_CODES:
                error = CacheDamaged(f"the offline cache {self.path} is unreadable: {exc}")
            raise error from exc
        except CacheError:
            conn.close()
            raise
        self._conn = conn
        log.info("offline cache open: %s (schema %d)", self.path, SCHEMA_VERSION)

    @property
    def damage_marker(self) -> Path:
        """The file that records damage found while running (checked at the next start)."""
        return self.marker_for(self.path)

    @staticmethod
    def marker_for(path: Path) -> Path:
        """The damage marker of the cache file ``path``."""
        return path.with_name(path.name + DAMAGE_MARKER_SUFFIX)

    # -- opening -------------------------------------------------------------------------

    def _check_location(self, directory: Path) -> None:
        """Refuse a folder that cannot hold the cache, with a reason that says so."""
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheUnavailable(
                f"cannot create the cache folder {directory}: {exc.strerror or exc}"
            ) from exc
        if not directory.is_dir():
            raise CacheUnavailable(f"the cache folder {directory} is not a folder")
        if self.path.is_dir():
            raise CacheDamaged(f"{self.path} is a folder, not an offline cache file")
        probe = directory / f".cityops-write-test-{threading.get_ident()}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise CacheUnavailable(
                f"the cache folder {directory} is not writable ({exc.strerror or exc}); "
                "choose another with --cache-dir"
            ) from exc
        if self.path.exists() and not os.access(self.path, os.R_OK | os.W_OK):
            raise CacheUnavailable(
                f"the offline cache {self.path} cannot be read and written (permissions); "
                "fix its permissions or choose another folder with --cache-dir"
            )

    def _check_integrity(self, conn: sqlite3.Connection) -> None:
        """SQLite's quick check, unless the cache is large and was closed cleanly (it reads
        the whole file: minutes for tens of gigabytes); then notes that it is open."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'closed_cleanly'").fetchone()
        size = self.path.stat().st_size
        if row is not None and row[0] == "1" and size > QUICK_CHECK_MAX_BYTES:
            log.info(
                "offline cache %s: %d MB, closed cleanly last time: the full integrity check"
                " is skipped (SQLite still reports damage it reads)",
                self.path,
                size // 2**20,
            )
        else:
            rows = [str(row[0]) for row in conn.execute("PRAGMA quick_check(5)")]
            if rows != ["ok"]:
                raise CacheDamaged(
                    f"the offline cache {self.path} failed its integrity check: " + "; ".join(rows)
                )
        self._sessions = _SessionLock(self.path.with_name(self.path.name + SESSIONS_SUFFIX))
        # Synced: a power cut must not lose the note that the cache is open.
        conn.execute("PRAGMA synchronous = FULL")
        self._set_closed_cleanly(conn, closed=False)
        conn.execute("PRAGMA synchronous = NORMAL")

    @staticmethod
    def _set_closed_cleanly(conn: sqlite3.Connection, *, closed: bool) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('closed_cleanly', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            ("1" if closed else "0",),
        )

    def _configure(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        # Reading the schema first makes a file that is not a database fail here.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("offline cache %s: WAL journal unavailable, using %s", self.path, mode)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = OFF")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise CacheError(
                f"the offline cache {self.path} has schema version {version}, newer than "
                f"this program understands ({SCHEMA_VERSION})"
            )
        if version == 0:
            tables = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
            ).fetchone()[0]
            if tables:
                raise CacheError(
                    f"{self.path} is an SQLite file but not a CityOps offline cache; "
                    "move it aside or choose another cache folder"
                )
        if version < SCHEMA_VERSION and version > 0:
            log.info(
                "offline cache %s: upgrading from schema %d to %d (a large cache takes a while)",
                self.path,
                version,
                SCHEMA_VERSION,
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[target - 1]:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(target),),
                )
                conn.execute(f"PRAGMA user_version = {target}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            log.info("offline cache %s: schema upgraded to version %d", self.path, target)

    # -- plumbing ------------------------------------------------------------------------

    def _run(
        self,
        what: str,
        work: Callable[[sqlite3.Connection], _T],
        *,
        write: bool,
        durable: bool = False,
    ) -> _T:
        """Run ``work`` under the lock, inside one transaction when ``write`` is true.

        ``durable`` also syncs the WAL to disk on this commit (``synchronous=FULL``), so the
        change survives a power cut, not only a crash of the program.
        """
        with self._lock:
            conn = self._conn
            if conn is None:
                raise CacheError(f"the offline cache {self.path} is closed")
            try:
                if not write:
                    return work(conn)
                if durable:
                    conn.execute("PRAGMA synchronous = FULL")
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        result = work(conn)
                        conn.execute("COMMIT")
                    except BaseException:
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                        raise
                finally:
                    if durable:
                        conn.execute("PRAGMA synchronous = NORMAL")
                return result
            except sqlite3.Error as exc:
                error = _classify(exc, f"offline cache {self.path}: {what} failed: {exc}")
                if isinstance(error, CacheDamaged):
                    self._mark_damaged(str(exc))
                raise error from exc

    def _mark_damaged(self, reason: str) -> None:
        if self.damage_marker.exists():
            return  # marked (and logged) already
        try:
            self.damage_marker.write_text(reason + "\n", encoding="utf-8")
        except OSError:
            log.exception("could not record the damage of %s for the next start", self.path)
        else:
            log.error(
                "offline cache %s is damaged (%s); it will be moved aside at the next start",
                self.path,
                reason,
            )

    # -- writing -------------------------------------------------------------------------

    def write_batch(
        self,
        readings: Sequence[Reading],
        entities: Sequence[Entity],
        alarms: Sequence[Alarm],
        areas: Mapping[str, AlertArea | None] | None = None,
        feeds: Mapping[str, float] | None = None,
        *,
        alarm_events: Sequence[Alarm] | None = None,
        positions: Sequence[PositionRow] = (),
        durable: bool = False,
    ) -> None:
        """Store one ingest batch in a single transaction.

        Appends the readings, keeps the newest reading per (entity, metric), upserts the
        entities and alarms, appends one alarm-history row per alarm version given in
        ``alarm_events`` (default: ``alarms``), stores or
        (for None) deletes the map areas of external alarms, and keeps each feed's last
        message time (``feeds``: name → time), and stores track points (``positions``; one
        of the same entity and time replaces the one stored).
        """
        events = alarms if alarm_events is None else alarm_events
        if not (readings or entities or alarms or areas or feeds or events or positions):
            return
        newest: dict[tuple[str, str], Reading] = {}
        for reading in readings:
            key = (reading.entity_id, reading.metric)
            held = newest.get(key)
            if held is None or reading.ts >= held.ts:
                newest[key] = reading

        new_series: dict[tuple[str, str, str], tuple[int, str]] = {}

        def work(conn: sqlite3.Connection) -> None:
            new_series.clear()  # a retried transaction starts again
            if readings:
                samples = [(self._series_id(conn, r, new_series), r.ts, r.value) for r in readings]
                conn.executemany(
                    "INSERT OR IGNORE INTO samples (series, ts, value) VALUES (?, ?, ?)", samples
                )
                conn.executemany(
                    UPSERT_LATEST,
                    (
                        (r.entity_id, r.metric, r.value, r.unit, r.ts, r.feed)
                        for r in newest.values()
                    ),
                )
            if entities:
                conn.executemany(
                    UPSERT_ENTITY,
                    (
                        (e.id, e.name, e.type, e.domain, e.lat, e.lon, e.feed, e.updated_at)
                        for e in entities
                    ),
                )
            if alarms:
                conn.executemany(UPSERT_ALARM, (alarm_params(a) for a in alarms))
            if events:
                conn.executemany(
                    "INSERT INTO alarm_events (ts, alarm_id, state, value, severity)"
                    " VALUES (?, ?, ?, ?, ?)",
                    ((a.updated_at, a.id, str(a.state), a.value, int(a.severity)) for a in events),
                )
            if feeds:
                conn.executemany(UPSERT_FEED, feeds.items())
            if positions:
                conn.executemany(
                    "INSERT OR REPLACE INTO positions (entity_id, ts, lat, lon)"
                    " VALUES (?, ?, ?, ?)",
                    positions,
                )
            if areas:
                conn.executemany(
                    "INSERT OR REPLACE INTO alert_areas (alarm_id, severity, label, geojson)"
                    " VALUES (?, ?, ?, ?)",
                    (
                        (key, int(a.severity), a.label, json.dumps(a.geojson))
                        for key, a in areas.items()
                        if a is not None
                    ),
                )
                conn.executemany(
                    "DELETE FROM alert_areas WHERE alarm_id = ?",
                    ((key,) for key, a in areas.items() if a is None),
                )

        self._run("writing a batch", work, write=True, durable=durable)
        with self._lock:
            self._series.update(new_series)  # only once committed

    def _series_id(
        self,
        conn: sqlite3.Connection,
        reading: Reading,
        new: dict[tuple[str, str, str], tuple[int, str]],
    ) -> int:
        """The id of the reading's series (entity, metric, feed), made or given its new unit
        in this transaction when needed (``new`` collects those, kept once committed)."""
        key = (reading.entity_id, reading.metric, reading.feed)
        held = new.get(key) or self._series.get(key)
        if held is not None and held[1] == reading.unit:
            return held[0]
        conn.execute(UPSERT_SERIES, (*key, reading.unit))
        row = conn.execute(
            "SELECT id FROM series WHERE entity_id = ? AND metric = ? AND feed = ?", key
        ).fetchone()
        new[key] = (int(row[0]), reading.unit)
        return new[key][0]

    def record_actions(
        self,
        actions: Sequence[tuple[OperatorAction, Alarm | None]],
        outbox: Sequence[OutboxMessage] = (),
        *,
        incidents: Sequence[tuple[Incident, IncidentNote | None]] = (),
    ) -> None:
        """Store operator actions (local or received from another workstation), the alarms
        they changed (None: unchanged), the messages to publish for them and the incidents
        they changed (with a new note or None), in one transaction, durable (synced to
        disk) when this returns."""
        if not actions and not outbox and not incidents:
            return

        def work(conn: sqlite3.Connection) -> None:
            for incident, note in incidents:
                incident_tables.write_incident(conn, incident, note)
            conn.executemany(
                'INSERT INTO actions (ts, alarm_id, action, "user", comment, workstation,'
                " action_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (a.ts, a.alarm_id, a.action, a.user, a.comment, a.workstation, a.action_id)
                    for a, _alarm in actions
                ),
            )
            conn.executemany(
                UPSERT_ALARM,
                (alarm_params(alarm) for _action, alarm in actions if alarm is not None),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO outbox (action_id, topic, payload) VALUES (?, ?, ?)",
                outbox,
            )
            head = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            last_seq, last_hash = (int(head[0]), str(head[1])) if head else (0, GENESIS)
            conn.executemany(
                f"INSERT INTO audit ({AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    astuple(entry)
                    for entry in chain((a for a, _alarm in actions), last_seq, last_hash)
                ),
            )

        self._run("recording operator actions", work, write=True, durable=True)
        for action, _alarm in actions:
            log.info("action %s on %s by %s stored", action.action, action.alarm_id, action.user)

    def record_sign_in(self, record: SignInRecord) -> None:
        """Keep a sign-in or sign-out, durable when this returns."""
        self._run(
            "recording a sign-in",
            lambda conn: sign_in_table.record_sign_in(conn, record),
            write=True,
            durable=True,
        )
        log.info("%s of %s on %r stored", record.event, record.user, record.workstation)

    def sign_ins(self, since: float, until: float) -> list[SignInRecord]:
        """Sign-ins and sign-outs in [since, until], oldest first."""
        return self._run(
            "reading sign-ins",
            lambda conn: sign_in_table.sign_ins(conn, since, until),
            write=False,
        )

    def known_action_ids(self, action_ids: Iterable[str]) -> set[str]:
        """Which of ``action_ids`` the actions table holds already."""
        wanted = [key for key in action_ids if key]

        def work(conn: sqlite3.Connection) -> set[str]:
            known: set[str] = set()
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                marks = ", ".join("?" * len(part))
                rows = conn.execute(
                    f"SELECT action_id FROM actions WHERE action_id IN ({marks})", part
                )
                known.update(str(row[0]) for row in rows)
            return known

        return self._run("looking up shared actions", work, write=False) if wanted else set()

    def outbox(self) -> list[OutboxMessage]:
        """Actions stored but not yet published to the other workstations, oldest first."""

        def work(conn: sqlite3.Connection) -> list[OutboxMessage]:
            rows = conn.execute("SELECT action_id, topic, payload FROM outbox ORDER BY seq")
            return [(str(a), str(t), str(p)) for a, t, p in rows]

        return self._run("reading the outbox", work, write=False)

    def drop_outbox(self, action_ids: Iterable[str]) -> None:
        """Forget outbox messages the broker has taken."""
        keys = [(key,) for key in action_ids]
        if keys:
            self._run(
                "emptying the outbox",
                lambda conn: conn.executemany("DELETE FROM outbox WHERE action_id = ?", keys),
                write=True,
            )

    def prune(self, now: float, *, chunk: int = PRUNE_CHUNK_ROWS) -> int:
        """Delete one chunk of raw readings older than the raw retention, of each history
        tier older than its own, and of alarm transitions and sign-ins older than
        ``events_days``.

        Returns the rows deleted; call again until it returns less than ``chunk`` so that no
        single transaction holds the writers up for long.
        """
        cutoff = now - self.retention_days * SECONDS_PER_DAY

        def work(conn: sqlite3.Connection) -> int:
            deleted = conn.execute(  # series by series: each one's oldest rows come first
                "DELETE FROM samples WHERE (series, ts) IN (SELECT x.series, x.ts FROM series s"
                " CROSS JOIN samples x ON x.series = s.id AND x.ts < ? LIMIT ?)",
                (cutoff, chunk),
            ).rowcount
            kept_from = now - self.events_days * SECONDS_PER_DAY
            deleted += conn.execute(
                "DELETE FROM alarm_events WHERE rowid IN"
                " (SELECT rowid FROM alarm_events WHERE ts < ? LIMIT ?)",
                (kept_from, chunk),
            ).rowcount
            deleted += position_table.prune(conn, cutoff, chunk)
            deleted += sign_in_table.prune_sign_ins(conn, kept_from, chunk)
            for tier, days in self.tier_days.items():
                deleted += history.prune_tier(conn, tier, now - days * SECONDS_PER_DAY, chunk)
            return deleted

        return self._run("pruning", work, write=True)

    # -- reading -------------------------------------------------------------------------

    def load_snapshot(self) -> Snapshot:
        """The last known state: entities (marked stale), latest readings, open alarms."""

        def work(conn: sqlite3.Connection) -> Snapshot:
            entities = [
                entity_from_row(row)
                for row in conn.execute(f"SELECT {ENTITY_COLUMNS} FROM entities ORDER BY id")
            ]
            latest = [
                reading_from_row(row)
                for row in conn.execute(
                    f"SELECT {READING_COLUMNS} FROM latest ORDER BY entity_id, metric"
                )
            ]
            alarms = [
                alarm
                for row in conn.execute(
                    f"SELECT {ALARM_COLUMNS} FROM alarms WHERE state != ? ORDER BY raised_at",
                    (str(AlarmState.NORMAL),),
                )
                if (alarm := alarm_from_row(row)) is not None
            ]
            areas = tuple(
                area
                for row in conn.execute(
                    "SELECT alarm_id, severity, label, geojson FROM alert_areas ORDER BY alarm_id"
                )
                if (area := area_from_row(row)) is not None
            )
            feeds = dict(conn.execute("SELECT name, last_message_at FROM feeds"))
            return Snapshot(
                entities=entities,
                latest=latest,
                alarms=alarms,
                areas=areas,
                feed_last_message=feeds,
            )

        return self._run("loading the snapshot", work, write=False)

    def query_alarms(self, since: float | None = None, until: float | None = None) -> list[Alarm]:
        """Alarms active in [since, until]: updated at or after ``since``, raised by ``until``."""
        terms, params = _window("updated_at", since, until, until_column="raised_at")

        def work(conn: sqlite3.Connection) -> list[Alarm]:
            rows = conn.execute(
                f"SELECT {ALARM_COLUMNS} FROM alarms{_where(terms)} ORDER BY raised_at, id",
                params,
            )
            return [alarm for row in rows if (alarm := alarm_from_row(row)) is not None]

        return self._run("querying alarms", work, write=False)

    def query_readings(
        self,
        since: float | None = None,
        until: float | None = None,
        *,
        entity_id: str | None = None,
        metric: str | None = None,
        limit: int | None = None,
    ) -> list[Reading]:
        """Readings with ``since <= ts <= until``, optionally of one entity/metric, by ts."""
        if limit is not None and limit <= 0:
            return []
        found: list[Reading] = []
        for batch in self.iter_readings(
            since, until, entity_id=entity_id, metric=metric, batch_size=limit or 50_000
        ):
            found.extend(batch)
            if limit is not None and len(found) >= limit:
                return found[:limit]
        return found

    def max_alarm_revision(self) -> int:
        """The highest alarm revision stored (cleared alarms included); 0 when none."""

        def work(conn: sqlite3.Connection) -> int:
            return int(conn.execute("SELECT coalesce(max(revision), 0) FROM alarms").fetchone()[0])

        return self._run("reading alarm revisions", work, write=False)

    def query_raises(self, since: float) -> list[tuple[float, str, int]]:
        """(time, alarm id, severity) of every alarm raise recorded since ``since``."""

        def work(conn: sqlite3.Connection) -> list[tuple[float, str, int]]:
            return [
                (float(ts), str(key), int(severity))
                for ts, key, severity in conn.execute(
                    "SELECT ts, alarm_id, severity FROM alarm_events"
                    " WHERE state = ? AND ts >= ? ORDER BY ts",
                    (str(AlarmState.UNACKNOWLEDGED), since),
                )
            ]

        return self._run("reading alarm raises", work, write=False)

    def query_alarm_events(
        self, since: float | None = None, until: float | None = None
    ) -> list[tuple[float, str, str, str, float | None, int]]:
        """Every alarm version stored in [since, until], oldest first, as (time, alarm id,
        previous state or "" for its first, state, value, severity)."""
        terms, params = _window("ts", since, until)

        def work(conn: sqlite3.Connection) -> list[tuple[float, str, str, str, float | None, int]]:
            rows = conn.execute(
                "SELECT ts, alarm_id, previous, state, value, severity FROM ("
                " SELECT rowid, ts, alarm_id, state, value, severity,"
                "  coalesce(lag(state) OVER (PARTITION BY alarm_id ORDER BY ts, rowid), '')"
                "  AS previous FROM alarm_events)"
                f"{_where(terms)} ORDER BY ts, rowid",
                params,
            )
            return [
                (float(ts), str(key), str(previous), str(state), value, int(severity))
                for ts, key, previous, state, value, severity in rows
            ]

        return self._run("reading alarm events", work, write=False)

    def load_incidents(self, since: float, limit: int = MAX_RESTORED_INCIDENTS) -> list[Incident]:
        """Incidents not closed and those closed but changed since ``since`` (at most
        ``limit``, open ones first), oldest first."""
        return self._run(
            "loading incidents",
            lambda conn: incident_tables.load_incidents(conn, since, limit),
            write=False,
        )

    def incident_timeline(
        self, incident_id: str, limit: int = MAX_TIMELINE_ENTRIES
    ) -> list[TimelineEntry]:
        """What happened to an incident and its alarms, oldest first (the newest ``limit``
        entries; see :mod:`services.store.incidents`)."""
        return self._run(
            "reading an incident's timeline",
            lambda conn: incident_tables.timeline(conn, incident_id, limit),
            write=False,
        )

    def audit_entries(self, batch_size: int = 5_000) -> Iterator[AuditEntry]:
        """The audit trail in stored order, read in short batches."""
        after = -1
        while True:

            def work(conn: sqlite3.Connection, after: int = after) -> list[tuple[Any, ...]]:
                return conn.execute(
                    f"SELECT {AUDIT_COLUMNS} FROM audit WHERE rowid > ? ORDER BY rowid LIMIT ?",
                    (after, batch_size),
                ).fetchall()

            rows = self._run("reading the audit trail", work, write=False)
            if not rows:
                return
            for row in rows:
                yield AuditEntry(*row)
            after = int(rows[-1][0])

    def verify_audit(self) -> AuditReport:
        """Check the audit trail's hash chain (see :mod:`services.store.audit`)."""
        return verify(self.audit_entries())

    def used_bytes(self) -> int:
        """How many bytes of the cache file are in use."""
        return self._run("measuring the cache", history.used_bytes, write=False)

    def trim_to_budget(
        self, *, chunk: int = PRUNE_CHUNK_ROWS, stop: Callable[[], bool] = lambda: False
    ) -> int:
        """While the cache uses more than :attr:`max_bytes`, delete the oldest history (raw
        readings, then 1-minute, then 15-minute buckets), a chunk per transaction, and the
        track points older than the raw readings kept (all of them, oldest first, once no
        raw reading is left); alarms, actions and incidents are never trimmed. Returns the
        rows deleted."""

        def trim(conn: sqlite3.Connection) -> int:
            oldest_raw = history.oldest_sample(conn)
            if oldest_raw is None:
                points = position_table.trim_oldest(conn, TRIM_SPAN_S, chunk)
            else:
                points = position_table.prune(conn, oldest_raw, chunk)
            return points + history.trim_oldest(conn, TRIM_SPAN_S, chunk, oldest_raw)

        deleted = 0
        while not stop() and self.used_bytes() > self.max_bytes:
            step = self._run("trimming the oldest history", trim, write=True)
            if not step:
                log.warning(
                    "offline cache %s uses %d MB, over its budget of %d MB, with no history"
                    " left to trim (alarms, actions and incidents are kept)",
                    self.path,
                    self.used_bytes() // 2**20,
                    self.max_bytes // 2**20,
                )
                break
            deleted += step
        return deleted

    def rollup(
        self,
        now: float,
        *,
        stop: Callable[[], bool] = lambda: False,
        pause: Callable[[], object] = lambda: None,
    ) -> int:
        """Aggregate raw samples into the 1-minute and 15-minute tiers up to a few minutes
        before ``now``, at most a quarter hour of raw time per transaction (less when one
        takes longer than :data:`history.ROLLUP_STEP_TARGET_S`), calling ``pause``
        between them (so the ingest worker gets the cache) until ``stop`` says so; returns
        the transactions run."""
        steps = 0
        for tier in history.TIERS:
            span = history.ROLLUP_SPAN_S
            while not stop():
                started = time.monotonic()
                step = partial(history.rollup_step, tier=tier, now=now, span=span)
                if not self._run("aggregating history", step, write=True):
                    break
                span = history.next_rollup_span(span, time.monotonic() - started)
                steps += 1
                pause()
        return steps

    def series(
        self,
        entity_id: str,
        metric: str,
        since: float,
        until: float,
        *,
        resolution: str = "auto",
        now: float,
    ) -> tuple[str, list[history.SeriesPoint]]:
        """A metric of an entity over [since, until] at ``resolution`` ("auto": raw for
        short recent windows, then 1-minute, then 15-minute buckets); returns the resolution
        used and the points, oldest first."""
        if resolution not in history.RESOLUTIONS:
            raise ValueError(
                f"unknown resolution {resolution!r} (one of {', '.join(history.RESOLUTIONS)})"
            )
        chosen = (
            history.choose_resolution(since, until, now, self.retention_days)
            if resolution == "auto"
            else resolution
        )
        points = self._run(
            "reading a series",
            lambda conn: history.series_points(
                conn, entity_id, metric, since, until, resolution=chosen
            ),
            write=False,
        )
        return chosen, points

    def journal(
        self, since: float, until: float, limit: int = MAX_JOURNAL_ENTRIES
    ) -> list[TimelineEntry]:
        """Every alarm transition and operator action on alarms in [since, until], oldest
        first (see :mod:`services.store.journal`)."""
        return self._run(
            "reading the alarm journal",
            lambda conn: journal(conn, since, until, limit),
            write=False,
        )

    def state_at(self, at: float) -> Snapshot:
        """The state as of ``at`` (see :mod:`services.store.state_at`)."""
        return self._run(
            "reading the state at a time", lambda conn: state_at(conn, at), write=False
        )

    def positions(self, since: float, until: float | None = None) -> dict[str, list[TrackPoint]]:
        """The stored track points from ``since`` to ``until`` (default: all after it), per
        entity (see :func:`services.store.positions.read_tracks`)."""
        end = math.inf if until is None else until
        return self._run(
            "reading track points",
            lambda conn: position_table.read_tracks(conn, since, end),
            write=False,
        )

    def recent_readings(self, window_s: float, limit: int, now: float) -> list[Reading]:
        """The readings of the last ``window_s`` seconds before ``now``, at most about
        ``limit`` of them shared out between the series (the newest of each), oldest first:
        for sparklines and trends right after a start. One index seek per series, so it does
        not scan the whole history."""

        def work(conn: sqlite3.Connection) -> list[Reading]:
            series = conn.execute("SELECT id, entity_id, metric, feed, unit FROM series").fetchall()
            if not series:
                return []
            each = max(1, limit // len(series))
            found: list[Reading] = []
            for key, entity_id, metric, feed, unit in series:
                rows = conn.execute(
                    "SELECT ts, value FROM samples WHERE series = ? AND ts >= ? AND ts <= ?"
                    " ORDER BY ts DESC LIMIT ?",
                    (key, now - window_s, now, each),
                ).fetchall()
                found.extend(
                    Reading(entity_id, metric, sql_float(value), ts, feed, unit)
                    for ts, value in rows
                )
            found.sort(key=lambda reading: reading.ts)
            return found

        return self._run("reading recent history", work, write=False)

    def iter_readings(
        self,
        since: float | None = None,
        until: float | None = None,
        *,
        entity_id: str | None = None,
        metric: str | None = None,
        batch_size: int = 10_000,
    ) -> Iterator[list[Reading]]:
        """Like :meth:`query_readings`, in batches, without holding every row in memory.

        Each batch is its own short query (keyset paging on time and series), so the writer
        thread is never blocked for the whole export. (Without an index on time alone, each
        page scans the window: fine for exports and restarts, not for interactive history,
        which goes by series.)
        """
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, not {batch_size}")
        terms, params = _window("samples.ts", since, until)
        if entity_id is not None:
            terms.append("series.entity_id = ?")
            params.append(entity_id)
        if metric is not None:
            terms.append("series.metric = ?")
            params.append(metric)
        after: tuple[float, int] | None = None
        while True:
            page_terms = list(terms)
            page_params = list(params)
            if after is not None:
                page_terms.append("samples.ts >= ? AND (samples.ts, samples.series) > (?, ?)")
                page_params.extend((after[0], *after))
            sql = (
                f"SELECT {SAMPLE_COLUMNS}, samples.series FROM samples"
                f" JOIN series ON series.id = samples.series{_where(page_terms)}"
                " ORDER BY samples.ts, samples.series LIMIT ?"
            )
            page_params.append(batch_size)

            def work(
                conn: sqlite3.Connection, sql: str = sql, values: list[object] = page_params
            ) -> list[tuple[Any, ...]]:
                return conn.execute(sql, values).fetchall()

            rows = self._run("querying readings", work, write=False)
            if not rows:
                return
            yield [reading_from_row(row[:6]) for row in rows]
            if len(rows) < batch_size:
                return
            after = (rows[-1][3], rows[-1][6])

    def query_actions(
        self, since: float | None = None, until: float | None = None, *, kind: str = ""
    ) -> list[OperatorAction]:
        """Operator actions with ``since <= ts <= until`` (of one ``kind`` when given,
        e.g. "comment"), oldest first."""
        terms, params = _window("ts", since, until)
        if kind:
            terms.append("action = ?")
            params.append(kind)

        def work(conn: sqlite3.Connection) -> list[OperatorAction]:
            rows = conn.execute(
                'SELECT alarm_id, action, "user", ts, comment, workstation, action_id'
                f" FROM actions{_where(terms)} ORDER BY ts, rowid",
                params,
            )
            return [OperatorAction(a, b, c, d, e, f, g) for a, b, c, d, e, f, g in rows]

        return self._run("querying actions", work, write=False)

    def count(self, table: str) -> int:
        """Number of rows in one of the cache's tables (for status displays and tests)."""
        if table not in {
            "readings",
            "latest",
            "entities",
            "alarms",
            "alarm_events",
            "actions",
            "positions",
        }:
            raise ValueError(f"unknown cache table {table!r}")
        if table == "readings":
            table = "samples"  # raw readings live in samples (with their series)

        def work(conn: sqlite3.Connection) -> int:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

        return self._run(f"counting {table}", work, write=False)

    # -- closing -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._conn is None

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close; calling it again does nothing."""
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is None:
            return
        sessions, self._sessions = self._sessions, None
        try:
            # Closed cleanly only when no other process has the cache open (a headless
            # export closing while the window runs must not vouch for the window).
            if sessions is not None and sessions.last():
                self._set_closed_cleanly(conn, closed=True)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            log.warning("offline cache %s: closing cleanly failed: %s", self.path, exc)
        finally:
            conn.close()
            if sessions is not None:
                sessions.release()
        log.info("offline cache closed: %s", self.path)

    def __enter__(self) -> OfflineCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _SessionLock:
    """A shared lock on a file beside the cache, held while this process has it open; the
    last process to close it can take the lock exclusively. When the lock file cannot be
    made, no process counts as the last, so the integrity check always runs."""

    def __init__(self, path: Path) -> None:
        self._file: Any = None
        try:
            self._file = path.open("a+b")
            fcntl.flock(self._file.fileno(), fcntl.LOCK_SH)
        except OSError as error:
            log.debug("offline cache: no session lock at %s: %s", path, error)
            if self._file is not None:
                self._file.close()
            self._file = None

    def last(self) -> bool:
        """Whether no other process holds the cache open (tries the lock exclusively)."""
        if self._file is None:
            return False
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file drops the lock
            self._file = None
