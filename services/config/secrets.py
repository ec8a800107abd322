"""Secrets for the config: passwords and tokens from the environment or the OS keyring.

Secrets are never written in the config file; it only names where to find them.
"""

from __future__ import annotations

import os


def lookup_secret(env_name: str, keyring_service: str, username: str) -> str | None:
    """A secret from an environment variable, else from the OS keyring; None if neither."""
    if env_name and env_name in os.environ:
        return os.environ[env_name]
    if keyring_service:
        try:
            import keyring
        except ImportError:
            return None
        try:
            secret = keyring.get_password(keyring_service, username)
        except Exception:  # any keyring backend failure means "no secret"
            return None
        return secret if isinstance(secret, str) else None
    return None
