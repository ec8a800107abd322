"""What the window's process imports: with the engine process it never runs the session, so it
does not pay for importing it at start-up."""

from __future__ import annotations

import subprocess
import sys

SESSION_MODULES = (
    "services.session",
    "services.engine.child",
    "services.ingest.pipeline",
    "services.feeds.mqtt",
    "services.alarms.lifecycle",
)


def test_the_window_process_does_not_import_the_session() -> None:
    probe = (
        "import sys\n"
        "import ui.app, ui.runtime, services.engine.remote\n"
        f"print(sorted(m for m in {SESSION_MODULES!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
