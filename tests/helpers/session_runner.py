"""The app's services without a window, as a process of their own that tests can kill.

``python -m tests.helpers.session_runner CONFIG CACHE_DIR`` builds a
:class:`services.session.CitySession` from the TOML file ``CONFIG`` with its offline cache
in ``CACHE_DIR``, starts it, and prints ``connected`` on a line of its own once every broker
client is connected. SIGTERM (or SIGINT) stops it cleanly; SIGKILL is what the tests use to
crash it. Nothing here imports Qt.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from services.config import load_config
from services.session import CitySession

log = logging.getLogger(__name__)

READY_LINE = "connected"


def main(argv: list[str]) -> int:
    """Run until SIGTERM or SIGINT; 0 when everything received was stored."""
    config_path, cache_dir = Path(argv[0]), Path(argv[1])
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(threadName)s %(levelname)s %(name)s %(message)s"
    )
    stop = threading.Event()

    def request_stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    session = CitySession(load_config(config_path), cache_dir)
    session.start()
    announced = False
    while not stop.wait(0.02):
        if not announced and session.clients and all(c.connected for c in session.clients):
            print(READY_LINE, flush=True)
            announced = True
    report = session.stop()
    return 0 if report.complete else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
