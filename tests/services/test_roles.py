"""Roles and permissions: the table the services enforce."""

from __future__ import annotations

import pytest

from services.auth.roles import Permission, Role, allowed


def test_each_role_has_what_the_roles_below_it_have_and_more() -> None:
    table = {role: {p for p in Permission if allowed(role, p)} for role in Role}
    assert table[Role.VIEWER] == set()
    assert table[Role.OPERATOR] == {
        Permission.ACKNOWLEDGE,
        Permission.SHELVE,
        Permission.COMMENT,
        Permission.WORK_ON_INCIDENTS,
    }
    assert table[Role.SUPERVISOR] - table[Role.OPERATOR] == {
        Permission.OUT_OF_SERVICE,
        Permission.CLOSE_INCIDENT,
        Permission.LEAVE_KIOSK,
    }
    assert table[Role.ADMIN] == set(Permission)


def test_role_names_are_checked() -> None:
    assert Role.parse(" Supervisor ") is Role.SUPERVISOR
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        Role.parse("boss")
