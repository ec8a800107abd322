"""Value models of the demo city: what each kind of station measures at a simulated time.

Every value is a pure function of the seed, the station and the simulated time (plus the
scenario's conditions at that time): daily patterns in local time (UTC+8), smooth seeded
noise, the station's episodes and the scenario's rain, flood and gridlock.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from services.demo.city import (
    BusRoute,
    DemoCity,
    IncidentSite,
    StationSpec,
    bearing_deg,
    distance_m,
)

UTC_OFFSET_S = 8 * 3600
"""Yiyang local time (China Standard Time) is UTC+8; daily patterns follow local time."""


@dataclass(frozen=True, slots=True)
class SimTime:
    """One instant of a simulation run.

    ``now`` is the wall-clock time (what payloads carry as their timestamp), ``sim`` the
    simulated epoch time that drives the values, ``elapsed`` the simulated seconds since the
    run started and ``hour`` the simulated local hour (0-24).
    """

    now: float
    sim: float
    elapsed: float

    @property
    def hour(self) -> float:
        return local_hour(self.sim)


@dataclass(frozen=True, slots=True)
class Conditions:
    """What the scenario does to the city at one instant (all 0 on a normal day)."""

    rain: float = 0.0
    """Rain intensity, 0 (dry) to 1 (torrential)."""
    gridlock: float = 0.0
    """Road network saturation beyond the daily pattern, 0 to 1."""
    river_rise: Callable[[float], float] = lambda elapsed: 0.0
    """Flood wave: metres above normal at the city's gauge after ``elapsed`` seconds."""


def local_hour(sim: float) -> float:
    """The local (UTC+8) hour of day, 0-24, of an epoch time."""
    return ((sim + UTC_OFFSET_S) % 86400.0) / 3600.0


def bell(hour: float, centre: float, width: float) -> float:
    """A Gaussian bump over the hours of a day."""
    return math.exp(-(((hour - centre) / width) ** 2))


def traffic_profile(hour: float) -> float:
    """Relative traffic volume over a day: low at night, morning and evening peaks (~0.1-1)."""
    daytime = 0.5 * (math.tanh(hour - 6.5) - math.tanh(hour - 22.0))
    return 0.1 + 0.45 * daytime + 0.4 * bell(hour, 8.0, 1.2) + 0.35 * bell(hour, 18.0, 1.5)


def activity_profile(hour: float) -> float:
    """Daytime activity: 0 at 02:00, 1 at 14:00, smooth in between."""
    return 0.5 * (1.0 - math.cos(2.0 * math.pi * (hour - 2.0) / 24.0))


def ramp(x: float, start: float, end: float) -> float:
    """0 before ``start``, 1 after ``end``, a smooth S-curve in between."""
    if x <= start:
        return 0.0
    if x >= end:
        return 1.0
    u = (x - start) / (end - start)
    return u * u * (3.0 - 2.0 * u)


def unit_hash(*parts: object) -> float:
    """A deterministic pseudo-random number in [0, 1) from ``parts``."""
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


# (concentration breakpoints, index breakpoints) of China's HJ 633-2012 IAQI tables
# (24-hour tables for PM, 1-hour tables for NO2 and O3).
_IAQI = (0.0, 50.0, 100.0, 150.0, 200.0, 300.0, 400.0, 500.0)
_BREAKPOINTS = {
    "pm25": (0.0, 35.0, 75.0, 115.0, 150.0, 250.0, 350.0, 500.0),
    "pm10": (0.0, 50.0, 150.0, 250.0, 350.0, 420.0, 500.0, 600.0),
    "no2": (0.0, 100.0, 200.0, 700.0, 1200.0, 2340.0, 3090.0, 3840.0),
    "o3": (0.0, 160.0, 200.0, 300.0, 400.0, 800.0, 1000.0, 1200.0),
}
AQI_LEVELS = (
    (50.0, "excellent"),
    (100.0, "good"),
    (150.0, "lightly polluted"),
    (200.0, "moderately polluted"),
    (300.0, "heavily polluted"),
    (math.inf, "severely polluted"),
)


def individual_aqi(pollutant: str, concentration: float) -> float:
    """Individual air quality index of one pollutant (piecewise linear, capped at 500)."""
    points = _BREAKPOINTS[pollutant]
    if concentration <= 0:
        return 0.0
    if concentration >= points[-1]:
        return _IAQI[-1]
    upper = bisect.bisect_right(points, concentration)
    lo_c, hi_c = points[upper - 1], points[upper]
    lo_i, hi_i = _IAQI[upper - 1], _IAQI[upper]
    return lo_i + (hi_i - lo_i) * (concentration - lo_c) / (hi_c - lo_c)


def aqi_level(aqi: float) -> str:
    """The Chinese AQI category of an index value."""
    return next(label for limit, label in AQI_LEVELS if aqi <= limit)


class SmoothNoise:
    """Deterministic smooth noise in [-1, 1]: a few slow sines with seeded periods/phases."""

    __slots__ = ("_a", "_b", "_c")

    def __init__(self, rng: random.Random, shortest_s: float = 40.0, longest_s: float = 420.0):
        weights = [rng.uniform(0.5, 1.0) for _ in range(3)]
        total = sum(weights)
        self._a, self._b, self._c = (
            (
                w / total,
                2.0 * math.pi / rng.uniform(shortest_s, longest_s),
                rng.uniform(0.0, 2.0 * math.pi),
            )
            for w in weights
        )

    def __call__(self, t: float) -> float:
        (w1, o1, p1), (w2, o2, p2), (w3, o3, p3) = self._a, self._b, self._c
        sin = math.sin
        return w1 * sin(o1 * t + p1) + w2 * sin(o2 * t + p2) + w3 * sin(o3 * t + p3)


class RouteTrack:
    """Where a bus on a route is at a time within its cycle (there and back, dwelling at stops)."""

    def __init__(self, route: BusRoute) -> None:
        path = list(route.path)
        last = len(path) - 1
        points = path + path[-2::-1]
        stops = [index in route.stops for index in range(len(path))]
        stop_flags = stops + stops[-2::-1]
        speed = route.speed_kmh / 3.6
        self.speed_kmh = route.speed_kmh
        # Segments: (start time, duration, start point, end point); a dwell has equal points.
        self._starts: list[float] = []
        self._segments: list[tuple[float, tuple[float, float], tuple[float, float], float]] = []
        clock = 0.0
        for index in range(len(points) - 1):
            here, there = points[index], points[index + 1]
            if stop_flags[index]:
                dwell = route.dwell_s * (2.0 if index in (0, last) else 1.0)
                self._add(clock, dwell, here, here, self._heading(here, there))
                clock += dwell
            length = distance_m(here[0], here[1], there[0], there[1])
            duration = max(1.0, length / speed)
            self._add(clock, duration, here, there, self._heading(here, there))
            clock += duration
        self.cycle_s = clock

    @staticmethod
    def _heading(here: tuple[float, float], there: tuple[float, float]) -> float:
        return bearing_deg(here[0], here[1], there[0], there[1])

    def _add(
        self,
        start: float,
        duration: float,
        here: tuple[float, float],
        there: tuple[float, float],
        heading: float,
    ) -> None:
        self._starts.append(start)
        self._segments.append((duration, here, there, heading))

    def at(self, tau: float) -> tuple[float, float, float, float]:
        """(lat, lon, speed km/h, course °) at ``tau`` seconds into the cycle (any real)."""
        tau %= self.cycle_s
        index = max(0, bisect.bisect_right(self._starts, tau) - 1)
        duration, here, there, heading = self._segments[index]
        if here == there:
            return here[1], here[0], 0.0, heading
        u = min(1.0, (tau - self._starts[index]) / duration)
        lon = here[0] + (there[0] - here[0]) * u
        lat = here[1] + (there[1] - here[1]) * u
        return lat, lon, self.speed_kmh, heading


INCIDENT_KINDS: dict[str, tuple[str, str]] = {
    "fire": ("火灾", "Fire"),
    "accident": ("交通事故", "Traffic accident"),
}


@dataclass(frozen=True, slots=True)
class Incident:
    """One fire or accident handled by an incident slot."""

    kind: str
    site: IncidentSite
    level: int
    units: int
    active: bool
    lat: float
    lon: float

    @property
    def title(self) -> str:
        zh, en = INCIDENT_KINDS[self.kind]
        return f"{zh} {en} · {self.site.name}"


class CityModels:
    """Computes every station's metric values; deterministic for a seed."""

    def __init__(
        self,
        city: DemoCity,
        seed: int,
        *,
        incident_period_s: float = 1800.0,
        incident_kinds: Sequence[str] = ("fire", "accident"),
    ) -> None:
        self.seed = seed
        self._noise: dict[tuple[str, str], SmoothNoise] = {}
        self._tracks = {route.id: RouteTrack(route) for route in city.routes}
        self._routes = {route.id: route for route in city.routes}
        self._sites = tuple(
            site for site in city.incident_sites if set(site.kinds) & set(incident_kinds)
        ) or tuple(city.incident_sites)
        self._incident_kinds = tuple(incident_kinds)
        self._incident_period = incident_period_s
        self._slots = sum(1 for spec in city.stations if spec.type == "incident")
        self._models: dict[str, Callable[[StationSpec, SimTime, Conditions], dict[str, float]]] = {
            "air_quality": self._air,
            "noise": self._sound,
            "river_gauge": self._river,
            "water_quality": self._water_quality,
            "pumping_station": self._pumps,
            "traffic_checkpoint": self._checkpoint,
            "intersection": self._intersection,
            "bus": self._bus,
            "streetlight": self._streetlight,
            "parking": self._parking,
            "waste_bin": self._bin,
            "incident": self._incident_values,
            "clinic": self._clinic,
            "epidemic_checkpoint": self._health_check,
        }

    def values(self, spec: StationSpec, t: SimTime, c: Conditions) -> dict[str, float]:
        """The metric values of one station."""
        return self._models[spec.type](spec, t, c)

    def track(self, route_id: str) -> RouteTrack:
        return self._tracks[route_id]

    # -- helpers -------------------------------------------------------------------------

    def noise(self, spec: StationSpec, key: str, t: float, slow: bool = False) -> float:
        """Smooth noise in [-1, 1] of one station's ``key`` at simulated second ``t``."""
        noise = self._noise.get((spec.id, key))
        if noise is None:
            rng = random.Random(f"{self.seed}/{spec.id}/{key}")
            noise = SmoothNoise(rng, 1200.0, 3600.0) if slow else SmoothNoise(rng)
            self._noise[spec.id, key] = noise
        return noise(t)

    @staticmethod
    def toward(spec: StationSpec, metric: str, value: float, elapsed: float) -> float:
        """Blend ``value`` towards the peaks of the station's episodes of ``metric``."""
        for episode in spec.episodes:
            if episode.metric == metric:
                value += (episode.peak - value) * episode.weight(elapsed)
        return value

    @staticmethod
    def episode_weight(spec: StationSpec, metric: str, elapsed: float) -> float:
        return max((e.weight(elapsed) for e in spec.episodes if e.metric == metric), default=0.0)

    # -- environment ---------------------------------------------------------------------

    def _air(self, spec: StationSpec, t: SimTime, c: Conditions) -> dict[str, float]:
        hour, sim = t.hour, t.sim
        exposure = spec.params.get("exposure", 1.0)
        base = spec.params.get("pm25_base", 35.0)
        pm25 = base * (1.0 + 0.3 * math.cos(2.0 * math.pi * (hour - 8.0) / 24.0))
        pm25 *= (1.0 + 0.9 * c.gridlock * exposure) * (1.0 - 0.55 * c.rain)
        pm25 = self.toward(spec, "pm25", pm25, t.elapsed)
        pm25 = max(1.0, pm25 + 0.06 * base * self.noise(spec, "pm25", sim))
        pm10 = max(2.0, 1.45 * pm25 + 12.0 + 5.0 * self.noise(spec, "pm10", sim))
        no2 = 18.0 + 22.0 * traffic_profile(hour) + 260.0 * c.gridlock * exposure
        no2 = max(1.0, no2 * (1.0 - 0.3 * c.rain) + 4.0 * self.noise(spec, "no2", sim))
        sunshine = max(0.0, math.sin(math.pi * (hour - 8.0) / 12.0)) * (1.0 - 0.8 * c.rain)
        o3 = max(1.0, 30.0 + 85.0 * sunshine + 6.0 * self.noise(spec, "o3", sim))
        pm25, pm10, no2, o3 = (round(v, 1) for v in (pm25, pm10, no2, o3))
        aqi = max(
            individual_aqi("pm25", pm25),
            individual_aqi("pm10", pm10),
            individual_aqi("no2", no2),
            individual_aqi("o3", o3),
        )
        return {
            "pm25": pm25,
            "pm10": pm10,
            "no2": no2,
            "o3": o3,
            "airQualityIndex": float(round(aqi)),
        }

    def _sound(self, spec: StationSpec, t: SimTime, c: Conditions) -> dict[str, float]:
        night = spec.params.get("night_db", 45.0)
        day = spec.params.get("day_db", 60.0)
        level = night + (day - night) * activity_profile(t.hour) + 7.0 * c.gridlock
        level += 3.0 * c.rain
        level = self.toward(spec, "LAeq", level, t.elapsed)
        level += 1.5 * self.noise(spec, "LAeq", t.sim)
        peak = level + 10.0 + 3.0 * self.noise(spec, "LAmax", t.sim)
        return {"LAeq": round(level, 1), "LAmax": round(peak, 1)}

    # -- water ---------------------------------------------------------------------------

    def _river(self, spec: StationSpec, t: SimTime, c: Conditions) -> dict[str, float]:
        base = spec.params.get("level_base_m", 34.0)
        # the flood wave reaches the city gauge (km 10) first-hand and travels at ~6 km/h
        lag = (spec.params.get("river_km", 10.0) - 10.0) * 600.0
        level = base + c.river_rise(t.elapsed - lag)
        level = self.toward(spec, "water_level", level, t.elapsed)
        level += 0.15 * self.noise(spec, "water_level", t.sim)
        # A simple rating curve: discharge grows with the stage above the channel bottom.
        stage = max(0.0, level - (base - 3.0))
        flow = 125.0 * stage**1.5 * (1.0 + 0.03 * self.noise(spec, "discharge", t.sim))
        return {"water_level": round(level, 2), "discharge": float(round(flow))}

    def _water_quality(self, spec: StationSpec, t: SimTime, c: Conditions) -> dict[str, float]:
        rise = c.river_rise(t.elapsed)
        ph = spec.params.get("ph_base", 7.3) - 1.1 * c.rain
        ph = self.toward(spec, "pH", ph, t.elapsed) + 0.08 * self.noise(spec, "pH", t.sim)
        turbidity = spec.params.get("turbidity_base", 8.0) * (1.0 + 0.2 * activity_profile(t.hour))
        turbidity += 230.0 * c.rain + 30.0 * rise
        turbidity = self.toward(spec, "turbidity", turbidity, t.elapsed)
        turbidity = max(0.5, turbidity * (1.0 + 0.12 * self.noise(spec, "turbidity", t.sim)))
        oxygen = 8.4 - 1.2 * activity_profile(t.hour) - 2.2 * c.rain
        oxygen += 0.3 * self.noise(spec, "dissolved_oxygen", t.sim)
        return {
            "pH": round(ph, 2),
            "turbidity": round(turbidity, 1),
            "dissolved_oxygen": round(max(0.5, oxygen), 2),
        }

    def _pumps(self, spec: StationSpec, t: SimTime, c: Conditions) -> dict[str, float]:
        pumps = spec.params.get("pumps", 3.0)
        each = spec.params.get("pump_m3s", 2.0)
        sump = 1.3 + 0.25 * self.noise(spec, "sump_level", t.sim, slow=True) + 3.6 * c.rain
        sump = self.toward(spec, "sump_level", sump, t.elapsed)
        sump += 0.05 * self.noise(spec, "sump_level", t.sim)
        running = float(min(pumps, max(0, math.floor((sump - 1.0) / 3.2 * pumps + 0.5))))
        flow = running * each * (1.0 + 0.04 * self.noise(spec, "pump_flow", t.sim))
        return {
            "running": 1.0 if running > 0 else 0.0,
            "pumps_running": running,
            "pump_flow": round(flow, 2),
            "sump_level": round(max(0.2, sump), 2),
        }

    # -- traffic -------------------------------------------------------------------------

    def _checkpoint(self, spec: StationSpec, t: SimTime, c: Conditions) -> dict[str, float]:
        hour = t.hour
        peak = spec.params.get("peak_vpm", 30.0)
        inbound = traffic_profile(hour) + 0.45 * bell(hour, 7.8, 1.0) - 0.25 * bell(hour, 18, 1.5)
        outbound = traffic_profile(hour) + 0.4 * bell(hour, 18.0, 1.4) - 0.25 * bell(hour, 8, 1.0)
        inbound *= 1.0 + 0.5 * c.gridlock - 0.3 * c.rain
        outbound *= 1.0 - 0.4 * c.gridlock - 0.3 * c.rain
        return {
            "vehicles_in": float(
                max(0, round(peak * inbound + 0.08 * peak * self.noise(spec, "in", t.sim)))
            ),
            "vehicles_out": float(
                max(0, round(peak * outbound + 0.08 * peak * self.noise(spec, "out", t.sim)))
            ),
        }

    def _intersection(self, spec: StationSpec, t: SimTime, c: Conditions) -> dict[str, float]:
        profile = traffic_profile(t.hour)
        peak = spec.params.get("peak_vpm", 50.0)
        occupancy = 8.0 + 55.0 * profile + 12.0 * c.rain
        jam = max(self.episode_weight(spec, "occupancy", t.elapsed), c.gridlock)
        occupancy = self.toward(spec, "occupancy", occupancy, t.elapsed)
        occupancy += (97.5 - occupancy) * c.gridlock
        occupancy = min(100.0, max(0.0, occupancy + 2.5 * self.noise(spec, "occupancy", t.sim)))
        flow = peak * profile * (1.0 - 0.6 * jam) * (1.0 - 0.2 * c.rain)
        flow += 0.06 * peak * self.noise(spec, "traffic_flow", t.sim)
        speed = 48.0 * (1.0 - occupancy / 100.0) ** 0.8 * (1.0 - 0.15 * c.rain)
        speed += 1.5 * self.noise(spec, "avg_speed", t.sim)
        return {
            "traffic_flow": float(max(0, round(flow))),
            "occupancy": round(occupancy, 1),
            "avg_speed": round(max(1.0, speed), 1),
        }

    # -- transport -----------------------------------------------------------------------

    def bus_lag_min(self, t: SimTime, c: Conditions) -> float:
        """Delay from traffic, gridlock and rain (slow enough never to drive a bus backwards)."""
        return 2.5 * max(0.0, traffic_profile(t.hour) - 0.5) + 18.0 * c.gridlock + 5.0 * c.rain

    def _bus(self, spec: StationSpec, t: SimTime, c: Conditions) -> dict[str, float]:
        route = self._routes[spec.route]
        track = self._tracks[spec.route]
        number = spec.params.get("number", 1.0)
        lag = self.bus_lag_min(t, c)
        offset = (number - 1.0) / route.buses * track.cycle_s + spec.params.get("shift_s", 0.0)
        lat, lon, speed, heading = track.at(t.sim - 60.0 * lag + offset)
        if speed > 0:
            speed *= max(0.25, 1.0 - 0.6 * c.gridlock) * (1.0 + 0.1 * self.noise(spec, "v", t.sim))
        delay = 0.8 + lag + 1.2 * self.noise(spec, "delay_min", t.sim, slow=True)
        delay = self.toward(spec, "delay_min", delay, t.elapsed)
        hour = t.hour
        load = 0.15 + 0.55 * traffic_profile(hour) + 0.2 * c.gridlock
        passengers = 80.0 * load * (1.0 + 0.15 * self.noise(spec, "passengers", t.sim))
        # electric buses: charged overnight, draining through the day
        battery = 100.0 - 70.0 * ramp(hour, 5.5, 23.0) - 3.0 * number
        return {
            "lat": round(lat, 6),
            "lon": round(lon, 6),
            "vel": float(round(speed)),
            "cog": float(round(heading) % 360),
            "batt": float(round(max(15.0, battery))),
            "acc": float(round(8.0 + 4.0 * self.noise(spec, "acc", t.sim))),
            "delay_min": round(max(0.0, delay), 1),
            "passengers": float(max(0, round(passengers))),
        }

    # -- city management -----------------------------------------------------------------

    def _streetlight(self, spec: StationSpec, t: SimTime, c: Conditions) -> dict[str, float]:
        hour = t.hour
        lamps = spec.params.get("lamps", 50.0)
        dark = hour >= 18.5 or hour < 6.25 or c.rain > 0.5
        faulty = spec.params.get("faulty", 0.0)
        faulty = round(self.toward(spec, "lamps_faulty", faulty, t.elapsed))
        lit = (lamps - faulty) if dark else 0.0
        power = lit * 0.12 * (1.0 + 0.02 * self.noise(spec, "power_kw", t.sim)) + 0.05
        return {
            "power_on": 1.0 if dark else 0.0,
            "power_kw": round(power, 2),
            "lamps_faulty": float(faulty),
        }

    def _parking(self, spec: StationSpec, t: SimTime, c: Conditions) -> dict[str, float]:
        capacity = spec.params.get("capacity", 200.0)
        peak_fill = spec.params.get("peak_fill", 0.7)
        fill = 0.15 + (peak_fill - 0.15) * activity_profile(t.hour)
        free = capacity * (1.0 - fill) * (1.0 - 0.95 * c.gridlock)
        free = self.toward(spec, "free_spaces", free, t.elapsed)
        free += 0.012 * capacity * self.noise(spec, "free_spaces", t.sim)
        return {
            "free_spaces": float(round(min(capacity, max(0.0, free)))),
            "capacity": capacity,
        }

    def _bin(self, spec: StationSpec, t: SimTime, c: Conditions) -> dict[str, float]:
        hour = t.hour
        rate = spec.params.get("fill_rate", 5.0)  # % per hour of daytime
        # collected at 05:30 and 14:00 every day: hours since the last round
        if hour >= 14.0:
            since = hour - 14.0
        elif hour >= 5.5:
            since = hour - 5.5
        else:
            since = hour + 10.0
        fill = 3.0 + rate * since * (0.6 + 0.4 * activity_profile(hour))
        fill = self.toward(spec, "fill_pct", fill, t.elapsed)
        fill += 1.5 * self.noise(spec, "fill_pct", t.sim)
        return {"fill_pct": round(min(100.0, max(0.0, fill)), 1)}

    # -- safety --------------------------------------------------------------------------

    def incident(self, spec: StationSpec, t: SimTime) -> tuple[Incident, bool]:
        """The slot's current (or most recent) incident, and whether it is still active."""
        slot = int(spec.params.get("slot", 1.0))
        period = self._incident_period
        shift = 60.0 if slot == 1 else slot * period / max(1, self._slots)
        cycle_time = t.elapsed + shift + spec.params.get("shift_s", 0.0)
        cycle = math.floor(cycle_time / period)
        within = cycle_time - cycle * period
        start = self._incident_start(spec, slot, cycle, period)
        if within < start:
            cycle -= 1
            within += period
            start = self._incident_start(spec, slot, cycle, period)
        duration = period * (0.3 + 0.2 * unit_hash(self.seed, spec.id, cycle, "duration"))
        active = start <= within < start + duration
        site = self._sites[int(unit_hash(self.seed, spec.id, cycle, "site") * len(self._sites))]
        kinds = [kind for kind in site.kinds if kind in self._incident_kinds] or list(site.kinds)
        kind = kinds[int(unit_hash(self.seed, spec.id, cycle, "kind") * len(kinds))]
        severe = unit_hash(self.seed, spec.id, cycle, "level") < 0.35
        level = (2 if severe else 1) if kind == "accident" else (3 if severe else 2)
        units = level * 2 + int(unit_hash(self.seed, spec.id, cycle, "units") * 3)
        jitter_lat = (unit_hash(self.seed, spec.id, cycle, "lat") - 0.5) * 0.002
        jitter_lon = (unit_hash(self.seed, spec.id, cycle, "lon") - 0.5) * 0.002
        incident = Incident(
            kind=kind,
            site=site,
            level=level,
            units=units,
            active=active,
            lat=round(site.lat + jitter_lat, 5),
            lon=round(site.lon + jitter_lon, 5),
        )
        return incident, active

    def _incident_start(self, spec: StationSpec, slot: int, cycle: int, period: float) -> float:
        if slot == 1 and cycle == 0:
            return 0.0  # the demo opens with an incident in progress
        return period * 0.4 * unit_hash(self.seed, spec.id, cycle, "start")

    def _incident_values(self, spec: StationSpec, t: SimTime, c: Conditions) -> dict[str, float]:
        incident, active = self.incident(spec, t)
        return {
            "active": 1.0 if active else 0.0,
            "alarm_level": float(incident.level if active else 0),
            "units_dispatched": float(incident.units if active else 0),
        }

    # -- health --------------------------------------------------------------------------

    def _clinic(self, spec: StationSpec, t: SimTime, c: Conditions) -> dict[str, float]:
        hour = t.hour
        base = spec.params.get("queue_base", 10.0)
        busy = 0.2 + bell(hour, 9.8, 1.6) + 0.6 * bell(hour, 15.0, 1.3)
        queue = base * busy * (1.0 + 0.25 * c.rain)
        queue = self.toward(spec, "queue_length", queue, t.elapsed)
        queue = max(0.0, queue + 0.1 * base * self.noise(spec, "queue_length", t.sim))
        minutes = spec.params.get("minutes_per_patient", 4.0)
        return {"queue_length": float(round(queue)), "wait_min": float(round(queue * minutes))}

    def _health_check(self, spec: StationSpec, t: SimTime, c: Conditions) -> dict[str, float]:
        profile = traffic_profile(t.hour)
        peak = spec.params.get("peak_vph", 200.0)
        checked = peak * profile * (1.0 - 0.3 * c.gridlock)
        checked += 0.05 * peak * self.noise(spec, "vehicles_checked", t.sim)
        queue = 2.0 + 9.0 * profile + 42.0 * c.gridlock
        queue = self.toward(spec, "queue_vehicles", queue, t.elapsed)
        queue += 1.5 * self.noise(spec, "queue_vehicles", t.sim)
        return {
            "vehicles_checked": float(max(0, round(checked))),
            "queue_vehicles": float(max(0, round(queue))),
        }
