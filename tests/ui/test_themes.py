"""Choosing and applying a theme: [app] theme, --theme (which wins), and Qt's palette and
type size from the theme."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

import ui.runtime
from services.config import ConfigError
from services.config.loader import parse_config
from ui.app import run_window
from ui.cli import parse_arguments
from ui.theme import apply_theme
from widgets import palette


@pytest.fixture(autouse=True)
def default_theme() -> Iterator[None]:
    """Every test leaves the default theme active, as it found it."""
    yield
    palette.use_theme(palette.DEFAULT_THEME)


def test_config_names_a_theme_and_checks_it() -> None:
    assert parse_config(b"", "city.toml").theme == "operator"
    assert parse_config(b'[app]\ntheme = "wall"\n', "city.toml").theme == "wall"
    with pytest.raises(ConfigError, match=r"app\.theme: must be one of operator, dark, wall"):
        parse_config(b'[app]\ntheme = "green"\n', "city.toml")


def test_command_line_takes_a_theme() -> None:
    assert parse_arguments([]).theme is None
    assert parse_arguments(["--theme", "dark"]).theme == "dark"
    with pytest.raises(SystemExit):
        parse_arguments(["--theme", "pink"])


@pytest.mark.parametrize(
    ("in_config", "on_command_line", "chosen"),
    [(None, None, "operator"), ("dark", None, "dark"), ("dark", "wall", "wall")],
)
def test_the_window_starts_with_the_chosen_theme(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    in_config: str | None,
    on_command_line: str | None,
    chosen: str,
) -> None:
    config = tmp_path / "city.toml"
    config.write_text(f'[app]\ntheme = "{in_config}"\n' if in_config else "", encoding="utf-8")
    argv = ["--config", str(config), "--cache-dir", str(tmp_path / "cache")]
    if on_command_line:
        argv += ["--theme", on_command_line]
    seen: list[str] = []

    def fake_run_gui(*_args: object, **_kwargs: object) -> int:
        seen.append(palette.current_theme().name)
        return 0

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setattr(ui.runtime, "run_gui", fake_run_gui)
    assert run_window(parse_arguments(argv)) == 0
    assert seen == [chosen]


def test_apply_theme_sets_qt_palette_and_type_size(qapp: QApplication) -> None:
    original_font = qapp.font()
    original_palette = qapp.palette()
    try:
        base = qapp.font().pointSizeF()
        operator = apply_theme(qapp, "operator")
        assert palette.current_theme() is operator
        window = qapp.palette().color(QPalette.ColorRole.Window)
        assert window == QColor(operator.window_background)
        assert qapp.palette().color(QPalette.ColorRole.Base) == QColor(operator.panel_background)
        assert qapp.font().pointSizeF() == pytest.approx(base)
        wall = apply_theme(qapp, "wall")
        assert qapp.palette().color(QPalette.ColorRole.Window) == QColor(wall.window_background)
        assert qapp.font().pointSizeF() == pytest.approx(base * wall.font_scale)
        # Applying again scales from the platform's size, never compounding.
        apply_theme(qapp, "wall")
        assert qapp.font().pointSizeF() == pytest.approx(base * wall.font_scale)
        apply_theme(qapp)  # the active one
        assert qapp.font().pointSizeF() == pytest.approx(base * wall.font_scale)
        apply_theme(qapp, "dark")
        assert qapp.font().pointSizeF() == pytest.approx(base)
        disabled = qapp.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        assert disabled == QColor(palette.DARK.disabled_text)
    finally:
        qapp.setFont(original_font)
        qapp.setPalette(original_palette)
