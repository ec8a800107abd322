"""Real mosquitto brokers for tests.

``MosquittoBroker`` is one plain anonymous listener. ``Broker`` has a plain, anonymous
*control* listener that the tests publish through, and a *main* listener (the one the client
under test connects to) configured per test: TLS, passwords, ACLs, websockets, persistence.
Password files come from ``mosquitto_passwd`` when it is installed, else they are written
here in mosquitto's ``$6$`` format. ``broker_factory`` starts brokers and stops them all.
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
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from services.addresses import parse_broker_url
from services.config import BrokerConfig
from tests.helpers.net import free_port, wait_for_port
from tests.helpers.tls import TlsFiles


def mosquitto_binary() -> str | None:
    """Path of the mosquitto broker, or None when it is not installed."""
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None
    )


class MosquittoBroker:
    """A real mosquitto process on a free loopback port, for one test."""

    def __init__(self, workdir: Path, extra_config: str = "") -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("mosquitto is not installed")
        self.port = free_port()
        self.workdir = workdir
        self.config_path = workdir / "mosquitto.conf"
        self.config_path.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            f"persistence false\n{extra_config}"
        )
        self.log_path = workdir / "mosquitto.log"
        self._binary = binary
        self._process: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [self._binary, "-c", str(self.config_path)], stdout=self._log, stderr=self._log
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None


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
    ``users`` switches the main listener to password authentication; ``acl`` (the text of a
    mosquitto ACL file: ``user``, ``topic`` and ``pattern`` lines) restricts what each
    client of the main listener may read and write. ``allowed_subscriptions``
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
        acl: str | None = None,
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
        if acl is not None:
            acl_file = workdir / "acl"
            acl_file.write_text(acl)
            main.append(f"acl_file {acl_file}")
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

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Stop mosquitto (SIGSTOP) for the block and let it go on afterwards (SIGCONT).

        Its sockets stay open and the kernel still takes what clients send, but nothing
        answers: a half-open connection as clients see one when a broker hangs or a link
        dies without a reset.
        """
        process = self._process
        assert process is not None and process.poll() is None, "mosquitto is not running"
        process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            process.send_signal(signal.SIGCONT)

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
