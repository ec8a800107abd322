"""The window's side of the engine process (:mod:`services.engine.child`).

Decoding, the state hub, the alarm store and the cache writer together hold the Python
interpreter most of the time at thousands of messages a second; in the window's process
they and the GUI thread take turns with one GIL, and the window stutters. With
``[app] engine_process`` (on by default) they run in a spawned child, and the window's
process only receives one coalesced :class:`~services.model.Delta` per tick.

:class:`EngineSession` offers what the window uses of a :class:`~services.session.CitySession`
(``config``, ``cache``, ``pipeline`` with its commands, ``take_delta`` and ``hub``,
``start``, ``stop``, feed pause/resume/add/remove, ``export_csv``, ``cache_recovery``,
``restored_entities``, ``broker_labels``), so the window works with either.

Wire format (pickled tuples over two one-way pipes):

* parent → engine: ``("call", id, target, method, args, kwargs)`` (``id`` None: no answer
  wanted), ``("credit",)`` once a delta was taken, ``("stop",)``;
* engine → parent: ``("opened", cache path, recovery)`` or ``("failed", text)``,
  ``("delta", pickled Delta)``, ``("started", restored entities, broker labels)``,
  ``("reply", id, ok, value or exception)``, ``("log", LogLine)``, ``("stopped", FlushReport)``.

An engine that dies is reported (every feed it carried DOWN, with its exit code) and
started again, after a longer pause each time one did not last; it restores the last known
state from the cache like a new start.
"""

from __future__ import annotations

import atexit
import dataclasses
import itertools
import logging
import pickle
import threading
from collections.abc import Iterable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from services.auth.roles import Principal
from services.child_process import MAX_RESTART_DELAY_S, RestartBackoff, spawn_child
from services.config import AppConfig, FeedConfig
from services.engine.entry import run_engine
from services.ingest.cache_writer import FlushReport
from services.limits import MAX_HELD_COMMANDS
from services.model import (
    Delta,
    FeedHealth,
    FeedState,
    SignInRecord,
    TimelineEntry,
    TrackPoint,
)
from services.store.cache import FILE_NAME, CacheError
from services.store.recovery import CacheRecovery

log = logging.getLogger(__name__)

OPEN_TIMEOUT_S = 60.0
"""How long the window waits for the engine to open the cache (spawning included)."""
START_TIMEOUT_S = 300.0
"""How long it waits for the engine to restore the last known state and connect."""
CALL_TIMEOUT_S = 30.0
"""How long a call that returns something (a journal, a series) may take."""
STOP_TIMEOUT_S = 60.0
"""How long ``stop`` waits for the engine to store what it holds."""


_RUNNING: set[EngineSession] = set()
"""Engines not stopped yet: stopped at interpreter exit (an engine is not a daemon process,
since it starts its own, so multiprocessing would otherwise wait for it forever)."""


@atexit.register
def _stop_running_engines() -> None:
    for engine in list(_RUNNING):
        log.warning("an engine process was still running at exit; stopping it")
        engine.stop()


class EngineError(RuntimeError):
    """The engine process is not there or did not answer in time."""


class _Call:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False
        self.value: Any = None

    def finish(self, ok: bool, value: Any) -> None:
        self.ok, self.value = ok, value
        self.done.set()


class EngineSession:
    """A :class:`~services.session.CitySession` run in a child process. The constructor only
    spawns it, so the window can be built while the engine opens the cache and restores
    the last known state; :meth:`start` raises :class:`CacheError` as the session's
    constructor would, :meth:`wait_ready` waits for the restored state."""

    def __init__(self, config: AppConfig, cache_dir: Path) -> None:
        self.config = config
        self._cache_dir = cache_dir
        self.cache = RemoteCache(self)
        self.pipeline = RemotePipeline(self)
        self.cache_recovery: CacheRecovery | None = None
        self.restored_entities = 0
        self.restarts = 0
        self._labels: dict[str, str] = {}
        self._send_lock = threading.Lock()
        self._calls: dict[int, _Call] = {}
        self._call_ids = itertools.count()
        self._delta_lock = threading.Lock()
        self._delta: Delta | None = None
        self._feeds: dict[str, FeedHealth] = {}
        self._opened = threading.Event()
        self._started = threading.Event()
        self._stopped = threading.Event()
        self._stopping = threading.Event()
        self._failure = ""
        self._report: FlushReport | None = None
        self._commands: Connection | None = None
        self._held: list[tuple[Any, ...]] = []
        """Commands given while the engine was down, oldest first (under ``_send_lock``)."""
        self._process: Any = None
        self._generation = 0
        self._backoff = RestartBackoff()
        self.cache.path = cache_dir / FILE_NAME
        _RUNNING.add(self)
        self._spawn()

    # -- what the window uses ----------------------------------------------------------------
    def start(self) -> None:
        """Wait until the engine opened the cache; CacheError (and the engine ended) when it
        could not. It goes on restoring and connecting by itself."""
        if not self._opened.wait(OPEN_TIMEOUT_S):
            self._failure = f"the engine process did not open the cache in {OPEN_TIMEOUT_S:g} s"
        if self._failure:
            self.stop()
            raise CacheError(self._failure)

    def wait_ready(self) -> None:
        """Wait until the engine restored the last known state (in the delta waiting) and
        started its feeds."""
        self.start()
        if not self._started.wait(START_TIMEOUT_S):
            raise EngineError(f"the engine process did not start in {START_TIMEOUT_S:g} s")
        self.start()  # it may have ended before it started

    def stop(self) -> FlushReport:
        """Ask the engine to store what it holds and end; returns what it could not store
        (again when called again)."""
        if not self._stopping.is_set():
            self._stopping.set()
            _RUNNING.discard(self)
            if self._send(("stop",)) and not self._stopped.wait(STOP_TIMEOUT_S):
                log.error("the engine process did not stop in %g s", STOP_TIMEOUT_S)
            self._kill()
            if self._report is None:
                self._report = FlushReport(
                    0,
                    0,
                    0,
                    self._failure or "the engine process ended without saying",
                    unknown=True,
                )
        assert self._report is not None
        return self._report

    def take_delta(self) -> Delta:
        """The engine's newest coalesced delta (empty when none came since the last call)."""
        with self._delta_lock:
            delta, self._delta = self._delta, None
        if delta is None:
            return Delta()
        self._send(("credit",))
        with self._delta_lock:  # read by the reading thread when the engine dies
            self._feeds.update(delta.feeds)
            for name in delta.removed_feeds:
                self._feeds.pop(name, None)
        return delta

    def broker_labels(self) -> dict[str, str]:
        """Each broker connection's label (as feed health names it) and its broker's name."""
        return dict(self._labels)

    def pause_feed(self, name: str) -> None:
        self.call("session", "pause_feed", name)

    def resume_feed(self, name: str) -> None:
        self.call("session", "resume_feed", name)

    def add_feed(self, feed: FeedConfig) -> None:
        self.call("session", "add_feed", feed)

    def remove_feed(self, name: str) -> None:
        self.call("session", "remove_feed", name)

    def broker_names(self) -> list[str]:
        names: list[str] = self.call("session", "broker_names")
        return names

    def feed_names(self) -> list[str]:
        names: list[str] = self.call("session", "feed_names")
        return names

    def export_csv(
        self, what: str, path: Path, since: float | None = None, until: float | None = None
    ) -> int:
        """Written by the engine (it owns the cache); returns the rows written."""
        rows: int = self.call("session", "export_csv", what, path, since, until)
        return rows

    def ingest_counts(self) -> dict[str, int | bool]:
        """The engine's counts (see :meth:`CitySession.ingest_counts`)."""
        counts: dict[str, int | bool] = self.call("session", "ingest_counts")
        return counts

    def feeds_connected(self) -> bool:
        connected: bool = self.call("session", "feeds_connected")
        return connected

    def settle(self, timeout: float) -> bool:
        settled: bool = self.call("session", "settle", timeout)
        return settled

    @property
    def pid(self) -> int | None:
        """The engine process's id (None before it was spawned)."""
        process = self._process
        return None if process is None else process.pid

    # -- calls -------------------------------------------------------------------------------
    def call(self, target: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Run ``target.method(*args, **kwargs)`` in the engine and return its result (or
        raise its exception); :class:`EngineError` when the engine is not there."""
        call = _Call()
        call_id = next(self._call_ids)
        self._calls[call_id] = call
        if not self._send(("call", call_id, target, method, args, kwargs)):
            self._calls.pop(call_id, None)
            raise EngineError("the engine process is not running")
        if not call.done.wait(CALL_TIMEOUT_S):
            self._calls.pop(call_id, None)
            raise EngineError(f"the engine did not answer {method} in {CALL_TIMEOUT_S:g} s")
        if call.ok:
            return call.value
        raise call.value

    def command(self, target: str, method: str, *args: Any, **kwargs: Any) -> None:
        """Hand the engine a command whose result comes in a delta. While the engine is
        down (it is restarted) the command is held and given to the next engine, in order;
        only when the window is stopping, or too many are held, is it refused (logged)."""
        message = ("call", None, target, method, args, kwargs)
        with self._send_lock:
            if not self._held and self._send_locked(message):
                return
            if self._stopping.is_set():
                log.error("%s not done: the engine process has stopped", method)
            elif len(self._held) >= MAX_HELD_COMMANDS:
                log.error(
                    "%s not done: the engine process is down and %d commands wait for it",
                    method,
                    len(self._held),
                )
            else:
                self._held.append(message)
                log.warning("%s held until the engine process is back", method)

    def held_commands(self) -> int:
        """Commands waiting for a restarted engine."""
        with self._send_lock:
            return len(self._held)

    def _send(self, message: tuple[Any, ...]) -> bool:
        with self._send_lock:
            return self._send_locked(message)

    def _send_locked(self, message: tuple[Any, ...]) -> bool:
        commands = self._commands
        if commands is None:
            return False
        try:
            commands.send(message)
        except OSError:
            return False
        return True

    def _send_held(self) -> None:
        """Give a new engine the commands held while there was none (its command loop reads
        them once it has restored the state they act on)."""
        with self._send_lock:
            sent = 0
            while self._held and self._send_locked(self._held[0]):
                self._held.pop(0)
                sent += 1
        if sent:
            log.info("%d commands held while the engine process was down handed to it", sent)

    # -- the child ---------------------------------------------------------------------------
    def _spawn(self) -> None:
        self._generation += 1
        child = spawn_child(
            run_engine,
            {
                "config": self.config,
                "cache_dir": self._cache_dir,
                "level": logging.getLogger().getEffectiveLevel(),
            },
            name="cityops-engine",
            daemon=False,  # it starts MQTT receiver processes of its own
        )
        self._backoff.started()
        process = child.process
        with self._send_lock:
            self._commands = child.commands
        self._process = process
        reader = threading.Thread(
            target=self._read,
            args=(child.events, self._generation, process),
            name="cityops-engine-reader",
            daemon=True,
        )
        reader.start()
        log.info("engine process started (pid %s)", process.pid)
        self._send_held()

    def _kill(self) -> None:
        with self._send_lock:
            commands, self._commands = self._commands, None
        if commands is not None:
            commands.close()
        process = self._process
        if process is None:
            return
        process.join(5.0)
        if process.is_alive():
            log.error("the engine process did not end; terminating it")
            process.terminate()
            process.join(5.0)

    def _read(self, events: Connection, generation: int, process: Any) -> None:
        """The reading thread: deltas, replies, log lines, until the engine ends."""
        try:
            while True:
                try:
                    message = events.recv()
                except (EOFError, OSError):
                    break
                try:
                    self._receive(message)
                except Exception:  # one bad message must not end the window's link
                    log.exception("a message from the engine process could not be taken")
                    if isinstance(message, tuple) and message[:1] == ("delta",):
                        # The engine sends the next delta only for a credit.
                        log.error(
                            "the window missed one delta of the engine's changes: what "
                            "changed in it shows its earlier state until it changes again"
                        )
                        self._send(("credit",))
        finally:
            events.close()
        for call_id in list(self._calls):
            call = self._calls.pop(call_id, None)
            if call is not None:
                call.finish(False, EngineError("the engine process ended"))
        if self._stopping.is_set() or generation != self._generation:
            self._stopped.set()
            return
        process.join(5.0)
        if not self._started.is_set():  # it never got going (or could not open the cache)
            if not self._failure:
                self._failure = (
                    f"the engine process ended before it started (exit code {process.exitcode})"
                )
            self._opened.set()
            self._started.set()
            self._stopped.set()
            return
        self._engine_died(generation, process.exitcode)

    def _receive(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "delta":
            delta = pickle.loads(message[1])  # here, not on the GUI thread
            with self._delta_lock:
                self._delta = delta
        elif kind == "reply":
            call = self._calls.pop(message[1], None)
            if call is not None:
                call.finish(message[2], message[3])
        elif kind == "log":
            message[1].log_here()
        elif kind == "opened":
            self.cache.path = message[1]
            self.cache_recovery = message[2]
            self._opened.set()
        elif kind == "failed":
            self._failure = message[1]
            if self._opened.is_set():  # a restarted engine
                log.error("the engine process could not open the cache: %s", message[1])
            self._opened.set()
        elif kind == "started":
            self.restored_entities = message[1]
            self._labels = dict(message[2])
            self._started.set()
        elif kind == "stopped":
            self._report = message[1]
            self._stopped.set()

    def _engine_died(self, generation: int, exit_code: int | None) -> None:
        """Show every feed DOWN with the reason, then start another engine, waiting longer
        after each one that did not last."""
        delay = self._backoff.ended()
        detail = f"the engine process ended (exit code {exit_code}); restarting in {delay:g} s"
        log.error("%s", detail)
        with self._delta_lock:
            delta = self._delta if self._delta is not None else Delta()
            for name, health in self._feeds.items():
                delta.feeds[name] = dataclasses.replace(health, state=FeedState.DOWN, detail=detail)
            for label in self._labels:
                delta.brokers[label] = FeedState.DOWN
            self._delta = delta
        while not self._stopping.wait(delay):
            if generation != self._generation:
                return
            try:
                self._spawn()
            except Exception:
                log.exception("the engine process did not start")
                delay = MAX_RESTART_DELAY_S
                continue
            self.restarts += 1
            return


class RemoteCache:
    """The offline cache as the window reads it: through the engine, which owns it. An
    engine that is not there reads as a cache that cannot be read (:class:`CacheError`)."""

    def __init__(self, engine: EngineSession) -> None:
        self._engine = engine
        self.path = Path()

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return self._engine.call("cache", method, *args)
        except EngineError as error:
            raise CacheError(f"the offline cache is not reachable: {error}") from error

    def journal(self, since: float, until: float, *args: Any) -> list[TimelineEntry]:
        entries: list[TimelineEntry] = self._call("journal", since, until, *args)
        return entries

    def incident_timeline(self, incident_id: str, *args: Any) -> list[TimelineEntry]:
        entries: list[TimelineEntry] = self._call("incident_timeline", incident_id, *args)
        return entries

    def record_sign_in(self, record: SignInRecord) -> None:
        self._call("record_sign_in", record)


class RemoteHub:
    """The state hub's series and tracks, read in the engine."""

    def __init__(self, engine: EngineSession) -> None:
        self._engine = engine

    def series(self, entity_id: str, metric: str) -> list[tuple[float, float]]:
        try:
            points: list[tuple[float, float]] = self._engine.call(
                "hub", "series", entity_id, metric
            )
        except EngineError as error:
            log.warning("history of %s %s not read: %s", entity_id, metric, error)
            return []
        return points

    def tracks(self, since: float) -> dict[str, list[TrackPoint]]:
        try:
            tracks: dict[str, list[TrackPoint]] = self._engine.call("hub", "tracks", since)
        except EngineError as error:
            log.warning("tracks not read: %s", error)
            return {}
        return tracks


class RemotePipeline:
    """The ingest pipeline's commands, handed to the engine (their results come in deltas
    as they do in-process)."""

    def __init__(self, engine: EngineSession) -> None:
        self._engine = engine
        self.hub = RemoteHub(engine)
        self.cache = engine.cache

    def take_delta(self) -> Delta:
        return self._engine.take_delta()

    def acknowledge(self, alarm_ids: Iterable[str], who: Principal, note: str = "") -> None:
        self._engine.command("pipeline", "acknowledge", list(alarm_ids), who, note)

    def shelve(
        self, alarm_ids: Iterable[str], who: Principal, duration: float | None, note: str = ""
    ) -> None:
        self._engine.command("pipeline", "shelve", list(alarm_ids), who, duration, note)

    def unshelve(self, alarm_ids: Iterable[str], who: Principal) -> None:
        self._engine.command("pipeline", "unshelve", list(alarm_ids), who)

    def comment(self, alarm_ids: Iterable[str], who: Principal, text: str) -> None:
        self._engine.command("pipeline", "comment", list(alarm_ids), who, text)

    def assign(self, alarm_ids: Iterable[str], who: Principal, person: str) -> None:
        self._engine.command("pipeline", "assign", list(alarm_ids), who, person)

    def remove_from_service(self, alarm_ids: Iterable[str], who: Principal, note: str) -> None:
        self._engine.command("pipeline", "remove_from_service", list(alarm_ids), who, note)

    def return_to_service(self, alarm_ids: Iterable[str], who: Principal) -> None:
        self._engine.command("pipeline", "return_to_service", list(alarm_ids), who)

    def open_incident(self, who: Principal, *args: Any) -> None:
        self._engine.command("pipeline", "open_incident", who, *args)

    def update_incident(self, who: Principal, incident_id: str, **changes: Any) -> None:
        self._engine.command("pipeline", "update_incident", who, incident_id, **changes)

    def link_incident(self, who: Principal, incident_id: str, *args: Any) -> None:
        self._engine.command("pipeline", "link_incident", who, incident_id, *args)

    def add_incident_note(self, who: Principal, incident_id: str, text: str) -> None:
        self._engine.command("pipeline", "add_incident_note", who, incident_id, text)
