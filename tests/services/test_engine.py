"""The engine process (``EngineSession``): a whole session run in a child of the test's
process against a real mosquitto and a real cache, its deltas, calls and commands, its
failures named, and an engine killed and started again."""

from __future__ import annotations

import json
import logging
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from services.auth.roles import Principal, Role
from services.config import load_config
from services.engine import remote
from services.engine.remote import EngineSession
from services.model import Delta, FeedState, SignInRecord
from services.store.cache import FILE_NAME, CacheError
from tests.helpers.brokers import Broker
from tests.helpers.polling import wait_for

CONFIG = """
[app]
operator = "op"
[broker]
url = "{url}"
[[feeds]]
name = "air"
topic = "air/#"
format = "json"
domain = "environment"
[[rules]]
metric = "pm25"
high = 75
"""


def reading(station: str, pm25: float) -> bytes:
    return json.dumps({"id": station, "lat": 28.57, "lon": 112.36, "pm25": pm25}).encode()


class Deltas:
    """Everything the engine's deltas brought, as a window would keep it."""

    def __init__(self, engine: EngineSession) -> None:
        self.engine = engine
        self.seen = Delta()
        self.taken = 0

    def take(self) -> None:
        delta = self.engine.take_delta()
        if delta.is_empty():
            return
        self.taken += 1
        self.seen.entities.update(delta.entities)
        self.seen.latest.update(delta.latest)
        self.seen.alarms.update(delta.alarms)
        self.seen.feeds.update(delta.feeds)
        self.seen.action_results.extend(delta.action_results)

    def feed_is(self, state: FeedState) -> bool:
        """Whether the ``air`` feed was last said to be in ``state``."""
        feed = self.seen.feeds.get("air")
        return feed is not None and feed.state is state

    def wait_connected(self) -> None:
        self.wait(lambda: self.feed_is(FeedState.CONNECTED), "the feed connected")

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
        def taken_and_true() -> bool:
            self.take()
            return condition()

        wait_for(taken_and_true, timeout=timeout, what=what)


def stored_stations(cache_file: Path) -> int:
    with sqlite3.connect(cache_file) as stored:
        (stations,) = stored.execute("SELECT COUNT(*) FROM latest WHERE metric = 'pm25'").fetchone()
    return int(stations)


def write_config(folder: Path, broker: Broker) -> Path:
    path = folder / "city.toml"
    path.write_text(CONFIG.format(url=broker.url), encoding="utf-8")
    return path


@contextmanager
def engine_for(config_path: Path, cache_dir: Path) -> Iterator[EngineSession]:
    engine = EngineSession(load_config(config_path), cache_dir)
    try:
        engine.wait_ready()
        yield engine
    finally:
        engine.stop()


def test_the_engine_ingests_stores_and_answers(
    brokers: Callable[..., Broker], tmp_path: Path, cache_dir: Path
) -> None:
    broker = brokers()
    config_path = write_config(tmp_path, broker)
    with engine_for(config_path, cache_dir) as engine:
        assert engine.cache.path.parent == cache_dir
        assert list(engine.broker_labels().values()) == ["default"]
        deltas = Deltas(engine)
        deltas.wait_connected()
        for index in range(200):
            broker.publish(f"air/aq-{index}", reading(f"aq-{index}", 10.0 + index % 5), qos=1)
        broker.publish("air/aq-bad", reading("aq-bad", 120.0), qos=1)
        deltas.wait(lambda: len(deltas.seen.entities) == 201, "201 stations")
        deltas.wait(lambda: len(deltas.seen.alarms) == 1, "the PM2.5 alarm")
        assert deltas.taken < 201, "changes arrive coalesced, not one delta per message"

        assert engine.pipeline.hub.series("aq-3", "pm25")[-1][1] == 13.0
        assert engine.feed_names() == ["air"]
        engine.pause_feed("air")
        with pytest.raises(KeyError, match="nothing"):
            engine.pause_feed("nothing")
        engine.resume_feed("air")
        with pytest.raises(AttributeError, match=r"the engine has no cache\.close"):
            engine.call("cache", "close")

        operator = Principal("op", Role.OPERATOR, "ws1")
        alarm_id = next(iter(deltas.seen.alarms))
        engine.pipeline.acknowledge([alarm_id], operator, "seen")
        deltas.wait(lambda: bool(deltas.seen.action_results), "the acknowledgement's result")
        assert deltas.seen.action_results[0].changed == (alarm_id,)
        assert deltas.seen.alarms[alarm_id].acked_by == "op"
        journal = engine.cache.journal(0.0, time.time() + 60)
        assert any(entry.what == "ack" for entry in journal), journal
        engine.cache.record_sign_in(SignInRecord(time.time(), "op", "operator", "ws1", "in"))
        written = engine.export_csv("alarms", tmp_path / "alarms.csv")
        assert written == 1
        assert "aq-bad" in (tmp_path / "alarms.csv").read_text(encoding="utf-8")
    report = engine.stop()
    assert report.complete
    assert stored_stations(engine.cache.path) == 201


def test_a_cache_that_cannot_open_is_named(tmp_path: Path, brokers: Callable[..., Broker]) -> None:
    broker = brokers()
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be", encoding="utf-8")
    engine = EngineSession(load_config(write_config(tmp_path, broker)), blocked)
    with pytest.raises(CacheError, match="not-a-folder"):
        engine.start()
    assert not engine.stop().complete
    with pytest.raises(CacheError, match="not-a-folder"):
        engine.wait_ready()


def test_a_killed_engine_is_shown_down_and_started_again(
    brokers: Callable[..., Broker], tmp_path: Path, cache_dir: Path
) -> None:
    broker = brokers()
    with engine_for(write_config(tmp_path, broker), cache_dir) as engine:
        deltas = Deltas(engine)
        deltas.wait_connected()
        broker.publish("air/aq-1", reading("aq-1", 20.0), qos=1)
        deltas.wait(lambda: "aq-1" in deltas.seen.entities, "the station")
        wait_for(lambda: stored_stations(engine.cache.path) == 1, what="the station stored")
        process = engine._process
        os.kill(process.pid, signal.SIGKILL)
        deltas.wait(
            lambda: deltas.seen.feeds["air"].state is FeedState.DOWN,
            "the feed shown down",
        )
        assert "engine process ended (exit code -9)" in deltas.seen.feeds["air"].detail
        deltas.wait(lambda: engine.restarts == 1, "the engine started again", timeout=20.0)
        deltas.seen.entities.clear()
        deltas.wait(
            lambda: (
                "aq-1" in deltas.seen.entities
                and deltas.seen.feeds["air"].state is FeedState.CONNECTED
            ),
            "the last known state restored and the feed connected again",
            timeout=20.0,
        )
        assert engine.call("session", "feed_names") == ["air"]
        assert engine._process.pid != process.pid


def test_commands_given_while_the_engine_restarts_reach_the_next_one(
    brokers: Callable[..., Broker], tmp_path: Path, cache_dir: Path
) -> None:
    broker = brokers()
    operator = Principal("op", Role.OPERATOR, "ws1")
    with engine_for(write_config(tmp_path, broker), cache_dir) as engine:
        deltas = Deltas(engine)
        deltas.wait_connected()
        broker.publish("air/aq-bad", reading("aq-bad", 120.0), qos=1)
        deltas.wait(lambda: len(deltas.seen.alarms) == 1, "the PM2.5 alarm")
        alarm_id = next(iter(deltas.seen.alarms))
        wait_for(lambda: bool(engine.cache.journal(0.0, time.time() + 60)), what="the alarm stored")
        os.kill(engine._process.pid, signal.SIGKILL)
        deltas.wait(lambda: deltas.seen.feeds["air"].state is FeedState.DOWN, "the feed down")
        assert engine.restarts == 0
        engine.pipeline.acknowledge([alarm_id], operator, "seen while the engine was down")
        assert engine.held_commands() == 1
        deltas.wait(lambda: engine.restarts == 1, "the engine started again", timeout=20.0)
        deltas.wait(
            lambda: (
                alarm_id in deltas.seen.alarms and deltas.seen.alarms[alarm_id].acked_by == "op"
            ),
            "the held acknowledgement applied by the new engine",
            timeout=20.0,
        )
        assert engine.held_commands() == 0
        assert deltas.seen.action_results[-1].changed == (alarm_id,)


def test_a_message_the_window_cannot_take_is_logged_and_skipped(
    brokers: Callable[..., Broker],
    tmp_path: Path,
    cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = brokers()
    damaged: list[bytes] = []

    class OnceDamaged:
        """``pickle`` for the reading thread, whose first delta after arming is damaged."""

        armed = False

        @staticmethod
        def loads(data: bytes) -> object:
            if OnceDamaged.armed and not damaged:
                damaged.append(data)
                raise pickle.UnpicklingError("a damaged delta")
            return pickle.loads(data)

    monkeypatch.setattr(remote, "pickle", OnceDamaged)
    with engine_for(write_config(tmp_path, broker), cache_dir) as engine:
        deltas = Deltas(engine)
        deltas.wait_connected()
        OnceDamaged.armed = True
        broker.publish("air/aq-1", reading("aq-1", 20.0), qos=1)
        wait_for(lambda: bool(damaged), what="a delta damaged")
        broker.publish("air/aq-2", reading("aq-2", 21.0), qos=1)
        deltas.wait(lambda: "aq-2" in deltas.seen.entities, "the next delta taken")
        assert engine.restarts == 0 and engine._process.is_alive()
    assert "a message from the engine process could not be taken" in caplog.text
    assert "a damaged delta" in caplog.text
    assert "the window missed one delta" in caplog.text


def test_an_engine_whose_window_has_gone_stores_what_it_took_and_ends(
    brokers: Callable[..., Broker],
    tmp_path: Path,
    cache_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    broker = brokers()
    engine = EngineSession(load_config(write_config(tmp_path, broker)), cache_dir)
    engine.wait_ready()
    assert any(
        r.name == "services.ingest.pipeline" and "restored 0 entities" in r.getMessage()
        for r in caplog.records
    ), "the engine's log is logged here under its own names"
    deltas = Deltas(engine)
    deltas.wait(engine.feeds_connected, "connected")
    for index in range(50):
        broker.publish(f"air/aq-{index}", reading(f"aq-{index}", 5.0), qos=1)
    deltas.wait(lambda: len(deltas.seen.entities) == 50, "50 stations")
    commands = engine._commands
    assert commands is not None
    commands.close()  # as when the window's process dies: the engine's commands end
    report = engine.stop()  # here, only waits for the process (nothing can be sent now)
    assert not engine._process.is_alive()
    assert engine._process.exitcode == 0
    assert report.complete, report
    assert stored_stations(engine.cache.path) == 50
    assert any("window's process has gone" in r.getMessage() for r in caplog.records)


def test_a_damaged_cache_is_moved_aside_and_said_so(
    brokers: Callable[..., Broker], tmp_path: Path, cache_dir: Path
) -> None:
    broker = brokers()
    (cache_dir / FILE_NAME).write_bytes(b"this is not a database " * 400)
    with engine_for(write_config(tmp_path, broker), cache_dir) as engine:
        recovery = engine.cache_recovery
        assert recovery is not None
        assert "moved aside" in recovery.describe()
        assert recovery.moved_to.exists()


def test_an_engine_left_running_does_not_hold_the_interpreter_at_exit(
    brokers: Callable[..., Broker], tmp_path: Path, cache_dir: Path
) -> None:
    broker = brokers()
    script = tmp_path / "forgets_to_stop.py"
    script.write_text(
        "from pathlib import Path\n"
        "from services.config import load_config\n"
        "from services.engine.remote import EngineSession\n"
        "if __name__ == '__main__':\n"
        f"    engine = EngineSession(load_config(Path({str(write_config(tmp_path, broker))!r})),"
        f" Path({str(cache_dir)!r}))\n"
        "    engine.wait_ready()\n",
        encoding="utf-8",
    )
    ended = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert ended.returncode == 0, ended.stderr
    assert "still running at exit; stopping it" in ended.stderr
