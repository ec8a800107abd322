"""How web views draw: ``[app] rendering`` and its ``auto`` choice (software without a GPU)."""

from __future__ import annotations

import os

import pytest
from PySide6.QtQuick import QQuickWindow

from services.config import ConfigError
from services.config.loader import parse_config
from ui import rendering


def test_config_reads_the_rendering_mode() -> None:
    assert parse_config(b"", "city.toml").rendering == "auto"
    config = parse_config(b'[app]\nrendering = "software"\n', "city.toml")
    assert config.rendering == "software"
    with pytest.raises(ConfigError, match=r"city\.toml.*app\.rendering.*auto, software, gpu"):
        parse_config(b'[app]\nrendering = "vulkan"\n', "city.toml")


def test_auto_is_software_without_a_gpu_or_a_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(rendering, "has_gpu", lambda: True)
    assert rendering.resolve_rendering("auto") == "gpu"
    monkeypatch.setattr(rendering, "has_gpu", lambda: False)
    assert rendering.resolve_rendering("auto") == "software"
    monkeypatch.setattr(rendering, "has_gpu", lambda: True)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert rendering.resolve_rendering("auto") == "software"
    assert rendering.resolve_rendering("gpu") == "gpu"
    with pytest.raises(ValueError, match="rendering must be one of"):
        rendering.resolve_rendering("vulkan")


def test_has_gpu_looks_for_a_render_node(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def fake_glob(pattern: str) -> list[str]:
        seen.append(pattern)
        return ["/dev/dri/renderD128"] if len(seen) == 1 else []

    monkeypatch.setattr(rendering.sys, "platform", "linux")
    monkeypatch.setattr(rendering.glob, "glob", fake_glob)
    assert rendering.has_gpu() is True
    assert rendering.has_gpu() is False
    assert seen == ["/dev/dri/renderD*", "/dev/dri/renderD*"]


def test_qt_quick_backend_in_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QT_QUICK_BACKEND", "software")
    assert rendering.use_rendering("gpu") == "software"


@pytest.mark.skipif(
    os.environ.get("QT_QUICK_BACKEND") is not None, reason="the environment chose the backend"
)
def test_the_suite_draws_as_the_app_does_offscreen() -> None:
    """conftest chose ``auto``, which offscreen is Qt Quick's software backend."""
    assert QQuickWindow.sceneGraphBackend() == "software"
