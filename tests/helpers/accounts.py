"""Accounts for tests: a cheap argon2id hasher, a clock the test moves, a filled users file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from argon2 import PasswordHasher

from services.auth.accounts import UserStore
from services.auth.roles import Role
from services.auth.signin import Authenticator

PASSWORD = "Tr0ub4dor&3-correct"
"""The password of every account :func:`users_file` writes (tests look for it in logs)."""


def fast_hasher() -> PasswordHasher:
    """argon2id with the smallest costs: the same hash format, in a millisecond."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class FakeClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def users_file(folder: Path, users: Mapping[str, Role]) -> UserStore:
    """A users file in ``folder`` with ``users`` (name → role), all with :data:`PASSWORD`."""
    store = UserStore(folder / "users.json", fast_hasher())
    for name, role in users.items():
        store.add(name, role, PASSWORD)
    return store


def authenticator(
    folder: Path, users: Mapping[str, Role], workstation: str = "WS-07"
) -> tuple[Authenticator, FakeClock]:
    """An authenticator over a fresh users file, with its fake clock."""
    clock = FakeClock()
    return Authenticator(users_file(folder, users), workstation, clock=clock), clock
