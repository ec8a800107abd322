"""The delta bridge: a large delta shown in parts, one per turn of the event loop, with no
new delta taken meanwhile; the restored city at start in one piece."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from services.model import Delta, Entity
from ui.bridge import MAX_PART_ITEMS, DeltaBridge


def big_delta(count: int) -> Delta:
    return Delta(entities={f"e{i}": Entity(f"e{i}", f"E {i}") for i in range(count)}, messages=1)


class Source:
    def __init__(self, *deltas: Delta) -> None:
        self.deltas = list(deltas)
        self.taken = 0

    def __call__(self) -> Delta:
        self.taken += 1
        return self.deltas.pop(0) if self.deltas else Delta()


def test_a_large_delta_arrives_in_parts_between_other_events(qtbot: QtBot) -> None:
    source = Source(big_delta(MAX_PART_ITEMS * 2 + 10), big_delta(5))
    bridge = DeltaBridge(source)
    parts: list[Delta] = []
    bridge.deltaReady.connect(parts.append)

    bridge.tick()
    assert [len(p.entities) for p in parts] == [MAX_PART_ITEMS]
    bridge.tick()  # parts are still waiting: the next delta stays with the worker
    assert source.taken == 1
    qtbot.waitUntil(lambda: len(parts) == 3, timeout=5_000)
    assert [len(p.entities) for p in parts] == [MAX_PART_ITEMS, MAX_PART_ITEMS, 10]
    assert sum(p.messages for p in parts) == 1

    bridge.tick()
    assert source.taken == 2 and len(parts[-1].entities) == 5


def test_the_whole_delta_at_once_when_asked(qtbot: QtBot) -> None:
    source = Source(big_delta(MAX_PART_ITEMS * 3))
    bridge = DeltaBridge(source)
    parts: list[Delta] = []
    bridge.deltaReady.connect(parts.append)
    bridge.tick(whole=True)
    assert [len(p.entities) for p in parts] == [MAX_PART_ITEMS * 3]
    qtbot.wait(50)
    assert len(parts) == 1
