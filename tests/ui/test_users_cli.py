"""``cityops users``: add, passwd, remove and list local accounts from a shell."""

from __future__ import annotations

import io
import json
import logging
import stat
import subprocess
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from services.auth.accounts import AccountsError, UserStore
from tests.helpers.accounts import PASSWORD
from tests.helpers.cli import cityops_command, run_cityops
from ui.app import main
from ui.commands import read_new_password


class Terminal(io.StringIO):
    """stdin that says it is a terminal (the password comes from ``getpass`` then)."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config naming a users file next to it (relative path)."""
    path = tmp_path / "room" / "city.toml"
    path.parent.mkdir()
    path.write_text('[auth]\nusers_file = "accounts/users.json"\n')
    return path


def users(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """Run ``cityops users ARGS`` in this process with ``stdin`` (not a terminal)."""
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    code = main(["users", *args])
    return code, out.getvalue(), err.getvalue()


def test_users_round_trip_with_argon2id_hashes(
    monkeypatch: pytest.MonkeyPatch, config: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    file = config.parent / "accounts" / "users.json"
    c = ("--config", str(config))
    assert users(monkeypatch, "add", "li.wei", "--role", "operator", *c, stdin=PASSWORD + "\n")[
        :2
    ] == (0, f"added li.wei (operator) to {file}\n")
    assert users(monkeypatch, "add", "张敏", "--role", "supervisor", *c, stdin=PASSWORD)[0] == 0
    code, out, _err = users(monkeypatch, "list", *c)
    assert code == 0
    assert out == "li.wei  operator\n张敏      supervisor\n"
    assert "$argon2" not in out

    document = json.loads(file.read_text(encoding="utf-8"))
    hashes = {entry["name"]: entry["hash"] for entry in document["users"]}
    assert all(value.startswith("$argon2id$") for value in hashes.values())
    assert PasswordHasher().verify(hashes["li.wei"], PASSWORD)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600

    code, out, _err = users(monkeypatch, "passwd", "LI.WEI", *c, stdin="another passphrase\r\n")
    assert (code, out) == (0, f"changed the password of li.wei in {file}\n")
    changed = UserStore(file).find("li.wei")
    assert changed is not None
    assert changed.password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(changed.password_hash, "another passphrase")

    assert users(monkeypatch, "remove", "张敏", *c)[:2] == (
        0,
        f"removed 张敏 (supervisor) from {file}\n",
    )
    code, _out, err = users(monkeypatch, "remove", "li.wei", *c)
    assert code == 0 and "has no accounts left" in err
    code, out, err = users(monkeypatch, "list", *c)
    assert (code, out, err) == (0, "", f"cityops: no accounts in {file}\n")
    assert PASSWORD not in caplog.text
    assert "another passphrase" not in caplog.text


def test_mistakes_change_nothing(monkeypatch: pytest.MonkeyPatch, config: Path) -> None:
    c = ("--config", str(config))
    file = config.parent / "accounts" / "users.json"
    code, _out, err = users(monkeypatch, "add", "bob", "--role", "viewer", *c, stdin="short\n")
    assert (code, err) == (1, "cityops users: a password needs at least 8 characters\n")
    code, _out, err = users(monkeypatch, "add", "bob", "--role", "viewer", *c, stdin="")
    assert (code, err) == (1, "cityops users: no password on stdin (one line expected)\n")
    assert not file.exists()
    assert users(monkeypatch, "add", "bob", "--role", "viewer", *c, stdin=PASSWORD)[0] == 0
    code, _out, err = users(monkeypatch, "add", "BOB", "--role", "admin", *c, stdin=PASSWORD)
    assert (code, err) == (1, "cityops users: user 'BOB' exists already\n")
    code, _out, err = users(monkeypatch, "passwd", "eve", *c, stdin=PASSWORD)
    assert (code, err) == (1, f"cityops users: no user 'eve' in {file}\n")
    code, _out, err = users(monkeypatch, "remove", "eve", *c)
    assert code == 1
    with pytest.raises(SystemExit) as exited:
        users(monkeypatch, "add", "eve", "--role", "boss", *c)
    assert exited.value.code == 2


def test_a_bad_config_is_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[auth]\nmode = "open"\n')
    code, _out, err = users(monkeypatch, "list", "--config", str(bad))
    assert code == 2
    assert err.startswith(f"cityops: config error: {bad}: auth.mode: must be one of")


def test_without_config_the_platform_config_folder_is_used(
    monkeypatch: pytest.MonkeyPatch, isolated_user_dirs: Path
) -> None:
    assert users(monkeypatch, "add", "ops", "--role", "admin", stdin=PASSWORD)[0] == 0
    file = isolated_user_dirs / "xdg_config_home" / "cityops" / "users.json"
    assert [a.name for a in UserStore(file).accounts()] == ["ops"]


def test_on_a_terminal_the_password_is_asked_twice() -> None:
    prompts: list[str] = []
    answers = iter([PASSWORD, PASSWORD, PASSWORD, "something else"])

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    assert read_new_password("li.wei", Terminal(), ask) == PASSWORD
    assert prompts == ["New password for li.wei: ", "Repeat it: "]
    with pytest.raises(AccountsError, match="the two passwords differ; nothing changed"):
        read_new_password("li.wei", Terminal(), ask)


def test_users_as_a_real_command(tmp_path: Path, config: Path) -> None:
    """Through a real process and pipe: the password is one line of stdin."""
    added = subprocess.run(
        cityops_command("users", "add", "wang", "--role", "viewer", "--config", str(config)),
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    listed = run_cityops("users", "list", "--config", str(config))
    assert (listed.returncode, listed.stdout) == (0, "wang  viewer\n")
    assert PASSWORD not in added.stdout + added.stderr + listed.stdout + listed.stderr
