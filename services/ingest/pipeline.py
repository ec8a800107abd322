"""The ingest worker: raw messages in, decoded state, alarms and cache writes out, in batches."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TypeVar

from services.alarms.kpis import DAY_S, AlarmStatistics, Raise
from services.alarms.store import AlarmStore
from services.auth.roles import Principal
from services.config import AppConfig, FeedConfig
from services.decoders import Decoded, DecodeError, ExternalAlarm, get_decoder
from services.decoders.base import EntityUpdate
from services.geo.gcj02 import gcj02_to_wgs84
from services.ingest import commands
from services.ingest.cache_writer import CacheWriter, FlushReport
from services.ingest.commands import PendingAction
from services.ingest.health import FeedHealthBook
from services.ingest.hub import StateHub
from services.ingest.incident_commands import IncidentCommand, IncidentDesk, update_changes
from services.ingest.sharing_desk import Publish, SharingDesk, SharingIdentity
from services.limits import (
    CACHE_BACKLOG_READINGS,
    DEAD_LETTERS_PER_FEED,
    MAX_PAYLOAD_BYTES,
    TRACK_POINTS,
    TRACK_SPACING_S,
    payload_too_large,
)
from services.messages import (
    ConnectionEvent,
    FeedChange,
    FeedPaused,
    InboxItem,
    OutboxSent,
    RawMessage,
)
from services.model import (
    ActionResult,
    Alarm,
    AlertArea,
    Condition,
    DeadLetter,
    Delta,
    Entity,
    Incident,
    OperatorAction,
    PositionRow,
    Reading,
    Severity,
    Snapshot,
    alarm_id,
    transform_geojson,
)
from services.sharing.protocol import SHARING_FEED
from services.store.cache import CacheError, OfflineCache

log = logging.getLogger(__name__)

LOG_EVERY_SECONDS = 60.0


HISTORY_WINDOW_S = 3600.0
SHARING_STALE_S = 365 * 86_400.0
"""Shared actions come when operators act: a quiet sharing feed is never stale."""
KPI_EVERY_S = 5.0
"""How often the alarm-system KPIs are recomputed and published."""
RESTORED_HISTORY_READINGS = 50_000
_STOP = object()
_WAKE = object()
_Command = TypeVar("_Command", PendingAction, IncidentCommand)


class IngestPipeline:
    """Decodes messages in batches, updates hub and alarms, batches cache writes and
    coalesces everything the UI needs into one :class:`Delta` per tick.

    Producers (MQTT/HTTP threads, simulator) call :meth:`put`; the UI calls
    :meth:`take_delta` from its timer and :meth:`acknowledge` for operator actions.

    The worker thread is the only writer of the hub, the alarm store, feed health and the
    cache's live tables: operator actions are commands it runs between batches (ahead of
    any backlog of messages), and their results come back in the delta. Without a started
    worker (tests, tools) commands run on the caller's thread, which is then the writer.
    """

    def __init__(
        self,
        config: AppConfig,
        cache: OfflineCache | None,
        *,
        clock: Callable[[], float] = time.time,
        flush_interval: float = 0.5,
        max_backlog: int = CACHE_BACKLOG_READINGS,
        max_batch: int = 5000,
        stale_after: float = 120.0,
    ) -> None:
        self.config = config
        self.cache = cache
        self.clock = clock
        self.max_batch = max_batch
        self.hub = StateHub()
        self.alarms = AlarmStore(config.rules, config.geofences)
        self.alarms.keep_history = True
        self.statistics = AlarmStatistics(config.chattering_raises, config.chattering_window)
        self._last_kpis = 0.0
        self._inbox: queue.SimpleQueue[InboxItem | object] = queue.SimpleQueue()
        self.feeds = FeedHealthBook(config.feeds, stale_after=stale_after)
        self._delta = Delta()
        self._delta_lock = threading.Lock()
        self._commands: queue.SimpleQueue[PendingAction | IncidentCommand | threading.Event] = (
            queue.SimpleQueue()
        )
        self.incident_desk = IncidentDesk(self.alarms, cache, self._publish_incidents)
        """Incident commands and the incident book (see ``incident_commands``)."""
        self.writer = CacheWriter(
            cache, flush_interval=flush_interval, max_backlog=max_backlog, clock=clock
        )
        self._last_housekeeping = time.monotonic()
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()
        self._queued = 0
        self._queued_lock = threading.Lock()
        self._areas: dict[str, AlertArea] = {}
        self.messages_processed = 0
        self.messages_rejected = 0
        self._batch_letters: list[DeadLetter] = []
        """Dead letters of the batch being processed (withdrawn when it fails)."""
        self._started_at = clock()
        self.sharing: SharingDesk | None = None

    def attach_sharing(self, identity: SharingIdentity, publish: Publish) -> SharingDesk:
        """Share operator actions through ``publish`` (before :meth:`start`): shared
        messages then arrive as the ``sharing`` pseudo-feed, shown and dead-lettered like a
        feed's; actions still in the cache's outbox are sent at once."""
        self.sharing = SharingDesk(self.alarms, self.cache, identity, publish)
        topic = f"{identity.prefix}/#"
        self.feeds.change(
            FeedChange(
                SHARING_FEED,
                FeedConfig(
                    SHARING_FEED, topic, "sharing", "system", qos=1, stale_after=SHARING_STALE_S
                ),
            )
        )
        self.incident_desk.sharing = self.sharing
        self.sharing.resume()
        return self.sharing

    # -- producers -----------------------------------------------------------------------
    def put(self, item: InboxItem) -> None:
        """Hand over one message or event; safe from any thread, never blocks."""
        with self._queued_lock:
            self._queued += 1
            self._idle.clear()
        self._inbox.put(item)

    def put_many(self, items: Sequence[InboxItem]) -> None:
        """Hand over several items at once."""
        with self._queued_lock:
            self._queued += len(items)
            self._idle.clear()
        for item in items:
            self._inbox.put(item)

    # -- lifecycle -----------------------------------------------------------------------
    def restore_from_cache(self, snapshot: Snapshot | None = None) -> Snapshot:
        """Take over the last known state (read from the cache unless given) so the window
        can show it at once, marked stale."""
        if snapshot is None:
            if self.cache is None:
                return Snapshot(entities=[], latest=[], alarms=[])
            snapshot = self.cache.load_snapshot()
        floor = 0
        if self.cache is not None:
            try:
                floor = self.cache.max_alarm_revision()
            except CacheError as error:
                log.warning("alarm revisions not read from the cache: %s", error)
        self.alarms.restore(snapshot.alarms, snapshot.latest, floor)
        for entity in snapshot.entities:
            entity.stale = True
            entity.worst_severity = self.alarms.worst_active_severity(entity.id)
        self.hub.restore(snapshot.entities, snapshot.latest)
        with self._delta_lock:
            for entity in snapshot.entities:
                self._delta.entities[entity.id] = entity.copy()
            for reading in snapshot.latest:
                self._delta.latest[(reading.entity_id, reading.metric)] = reading
            for alarm in snapshot.alarms:
                self._delta.put_alarm(replace(alarm))
            for area in snapshot.areas:
                self._delta.areas[area.alarm_id] = area
        self._areas.update((area.alarm_id, area) for area in snapshot.areas)
        self._restore_history()
        self._restore_tracks()
        self._restore_raises()
        self.incident_desk.restore(self.clock())
        restored_feeds = self.feeds.copies(set(self.feeds.restore(snapshot.feed_last_message)))
        with self._delta_lock:
            self._delta.feeds.update(restored_feeds)
        log.info(
            "restored %d entities, %d values and %d alarms from the cache",
            len(snapshot.entities),
            len(snapshot.latest),
            len(snapshot.alarms),
        )
        return snapshot

    def _restore_history(self) -> None:
        """The last hour of readings back into the hub's series (for sparklines and trends
        right after a restart), at most :data:`RESTORED_HISTORY_READINGS` of them."""
        if self.cache is None:
            return
        try:
            self.hub.restore_series(
                self.cache.recent_readings(
                    HISTORY_WINDOW_S, RESTORED_HISTORY_READINGS, self.clock()
                )
            )
        except CacheError as error:
            log.warning("recent history not restored from the cache: %s", error)

    def _restore_tracks(self) -> None:
        """The moving entities' tracks of the last hour back into the hub (the map's
        vehicle tracks go on where they were before the restart)."""
        if self.cache is None:
            return
        try:
            tracks = self.cache.positions(self.clock() - TRACK_POINTS * TRACK_SPACING_S)
        except CacheError as error:
            log.warning("vehicle tracks not restored from the cache: %s", error)
            return
        self.hub.restore_tracks(tracks)
        if tracks:
            log.info("restored the tracks of %d moving entities from the cache", len(tracks))

    def _restore_raises(self) -> None:
        """The last day's alarm raises, for the alarm-system KPIs."""
        if self.cache is None:
            return
        try:
            rows = self.cache.query_raises(self.clock() - DAY_S)
        except CacheError as error:
            log.warning("alarm raises not restored from the cache: %s", error)
            return
        raises = []
        for ts, key, severity in rows:
            with contextlib.suppress(ValueError):
                raises.append(Raise(ts, key, Severity(severity)))
        self.statistics.seed(raises)

    def start(self) -> None:
        """Start the worker thread."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="cityops-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> FlushReport:
        """Process everything already queued, write it to the cache and stop the worker;
        returns what (if anything) the cache did not take."""
        thread = self._thread
        if thread is None:
            self.flush_cache(force=True)
            return self.writer.report()
        self._inbox.put(_STOP)
        thread.join(timeout)
        if thread.is_alive():  # it still owns the state: keep treating it as running
            log.error("ingest worker did not stop within %.0f s", timeout)
            with self._queued_lock:
                waiting = self._queued
            return FlushReport(
                self.writer.backlog + waiting, 0, 0, "the ingest worker did not stop in time"
            )
        self._thread = None
        return self.writer.report()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until everything put so far has been processed (for tests and shutdown)."""
        return self._idle.wait(timeout)

    def backlog(self) -> int:
        """About how many items wait in the inbox (messages the worker has not reached)."""
        return self._inbox.qsize()

    # -- consumers -----------------------------------------------------------------------
    def take_delta(self) -> Delta:
        """Everything that changed since the last call, coalesced."""
        with self._delta_lock:
            delta, self._delta = self._delta, Delta()
        return delta

    def acknowledge(
        self, alarm_ids: Iterable[str], who: Principal, note: str = ""
    ) -> PendingAction:
        """Ask the worker to acknowledge alarms as ``who``, with an optional ``note`` (kept
        in the audit trail); safe from any thread, never blocks.

        The acknowledged alarms and an :class:`ActionResult` appear in a later delta, only
        after the cache has committed the action. A person whose role may not acknowledge,
        or a command without the note that ``[alarms] note_required_priority`` asks for, gets
        an error result and nothing changes.
        """
        return self._submit(PendingAction("ack", list(alarm_ids), who, note.strip()))

    def shelve(
        self, alarm_ids: Iterable[str], who: Principal, duration: float | None, note: str = ""
    ) -> PendingAction:
        """Ask the worker to shelve alarms as ``who`` for ``duration`` seconds (None: until
        each clears), with a reason; like :meth:`acknowledge`. A duration longer than an
        alarm's priority allows (:data:`MAX_SHELVE_S_BY_PRIORITY`) is refused whole."""
        return self._submit(PendingAction("shelve", list(alarm_ids), who, note.strip(), duration))

    def unshelve(self, alarm_ids: Iterable[str], who: Principal) -> PendingAction:
        """Ask the worker to end the shelving of alarms as ``who``; like :meth:`acknowledge`."""
        return self._submit(PendingAction("unshelve", list(alarm_ids), who))

    def comment(self, alarm_ids: Iterable[str], who: Principal, text: str) -> PendingAction:
        """Ask the worker to add a comment to alarms as ``who``; like :meth:`acknowledge`."""
        return self._submit(PendingAction("comment", list(alarm_ids), who, text.strip()))

    def assign(
        self, alarm_ids: Iterable[str], who: Principal, assignee: str, note: str = ""
    ) -> PendingAction:
        """Ask the worker to assign alarms to ``assignee`` ("": nobody) as ``who``; like
        :meth:`acknowledge`."""
        return self._submit(
            PendingAction("assign", list(alarm_ids), who, note.strip(), assignee=assignee.strip())
        )

    def remove_from_service(
        self, alarm_ids: Iterable[str], who: Principal, reason: str
    ) -> PendingAction:
        """Ask the worker to take alarms out of service (supervisors), with a reason; like
        :meth:`acknowledge`."""
        return self._submit(PendingAction("out_of_service", list(alarm_ids), who, reason.strip()))

    def return_to_service(self, alarm_ids: Iterable[str], who: Principal) -> PendingAction:
        """Ask the worker to put out-of-service alarms back in service (supervisors)."""
        return self._submit(PendingAction("in_service", list(alarm_ids), who))

    def open_incident(
        self,
        who: Principal,
        title: str,
        priority: int,
        alarm_ids: Iterable[str] = (),
        note: str = "",
        *,
        entity_ids: Iterable[str] = (),
    ) -> IncidentCommand:
        """Ask the worker to open an incident as ``who`` (its owner), linking alarms (and
        their entities) and entities, with a first note; like :meth:`acknowledge`: the new
        incident comes back in ``Delta.incidents`` and its id as the result's ``changed``,
        after the cache has committed it. A refusal (a viewer, no title, a priority not 1 to
        4, an unknown alarm, …) comes back as the result's ``error``."""
        return self._submit(
            IncidentCommand(
                "incident_open",
                who,
                title=title,
                priority=priority,
                alarm_ids=list(alarm_ids),
                entity_ids=list(entity_ids),
                text=note,
            )
        )

    def update_incident(
        self, who: Principal, incident_id: str, **changes: object
    ) -> IncidentCommand:
        """Ask the worker to change an incident's ``title``, ``priority``, ``status`` and/or
        ``owner`` as ``who``; closing it (and reopening a closed one) needs a supervisor.
        ValueError for another field; otherwise like :meth:`open_incident`."""
        fields = update_changes(changes)
        return self._submit(
            IncidentCommand("incident_update", who, incident_id=incident_id, **fields)
        )

    def link_incident(
        self,
        who: Principal,
        incident_id: str,
        alarm_ids: Iterable[str] = (),
        entity_ids: Iterable[str] = (),
    ) -> IncidentCommand:
        """Ask the worker to link more alarms (and their entities) and entities to an
        incident; like :meth:`open_incident`."""
        return self._submit(
            IncidentCommand(
                "incident_link",
                who,
                incident_id=incident_id,
                alarm_ids=list(alarm_ids),
                entity_ids=list(entity_ids),
            )
        )

    def add_incident_note(self, who: Principal, incident_id: str, text: str) -> IncidentCommand:
        """Ask the worker to add a note to an incident; like :meth:`open_incident`."""
        return self._submit(
            IncidentCommand("incident_note", who, incident_id=incident_id, text=text)
        )

    def _publish_incidents(
        self, incidents: Sequence[Incident], result: ActionResult | None
    ) -> None:
        """Put changed incidents and an incident command's result in the delta."""
        with self._delta_lock:
            for incident in incidents:
                self._delta.put_incident(incident)
            if result is not None:
                self._delta.action_results.append(result)

    def _execute(self, command: PendingAction | IncidentCommand) -> None:
        if isinstance(command, IncidentCommand):
            self.incident_desk.run(command, self.clock())
        else:
            self._run_command(command)

    def _submit(self, command: _Command) -> _Command:
        if self._thread is None:
            self._execute(command)
            return command
        with self._queued_lock:
            self._queued += 1
            self._idle.clear()
        self._commands.put(command)
        self._inbox.put(_WAKE)
        return command

    def sync(self, timeout: float = 10.0) -> bool:
        """Write everything processed so far to the cache now (so the acknowledgements of
        QoS 1/2 messages go out), ahead of any backlog; False on time-out or when the cache
        did not take it all."""
        if self._thread is None:
            self.flush_cache(force=True)
            return self.writer.settled
        done = threading.Event()
        with self._queued_lock:
            self._queued += 1
            self._idle.clear()
        self._commands.put(done)
        self._inbox.put(_WAKE)
        return done.wait(timeout) and self.writer.settled

    def add_feed(self, feed: FeedConfig) -> None:
        """Start accepting messages of a feed added at run time (before it is subscribed)."""
        self.put(FeedChange(feed.name, feed))

    def remove_feed(self, name: str) -> None:
        """Forget a feed removed at run time (after it is unsubscribed)."""
        self.put(FeedChange(name, None))

    def set_paused(self, feed: str, *, paused: bool) -> None:
        """Show a feed as paused (or no longer paused); safe from any thread."""
        self.put(FeedPaused(feed, paused))

    # -- worker --------------------------------------------------------------------------
    def _run(self) -> None:
        log.debug("ingest worker started")
        stopping = False
        while not stopping:
            self._run_commands()
            batch: list[InboxItem] = []
            try:
                first = self._inbox.get(timeout=0.1)
            except queue.Empty:
                first = None
            if first is _STOP:
                stopping = True
            elif first is not None and first is not _WAKE:
                batch.append(first)  # type: ignore[arg-type]
            while first is not None and not stopping and len(batch) < self.max_batch:
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                elif item is not _WAKE:
                    batch.append(item)  # type: ignore[arg-type]
            try:
                if stopping:
                    self._run_commands()
                if batch:
                    self._process_safely(batch)
                self.housekeeping()
                self.flush_cache(force=stopping)
            except Exception:  # a bug must not end the only writer: log it and go on
                log.exception("the ingest worker hit an error; it goes on")
            finally:
                if batch:
                    self._mark_done(len(batch))
        log.debug("ingest worker stopped")

    def _process_safely(self, batch: Sequence[InboxItem]) -> None:
        """Process a batch; when it fails, process its items one by one so that only the
        item that fails is lost (dead-lettered, and acknowledged so it is not redelivered
        forever)."""
        counted = self.feeds.counts()
        rejected = self.messages_rejected
        self._batch_letters.clear()
        try:
            self.process_batch(batch)
            return
        except Exception:
            log.exception("ingest batch of %d items failed; retrying them one by one", len(batch))
        # The retry counts every item again and dead-letters the bad ones again.
        self.feeds.restore_counts(counted)
        self.messages_rejected = rejected
        self._withdraw_batch_letters()
        # Alarms the failed attempt changed: the retry will not change them again (their
        # readings are no longer newer), so publish them now.
        self._record_alarm_changes(self.alarms.take_unpublished())
        for item in batch:
            try:
                self.process_batch([item])
            except Exception as error:
                log.exception("ingest failed on an item of feed %r", getattr(item, "feed", "?"))
                if isinstance(item, RawMessage):
                    if self.feeds.config(item.feed) is not None:
                        self._dead_letter(item, f"ingest failed: {type(error).__name__}: {error}")
                    if item.ack is not None:
                        self.writer.add(acks=[item.ack])
        self._record_alarm_changes(self.alarms.take_unpublished())

    def _run_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                if isinstance(command, threading.Event):  # sync(): everything to the cache
                    self.flush_cache(force=True)
                    command.set()
                else:
                    self._execute(command)
            finally:
                self._mark_done(1)

    def _run_command(self, command: PendingAction) -> None:
        """Apply one operator command, store it durably, then publish it in the delta."""
        who = command.who
        ids = list(dict.fromkeys(command.alarm_ids))
        previous = [alarm for alarm in (self.alarms.get(key) for key in ids) if alarm]
        refused = commands.refusal(command, previous, self.config)
        if refused:
            self._finish(command, [], ActionResult(command.action, who.user, error=refused))
            return
        now = self.clock()
        changed = commands.apply(command, self.alarms, ids, now)
        shared = []
        if self.sharing is not None and changed:
            shared = self.sharing.outgoing(
                command.action,
                changed,
                (who.user, who.role.value),
                now,
                note=command.note,
                until=commands.shelve_until(command, now) if command.action == "shelve" else None,
                assignee=command.assignee,
            )
        outbox = self.sharing.outbox_rows(shared) if self.sharing is not None else []
        action_ids = [action.id for action in shared] or [""] * len(changed)
        text = command.assignee if command.action == "assign" else command.note
        try:
            if self.cache is not None and changed:
                self.cache.record_actions(
                    [
                        (
                            OperatorAction(
                                alarm.id,
                                command.action,
                                who.user,
                                now,
                                text,
                                who.workstation,
                                action_id,
                            ),
                            alarm,
                        )
                        for alarm, action_id in zip(changed, action_ids, strict=True)
                    ],
                    outbox,
                )
        except Exception as error:
            self.alarms.rollback(previous)
            self.alarms.take_history()  # never stored: not history
            log.exception("%s by %s could not be stored", command.action, who.user)
            result = ActionResult(command.action, who.user, error=str(error))
        else:
            if self.sharing is not None and shared:  # now in the shared state too
                newer = {alarm.id: alarm for alarm in self.sharing.committed(shared, now)}
                changed = [newer.get(alarm.id, alarm) for alarm in changed]
            done = {alarm.id for alarm in changed}
            result = ActionResult(
                command.action,
                who.user,
                changed=tuple(alarm.id for alarm in changed),
                skipped=tuple(key for key in ids if key not in done),
            )
            self.writer.add(alarms=changed, events=self.alarms.take_history())
            self._refresh_entity_severities(alarm.entity_id for alarm in changed)
            if self.sharing is not None and outbox:
                self.sharing.send(outbox, done)
        self.alarms.take_unpublished()  # published by _finish (or rolled back)
        self._finish(command, changed if not result.error else [], result)

    def _finish(
        self, command: PendingAction, changed: Sequence[Alarm], result: ActionResult
    ) -> None:
        """Publish a command's changed alarms and its result, then release its waiter."""
        with self._delta_lock:
            for alarm in changed:
                self._delta.put_alarm(alarm)
            self._delta.action_results.append(result)
        command.finish(result)

    def _mark_done(self, count: int) -> None:
        with self._queued_lock:
            self._queued -= count
            if self._queued <= 0:
                self._queued = 0
                self._idle.set()

    def process_batch(self, batch: Sequence[InboxItem]) -> None:
        """Decode and apply one batch. Runs on the worker thread (or directly in tests)."""
        readings: list[Reading] = []
        external: list[ExternalAlarm] = []
        changed_entities: dict[str, Entity] = {}
        geofenced: dict[str, Alarm] = {}
        feeds_touched: set[str] = set()
        last_messages: dict[str, float] = {}
        acks: list[Callable[[], None]] = []
        shared: list[RawMessage] = []
        positions: list[PositionRow] = []
        messages = 0
        for item in batch:
            if isinstance(item, ConnectionEvent):
                with self._delta_lock:
                    self._delta.brokers[item.broker] = item.state
                feeds_touched.update(self.feeds.connection(item))
                continue
            if isinstance(item, FeedPaused):
                feeds_touched.update(self.feeds.pause(item))
                continue
            if isinstance(item, FeedChange):
                self._apply_feed_change(item, feeds_touched)
                continue
            if isinstance(item, OutboxSent):
                if self.sharing is not None:
                    self.sharing.sent(item.keys)
                continue
            messages += 1
            if item.ack is not None:
                acks.append(item.ack)
            feed = self.feeds.config(item.feed)
            if feed is None:
                log.warning("message for unknown feed %r on %r dropped", item.feed, item.topic)
                continue
            feeds_touched.add(item.feed)
            if item.feed == SHARING_FEED:
                shared.append(item)
                self.feeds.message(item.feed, item.received_at, [])
                continue
            decoded = self._decode(item, feed)
            if decoded is None:
                continue
            intervals: list[float] = []
            if feed.crs == "gcj02":
                decoded.entities = [to_wgs84(update) for update in decoded.entities]
                for alert in decoded.alarms:
                    if alert.area is not None:
                        alert.area = transform_geojson(alert.area, gcj02_to_wgs84)
            for entity in self.hub.apply_entities(
                decoded.entities,
                item.feed,
                feed.domain,
                item.received_at,
                intervals=intervals,
                positions=positions,
            ):
                changed_entities[entity.id] = entity
            if self.config.geofences:  # every position counts, not only a batch's last
                moved = [changed_entities[update.id] for update in decoded.entities]
                geofenced.update((a.id, a) for a in self.alarms.evaluate_positions(moved))
            readings.extend(decoded.readings)
            external.extend(decoded.alarms)
            self.feeds.message(item.feed, item.received_at, intervals)
            last_messages[item.feed] = max(item.received_at, last_messages.get(item.feed, 0.0))

        fresh = self.hub.apply_readings(readings)
        changed_alarms = self.alarms.evaluate(readings)
        changed_alarms.extend(geofenced.values())
        areas: dict[str, AlertArea | None] = {}
        if external:
            changed_external = self.alarms.apply_external(external)
            changed_alarms.extend(changed_external)
            areas = self._alert_areas(external, changed_external)
        if self.sharing is not None and (shared or changed_alarms):
            changed_alarms = self._merge_shared(shared, changed_alarms)
        for entity_id in {alarm.entity_id for alarm in changed_alarms}:
            recoloured = self.hub.set_worst_severity(
                entity_id, self.alarms.worst_active_severity(entity_id)
            )
            if recoloured is not None:
                changed_entities[entity_id] = recoloured

        entity_copies = {key: entity.copy() for key, entity in changed_entities.items()}
        self.messages_processed += messages
        history = self.alarms.take_history()
        self.writer.add(
            readings,
            entity_copies,
            changed_alarms,
            areas,
            feeds=last_messages,
            acks=acks,
            events=history,
            positions=positions,
        )
        if history:  # every version, so a raise cleared in the same batch still counts
            self.statistics.record(history, self.clock())
        self.alarms.take_unpublished()  # published above
        with self._delta_lock:
            delta = self._delta
            delta.entities.update(entity_copies)
            for reading in fresh:
                delta.latest[(reading.entity_id, reading.metric)] = reading
            for alarm in changed_alarms:
                delta.put_alarm(alarm)
            delta.areas.update(areas)
            for name, health in self.feeds.copies(feeds_touched).items():
                delta.feeds[name] = health
                delta.removed_feeds.discard(name)
            delta.messages += messages

    def _merge_shared(self, shared: Sequence[RawMessage], changed: list[Alarm]) -> list[Alarm]:
        """Merge other workstations' actions (and those waiting for the occurrences just
        raised); audit the new ones; dead-letter what cannot be used. Returns ``changed``
        with the alarms the merge changed (their newest versions)."""
        assert self.sharing is not None
        raised = [alarm for alarm in changed if alarm.state.needs_ack]
        received = self.sharing.receive(
            [(item.topic, item.payload) for item in shared], raised, self.clock()
        )
        for index, reason in received.rejected:
            self._dead_letter(shared[index], reason)
        if received.incidents:
            refused = self.incident_desk.receive([body for _index, body in received.incidents])
            for position, reason in refused:
                self._dead_letter(shared[received.incidents[position][0]], reason)
        if received.audit and self.cache is not None:
            try:
                self.cache.record_actions([(action, None) for action in received.audit])
            except CacheError as error:
                log.error(
                    "%d shared actions not stored in the audit trail: %s",
                    len(received.audit),
                    error,
                )
        if not received.changed:
            return changed
        merged = {alarm.id: alarm for alarm in changed}
        merged.update((alarm.id, alarm) for alarm in received.changed)
        return list(merged.values())

    def _alert_areas(
        self, alerts: Sequence[ExternalAlarm], changed: Sequence[Alarm]
    ) -> dict[str, AlertArea | None]:
        """Map areas of external alarms that changed: kept while the condition lasts (shelved
        or not), removed once it has gone."""
        shapes = {
            alarm_id(alert.entity_id, alert.event, Condition.EXTERNAL): alert
            for alert in alerts
            if alert.area and not alert.cancel
        }
        areas: dict[str, AlertArea | None] = {}
        for alarm in changed:
            alert = shapes.get(alarm.id)
            if not alarm.condition_present:
                areas[alarm.id] = None
                self._areas.pop(alarm.id, None)
            elif alert is not None and alert.area is not None:
                label = alarm.message.split(" | ")[0] or alarm.metric
                area = AlertArea(alarm.id, alarm.severity, label[:200], alert.area)
                self._areas[alarm.id] = area
                areas[alarm.id] = area
        return areas

    def alert_areas(self) -> list[AlertArea]:
        """Areas of the external alarms active now."""
        return list(self._areas.values())

    def _decode(self, item: RawMessage, feed: FeedConfig) -> Decoded | None:
        if len(item.payload) > MAX_PAYLOAD_BYTES:
            self._dead_letter(item, payload_too_large(len(item.payload)))
            return None
        try:
            return get_decoder(feed.format)(item.payload, item.topic, feed, item.received_at)
        except DecodeError as error:
            self._dead_letter(item, str(error))
        except Exception as error:  # a decoder bug must not stop ingestion
            log.exception("decoder %r failed on feed %r", feed.format, item.feed)
            self._dead_letter(item, f"decoder failed: {type(error).__name__}: {error}")
        return None

    def _dead_letter(self, item: RawMessage, reason: str) -> None:
        self.messages_rejected += 1
        letter = self.feeds.rejected(item, reason)
        self._batch_letters.append(letter)
        with self._delta_lock:
            letters = self._delta.dead_letters.setdefault(item.feed, [])
            letters.append(letter)
            if len(letters) > DEAD_LETTERS_PER_FEED:
                del letters[0]

    def _withdraw_batch_letters(self) -> None:
        """Take the dead letters of a failed batch out of the delta (its retry adds them
        again); those the window has taken already stay there."""
        withdrawn = {id(letter) for letter in self._batch_letters}
        self._batch_letters.clear()
        if not withdrawn:
            return
        with self._delta_lock:
            for feed, letters in list(self._delta.dead_letters.items()):
                kept = [letter for letter in letters if id(letter) not in withdrawn]
                if kept:
                    self._delta.dead_letters[feed] = kept
                else:
                    del self._delta.dead_letters[feed]

    def _apply_feed_change(self, change: FeedChange, touched: set[str]) -> None:
        if self.feeds.change(change):
            touched.add(change.name)
            return
        touched.discard(change.name)
        with self._delta_lock:
            self._delta.feeds.pop(change.name, None)
            self._delta.removed_feeds.add(change.name)

    def housekeeping(self, *, force: bool = False) -> None:
        """Once a second (the worker calls it; ``force`` for tests): message rates, stale or
        failing feeds, and the entities whose values are no longer live and fresh (their
        feed is down, paused or stale, or they have not reported within the feed's
        staleness limit)."""
        now_mono = time.monotonic()
        elapsed = now_mono - self._last_housekeeping
        if elapsed < 1.0 and not force:
            return
        elapsed = max(elapsed, 1e-3)
        self._last_housekeeping = now_mono
        now = self.clock()
        changed = self.feeds.tick(now, elapsed)
        if now - self._last_kpis >= KPI_EVERY_S or force:
            self._last_kpis = now
            kpis = self.statistics.kpis(self.alarms.alarms(), now)
            with self._delta_lock:
                self._delta.alarm_kpis = kpis
        gone_stale = self.hub.mark_stale(
            lambda entity: not self.feeds.fresh(entity.feed, entity.updated_at, now)
        )
        if gone_stale:
            with self._delta_lock:
                self._delta.entities.update((entity.id, entity) for entity in gone_stale)
        expired = (
            self.alarms.expire(now)
            + self.alarms.check_silence(now)
            + self.alarms.check_feeds(self.feeds.silences(), self._started_at, now)
            + self.alarms.unshelve_due(now)
        )
        if expired and self.sharing is not None:  # shared actions waiting for these alarms
            settled = {alarm.id: alarm for alarm in self.sharing.book.settle(expired, now)}
            expired = [settled.pop(alarm.id, alarm) for alarm in expired] + list(settled.values())
        if expired:
            self._record_alarm_changes(expired)
            self.alarms.take_unpublished()
        if changed:
            with self._delta_lock:
                self._delta.feeds.update(changed)

    def _record_alarm_changes(self, alarms: Sequence[Alarm]) -> None:
        """Alarms that changed outside a batch: to the cache, the map colours and the UI."""
        self.writer.add(alarms=alarms, events=self.alarms.take_history())
        for alarm in alarms:
            if not alarm.condition_present and self._areas.pop(alarm.id, None) is not None:
                self.writer.add(areas={alarm.id: None})
                with self._delta_lock:
                    self._delta.areas[alarm.id] = None
        with self._delta_lock:
            for alarm in alarms:
                self._delta.put_alarm(alarm)
        self._refresh_entity_severities(alarm.entity_id for alarm in alarms)

    def flush_cache(self, *, force: bool = False) -> None:
        """Write what waits for the cache when due (the worker calls this after each batch)."""
        health = self.writer.flush(force=force)
        if health is not None:
            with self._delta_lock:
                self._delta.cache = health

    def _refresh_entity_severities(self, entity_ids: Iterable[str]) -> None:
        updated = []
        for entity_id in set(entity_ids):
            entity = self.hub.set_worst_severity(
                entity_id, self.alarms.worst_active_severity(entity_id)
            )
            if entity is not None:
                updated.append(entity.copy())
        if updated:
            with self._delta_lock:
                for entity in updated:
                    self._delta.entities[entity.id] = entity


def to_wgs84(update: EntityUpdate) -> EntityUpdate:
    """An entity update from a feed that sends GCJ-02 positions, its position in WGS-84."""
    if update.lat is None or update.lon is None:
        return update
    lat, lon = gcj02_to_wgs84(update.lat, update.lon)
    return replace(update, lat=lat, lon=lon)
