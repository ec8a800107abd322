"""A broker's subscriptions received in a child process of their own.

Receiving MQTT costs Python time for every message (paho reads and parses each packet,
matches its topic against the feeds' filters and builds a :class:`RawMessage`). In the
app's own process that time competes for the GIL with the ingest worker and the GUI: at
tens of thousands of messages a second the network thread stops reading in time and the
broker drops QoS 0 messages for a slow subscriber. :class:`MqttFeedProcess` runs the very
same :class:`~services.feeds.mqtt.client.MqttFeedClient` (connecting, retrying,
subscriptions, keep-alive, manual acknowledgements) in a spawned child process and hands
its messages and connection events to the sink in batches, so the app's process only
builds the messages it is given.

How it behaves
--------------
* The public API is :class:`MqttFeedClient`'s (``start``, ``stop``, ``add_feed``,
  ``remove_feed``, ``pause_feed``, ``resume_feed``, ``connected``, ``feeds``, ``paused``,
  ``label``, ``broker``). Feed changes are checked here (the same checks, raising the same
  errors) and then sent to the child.
* **Batches**: the child collects what its network thread produces for up to
  :data:`BATCH_WAIT_S` and sends it as one pickled list of plain tuples; the reading
  thread here (``cityops-mqtt-<broker>``) turns them into :class:`RawMessage` items and
  hands them on with one ``sink_many`` call.
* **Back-pressure**: at most :data:`~services.limits.MQTT_PROCESS_BACKLOG` messages wait in
  the child; beyond it its network thread waits, so the broker's own flow control applies
  (as it does when the in-process thread is busy), and the child's memory stays bounded.
* **Acknowledgements** (QoS 1/2 on persistent sessions): each message's ``ack`` here queues
  its token; they go to the child in batches (within :data:`BATCH_WAIT_S`), where the
  message's own ``ack`` queues the packet id as before. Acknowledgements for a child that
  has since ended are dropped: the broker sends those messages again.
* **Logging**: the child's log records are sent here and logged under their own logger
  names, so the app's log shows them as if the client ran in-process.
* **A child that dies** (killed, out of memory, a failure of its own that it cannot
  survive) is reported as a DOWN event for the broker's feeds naming its exit code, and a
  new one is started after a pause, longer after each child that did not last
  (:class:`~services.child_process.RestartBackoff`); ``restarts`` counts them.
* The child is *spawned* (a fresh interpreter: forking a process that runs Qt's threads is
  unsafe), so a script that starts a session itself needs the usual
  ``if __name__ == "__main__":`` guard; ``cityops`` and ``python -m ui.app`` have it.
* ``stop()`` sends the queued acknowledgements, asks the child to disconnect cleanly
  (what it still holds is handed over first), and waits for it.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from services.child_logging import LogLine, forward_logging
from services.child_process import MAX_RESTART_DELAY_S, RestartBackoff, spawn_child
from services.config import BrokerConfig, FeedConfig
from services.feeds.mqtt.client import MqttFeedClient
from services.feeds.mqtt.feed_set import BrokerFeeds
from services.limits import MQTT_PROCESS_BACKLOG
from services.messages import ConnectionEvent, InboxItem, RawMessage
from services.model import FeedState

log = logging.getLogger(__name__)

BATCH_WAIT_S = 0.002
"""How long the first message of a batch (or an acknowledgement) waits for others."""
IDLE_POLL_S = 0.05
"""How often an idle child looks whether its connection state changed."""
STOP_GRACE_S = 5.0
"""How long ``stop`` waits for the child beyond its client's own timeout."""


MessageTuple = tuple[str, str, bytes, float, bool, int]
"""A message on the wire: feed, topic, payload, received at, retained, ack token (-1: none)."""


class MqttFeedProcess(BrokerFeeds):
    """One broker connection carrying every feed configured for it, in a child process."""

    def __init__(
        self,
        broker: BrokerConfig,
        feeds: Sequence[FeedConfig],
        sink: Callable[[InboxItem], None],
        sink_many: Callable[[Sequence[InboxItem]], None] | None = None,
    ) -> None:
        super().__init__(broker, feeds)
        self._sink = sink
        self._sink_many = sink_many
        self.restarts = 0
        self._backoff = RestartBackoff()
        self._connected = False
        self._started = False
        self._stopping = threading.Event()
        self._generation = 0
        self._process: Any = None
        self._commands: Connection | None = None
        self._send_lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._acks: list[tuple[int, int]] = []
        self._acks_lock = threading.Lock()
        self._acks_waiting = threading.Event()
        self._ack_thread: threading.Thread | None = None

    # -- the client's API ------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """True while the child's client has a connection the broker accepted."""
        return self._connected

    @property
    def pid(self) -> int | None:
        """The child's process id (None before start or after stop)."""
        process = self._process
        return None if process is None else process.pid

    def start(self) -> None:
        """Start the child, which connects in the background."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self._stopping.clear()
            try:
                self._spawn()
            except Exception:
                self._started = False
                raise
            self._ack_thread = threading.Thread(
                target=self._send_acks_loop, name=f"cityops-mqtt-acks-{self.broker.name}"
            )
            self._ack_thread.daemon = True
            self._ack_thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Send what is acknowledged, disconnect cleanly, and wait for the child to end."""
        with self._lock:
            if not self._started:
                return
            self._started = False
            self._stopping.set()
            process, reader, ack_thread = self._process, self._reader, self._ack_thread
        self._acks_waiting.set()
        if ack_thread is not None:
            ack_thread.join(timeout)
        self._flush_acks()
        self._command(("stop", timeout))
        if reader is not None:
            reader.join(timeout + STOP_GRACE_S)
            if reader.is_alive():
                log.warning("the MQTT process for %s did not stop in time", self.label)
        if process is not None:
            process.join(STOP_GRACE_S)
            if process.is_alive():
                process.terminate()
                process.join(STOP_GRACE_S)
        with self._lock:
            self._process = None
            self._close_commands()
        self._connected = False

    def add_feed(self, feed: FeedConfig) -> None:
        """Subscribe a new feed now (or at the next connect); ValueError for a bad feed."""
        with self._lock:
            self._check_new_feed(feed)
            self._feeds[feed.name] = feed
            self._command(("add", feed))

    def remove_feed(self, name: str) -> None:
        """Unsubscribe a feed and forget it; KeyError for an unknown name."""
        with self._lock:
            self._require(name)
            del self._feeds[name]
            self._paused.discard(name)
            self._command(("remove", name))

    def pause_feed(self, name: str) -> None:
        """Stop a feed's messages (unsubscribe) but keep its configuration."""
        with self._lock:
            self._require(name)
            self._paused.add(name)
            self._command(("pause", name))

    def resume_feed(self, name: str) -> None:
        """Subscribe a paused feed again."""
        with self._lock:
            self._require(name)
            self._paused.discard(name)
            self._command(("resume", name))

    # -- the child -------------------------------------------------------------------------
    def _spawn(self) -> None:
        """Start a child with the current feeds (caller holds the lock)."""
        self._generation += 1
        child = spawn_child(
            child_main,
            {
                "broker": self.broker,
                "feeds": tuple(self._feeds.values()),
                "paused": frozenset(self._paused),
                "level": logging.getLogger().getEffectiveLevel(),
                "generation": self._generation,
            },
            name=f"cityops-mqtt-{self.broker.name}",
            daemon=True,
        )
        self._backoff.started()
        process = child.process
        self._close_commands()
        self._process = process
        self._commands = child.commands
        self._reader = threading.Thread(
            target=self._read,
            args=(child.events, self._generation, process),
            name=f"cityops-mqtt-{self.broker.name}",
            daemon=True,
        )
        self._reader.start()
        log.debug("MQTT process for %s started (pid %s)", self.label, process.pid)

    def _close_commands(self) -> None:
        commands, self._commands = self._commands, None
        if commands is not None:
            with self._send_lock:
                commands.close()

    def _command(self, command: tuple[Any, ...]) -> None:
        with self._send_lock:
            commands = self._commands
            if commands is None:
                return
            try:
                commands.send(command)
            except OSError:  # the child has gone; its reader reports and restarts it
                log.debug("MQTT process for %s gone; %s not sent", self.label, command[0])

    def _read(self, data: Connection, generation: int, process: Any) -> None:
        """The reading thread: hand what the child sends to the sink until it ends."""
        try:
            while True:
                try:
                    message = data.recv()
                except (EOFError, OSError):
                    break
                current = generation == self._generation
                if message[0] == "items":
                    if current:
                        self._connected = bool(message[2])
                    try:
                        self._hand_on(message[1], generation)
                    except Exception:  # a bad item must not end the feed silently
                        log.exception("MQTT items from %s could not be handed on", self.label)
                elif message[0] == "stopped":
                    break
        finally:
            data.close()
            if generation == self._generation:
                self._connected = False
        if self._stopping.is_set() or generation != self._generation:
            return
        process.join(STOP_GRACE_S)
        self._child_died(generation, process.exitcode)

    def _hand_on(self, entries: list[Any], generation: int) -> None:
        items: list[InboxItem] = []
        ack = self._ack
        for entry in entries:
            if type(entry) is tuple:
                feed, topic, payload, received_at, retained, token = entry
                handle = None if token < 0 else functools.partial(ack, generation, token)
                items.append(RawMessage(feed, topic, payload, received_at, retained, handle))
            elif isinstance(entry, LogLine):
                entry.log_here()
            else:
                items.append(entry)
        if not items:
            return
        if self._sink_many is not None:
            self._sink_many(items)
        else:
            for item in items:
                self._sink(item)

    def _child_died(self, generation: int, exit_code: int | None) -> None:
        """Report the child's end and start another, waiting longer after each child that
        did not last (a crash loop must not spin)."""
        delay = self._backoff.ended()
        detail = (
            f"the MQTT receiver process ended (exit code {exit_code}); restarting in {delay:g} s"
        )
        log.error("broker %s: %s", self.label, detail)
        self._sink(ConnectionEvent(self.label, FeedState.DOWN, self._active_feed_names(), detail))
        while not self._stopping.wait(delay):
            with self._lock:
                if not self._started or generation != self._generation:
                    return
                try:
                    self._spawn()
                except Exception:  # no process could be started: try again later
                    log.exception("the MQTT receiver process for %s did not start", self.label)
                    delay = MAX_RESTART_DELAY_S
                    continue
                self.restarts += 1
                return

    # -- acknowledgements ------------------------------------------------------------------
    def _ack(self, generation: int, token: int) -> None:
        """A message's ``ack`` (the ingest worker): queue its token for the child."""
        with self._acks_lock:
            self._acks.append((generation, token))
        if not self._acks_waiting.is_set():
            self._acks_waiting.set()

    def _send_acks_loop(self) -> None:
        while not self._stopping.is_set():
            if not self._acks_waiting.wait(0.5):
                continue
            time.sleep(BATCH_WAIT_S)
            self._acks_waiting.clear()
            self._flush_acks()

    def _flush_acks(self) -> None:
        with self._acks_lock:
            queued, self._acks = self._acks, []
        current = self._generation
        tokens = [token for generation, token in queued if generation == current]
        if len(tokens) < len(queued):
            log.debug(
                "%d acknowledgements for an ended MQTT process of %s dropped (redelivered)",
                len(queued) - len(tokens),
                self.label,
            )
        if tokens:  # tagged: a child started meanwhile takes none of another's
            self._command(("acks", current, tokens))


# -- in the child process ----------------------------------------------------------------


class _Outbox:
    """What the child's network thread produces, sent to the parent in batches by a thread
    of its own; each message's ``ack`` kept under a token the parent sends back."""

    def __init__(self, data: Connection) -> None:
        self._data = data
        self._ready = threading.Condition(threading.RLock())
        self._entries: list[Any] = []
        self._waiting_messages = 0
        self._acks: dict[int, Callable[[], None]] = {}
        self._next_token = 0
        self._closing = False
        self.connected: Callable[[], bool] = lambda: False
        self._thread = threading.Thread(target=self._run, name="cityops-mqtt-outbox")
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def put(self, item: InboxItem) -> None:
        """The client's sink (its network thread); waits while the backlog is full."""
        if isinstance(item, RawMessage):
            token = -1
            if item.ack is not None:
                token = self._next_token
                self._next_token += 1
                self._acks[token] = item.ack
            entry: Any = (
                item.feed,
                item.topic,
                item.payload,
                item.received_at,
                item.retained,
                token,
            )
            with self._ready:
                while self._waiting_messages >= MQTT_PROCESS_BACKLOG and not self._closing:
                    self._ready.wait(0.1)
                self._waiting_messages += 1
                self._add(entry)
        else:
            with self._ready:
                self._add(item)

    def log(self, line: LogLine) -> None:
        with self._ready:
            self._add(line)

    def _add(self, entry: Any) -> None:
        self._entries.append(entry)
        if len(self._entries) == 1:
            self._ready.notify_all()

    def acknowledge(self, tokens: Sequence[int]) -> None:
        """The parent's acknowledgements: each message's own ``ack``."""
        for token in tokens:
            ack = self._acks.pop(token, None)
            if ack is not None:
                ack()

    def close(self, timeout: float) -> None:
        """Send what is left, then say "stopped"."""
        with self._ready:
            self._closing = True
            self._ready.notify_all()
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self._send_until_closed()
        except Exception:  # the parent must see this child end (and start another)
            traceback.print_exc()
            os._exit(70)

    def _send_until_closed(self) -> None:
        was_connected: bool | None = None
        while True:
            with self._ready:
                if not self._entries and not self._closing:
                    self._ready.wait(IDLE_POLL_S)
                closing = self._closing
            if self._entries and not closing:
                time.sleep(BATCH_WAIT_S)
            with self._ready:
                entries, self._entries = self._entries, []
                self._waiting_messages = 0
                self._ready.notify_all()
            connected = self.connected()
            try:
                if entries or connected != was_connected:
                    self._data.send(("items", entries, connected))
                    was_connected = connected
                if closing:
                    self._data.send(("stopped",))
                    return
            except OSError:  # the parent has gone: let a waiting network thread go too
                with self._ready:
                    self._closing = True
                    self._ready.notify_all()
                return


def child_main(
    commands: Connection,
    data: Connection,
    *,
    broker: BrokerConfig,
    feeds: tuple[FeedConfig, ...],
    paused: frozenset[str],
    level: int,
    generation: int = 0,
) -> None:
    """The child process: one client, its batches out on ``data``, commands in on
    ``commands`` until told to stop (or the parent has gone)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the app's: it stops us
    outbox = _Outbox(data)
    forward_logging(outbox.log, level)
    client = MqttFeedClient(broker, feeds, outbox.put)
    for name in paused:
        client.pause_feed(name)
    outbox.connected = lambda: client.connected
    outbox.start()
    client.start()
    timeout = 10.0
    try:
        while True:
            try:
                command = commands.recv()
            except (EOFError, OSError):  # the parent has gone
                break
            name = command[0]
            if name == "acks":
                if command[1] == generation:
                    outbox.acknowledge(command[2])
            elif name == "stop":
                timeout = float(command[1])
                break
            else:
                _change_feeds(client, name, command[1])
    finally:
        client.stop(timeout)
        outbox.close(timeout)


def _change_feeds(client: MqttFeedClient, name: str, argument: Any) -> None:
    try:
        if name == "add":
            client.add_feed(argument)
        elif name == "remove":
            client.remove_feed(argument)
        elif name == "pause":
            client.pause_feed(argument)
        elif name == "resume":
            client.resume_feed(argument)
        else:
            log.error("unknown command %r for the MQTT process", name)
    except (KeyError, ValueError) as error:  # checked by the parent already
        log.error("feed change %s %r refused: %s", name, argument, error)
