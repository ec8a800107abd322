"""Run the ``cityops`` command from this checkout."""

from __future__ import annotations

import subprocess
import sys


def cityops_command(*args: str) -> list[str]:
    """The command line that runs ``cityops`` with ``args`` from this checkout."""
    return [sys.executable, "-m", "ui.app", *args]


def run_cityops(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``cityops`` to completion and capture its text output."""
    return subprocess.run(
        cityops_command(*args), capture_output=True, text=True, timeout=60, check=check
    )
