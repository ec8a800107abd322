"""What every decoder returns, and how it says no."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.model import Reading


class DecodeError(ValueError):
    """A payload this decoder cannot read; the message is the dead-letter reason."""


@dataclass(slots=True)
class EntityUpdate:
    """What a message says about an entity; None fields leave the known value alone."""

    id: str
    name: str | None = None
    type: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(slots=True)
class Decoded:
    """Readings and entity updates found in one payload."""

    readings: list[Reading] = field(default_factory=list)
    entities: list[EntityUpdate] = field(default_factory=list)
