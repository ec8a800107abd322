"""Memory of the app's process tree, for ``bench.startup`` and ``bench.memory``.

One :func:`sample` reads ``/proc/<pid>/smaps_rollup`` (Rss, Pss and their parts, in bytes)
of the app process and of every process below it, and sorts them by kind: the app itself,
its own helper processes (any child that is not QtWebEngine's, such as a feed or ingest
process of the app's), QtWebEngine's renderer(s), its GPU process, its zygotes and other
utility processes (by their ``--type=`` on the command line). RSS counts every page a
process maps, shared ones included (the app and its renderer share libraries, so summing
RSS counts those twice); PSS shares each page out between the processes that map it, so
PSS sums to what the tree costs. Shared libraries are shared with every process on the
machine that maps them, not only the app's: another Qt or QtWebEngine program starting or
ending elsewhere moves the app's PSS (tens of MB), not its RSS. USS (``Private_Clean`` +
``Private_Dirty``, the pages only this process maps) moves with nothing but the process
itself: the figure to watch for growth.
Linux only.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("bench.procmem")

MB = 1024 * 1024
WEB_PROCESS = "QtWebEngineProcess"
"""The command name of QtWebEngine's helper processes."""
KINDS = ("app", "helper", "renderer", "gpu", "zygote", "utility")
"""The kinds of process in a :class:`TreeMemory`, in the order tables show them."""


def smaps_rollup(pid: int) -> dict[str, int]:
    """The fields of ``/proc/<pid>/smaps_rollup`` in bytes (``Rss``, ``Pss``, ``Pss_Anon``,
    ``Private_Dirty``, ...); empty when the process is gone or may not be read."""
    fields: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii", errors="replace")
    except OSError:
        return {}
    for line in text.splitlines()[1:]:  # the first line is the [rollup] header
        name, _, rest = line.partition(":")
        words = rest.split()
        if len(words) == 2 and words[1] == "kB":
            with contextlib.suppress(ValueError):
                fields[name] = int(words[0]) * 1024
    return fields


def descendants(root: int) -> dict[int, int]:
    """Every live process below ``root``: pid -> parent pid."""
    from tests.benchmarks.bench_soak import descendants as below

    return below(root)


def command_line(pid: int) -> list[str]:
    """The arguments ``pid`` was started with (empty when it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [word.decode(errors="replace") for word in raw.split(b"\0") if word]


def process_kind(argv: Sequence[str], parent_argv: Sequence[str]) -> str:
    """One of :data:`KINDS` (but "app") for a process below the app, by its command line:
    one that is not QtWebEngine's is the app's own helper; QtWebEngine names each of its
    processes' ``--type=``; a child of the sandboxed zygote that kept the zygote's command
    line is a renderer (as Chromium starts them on Linux)."""
    if not argv or WEB_PROCESS not in os.path.basename(argv[0]):
        return "helper"
    kind = next((word.split("=", 1)[1] for word in argv if word.startswith("--type=")), "")
    if kind == "renderer":
        return "renderer"
    if kind == "gpu-process":
        return "gpu"
    if "--type=zygote" in parent_argv:  # forked by a zygote, its command line kept
        return "utility" if "--no-zygote-sandbox" in parent_argv else "renderer"
    return "zygote" if kind == "zygote" else "utility"


@dataclass(frozen=True, slots=True)
class ProcessMemory:
    """One process of the tree."""

    pid: int
    kind: str
    rss: int
    pss: int
    rollup: dict[str, int] = field(default_factory=dict)
    command: str = ""
    """Its command line (cut to 200 characters)."""
    parent: int = 0
    """Its parent's pid."""

    @property
    def uss(self) -> int:
        """The pages only this process maps."""
        return self.rollup.get("Private_Clean", 0) + self.rollup.get("Private_Dirty", 0)


@dataclass(slots=True)
class TreeMemory:
    """The app's process tree at one moment."""

    at: float
    """``time.monotonic()`` of the sample."""
    processes: list[ProcessMemory]

    def rss(self, *kinds: str) -> int:
        """RSS summed over the processes of these kinds (every kind when none given)."""
        return sum(p.rss for p in self.processes if not kinds or p.kind in kinds)

    def pss(self, *kinds: str) -> int:
        """PSS summed over the processes of these kinds (every kind when none given)."""
        return sum(p.pss for p in self.processes if not kinds or p.kind in kinds)

    def uss(self, *kinds: str) -> int:
        """USS (private pages) summed over the processes of these kinds (every kind when
        none given)."""
        return sum(p.uss for p in self.processes if not kinds or p.kind in kinds)

    def count(self, kind: str) -> int:
        return sum(1 for p in self.processes if p.kind == kind)

    @property
    def app_renderer_rss(self) -> int:
        """The target's figure: RSS of the app (with its own helper processes, if any) plus
        its renderer(s)."""
        return self.rss("app", "helper", "renderer")

    @property
    def app_renderer_pss(self) -> int:
        """PSS of the same processes as :attr:`app_renderer_rss`."""
        return self.pss("app", "helper", "renderer")

    def figures(self) -> dict[str, Any]:
        """Plain data for the JSON file (bytes)."""
        return {
            "at": self.at,
            "app_renderer_rss": self.app_renderer_rss,
            "app_renderer_pss": self.app_renderer_pss,
            "pss_total": self.pss(),
            "uss_total": self.uss(),
            "rss_total": self.rss(),
            "by_kind": {
                kind: {
                    "count": self.count(kind),
                    "rss": self.rss(kind),
                    "pss": self.pss(kind),
                    "uss": self.uss(kind),
                }
                for kind in KINDS
                if self.count(kind)
            },
            "processes": [
                {
                    "pid": p.pid,
                    "parent": p.parent,
                    "kind": p.kind,
                    "command": p.command,
                    "rss": p.rss,
                    "pss": p.pss,
                    "uss": p.uss,
                    "rollup": p.rollup,
                }
                for p in self.processes
            ],
        }


def sample(app_pid: int) -> TreeMemory:
    """The memory of ``app_pid`` and every process below it."""
    at = time.monotonic()
    tree = descendants(app_pid)
    argvs = {pid: command_line(pid) for pid in (app_pid, *tree)}
    processes: list[ProcessMemory] = []
    for pid in (app_pid, *sorted(tree)):
        rollup = smaps_rollup(pid)
        if not rollup:
            continue  # gone meanwhile
        if pid == app_pid:
            kind = "app"
        else:
            kind = process_kind(argvs.get(pid, []), argvs.get(tree[pid], []))
        command = " ".join(argvs.get(pid, []))[:200]
        processes.append(
            ProcessMemory(
                pid,
                kind,
                rollup.get("Rss", 0),
                rollup.get("Pss", 0),
                rollup,
                command,
                tree.get(pid, 0),
            )
        )
    return TreeMemory(at, processes)


def mb(value: float | None) -> str:
    """Bytes as MB with one decimal ("-" for None)."""
    return "-" if value is None else f"{value / MB:,.1f}"


def slope_per_10_min(points: Sequence[tuple[float, float]]) -> float | None:
    """The least-squares slope of ``(seconds, value)`` points, per 10 minutes (None with
    fewer than 3 points or no spread in time)."""
    if len(points) < 3:
        return None
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread <= 0 or not math.isfinite(spread):
        return None
    slope = sum((t - mean_t) * (v - mean_v) for t, v in points) / spread
    return slope * 600.0
