"""The Yiyang demo city: a deterministic simulator of its devices.

``CitySimulator(city, seed=..., scenario=..., speed=...).step(now)`` returns the
``(topic, payload)`` pairs every device sends at wall-clock time ``now``: environment
stations as NGSI-LD, water devices as SenML, traffic as SensorThings observations, buses as
OwnTracks (plus a JSON status), warnings as CAP and everything else as plain JSON (see
:mod:`services.demo.formats`). :class:`services.demo.publisher.DemoPublisher` publishes them
to a broker once per interval; warnings are published retained (``CitySimulator.retained``),
so that a client subscribing later still gets the warnings in force.

Time: the simulated clock starts at the first step (or at the scenario's start hour on that
day) and runs ``speed`` times faster than the wall clock; it drives the values (daily
patterns, episodes, the scenario's story). Payload timestamps are the wall-clock time of the
step (plus skew in the sensor-failures scenario), so a fast run never sends future times.

Determinism: readings depend only on the seed, the scenario, the start time and ``now``.
CAP warnings are sent when they change between two steps (and re-sent every ten simulated
minutes), so they also depend on the previous step's time: the same seed and the same
sequence of ``step`` times always give identical messages.
"""

from __future__ import annotations

import math
import time

from services.demo.city import (
    METRIC_UNITS,
    STATION_KINDS,
    DemoCity,
    StationSpec,
    load_demo_city,
    make_station,
    parse_demo_city,
    river_corridor,
)
from services.demo.formats import (
    CapArea,
    CapMessage,
    Encoder,
    Sample,
    asset_record,
    cap_alert,
    corrupt,
    make_encoder,
)
from services.demo.models import (
    UTC_OFFSET_S,
    CityModels,
    Conditions,
    SimTime,
    unit_hash,
)
from services.demo.scenarios import (
    FaultPlan,
    Scenario,
    WarningThread,
    apply_spike,
    get_scenario,
)
from services.timeutil import format_timestamp

__all__ = [  # with the city data that callers of the simulator need
    "METRIC_UNITS",
    "STATION_KINDS",
    "CitySimulator",
    "DemoCity",
    "WarningDesk",
    "load_demo_city",
    "parse_demo_city",
    "scaled_stations",
]

WARNING_RESEND_S = 600.0
"""Warnings in force are sent again every this many simulated seconds."""
BROKEN_CAP_EVERY_S = 120.0
"""In the sensor-failures scenario, a broken CAP message this often (simulated seconds)."""
RIVER_AREA = "zijiang"
WARNING_TOPIC = "yiyang/warnings/cap/{thread}/{area}"
"""One retained topic per warning and area: a new subscriber gets the warnings in force."""
BROKEN_CAP_TOPIC = "yiyang/warnings/cap/gateway"
"""Where the sensor-failures scenario's broken CAP messages come from (never retained)."""
WARNING_PREFIX = "yiyang/warnings/"
ASSET_TOPIC = "yiyang/assets/{domain}/{id}"
"""The asset register: names, kinds and places of devices whose format has no names."""
ASSET_PREFIX = "yiyang/assets/"
RETAINED_PREFIXES = (WARNING_PREFIX, ASSET_PREFIX)


# -- the city at a scale -----------------------------------------------------------------


def scaled_stations(city: DemoCity, count: int) -> tuple[StationSpec, ...]:
    """``count`` stations: the city's own first (kinds interleaved), then numbered replicas.

    Replica ``r`` of a station has the id ``<id>-r<r>`` (three digits), a position up to
    about 500 m away and its own time shift, so replicas behave alike but not in lockstep.
    """
    if count < 1:
        raise ValueError(f"entities must be at least 1, got {count}")
    groups: dict[str, list[StationSpec]] = {}
    for spec in city.stations:
        groups.setdefault(spec.type, []).append(spec)
    order: list[StationSpec] = []
    for index in range(max(len(group) for group in groups.values())):
        order.extend(group[index] for group in groups.values() if index < len(group))
    result: list[StationSpec] = []
    for index in range(count):
        base = order[index % len(order)]
        replica = index // len(order)
        if replica == 0:
            result.append(base)
            continue
        replica_id = f"{base.id}-r{replica:03d}"
        params = dict(base.params)
        params["shift_s"] = round(unit_hash(replica_id, "shift") * 86400.0)
        result.append(
            make_station(
                replica_id,
                f"{base.name} #{replica}",
                base.type,
                round(base.lat + (unit_hash(replica_id, "lat") - 0.5) * 0.009, 6),
                round(base.lon + (unit_hash(replica_id, "lon") - 0.5) * 0.01, 6),
                params=params,
                episodes=base.episodes,
                route=base.route,
            )
        )
    return tuple(result)


# -- warnings ----------------------------------------------------------------------------


class WarningDesk:
    """Plays a scenario's CAP warnings: one alert per area, updates and cancels.

    ``messages(previous, elapsed)`` gives the CAP messages due between two steps (simulated
    seconds since the start): a new stage or a cancel when the state changed, the stage in
    force on the first step, and re-sends every ``WARNING_RESEND_S``.
    """

    def __init__(
        self, city: DemoCity, scenario: Scenario, *, start_time: float, speed: float
    ) -> None:
        self._threads = scenario.warnings
        self._start = start_time
        self._speed = speed
        self._stamp = time.strftime("%Y%m%d%H%M", time.gmtime(start_time + UTC_OFFSET_S))
        self._areas: dict[str, CapArea] = {}
        for feature in city.districts["features"]:
            props = feature["properties"]
            geocodes = (("ADCODE", str(props["adcode"])),) if props.get("adcode") else ()
            self._areas[props["id"]] = CapArea(
                f"{props['name']} {props['name_en']}",
                feature["geometry"]["coordinates"][0],
                geocodes,
            )
        if city.river is not None:
            line = [
                point
                for point in city.river["geometry"]["coordinates"]
                if 112.24 <= point[0] <= 112.48
            ]
            self._areas[RIVER_AREA] = CapArea(
                "资江益阳城区段 Zi River, Yiyang urban reach", river_corridor(line, 0.012)
            )
        for thread in self._threads:
            missing = [area for area in thread.areas if area not in self._areas]
            if missing:
                raise ValueError(f"warning {thread.key!r} names unknown areas {missing}")

    @staticmethod
    def state(thread: WarningThread, elapsed: float) -> tuple[int, int] | None:
        """(cycle, stage index) in force; stage -1 means cancelled; None before the first."""
        cycle = math.floor(elapsed / thread.period_s) if thread.period_s else 0
        local = elapsed - cycle * (thread.period_s or 0.0)
        if local < 0:
            return None
        if local >= thread.cancel_at_s:
            return cycle, -1
        issued = [index for index, stage in enumerate(thread.stages) if stage.at_s <= local]
        return (cycle, issued[-1]) if issued else None

    def messages(self, previous: float | None, elapsed: float) -> list[tuple[str, bytes]]:
        """CAP messages due at ``elapsed`` when the previous step was at ``previous``."""
        out: list[tuple[str, bytes]] = []
        for thread in self._threads:
            now_state = self.state(thread, elapsed)
            if now_state is None:
                continue
            cycle, stage = now_state
            if previous is None:
                due = stage >= 0
            elif now_state != self.state(thread, previous):
                due = True
            else:
                due = stage >= 0 and math.floor(elapsed / WARNING_RESEND_S) != math.floor(
                    previous / WARNING_RESEND_S
                )
            if due:
                out.extend(self.render(thread, cycle, stage))
        return out

    def render(self, thread: WarningThread, cycle: int, stage: int) -> list[tuple[str, bytes]]:
        """The CAP messages (one per area) of a stage (-1: the cancel) of a cycle."""
        base = cycle * (thread.period_s or 0.0)
        out = []
        for area_id in thread.areas:
            if stage < 0:
                last = max(
                    index
                    for index, item in enumerate(thread.stages)
                    if item.at_s < thread.cancel_at_s
                )
                sent_at = base + thread.cancel_at_s
                message = CapMessage(
                    identifier=self._identifier(thread, area_id, cycle, "cancel"),
                    sender=thread.sender,
                    sender_name=thread.sender_name,
                    sender_name_en=thread.sender_name_en,
                    sent=self._wall(sent_at),
                    msg_type="Cancel",
                    event=thread.event,
                    event_zh=thread.event_zh,
                    category=thread.category,
                    level=thread.stages[last].level,
                    expires=self._wall(sent_at) + 60.0,
                    area=self._areas[area_id],
                    references=(self._reference(thread, area_id, cycle, last),),
                )
            else:
                item = thread.stages[stage]
                ends = (
                    thread.stages[stage + 1].at_s
                    if stage + 1 < len(thread.stages)
                    else thread.cancel_at_s
                )
                message = CapMessage(
                    identifier=self._identifier(thread, area_id, cycle, str(stage)),
                    sender=thread.sender,
                    sender_name=thread.sender_name,
                    sender_name_en=thread.sender_name_en,
                    sent=self._wall(base + item.at_s),
                    msg_type="Alert" if stage == 0 else "Update",
                    event=thread.event,
                    event_zh=thread.event_zh,
                    category=thread.category,
                    level=item.level,
                    expires=self._wall(base + min(ends, thread.cancel_at_s))
                    + max(120.0, 600.0 / self._speed),
                    area=self._areas[area_id],
                    references=(
                        (self._reference(thread, area_id, cycle, stage - 1),) if stage else ()
                    ),
                    instruction=thread.instruction,
                )
            out.append((WARNING_TOPIC.format(thread=thread.key, area=area_id), cap_alert(message)))
        return out

    def _wall(self, elapsed: float) -> float:
        return self._start + elapsed / self._speed

    def _identifier(self, thread: WarningThread, area_id: str, cycle: int, tag: str) -> str:
        return f"YY-{thread.key.upper()}-{area_id}-{self._stamp}-{cycle:03d}-{tag}"

    def _reference(
        self, thread: WarningThread, area_id: str, cycle: int, stage: int
    ) -> tuple[str, float]:
        sent = self._wall(cycle * (thread.period_s or 0.0) + thread.stages[stage].at_s)
        return self._identifier(thread, area_id, cycle, str(stage)), sent


# -- the simulator -----------------------------------------------------------------------


class CitySimulator:
    """Deterministic messages of every device of a DemoCity, in their real formats.

    ``scenario`` names one of the demo scenarios; ``speed`` is simulated seconds per
    wall-clock second; the simulated clock starts at the scenario's start hour on the first
    step's local day (else at the first step's time).
    ``entities`` scales the city to that many devices (see :func:`scaled_stations`), and
    ``shard``/``shards`` keep every ``shards``-th device from ``shard`` (warnings go with
    shard 0), for load generators running in several processes. With ``start_time=None``
    the first ``step()`` sets it.
    """

    def __init__(
        self,
        city: DemoCity,
        *,
        seed: int = 0,
        start_time: float | None = None,
        scenario: str = "normal",
        speed: float = 1.0,
        entities: int | None = None,
        shard: int = 0,
        shards: int = 1,
    ) -> None:
        if not speed > 0 or not math.isfinite(speed):
            raise ValueError(f"speed must be a positive number, got {speed}")
        if not 0 <= shard < shards:
            raise ValueError(f"shard must be in 0..{shards - 1}, got {shard}")
        self.city = city
        self.seed = seed
        self.scenario = get_scenario(scenario)
        self.speed = speed
        self.start_time: float | None = None
        specs = city.stations if entities is None else scaled_stations(city, entities)
        self._stations = tuple(spec for i, spec in enumerate(specs) if i % shards == shard)
        self._encoders: list[tuple[StationSpec, Encoder]] = [
            (spec, make_encoder(spec)) for spec in self._stations
        ]
        self._assets = [
            (ASSET_TOPIC.format(domain=spec.domain, id=spec.id), asset_record(spec))
            for spec in self._stations
            if spec.format == "senml"
        ]
        self.models = CityModels(
            city,
            seed,
            incident_period_s=self.scenario.incident_period_s,
            incident_kinds=self.scenario.incident_kinds,
        )
        self.faults = FaultPlan(seed, self._stations) if self.scenario.faults else None
        self._with_warnings = shard == 0
        self._desk: WarningDesk | None = None
        self._origin = 0.0
        self._previous: float | None = None
        if start_time is not None:
            self._begin(start_time)

    @property
    def stations(self) -> tuple[StationSpec, ...]:
        """The devices this simulator plays (after scaling and sharding)."""
        return self._stations

    def _begin(self, start_time: float) -> None:
        self.start_time = start_time
        if self.scenario.start_hour is not None:
            local = start_time + UTC_OFFSET_S
            midnight = local - local % 86400.0 - UTC_OFFSET_S
            self._origin = midnight + self.scenario.start_hour * 3600.0
        else:
            self._origin = start_time
        if self._with_warnings and self.scenario.warnings:
            self._desk = WarningDesk(
                self.city, self.scenario, start_time=start_time, speed=self.speed
            )

    def clock(self, now: float) -> SimTime:
        """The simulated time at wall-clock time ``now`` (the first call starts the clock)."""
        if self.start_time is None:
            self._begin(now)
        assert self.start_time is not None
        elapsed = (now - self.start_time) * self.speed
        return SimTime(now=now, sim=self._origin + elapsed, elapsed=elapsed)

    def conditions(self, elapsed: float) -> Conditions:
        """What the scenario does to the city ``elapsed`` simulated seconds in."""
        scenario = self.scenario
        return Conditions(
            rain=scenario.rain(elapsed),
            gridlock=scenario.gridlock(elapsed),
            river_rise=scenario.river_rise,
        )

    @staticmethod
    def retained(topic: str) -> bool:
        """Whether a message on ``topic`` should be published retained.

        Warnings in force and the asset register are state rather than events: a client
        that subscribes later must still get them.
        """
        return topic.startswith(RETAINED_PREFIXES) and topic != BROKEN_CAP_TOPIC

    def values(self, spec: StationSpec, now: float) -> dict[str, float]:
        """The metric values of one station at wall-clock time ``now`` (no faults)."""
        t = self.clock(now)
        values = self.models.values(spec, t, self.conditions(t.elapsed))
        values.pop("lat", None)
        values.pop("lon", None)
        return values

    def step(self, now: float) -> list[tuple[str, bytes]]:
        """(topic, payload) of every message due at wall-clock time ``now``."""
        t = self.clock(now)
        conditions = self.conditions(t.elapsed)
        iso = format_timestamp(now)
        out: list[tuple[str, bytes]] = []
        if self._desk is not None:
            out.extend(self._warnings(t.elapsed))
        previous = self._previous
        if previous is None or math.floor(t.elapsed / WARNING_RESEND_S) != math.floor(
            previous / WARNING_RESEND_S
        ):
            out.extend(self._assets)
        faults = self.faults
        for spec, encoder in self._encoders:
            if faults is None:
                out.extend(encoder.encode(self._sample(spec, t, conditions, now, iso)))
            else:
                out.extend(self._faulty(spec, encoder, t, conditions, iso))
        self._previous = t.elapsed
        return out

    def _warnings(self, elapsed: float) -> list[tuple[str, bytes]]:
        assert self._desk is not None
        messages = self._desk.messages(self._previous, elapsed)
        if self.faults is None or not self.scenario.warnings:
            return messages
        previous = self._previous
        if previous is None or math.floor(elapsed / BROKEN_CAP_EVERY_S) != math.floor(
            previous / BROKEN_CAP_EVERY_S
        ):
            thread = self.scenario.warnings[0]
            _, payload = self._desk.render(thread, 0, 0)[0]
            how = 0.2 if math.floor(elapsed / BROKEN_CAP_EVERY_S) % 2 else 0.7
            messages.append((BROKEN_CAP_TOPIC, corrupt(payload, "cap", how)))
        return messages

    def _sample(
        self, spec: StationSpec, t: SimTime, conditions: Conditions, ts: float, iso: str
    ) -> Sample:
        values = self.models.values(spec, t, conditions)
        if spec.type == "bus":
            lat, lon = values.pop("lat"), values.pop("lon")
            return Sample(values, ts, iso, lat, lon)
        if spec.type == "incident":
            incident, active = self.models.incident(spec, t)
            name = incident.title if active else f"{incident.title} — 已处置 cleared"
            return Sample(
                values,
                ts,
                iso,
                incident.lat,
                incident.lon,
                name=name,
                kind=incident.kind,
                placed=active,
            )
        return Sample(values, ts, iso, spec.lat, spec.lon)

    def _faulty(
        self,
        spec: StationSpec,
        encoder: Encoder,
        t: SimTime,
        conditions: Conditions,
        iso: str,
    ) -> list[tuple[str, bytes]]:
        faults = self.faults
        assert faults is not None
        if faults.dropped(spec, t.elapsed):
            return []
        own = faults.of(spec)
        stuck = faults.stuck_at(spec, t.elapsed)
        if stuck is not None:
            t = SimTime(now=t.now, sim=self._origin + stuck, elapsed=stuck)
            conditions = self.conditions(stuck)
        ts = t.now + own.skew_s
        sample = self._sample(spec, t, conditions, ts, format_timestamp(ts) if own.skew_s else iso)
        if faults.spiking(spec, t.elapsed):
            sample.values = apply_spike(dict(sample.values))
        sample.milliseconds = own.milliseconds
        out = []
        for topic, payload in encoder.encode(sample):
            how = faults.malformed(topic, t.elapsed)
            if how is None:
                out.append((topic, payload))
            else:
                fmt = "json" if spec.type == "bus" and topic != spec.topic else spec.format
                out.append((topic, corrupt(payload, fmt, how)))
        return out
