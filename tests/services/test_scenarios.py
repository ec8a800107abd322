"""Each scenario raises the alarms it is meant to, through the app's real ingest pipeline.

Messages go from ``CitySimulator.step`` to ``IngestPipeline.process_batch`` with the demo
configuration, routed to feeds by topic as the MQTT client does; the simulated clock runs
fast (``speed``) so that hours of a story take a few hundred steps.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from services.demo.simulator import CitySimulator, DemoCity, load_demo_city
from services.ingest.pipeline import IngestPipeline
from services.model import Alarm, AlarmState, Condition, DeadLetter
from tests.helpers.demo import DEMO, START, feed_of, raw

Observer = Callable[[float, list[tuple[str, bytes]], IngestPipeline], None]


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return load_demo_city()


@dataclass
class Run:
    """What a scenario did to the pipeline."""

    pipeline: IngestPipeline
    simulator: CitySimulator
    most_areas: int = 0
    silent: dict[str, list[float]] = field(default_factory=dict)
    dead_letters: dict[str, list[DeadLetter]] = field(default_factory=dict)

    def alarms(self) -> list[Alarm]:
        return self.pipeline.alarms.alarms()

    def raised(self, metric: str, condition: str) -> set[str]:
        """Entities that had this alarm at some point."""
        return {
            alarm.entity_id
            for alarm in self.alarms()
            if alarm.metric == metric and alarm.condition == condition
        }

    def cleared(self, alarm: Alarm) -> bool:
        """Whether the alarm returned to normal at least once."""
        return not alarm.state.is_active or alarm.count > 1


def play(
    city: DemoCity,
    scenario: str,
    *,
    duration: float,
    step: float,
    speed: float = 60.0,
    seed: int = 0,
    hour: float = 0.0,
    observe: Observer | None = None,
) -> Run:
    """Run ``duration`` simulated seconds in steps of ``step`` through a fresh pipeline."""
    pipeline = IngestPipeline(DEMO, None)
    simulator = CitySimulator(city, seed=seed, scenario=scenario, speed=speed)
    run = Run(pipeline, simulator)
    start = START + hour * 3600.0
    for index in range(int(duration / step) + 1):
        now = start + index * step / speed
        messages = simulator.step(now)
        if observe is not None:
            observe(index * step, messages, pipeline)
        pipeline.process_batch(raw(messages, now))
        for feed, letters in pipeline.take_delta().dead_letters.items():
            run.dead_letters.setdefault(feed, []).extend(letters)
        run.most_areas = max(run.most_areas, len(pipeline.alert_areas()))
    return run


def episodic(city: DemoCity) -> set[str]:
    return {spec.entity_id for spec in city.stations if spec.episodes}


def ids(city: DemoCity, kind: str) -> set[str]:
    return {spec.entity_id for spec in city.stations if spec.type == kind}


# -- a normal day ------------------------------------------------------------------------


@pytest.mark.parametrize("hour", [0, 19])  # 08:00 and 03:00 in Yiyang
def test_normal_day_raises_and_clears_every_rule_band_within_ten_minutes(
    city: DemoCity, hour: int
) -> None:
    run = play(city, "normal", duration=600, step=3, speed=1.0, hour=hour)
    expected = {
        (rule.metric, band)
        for rule in DEMO.rules
        for band in ("low_low", "low", "high", "high_high")
        if getattr(rule, band) is not None and rule.metric != "no2"  # NO2: gridlock only
    }
    threshold = [a for a in run.alarms() if a.condition is not Condition.EXTERNAL]
    raised = {(a.metric, str(a.condition)) for a in threshold}
    assert raised == expected
    assert {(a.metric, str(a.condition)) for a in threshold if run.cleared(a)} == expected
    lively = episodic(city) | ids(city, "incident")
    assert {a.entity_id for a in threshold} <= lively  # quiet devices stay quiet
    conditions = {str(a.condition) for a in run.alarms()}
    assert conditions == {"low_low", "low", "high", "high_high", "external"}
    external = {a.metric for a in run.alarms() if a.condition is Condition.EXTERNAL}
    assert external == {"Thunder and Lightning", "Heavy Fog"}
    assert run.most_areas == 4
    assert run.dead_letters == {}


# -- rainstorm and flood -----------------------------------------------------------------


def test_rainstorm_flood_raises_the_river_the_drains_and_the_warnings(city: DemoCity) -> None:
    levels: list[tuple[float, int]] = []

    def observe(elapsed: float, messages: list[tuple[str, bytes]], pipe: IngestPipeline) -> None:
        active = [a for a in pipe.alarms.alarms() if a.condition is Condition.EXTERNAL]
        levels.append((elapsed, sum(1 for a in active if a.state.is_active)))

    run = play(city, "rainstorm-flood", duration=36000, step=300, observe=observe)
    gauges = ids(city, "river_gauge")
    assert run.raised("water_level", "high_high") == gauges  # every gauge, quiet ones too
    upstream = {"urn:dev:ops:yiyang-wl-zijiang-01", "urn:dev:ops:yiyang-wl-zijiang-02"}
    for alarm in run.alarms():
        if alarm.entity_id in upstream:
            assert not alarm.state.is_active  # the river receded
    assert run.raised("sump_level", "high_high") == ids(city, "pumping_station")
    quiet_buoy = "urn:dev:ops:yiyang-wq-zijiang-02"
    assert quiet_buoy in run.raised("turbidity", "high_high")
    assert quiet_buoy in run.raised("pH", "low")
    assert len(run.raised("delay_min", "high")) >= 10
    warnings = [a for a in run.alarms() if a.condition is Condition.EXTERNAL]
    rainstorm = {a.entity_id for a in warnings if a.metric == "Rainstorm"}
    assert rainstorm == {
        "cap:weather.yiyang.demo/ADCODE=430903",
        "cap:weather.yiyang.demo/ADCODE=430902",
        "cap:weather.yiyang.demo/ADCODE=430922",
    }
    flood = [a for a in warnings if a.metric == "Flood"]
    assert len(flood) == 1 and "Zi River" in flood[0].entity_id
    for alarm in warnings:  # escalated to red, then cancelled
        assert alarm.severity.label == "critical"
        assert alarm.state is AlarmState.RTN_UNACKNOWLEDGED
        assert "Red" in alarm.message
    assert run.most_areas == 4
    assert run.pipeline.alert_areas() == []
    assert max(count for _, count in levels) == 4
    assert levels[1][1] == 3  # the rainstorm warnings open the story (observed before step 2)


# -- rush-hour gridlock ------------------------------------------------------------------


def test_rush_hour_gridlock_jams_every_intersection_and_delays_every_bus(city: DemoCity) -> None:
    run = play(city, "rush-hour-gridlock", duration=12600, step=120)
    intersections = ids(city, "intersection")
    assert run.raised("occupancy", "high_high") == intersections
    assert run.raised("avg_speed", "low_low") == intersections
    assert len(run.raised("delay_min", "high_high")) >= 10
    assert len(run.raised("no2", "high")) >= 3
    assert len(run.raised("free_spaces", "low_low")) >= 3
    assert len(run.raised("queue_vehicles", "high_high")) >= 3
    assert len(run.raised("alarm_level", "high")) >= 3
    accidents = [e for e in run.pipeline.hub.entities() if e.id.startswith("incident-")]
    assert accidents and all(e.type == "accident" for e in accidents)
    quiet = intersections - episodic(city)
    for alarm in run.alarms():  # by mid-morning the jam is gone
        if alarm.entity_id in quiet:
            assert not alarm.state.is_active, alarm
    assert not any(a.condition is Condition.EXTERNAL for a in run.alarms())


# -- sensor failures ---------------------------------------------------------------------


def test_sensor_failures_fill_every_device_feeds_dead_letters_and_spikes_raise_alarms(
    city: DemoCity,
) -> None:
    health_times: list[float] = []
    presence: dict[str, list[bool]] = {}

    def observe(elapsed: float, messages: list[tuple[str, bytes]], pipe: IngestPipeline) -> None:
        topics = {topic for topic, _ in messages}
        if any(feed_of(topic).name == "health" for topic in topics):
            health_times.append(elapsed)
        for spec in city.stations:
            presence.setdefault(spec.id, []).append(spec.topic in topics)

    run = play(city, "sensor-failures", duration=600, step=2, speed=1.0, observe=observe)
    reasons = {
        feed.name: " | ".join(d.reason for d in run.dead_letters.get(feed.name, ())[-50:])
        for feed in DEMO.feeds
    }
    register = reasons.pop("water-assets")  # the asset register is a database, not a device
    assert not register
    assert all(reasons.values()), [name for name, text in reasons.items() if not text]
    assert "more than 1 day in the future" in reasons["buses"]  # tst in milliseconds
    assert (
        "more than 1 day in the future"
        in reasons["city"]
        + reasons["water"]
        + reasons["environment"]
        + reasons["traffic"]
        + reasons["health"]
        + reasons["incidents"]
    )
    assert "document type declaration" in reasons["warnings"]
    assert "not well-formed XML" in reasons["warnings"]
    assert "encrypted" in reasons["buses"]
    assert "not JSON" in reasons["environment"]
    faults = run.simulator.faults
    assert faults is not None
    spiking = {spec.entity_id for spec in city.stations if faults.of(spec).spikes}
    quiet_spikers = spiking - episodic(city)
    alarmed = {a.entity_id for a in run.alarms() if a.condition is not Condition.EXTERNAL}
    assert len(quiet_spikers & alarmed) >= 3
    # the health feed goes silent for minutes, then comes back
    assert not [t for t in health_times if 60 <= t < 330]
    assert any(t >= 330 for t in health_times)
    dropouts = [spec.id for spec in city.stations if faults.of(spec).dropout]
    assert dropouts
    assert any(not all(presence[sid]) and any(presence[sid]) for sid in dropouts)
    # a clock two hours behind is accepted (old data), not refused
    behind = [spec for spec in city.stations if faults.of(spec).skew_s < 0]
    assert len(behind) == 1
    latest = run.pipeline.hub.latest_values()
    stamps = [r.ts for (entity, _), r in latest.items() if entity == behind[0].entity_id]
    assert stamps and max(stamps) < START + 600 - 7000


def test_stuck_devices_repeat_their_values(city: DemoCity) -> None:
    simulator = CitySimulator(city, seed=0, scenario="sensor-failures", start_time=START)
    faults = simulator.faults
    assert faults is not None
    stuck = [spec for spec in city.stations if faults.of(spec).stuck]
    assert stuck
    frozen = 0
    for spec in stuck:
        for window in range(4):
            at = START + window * 600 + 100
            if faults.stuck_at(spec, at - START) is None:
                continue
            first = [p for t, p in simulator.step(at) if t == spec.topic]
            later = [p for t, p in simulator.step(at + 60) if t == spec.topic]
            if first and later and b"yesterday" not in first[0] + later[0]:
                frozen += 1
                assert strip_times(first[0]) == strip_times(later[0]), spec.id
    assert frozen >= 2


def strip_times(payload: bytes) -> bytes:
    """A payload without its timestamps (which advance even when the values are stuck)."""
    return re.sub(rb"\d{4}-\d\d-\d\dT[\d:.]+Z|\d{10}(\.\d+)?|:\d{13}\"", b"T", payload)
