"""Every format a config may name has a decoder."""

from __future__ import annotations

from services.config import FORMATS
from services.decoders import DECODERS, get_decoder


def test_every_config_format_is_registered() -> None:
    assert set(DECODERS) == set(FORMATS)
    for name in FORMATS:
        assert callable(get_decoder(name))
