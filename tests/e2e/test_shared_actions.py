"""Operator actions shared through the broker by workstations running as processes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.brokers import Broker, broker_factory
from tests.helpers.tcp_proxy import CuttableProxy
from tests.helpers.workstations import Workstation

pytestmark = pytest.mark.e2e

T0 = round(time.time()) - 60
HIGH_1 = "aq-1|pm25|high"
HIGH_2 = "aq-2|pm25|high"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with broker_factory(tmp_path / "brokers") as make:
        yield make()


def publish_readings(broker: Broker) -> None:
    """Two stations over the high limit, retained, so that late workstations raise the same
    occurrences (the raise time is the reading's time)."""
    for station in ("aq-1", "aq-2"):
        payload = {"id": station, "ts": T0, "lat": 28.55, "lon": 112.35, "pm25": 120}
        broker.publish(f"yiyang/env/air/{station}", json.dumps(payload).encode(), retain=True)


def wait_for(
    check: Callable[[], bool], what: str, workstations: list[Workstation], timeout: float = 15.0
) -> float:
    """Poll ``check`` until true; the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.05)
    states = "\n".join(f"{w.name}: {w.alarms()}" for w in workstations)
    raise AssertionError(f"not {what} after {timeout} s:\n{states}")


def operator_view(alarms: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """What every workstation must agree on."""
    return {
        key: (
            alarm["state"],
            alarm["raised_at"],
            alarm["acked_by"],
            alarm["acked_at"],
            alarm["shelved_until"],
            alarm["shelved_by"],
            alarm["assignee"],
            alarm["comments"],
        )
        for key, alarm in alarms.items()
    }


def test_workstations_converge_catch_up_and_send_what_they_did_offline(
    tmp_path: Path, broker: Broker
) -> None:
    proxy = CuttableProxy(broker.port)
    a = Workstation(tmp_path, "a", broker.port)
    b = Workstation(tmp_path, "b", broker.port)
    c = Workstation(tmp_path, "c", proxy.port)
    d = Workstation(tmp_path, "d", broker.port)
    running = [a, b, c]
    try:
        for workstation in running:
            workstation.start()
        publish_readings(broker)
        wait_for(lambda: all(len(w.alarms()) == 2 for w in running), "raised everywhere", running)

        # Concurrent actions on two workstations, nobody waiting for anybody; both
        # acknowledge the same alarm.
        started = time.monotonic()
        a.send(f"ack {HIGH_1}")
        b.send(f"shelve {HIGH_2} 1800 pump maintenance")
        b.send(f"ack {HIGH_1}")
        a.send(f"comment {HIGH_2} crew on the way")
        b.send(f"comment {HIGH_1} seen on camera 4")
        wait_for(
            lambda: c.alarms()[HIGH_1]["state"] == "acknowledged", "acknowledged on c", running
        )
        seen_on_c = time.monotonic() - started
        a_results = [a.answer("done"), a.answer("done")]
        b_results = [b.answer("done"), b.answer("done"), b.answer("done")]
        assert a_results == [[HIGH_1], [HIGH_2]]
        assert b_results[0] == [HIGH_2]
        assert b_results[1] in ([HIGH_1], []), "b's ack: done, or skipped if a's came first"
        assert b_results[2] == [HIGH_1]

        def converged(group: list[Workstation]) -> bool:
            views = [operator_view(w.alarms()) for w in group]
            return all(view == views[0] for view in views)

        wait_for(lambda: converged(running), "converged", running)
        view = a.alarms()
        assert view[HIGH_1]["state"] == "acknowledged"
        assert view[HIGH_1]["acked_by"] in {"op-a", "op-b"}
        assert view[HIGH_1]["comments"] == 1
        assert view[HIGH_2]["state"] == "shelved"
        assert view[HIGH_2]["shelved_by"] == "op-b"
        assert view[HIGH_2]["comments"] == 1

        # A workstation started later catches up from the retained state.
        d.start()
        running.append(d)
        wait_for(lambda: converged(running), "caught up on d", running)

        # Offline: c's actions wait in its outbox and go out when it is back.
        proxy.cut()
        wait_for(lambda: not c.ask("status", "status")["sharing"], "c offline", running)
        assert c.ask(f"comment {HIGH_1} written offline", "done") == [HIGH_1]
        assert c.ask(f"assign {HIGH_2} li.wei", "done") == [HIGH_2]
        time.sleep(1.0)
        assert a.alarms()[HIGH_1]["comments"] == 1, "c was offline: nothing can have arrived"
        proxy.restore()
        wait_for(
            lambda: all(
                w.alarms()[HIGH_1]["comments"] == 2 and w.alarms()[HIGH_2]["assignee"] == "li.wei"
                for w in running
            ),
            "c's offline actions everywhere",
            running,
        )
        wait_for(lambda: converged(running), "converged after c's return", running)
        print(f"acknowledgement on a seen on c after {seen_on_c:.2f} s (polled every 0.05 s)")
    finally:
        for workstation in running:
            workstation.stop()
        proxy.close()
