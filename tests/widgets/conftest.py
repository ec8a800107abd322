"""Fixtures the widget tests share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import shiboken6
from PySide6.QtWebEngineCore import QWebEngineProfile

from widgets import palette
from widgets.palette import THEMES, Theme


@pytest.fixture(params=sorted(THEMES))
def theme(request: pytest.FixtureRequest) -> Iterator[Theme]:
    """Each built-in theme in turn, the active one while the test builds and paints."""
    yield palette.use_theme(request.param)
    palette.use_theme(palette.DEFAULT_THEME)


@pytest.fixture
def profile(qapp: Any) -> Iterator[QWebEngineProfile]:
    """A fresh off-the-record web profile for a map page, deleted after the test (its
    views must be deleted before it)."""
    prof = QWebEngineProfile()
    yield prof
    shiboken6.delete(prof)
