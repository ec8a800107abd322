"""At-least-once for QoS 1: the app, a process of its own, is killed with SIGKILL while a real
mosquitto streams QoS 1 messages to its persistent session; after a restart every published
message is in the offline cache.

The app acknowledges a QoS 1 message to the broker only once the cache has committed it, so
whatever was in flight when the process died is sent again by the broker.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from services.config import FeedConfig
from services.config.loader import parse_config
from services.feeds.mqtt.client import MqttFeedClient
from services.feeds.mqtt.process import MqttFeedProcess
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.model import FeedState
from services.session import FeedClient
from services.store.cache import FILE_NAME, OfflineCache
from tests.helpers.brokers import Broker, MosquittoBroker, mosquitto_binary
from tests.helpers.cli import run_cityops
from tests.helpers.mqtt import Recorder, feed, publish_until_received, running
from tests.helpers.polling import wait_for
from tests.helpers.session_runner import READY_LINE

REPO = Path(__file__).resolve().parents[2]
TOTAL = 15_000
RATE = 3_000.0
"""Messages per second the test publishes at (at most)."""
ENTITIES = 50
CLIENT_ID = "cityops-at-least-once"
BROKER_SETTINGS = (
    # what the README asks of a deployment's broker for QoS 1 at this rate
    "max_inflight_messages 1000\nmax_queued_messages 100000\n"
)


# -- the app as a process --------------------------------------------------------------------


class AppProcess:
    """``tests.helpers.session_runner`` (a CitySession without a window) in its own process."""

    def __init__(self, config: Path, cache_dir: Path, log_path: Path) -> None:
        self.config = config
        self.cache_dir = cache_dir
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout: float = 30.0) -> None:
        """Start the app and wait until its broker client is connected and subscribed."""
        self.starts += 1
        with self.log_path.open("ab") as log_file:
            log_file.write(f"---- start {self.starts} ----\n".encode())
            log_file.flush()
            command = [sys.executable, "-m", "tests.helpers.session_runner"]
            self.process = subprocess.Popen(
                [*command, str(self.config), str(self.cache_dir)],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=log_file,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            )
        stdout = self.process.stdout
        assert stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline and self.process.poll() is None:
            ready, _, _ = select.select([stdout], [], [], 0.1)
            if ready:
                line = stdout.readline()
                if line.strip() == READY_LINE.encode():
                    return
        raise AssertionError(f"the app did not connect (last line {line!r}):\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, like a crash or a power cut."""
        process = self.process
        assert process is not None
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        self._close()

    def stop(self) -> int:
        """SIGTERM and wait; the exit code (0: the app says everything was stored)."""
        process = self.process
        if process is None:
            return 0
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        finally:
            self._close()
        return code

    def _close(self) -> None:
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def stored(cache_dir: Path) -> tuple[int, int]:
    """Readings of the test's metric in the cache: (rows, distinct sequence numbers)."""
    path = cache_dir / FILE_NAME
    if not path.exists():
        return 0, 0
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        row = connection.execute(
            "SELECT COUNT(*), COUNT(DISTINCT value) FROM samples"
            " JOIN series ON series.id = samples.series WHERE series.metric = 'seq'"
        ).fetchone()
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0, 0
    finally:
        connection.close()
    return int(row[0]), int(row[1])


def wait_for_all_stored(cache_dir: Path, quiet: float = 10.0) -> tuple[int, int]:
    """Poll the cache until it holds all TOTAL messages, or its count has not grown for
    ``quiet`` seconds (then some are missing); returns the last (rows, distinct) count."""
    last = stored(cache_dir)
    since = time.monotonic()
    while last[1] < TOTAL and time.monotonic() - since < quiet:
        time.sleep(0.1)
        current = stored(cache_dir)
        if current != last:
            last, since = current, time.monotonic()
    return last


# -- the publisher -------------------------------------------------------------------------


class PacedPublisher:
    """Publishes ``total`` QoS 1 messages at up to ``rate`` per second on its own thread.

    Message ``n`` is ``{"id": "load-<n % 50>", "ts": <fixed>, "seq": n}``: a redelivered copy
    is the same reading (same entity, metric, time and value).
    """

    def __init__(self, port: int, total: int, rate: float) -> None:
        self.total = total
        self.rate = rate
        self.sent = 0
        self.acknowledged = 0
        self.started_at = 0.0
        self.finished_at = 0.0
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id="at-least-once-publisher"
        )
        self.client.max_inflight_messages_set(0)  # no limit on our side
        self.client.max_queued_messages_set(0)
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._run, name="test-publisher", daemon=True)
        self._base_ts = time.time()

    def _on_publish(self, *_args: Any) -> None:
        with self._lock:
            self.acknowledged += 1
            if self.acknowledged == self.total:
                self.finished_at = time.monotonic()
                self._done.set()

    def start(self) -> None:
        self.started_at = time.monotonic()
        self._thread.start()

    def _run(self) -> None:
        for n in range(self.total):
            due = self.started_at + n / self.rate
            ahead = due - time.monotonic()
            if ahead > 0.002:
                time.sleep(ahead)
            payload = {"id": f"load-{n % ENTITIES}", "ts": self._base_ts + n / 1000, "seq": n}
            self.client.publish(f"load/{n % ENTITIES}", json.dumps(payload), qos=1)
            self.sent = n + 1

    def wait(self, timeout: float) -> bool:
        """Wait until the broker has acknowledged every message."""
        return self._done.wait(timeout)

    @property
    def achieved_rate(self) -> float:
        return self.total / max(self.finished_at - self.started_at, 1e-9)

    def close(self) -> None:
        self._thread.join(60)
        self.client.disconnect()
        self.client.loop_stop()


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    folder = tmp_path / "broker"
    folder.mkdir()
    started = MosquittoBroker(folder, BROKER_SETTINGS)
    started.start()
    yield started
    started.stop()


@pytest.fixture
def app(tmp_path: Path, broker: MosquittoBroker) -> Iterator[Callable[[str], AppProcess]]:
    made: list[AppProcess] = []

    def make(protocol: str = "3.1.1") -> AppProcess:
        config = tmp_path / "cityops.toml"
        config.write_text(
            "[broker]\n"
            f'url = "{broker.url}"\n'
            f'protocol = "{protocol}"\n'
            f'client_id = "{CLIENT_ID}"\n'
            "clean_session = false\n"
            "\n[[feeds]]\n"
            'name = "load"\n'
            'topic = "load/#"\n'
            "qos = 1\n"
            'format = "json"\n'
            'domain = "environment"\n'
        )
        made.append(AppProcess(config, tmp_path / "cache", tmp_path / "app.log"))
        return made[-1]

    yield make
    for process in made:
        if process.process is not None:
            process.kill()


# -- the feed client on its own ------------------------------------------------------------


@pytest.fixture(params=["thread", "process"])
def client_kind(request: pytest.FixtureRequest) -> str:
    """The feed client on a thread of the test's process, or in a child process."""
    return str(request.param)


@contextmanager
def subscribed(
    broker: Broker,
    recorder: Recorder,
    feeds: Sequence[FeedConfig],
    kind: str,
    **options: object,
) -> Iterator[FeedClient]:
    """A feed client of ``kind`` for ``broker`` with ``options``, connected for the block."""
    config = broker.config(**options)
    client: FeedClient
    if kind == "process":
        client = MqttFeedProcess(config, feeds, recorder)
    else:
        client = MqttFeedClient(config, feeds, recorder)
    with running(client):
        recorder.wait_state(FeedState.CONNECTED)
        yield client


def copies(recorder: Recorder, payload: bytes) -> list[RawMessage]:
    return [message for message in recorder.messages if message.payload == payload]


def reconnect(client: FeedClient, recorder: Recorder) -> None:
    """A clean disconnect and a new connection; the persistent session stays on the broker."""
    client.stop()
    connected = len([e for e in recorder.events if e.state is FeedState.CONNECTED])
    client.start()
    wait_for(
        lambda: len([e for e in recorder.events if e.state is FeedState.CONNECTED]) > connected,
        what="connected again",
    )


def nothing_redelivered(broker: Broker, recorder: Recorder, payload: bytes, count: int) -> bool:
    """After a reconnect the broker resends what is unacknowledged before anything new: once
    a message published now has arrived, ``payload`` has come ``count`` times and no more."""
    publish_until_received(broker, "air/marker", recorder, prefix=f"marker-{count}")
    return len(copies(recorder, payload)) == count


@pytest.mark.parametrize("qos", [1, 2])
def test_a_message_is_sent_again_until_acknowledged_on_the_connection_it_came_on(
    brokers: Callable[..., Broker], qos: int, client_kind: str
) -> None:
    broker = brokers()
    recorder = Recorder()
    options = {"client_id": f"cityops-ack-{qos}", "clean_session": False}
    with subscribed(
        broker, recorder, [feed("air", "air/#", qos=qos)], client_kind, **options
    ) as client:
        broker.publish("air/aq-1", b"reading", qos=qos)
        wait_for(lambda: copies(recorder, b"reading"), what="the message")
        first = copies(recorder, b"reading")[0]
        assert first.ack is not None, "QoS 1/2 on a persistent session waits for the cache"

        reconnect(client, recorder)  # not acknowledged: the broker sends it again
        wait_for(lambda: len(copies(recorder, b"reading")) == 2, what="redelivered")
        first.ack()  # belongs to the ended connection: dropped, never sent on this one
        reconnect(client, recorder)
        wait_for(lambda: len(copies(recorder, b"reading")) == 3, what="redelivered again")

        latest = copies(recorder, b"reading")[-1]
        assert latest.ack is not None
        latest.ack()
        reconnect(client, recorder)
        assert nothing_redelivered(broker, recorder, b"reading", 3)


def test_a_message_two_feeds_take_is_acknowledged_when_both_are_done(
    brokers: Callable[..., Broker], client_kind: str
) -> None:
    broker = brokers()
    recorder = Recorder()
    feeds = [feed("air", "air/#", qos=1), feed("air-copy", "air/#", qos=1)]
    options = {"client_id": "cityops-ack-two", "clean_session": False}
    with subscribed(broker, recorder, feeds, client_kind, **options) as client:
        broker.publish("air/aq-1", b"shared", qos=1)
        wait_for(lambda: len(copies(recorder, b"shared")) == 2, what="one copy per feed")
        one, other = copies(recorder, b"shared")
        assert {one.feed, other.feed} == {"air", "air-copy"}
        assert one.ack is not None and other.ack is not None
        one.ack()
        one.ack()  # a repeated call counts once
        reconnect(client, recorder)
        wait_for(lambda: len(copies(recorder, b"shared")) == 4, what="redelivered to both")

        for message in copies(recorder, b"shared")[2:]:
            assert message.ack is not None
            message.ack()
        reconnect(client, recorder)
        assert nothing_redelivered(broker, recorder, b"shared", 4)


@pytest.mark.parametrize(("clean", "qos"), [(True, 1), (False, 0)], ids=["clean", "qos0"])
def test_without_a_persistent_session_or_with_qos0_paho_acknowledges_at_once(
    brokers: Callable[..., Broker], clean: bool, qos: int, client_kind: str
) -> None:
    broker = brokers()
    recorder = Recorder()
    options = {"client_id": "cityops-auto-ack", "clean_session": clean}
    with subscribed(
        broker, recorder, [feed("air", "air/#", qos=qos)], client_kind, **options
    ) as client:
        broker.publish("air/aq-1", b"auto", qos=1)
        wait_for(lambda: copies(recorder, b"auto"), what="the message")
        assert copies(recorder, b"auto")[0].ack is None
        if not clean:
            reconnect(client, recorder)
            assert nothing_redelivered(broker, recorder, b"auto", 1)


# -- what a redelivered message does downstream -------------------------------------------

RULES = parse_config(
    b'[broker]\nurl = "mqtt://h"\n[[feeds]]\nname = "air"\ntopic = "air/#"\nqos = 1\n'
    b'[[rules]]\nmetric = "pm25"\nhigh = 75\n',
    "rules.toml",
)


def reading(pm25: float, ts: float) -> RawMessage:
    payload = json.dumps({"id": "aq-1", "ts": ts, "pm25": pm25}).encode()
    return RawMessage("air", "air/aq-1", payload, ts)


HIGH, LOW = reading(80, 1000.0), reading(50, 1001.0)


def replay(cache_dir: Path, *batches: list[RawMessage]) -> tuple[IngestPipeline, int]:
    """Run batches through a pipeline with a cache; the pipeline and the cache's row count."""
    with OfflineCache(cache_dir) as cache:
        pipeline = IngestPipeline(RULES, cache)
        for batch in batches:
            pipeline.process_batch(batch)
            pipeline.flush_cache(force=True)
        rows = cache.count("readings")
        pipeline.stop()
    return pipeline, rows


def test_a_message_repeated_at_once_changes_no_alarm_or_latest_value(cache_dir: Path) -> None:
    pipeline, _rows = replay(cache_dir, [HIGH], [HIGH])
    (alarm,) = pipeline.alarms.alarms()
    assert (alarm.count, alarm.revision) == (1, 1)
    latest = pipeline.hub.latest("aq-1", "pm25")
    assert latest is not None and latest.value == 80


# A broker redelivers every message stored but not yet acknowledged when the app died, in
# order; the restarted app has those readings already. Not idempotent yet (not feeds' code):
def test_a_redelivered_sequence_does_not_count_an_alarm_twice(cache_dir: Path) -> None:
    pipeline, _rows = replay(cache_dir, [HIGH, LOW], [HIGH, LOW])
    (alarm,) = pipeline.alarms.alarms()
    assert alarm.count == 1


def test_a_redelivered_reading_is_one_trend_point(cache_dir: Path) -> None:
    pipeline, _rows = replay(cache_dir, [HIGH, LOW], [HIGH, LOW])
    assert len(pipeline.hub.series("aq-1", "pm25")) == 2


def test_a_redelivered_reading_is_stored_once(cache_dir: Path) -> None:
    _pipeline, rows = replay(cache_dir, [HIGH, LOW], [HIGH, LOW])
    assert rows == 2


# -- the app as a process, killed -----------------------------------------------------------


@pytest.mark.timeout(300)
@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_sigkill_mid_stream_loses_no_qos1_message(
    app: Callable[[str], AppProcess], broker: MosquittoBroker, protocol: str
) -> None:
    process = app(protocol)
    process.start()  # the first start creates the persistent session
    publisher = PacedPublisher(broker.port, TOTAL, RATE)
    try:
        publisher.start()
        wait_for(
            lambda: publisher.sent >= TOTAL * 0.4 and stored(process.cache_dir)[1] > 0,
            timeout=60,
            what="messages published and stored before the kill",
        )
        process.kill()
        killed_at = (publisher.sent, stored(process.cache_dir))
        assert killed_at[0] < TOTAL, "the kill came after the stream had ended"
        process.start()
        assert publisher.wait(120), f"the broker acknowledged {publisher.acknowledged} only"
        _rows, distinct = wait_for_all_stored(process.cache_dir)
        assert distinct == TOTAL, f"{TOTAL - distinct} of {TOTAL} messages lost"
        assert process.stop() == 0, process.log_tail()
    finally:
        publisher.close()
        print(process.log_tail())

    exported = run_cityops(
        "export", "readings", "--cache-dir", str(process.cache_dir), "--format", "json"
    )
    assert exported.returncode == 0, exported.stderr
    rows = [row for row in json.loads(exported.stdout) if row["metric"] == "seq"]
    sequence = {int(row["value"]) for row in rows}
    assert sequence == set(range(TOTAL)), f"{TOTAL - len(sequence)} messages lost"
    print(
        f"\n[{protocol}] published {TOTAL} QoS 1 messages at {publisher.achieved_rate:.0f}/s;"
        f" SIGKILL after {killed_at[0]} were published and {killed_at[1][1]} stored;"
        f" after the restart {len(sequence)} distinct stored (0 lost),"
        f" {len(rows) - len(sequence)} stored twice"
    )
    assert "dropped" not in broker.log_path.read_text(errors="replace").lower()
