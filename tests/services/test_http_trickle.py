"""An HTTP feed whose server trickles its response, a byte a second, fails within its budget
(3x ``timeout`` for the whole response, headers included), is shown as failing, and is
polled again afterwards; against a real local TCP server that writes HTTP by hand."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from services.config import FeedConfig, HttpSettings
from services.feeds.http.poller import RESPONSE_DEADLINE_FACTOR, HttpFeedPoller
from services.messages import ConnectionEvent, InboxItem, RawMessage
from services.model import FeedState
from tests.helpers.polling import wait_for

TIMEOUT = 1.5
"""The feed's ``timeout``: longer than the trickle's pause, so no single read times out."""
BUDGET = TIMEOUT * RESPONSE_DEADLINE_FACTOR
TRICKLE_PAUSE = 1.0
"""Seconds between two bytes of a trickling response."""
MARGIN = 0.5
BODY = b'{"id": "aq-1", "pm25": 12}'


class TrickleServer(socketserver.ThreadingTCPServer):
    """Answers every GET as ``mode`` says: "headers" sends the status line, then header bytes
    one at a time, forever; "body" sends whole headers, then the body a byte at a time;
    "ok" answers at once. Notes when each request arrived."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), TrickleHandler)
        self.mode = "headers"
        self.arrivals: list[float] = []
        self.closing = threading.Event()
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/air"

    def close(self) -> None:
        self.closing.set()
        self.shutdown()
        self.server_close()


class TrickleHandler(socketserver.BaseRequestHandler):
    server: TrickleServer
    request: socket.socket

    def handle(self) -> None:
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            received += chunk
        self.server.arrivals.append(time.monotonic())
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(BODY)}"
        try:
            if self.server.mode == "ok":
                self.request.sendall(f"{head}\r\n\r\n".encode() + BODY)
            elif self.server.mode == "headers":
                self.request.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                self._trickle(b"a" * 100_000)
            else:
                self.request.sendall(f"{head}\r\n\r\n".encode())
                self._trickle(BODY)
        except OSError:
            pass  # the client cut the request off

    def _trickle(self, data: bytes) -> None:
        for index in range(len(data)):
            if self.server.closing.wait(TRICKLE_PAUSE):
                return
            self.request.sendall(data[index : index + 1])


class Sink:
    """Everything the poller hands over, in order (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[tuple[float, InboxItem]] = []

    def __call__(self, item: InboxItem) -> None:
        with self._lock:
            self._items.append((time.monotonic(), item))

    def events(self) -> list[tuple[float, ConnectionEvent]]:
        with self._lock:
            return [(at, i) for at, i in self._items if isinstance(i, ConnectionEvent)]

    def failing(self) -> list[tuple[float, ConnectionEvent]]:
        return [(at, e) for at, e in self.events() if e.state is FeedState.FAILING]

    def messages(self) -> list[RawMessage]:
        with self._lock:
            return [i for _at, i in self._items if isinstance(i, RawMessage)]


@pytest.fixture
def server() -> Iterator[TrickleServer]:
    started = TrickleServer()
    yield started
    started.close()


@contextmanager
def polling(server: TrickleServer, mode: str) -> Iterator[Sink]:
    """Poll the server (answering as ``mode`` says) every second for the block."""
    server.mode = mode
    sink = Sink()
    settings = HttpSettings(url=server.url, interval=1.0, timeout=TIMEOUT, retries=2)
    poller = HttpFeedPoller([FeedConfig(name="air", kind="http", broker="", http=settings)], sink)
    poller.start()
    try:
        yield sink
    finally:
        poller.stop()


def first_failure(server: TrickleServer, sink: Sink) -> tuple[float, str]:
    """Seconds from the first request's arrival to the feed's FAILING event, and its detail."""
    wait_for(sink.failing, timeout=4 * BUDGET, what="the feed shown as failing")
    failed_at, event = sink.failing()[0]
    return failed_at - server.arrivals[0], event.detail


@pytest.mark.parametrize("mode", ["headers", "body"])
def test_a_trickling_response_fails_and_polling_goes_on(server: TrickleServer, mode: str) -> None:
    with polling(server, mode) as sink:
        _elapsed, detail = first_failure(server, sink)
        assert detail == f"timed out: no complete response within {BUDGET:g} s"
        assert len(server.arrivals) == 1, "a trickle is not retried within the same poll"
        assert sink.messages() == []

        wait_for(lambda: len(server.arrivals) >= 2, what="the next poll")
        server.mode = "ok"
        wait_for(sink.messages, timeout=4 * BUDGET, what="a message once it answers")
        wait_for(lambda: sink.events()[-1][1].state is FeedState.CONNECTED, what="shown as healthy")
        assert sink.messages()[0].payload == BODY


@pytest.mark.perf
@pytest.mark.parametrize("mode", ["headers", "body"])
def test_a_trickling_response_fails_within_three_timeouts(server: TrickleServer, mode: str) -> None:
    with polling(server, mode) as sink:
        elapsed, _detail = first_failure(server, sink)
    print(f"{mode} trickle: FAILING {elapsed:.2f} s after the request (budget {BUDGET:g} s)")
    assert BUDGET - MARGIN <= elapsed <= BUDGET + MARGIN
