"""services/ must stay free of Qt: checked on the source and on a real import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "services"
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "widgets", "ui")


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_service_module_imports_qt_widgets_or_ui() -> None:
    offenders = {
        str(path.relative_to(SERVICES)): sorted(imported_roots(path) & set(FORBIDDEN))
        for path in SERVICES.rglob("*.py")
    }
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_importing_every_service_loads_no_qt() -> None:
    modules = sorted(
        ".".join(path.relative_to(SERVICES.parent).with_suffix("").parts)
        for path in SERVICES.rglob("*.py")
        if path.name != "__init__.py"
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{FORBIDDEN!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
