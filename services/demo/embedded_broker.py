"""A small MQTT broker (amqtt) running in a background thread, for the demo and tests.

The broker listens on loopback only, allows anonymous clients, publishes no ``$SYS``
topics and writes no files. It runs its own asyncio event loop in a daemon thread so
that callers (Qt or plain Python) never have to deal with asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
import warnings
from typing import Any

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
"""The embedded broker listens on the loopback interface only."""

# amqtt and the state machine library it uses log every packet and state change at INFO
# or DEBUG; keep them quiet unless someone explicitly configured them.
for _name in ("amqtt", "transitions"):
    if logging.getLogger(_name).level == logging.NOTSET:
        logging.getLogger(_name).setLevel(logging.WARNING)


class _DropProbeNoise(logging.Filter):
    """Drop amqtt's complaints about connections that close before sending anything.

    Readiness checks (``socket.create_connection`` and close) do exactly that.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (
            message.startswith("No data from")
            or message.startswith("Failed to initialize client session: No data")
        )


logging.getLogger("amqtt.broker").addFilter(_DropProbeNoise())

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from amqtt.broker import Broker

_ANONYMOUS_PLUGIN = "amqtt.plugins.authentication.AnonymousAuthPlugin"
_SHUTDOWN_TIMEOUT = 5.0
_BIND_ATTEMPTS = 5


class EmbeddedBrokerError(RuntimeError):
    """The embedded broker could not be started."""


class _QuietBroker(Broker):  # type: ignore[misc]
    """amqtt's broker, closing connections that end before a CONNECT packet.

    amqtt 0.12 leaves the transport of such a connection (a port probe, a client that
    gives up) open, which later surfaces as a ResourceWarning when the loop closes.
    """

    async def stream_connected(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, listener_name: str
    ) -> None:
        try:
            await super().stream_connected(reader, writer, listener_name)
        finally:
            if not writer.is_closing():
                writer.close()


def _pick_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedBroker:
    """An amqtt MQTT broker on :data:`HOST` and ``port`` (0: a free port) in a daemon thread.

    ``start()`` blocks until the listener accepts connections; ``stop()`` shuts the broker
    down and joins the thread. A stopped broker can be started again; with port 0 it
    tries to reuse the port it had before so that clients can reconnect.
    """

    def __init__(self, port: int = 0) -> None:
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {port}")
        self._requested_port = port
        self._port = port
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None

    @property
    def port(self) -> int:
        """The TCP port the broker listens on (0 before the first start with port 0)."""
        return self._port

    @property
    def url(self) -> str:
        """The broker's URL, e.g. ``mqtt://127.0.0.1:1883``."""
        return f"mqtt://{HOST}:{self._port}"

    @property
    def running(self) -> bool:
        """True between a successful ``start()`` and ``stop()``."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> None:
        """Start the broker and block until it listens; EmbeddedBrokerError on failure.

        Does nothing when the broker is already running.
        """
        with self._lock:
            if self.running:
                return
            errors: list[str] = []
            deadline = time.monotonic() + timeout
            for port in self._candidate_ports():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                error = self._start_once(port, remaining)
                if error is None:
                    self._port = port
                    log.info("embedded MQTT broker listening on %s", self.url)
                    return
                errors.append(f"{HOST}:{port}: {error}")
            raise EmbeddedBrokerError("embedded MQTT broker could not start: " + "; ".join(errors))

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the broker down and join its thread. Safe to call more than once."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._request_stop()
            thread.join(timeout)
            if thread.is_alive():
                log.warning("embedded MQTT broker thread did not stop within %.1f s", timeout)
            else:
                log.info("embedded MQTT broker on port %d stopped", self._port)

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- internals -------------------------------------------------------------------

    def _candidate_ports(self) -> list[int]:
        if self._requested_port:
            return [self._requested_port]
        ports = [self._port] if self._port else []
        while len(ports) < _BIND_ATTEMPTS:
            ports.append(_pick_free_port())
        return ports

    def _start_once(self, port: int, timeout: float) -> str | None:
        """Run the broker on ``port``; None when it listens, else the reason it does not."""
        ready = threading.Event()
        outcome: list[str | None] = []
        thread = threading.Thread(
            target=self._run,
            args=(port, ready, outcome),
            name=f"cityops-mqtt-broker-{port}",
            daemon=True,
        )
        self._thread = thread
        thread.start()
        if not ready.wait(timeout):
            self._thread = None
            self._request_stop()
            thread.join(timeout)
            return f"not listening after {timeout:.1f} s"
        error = outcome[0] if outcome else "broker thread ended unexpectedly"
        if error is not None:
            self._thread = self._loop = self._stop_event = None
            thread.join(timeout)
        return error

    def _request_stop(self) -> None:
        loop, stop_event = self._loop, self._stop_event
        self._loop = self._stop_event = None
        if loop is not None and stop_event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in the meantime
                loop.call_soon_threadsafe(stop_event.set)

    def _run(self, port: int, ready: threading.Event, outcome: list[str | None]) -> None:
        try:
            asyncio.run(self._serve(port, ready, outcome))
        except Exception as exc:  # never let the thread die with a traceback on stderr
            log.exception("embedded MQTT broker failed")
            if not ready.is_set():
                outcome.append(f"{type(exc).__name__}: {exc}")
        finally:
            if not ready.is_set():
                outcome.append("broker thread ended before listening")
                ready.set()

    async def _serve(self, port: int, ready: threading.Event, outcome: list[str | None]) -> None:
        config: dict[str, Any] = {
            "listeners": {"default": {"type": "tcp", "bind": f"{HOST}:{port}"}},
            "plugins": {_ANONYMOUS_PLUGIN: {"allow_anonymous": True}},
        }
        stop_event = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._stop_event = stop_event
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            broker = _QuietBroker(config)
        try:
            await broker.start()
        except Exception as exc:
            outcome.append(str(exc.__cause__ or exc))
            ready.set()
            return
        outcome.append(None)
        ready.set()
        try:
            await stop_event.wait()
        finally:
            try:
                # amqtt's shutdown can hang while a client is mid-publish; bound it so the
                # thread always ends (asyncio.run then cancels what is left).
                await asyncio.wait_for(broker.shutdown(), _SHUTDOWN_TIMEOUT)
            except TimeoutError:
                log.warning("embedded MQTT broker shutdown timed out; abandoning it")
            except Exception:
                log.exception("embedded MQTT broker did not shut down cleanly")
