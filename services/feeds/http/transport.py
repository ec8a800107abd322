"""HTTP transport for the poller: a requests session whose sockets another thread can shut.

requests cannot bound a whole response in time (its time-outs apply to each wait), so each
request runs on a helper thread and reports the sockets it reads from to a :class:`Cutoff`;
the feed's thread cuts them off at the deadline, the blocked read returns and the request
fails at once.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from importlib import metadata
from typing import Any

import requests
import requests.adapters
import urllib3.connection
import urllib3.connectionpool
import urllib3.response


def _user_agent() -> str:
    try:
        version = metadata.version("cityops")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"CityOps/{version}"


USER_AGENT = _user_agent()


class Cutoff:
    """The sockets one request reads from, so that another thread can end it at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._cut = False

    def watch(self, sock: object) -> None:
        """Note a socket the request is about to read from (shut at once if already cut)."""
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            if not self._cut:
                self._sockets.append(sock)
                return
        _shut_down(sock)

    def cut(self) -> None:
        """Shut the request's sockets down: a blocked read returns and the request fails."""
        with self._lock:
            self._cut = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut_down(sock)


def _shut_down(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for TLS sockets: the reading thread still owns the
    # TLS state; it sees the connection end.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


request_context = threading.local()
"""``cutoff``: the :class:`Cutoff` of the request running on this (helper) thread."""


def _watch_socket(sock: object) -> None:
    cutoff: Cutoff | None = getattr(request_context, "cutoff", None)
    if cutoff is not None:
        cutoff.watch(sock)


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    """Reports its socket to the running request before waiting for the response."""

    def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
        _watch_socket(self.sock)
        return super().getresponse()


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    """Reports its socket to the running request before waiting for the response."""

    def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
        _watch_socket(self.sock)
        return super().getresponse()


class _WatchedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS: dict[str, type[urllib3.connectionpool.HTTPConnectionPool]] = {
    "http": _WatchedHTTPPool,
    "https": _WatchedHTTPSPool,
}


class _WatchedAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter with connections whose sockets a request's deadline can cut."""

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_WATCHED_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools have their own classes
            manager.pool_classes_by_scheme = dict(_WATCHED_POOLS)
        return manager


def new_session() -> requests.Session:
    """A session with CityOps' user agent whose requests can be cut off (see :class:`Cutoff`)."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    for prefix in ("http://", "https://"):
        session.mount(prefix, _WatchedAdapter())
    return session
