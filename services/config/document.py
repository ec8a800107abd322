"""Reading a config file's bytes into a TOML document that the loader can trust.

Everything that could otherwise end in a traceback is turned into a :class:`ConfigError`
here: a path that is a directory or a device, a file too large to be a config, a UTF-8
byte-order mark, bytes that are not UTF-8, nesting deep enough to exhaust Python's
recursion, integers too large for a float (TOML integers are 64-bit) and numbers with
more digits than Python converts.
"""

from __future__ import annotations

import logging
import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from services.config.errors import ConfigError

log = logging.getLogger(__name__)

MAX_CONFIG_BYTES = 1024 * 1024
"""A config file is never larger than this (a mistaken path to a log or a disk image is)."""
MAX_NESTING = 32
"""Tables and lists nested deeper than this are refused (a real config nests about 4)."""
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""TOML integers are 64-bit signed."""
UTF8_BOM = b"\xef\xbb\xbf"
_LIMITS = f"{INT_MIN} to {INT_MAX}"


def read_config_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the config file at ``path``; ConfigError when it cannot be one."""
    source = str(path)
    try:
        status = os.stat(path)
        if stat.S_ISDIR(status.st_mode):
            raise ConfigError(source, "", "is a directory, not a config file")
        if not stat.S_ISREG(status.st_mode):
            raise ConfigError(source, "", "is not a regular file")
        if status.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(source, "", _too_large(status.st_size))
        with Path(path).open("rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(source, "", "file not found") from None
    except OSError as error:
        raise ConfigError(source, "", f"cannot be read ({error.strerror or error})") from None
    except ValueError as error:  # e.g. a NUL byte in the path
        raise ConfigError(source, "", f"is not a usable path ({error})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(source, "", _too_large(len(data)))
    return data


def _too_large(size: int) -> str:
    return f"is {size:,} bytes; a config file is at most {MAX_CONFIG_BYTES:,} bytes"


def parse_document(data: bytes, source: str) -> dict[str, Any]:
    """Decode and parse TOML ``data``, then check every value (see the module docstring)."""
    if data.startswith(UTF8_BOM):
        raise ConfigError(
            source, "", "starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without BOM"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(
            source, "", f"is not UTF-8 text (byte {error.start}, line {line}); save it as UTF-8"
        ) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, "", f"is not valid TOML: {error}") from None
    except RecursionError:
        raise ConfigError(source, "", _too_deep()) from None
    except ValueError as error:  # tomllib converts digits with int(), which has a limit
        problem = "a number has too many digits" if "digits" in str(error) else str(error)
        raise ConfigError(source, "", f"is not valid TOML: {problem}") from None
    check_values(document, source)
    return document


def _too_deep() -> str:
    return f"is nested too deeply (tables and lists at most {MAX_NESTING} levels)"


def check_values(document: dict[str, Any], source: str) -> None:
    """Refuse nesting deeper than :data:`MAX_NESTING` and integers outside 64 bits.

    Walks the document without recursion, so no depth can exhaust the interpreter.
    """
    for key, value, depth in _walk(document):
        if depth > MAX_NESTING:
            raise ConfigError(source, key, _too_deep())
        if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:  # bool is within
            raise ConfigError(
                source, key, f"is too large a number (TOML integers are 64-bit: {_LIMITS})"
            )


def _walk(document: dict[str, Any]) -> Iterator[tuple[str, object, int]]:
    """Every value with its key path (``feeds[0].url``) and nesting depth (1 at the top)."""
    pending: list[tuple[str, object, int]] = [
        (str(key), value, 1) for key, value in reversed(document.items())
    ]
    while pending:  # a stack, children pushed in reverse: values come in document order
        key, value, depth = pending.pop()
        yield key, value, depth
        if depth > MAX_NESTING:
            continue
        if isinstance(value, dict):
            children = [(f"{key}.{name}", item) for name, item in value.items()]
        elif isinstance(value, list):
            children = [(f"{key}[{index}]", item) for index, item in enumerate(value)]
        else:
            continue
        pending.extend((child, item, depth + 1) for child, item in reversed(children))
