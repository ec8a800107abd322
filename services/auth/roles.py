"""Roles and what each may do. The services check these; the UI only offers what they allow.

- **viewer**: sees everything, changes nothing (walls, visitors);
- **operator**: acknowledges, shelves, comments, opens incidents;
- **supervisor**: as operator, plus out-of-service, closing incidents, leaving kiosk mode;
- **admin**: as supervisor, plus managing accounts.
"""

from __future__ import annotations

import enum
import socket
from dataclasses import dataclass


class Role(enum.StrEnum):
    """A person's role, from least to most allowed."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    @classmethod
    def parse(cls, text: str) -> Role:
        """The role named ``text``; ValueError naming the roles otherwise."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(role.value for role in cls)
            raise ValueError(f"unknown role {text!r} (expected one of {names})") from None


class Permission(enum.StrEnum):
    """Something a person may be allowed to do."""

    ACKNOWLEDGE = "acknowledge"
    SHELVE = "shelve"
    COMMENT = "comment"
    WORK_ON_INCIDENTS = "work_on_incidents"
    """Open incidents, change their title, priority, status (but closing) and owner, link
    alarms and entities to them, write notes on them."""
    OUT_OF_SERVICE = "out_of_service"
    CLOSE_INCIDENT = "close_incident"
    LEAVE_KIOSK = "leave_kiosk"
    MANAGE_USERS = "manage_users"


LEAST_ROLE: dict[Permission, Role] = {
    Permission.ACKNOWLEDGE: Role.OPERATOR,
    Permission.SHELVE: Role.OPERATOR,
    Permission.COMMENT: Role.OPERATOR,
    Permission.WORK_ON_INCIDENTS: Role.OPERATOR,
    Permission.OUT_OF_SERVICE: Role.SUPERVISOR,
    Permission.CLOSE_INCIDENT: Role.SUPERVISOR,
    Permission.LEAVE_KIOSK: Role.SUPERVISOR,
    Permission.MANAGE_USERS: Role.ADMIN,
}
"""The least role that has each permission (every higher role has it too)."""


def allowed(role: Role, permission: Permission) -> bool:
    """Whether ``role`` has ``permission``."""
    return role.rank >= LEAST_ROLE[permission].rank


def default_workstation() -> str:
    """This machine's name, the default ``[app] workstation``."""
    return socket.gethostname() or "workstation"


@dataclass(frozen=True, slots=True)
class Principal:
    """The person acting, with their role, at a workstation."""

    user: str
    role: Role
    workstation: str = ""

    def may(self, permission: Permission) -> bool:
        return allowed(self.role, permission)
