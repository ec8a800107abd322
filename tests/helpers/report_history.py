"""A cache with a known shift for the handover report, written through the real ingest
pipeline and the cache's own write APIs (no SQL of its own).

The window is [SINCE, UNTIL] = [T0 + 50, T0 + 1000]. In it:

- ``aq-1`` (赫山区空气站) PM2.5 raised at T1 (medium), acknowledged by ``wang.fang`` at T2
  with a note, cleared at T3;
- ``wl-1`` (资江水位站) water level raised at T0 + 150 (high), commented on, still
  unacknowledged at UNTIL;
- ``aq-2`` raised three times within a minute (chattering), cleared each time between;
- ``st-1`` raised at T0 + 10, before the window, still active at UNTIL (standing);
- ``evil-1``, named like markup, raised at T0 + 700 (high), unacknowledged at UNTIL;
- incident "资江水位上涨" opened at T1 + 20 with ``aq-1``, two notes, closed at T3 + 50;
  incident "Bus depot smoke" opened at T0 + 500, still open, one note;
- ``wang.fang`` signs in at T0 + 60 and out at T0 + 900 (and ``zhao.lei`` signed in before
  the window).
"""

from __future__ import annotations

import json
from pathlib import Path

from services.auth.roles import Principal, Role
from services.config import AppConfig, FeedConfig, KpiConfig, RuleConfig
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.model import SignInRecord
from services.store.cache import OfflineCache

T0 = 1_800_000_000.0
T1, T2, T3 = T0 + 100, T0 + 200, T0 + 300
SINCE, UNTIL = T0 + 50, T0 + 1000
AQ1 = "aq-1|pm25|high"
WL1 = "wl-1|water_level|high_high"
AQ2 = "aq-2|pm25|high"
ST1 = "st-1|water_level|high_high"
EVIL = "evil-1|water_level|high_high"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
ACK_NOTE = "已通知环保局, checked the filter"
INCIDENT_NOTE = "河水上涨，派人查看"  # noqa: RUF001 (a Chinese comma, as typed)
SECOND_NOTE = "Pump crew dispatched to Ziyang"
OPEN_INCIDENT_NOTE = "Smoke seen near the depot"
NAMES = {
    "aq-1": "赫山区空气站",
    "aq-2": "Chatter AQ",
    "wl-1": "资江水位站",
    "st-1": "Standing gauge",
    "evil-1": HOSTILE_NAME,
}
CONFIG = AppConfig(
    source="test",
    title="Yiyang test shift",
    feeds=(
        FeedConfig(name="air", topic="a/#", domain="environment"),
        FeedConfig(name="water", topic="w/#", domain="water"),
    ),
    rules=(RuleConfig(metric="pm25", high=75), RuleConfig(metric="water_level", high_high=35)),
    kpis=(
        KpiConfig(name="Mean PM2.5", metric="pm25", aggregate="mean", maximum=200, unit="µg/m³"),
        KpiConfig(name="Peak water level", metric="water_level", aggregate="max", maximum=40),
    ),
)
OPERATOR = Principal("wang.fang", Role.OPERATOR, "ws-2")
SUPERVISOR = Principal("li.ming", Role.SUPERVISOR, "ws-1")
READINGS_IN_WINDOW = 12
"""The readings below with a time in [SINCE, UNTIL]."""


def build_shift(cache_dir: Path) -> None:
    """Write the shift described in the module's text into the cache in ``cache_dir``."""
    now = [T0]
    with OfflineCache(cache_dir) as cache:
        pipe = IngestPipeline(CONFIG, cache, clock=lambda: now[0], flush_interval=0.0)

        def reading(entity: str, metric: str, value: float, ts: float) -> None:
            now[0] = ts
            feed, prefix = ("water", "w") if metric == "water_level" else ("air", "a")
            payload = json.dumps(
                {
                    "id": entity,
                    "name": NAMES[entity],
                    metric: value,
                    "ts": ts,
                    "lat": 28.55 + 0.01 * len(entity) + (0.02 if feed == "water" else 0.0),
                    "lon": 112.33 + 0.01 * sum(map(ord, entity)) % 0.08,
                }
            )
            pipe.process_batch([RawMessage(feed, f"{prefix}/{entity}", payload.encode(), ts)])
            pipe.flush_cache(force=True)

        def done(command: object) -> None:
            result = command.wait(1)  # type: ignore[attr-defined]
            assert result is not None and not result.error, result
            pipe.flush_cache(force=True)

        cache.record_sign_in(SignInRecord(T0 - 3_600, "zhao.lei", "operator", "ws-1", "sign-in"))
        reading("aq-1", "pm25", 40.0, T0)
        reading("wl-1", "water_level", 30.0, T0)
        reading("st-1", "water_level", 37.0, T0 + 10)  # standing: before the window
        reading("aq-2", "pm25", 20.0, T0 + 20)
        cache.record_sign_in(SignInRecord(T0 + 60, "wang.fang", "operator", "ws-2", "sign-in"))
        reading("aq-1", "pm25", 90.0, T1)  # raises
        now[0] = T1 + 20
        opened = pipe.open_incident(SUPERVISOR, "资江水位上涨", 2, [AQ1], INCIDENT_NOTE).wait(1)
        assert opened is not None and not opened.error, opened
        (incident,) = opened.changed
        pipe.flush_cache(force=True)
        reading("wl-1", "water_level", 36.0, T0 + 150)  # raises
        now[0] = T2
        done(pipe.acknowledge([AQ1], OPERATOR, ACK_NOTE))
        now[0] = T2 + 10
        done(pipe.add_incident_note(OPERATOR, incident, SECOND_NOTE))
        reading("aq-1", "pm25", 20.0, T3)  # clears
        now[0] = T3 + 50
        done(pipe.update_incident(SUPERVISOR, incident, status="closed"))
        for offset, value in ((400, 80.0), (410, 20.0), (420, 81.0), (430, 20.0), (440, 82.0)):
            reading("aq-2", "pm25", value, T0 + offset)  # chatters
        reading("aq-2", "pm25", 20.0, T0 + 450)
        now[0] = T0 + 500
        smoke = pipe.open_incident(OPERATOR, "Bus depot smoke", 3, [WL1], OPEN_INCIDENT_NOTE)
        done(smoke)
        now[0] = T0 + 600
        done(pipe.comment([WL1], OPERATOR, "水位继续上涨"))
        reading("evil-1", "water_level", 36.0, T0 + 700)  # raises
        reading("wl-1", "water_level", 36.5, T0 + 800)
        cache.record_sign_in(SignInRecord(T0 + 900, "wang.fang", "operator", "ws-2", "sign-out"))
        reading("st-1", "water_level", 37.5, T0 + 950)
        reading("aq-1", "pm25", 25.0, T0 + 1_500)  # after the window
        pipe.flush_cache(force=True)
