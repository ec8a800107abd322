"""Where feeds connect: broker URLs (``mqtt://``, ``mqtts://``, ``ws://``, ``wss://``), MQTT
topic filters and HTTP URLs, checked once here for the config, the feed clients and the demo.

:func:`redact_url` is the one way a URL is shown or logged: without user name, password or
secret-looking query values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

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
    shown = _shown(url)  # error messages end up on screens and in logs
    try:
        parts = urlsplit(text)
    except ValueError:  # not echoed: a malformed URL may not be redacted cleanly
        raise ValueError("is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or "://" not in text:
        raise ValueError(f"must start with mqtt://, mqtts://, ws:// or wss://, got {shown!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            f"must not contain a user name or password ({shown!r}); use username/password_env"
        )
    host = parts.hostname
    if not host:
        raise ValueError(f"has no host name: {shown!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"has an invalid port: {shown!r}") from None
    if port == 0:
        raise ValueError(f"has an invalid port: {shown!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            f"must not have a path, query or fragment: {shown!r} (WebSocket paths go in ws_path)"
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


REDACTED = "***"
_SECRET_NAMES = frozenset({"key", "sig", "pass", "pwd", "auth", "authorization", "credential"})
_SECRET_ENDINGS = ("token", "key", "secret", "password", "passwd", "signature", "credentials")
_USERINFO = re.compile(r"(?<=//)[^/?#\s@]*@")
_QUERY_FIELD = re.compile(r"(?<=[?&;])([^=&#\s]+)=([^&#\s'\"()]*)")


def _secret_name(name: str) -> bool:
    """Whether a query parameter name looks like it carries a secret (api_key, token, ...)."""
    normal = re.sub(r"[-_.]", "", unquote(name)).lower()
    return normal in _SECRET_NAMES or normal.endswith(_SECRET_ENDINGS)


def _redact_field(match: re.Match[str]) -> str:
    name = match.group(1)
    return f"{name}={REDACTED}" if _secret_name(name) else match.group(0)


def redact_url(text: str) -> str:
    """A URL (or a message quoting one) as it may be shown or logged: a user name and
    password become ``***@`` and the values of secret-looking query parameters
    (``api_key``, ``access_token``, ``signature``, ...) ``***``; the rest is kept as written."""
    return _QUERY_FIELD.sub(_redact_field, _USERINFO.sub(REDACTED + "@", text))


def _shown(url: str) -> str:
    """``url`` redacted for an error message; not at all when an '@' is left before its query
    (a malformed URL, say a password with a '/', that redaction may not have caught)."""
    redacted = redact_url(url)
    if "@" in re.split(r"[?#]", redacted, maxsplit=1)[0].replace(REDACTED + "@", "", 1):
        return "(not shown: it may hold a password)"
    return redacted


def http_url_problem(url: str) -> str:
    """Why ``url`` cannot be an HTTP feed's URL ('' when it can): it must be http:// or
    https:// with a host, and credentials belong in ``auth``/``username``/``password_env``,
    never in the URL (it is shown, logged and stored in plain text)."""
    shown = _shown(url)
    if not url.startswith(("http://", "https://")):
        return f"must start with http:// or https://, got {shown!r}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:  # not echoed: a malformed URL may not be redacted cleanly
        return "is not a valid URL (a bad port or brackets?)"
    if parts.username is not None or parts.password is not None:
        return (
            f'must not contain a user name or password ({shown!r}); use auth = "basic"'
            " with username and password_env or password_keyring"
        )
    if not parts.hostname:
        return f"has no host name: {shown!r}"
    return ""
