"""Listen addresses for servers the app runs itself (the metrics endpoint): ``HOST:PORT``.

A bare port means loopback (``127.0.0.1``): the app never listens on another interface
unless the operator names one (``0.0.0.0:9464``, ``[::]:9464``, ``10.1.2.3:9464``).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"
_PORT = re.compile(r"[0-9]{1,5}")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")


@dataclass(frozen=True, slots=True)
class ListenAddress:
    """Where a server listens; port 0 asks the system for a free port."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        """Whether only this machine can connect (a name other than localhost counts as not)."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_listen_address(text: str) -> ListenAddress:
    """``PORT``, ``HOST:PORT`` or ``[IPv6]:PORT``; ValueError saying what is wrong."""
    text = text.strip()
    example = "e.g. 127.0.0.1:9464, or 0.0.0.0:9464 for every interface"
    if not text:
        raise ValueError(f"is empty; give HOST:PORT ({example})")
    if _PORT.fullmatch(text):
        return ListenAddress(LOOPBACK, _port(text))
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or not rest.startswith(":"):
            raise ValueError(f"{text!r} is not [IPv6]:PORT ({example})")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{host!r} is not an IPv6 address") from None
    else:
        host, colon, port_text = text.rpartition(":")
        if not colon:
            raise ValueError(f"{text!r} has no port; give HOST:PORT ({example})")
        if not host:
            raise ValueError(f"{text!r} names no host; give HOST:PORT ({example})")
        if ":" in host:
            raise ValueError(f"{text!r}: put an IPv6 address in brackets, e.g. [::1]:9464")
        if not _is_ipv4(host) and not _HOSTNAME.fullmatch(host):
            raise ValueError(f"{host!r} is not a host name or IP address")
    return ListenAddress(host, _port(port_text))


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def _port(text: str) -> int:
    if not _PORT.fullmatch(text) or int(text) > 65535:
        raise ValueError(f"port {text!r} is not a number from 0 to 65535")
    return int(text)
