"""Local accounts and signing in: the users file, argon2id hashes, back-off after failures,
the sign-in mode, and passwords kept out of logs."""

from __future__ import annotations

import json
import logging
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from services.auth.accounts import (
    AccountsError,
    UserStore,
    default_users_file,
    password_problem,
)
from services.auth.roles import Principal, Role
from services.auth.signin import (
    MAX_DELAY_S,
    MAX_TRACKED_NAMES,
    WRONG,
    Authenticator,
    AuthMode,
    authenticator_for,
    backoff_delay,
    choose_mode,
    single_user,
)
from services.config import AppConfig, ConfigError
from services.config.loader import parse_config
from services.config.schema import AuthConfig
from tests.helpers.accounts import PASSWORD, authenticator, fast_hasher, users_file

# -- the users file ----------------------------------------------------------------------


def test_accounts_round_trip_as_argon2id_hashes_in_a_private_file(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    store = users_file(folder, {"li.wei": Role.OPERATOR, "张敏": Role.SUPERVISOR})
    again = UserStore(store.path, fast_hasher())
    assert [(a.name, a.role) for a in again.accounts()] == [
        ("li.wei", Role.OPERATOR),
        ("张敏", Role.SUPERVISOR),
    ]
    text = store.path.read_text(encoding="utf-8")
    assert PASSWORD not in text
    assert "张敏" in text  # readable, not \\u-escaped
    document = json.loads(text)
    assert document["cityops_users"] == 1
    for entry in document["users"]:
        assert entry["hash"].startswith("$argon2id$")
        assert fast_hasher().verify(entry["hash"], PASSWORD)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert [p.name for p in folder.iterdir()] == ["users.json"]  # no temporary file left


def test_names_are_unique_whatever_their_case_or_width(tmp_path: Path) -> None:
    store = users_file(tmp_path, {"Alice": Role.OPERATOR})
    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in "Alice")  # full-width Latin letters
    for taken in ("alice", " ALICE ", wide):
        with pytest.raises(AccountsError, match="exists already"):
            store.add(taken, Role.VIEWER, PASSWORD)
    assert store.find(wide.lower()) is not None
    with pytest.raises(AccountsError, match="control characters"):
        store.add("bob\nroot", Role.VIEWER, PASSWORD)
    with pytest.raises(AccountsError, match="must not be empty"):
        store.add("   ", Role.VIEWER, PASSWORD)


def test_passwords_are_checked_and_never_quoted() -> None:
    assert password_problem("short") == "a password needs at least 8 characters"
    assert "line breaks" in password_problem("long enough\nbut two lines")
    assert password_problem(PASSWORD) == ""


def test_set_password_and_remove(tmp_path: Path) -> None:
    store = users_file(tmp_path, {"alice": Role.OPERATOR, "bob": Role.VIEWER})
    before = store.find("alice")
    assert before is not None
    store.set_password("ALICE", "a new passphrase")
    after = store.find("alice")
    assert after is not None and after.role is Role.OPERATOR
    assert after.password_hash != before.password_hash
    assert store.hasher.verify(after.password_hash, "a new passphrase")
    assert store.remove("bob").name == "bob"
    assert [a.name for a in store.accounts()] == ["alice"]
    with pytest.raises(AccountsError, match="no user 'bob'"):
        store.remove("bob")
    with pytest.raises(AccountsError, match="at least 8"):
        store.set_password("alice", "short")


def test_a_failed_write_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "shared"
    store = users_file(folder, {"alice": Role.OPERATOR})
    before = store.path.read_bytes()

    def broken_replace(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(AccountsError, match="cannot write: No space left on device"):
        store.add("bob", Role.VIEWER, PASSWORD)
    assert store.path.read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["users.json"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"[]", '"cityops_users": 1 missing'),
        (b'{"cityops_users": 1, "users": {}}', '"users" must be a list'),
        (b'{"cityops_users": 1, "users": [{"name": "a"}]}', "needs a name, a role and a hash"),
        (
            b'{"cityops_users": 1, "users": [{"name": "a", "role": "boss", "hash": "$argon2id$"}]}',
            "unknown role 'boss'",
        ),
        (
            b'{"cityops_users": 1, "users": [{"name": "a", "role": "admin", "hash": "plain"}]}',
            "not an argon2id hash",
        ),
        (
            b'{"cityops_users": 1, "users": [{"name": "a", "role": "admin", "hash": "$argon2id$"},'
            b' {"name": "A", "role": "viewer", "hash": "$argon2id$"}]}',
            "'A' is there twice",
        ),
    ],
)
def test_a_bad_users_file_is_one_error_naming_it(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "users.json"
    path.write_bytes(content)
    with pytest.raises(AccountsError) as raised:
        UserStore(path).accounts()
    assert str(raised.value).startswith(f"{path}: ")
    assert problem in str(raised.value)


def test_the_default_file_is_in_the_platform_config_folder(isolated_user_dirs: Path) -> None:
    assert default_users_file() == isolated_user_dirs / "xdg_config_home" / "cityops" / "users.json"
    assert UserStore(default_users_file()).accounts() == []


# -- signing in --------------------------------------------------------------------------


def test_the_right_password_signs_in_with_role_and_workstation(tmp_path: Path) -> None:
    auth, _clock = authenticator(tmp_path, {"li.wei": Role.SUPERVISOR})
    result = auth.sign_in(" LI.WEI ", PASSWORD)
    assert result.ok
    assert result.principal == Principal("li.wei", Role.SUPERVISOR, "WS-07")


def test_failures_slow_down_per_name_doubling_up_to_a_cap(tmp_path: Path) -> None:
    auth, clock = authenticator(tmp_path, {"alice": Role.OPERATOR, "bob": Role.VIEWER})
    waits = []
    for _ in range(8):
        result = auth.sign_in("alice", "wrong password")
        assert not result.ok and result.message == WRONG
        waits.append(result.retry_after)
        assert auth.wait_for("alice") == result.retry_after
        clock.advance(result.retry_after)
    assert waits == [1, 2, 4, 8, 16, 30, 30, 30]
    assert [backoff_delay(n) for n in range(8)] == [0, 1, 2, 4, 8, 16, 30, 30]
    assert MAX_DELAY_S == 30
    # Another name is not slowed down by alice's failures.
    assert auth.wait_for("bob") == 0
    assert auth.sign_in("bob", PASSWORD).ok


def test_attempts_while_waiting_are_refused_unchecked_even_with_the_right_password(
    tmp_path: Path,
) -> None:
    auth, clock = authenticator(tmp_path, {"alice": Role.OPERATOR})
    auth.sign_in("alice", "wrong password")
    clock.advance(0.5)
    early = auth.sign_in("ALICE", PASSWORD)
    assert not early.ok
    assert early.retry_after == pytest.approx(0.5)
    assert early.message == "Too many failed attempts: try again in 1 s."
    assert auth.failures("alice") == 1  # a refused attempt is not a new failure
    clock.advance(0.5)
    assert auth.sign_in("alice", PASSWORD).ok
    assert auth.failures("alice") == 0
    assert auth.wait_for("alice") == 0


def test_unknown_names_fail_like_wrong_passwords_and_are_slowed_too(tmp_path: Path) -> None:
    auth, clock = authenticator(tmp_path, {"alice": Role.OPERATOR})
    first = auth.sign_in("mallory", PASSWORD)
    assert (first.ok, first.message, first.retry_after) == (False, WRONG, 1)
    clock.advance(1)
    assert auth.sign_in("mallory", PASSWORD).retry_after == 2


def test_old_failures_are_forgotten_and_the_table_is_bounded(tmp_path: Path) -> None:
    auth, clock = authenticator(tmp_path, {"alice": Role.OPERATOR})
    for _ in range(3):
        clock.advance(auth.sign_in("alice", "wrong password").retry_after)
    assert auth.failures("alice") == 3
    clock.advance(16 * 60)
    assert auth.sign_in("alice", "wrong password").retry_after == 1
    for number in range(MAX_TRACKED_NAMES + 5):
        auth._failed(f"guess-{number}", clock())
    assert len(auth._failures) == MAX_TRACKED_NAMES
    assert auth.failures("guess-0") == 0


def test_an_unreadable_users_file_refuses_everyone(tmp_path: Path) -> None:
    auth, _clock = authenticator(tmp_path, {"alice": Role.OPERATOR})
    auth.store.path.write_text("not json")
    result = auth.sign_in("alice", PASSWORD)
    assert not result.ok
    assert "cannot be read" in result.message


def test_no_password_reaches_a_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    auth, clock = authenticator(tmp_path, {"alice": Role.OPERATOR})
    auth.store.set_password("alice", PASSWORD + "!")
    auth.store.add("carol", Role.VIEWER, PASSWORD)
    auth.sign_in("alice", PASSWORD)  # wrong now
    clock.advance(5)
    auth.sign_in("alice", PASSWORD + "!")
    auth.sign_in(PASSWORD, PASSWORD)  # a password typed into the name field
    auth.store.remove("carol")
    text = caplog.text
    assert PASSWORD not in text
    assert "$argon2id$" not in text
    assert "failed sign-in as 'alice' on 'WS-07': wrong password (1 in a row)" in text
    assert "signed in: 'alice' (operator) on 'WS-07'" in text
    assert "failed sign-in on 'WS-07': no such user (the name is not logged" in text
    assert repr(auth.store.accounts()[0]) == "Account(name='alice', role='operator')"


# -- the sign-in mode ----------------------------------------------------------------------


def config_with(tmp_path: Path, mode: str = "auto", *, demo: bool = False) -> AppConfig:
    return AppConfig(
        source=str(tmp_path / "city.toml"),
        operator="duty",
        workstation="WS-07",
        demo=demo,
        auth=AuthConfig(mode=mode, users_file=tmp_path / "users.json"),
    )


def test_auto_signs_in_when_the_users_file_exists_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="services.auth.signin")
    config = config_with(tmp_path)
    assert choose_mode(config) is AuthMode.SINGLE_USER
    assert "single-user mode: no accounts file at" in caplog.text
    assert authenticator_for(config) is None
    assert single_user(config) == Principal("duty", Role.OPERATOR, "WS-07")
    users_file(tmp_path, {"alice": Role.OPERATOR})
    caplog.clear()
    assert choose_mode(config) is AuthMode.SIGN_IN
    assert "sign-in required: the accounts file" in caplog.text
    assert isinstance(authenticator_for(config), Authenticator)


def test_the_demo_and_an_explicit_mode_decide_over_the_file(tmp_path: Path) -> None:
    users_file(tmp_path, {"alice": Role.OPERATOR})
    assert choose_mode(config_with(tmp_path, demo=True)) is AuthMode.SINGLE_USER
    assert choose_mode(config_with(tmp_path, "single-user")) is AuthMode.SINGLE_USER
    assert choose_mode(config_with(tmp_path, "sign-in", demo=True)) is AuthMode.SIGN_IN


def test_sign_in_without_any_account_is_an_error_not_single_user(tmp_path: Path) -> None:
    with pytest.raises(AccountsError, match="has no accounts: add one with `cityops users add"):
        authenticator_for(config_with(tmp_path, "sign-in"))
    store = users_file(tmp_path, {"alice": Role.OPERATOR})
    store.remove("alice")  # the file is there, empty: still sign-in, and nobody can
    with pytest.raises(AccountsError, match="has no accounts"):
        authenticator_for(config_with(tmp_path))
    store.path.write_text("{")
    with pytest.raises(AccountsError, match="not JSON"):
        authenticator_for(config_with(tmp_path))


# -- [auth] in the config ------------------------------------------------------------------


def test_auth_section_paths_are_relative_to_the_config(tmp_path: Path) -> None:
    config = parse_config(
        b'[auth]\nmode = "sign-in"\nusers_file = "shared/users.json"\n', "c.toml", tmp_path
    )
    assert config.auth == AuthConfig("sign-in", tmp_path / "shared" / "users.json")
    assert parse_config(b"", "c.toml", tmp_path).auth == AuthConfig()
    assert replace(config, auth=AuthConfig()).auth.mode == "auto"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'[auth]\nmode = "open"', "c.toml: auth.mode: must be one of auto, sign-in, single-user"),
        (b'[auth]\nusers = "x"', "c.toml: auth.users: is not a known setting"),
        (b'[auth]\nusers_file = "."', "c.toml: auth.users_file: is a folder, not a file"),
        (b"[auth]\nusers_file = 3", "c.toml: auth.users_file: must be a string"),
    ],
)
def test_auth_section_mistakes_are_one_line(tmp_path: Path, text: bytes, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(text, "c.toml", tmp_path)
    assert str(raised.value).startswith(message)
