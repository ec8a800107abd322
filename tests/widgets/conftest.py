"""Fixtures the widget tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from widgets import palette
from widgets.palette import THEMES, Theme


@pytest.fixture(params=sorted(THEMES))
def theme(request: pytest.FixtureRequest) -> Iterator[Theme]:
    """Each built-in theme in turn, the active one while the test builds and paints."""
    yield palette.use_theme(request.param)
    palette.use_theme(palette.DEFAULT_THEME)
