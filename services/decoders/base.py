"""What every decoder returns, and how it says no."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.model import Reading, Severity


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
class ExternalAlarm:
    """An alarm raised outside CityOps (a CAP alert, a FIWARE Alert entity).

    It becomes the alarm of source ``entity_id`` with condition ``external`` and metric
    ``event``. ``cancel`` clears it; ``references`` name earlier alerts (CAP
    Update/Cancel) that this one replaces or cancels.
    """

    source_id: str
    entity_id: str
    event: str
    severity: Severity
    sent_at: float
    expires_at: float | None = None
    message: str = ""
    cancel: bool = False
    references: tuple[str, ...] = ()
    area: dict[str, object] | None = None


@dataclass(slots=True)
class Decoded:
    """Readings, entity updates and external alarms found in one payload."""

    readings: list[Reading] = field(default_factory=list)
    entities: list[EntityUpdate] = field(default_factory=list)
    alarms: list[ExternalAlarm] = field(default_factory=list)
