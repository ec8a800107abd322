"""A TCP forwarder on loopback that a test can cut and restore, to take one client offline
while the server and every other client stay up."""

from __future__ import annotations

import contextlib
import select
import socket
import threading

from tests.helpers.net import free_port

Pair = tuple[socket.socket, socket.socket]


class CuttableProxy:
    """Forwards connections on ``port`` to ``127.0.0.1:target``; :meth:`cut` drops every
    connection and refuses new ones until :meth:`restore`."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.setblocking(False)
        self._open = threading.Event()
        self._open.set()
        self._stop = threading.Event()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="test-proxy", daemon=True)
        self._thread.start()

    def cut(self) -> None:
        """Close every forwarded connection and refuse new ones."""
        self._open.clear()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._stop.set()
        self.cut()
        self._thread.join(5)
        self._listener.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                pairs = list(self._pairs)
            watched = {self._listener}
            for client, server in pairs:
                for sock in (client, server):
                    if sock.fileno() >= 0:
                        watched.add(sock)
            ready, _, _ = _select(watched)
            for sock in ready:
                if sock is self._listener:
                    self._accept()
                else:
                    self._forward(sock, pairs)

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        if not self._open.is_set():
            client.close()
            return
        try:
            server = socket.create_connection(("127.0.0.1", self.target), timeout=2)
        except OSError:
            client.close()
            return
        with self._lock:
            self._pairs.append((client, server))

    def _forward(
        self, sock: socket.socket, pairs: list[tuple[socket.socket, socket.socket]]
    ) -> None:
        pair = next((p for p in pairs if sock in p), None)
        if pair is None:
            return
        other = pair[1] if sock is pair[0] else pair[0]
        try:
            data = sock.recv(65536)
            if data:
                other.sendall(data)
                return
        except OSError:
            pass
        with self._lock:
            if pair in self._pairs:
                self._pairs.remove(pair)
        for end in pair:
            end.close()


def _select(
    sockets: set[socket.socket],
) -> tuple[list[socket.socket], list[socket.socket], list[socket.socket]]:
    live = [sock for sock in sockets if sock.fileno() >= 0]
    try:
        return select.select(live, [], [], 0.05)
    except (OSError, ValueError):
        return [], [], []
