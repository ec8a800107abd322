"""The health endpoint without Qt: snapshot → Prometheus metrics, served over real HTTP."""

from __future__ import annotations

import logging
import socket
import time
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.config.listen import ListenAddress
from services.model import (
    Alarm,
    AlarmState,
    CacheHealth,
    CacheState,
    Condition,
    FeedState,
    Severity,
)
from services.monitoring import (
    BrokerSample,
    FeedSample,
    HealthCollector,
    HealthSnapshot,
    MetricsError,
    MetricsServer,
)
from services.monitoring.snapshot import count_alarms

NOW = 1_790_000_000.0


class Clocks:
    """Wall and monotonic clocks that tests move by hand."""

    def __init__(self) -> None:
        self.wall = NOW
        self.mono = 500.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


def samples(collector: HealthCollector) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample the collector yields, keyed by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in collector.collect()
        for sample in family.samples
    }


def alarm(entity: str, severity: Severity, state: AlarmState) -> Alarm:
    return Alarm(entity, "pm25", Condition.HIGH, severity, state, 80.0, 75.0, NOW, NOW)


def snapshot(clocks: Clocks, **fields: object) -> HealthSnapshot:
    return HealthSnapshot(taken_at=clocks.wall, taken_monotonic=clocks.mono, **fields)  # type: ignore[arg-type]


def test_before_the_first_snapshot_the_display_is_not_live() -> None:
    assert samples(HealthCollector()) == {("cityops_display_live", ()): 0.0}


def test_snapshot_becomes_metrics() -> None:
    clocks = Clocks()
    collector = HealthCollector(lambda: clocks.wall, lambda: clocks.mono)
    active, unacknowledged = count_alarms(
        [
            alarm("a", Severity.HIGH, AlarmState.UNACKNOWLEDGED),
            alarm("b", Severity.HIGH, AlarmState.ACKNOWLEDGED),
            alarm("c", Severity.CRITICAL, AlarmState.UNACKNOWLEDGED),
            alarm("d", Severity.LOW, AlarmState.RTN_UNACKNOWLEDGED),
        ]
    )
    collector.publish(
        snapshot(
            clocks,
            display_live=True,
            feeds=(
                FeedSample("air", FeedState.CONNECTED, 120, 3, NOW - 2.5),
                FeedSample("water", FeedState.STALE, 7, 0, NOW - 400),
                FeedSample("new", FeedState.CONNECTING, 0, 0, None),
            ),
            brokers=(BrokerSample("default", FeedState.CONNECTED),),
            cache=CacheHealth(CacheState.DEGRADED, "disk full", NOW, 1234, 5),
            alarms_active=tuple(active.items()),
            alarms_unacknowledged=unacknowledged,
            event_loop_lag=0.25,
        )
    )
    clocks.advance(0.5)
    got = samples(collector)
    assert got[("cityops_display_live", ())] == 1.0
    assert got[("cityops_event_loop_lag_seconds", ())] == 0.25
    assert got[("cityops_health_snapshot_age_seconds", ())] == 0.5
    for feed, up in (("air", 1.0), ("water", 0.0), ("new", 0.0)):
        assert got[("cityops_feed_up", (("feed", feed),))] == up
    assert got[("cityops_feed_state", (("feed", "water"), ("state", "stale")))] == 1.0
    assert got[("cityops_feed_last_message_age_seconds", (("feed", "air"),))] == 3.0
    assert got[("cityops_feed_last_message_age_seconds", (("feed", "water"),))] == 400.5
    assert ("cityops_feed_last_message_age_seconds", (("feed", "new"),)) not in got
    assert got[("cityops_messages_total", (("feed", "air"),))] == 120
    assert got[("cityops_dead_letters_total", (("feed", "air"),))] == 3
    assert got[("cityops_broker_up", (("broker", "default"),))] == 1.0
    assert got[("cityops_cache_writable", ())] == 0.0
    assert got[("cityops_cache_backlog_readings", ())] == 1234
    assert got[("cityops_cache_dropped_readings_total", ())] == 5
    assert {
        labels[0][1]: value
        for (name, labels), value in got.items()
        if name == "cityops_alarms_active"
    } == {"low": 0, "medium": 0, "high": 2, "critical": 1}
    assert got[("cityops_alarms_unacknowledged", ())] == 3


def test_a_stuck_gui_thread_is_not_live_and_shows_as_lag() -> None:
    clocks = Clocks()
    collector = HealthCollector(lambda: clocks.wall, lambda: clocks.mono)
    collector.publish(snapshot(clocks, display_live=True, event_loop_lag=0.01))
    clocks.advance(4.0)
    assert samples(collector)[("cityops_display_live", ())] == 1.0
    clocks.advance(6.0)
    got = samples(collector)
    assert got[("cityops_display_live", ())] == 0.0
    assert got[("cityops_event_loop_lag_seconds", ())] == 9.0


@pytest.fixture
def server() -> Iterator[MetricsServer]:
    metrics = MetricsServer(ListenAddress("127.0.0.1", 0))
    metrics.start()
    yield metrics
    metrics.stop()


def scrape(url: str) -> dict[str, float]:
    """Unlabelled samples and process metrics of one real HTTP scrape."""
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels
    }


def test_server_serves_the_snapshot_and_process_metrics(server: MetricsServer) -> None:
    assert server.bound_address.port != 0
    assert server.url == f"http://127.0.0.1:{server.bound_address.port}/metrics"
    assert scrape(server.url)["cityops_display_live"] == 0.0
    server.collector.publish(
        HealthSnapshot(taken_at=time.time(), taken_monotonic=time.monotonic(), display_live=True)
    )
    got = scrape(server.url)
    assert got["cityops_display_live"] == 1.0
    assert got["process_resident_memory_bytes"] > 1_000_000


def test_stop_closes_the_port(server: MetricsServer) -> None:
    port = server.bound_address.port
    server.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    server.stop()  # twice is fine


def test_port_in_use(server: MetricsServer) -> None:
    taken = server.bound_address
    with pytest.raises(MetricsError) as raised:
        MetricsServer(taken).start()
    assert str(raised.value) == (
        f"cannot serve metrics on {taken}: port {taken.port} is in use by another program"
    )


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("192.0.2.7", "192.0.2.7 is not an address of this machine"),
        ("no-such-host.invalid", "'no-such-host.invalid' is not a known host name"),
    ],
)
def test_address_that_cannot_be_listened_on(host: str, problem: str) -> None:
    with pytest.raises(MetricsError, match=problem):
        MetricsServer(ListenAddress(host, 0)).start()


def test_other_interfaces_only_when_named_and_then_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "services.monitoring.metrics")
    metrics = MetricsServer(ListenAddress("0.0.0.0", 0))
    metrics.start()
    try:
        assert scrape(f"http://127.0.0.1:{metrics.bound_address.port}/metrics")
    finally:
        metrics.stop()
    assert any(
        record.levelno == logging.WARNING and "other machines can read them" in record.message
        for record in caplog.records
    )
