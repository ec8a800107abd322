"""Where feeds connect: broker URLs (``mqtt://``, ``mqtts://``, ``ws://``, ``wss://``), MQTT
topic filters and HTTP URLs, checked once here for the config, the feed clients and the demo."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883, "ws": 80, "wss": 443}


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where a broker listens and whether the connection uses TLS."""

    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme in ("mqtts", "wss")

    @property
    def websocket(self) -> bool:
        return self.scheme in ("ws", "wss")

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    """Parse a broker URL (default ports 1883, 8883, 80 and 443).

    Raises ValueError with a readable reason for anything else: other schemes, no host,
    a bad port, credentials, a path, query or fragment.
    """
    text = url.strip()
    if not text:
        raise ValueError("broker URL is empty (expected mqtt://host:port or mqtts://host:port)")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or "://" not in text:
        raise ValueError(f"must start with mqtt://, mqtts://, ws:// or wss://, got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            f"must not contain a user name or password ({url!r}); use username/password_env"
        )
    host = parts.hostname
    if not host:
        raise ValueError(f"has no host name: {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"has an invalid port: {url!r}") from None
    if port == 0:
        raise ValueError(f"has an invalid port: {url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            f"must not have a path, query or fragment: {url!r} (WebSocket paths go in ws_path)"
        )
    return BrokerAddress(scheme, host, port if port is not None else DEFAULT_PORTS[scheme])


MAX_TOPIC_BYTES = 65535


def topic_filter_problem(topic: str) -> str:
    """Why ``topic`` is not a valid MQTT subscription filter ('' when it is valid)."""
    if not topic:
        return "the topic filter is empty"
    if len(topic.encode("utf-8")) > MAX_TOPIC_BYTES:
        return f"the topic filter is longer than {MAX_TOPIC_BYTES} bytes"
    if "\x00" in topic:
        return "the topic filter contains a NUL character"
    levels = topic.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return f"'#' must be a whole last level in an MQTT topic filter: {topic!r}"
        if "+" in level and level != "+":
            return f"'+' must be a whole level in an MQTT topic filter: {topic!r}"
    return ""
