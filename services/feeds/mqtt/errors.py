"""Why an MQTT connection failed, in words an operator can act on.

:func:`describe_error` explains a failed connect (refused, unknown host, TLS, WebSocket),
:func:`refusal_detail` a CONNACK refusal, and :class:`PahoLogTap` keeps the socket error paho
logs when a connection drops, for the DOWN event's detail.
"""

from __future__ import annotations

import logging
import re
import socket
import ssl
import traceback

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger(__name__)

# CONNACK reason codes (MQTT 5 numbering; paho maps 3.1.1 codes onto these).
_BAD_CREDENTIALS = 134
_NOT_AUTHORISED = 135
CREDENTIAL_REFUSALS = frozenset({133, 134, 135, 138, 140})
"""Refusals that retrying soon will not fix (bad user name, password or client id, banned)."""


def describe_error(error: BaseException, *, tls: bool = False) -> str:
    """A short, readable reason for a failed connection attempt (``tls``: over TLS)."""
    if tls and isinstance(error, ConnectionResetError | ConnectionAbortedError | ssl.SSLEOFError):
        return "TLS: the broker closed the connection during the handshake (not a TLS port?)"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS: certificate verify failed: {error.verify_message!s}"
    if isinstance(error, ssl.SSLError):
        return f"TLS: {clean_ssl_text(str(error))}"
    if isinstance(error, mqtt.WebsocketConnectionError):
        return f"WebSocket handshake failed: {error}"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror})"
    if isinstance(error, TimeoutError):
        return "connection timed out"
    if isinstance(error, OSError):
        return error.strerror or str(error) or type(error).__name__
    return f"{type(error).__name__}: {error}"


def refusal_detail(reason_code: ReasonCode, missing_password: str) -> str:
    """Why the broker refused the connection (``missing_password``: why none was sent)."""
    if reason_code.value in (_BAD_CREDENTIALS, _NOT_AUTHORISED):
        detail = "not authorised"
        if reason_code.value == _BAD_CREDENTIALS:
            detail += " (bad user name or password)"
        if missing_password:
            detail += f": {missing_password}"
        return detail
    return f"refused by the broker: {reason_code}"


def clean_ssl_text(text: str) -> str:
    """'[SSL: X] some reason (_ssl.c:1006)' → 'some reason'."""
    text = re.sub(r"^\[[A-Z0-9_]+(: [A-Z0-9_]+)?\] ", "", text)
    return re.sub(r" \(_ssl\.c:\d+\)$", "", text)


def close_sockets_in(error: BaseException) -> None:
    """Close sockets left open by a failed connect.

    paho does not close the socket when the TLS or WebSocket handshake fails; it is only
    referenced by the exception's traceback, and would be closed (with a ResourceWarning)
    whenever that is freed. Closing it here is prompt and quiet.
    """
    for frame, _line in traceback.walk_tb(error.__traceback__):
        for value in frame.f_locals.values():
            if isinstance(value, socket.socket):
                value.close()


class PahoLogTap(logging.Handler):
    """Keeps the last socket error paho logged (why a read failed) for DOWN details, and
    passes exceptions raised in our callbacks on to the log as errors."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if " on socket: " in message:
            self.last = message.rsplit(" on socket: ", 1)[-1]
            log.debug("paho: %s", message)
        elif message.startswith("Caught exception"):
            log.error("paho: %s", message)
        else:
            log.debug("paho: %s", message)
