"""The Yiyang demo city: station list, a deterministic data simulator and an MQTT publisher.

``load_demo_city()`` reads ``resources/demo_city.json``. ``CitySimulator.step(now)`` turns
the stations into ``(topic, payload)`` pairs for one instant; the values follow smooth
daily patterns (local time, UTC+8) with smooth noise, and a few stations run recurring
"episodes" (pollution, construction noise, a flood wave on the Zi River, congestion, a full
car park) so that alarms are raised within seconds of the start and clear again later.
``DemoPublisher`` publishes those pairs to a broker once per interval from its own thread.
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from services.broker_url import parse_broker_url
from services.timeutil import format_timestamp

log = logging.getLogger("cityops.simulator")

UTC_OFFSET_S = 8 * 3600
"""Yiyang local time (China Standard Time) is UTC+8; daily patterns follow local time."""


STATION_TYPES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    # type: (domain, topic domain, topic kind, metrics)
    "air_quality": ("environment", "env", "air", ("pm25", "pm10", "no2", "o3", "aqi")),
    "noise": ("environment", "env", "noise", ("noise_db",)),
    "water_level": ("water", "water", "level", ("level_m", "flow_m3s")),
    "traffic_intersection": ("traffic", "traffic", "flow", ("vehicles_per_min", "occupancy_pct")),
    "traffic_checkpoint": ("traffic", "traffic", "flow", ("vehicles_per_min", "occupancy_pct")),
    "parking": ("city", "city", "parking", ("free_spaces",)),
}
"""Every station type the simulator knows: domain, topic parts and published metrics."""

METRIC_UNITS: dict[str, str] = {
    "pm25": "µg/m³",
    "pm10": "µg/m³",
    "no2": "µg/m³",
    "o3": "µg/m³",
    "aqi": "",
    "noise_db": "dB(A)",
    "level_m": "m",
    "flow_m3s": "m³/s",
    "vehicles_per_min": "veh/min",
    "occupancy_pct": "%",
    "free_spaces": "",
}
"""Units of the simulated metrics (payloads carry plain numbers)."""

FEED_FILTERS = ("yiyang/env/#", "yiyang/water/#", "yiyang/traffic/#", "yiyang/city/#")
"""MQTT topic filters that together cover every demo station's topic."""


# -- the demo city -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Episode:
    """A recurring excursion of a station's main metric towards ``peak``.

    Counted from the simulator's start: ``lead_s`` seconds into the first episode at the
    start, one raised-cosine bump ``width_s`` long every ``period_s`` seconds.
    """

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
class StationSpec:
    """One demo station: identity, location, topic and simulation parameters."""

    id: str
    name: str
    type: str
    domain: str
    lat: float
    lon: float
    topic: str
    metrics: tuple[str, ...]
    params: Mapping[str, float] = field(default_factory=dict)
    episode: Episode | None = None


@dataclass(frozen=True, slots=True)
class DemoCity:
    """The demo city: its stations and GeoJSON outlines (WGS-84)."""

    name: str
    center_lat: float
    center_lon: float
    zoom: int
    stations: tuple[StationSpec, ...]
    districts: dict[str, Any]
    river: dict[str, Any] | None = None

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
        stations = tuple(_parse_station(item) for item in doc["stations"])
        districts = doc["districts"]
        center = city["center"]
        result = DemoCity(
            name=str(city["name"]),
            center_lat=float(center["lat"]),
            center_lon=float(center["lon"]),
            zoom=int(city.get("zoom", 12)),
            stations=stations,
            districts=dict(districts),
            river=dict(doc["river"]) if doc.get("river") else None,
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"demo city data is malformed: missing or wrong {exc}") from exc
    if districts.get("type") != "FeatureCollection":
        raise ValueError("demo city 'districts' must be a GeoJSON FeatureCollection")
    ids = [spec.id for spec in stations]
    if len(set(ids)) != len(ids):
        raise ValueError("demo city has duplicate station ids")
    return result


def _parse_station(item: Mapping[str, Any]) -> StationSpec:
    station_id = str(item["id"])
    station_type = str(item["type"])
    if station_type not in STATION_TYPES:
        raise ValueError(f"station {station_id!r} has unknown type {station_type!r}")
    domain, topic_domain, kind, metrics = STATION_TYPES[station_type]
    topic = str(item["topic"])
    expected = f"yiyang/{topic_domain}/{kind}/{station_id}"
    if topic != expected or item["domain"] != domain:
        raise ValueError(f"station {station_id!r} must publish on {expected!r} ({domain})")
    sim = dict(item.get("sim", {}))
    episode_doc = sim.pop("episode", None)
    episode = None
    if episode_doc is not None:
        episode = Episode(
            period_s=float(episode_doc["period_s"]),
            width_s=float(episode_doc["width_s"]),
            lead_s=float(episode_doc["lead_s"]),
            peak=float(episode_doc["peak"]),
        )
        if not 0 < episode.width_s <= episode.period_s:
            raise ValueError(f"station {station_id!r}: episode width must be within its period")
    return StationSpec(
        id=station_id,
        name=str(item["name"]),
        type=station_type,
        domain=domain,
        lat=float(item["lat"]),
        lon=float(item["lon"]),
        topic=topic,
        metrics=metrics,
        params={str(key): float(value) for key, value in sim.items()},
        episode=episode,
    )


# -- value model -------------------------------------------------------------------------


class _SmoothNoise:
    """Deterministic smooth noise in [-1, 1]: a few slow sines with seeded periods/phases."""

    __slots__ = ("_components",)

    def __init__(self, rng: random.Random) -> None:
        weights = [rng.uniform(0.5, 1.0) for _ in range(3)]
        total = sum(weights)
        self._components = [
            (w / total, 2.0 * math.pi / rng.uniform(40.0, 420.0), rng.uniform(0.0, 2.0 * math.pi))
            for w in weights
        ]

    def __call__(self, t: float) -> float:
        return sum(w * math.sin(omega * t + phase) for w, omega, phase in self._components)


def _local_hour(now: float) -> float:
    return ((now + UTC_OFFSET_S) % 86400.0) / 3600.0


def _bell(hour: float, centre: float, width: float) -> float:
    return math.exp(-(((hour - centre) / width) ** 2))


def _traffic_profile(hour: float) -> float:
    """Relative traffic volume over a day: low at night, morning and evening peaks (~0.1-1)."""
    daytime = 0.5 * (math.tanh(hour - 6.5) - math.tanh(hour - 22.0))
    return 0.1 + 0.45 * daytime + 0.4 * _bell(hour, 8.0, 1.2) + 0.35 * _bell(hour, 18.0, 1.5)


def _activity_profile(hour: float) -> float:
    """Daytime activity: 0 at 02:00, 1 at 14:00, smooth in between."""
    return 0.5 * (1.0 - math.cos(2.0 * math.pi * (hour - 2.0) / 24.0))


# (concentration breakpoints, index breakpoints) of China's HJ 633-2012 1-hour IAQI tables.
_IAQI = (0.0, 50.0, 100.0, 150.0, 200.0, 300.0, 400.0, 500.0)
_BREAKPOINTS = {
    "pm25": (0.0, 35.0, 75.0, 115.0, 150.0, 250.0, 350.0, 500.0),
    "pm10": (0.0, 50.0, 150.0, 250.0, 350.0, 420.0, 500.0, 600.0),
    "no2": (0.0, 100.0, 200.0, 700.0, 1200.0, 2340.0, 3090.0, 3840.0),
    "o3": (0.0, 160.0, 200.0, 300.0, 400.0, 800.0, 1000.0, 1200.0),
}


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


class CitySimulator:
    """Deterministic readings for every station of a DemoCity.

    Values depend only on the seed, ``now`` and the start time, never on earlier calls, so
    the same seed and times always give identical payloads. With ``start_time=None`` the
    first ``step()`` sets it; episodes are timed from there.
    """

    def __init__(self, city: DemoCity, *, seed: int = 0, start_time: float | None = None) -> None:
        self.city = city
        self.seed = seed
        self.start_time = start_time
        self._noise: dict[tuple[str, str], _SmoothNoise] = {}
        self._models: dict[str, Callable[[StationSpec, float, float], dict[str, float]]] = {
            "air_quality": self._air,
            "noise": self._sound,
            "water_level": self._water,
            "traffic_intersection": self._traffic,
            "traffic_checkpoint": self._traffic,
            "parking": self._parking,
        }
        for spec in city.stations:
            for metric in spec.metrics:
                rng = random.Random(f"{seed}/{spec.id}/{metric}")
                self._noise[spec.id, metric] = _SmoothNoise(rng)

    @property
    def stations(self) -> tuple[StationSpec, ...]:
        return self.city.stations

    def values(self, spec: StationSpec, now: float) -> dict[str, float]:
        """The metric values of one station at ``now`` (epoch seconds)."""
        if self.start_time is None:
            self.start_time = now
        return self._models[spec.type](spec, now, now - self.start_time)

    def step(self, now: float) -> list[tuple[str, bytes]]:
        """(topic, JSON payload) for every station at ``now`` (epoch seconds, UTC)."""
        ts = format_timestamp(now)
        messages: list[tuple[str, bytes]] = []
        for spec in self.city.stations:
            body: dict[str, object] = {
                "id": spec.id,
                "name": spec.name,
                "type": spec.type,
                "lat": spec.lat,
                "lon": spec.lon,
                "ts": ts,
            }
            body.update(self.values(spec, now))
            payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            messages.append((spec.topic, payload.encode("utf-8")))
        return messages

    # -- per-type models; each returns rounded metric values ------------------------------

    def _wiggle(self, spec: StationSpec, metric: str, now: float) -> float:
        return self._noise[spec.id, metric](now)

    @staticmethod
    def _toward_peak(spec: StationSpec, value: float, elapsed: float) -> tuple[float, float]:
        """Blend ``value`` towards the episode peak; returns (value, episode weight)."""
        if spec.episode is None:
            return value, 0.0
        weight = spec.episode.weight(elapsed)
        return value + (spec.episode.peak - value) * weight, weight

    def _air(self, spec: StationSpec, now: float, elapsed: float) -> dict[str, float]:
        hour = _local_hour(now)
        base = spec.params.get("pm25_base", 35.0)
        pm25 = base * (1.0 + 0.3 * math.cos(2.0 * math.pi * (hour - 8.0) / 24.0))
        pm25, _ = self._toward_peak(spec, pm25, elapsed)
        pm25 = max(1.0, pm25 + 0.06 * base * self._wiggle(spec, "pm25", now))
        pm10 = max(2.0, 1.45 * pm25 + 12.0 + 5.0 * self._wiggle(spec, "pm10", now))
        no2 = max(1.0, 18.0 + 22.0 * _traffic_profile(hour) + 4.0 * self._wiggle(spec, "no2", now))
        sunshine = max(0.0, math.sin(math.pi * (hour - 8.0) / 12.0))
        o3 = max(1.0, 30.0 + 85.0 * sunshine + 6.0 * self._wiggle(spec, "o3", now))
        pm25, pm10, no2, o3 = (round(v, 1) for v in (pm25, pm10, no2, o3))
        aqi = max(
            individual_aqi("pm25", pm25),
            individual_aqi("pm10", pm10),
            individual_aqi("no2", no2),
            individual_aqi("o3", o3),
        )
        return {"pm25": pm25, "pm10": pm10, "no2": no2, "o3": o3, "aqi": float(round(aqi))}

    def _sound(self, spec: StationSpec, now: float, elapsed: float) -> dict[str, float]:
        hour = _local_hour(now)
        night = spec.params.get("night_db", 45.0)
        day = spec.params.get("day_db", 60.0)
        level = night + (day - night) * _activity_profile(hour)
        level, _ = self._toward_peak(spec, level, elapsed)
        level += 1.5 * self._wiggle(spec, "noise_db", now)
        return {"noise_db": round(level, 1)}

    def _water(self, spec: StationSpec, now: float, elapsed: float) -> dict[str, float]:
        base = spec.params.get("level_base_m", 34.0)
        level, _ = self._toward_peak(spec, base, elapsed)
        level += 0.15 * self._wiggle(spec, "level_m", now)
        # A simple rating curve: discharge grows with the stage above the channel bottom.
        stage = max(0.0, level - (base - 3.0))
        flow = 125.0 * stage**1.5 * (1.0 + 0.03 * self._wiggle(spec, "flow_m3s", now))
        return {"level_m": round(level, 2), "flow_m3s": round(flow)}

    def _traffic(self, spec: StationSpec, now: float, elapsed: float) -> dict[str, float]:
        profile = _traffic_profile(_local_hour(now))
        peak = spec.params.get("peak_vpm", 50.0)
        occupancy = 8.0 + 55.0 * profile
        occupancy, jam = self._toward_peak(spec, occupancy, elapsed)
        occupancy += 3.0 * self._wiggle(spec, "occupancy_pct", now)
        vehicles = peak * profile * (1.0 - 0.55 * jam)
        vehicles += 0.06 * peak * self._wiggle(spec, "vehicles_per_min", now)
        return {
            "vehicles_per_min": float(max(0, round(vehicles))),
            "occupancy_pct": round(min(100.0, max(0.0, occupancy)), 1),
        }

    def _parking(self, spec: StationSpec, now: float, elapsed: float) -> dict[str, float]:
        capacity = spec.params.get("capacity", 200.0)
        peak_fill = spec.params.get("peak_fill", 0.7)
        fill = 0.15 + (peak_fill - 0.15) * _activity_profile(_local_hour(now))
        free = capacity * (1.0 - fill)
        free, _ = self._toward_peak(spec, free, elapsed)
        free += 0.012 * capacity * self._wiggle(spec, "free_spaces", now)
        return {"free_spaces": float(round(min(capacity, max(0.0, free))))}


# -- publishing --------------------------------------------------------------------------

_MIN_BACKOFF_S = 0.2
_MAX_BACKOFF_S = 5.0


class DemoPublisher:
    """Publishes ``simulator.step(time.time())`` to an MQTT broker every ``interval`` seconds.

    Runs in its own daemon thread with a paho-mqtt (v2 callback API) client. Until the broker
    is reachable it retries with exponential backoff; errors are logged, never raised.
    """

    def __init__(
        self,
        url: str,
        simulator: CitySimulator,
        *,
        interval: float = 1.0,
        qos: int = 0,
        client_id: str = "",
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        if qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, got {qos}")
        address = parse_broker_url(url)
        self._scheme, self._host, self._port = address.scheme, address.host, address.port
        self._url = url
        self._simulator = simulator
        self._interval = interval
        self._qos = qos
        self._client_id = client_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connected = False
        self._published = 0

    @property
    def messages_published(self) -> int:
        """How many messages were handed to the broker connection so far."""
        return self._published

    @property
    def connected(self) -> bool:
        """True while the broker has accepted the connection."""
        return self._connected

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start publishing in a daemon thread (no-op when already running)."""
        with self._lock:
            if self.running:
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="cityops-demo-publisher", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop publishing, disconnect and join the thread. Safe to call more than once."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
            if thread is not None:
                thread.join(timeout)
                if thread.is_alive():
                    log.warning("demo publisher thread did not stop within %.1f s", timeout)

    # -- thread --------------------------------------------------------------------------

    def _run(self) -> None:
        client: mqtt.Client | None = None
        try:
            client = self._make_client()
            self._publish_loop(client)
        except Exception:
            log.exception("demo publisher stopped after an unexpected error")
        finally:
            if client is not None:
                self._close(client)

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self._client_id,
            clean_session=True,
        )
        if self._scheme == "mqtts":
            client.tls_set()
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        return client

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: Any, props: object
    ) -> None:
        if reason.is_failure:
            log.warning("broker %s refused the demo publisher: %s", self._url, reason)
            return
        self._connected = True
        log.info("demo publisher connected to %s", self._url)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: Any, props: object
    ) -> None:
        if self._connected and not self._stop.is_set():
            log.warning("demo publisher lost the connection to %s: %s", self._url, reason)
        self._connected = False

    def _publish_loop(self, client: mqtt.Client) -> None:
        backoff = _MIN_BACKOFF_S
        failures = 0
        socket_open = False
        next_due = time.monotonic()
        while not self._stop.is_set():
            if not socket_open:
                try:
                    client.connect(self._host, self._port, keepalive=30)
                    socket_open = True
                    failures = 0
                    backoff = _MIN_BACKOFF_S
                except (OSError, ValueError) as exc:
                    failures += 1
                    level = logging.WARNING if failures == 1 else logging.DEBUG
                    log.log(level, "cannot reach broker %s yet (%s); retrying", self._url, exc)
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2.0, _MAX_BACKOFF_S)
                    continue
            wait = 0.1
            if self._connected:
                wait = max(0.0, min(wait, next_due - time.monotonic()))
            rc = client.loop(timeout=wait)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                self._connected = False
                socket_open = False
                log.debug("demo publisher network loop ended: %s", mqtt.error_string(rc))
                self._stop.wait(backoff)
                continue
            now = time.monotonic()
            if self._connected and now >= next_due:
                self._publish_batch(client)
                next_due = max(next_due + self._interval, now)

    def _publish_batch(self, client: mqtt.Client) -> None:
        for topic, payload in self._simulator.step(time.time()):
            info = client.publish(topic, payload, qos=self._qos)
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                self._published += 1
            else:
                log.debug("publish to %s failed: %s", topic, mqtt.error_string(info.rc))
                break

    def _close(self, client: mqtt.Client) -> None:
        try:
            if client.socket() is not None:
                client.disconnect()
                for _ in range(10):
                    if client.socket() is None:
                        break
                    client.loop(timeout=0.05)
        except Exception:
            log.debug("error while disconnecting the demo publisher", exc_info=True)
        self._connected = False
