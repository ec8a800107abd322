"""Workstations as processes (``tests.helpers.session_runner``) that a test drives through
their stdin, for tests of what several workstations on one broker share."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from tests.helpers.paths import REPO
from tests.helpers.session_runner import READY_LINE

RUNNER = "tests.helpers.session_runner"
WORKSTATION_CONFIG = """
[app]
operator = "{operator}"
workstation = "{workstation}"
[broker]
url = "mqtt://127.0.0.1:{port}"
username = "{account}"
keepalive = 5
[sharing]
site = "yiyang"
[[feeds]]
name = "air"
topic = "yiyang/env/air/#"
format = "json"
domain = "environment"
qos = 1
[[rules]]
metric = "pm25"
high = 75
high_high = 150
"""


class Workstation:
    """One workstation's services in a process of its own, acting on stdin commands."""

    def __init__(self, root: Path, name: str, port: int) -> None:
        self.name = name
        self.operator = f"op-{name}"
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "cityops.toml"
        self.config.write_text(
            WORKSTATION_CONFIG.format(
                operator=self.operator, workstation=f"ws-{name}", port=port, account=f"acct-{name}"
            )
        )
        self.cache_dir = folder / "cache"
        self.log_path = folder / "app.log"
        self.process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str] = queue.Queue()

    def start(self, timeout: float = 30.0) -> None:
        """Start and wait until its feed and sharing connections are up."""
        with self.log_path.open("a") as log_file:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.helpers.session_runner",
                    str(self.config),
                    str(self.cache_dir),
                ],
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                text=True,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            )
        assert self.process.stdout is not None
        self._lines = queue.Queue()
        threading.Thread(
            target=self._read, args=(self.process.stdout,), name=f"{self.name}-stdout", daemon=True
        ).start()
        line = self._line(timeout)
        if line != READY_LINE:
            raise AssertionError(f"{self.name} did not connect ({line!r}):\n{self.log_tail()}")

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line.strip())

    def _line(self, timeout: float = 15.0) -> str:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            pass
        raise AssertionError(f"{self.name} said nothing for {timeout} s:\n{self.log_tail()}")

    def send(self, line: str) -> None:
        """Write a command without waiting for its answer."""
        process = self.process
        assert process is not None and process.stdin is not None
        process.stdin.write(line + "\n")
        process.stdin.flush()

    def answer(self, word: str) -> Any:
        """The JSON of the next line starting with ``word``."""
        while True:
            line = self._line()
            head, _, body = line.partition(" ")
            if head == word:
                return json.loads(body)
            if head == "error":
                raise AssertionError(f"{self.name}: {line}")

    def ask(self, line: str, word: str) -> Any:
        self.send(line)
        return self.answer(word)

    def alarms(self) -> dict[str, dict[str, Any]]:
        """Every alarm's state and operator fields, by alarm id."""
        return {alarm["id"]: alarm for alarm in self.ask("alarms", "alarms")}

    def stop(self) -> None:
        process = self.process
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        finally:
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
            self.process = None

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
