"""Config files that abuse the parser: each must end in one ``FILE: KEY: PROBLEM`` line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEEP = 100_000
"""Nesting far beyond Python's recursion limit."""


@dataclass(frozen=True)
class AbusiveConfig:
    """A config file's content (or a directory in its place) and the error it must give."""

    name: str
    content: bytes | None
    """None: the config path is a directory."""
    key: str
    problem: str

    def write(self, folder: Path) -> Path:
        path = folder / f"{self.name}.toml"
        if self.content is None:
            path.mkdir()
        else:
            path.write_bytes(self.content)
        return path


HTTP_FEED = b'[[feeds]]\nname = "h"\nurl = "http://127.0.0.1:1/x"\n'
MQTT_FEED = b'[broker]\nurl = "mqtt://127.0.0.1:1883"\n[[feeds]]\nname = "m"\ntopic = "a/#"\n'

ABUSIVE_CONFIGS = [
    AbusiveConfig(
        "int-too-large-for-float",
        b"[cache]\nretention_days = 1" + b"0" * 400 + b"\n",
        "cache.retention_days",
        "is too large a number (TOML integers are 64-bit",
    ),
    AbusiveConfig(
        "int-in-a-list-too-large",
        b"[map]\ncenter = [1" + b"0" * 400 + b", 2]\n",
        "map.center[0]",
        "is too large a number",
    ),
    AbusiveConfig(
        "float-overflows-to-inf",
        b"[cache]\nretention_days = 1e400\n",
        "cache.retention_days",
        "must be a finite number, got inf",
    ),
    AbusiveConfig(
        "more-digits-than-python-converts",
        b"[cache]\nretention_days = 1" + b"0" * 5000 + b"\n",
        "",
        "is not valid TOML: a number has too many digits",
    ),
    AbusiveConfig(
        "arrays-nested-past-the-recursion-limit",
        b"x = " + b"[" * DEEP + b"]" * DEEP + b"\n",
        "",
        "is nested too deeply",
    ),
    AbusiveConfig(
        "inline-tables-nested-past-the-recursion-limit",
        b"[app]\ntitle = " + b"{a=" * 5000 + b"1" + b"}" * 5000 + b"\n",
        "",
        "is nested too deeply",
    ),
    AbusiveConfig(
        "table-headers-nested-deeply",
        b"[" + b".".join(b"t" for _ in range(40)) + b"]\nx = 1\n",
        "t" + ".t" * 32,
        "is nested too deeply",
    ),
    AbusiveConfig(
        "poll-interval-overflows-a-timestamp",
        HTTP_FEED + b"interval = 1e300\n",
        "feeds[0].interval",
        "must be at most 604,800 seconds, got 1e+300",
    ),
    AbusiveConfig(
        "timeout-overflows-a-timestamp",
        HTTP_FEED + b"timeout = 1e300\n",
        "feeds[0].timeout",
        "must be at most 3,600 seconds",
    ),
    AbusiveConfig(
        "stale-after-overflows-a-timestamp",
        MQTT_FEED + b"stale_after = 9223372036854775807\n",
        "feeds[0].stale_after",
        "must be at most 31,622,400 seconds",
    ),
    AbusiveConfig(
        "retention-overflows-a-timestamp",
        b"[cache]\nretention_days = 1e300\n",
        "cache.retention_days",
        "must be at most 3,650 days",
    ),
    AbusiveConfig(
        "utf8-byte-order-mark",
        b'\xef\xbb\xbf[app]\ntitle = "x"\n',
        "",
        "starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without BOM",
    ),
    AbusiveConfig(
        "latin-1-bytes",
        b'[app]\ntitle = "caf\xe9"\n',
        "",
        "is not UTF-8 text (byte 18, line 2)",
    ),
    AbusiveConfig("a-directory", None, "", "is a directory, not a config file"),
    AbusiveConfig(
        "control-characters-in-a-key",
        b'"evil\\u001b[2J\\nkey" = 1\n',
        "evil\\x1b[2J\\nkey",
        "is not a known setting",
    ),
    AbusiveConfig(
        "bad-metrics-address",
        b'[monitoring]\nlisten = "127.0.0.1:99999"\n',
        "monitoring.listen",
        "port '99999' is not a number from 0 to 65535",
    ),
]


def expected_line(path: Path, case: AbusiveConfig) -> str:
    """The start of the one line ``cityops`` prints for ``case`` (``cityops: config error:
    FILE: KEY: PROBLEM``, without ``KEY:`` when the whole file is at fault)."""
    where = f"{path}: {case.key}: " if case.key else f"{path}: "
    return f"cityops: config error: {where}{case.problem}"
