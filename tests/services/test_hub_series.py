"""The state hub's recent history per series: points in order, redeliveries once, and the
memory budget shared by every series."""

from __future__ import annotations

from services.ingest.hub import StateHub
from services.limits import HUB_SERIES_MIN_POINTS
from services.model import Reading


def reading(entity: str, ts: float, value: float = 1.0) -> Reading:
    return Reading(entity_id=entity, metric="pm25", value=value, ts=ts, feed="air")


def test_a_series_keeps_its_newest_points_and_a_redelivery_once() -> None:
    hub = StateHub(series_length=100)
    hub.apply_readings([reading("aq-1", float(t), t * 2.0) for t in range(250)])
    hub.apply_readings([reading("aq-1", 249.0, 498.0), reading("aq-1", 240.0, 480.0)])
    points = hub.series("aq-1", "pm25")
    assert 100 <= len(points) <= 100 + 100 // 8
    assert points[-1] == (249.0, 498.0)
    assert [ts for ts, _ in points] == sorted(ts for ts, _ in points)  # none twice
    assert hub.series("nobody", "pm25") == []


def test_many_series_share_the_points_budget() -> None:
    hub = StateHub(series_length=3600, points_budget=20_000)
    few = StateHub(series_length=3600, points_budget=20_000)
    few.apply_readings([reading("aq-0", float(t)) for t in range(3600)])
    assert len(few.series("aq-0", "pm25")) == 3600  # one series: the whole hour
    for t in range(400):
        hub.apply_readings([reading(f"aq-{n}", float(t)) for n in range(100)])
    lengths = {len(hub.series(f"aq-{n}", "pm25")) for n in range(100)}
    assert max(lengths) <= 200 + 200 // 8  # 20,000 points over 100 series
    assert min(lengths) >= 200
    crowded = StateHub(series_length=3600, points_budget=1_000)
    for t in range(300):
        crowded.apply_readings([reading(f"aq-{n}", float(t)) for n in range(50)])
    assert len(crowded.series("aq-3", "pm25")) >= HUB_SERIES_MIN_POINTS  # never fewer
