"""Test helpers: real mosquitto brokers with TLS, passwords, ACLs, websockets, persistence.

Every broker has a plain, anonymous *control* listener that the tests publish through, and a
*main* listener (the one the client under test connects to) configured per test. Certificates
come from the ``openssl`` command line; password files from ``mosquitto_passwd`` when it is
installed, else they are written here in mosquitto's ``$6$`` format.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from services.addresses import parse_broker_url
from services.config import BrokerConfig, FeedConfig
from services.feeds.mqtt.client import MqttFeedClient
from services.messages import ConnectionEvent, InboxItem, RawMessage
from services.model import FeedState
from tests.conftest import free_port, mosquitto_binary


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout:g} s: {what}")


class Recorder:
    """A thread-safe sink that keeps everything an MqttFeedClient hands over."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[InboxItem] = []

    def __call__(self, item: InboxItem) -> None:
        with self._lock:
            self._items.append(item)

    @property
    def items(self) -> list[InboxItem]:
        with self._lock:
            return list(self._items)

    @property
    def messages(self) -> list[RawMessage]:
        return [item for item in self.items if isinstance(item, RawMessage)]

    @property
    def events(self) -> list[ConnectionEvent]:
        return [item for item in self.items if isinstance(item, ConnectionEvent)]

    def payloads(self, feed: str | None = None) -> list[bytes]:
        return [m.payload for m in self.messages if feed is None or m.feed == feed]

    def states(self) -> list[FeedState]:
        return [event.state for event in self.events]

    def last_event(self) -> ConnectionEvent | None:
        events = self.events
        return events[-1] if events else None

    def wait_state(self, state: FeedState, timeout: float = 10.0) -> ConnectionEvent:
        """Wait until the latest connection event has ``state`` and return it."""
        wait_for(
            lambda: (last := self.last_event()) is not None and last.state is state,
            timeout,
            f"last connection event is {state} (events: {self.events})",
        )
        event = self.last_event()
        assert event is not None
        return event

    def wait_payload(self, payload: bytes, feed: str | None = None, timeout: float = 10.0) -> None:
        wait_for(lambda: payload in self.payloads(feed), timeout, f"{payload!r} received")


@dataclass(frozen=True)
class TlsFiles:
    """A test CA and certificates signed by it (PEM files)."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def openssl_binary() -> str | None:
    return shutil.which("openssl")


def _openssl(*args: str, cwd: Path) -> None:
    binary = openssl_binary()
    assert binary is not None
    subprocess.run([binary, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _key_and_csr(folder: Path, name: str, subject: str) -> None:
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject,
        cwd=folder,
    )  # fmt: skip


def _sign(folder: Path, name: str, extensions: str) -> None:
    (folder / f"{name}.ext").write_text(
        extensions + "\nbasicConstraints = critical, CA:FALSE\n"
        "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid, issuer\n"
    )
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-sha256", "-extfile", f"{name}.ext",
        "-out", f"{name}.crt",
        cwd=folder,
    )  # fmt: skip


def make_tls_files(
    folder: Path, server_names: tuple[str, ...] = ("localhost", "127.0.0.1")
) -> TlsFiles:
    """Generate a CA, a server certificate for ``server_names`` (DNS names or IPv4 addresses
    in its subjectAltName) and a client certificate, all signed by the CA."""
    if openssl_binary() is None:
        pytest.skip("the openssl command is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-sha256",
        "-subj", "/CN=CityOps Test CA",
        "-addext", "basicConstraints = critical, CA:TRUE",
        "-addext", "keyUsage = critical, keyCertSign, cRLSign",
        "-addext", "subjectKeyIdentifier = hash",
        cwd=folder,
    )  # fmt: skip
    alt_names = ", ".join(
        f"IP:{name}" if name.replace(".", "").isdigit() else f"DNS:{name}" for name in server_names
    )
    _key_and_csr(folder, "server", f"/CN={server_names[0]}")
    _sign(
        folder,
        "server",
        f"subjectAltName = {alt_names}\nkeyUsage = critical, digitalSignature\n"
        "extendedKeyUsage = serverAuth",
    )
    _key_and_csr(folder, "client", "/CN=cityops-workstation")
    _sign(folder, "client", "keyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth")
    return TlsFiles(
        ca=folder / "ca.crt",
        server_cert=folder / "server.crt",
        server_key=folder / "server.key",
        client_cert=folder / "client.crt",
        client_key=folder / "client.key",
    )


def write_password_file(path: Path, users: Mapping[str, str], *, tool: bool = True) -> None:
    """A mosquitto password file; with ``mosquitto_passwd`` when ``tool`` and installed,
    otherwise in mosquitto's salted SHA-512 ``$6$`` format written directly."""
    passwd = shutil.which("mosquitto_passwd") if tool else None
    if passwd is not None:
        path.unlink(missing_ok=True)
        for index, (user, password) in enumerate(users.items()):
            create = ["-c"] if index == 0 else []
            subprocess.run(
                [passwd, "-b", *create, str(path), user, password],
                check=True,
                capture_output=True,
                timeout=30,
            )
        return
    lines = []
    for user, password in users.items():
        salt = os.urandom(12)
        digest = hashlib.sha512(password.encode() + salt).digest()
        encoded_salt = base64.b64encode(salt).decode()
        lines.append(f"{user}:$6${encoded_salt}${base64.b64encode(digest).decode()}")
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)


def dynamic_security_plugin() -> Path | None:
    """mosquitto's dynamic-security plugin library, if installed."""
    for folder in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"):
        for name in ("mosquitto_dynamic_security.so", "mosquitto/mosquitto_dynamic_security.so"):
            candidate = Path(folder) / name
            if candidate.is_file():
                return candidate
    return None


def _dynsec_config(allowed: Sequence[str]) -> dict[str, object]:
    """Anonymous clients may publish and receive anything but subscribe only to ``allowed``."""
    return {
        "defaultACLAccess": {
            "publishClientSend": True,
            "publishClientReceive": True,
            "subscribe": False,
            "unsubscribe": True,
        },
        "clients": [],
        "groups": [{"groupname": "anonymous", "roles": [{"rolename": "reader"}], "clients": []}],
        "anonymousGroup": "anonymous",
        "roles": [
            {
                "rolename": "reader",
                "acls": [
                    {"acltype": "subscribePattern", "topic": topic, "priority": 0, "allow": True}
                    for topic in allowed
                ],
            }
        ],
    }


class Broker:
    """A mosquitto process with a plain control listener and one main listener under test.

    ``scheme`` is the main listener's kind (mqtt, mqtts, ws, wss). ``tls`` is required for
    mqtts/wss; ``require_certificate`` asks clients for a certificate signed by the test CA.
    ``users`` switches the main listener to password authentication. ``allowed_subscriptions``
    (topic patterns) loads mosquitto's dynamic-security plugin on the main listener so that
    every other subscription is refused in the SUBACK (mosquitto's plain ACL file never
    refuses a subscription). ``persistence`` keeps sessions and queued messages across
    restarts.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        scheme: str = "mqtt",
        tls: TlsFiles | None = None,
        require_certificate: bool = False,
        users: Mapping[str, str] | None = None,
        password_tool: bool = True,
        allowed_subscriptions: Sequence[str] | None = None,
        persistence: bool = False,
    ) -> None:
        binary = mosquitto_binary()
        if binary is None:
            pytest.skip("mosquitto is not installed")
        if scheme in ("mqtts", "wss") and tls is None:
            raise ValueError(f"{scheme} needs TLS files")
        self._binary = binary
        self.scheme = scheme
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.control_port = free_port()
        self.port = free_port()
        while self.port == self.control_port:
            self.port = free_port()
        main = [f"listener {self.port} 127.0.0.1"]
        if scheme in ("ws", "wss"):
            main.append("protocol websockets")
            main.append("socket_domain ipv4")
        if tls is not None and scheme in ("mqtts", "wss"):
            main += [f"cafile {tls.ca}", f"certfile {tls.server_cert}", f"keyfile {tls.server_key}"]
            if require_certificate:
                main.append("require_certificate true")
        if users:
            password_file = workdir / "passwords"
            write_password_file(password_file, users, tool=password_tool)
            main += ["allow_anonymous false", f"password_file {password_file}"]
        else:
            main.append("allow_anonymous true")
        if allowed_subscriptions is not None:
            plugin = dynamic_security_plugin()
            if plugin is None:
                pytest.skip("mosquitto's dynamic-security plugin is not installed")
            dynsec_file = workdir / "dynamic-security.json"
            dynsec_file.write_text(json.dumps(_dynsec_config(allowed_subscriptions)))
            main += [f"plugin {plugin}", f"plugin_opt_config_file {dynsec_file}"]
        persistence_lines = ["persistence false"]
        if persistence:
            persistence_lines = [
                "persistence true",
                f"persistence_location {workdir}/",
                "autosave_interval 1",
            ]
        self.config_path = workdir / "mosquitto.conf"
        self.config_path.write_text(
            "\n".join(
                [
                    "per_listener_settings true",
                    # as root, mosquitto would switch to an account that cannot read tmp_path
                    "user root" if os.geteuid() == 0 else "",
                    *persistence_lines,
                    "log_type all",
                    f"listener {self.control_port} 127.0.0.1",
                    "allow_anonymous true",
                    *main,
                    "",
                ]
            )
        )
        self.log_path = workdir / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None

    @property
    def host(self) -> str:
        return "localhost" if self.scheme in ("mqtts", "wss") else "127.0.0.1"

    @property
    def url(self) -> str:
        """The main listener's URL (TLS listeners by name, matching the certificate)."""
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def config(self, **options: object) -> BrokerConfig:
        """A BrokerConfig for the main listener; ``options`` override its fields."""
        url = str(options.pop("url", self.url))
        return BrokerConfig(url=url, address=parse_broker_url(url), **options)  # type: ignore[arg-type]

    def start(self) -> None:
        """Start mosquitto and wait until both listeners accept connections."""
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [self._binary, "-c", str(self.config_path)], stdout=self._log, stderr=self._log
        )
        if not self._wait_ready():
            self.stop()
            log_text = self.log_text()
            if self.scheme in ("ws", "wss") and "websockets" in log_text.lower():
                pytest.skip(f"this mosquitto has no WebSocket support:\n{log_text}")
            raise AssertionError(f"mosquitto did not start:\n{log_text}") from None

    def _wait_ready(self, timeout: float = 10.0) -> bool:
        """Wait until both listeners accept connections; False if mosquitto exits first."""
        deadline = time.monotonic() + timeout
        pending = [self.control_port, self.port]
        while pending and time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", pending[0]), timeout=0.2):
                    pending.pop(0)
            except OSError:
                time.sleep(0.02)
        return not pending

    def stop(self) -> None:
        """Stop mosquitto cleanly (it writes its persistence file on the way out)."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Kill mosquitto without warning, like a crash or a power cut."""
        self._end(signal.SIGKILL)

    def _end(self, how: signal.Signals) -> None:
        process = self._process
        if process is not None:
            process.send_signal(how)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Publish through the control listener and wait for the broker to accept it."""
        client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        client.connect("127.0.0.1", self.control_port)
        client.loop_start()
        try:
            info = client.publish(topic, payload, qos=qos, retain=retain)
            info.wait_for_publish(5)
            assert info.is_published(), f"publish to {topic} was not acknowledged"
        finally:
            client.disconnect()
            client.loop_stop()


@contextmanager
def broker_factory(root: Path) -> Iterator[Callable[..., Broker]]:
    """Make started brokers in folders under ``root``; all are stopped on exit."""
    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    made: list[Broker] = []

    def make(**options: object) -> Broker:
        broker = Broker(root / f"broker-{len(made)}", **options)  # type: ignore[arg-type]
        made.append(broker)
        broker.start()
        return broker

    try:
        yield make
    finally:
        for broker in made:
            broker.stop()


def feed(name: str, topic: str, qos: int = 0) -> FeedConfig:
    """A JSON MQTT feed on the default broker."""
    return FeedConfig(name=name, topic=topic, qos=qos)


def publish_until_received(
    broker: Broker,
    topic: str,
    recorder: Recorder,
    *,
    prefix: str = "probe",
    interval: float = 0.1,
    timeout: float = 10.0,
) -> float:
    """Publish ``prefix-N`` payloads to ``topic`` every ``interval`` seconds until one of them
    reaches ``recorder``; returns the monotonic time at which it was seen.

    Proves a subscription is live without guessing how long subscribing takes.
    """
    deadline = time.monotonic() + timeout
    sent: set[bytes] = set()
    count = 0
    while time.monotonic() < deadline:
        payload = f"{prefix}-{count}".encode()
        count += 1
        sent.add(payload)
        if broker.running:
            broker.publish(topic, payload, qos=0)
        until = time.monotonic() + interval
        while time.monotonic() < until:
            if sent.intersection(recorder.payloads()):
                return time.monotonic()
            time.sleep(0.01)
    raise AssertionError(f"nothing published to {topic} arrived within {timeout:g} s")


@contextmanager
def running(client: MqttFeedClient) -> Iterator[MqttFeedClient]:
    """Start ``client`` for the ``with`` block and stop it afterwards."""
    client.start()
    try:
        yield client
    finally:
        client.stop()
