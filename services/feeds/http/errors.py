"""Why an HTTP request failed, in words an operator can act on (TLS, refused, time-out, ...)."""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Iterator

import requests
import urllib3.exceptions


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps (causes, contexts, urllib3 reasons, arguments)."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked.extend(current.args)
        pending.extend(item for item in linked if isinstance(item, BaseException))


def describe_error(error: BaseException, timeout: float) -> tuple[str, bool]:
    """A readable reason for a failed request, and whether trying again soon may help."""
    causes = list(_causes(error))

    def has(*kinds: type[BaseException]) -> bool:
        return any(isinstance(cause, kinds) for cause in causes)

    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message
            return "TLS certificate verify failed" + (f" ({reason})" if reason else ""), False
    if any("CERTIFICATE_VERIFY_FAILED" in str(cause) for cause in causes):
        return "TLS certificate verify failed", False
    if has(ConnectionRefusedError):
        return "connection refused", True
    if has(urllib3.exceptions.NameResolutionError):
        return "host not found", True
    if has(ConnectionResetError):
        return "connection reset by the server", True
    # urllib3's NewConnectionError is a ConnectTimeoutError too, whatever the cause.
    if has(urllib3.exceptions.NewConnectionError) and not has(TimeoutError):
        reasons = [c.strerror for c in causes if isinstance(c, OSError) and c.strerror]
        return "cannot connect" + (f": {reasons[0].lower()}" if reasons else ""), True
    if has(requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError):
        return f"timed out after {timeout:g} s", True
    if has(requests.exceptions.SSLError, ssl.SSLError):
        return f"TLS error: {short_text(error)}", False
    if has(http.client.RemoteDisconnected, urllib3.exceptions.ProtocolError):
        return "connection closed by the server", True
    if has(requests.TooManyRedirects):
        return "too many redirects", False
    if has(requests.exceptions.InvalidURL, requests.exceptions.InvalidHeader):
        return f"invalid request: {short_text(error)}", False
    return f"request failed: {short_text(error)}", True


def short_text(error: BaseException) -> str:
    """The error's text, cut to 200 characters."""
    text = str(error) or type(error).__name__
    return text if len(text) <= 200 else text[:199] + "…"
