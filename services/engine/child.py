"""The engine process: a :class:`CitySession` (feeds, decoding, state, alarms, the cache)
run in a child of the window's process.

It answers calls from the parent and sends it the pipeline's coalesced delta, one at a
time: the next only after the parent took the last (a credit), so a busy window gets one
larger delta rather than a queue of small ones. See :mod:`services.engine.remote` for the
parent's side and the wire format.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from services.child_logging import LogLine, forward_logging
from services.config import AppConfig
from services.session import CitySession
from services.store.cache import CacheError

log = logging.getLogger(__name__)

DELTA_INTERVAL_S = 0.05
"""How long the engine coalesces changes before it offers the parent the next delta."""
BUSY_DELTA_INTERVAL_S = 0.15
"""The same while the ingest worker is behind (:data:`BUSY_BACKLOG`): each delta costs the
engine's one interpreter time to take and pickle, which ingest needs more then."""
BUSY_BACKLOG = 5_000
"""Messages waiting for the ingest worker (one full batch) that make it behind."""

CALLABLE: dict[str, frozenset[str]] = {
    "session": frozenset(
        {
            "pause_feed",
            "resume_feed",
            "add_feed",
            "remove_feed",
            "broker_names",
            "feed_names",
            "export_csv",
            "ingest_counts",
            "settle",
            "feeds_connected",
        }
    ),
    "pipeline": frozenset(
        {
            "acknowledge",
            "shelve",
            "unshelve",
            "comment",
            "assign",
            "remove_from_service",
            "return_to_service",
            "open_incident",
            "update_incident",
            "link_incident",
            "add_incident_note",
        }
    ),
    "hub": frozenset({"series", "tracks"}),
    "cache": frozenset({"journal", "incident_timeline", "record_sign_in"}),
}
"""What the parent may call in the engine, by the object it belongs to."""


class _Sender:
    """The engine's one pipe to the parent, shared by its threads."""

    def __init__(self, events: Connection) -> None:
        self._events = events
        self._lock = threading.Lock()
        self.gone = False

    def send(self, message: tuple[Any, ...]) -> None:
        with self._lock:
            if self.gone:
                return
            try:
                self._events.send(message)
            except OSError:  # the parent has gone; the command loop sees it and stops
                self.gone = True

    def log(self, line: LogLine) -> None:
        self.send(("log", line))


class _DeltaPump:
    """Offers the pipeline's delta to the parent every :data:`DELTA_INTERVAL_S`, once the
    parent has taken the previous one."""

    def __init__(self, take: Callable[[], Any], busy: Callable[[], bool], sender: _Sender) -> None:
        self._take = take
        self._busy = busy
        self._sender = sender
        self._credit = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cityops-engine-deltas")
        self._thread.daemon = True

    def send_now(self) -> None:
        """Send what changed so far at once (the restored state, at start)."""
        delta = self._take()
        if not delta.is_empty():
            self._sender.send(("delta", pickle.dumps(delta, pickle.HIGHEST_PROTOCOL)))
        else:
            self._credit.set()

    def start(self) -> None:
        self._thread.start()

    def credit(self) -> None:
        """The parent took the last delta."""
        self._credit.set()

    def stop(self) -> None:
        self._stopping.set()
        self._credit.set()
        self._thread.join(5.0)

    def _run(self) -> None:
        sent_at = 0.0
        try:
            while not self._stopping.is_set():
                self._credit.wait()
                # The window took the last delta: the next one as soon as it is due.
                interval = BUSY_DELTA_INTERVAL_S if self._busy() else DELTA_INTERVAL_S
                due = sent_at + interval - time.monotonic()
                if self._stopping.wait(max(due, 0.001)):
                    return
                delta = self._take()
                if delta.is_empty():
                    sent_at = time.monotonic()
                    continue
                self._credit.clear()
                sent_at = time.monotonic()
                self._sender.send(("delta", pickle.dumps(delta, pickle.HIGHEST_PROTOCOL)))
        except Exception:  # the parent must see the engine end (and start another)
            traceback.print_exc()
            os._exit(70)


def _reply(sender: _Sender, call_id: int, outcome: tuple[bool, Any]) -> None:
    try:
        sender.send(("reply", call_id, *outcome))
    except Exception as error:  # a result or an error that does not pickle
        sender.send(("reply", call_id, False, RuntimeError(f"{type(error).__name__}: {error}")))


def _call(
    targets: dict[str, Any], target: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[bool, Any]:
    if method not in CALLABLE.get(target, frozenset()):
        return False, AttributeError(f"the engine has no {target}.{method}")
    try:
        return True, getattr(targets[target], method)(*args, **kwargs)
    except Exception as error:
        log.debug("engine call %s.%s failed: %s", target, method, error)
        return False, error


def engine_main(
    commands: Connection,
    events: Connection,
    *,
    config: AppConfig,
    cache_dir: Path,
    level: int,
) -> None:
    """The engine process: open the cache, start the session, then serve the parent until
    it says stop (or has gone); the last message says what the cache kept."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the app's: it stops us
    sender = _Sender(events)
    forward_logging(sender.log, level)
    try:
        session = CitySession(config, cache_dir)
    except CacheError as error:
        sender.send(("failed", str(error)))
        return
    sender.send(("opened", session.cache.path, session.cache_recovery))
    pipeline = session.pipeline
    pump = _DeltaPump(pipeline.take_delta, lambda: pipeline.backlog() >= BUSY_BACKLOG, sender)
    try:
        session.start()
        pump.send_now()
        sender.send(("started", session.restored_entities, session.broker_labels()))
        pump.start()
        targets = {
            "session": session,
            "pipeline": session.pipeline,
            "hub": session.pipeline.hub,
            "cache": session.cache,
        }
        while True:
            try:
                command = commands.recv()
            except (EOFError, OSError):  # the parent has gone
                log.warning("the window's process has gone; the engine stops")
                break
            kind = command[0]
            if kind == "credit":
                pump.credit()
            elif kind == "call":
                _, call_id, target, method, args, kwargs = command
                outcome = _call(targets, target, method, args, kwargs)
                if call_id is not None:
                    _reply(sender, call_id, outcome)
                elif not outcome[0]:
                    log.error("%s.%s failed: %s", target, method, outcome[1])
            elif kind == "stop":
                break
    finally:
        pump.stop()
        report = session.stop()
        sender.send(("stopped", report))
