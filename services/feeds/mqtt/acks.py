"""How the ingest worker's acknowledgements reach the MQTT network thread.

A QoS 1/2 message on a persistent session is acknowledged to the broker only after the
cache has committed it: each :class:`~services.messages.RawMessage` carries an ``ack``
that queues the packet id here (from the ingest worker's thread) and wakes the network
thread, which sends it on the connection the message came on — or drops it when that
connection has ended (the broker sends the message again).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import socket
import threading
from collections import deque
from collections.abc import Callable

import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)

AckEntry = tuple[int, int, int]
"""(connection number, packet id, QoS) of a message waiting to be acknowledged."""


class PendingAck:
    """The acknowledgement of one QoS 1/2 message, queued once every feed it was handed to
    (one RawMessage each) has called its own ``ack``; repeated calls count once."""

    __slots__ = ("_entry", "_lock", "_queue", "_waiting")

    def __init__(self, queue: Callable[[AckEntry], None], entry: AckEntry, parts: int) -> None:
        self._queue = queue
        self._entry = entry
        self._waiting = set(range(parts))
        self._lock = threading.Lock()

    def handles(self) -> list[Callable[[], None]]:
        """One ``RawMessage.ack`` per part."""
        return [functools.partial(self._done, part) for part in sorted(self._waiting)]

    def _done(self, part: int) -> None:
        with self._lock:
            if part not in self._waiting:
                return
            self._waiting.discard(part)
            if self._waiting:
                return
        self._queue(self._entry)


class Wakeup:
    """A socket pair whose reading end the network thread selects on, so that any thread
    can interrupt its wait (acknowledgements, feed changes, stop)."""

    def __init__(self) -> None:
        self._pending = False
        self._reader: socket.socket | None = None
        self._writer: socket.socket | None = None

    @property
    def reader(self) -> socket.socket | None:
        """The end to select on (None while closed)."""
        return self._reader

    def open(self) -> None:
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._pending = False

    def close(self) -> None:
        reader, writer = self._reader, self._writer
        self._reader = self._writer = None
        for end in (writer, reader):
            if end is not None:
                end.close()

    def wake(self) -> None:
        """Interrupt the network thread's wait (cheap; any thread)."""
        if self._pending:
            return
        self._pending = True
        writer = self._writer
        if writer is not None:
            # OSError: the buffer is full (it is awake anyway) or closed (it has stopped)
            with contextlib.suppress(OSError):
                writer.send(b"\0")

    def drain(self) -> None:
        """Empty the socket (network thread); a wake-up from then on sends a new byte."""
        reader = self._reader
        if reader is None:
            return
        try:
            while reader.recv(4096):
                pass
        except OSError:  # BlockingIOError: drained
            pass
        self._pending = False


class AckQueue:
    """Acknowledgements waiting for the network thread, tagged with their connection."""

    def __init__(self, wake: Callable[[], None], label: str) -> None:
        self._entries: deque[AckEntry] = deque()
        self._wake = wake
        self._label = label

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, entry: AckEntry) -> None:
        """Queue an acknowledgement (any thread) and wake the network thread."""
        self._entries.append(entry)
        self._wake()

    def handles(self, entry: AckEntry, parts: int) -> list[Callable[[], None]]:
        """The ``ack`` callables of a message handed to ``parts`` feeds."""
        return PendingAck(self.put, entry, parts).handles()

    def send(self, client: mqtt.Client, connection: int, connected: bool) -> None:
        """Send what is queued for ``connection`` (network thread); drop the rest."""
        stale = 0
        while self._entries:
            queued_on, mid, qos = self._entries.popleft()
            if queued_on != connection or not connected:
                stale += 1
                continue
            client.ack(mid, qos)
        if stale:
            log.debug(
                "%d acknowledgements for an earlier connection to %s dropped", stale, self._label
            )

    def drop(self) -> None:
        """Forget what is queued: the connection ended, the broker sends those again."""
        if self._entries:
            log.debug(
                "%d acknowledgements for the ended connection to %s dropped (redelivered)",
                len(self._entries),
                self._label,
            )
            self._entries.clear()
