"""Config abuse: every hostile or broken file is one ConfigError naming file, key and problem.

The same cases run as ``cityops`` processes in tests/ui/test_startup_problems.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.config import ConfigError, MonitoringConfig, load_config
from services.config.document import MAX_CONFIG_BYTES, parse_document
from services.config.listen import ListenAddress, parse_listen_address
from tests.helpers.config_abuse import ABUSIVE_CONFIGS, AbusiveConfig, expected_line


@pytest.mark.parametrize("case", ABUSIVE_CONFIGS, ids=lambda case: case.name)
def test_abusive_config_is_one_config_error(tmp_path: Path, case: AbusiveConfig) -> None:
    path = case.write(tmp_path)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    error = raised.value
    assert error.source == str(path)
    line = f"cityops: config error: {error}"
    assert line.startswith(expected_line(path, case))
    assert line.isprintable(), "one line, no control characters"


def test_nesting_within_the_limit_is_fine() -> None:
    depth = 30
    text = "x = " + "[" * depth + "1" + "]" * depth + "\n"
    assert "x" in parse_document(text.encode(), "c.toml")


def test_64_bit_integers_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[broker]\nurl = "mqtt://127.0.0.1:1883"\nkeepalive = {2**63 - 1}\n')
    with pytest.raises(ConfigError, match=r"broker\.keepalive: must be between 5 and 3600"):
        load_config(path)


def test_oversized_file_and_device_and_nul_in_path(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (MAX_CONFIG_BYTES + 1))
    with pytest.raises(ConfigError, match="a config file is at most 1,048,576 bytes"):
        load_config(big)
    with pytest.raises(ConfigError, match="is not a regular file"):
        load_config("/dev/null")
    with pytest.raises(ConfigError, match="is not a usable path"):
        load_config(str(tmp_path / "a\0b.toml"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("")
    path.chmod(0)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(path)


def test_monitoring_listen(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    assert load_config(_write(path, "")).monitoring == MonitoringConfig(listen=None)
    config = load_config(_write(path, '[monitoring]\nlisten = "127.0.0.1:9464"\n'))
    assert config.monitoring.listen == ListenAddress("127.0.0.1", 9464)
    with pytest.raises(ConfigError, match=r"monitoring\.listen: is required"):
        load_config(_write(path, "[monitoring]\n"))
    with pytest.raises(ConfigError, match=r"monitoring\.port: is not a known setting"):
        load_config(_write(path, '[monitoring]\nlisten = "9464"\nport = 1\n'))


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected", "loopback"),
    [
        ("9464", ListenAddress("127.0.0.1", 9464), True),
        ("127.0.0.1:9464", ListenAddress("127.0.0.1", 9464), True),
        ("localhost:0", ListenAddress("localhost", 0), True),
        ("[::1]:9464", ListenAddress("::1", 9464), True),
        ("0.0.0.0:9464", ListenAddress("0.0.0.0", 9464), False),
        ("[::]:9464", ListenAddress("::", 9464), False),
        ("ops-wall-3.example:9100", ListenAddress("ops-wall-3.example", 9100), False),
    ],
)
def test_listen_addresses(text: str, expected: ListenAddress, loopback: bool) -> None:
    address = parse_listen_address(text)
    assert address == expected
    assert address.is_loopback is loopback
    assert parse_listen_address(str(address)) == address


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        (":9464", "names no host"),
        ("wall", "has no port"),
        ("127.0.0.1:65536", "is not a number from 0 to 65535"),
        ("127.0.0.1:\uff19\uff14\uff16\uff14", "is not a number from 0 to 65535"),
        ("::1:9464", "put an IPv6 address in brackets"),
        ("[wall]:9464", "is not an IPv6 address"),
        ("[::1]9464", "is not [IPv6]:PORT"),
        ("bad host:9464", "is not a host name or IP address"),
    ],
)
def test_bad_listen_addresses(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        parse_listen_address(text)
