"""Building paho-mqtt clients: the one place that turns a :class:`BrokerConfig` into a client.

The feed client, the demo publisher and the load generator all connect through
:func:`new_client`, so protocol, transport, TLS and credentials behave the same everywhere.
"""

from __future__ import annotations

import logging
import ssl
from typing import Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from services.config import BrokerConfig
from services.feeds.mqtt.errors import clean_ssl_text

log = logging.getLogger(__name__)


def new_client(
    broker: BrokerConfig,
    client_id: str,
    *,
    password: str | None = None,
    manual_ack: bool = False,
) -> mqtt.Client:
    """A paho client (v2 callback API) for ``broker``, not yet connected.

    MQTT 3.1.1 (with ``clean_session``) or 5 (its clean start is a CONNECT option, see
    :mod:`services.feeds.mqtt.client`); TCP, or WebSocket on ``ws_path`` for ``ws``/``wss``;
    TLS for ``mqtts``/``wss`` with the configured CA (else the system's CAs), an optional
    client certificate, and host name verification unless ``verify_hostname = false``
    (logged as a warning); the configured user name with ``password``. With ``manual_ack``
    paho leaves acknowledging QoS 1/2 messages to the caller (``Client.ack``).

    Raises ValueError, starting with "TLS: ", when the CA, certificate or key file cannot be
    loaded.
    """
    transport: Literal["tcp", "websockets"] = "websockets" if broker.address.websocket else "tcp"
    if broker.protocol == "5":
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            transport=transport,
            manual_ack=manual_ack,
        )
    else:
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            clean_session=broker.clean_session,
            transport=transport,
            manual_ack=manual_ack,
        )
    if broker.address.websocket:
        client.ws_set_options(path=broker.ws_path)
    if broker.address.tls:
        _configure_tls(client, broker)
    if broker.username:
        client.username_pw_set(broker.username, password)
    return client


def _configure_tls(client: mqtt.Client, broker: BrokerConfig) -> None:
    problem = _tls_files_problem(broker)
    if problem:
        raise ValueError(f"TLS: {problem}")
    client.tls_set(
        ca_certs=str(broker.ca_file) if broker.ca_file else None,
        certfile=str(broker.cert_file) if broker.cert_file else None,
        keyfile=str(broker.key_file) if broker.key_file else None,
        cert_reqs=ssl.CERT_REQUIRED,
    )
    if not broker.verify_hostname:
        log.warning(
            "broker %s: TLS host name verification is OFF (verify_hostname = false); "
            "any server with a certificate from the trusted CA is accepted",
            broker.address.url,
        )
        client.tls_insecure_set(True)


def _tls_files_problem(broker: BrokerConfig) -> str:
    """Why the broker's CA, certificate or key file cannot be loaded ('' if they can)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if broker.ca_file is not None:
        try:
            context.load_verify_locations(str(broker.ca_file))
        except (OSError, ssl.SSLError) as error:
            return f"cannot load ca_file {broker.ca_file}: {clean_ssl_text(str(error))}"
    if broker.cert_file is not None:
        try:
            context.load_cert_chain(
                str(broker.cert_file), str(broker.key_file) if broker.key_file else None
            )
        except (OSError, ssl.SSLError) as error:
            return (
                f"cannot load cert_file {broker.cert_file} with key_file {broker.key_file}: "
                f"{clean_ssl_text(str(error))}"
            )
    return ""
