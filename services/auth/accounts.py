"""Local accounts: a users file with a role and an argon2id hash per person.

The file is named by ``[auth] users_file`` (default :func:`default_users_file`), so a control
room can share one. It is JSON, readable by people::

    {
      "cityops_users": 1,
      "users": [
        {"name": "li.wei", "role": "operator", "hash": "$argon2id$v=19$...", "changed": "..."}
      ]
    }

It is rewritten whole and atomically (a temporary file in the same folder, then
``os.replace``) with permissions 0600. Passwords are only ever hashed: they are never stored,
logged or put into an exception message.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs
from argon2 import PasswordHasher

from services.auth.roles import Role

log = logging.getLogger(__name__)

USERS_FILE_NAME = "users.json"
FILE_FORMAT = 1
"""The value of ``cityops_users`` in the files this version writes and reads."""
HASH_PREFIX = "$argon2id$"
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NAME_LENGTH = 64
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


class AccountsError(Exception):
    """A problem with the users file or with a request to change it (never holds a password)."""


def default_users_file() -> Path:
    """``users.json`` in the platform's per-user config folder."""
    return Path(platformdirs.user_config_dir("cityops", appauthor=False)) / USERS_FILE_NAME


def name_key(name: str) -> str:
    """What two spellings of one user name have in common (case and width folded)."""
    return unicodedata.normalize("NFKC", name.strip()).casefold()


def clean_name(name: str) -> str:
    """``name`` trimmed and normalised; AccountsError when it cannot be a user name."""
    cleaned = unicodedata.normalize("NFC", name.strip())
    if not cleaned:
        raise AccountsError("a user name must not be empty")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise AccountsError(f"a user name has at most {MAX_NAME_LENGTH} characters")
    if any(not (ch.isprintable() or ch == " ") for ch in cleaned):
        raise AccountsError("a user name must not contain control characters")
    return cleaned


def password_problem(password: str) -> str:
    """Why ``password`` cannot be used ("" when it can); the text never quotes it."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password has at most {MAX_PASSWORD_LENGTH} characters"
    if any(ch in "\r\n\0" for ch in password):
        return "a password must not contain line breaks or NUL characters"
    return ""


@dataclass(frozen=True, slots=True)
class Account:
    """One person who may sign in: name, role and the argon2id hash of their password."""

    name: str
    role: Role
    password_hash: str
    changed: str = ""
    """When the account or its password last changed (ISO 8601, UTC), for people reading it."""

    def __repr__(self) -> str:  # the hash stays out of reprs, and so out of logs
        return f"Account(name={self.name!r}, role={self.role.value!r})"


class UserStore:
    """The accounts in one users file; every call reads the file afresh (it may be shared)."""

    def __init__(self, path: Path, hasher: PasswordHasher | None = None) -> None:
        self.path = path
        self.hasher = hasher if hasher is not None else PasswordHasher()

    def exists(self) -> bool:
        return self.path.exists()

    def accounts(self) -> list[Account]:
        """Every account in the file (none when there is no file yet)."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        except OSError as error:
            raise AccountsError(f"{self.path}: cannot read: {error.strerror or error}") from None
        if size > MAX_FILE_BYTES:
            raise AccountsError(f"{self.path}: larger than {MAX_FILE_BYTES:,} bytes")
        try:
            data = self.path.read_bytes()
        except OSError as error:
            raise AccountsError(f"{self.path}: cannot read: {error.strerror or error}") from None
        return self._parse(data)

    def _parse(self, data: bytes) -> list[Account]:
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            raise AccountsError(f"{self.path}: not a users file (not JSON: {error})") from None
        if not isinstance(document, dict) or document.get("cityops_users") != FILE_FORMAT:
            raise AccountsError(f'{self.path}: not a users file ("cityops_users": 1 missing)')
        entries = document.get("users")
        if not isinstance(entries, list):
            raise AccountsError(f'{self.path}: "users" must be a list')
        accounts: list[Account] = []
        seen: set[str] = set()
        for index, entry in enumerate(entries):
            account = self._parse_entry(entry, f"users[{index}]")
            if name_key(account.name) in seen:
                raise AccountsError(f"{self.path}: users[{index}]: {account.name!r} is there twice")
            seen.add(name_key(account.name))
            accounts.append(account)
        return accounts

    def _parse_entry(self, entry: Any, where: str) -> Account:
        if not isinstance(entry, dict):
            raise AccountsError(f"{self.path}: {where}: must be an object")
        name, role, hashed = entry.get("name"), entry.get("role"), entry.get("hash")
        changed = entry.get("changed", "")
        if not isinstance(name, str) or not isinstance(role, str) or not isinstance(hashed, str):
            raise AccountsError(f"{self.path}: {where}: needs a name, a role and a hash")
        try:
            account = Account(clean_name(name), Role.parse(role), hashed, str(changed))
        except (AccountsError, ValueError) as error:
            raise AccountsError(f"{self.path}: {where}: {error}") from None
        if not hashed.startswith(HASH_PREFIX):
            raise AccountsError(f"{self.path}: {where}: the hash is not an argon2id hash")
        return account

    def find(self, name: str) -> Account | None:
        """The account called ``name`` (any case or width), if there is one."""
        key = name_key(name)
        return next((a for a in self.accounts() if name_key(a.name) == key), None)

    def add(self, name: str, role: Role, password: str) -> Account:
        """Add a new account; AccountsError when the name is taken or the password unfit."""
        name = clean_name(name)
        accounts = self.accounts()
        if any(name_key(a.name) == name_key(name) for a in accounts):
            raise AccountsError(f"user {name!r} exists already (change the password with passwd)")
        account = Account(name, role, self._hash(password), _now())
        self._write([*accounts, account])
        log.info("account %r (%s) added to %s", account.name, role.value, self.path)
        return account

    def set_password(self, name: str, password: str) -> Account:
        """Give an existing account a new password."""
        accounts = self.accounts()
        index = self._index(accounts, name)
        old = accounts[index]
        accounts[index] = Account(old.name, old.role, self._hash(password), _now())
        self._write(accounts)
        log.info("password of %r changed in %s", old.name, self.path)
        return accounts[index]

    def remove(self, name: str) -> Account:
        """Remove an account; returns it."""
        accounts = self.accounts()
        removed = accounts.pop(self._index(accounts, name))
        self._write(accounts)
        log.info("account %r removed from %s", removed.name, self.path)
        return removed

    def _index(self, accounts: list[Account], name: str) -> int:
        key = name_key(name)
        for index, account in enumerate(accounts):
            if name_key(account.name) == key:
                return index
        raise AccountsError(f"no user {name.strip()!r} in {self.path}")

    def _hash(self, password: str) -> str:
        problem = password_problem(password)
        if problem:
            raise AccountsError(problem)
        return self.hasher.hash(password)

    def _write(self, accounts: list[Account]) -> None:
        """Replace the file atomically: a private temporary file, synced, then renamed."""
        document = {
            "cityops_users": FILE_FORMAT,
            "users": [
                {
                    "name": a.name,
                    "role": a.role.value,
                    "hash": a.password_hash,
                    "changed": a.changed,
                }
                for a in accounts
            ],
        }
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        folder = self.path.parent
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            # mkstemp creates the file readable and writable by its owner only (0600).
            handle, temporary = tempfile.mkstemp(prefix=".users-", suffix=".tmp", dir=folder)
        except OSError as error:
            raise AccountsError(f"{self.path}: cannot write: {error.strerror or error}") from None
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except OSError as error:
            Path(temporary).unlink(missing_ok=True)
            raise AccountsError(f"{self.path}: cannot write: {error.strerror or error}") from None
        _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform allows it)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
