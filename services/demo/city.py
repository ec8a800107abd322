"""The demo city's data: stations, bus routes, incident sites, district outlines, the river.

``load_demo_city()`` reads ``resources/demo_city.json`` (authored for this project: coarse
outlines and plausible places around Yiyang, WGS-84). Every station has a *kind* (see
``STATION_KINDS``) that fixes its domain, the payload format it is published in, its metrics
and its MQTT topic, so the JSON file only says where things are and how they behave.

Entity ids are those the app's decoders derive from the payloads (``StationSpec.entity_id``):
NGSI-LD URNs for environment stations, SenML device URNs for water, SensorThings
``Thing(<id>)`` for traffic, ``<user>/<device>`` for OwnTracks buses and the plain id for
JSON devices.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True, slots=True)
class StationKind:
    """What every station of one kind has in common."""

    domain: str
    format: str
    metrics: tuple[str, ...]
    topic: str
    """Topic template with ``{id}`` (and ``{metric}`` for one message per metric)."""
    entity: str
    """Entity-id template with ``{id}``, as the app's decoder derives it."""


STATION_KINDS: dict[str, StationKind] = {
    "air_quality": StationKind(
        "environment",
        "ngsi-ld",
        ("pm25", "pm10", "no2", "o3", "airQualityIndex"),
        "yiyang/env/air/{id}",
        "urn:ngsi-ld:AirQualityObserved:yiyang:{id}",
    ),
    "noise": StationKind(
        "environment",
        "ngsi-ld",
        ("LAeq", "LAmax"),
        "yiyang/env/noise/{id}",
        "urn:ngsi-ld:NoiseLevelObserved:yiyang:{id}",
    ),
    "river_gauge": StationKind(
        "water",
        "senml",
        ("water_level", "discharge"),
        "yiyang/water/gauge/{id}",
        "urn:dev:ops:yiyang-{id}",
    ),
    "water_quality": StationKind(
        "water",
        "senml",
        ("pH", "turbidity", "dissolved_oxygen"),
        "yiyang/water/quality/{id}",
        "urn:dev:ops:yiyang-{id}",
    ),
    "pumping_station": StationKind(
        "water",
        "senml",
        ("running", "pumps_running", "pump_flow", "sump_level"),
        "yiyang/water/pump/{id}",
        "urn:dev:ops:yiyang-{id}",
    ),
    "traffic_checkpoint": StationKind(
        "traffic",
        "sensorthings",
        ("vehicles_in", "vehicles_out"),
        "v1.1/Datastreams('{id}:{metric}')/Observations",
        "Thing({id})",
    ),
    "intersection": StationKind(
        "traffic",
        "sensorthings",
        ("traffic_flow", "occupancy", "avg_speed"),
        "v1.1/Datastreams('{id}:{metric}')/Observations",
        "Thing({id})",
    ),
    "bus": StationKind(
        "transport",
        "owntracks",
        ("vel", "cog", "batt", "acc", "delay_min", "passengers"),
        "owntracks/yiyang-bus/{id}",
        "yiyang-bus/{id}",
    ),
    "streetlight": StationKind(
        "city",
        "json",
        ("power_on", "power_kw", "lamps_faulty"),
        "yiyang/city/streetlight/{id}",
        "{id}",
    ),
    "parking": StationKind(
        "city", "json", ("free_spaces", "capacity"), "yiyang/city/parking/{id}", "{id}"
    ),
    "waste_bin": StationKind("city", "json", ("fill_pct",), "yiyang/city/bin/{id}", "{id}"),
    "incident": StationKind(
        "safety",
        "json",
        ("active", "alarm_level", "units_dispatched"),
        "yiyang/safety/incident/{id}",
        "{id}",
    ),
    "clinic": StationKind(
        "health", "json", ("queue_length", "wait_min"), "yiyang/health/clinic/{id}", "{id}"
    ),
    "epidemic_checkpoint": StationKind(
        "health",
        "json",
        ("vehicles_checked", "queue_vehicles"),
        "yiyang/health/checkpoint/{id}",
        "{id}",
    ),
}
"""Every station kind the simulator knows."""

BUS_STATUS_TOPIC = "yiyang/transport/bus/{id}"
"""Buses publish positions as OwnTracks and their delay and load as plain JSON here."""

METRIC_UNITS: dict[str, str] = {
    "pm25": "µg/m³",
    "pm10": "µg/m³",
    "no2": "µg/m³",
    "o3": "µg/m³",
    "airQualityIndex": "",
    "LAeq": "dB",
    "LAmax": "dB",
    "water_level": "m",
    "discharge": "m3/s",
    "pH": "pH",
    "turbidity": "NTU",
    "dissolved_oxygen": "mg/L",
    "running": "",
    "pumps_running": "",
    "pump_flow": "m3/s",
    "sump_level": "m",
    "vehicles_in": "veh/min",
    "vehicles_out": "veh/min",
    "traffic_flow": "veh/min",
    "occupancy": "%",
    "avg_speed": "km/h",
    "vel": "km/h",
    "cog": "°",
    "batt": "%",
    "acc": "m",
    "delay_min": "min",
    "passengers": "",
    "power_on": "",
    "power_kw": "kW",
    "lamps_faulty": "",
    "free_spaces": "",
    "capacity": "",
    "fill_pct": "%",
    "active": "",
    "alarm_level": "",
    "units_dispatched": "",
    "queue_length": "",
    "wait_min": "min",
    "vehicles_checked": "veh/h",
    "queue_vehicles": "",
}
"""Units of the simulated metrics as the payloads state them (plain JSON carries none)."""


@dataclass(frozen=True, slots=True)
class Episode:
    """A recurring excursion of one metric towards ``peak`` (the demo's liveliness).

    Counted in simulated seconds from the start: ``lead_s`` seconds into the first episode
    at the start, one raised-cosine bump ``width_s`` long every ``period_s`` seconds.
    """

    metric: str
    period_s: float
    width_s: float
    lead_s: float
    peak: float

    def weight(self, elapsed: float) -> float:
        """0 outside the episode, rising smoothly to 1 at its middle."""
        phase = (elapsed + self.lead_s) % self.period_s
        if phase >= self.width_s:
            return 0.0
        return 0.5 * (1.0 - math.cos(2.0 * math.pi * phase / self.width_s))


@dataclass(frozen=True, slots=True)
class BusRoute:
    """A bus line: a path of ``[lon, lat]`` points driven there and back."""

    id: str
    name: str
    path: tuple[tuple[float, float], ...]
    stops: frozenset[int]
    buses: int
    speed_kmh: float
    dwell_s: float
    episodes: tuple[tuple[int, Episode], ...] = ()
    """Episodes of single buses: (bus number, episode)."""


@dataclass(frozen=True, slots=True)
class IncidentSite:
    """A place where the demo's fires and accidents happen."""

    name: str
    lat: float
    lon: float
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StationSpec:
    """One simulated device: identity, place, kind and simulation parameters."""

    id: str
    name: str
    type: str
    domain: str
    lat: float
    lon: float
    topic: str
    metrics: tuple[str, ...]
    format: str
    entity_id: str
    params: Mapping[str, float] = field(default_factory=dict)
    episodes: tuple[Episode, ...] = ()
    route: str = ""

    @property
    def episode(self) -> Episode | None:
        """The first episode, if any."""
        return self.episodes[0] if self.episodes else None

    def topics(self) -> tuple[str, ...]:
        """Every topic this station publishes on."""
        if "{metric}" in STATION_KINDS[self.type].topic:
            return tuple(self.metric_topic(metric) for metric in self.metrics)
        if self.type == "bus":
            return (self.topic, BUS_STATUS_TOPIC.format(id=self.id))
        return (self.topic,)

    def metric_topic(self, metric: str) -> str:
        """The topic of one metric (SensorThings publishes one Datastream per metric)."""
        return STATION_KINDS[self.type].topic.format(id=self.id, metric=metric)


@dataclass(frozen=True, slots=True)
class DemoCity:
    """The demo city: stations, bus routes, incident sites and GeoJSON outlines (WGS-84)."""

    name: str
    center_lat: float
    center_lon: float
    zoom: int
    stations: tuple[StationSpec, ...]
    districts: dict[str, Any]
    river: dict[str, Any] | None = None
    routes: tuple[BusRoute, ...] = ()
    incident_sites: tuple[IncidentSite, ...] = ()

    def station(self, station_id: str) -> StationSpec:
        """The station with ``station_id``; KeyError when there is none."""
        for spec in self.stations:
            if spec.id == station_id:
                return spec
        raise KeyError(station_id)


def load_demo_city() -> DemoCity:
    """Read ``resources/demo_city.json``; ValueError when it is malformed."""
    text = resources.files("resources").joinpath("demo_city.json").read_text(encoding="utf-8")
    return parse_demo_city(json.loads(text))


def parse_demo_city(doc: Mapping[str, Any]) -> DemoCity:
    """Build a DemoCity from the decoded JSON document, checking every station."""
    try:
        city = doc["city"]
        center = city["center"]
        routes = tuple(_parse_route(item) for item in doc.get("routes", ()))
        stations = [_parse_station(item) for item in doc["stations"]]
        stations.extend(spec for route in routes for spec in _bus_specs(route))
        incidents = doc.get("incidents", {})
        sites = tuple(_parse_site(item) for item in incidents.get("sites", ()))
        stations.extend(_incident_specs(int(incidents.get("slots", 0)), sites))
        districts = doc["districts"]
        result = DemoCity(
            name=str(city["name"]),
            center_lat=float(center["lat"]),
            center_lon=float(center["lon"]),
            zoom=int(city.get("zoom", 12)),
            stations=tuple(stations),
            districts=dict(districts),
            river=dict(doc["river"]) if doc.get("river") else None,
            routes=routes,
            incident_sites=sites,
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"demo city data is malformed: missing or wrong {exc}") from exc
    if districts.get("type") != "FeatureCollection":
        raise ValueError("demo city 'districts' must be a GeoJSON FeatureCollection")
    ids = [spec.id for spec in result.stations]
    if len(set(ids)) != len(ids):
        raise ValueError("demo city has duplicate station ids")
    return result


def make_station(
    station_id: str,
    name: str,
    station_type: str,
    lat: float,
    lon: float,
    *,
    params: Mapping[str, float] | None = None,
    episodes: Sequence[Episode] = (),
    route: str = "",
) -> StationSpec:
    """A StationSpec of a known kind, with its topic, metrics and entity id filled in."""
    kind = STATION_KINDS.get(station_type)
    if kind is None:
        raise ValueError(f"station {station_id!r} has unknown type {station_type!r}")
    for episode in episodes:
        if episode.metric not in kind.metrics:
            raise ValueError(f"station {station_id!r}: episode of unknown metric")
        if not 0 < episode.width_s <= episode.period_s:
            raise ValueError(f"station {station_id!r}: episode width must be within its period")
    return StationSpec(
        id=station_id,
        name=name,
        type=station_type,
        domain=kind.domain,
        lat=lat,
        lon=lon,
        topic=kind.topic.format(id=station_id, metric=kind.metrics[0]),
        metrics=kind.metrics,
        format=kind.format,
        entity_id=kind.entity.format(id=station_id),
        params=dict(params or {}),
        episodes=tuple(episodes),
        route=route,
    )


def _parse_station(item: Mapping[str, Any]) -> StationSpec:
    station_id = str(item["id"])
    station_type = str(item["type"])
    if station_type not in STATION_KINDS or station_type in ("bus", "incident"):
        raise ValueError(f"station {station_id!r} has unknown type {station_type!r}")
    sim = dict(item.get("sim", {}))
    metrics = STATION_KINDS[station_type].metrics
    episodes = tuple(
        Episode(
            metric=str(doc.get("metric", metrics[0])),
            period_s=float(doc["period_s"]),
            width_s=float(doc["width_s"]),
            lead_s=float(doc["lead_s"]),
            peak=float(doc["peak"]),
        )
        for doc in sim.pop("episodes", ())
    )
    return make_station(
        station_id,
        str(item["name"]),
        station_type,
        float(item["lat"]),
        float(item["lon"]),
        params={str(key): float(value) for key, value in sim.items()},
        episodes=episodes,
    )


def _parse_route(item: Mapping[str, Any]) -> BusRoute:
    path = tuple((float(lon), float(lat)) for lon, lat in item["path"])
    if len(path) < 2:
        raise ValueError(f"route {item['id']!r} needs at least two points")
    stops = frozenset(int(index) for index in item.get("stops", range(len(path))))
    if not stops <= set(range(len(path))):
        raise ValueError(f"route {item['id']!r} has a stop outside its path")
    episodes = tuple(
        (
            int(doc["bus"]),
            Episode(
                metric=str(doc["metric"]),
                period_s=float(doc["period_s"]),
                width_s=float(doc["width_s"]),
                lead_s=float(doc["lead_s"]),
                peak=float(doc["peak"]),
            ),
        )
        for doc in item.get("episodes", ())
    )
    return BusRoute(
        id=str(item["id"]),
        name=str(item["name"]),
        path=path,
        stops=stops,
        buses=int(item["buses"]),
        speed_kmh=float(item.get("speed_kmh", 22.0)),
        dwell_s=float(item.get("dwell_s", 25.0)),
        episodes=episodes,
    )


def _bus_specs(route: BusRoute) -> list[StationSpec]:
    specs = []
    first_lon, first_lat = route.path[0]
    for number in range(1, route.buses + 1):
        bus_id = f"line{route.id}-{number:02d}"
        specs.append(
            make_station(
                bus_id,
                f"{route.id}路-{number:02d}",
                "bus",
                first_lat,
                first_lon,
                params={"number": float(number)},
                episodes=[episode for bus, episode in route.episodes if bus == number],
                route=route.id,
            )
        )
    return specs


def _parse_site(item: Mapping[str, Any]) -> IncidentSite:
    return IncidentSite(
        name=str(item["name"]),
        lat=float(item["lat"]),
        lon=float(item["lon"]),
        kinds=tuple(str(kind) for kind in item["kinds"]),
    )


def _incident_specs(slots: int, sites: Sequence[IncidentSite]) -> list[StationSpec]:
    if slots and not sites:
        raise ValueError("incident slots need incident sites")
    centre_lat = sum(site.lat for site in sites) / len(sites) if sites else 0.0
    centre_lon = sum(site.lon for site in sites) / len(sites) if sites else 0.0
    return [
        make_station(
            f"incident-{slot:02d}",
            f"Incident desk {slot:02d}",
            "incident",
            centre_lat,
            centre_lon,
            params={"slot": float(slot)},
        )
        for slot in range(1, slots + 1)
    ]


# -- geometry ----------------------------------------------------------------------------


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance in metres between two WGS-84 points (equirectangular; fine within a city)."""
    mean_lat = math.radians((lat1 + lat2) / 2.0)
    dx = math.radians(lon2 - lon1) * math.cos(mean_lat)
    dy = math.radians(lat2 - lat1)
    return EARTH_RADIUS_M * math.hypot(dx, dy)


def bearing_deg(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Compass bearing (0 = north, 90 = east) from the first point to the second."""
    mean_lat = math.radians((lat1 + lat2) / 2.0)
    dx = math.radians(lon2 - lon1) * math.cos(mean_lat)
    dy = math.radians(lat2 - lat1)
    return math.degrees(math.atan2(dx, dy)) % 360.0


def point_in_ring(lon: float, lat: float, ring: Sequence[Sequence[float]]) -> bool:
    """Whether a point is inside a closed ``[lon, lat]`` ring (even-odd rule)."""
    inside = False
    count = len(ring)
    for index in range(count):
        x1, y1 = ring[index][0], ring[index][1]
        x2, y2 = ring[(index + 1) % count][0], ring[(index + 1) % count][1]
        if (y1 > lat) != (y2 > lat):
            crossing = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < crossing:
                inside = not inside
    return inside


def river_corridor(
    line: Sequence[Sequence[float]], half_width_deg: float
) -> list[tuple[float, float]]:
    """A closed ``[lon, lat]`` ring around a river line, ``half_width_deg`` either side."""
    north = [(float(lon), float(lat) + half_width_deg) for lon, lat in line]
    south = [(float(lon), float(lat) - half_width_deg) for lon, lat in reversed(line)]
    ring = north + south
    ring.append(ring[0])
    return ring
