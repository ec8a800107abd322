"""The one error of a configuration: which file, which key, what is wrong."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration problem, naming the file, the key and what is wrong."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        where = f"{source}: {_printable(key)}: " if key else f"{source}: "
        super().__init__(where + problem)


def _printable(key: str, limit: int = 200) -> str:
    """A key for the one-line message: control characters escaped, at most ``limit`` chars."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in key)
    return text if len(text) <= limit else text[:limit] + "…"
