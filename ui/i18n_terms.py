"""Roles and permissions in the chosen language (what the status bar and refusals say)."""

from __future__ import annotations

from services.auth.roles import Permission, Role
from widgets.i18n import QT_TRANSLATE_NOOP, translate

ROLE_TEXT: dict[Role, str] = {
    Role.VIEWER: QT_TRANSLATE_NOOP("Role", "viewer"),
    Role.OPERATOR: QT_TRANSLATE_NOOP("Role", "operator"),
    Role.SUPERVISOR: QT_TRANSLATE_NOOP("Role", "supervisor"),
    Role.ADMIN: QT_TRANSLATE_NOOP("Role", "admin"),
}
PERMISSION_TEXT: dict[Permission, str] = {
    Permission.ACKNOWLEDGE: QT_TRANSLATE_NOOP("Permission", "acknowledge"),
    Permission.SHELVE: QT_TRANSLATE_NOOP("Permission", "shelve"),
    Permission.COMMENT: QT_TRANSLATE_NOOP("Permission", "comment"),
    Permission.WORK_ON_INCIDENTS: QT_TRANSLATE_NOOP("Permission", "work on incidents"),
    Permission.OUT_OF_SERVICE: QT_TRANSLATE_NOOP("Permission", "out of service"),
    Permission.CLOSE_INCIDENT: QT_TRANSLATE_NOOP("Permission", "close incident"),
    Permission.LEAVE_KIOSK: QT_TRANSLATE_NOOP("Permission", "leave kiosk"),
    Permission.MANAGE_USERS: QT_TRANSLATE_NOOP("Permission", "manage users"),
}


def role_text(role: Role) -> str:
    """``operator``: a role as the window names it."""
    return translate("Role", ROLE_TEXT.get(role, role.value))


def permission_text(permission: Permission) -> str:
    """``acknowledge``: what a permission allows, in words."""
    return translate("Permission", PERMISSION_TEXT.get(permission, permission.value))
