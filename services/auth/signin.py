"""Signing in: checking a name and password against the users file, slowing down guessers,
and deciding whether this workstation signs people in at all.

Repeated failures for one user name make that name wait before its next attempt: 1 s after
the first, then 2, 4, 8 … up to :data:`MAX_DELAY_S`; a success, or :data:`FORGET_AFTER_S`
without failures, starts again from nothing. Attempts made while a name must wait are
refused without looking at the password, so they teach a guesser nothing.

Logs name the person and the workstation, never a password. A failed sign-in under a name
that has no account is logged without that name: people type their password into the name
field by mistake.
"""

from __future__ import annotations

import enum
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from services.auth.accounts import (
    MAX_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    AccountsError,
    UserStore,
    default_users_file,
    name_key,
)
from services.auth.roles import Principal, Role, default_workstation
from services.config.schema import AppConfig

log = logging.getLogger(__name__)

FIRST_DELAY_S = 1.0
MAX_DELAY_S = 30.0
FORGET_AFTER_S = 15 * 60.0
"""Failures this long ago no longer count."""
MAX_TRACKED_NAMES = 1000
"""At most this many names are remembered (the oldest go first), so guessing names
cannot make the table grow without bound."""
WRONG = "Wrong user name or password."


class AuthMode(enum.StrEnum):
    """Whether the window asks who is working."""

    SIGN_IN = "sign-in"
    SINGLE_USER = "single-user"


def backoff_delay(failures: int, first: float = FIRST_DELAY_S, cap: float = MAX_DELAY_S) -> float:
    """Seconds to wait after ``failures`` failures in a row: 0, then 1, 2, 4 … up to ``cap``."""
    if failures <= 0:
        return 0.0
    return min(cap, first * 2.0 ** min(failures - 1, 32))


@dataclass(frozen=True, slots=True)
class SignInResult:
    """The outcome of one attempt: who signed in, or why not and how long to wait."""

    principal: Principal | None
    message: str = ""
    retry_after: float = 0.0

    @property
    def ok(self) -> bool:
        return self.principal is not None


@dataclass(slots=True)
class _Failures:
    count: int
    last: float
    not_before: float


class Authenticator:
    """Signs people in against a :class:`UserStore` from one workstation.

    ``clock`` is a monotonic clock in seconds (injected by tests).
    """

    def __init__(
        self,
        store: UserStore,
        workstation: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        first_delay: float = FIRST_DELAY_S,
        max_delay: float = MAX_DELAY_S,
    ) -> None:
        self.store = store
        self.workstation = workstation
        self._clock = clock
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._failures: dict[str, _Failures] = {}
        self._decoy_hash = ""

    def wait_for(self, name: str) -> float:
        """Seconds until ``name`` may try again (0 when it may now)."""
        record = self._failures.get(name_key(name))
        return 0.0 if record is None else max(0.0, record.not_before - self._clock())

    def failures(self, name: str) -> int:
        """Failed attempts in a row for ``name``."""
        record = self._failures.get(name_key(name))
        return 0 if record is None else record.count

    def sign_in(self, name: str, password: str) -> SignInResult:
        """Check ``name`` and ``password``; the principal on success."""
        name = name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            return SignInResult(None, "Enter your user name.")
        if not password:
            return SignInResult(None, "Enter your password.")
        now = self._clock()
        self._forget_old(now)
        wait = self.wait_for(name)
        if wait > 0:
            seconds = math.ceil(wait)
            return SignInResult(
                None, f"Too many failed attempts: try again in {seconds} s.", retry_after=wait
            )
        try:
            account = self.store.find(name)
        except AccountsError as error:
            log.error("sign-in on %r impossible: %s", self.workstation, error)
            return SignInResult(None, f"The accounts cannot be read: {error}")
        hashed = account.password_hash if account is not None else self._decoy()
        try:
            matched = len(password) <= MAX_PASSWORD_LENGTH and self.store.hasher.verify(
                hashed, password
            )
        except VerifyMismatchError:
            matched = False
        except (VerificationError, InvalidHashError):
            if account is not None:
                log.error("the stored hash of %r cannot be checked", account.name)
            matched = False
        if account is None or not matched:
            wait = self._failed(name, now)
            if account is None:
                log.warning(
                    "failed sign-in on %r: no such user (the name is not logged: it may be "
                    "a mistyped password); next attempt for it in %g s",
                    self.workstation,
                    wait,
                )
            else:
                log.warning(
                    "failed sign-in as %r on %r: wrong password (%d in a row); "
                    "next attempt in %g s",
                    account.name,
                    self.workstation,
                    self.failures(name),
                    wait,
                )
            return SignInResult(None, WRONG, retry_after=wait)
        self._failures.pop(name_key(name), None)
        log.info("signed in: %r (%s) on %r", account.name, account.role.value, self.workstation)
        return SignInResult(Principal(account.name, account.role, self.workstation))

    def _failed(self, name: str, now: float) -> float:
        key = name_key(name)
        record = self._failures.pop(key, None)  # re-inserted last: the dict stays in age order
        count = 1 if record is None else record.count + 1
        wait = backoff_delay(count, self._first_delay, self._max_delay)
        self._failures[key] = _Failures(count, now, now + wait)
        while len(self._failures) > MAX_TRACKED_NAMES:
            del self._failures[next(iter(self._failures))]
        return wait

    def _forget_old(self, now: float) -> None:
        stale = [key for key, r in self._failures.items() if now - r.last > FORGET_AFTER_S]
        for key in stale:
            del self._failures[key]

    def _decoy(self) -> str:
        """A hash to check unknown names against, so they take as long as known ones."""
        if not self._decoy_hash:
            self._decoy_hash = self.store.hasher.hash("cityops: no such account")
        return self._decoy_hash


def users_file_of(config: AppConfig) -> Path:
    """The users file the config names, else the default one."""
    return config.auth.users_file or default_users_file()


def choose_mode(config: AppConfig) -> AuthMode:
    """Whether this workstation signs people in, and a log line saying which and why.

    ``[auth] mode = "auto"`` (the default) signs in when the users file exists and is
    single-user otherwise, and always in the demo; a users file that is there but cannot be
    read still means sign-in (and then no one gets in), never silently single-user.
    """
    mode = config.auth.mode
    path = users_file_of(config)
    if mode == AuthMode.SINGLE_USER:
        log.info("single-user mode ([auth] mode): %r acts as operator", config.operator)
        return AuthMode.SINGLE_USER
    if mode == AuthMode.SIGN_IN:
        log.info("sign-in required ([auth] mode); accounts in %s", path)
        return AuthMode.SIGN_IN
    if config.demo:
        log.info("single-user mode (the demo): %r acts as operator", config.operator)
        return AuthMode.SINGLE_USER
    try:
        present = path.exists() or path.is_symlink()
    except OSError:
        present = True
    if present:
        log.info("sign-in required: the accounts file %s exists ([auth] mode = auto)", path)
        return AuthMode.SIGN_IN
    log.info(
        "single-user mode: no accounts file at %s ([auth] mode = auto), %r acts as operator",
        path,
        config.operator,
    )
    return AuthMode.SINGLE_USER


def workstation_of(config: AppConfig) -> str:
    """This workstation's name: ``[app] workstation``, else the host name."""
    return config.workstation or default_workstation()


def single_user(config: AppConfig) -> Principal:
    """The configured ``[app] operator``, acting with the operator role."""
    return Principal(config.operator, Role.OPERATOR, workstation_of(config))


def authenticator_for(config: AppConfig) -> Authenticator | None:
    """An authenticator when this workstation signs people in, None in single-user mode;
    AccountsError when sign-in is required but nobody could sign in (no readable accounts)."""
    if choose_mode(config) is AuthMode.SINGLE_USER:
        return None
    store = UserStore(users_file_of(config))
    accounts = store.accounts()
    if not accounts:
        command = "cityops users add NAME --role admin"
        if config.auth.users_file is not None:
            command += f" --config {config.source}"
        raise AccountsError(
            f"sign-in is required but {store.path} has no accounts: add one with `{command}`"
        )
    return Authenticator(store, workstation_of(config))
