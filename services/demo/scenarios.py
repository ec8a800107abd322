"""Scenarios of the demo city: a normal day, a rainstorm with a Zi River flood, a rush-hour
gridlock and a day of failing sensors.

A scenario is a story in simulated seconds from the start of a run: how hard it rains, how
far the river rises, how saturated the roads are, which CAP warnings are issued, updated and
cancelled, how often incidents happen and whether sensors misbehave (:class:`FaultPlan`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from services.demo.city import StationSpec
from services.demo.models import ramp, unit_hash


@dataclass(frozen=True, slots=True)
class WarningStage:
    """A warning level issued ``at_s`` simulated seconds into the thread's cycle."""

    at_s: float
    level: str
    """China's warning colours: blue, yellow, orange, red."""


@dataclass(frozen=True, slots=True)
class WarningThread:
    """One warning (say, rainstorm) as it is issued, raised and cancelled for some areas.

    Each area gets its own CAP alert, as county-level warnings are in China; a later stage
    is a CAP ``Update`` referencing the previous one; ``cancel_at_s`` sends a ``Cancel``.
    With ``period_s`` the whole thread repeats.
    """

    key: str
    sender: str
    sender_name: str
    sender_name_en: str
    event: str
    event_zh: str
    category: str
    areas: tuple[str, ...]
    stages: tuple[WarningStage, ...]
    cancel_at_s: float
    period_s: float | None = None
    instruction: str = ""


@dataclass(frozen=True, slots=True)
class Scenario:
    """A story the simulator plays; functions take simulated seconds since the start."""

    name: str
    title: str
    description: str
    duration_s: float
    """How long the story takes (simulated seconds); after it the city runs on as it ends."""
    start_hour: float | None = None
    """Local hour the simulated clock starts at (None: the wall-clock time)."""
    rain: Callable[[float], float] = lambda elapsed: 0.0
    gridlock: Callable[[float], float] = lambda elapsed: 0.0
    river_rise: Callable[[float], float] = lambda elapsed: 0.0
    warnings: tuple[WarningThread, ...] = ()
    incident_period_s: float = 1800.0
    incident_kinds: tuple[str, ...] = ("fire", "accident")
    faults: bool = False


WEATHER_SENDER = ("weather.yiyang.demo", "益阳市气象台", "Yiyang Meteorological Observatory")
HYDROLOGY_SENDER = (
    "hydrology.yiyang.demo",
    "益阳市水文水资源勘测中心",
    "Yiyang Hydrology and Water Resources Centre",
)

_LIGHTNING = WarningThread(
    key="lightning",
    sender=WEATHER_SENDER[0],
    sender_name=WEATHER_SENDER[1],
    sender_name_en=WEATHER_SENDER[2],
    event="Thunder and Lightning",
    event_zh="雷电",
    category="Met",
    areas=("heshan", "ziyang"),
    stages=(WarningStage(0.0, "yellow"),),
    cancel_at_s=1200.0,
    period_s=3600.0,
    instruction="Stay indoors, keep away from open ground, tall trees and metal structures.",
)
_FOG = WarningThread(
    key="fog",
    sender=WEATHER_SENDER[0],
    sender_name=WEATHER_SENDER[1],
    sender_name_en=WEATHER_SENDER[2],
    event="Heavy Fog",
    event_zh="大雾",
    category="Met",
    areas=("yuanjiang", "nan"),
    stages=(WarningStage(0.0, "yellow"), WarningStage(600.0, "orange")),
    cancel_at_s=1800.0,
    period_s=5400.0,
    instruction="Drive slowly with fog lights on; expressway entrances may close.",
)
_RAINSTORM = WarningThread(
    key="rainstorm",
    sender=WEATHER_SENDER[0],
    sender_name=WEATHER_SENDER[1],
    sender_name_en=WEATHER_SENDER[2],
    event="Rainstorm",
    event_zh="暴雨",
    category="Met",
    areas=("heshan", "ziyang", "taojiang"),
    stages=(
        WarningStage(0.0, "blue"),
        WarningStage(1200.0, "yellow"),
        WarningStage(3000.0, "orange"),
        WarningStage(5400.0, "red"),
    ),
    cancel_at_s=15000.0,
    instruction="Avoid underpasses and low-lying roads; stop outdoor work; check drainage.",
)
_FLOOD = WarningThread(
    key="flood",
    sender=HYDROLOGY_SENDER[0],
    sender_name=HYDROLOGY_SENDER[1],
    sender_name_en=HYDROLOGY_SENDER[2],
    event="Flood",
    event_zh="洪水",
    category="Geo",
    areas=("zijiang",),
    stages=(
        WarningStage(4800.0, "yellow"),
        WarningStage(7200.0, "orange"),
        WarningStage(10800.0, "red"),
    ),
    cancel_at_s=25000.0,
    instruction="Keep away from the Zi River embankments; riverside residents prepare to evacuate.",
)


def _rainstorm_rain(elapsed: float) -> float:
    return ramp(elapsed, 0.0, 4000.0) * (1.0 - ramp(elapsed, 11000.0, 15000.0))


def _rainstorm_river(elapsed: float) -> float:
    return 4.8 * ramp(elapsed, 1200.0, 11500.0) * (1.0 - ramp(elapsed, 17000.0, 30000.0))


def _gridlock(elapsed: float) -> float:
    return ramp(elapsed, 900.0, 3600.0) * (1.0 - ramp(elapsed, 9000.0, 12600.0))


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            name="normal",
            title="A normal day",
            description="Daily patterns on every station, with recurring local episodes "
            "(pollution, noise, a river wave, congestion, full car parks and bins, long clinic "
            "queues, streetlight faults, a late bus), fires and accidents, and lightning and "
            "fog warnings, so alarms appear within seconds and clear again.",
            duration_s=3600.0,
            warnings=(_LIGHTNING, _FOG),
        ),
        Scenario(
            name="rainstorm-flood",
            title="Rainstorm and Zi River flood",
            description="From 13:00 a rainstorm builds (blue, yellow, orange, red warnings "
            "for Heshan, Ziyang and Taojiang), drains and pumping stations fill, the river "
            "carries silt, the Zi River rises 4.8 m past its warning and danger levels with a "
            "flood warning along the urban reach, then everything recedes and is cancelled.",
            duration_s=30000.0,
            start_hour=13.0,
            rain=_rainstorm_rain,
            river_rise=_rainstorm_river,
            warnings=(_RAINSTORM, _FLOOD),
            incident_period_s=1200.0,
            incident_kinds=("accident",),
        ),
        Scenario(
            name="rush-hour-gridlock",
            title="Rush-hour gridlock",
            description="From 06:45 the morning rush saturates the network: intersections "
            "jam, speeds collapse, buses run far behind, NO2 and noise rise, car parks fill, "
            "health checkpoints queue and accidents follow; it clears by mid-morning.",
            duration_s=12600.0,
            start_hour=6.75,
            gridlock=_gridlock,
            incident_period_s=900.0,
            incident_kinds=("accident",),
        ),
        Scenario(
            name="sensor-failures",
            title="Sensor failures",
            description="A normal day with failing devices: stations dropping out (and the "
            "health feed going silent for minutes), stuck values, single-sample spikes, "
            "malformed payloads on every feed and skewed clocks (hours behind, days ahead, "
            "milliseconds for seconds).",
            duration_s=1800.0,
            warnings=(_LIGHTNING, _FOG),
            faults=True,
        ),
    )
}
"""Every scenario by name."""


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name``; ValueError naming the known ones otherwise."""
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise ValueError(f"unknown scenario {name!r} (known: {known})") from None


# -- faults ------------------------------------------------------------------------------

SPIKES: dict[str, Callable[[float], float]] = {
    "pm25": lambda v: v * 6.0 + 200.0,
    "airQualityIndex": lambda v: 500.0,
    "LAeq": lambda v: v + 35.0,
    "water_level": lambda v: v + 6.0,
    "pH": lambda v: 2.5,
    "turbidity": lambda v: v * 20.0 + 300.0,
    "sump_level": lambda v: v + 4.0,
    "occupancy": lambda v: 100.0,
    "avg_speed": lambda v: 0.0,
    "delay_min": lambda v: v + 60.0,
    "lamps_faulty": lambda v: v + 30.0,
    "free_spaces": lambda v: 0.0,
    "fill_pct": lambda v: 100.0,
    "queue_length": lambda v: v * 5.0 + 60.0,
    "queue_vehicles": lambda v: v + 80.0,
}
"""How a spike distorts a metric (a glitch of the sensor, not a real event)."""

MALFORMED_SHARE = 0.02
"""Share of messages sent malformed in the sensor-failures scenario."""
DROPOUT_WINDOW = (60.0, 330.0, 1200.0)
"""(start, end, period) in simulated seconds when a whole domain goes silent."""
SILENT_DOMAIN = "health"
SPIKE_PERIOD_S = 97.0
SPIKE_WIDTH_S = 3.0


@dataclass(frozen=True, slots=True)
class StationFaults:
    """The faults one station has in the sensor-failures scenario."""

    dropout: bool = False
    stuck: bool = False
    spikes: bool = False
    skew_s: float = 0.0
    milliseconds: bool = False


class FaultPlan:
    """Which stations misbehave, how and when; deterministic for a seed.

    About a tenth of the stations drop out now and then, some get stuck, some spike; one
    station runs two hours behind, two run two days ahead (refused by the decoders), and one
    bus reports OwnTracks ``tst`` in milliseconds. Every message may be sent malformed.
    """

    def __init__(self, seed: int, stations: Sequence[StationSpec]) -> None:
        self.seed = seed
        ranked = sorted(stations, key=lambda spec: unit_hash(seed, spec.id, "rank"))
        plan: dict[str, StationFaults] = {}
        for index, spec in enumerate(ranked):
            share = index / max(1, len(ranked))
            plan[spec.id] = StationFaults(
                dropout=share < 0.1,
                stuck=0.1 <= share < 0.18,
                spikes=0.18 <= share < 0.3 and spec.type != "bus",
            )
        skews = [spec for spec in ranked if spec.type not in ("bus", "incident")]
        for spec, skew in zip(skews[-3:], (-7200.0, 172800.0, 172800.0), strict=False):
            plan[spec.id] = StationFaults(skew_s=skew)
        buses = [spec for spec in ranked if spec.type == "bus"]
        if buses:
            plan[buses[-1].id] = StationFaults(milliseconds=True)
        self._plan = plan

    def of(self, spec: StationSpec) -> StationFaults:
        return self._plan.get(spec.id, StationFaults())

    def dropped(self, spec: StationSpec, elapsed: float) -> bool:
        """Whether the station sends nothing at ``elapsed``."""
        start, end, period = DROPOUT_WINDOW
        if spec.domain == SILENT_DOMAIN and start <= elapsed % period < end:
            return True
        if not self.of(spec).dropout:
            return False
        window = math.floor(elapsed / 300.0)
        return unit_hash(self.seed, spec.id, window, "drop") < 0.5

    def stuck_at(self, spec: StationSpec, elapsed: float) -> float | None:
        """The elapsed time whose values a stuck station keeps repeating, or None."""
        if not self.of(spec).stuck:
            return None
        window = math.floor(elapsed / 600.0)
        if unit_hash(self.seed, spec.id, window, "stuck") < 0.6:
            return window * 600.0
        return None

    def spiking(self, spec: StationSpec, elapsed: float) -> bool:
        """Whether a spiking station sends a glitch at ``elapsed``."""
        if not self.of(spec).spikes:
            return False
        offset = unit_hash(self.seed, spec.id, "spike") * SPIKE_PERIOD_S
        return (elapsed + offset) % SPIKE_PERIOD_S < SPIKE_WIDTH_S

    def malformed(self, topic: str, elapsed: float) -> float | None:
        """A number in [0, 1) choosing how to break this message, or None to send it intact."""
        if unit_hash(self.seed, topic, round(elapsed, 3), "bad") >= MALFORMED_SHARE:
            return None
        return unit_hash(self.seed, topic, round(elapsed, 3), "how")


def apply_spike(values: dict[str, float]) -> dict[str, float]:
    """The values as a glitching sensor would send them."""
    return {
        metric: round(SPIKES[metric](value), 2) if metric in SPIKES else value
        for metric, value in values.items()
    }
