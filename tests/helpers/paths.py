"""Where the tests' data lives."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
"""The ``tests`` folder of this checkout."""

PAYLOAD_FIXTURES = TESTS / "fixtures" / "payloads"
"""The project's own payload samples, written for these tests."""

SHARED_INTEROP = TESTS.parents[1] / "shared" / "interop"
"""Externally written samples next to the project (``../shared/interop``); tests that use
them are skipped when the folder does not exist. Never copied into the project."""

REPO = TESTS.parent
"""The checkout's root (where ``python -m tests.helpers...`` runs)."""
