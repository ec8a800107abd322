"""The app's services without a window, as a process of their own that tests can kill.

``python -m tests.helpers.session_runner CONFIG CACHE_DIR`` builds a
:class:`services.session.CitySession` from the TOML file ``CONFIG`` with its offline cache
in ``CACHE_DIR``, starts it, and prints ``connected`` on a line of its own once every broker
client is connected. SIGTERM (or SIGINT) stops it cleanly; SIGKILL is what the tests use to
crash it. Nothing here imports Qt.

Lines on stdin act as the configured operator would at the window, one command each:
``ack ALARM``, ``shelve ALARM SECONDS REASON``, ``unshelve ALARM``, ``comment ALARM TEXT``,
``assign ALARM PERSON``; ``alarms`` prints one line ``alarms <JSON>`` with every alarm's
state and operator fields, ``status`` one line ``status <JSON>`` on the sharing connection.
Each action command prints ``done <JSON list of the alarms it changed>``.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from services.auth.roles import Principal, Role
from services.config import load_config
from services.ingest.commands import PendingAction
from services.model import Alarm
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
    who = Principal(session.config.operator, Role.OPERATOR, session.workstation)
    threading.Thread(
        target=_serve_commands, args=(session, who), name="runner-stdin", daemon=True
    ).start()
    announced = False
    while not stop.wait(0.02):
        sharing = session.sharing
        if (
            not announced
            and session.clients
            and all(c.connected for c in session.clients)
            and (sharing is None or sharing.connected)
        ):
            print(READY_LINE, flush=True)
            announced = True
    report = session.stop()
    return 0 if report.complete else 1


def _serve_commands(session: CitySession, who: Principal) -> None:
    """Run stdin commands (see the module docstring) until stdin closes."""
    pipeline = session.pipeline
    for line in sys.stdin:
        words = line.split(maxsplit=3)
        if not words:
            continue
        verb, args = words[0], words[1:]
        command: PendingAction | None = None
        if verb == "status":
            sharing = session.sharing
            connected = sharing is not None and sharing.connected
            waiting = 0 if sharing is None else sharing.waiting
            print("status " + json.dumps({"sharing": connected, "waiting": waiting}))
        elif verb == "alarms":
            print("alarms " + json.dumps([_alarm_fields(a) for a in pipeline.alarms.alarms()]))
        elif verb == "ack":
            command = pipeline.acknowledge([args[0]], who)
        elif verb == "shelve":
            command = pipeline.shelve([args[0]], who, float(args[1]), " ".join(args[2:]))
        elif verb == "unshelve":
            command = pipeline.unshelve([args[0]], who)
        elif verb == "comment":
            command = pipeline.comment([args[0]], who, " ".join(args[1:]))
        elif verb == "assign":
            command = pipeline.assign([args[0]], who, " ".join(args[1:]))
        else:
            print(f"error unknown command {verb!r}")
        if command is not None:
            result = command.wait(10.0)
            print("done " + json.dumps(None if result is None else result.changed))
        sys.stdout.flush()


def _alarm_fields(alarm: Alarm) -> dict[str, object]:
    keys = ("state", "raised_at", "acked_by", "acked_at", "shelved_until", "shelved_by")
    fields = {key: getattr(alarm, key) for key in keys}
    fields.update(id=alarm.id, assignee=alarm.assignee, comments=alarm.comments)
    if fields["shelved_until"] == float("inf"):
        fields["shelved_until"] = "cleared"
    return fields


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
