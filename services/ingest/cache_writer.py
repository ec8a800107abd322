"""Write-behind to the offline cache, owned by the ingest worker.

Changes are buffered and written in one transaction per flush interval. When writes fail
(a full disk, I/O errors, a damaged file) the cache turns *degraded* (or *damaged*): data
waits in memory up to a bound (the oldest readings are dropped and counted beyond it),
writing is retried every few seconds, one log line a minute says how it stands, and the
first write that works again stores the backlog and turns the cache back to OK.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import islice

from services.limits import CACHE_BACKLOG_POSITIONS, CACHE_BACKLOG_READINGS
from services.model import (
    Alarm,
    AlertArea,
    CacheHealth,
    CacheState,
    Entity,
    PositionRow,
    Reading,
)
from services.store.cache import CacheDamaged, CacheError, OfflineCache

log = logging.getLogger(__name__)

RETRY_EVERY_S = 2.0
"""How often a failing cache is tried again."""
REPORT_EVERY_S = 60.0
"""How often a failing cache is logged."""
FLUSH_AT_READINGS = 50_000
"""Write at once when this many readings wait (before the flush interval is up)."""
ACK_FLUSH_INTERVAL_S = 0.05
"""How soon a write happens while messages wait to be acknowledged to their broker (a
broker sends only so many unacknowledged QoS 1/2 messages at a time)."""


@dataclass(frozen=True, slots=True)
class FlushReport:
    """What the last flush left behind: nothing, or data the cache did not take."""

    unsaved_readings: int
    unsaved_changes: int
    dropped_readings: int
    detail: str = ""
    unknown: bool = False
    """Nobody could say what was stored (an engine process that ended without a report)."""

    @property
    def complete(self) -> bool:
        """Whether everything received was stored."""
        return not (
            self.unknown or self.unsaved_readings or self.unsaved_changes or self.dropped_readings
        )


def _run_acks(acks: Iterable[Callable[[], None]]) -> None:
    for ack in acks:
        try:
            ack()
        except Exception:  # a feed's acknowledgement must not stop the writer
            log.exception("acknowledging a message to its feed failed")


class CacheWriter:
    """Buffers readings, entities, alarms and map areas, and writes them in batches."""

    def __init__(
        self,
        cache: OfflineCache | None,
        *,
        flush_interval: float = 0.5,
        max_backlog: int = CACHE_BACKLOG_READINGS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cache = cache
        self.flush_interval = flush_interval
        self.max_backlog = max_backlog
        self.clock = clock
        self.health = CacheHealth()
        self._readings: list[Reading] = []
        self._entities: dict[str, Entity] = {}
        self._alarms: dict[str, Alarm] = {}
        self._areas: dict[str, AlertArea | None] = {}
        self._feeds: dict[str, float] = {}
        self._acks: list[Callable[[], None]] = []
        self._events: list[Alarm] = []
        self._positions: dict[tuple[str, float], tuple[float, float]] = {}
        self._dropped = 0
        self._rejected = 0
        self._acked_unstored = 0
        self._last_attempt = time.monotonic()
        self._last_report = 0.0

    def add(
        self,
        readings: Iterable[Reading] = (),
        entities: Mapping[str, Entity] | None = None,
        alarms: Iterable[Alarm] = (),
        areas: Mapping[str, AlertArea | None] | None = None,
        *,
        feeds: Mapping[str, float] | None = None,
        acks: Iterable[Callable[[], None]] = (),
        events: Iterable[Alarm] | None = None,
        positions: Iterable[PositionRow] = (),
    ) -> None:
        """Queue changes for the next write (the newest version of each thing wins);
        ``feeds`` maps feed names to their last message time; ``acks`` run once the write
        that holds these changes has committed; ``events`` are the alarm versions to append
        to the alarm history (default: ``alarms``); ``positions`` are track points (a point
        of the same entity and time replaces the one before)."""
        if self.cache is None:
            _run_acks(acks)
            return
        if self.health.state is CacheState.OK:
            self._acks.extend(acks)
        else:
            # While the cache cannot be written, holding acknowledgements back would stop a
            # broker from sending more (it keeps only so many unacknowledged): acknowledge
            # what has been applied instead, and count it (at most once, for the duration).
            acks = list(acks)
            self._acked_unstored += len(acks)
            _run_acks(acks)
        self._readings.extend(readings)
        if entities:
            self._entities.update(entities)
        alarms = list(alarms)
        self._events.extend(alarms if events is None else events)
        for alarm in alarms:
            held = self._alarms.get(alarm.id)
            if held is None or alarm.revision >= held.revision:
                self._alarms[alarm.id] = alarm
        if areas:
            self._areas.update(areas)
        for entity_id, ts, lat, lon in positions:
            self._positions[(entity_id, ts)] = (lat, lon)
        excess_points = len(self._positions) - CACHE_BACKLOG_POSITIONS
        if excess_points > 0:  # only while the cache fails: the oldest go
            for key in list(islice(self._positions, excess_points)):
                del self._positions[key]
        for name, when in (feeds or {}).items():
            self._feeds[name] = max(when, self._feeds.get(name, when))
        excess = len(self._readings) - self.max_backlog
        if excess > 0:
            del self._readings[:excess]
            self._dropped += excess

    @property
    def backlog(self) -> int:
        """Readings waiting to be written."""
        return len(self._readings)

    @property
    def _waiting(self) -> bool:
        """Whether changes wait to be written."""
        return bool(
            self._readings
            or self._entities
            or self._alarms
            or self._areas
            or self._feeds
            or self._positions
        )

    @property
    def settled(self) -> bool:
        """Whether everything handed over so far is written (and the cache is writable)."""
        return self.health.state is CacheState.OK and not self._waiting

    def flush(self, *, force: bool = False) -> CacheHealth | None:
        """Write what waits when it is due; returns the new health when it changed."""
        if self.cache is None or not (self._waiting or self._acks):
            return None
        failing = self.health.state is not CacheState.OK
        interval = RETRY_EVERY_S if failing else self.flush_interval
        if self._acks and not failing:
            interval = min(interval, ACK_FLUSH_INTERVAL_S)
        due = time.monotonic() - self._last_attempt >= interval
        if not (force or due or (not failing and len(self._readings) >= FLUSH_AT_READINGS)):
            return self._progress() if failing else None
        self._last_attempt = time.monotonic()
        try:
            self._write()
        except Exception as error:
            return self._failed(error)
        written = len(self._readings)
        self._readings, self._entities, self._alarms, self._areas = [], {}, {}, {}
        self._feeds, self._events, self._positions = {}, [], {}
        acks, self._acks = self._acks, []
        _run_acks(acks)
        if not failing:
            return None
        log.warning(
            "offline cache %s is writable again: %d waiting readings stored, %d were dropped",
            self.cache.path,
            written,
            self._dropped,
        )
        self.health = CacheHealth(dropped_readings=self._dropped)
        return self.health

    def _write(self) -> None:
        """One transaction with everything that waits (synced to disk when messages wait
        for their acknowledgement); a value the database refuses is isolated and dropped."""
        assert self.cache is not None
        try:
            self.cache.write_batch(
                self._readings,
                list(self._entities.values()),
                list(self._alarms.values()),
                self._areas,
                self._feeds,
                alarm_events=self._events,
                positions=self._position_rows(),
                durable=bool(self._acks),
            )
        except CacheError:
            raise
        except Exception:  # not the cache's fault: some value it cannot store (a bug upstream)
            log.exception("the offline cache refused a value; isolating it")
            self.cache.write_batch(
                [],
                list(self._entities.values()),
                list(self._alarms.values()),
                self._areas,
                self._feeds,
                alarm_events=self._events,
                positions=self._position_rows(),
            )
            self._write_readings_isolating(self._readings)

    def _position_rows(self) -> list[PositionRow]:
        return [(key[0], key[1], *place) for key, place in self._positions.items()]

    def _write_readings_isolating(self, readings: list[Reading]) -> None:
        """Write ``readings`` in halves until the ones the database refuses are alone; those
        are dropped and counted."""
        assert self.cache is not None
        if not readings:
            return
        try:
            self.cache.write_batch(readings, [], [])
        except CacheError:
            raise
        except Exception:
            if len(readings) == 1:
                self._rejected += 1
                self._dropped += 1
                log.error("a reading the offline cache cannot store was dropped: %r", readings[0])
                return
            middle = len(readings) // 2
            self._write_readings_isolating(readings[:middle])
            self._write_readings_isolating(readings[middle:])

    def report(self) -> FlushReport:
        """What is still unsaved (call after the final forced flush)."""
        return FlushReport(
            unsaved_readings=len(self._readings),
            unsaved_changes=len(self._entities) + len(self._alarms) + len(self._areas),
            dropped_readings=self._dropped,
            detail=self.health.detail,
        )

    def _failed(self, error: Exception) -> CacheHealth:
        state = CacheState.DAMAGED if isinstance(error, CacheDamaged) else CacheState.DEGRADED
        first = self.health.state is CacheState.OK
        if first and self._acks:
            # Acknowledge what is waiting (see add): the broker must not stop sending.
            acks, self._acks = self._acks, []
            self._acked_unstored += len(acks)
            _run_acks(acks)
        if first:
            log.error(
                "writing to the offline cache failed: %s; keeping up to %d readings in memory"
                " and retrying every %g s",
                error,
                self.max_backlog,
                RETRY_EVERY_S,
                exc_info=None if isinstance(error, CacheError) else error,
            )
            self._last_report = time.monotonic()
        since = self.clock() if first else self.health.since
        self.health = CacheHealth(
            state=state,
            detail=str(error),
            since=since,
            backlog_readings=len(self._readings),
            dropped_readings=self._dropped,
        )
        if not first:
            self._log_progress()
        return self.health

    def _progress(self) -> CacheHealth | None:
        """While failing: the backlog and drop counts, when they changed."""
        self._log_progress()
        if (self.health.backlog_readings, self.health.dropped_readings) == (
            len(self._readings),
            self._dropped,
        ):
            return None
        self.health = CacheHealth(
            state=self.health.state,
            detail=self.health.detail,
            since=self.health.since,
            backlog_readings=len(self._readings),
            dropped_readings=self._dropped,
        )
        return self.health

    def _log_progress(self) -> None:
        now = time.monotonic()
        if now - self._last_report < REPORT_EVERY_S:
            return
        self._last_report = now
        since = self.health.since
        minutes = (self.clock() - since) / 60 if since is not None else 0.0
        log.warning(
            "offline cache %s: writes failing for %.0f min (%s); %d readings waiting in memory,"
            " %d dropped (limit %d); %d QoS 1/2 messages acknowledged without being stored",
            self.cache.path if self.cache is not None else "-",
            minutes,
            self.health.detail,
            len(self._readings),
            self._dropped,
            self.max_backlog,
            self._acked_unstored,
        )
