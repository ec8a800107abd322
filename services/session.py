"""Everything that runs behind a window: cache, ingest, broker connections, the demo city."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from services.addresses import parse_broker_url
from services.auth.roles import default_workstation
from services.config import AppConfig, BrokerConfig, FeedConfig
from services.feeds.http.poller import HttpFeedPoller
from services.feeds.mqtt.action_channel import ActionChannel
from services.feeds.mqtt.client import MqttFeedClient
from services.feeds.mqtt.process import MqttFeedProcess
from services.ingest.cache_writer import FlushReport
from services.ingest.pipeline import IngestPipeline
from services.ingest.sharing_desk import SharingIdentity
from services.model import Snapshot
from services.sharing.protocol import ANONYMOUS_ACCOUNT, subscriptions
from services.store.export import export
from services.store.recovery import open_cache
from services.store.retention import RetentionPruner

if TYPE_CHECKING:  # the demo's broker and simulator are imported only when the demo runs
    from services.demo.embedded_broker import EmbeddedBroker
    from services.demo.publisher import DemoPublisher

log = logging.getLogger(__name__)

FeedClient = MqttFeedClient | MqttFeedProcess
"""A broker's subscriptions: on a thread of this process, or in a child process."""


class CitySession:
    """Owns the services of one running app and starts and stops them in order.

    In demo mode it also runs an embedded broker and the Yiyang simulator, and points the
    configured broker at the embedded one.
    """

    def __init__(self, config: AppConfig, cache_dir: Path) -> None:
        self.config = config
        opened = open_cache(cache_dir, retention_days=config.retention_days)
        self.cache = opened.cache
        self.cache.tier_days = dict(config.history_days)
        self.cache.events_days = config.alarm_history_days
        self.cache.max_bytes = int(config.cache_max_mb * 2**20)
        self.cache_recovery = opened.recovery
        self._restored = opened.snapshot
        self.pipeline = IngestPipeline(config, self.cache)
        self.pruner = RetentionPruner(self.cache)
        self.clients: list[FeedClient] = []
        self.http_poller: HttpFeedPoller | None = None
        self._brokers: list[BrokerConfig] = list(config.brokers)
        self._demo_broker: EmbeddedBroker | None = None
        self._demo_publisher: DemoPublisher | None = None
        self.snapshot: Snapshot | None = None
        self.sharing: ActionChannel | None = None

    @property
    def workstation(self) -> str:
        """This workstation's name in operator actions."""
        return self.config.workstation or default_workstation()

    def start(self) -> Snapshot:
        """Restore the last known state, then connect; returns what was restored."""
        self.snapshot = self.pipeline.restore_from_cache(self._restored)
        brokers = list(self.config.brokers)
        if self.config.demo and brokers:
            brokers[0] = self._start_demo(brokers[0])
        self._brokers = brokers
        sharing_broker = self.config.sharing_broker
        if sharing_broker is not None:
            broker = next(b for b in brokers if b.name == sharing_broker.name)
            self._attach_sharing(broker)
        self.pipeline.start()
        self.pruner.start()
        if self.sharing is not None:
            self.sharing.start()
        for broker in brokers:
            feeds = self.config.mqtt_feeds(broker.name)
            if feeds:
                self._start_client(broker, feeds).start()
        http_feeds = self.config.http_feeds()
        if http_feeds:
            self.http_poller = HttpFeedPoller(http_feeds, self.pipeline.put)
            self.http_poller.start()
        return self.snapshot

    def wait_ready(self) -> None:
        """Nothing to wait for: :meth:`start` restored the last known state (an engine
        process restores it while the window is built)."""

    @property
    def restored_entities(self) -> int:
        """How many entities the last known state held (0 before :meth:`start`)."""
        return len(self.snapshot.entities) if self.snapshot is not None else 0

    def broker_labels(self) -> dict[str, str]:
        """Each running broker connection's label (as feed health names it) and its name."""
        return {client.label: client.broker.name for client in self.clients}

    def ingest_counts(self) -> dict[str, int | bool]:
        """How much the pipeline took in and the cache holds (for benchmarks and checks):
        messages processed and rejected, readings stored, readings dropped or not yet
        stored, and whether the worker is idle (its inbox empty)."""
        pipeline = self.pipeline
        report = pipeline.writer.report()
        return {
            "processed": pipeline.messages_processed,
            "rejected": pipeline.messages_rejected,
            "samples": self.cache.count("readings"),
            "dropped_readings": report.dropped_readings,
            "unsaved_readings": report.unsaved_readings,
            "idle": pipeline.wait_idle(0),
        }

    def feeds_connected(self) -> bool:
        """Whether there are broker connections and every one is connected."""
        return bool(self.clients) and all(client.connected for client in self.clients)

    def settle(self, timeout: float) -> bool:
        """Write everything processed so far to the cache; False if it did not in time."""
        return self.pipeline.sync(timeout)

    def export_csv(
        self, what: str, path: Path, since: float | None = None, until: float | None = None
    ) -> int:
        """Write the cache's ``what`` (see :func:`~services.store.export.export`) in
        [since, until] to the CSV file ``path``; returns the rows written."""
        with path.open("w", newline="", encoding="utf-8") as out:
            return export(self.cache, what, "csv", out, since=since, until=until)

    def _attach_sharing(self, broker: BrokerConfig) -> None:
        prefix = self.config.sharing.prefix
        self.sharing = ActionChannel(broker, subscriptions(prefix), self.pipeline.put)
        identity = SharingIdentity(
            prefix,
            broker.username or ANONYMOUS_ACCOUNT,
            self.workstation,
            self.config.sharing.accounts,
        )
        self.pipeline.attach_sharing(identity, self.sharing.publish)
        log.info(
            "sharing operator actions as %s/%s under %s on %s",
            identity.account,
            identity.workstation,
            prefix,
            broker.address.url,
        )

    def _start_client(self, broker: BrokerConfig, feeds: Sequence[FeedConfig]) -> FeedClient:
        client: FeedClient
        if broker.separate_process:
            client = MqttFeedProcess(broker, feeds, self.pipeline.put, self.pipeline.put_many)
        else:
            client = MqttFeedClient(broker, feeds, self.pipeline.put)
        self.clients.append(client)
        return client

    def _start_demo(self, broker: BrokerConfig) -> BrokerConfig:
        from services.demo.embedded_broker import EmbeddedBroker
        from services.demo.publisher import DemoPublisher
        from services.demo.simulator import CitySimulator, load_demo_city

        embedded = EmbeddedBroker()
        embedded.start()
        self._demo_broker = embedded
        publisher = DemoPublisher(embedded.url, CitySimulator(load_demo_city()))
        publisher.start()
        self._demo_publisher = publisher
        log.info("demo city running on embedded broker %s", embedded.url)
        return replace(broker, url=embedded.url, address=parse_broker_url(embedded.url))

    def feed_names(self) -> list[str]:
        """Every feed running now, configured or added at run time."""
        names = [feed.name for client in self.clients for feed in client.feeds]
        if self.http_poller is not None:
            names.extend(self.http_poller.feed_names)
        return names

    def add_feed(self, feed: FeedConfig) -> None:
        """Subscribe a new MQTT feed on its broker without reconnecting (until the app closes).

        ValueError when the name is taken, the feed is not MQTT or its broker is unknown.
        """
        if feed.name in self.feed_names():
            raise ValueError(f"a feed named {feed.name!r} exists already")
        if feed.kind != "mqtt":
            raise ValueError("only MQTT feeds can be added while the app runs")
        client = next((c for c in self.clients if c.broker.name == feed.broker), None)
        broker = next((b for b in self._brokers if b.name == feed.broker), None)
        if client is None and broker is None:
            raise ValueError(f"no broker named {feed.broker!r}")
        self.pipeline.add_feed(feed)
        try:
            if client is not None:
                client.add_feed(feed)
            elif broker is not None:
                self._start_client(broker, [feed]).start()
        except ValueError:
            self.pipeline.remove_feed(feed.name)
            raise
        log.info("feed %r added on broker %r", feed.name, feed.broker)

    def _client_of(self, name: str) -> FeedClient:
        client = next((c for c in self.clients if any(f.name == name for f in c.feeds)), None)
        if client is None:
            raise KeyError(f"no MQTT feed named {name!r}")
        return client

    def remove_feed(self, name: str) -> None:
        """Unsubscribe and forget a feed; KeyError when there is none of that name."""
        self._client_of(name).remove_feed(name)
        self.pipeline.remove_feed(name)
        log.info("feed %r removed", name)

    def broker_names(self) -> list[str]:
        return [broker.name for broker in self._brokers]

    def pause_feed(self, name: str) -> None:
        """Stop taking messages from one feed, without touching the others' connections."""
        self._control_feed(name, pause=True)

    def resume_feed(self, name: str) -> None:
        """Take messages from a paused feed again."""
        self._control_feed(name, pause=False)

    def _control_feed(self, name: str, *, pause: bool) -> None:
        if self.http_poller is not None and name in self.http_poller.feed_names:
            if pause:
                self.http_poller.pause(name)
            else:
                self.http_poller.resume(name)
        else:
            client = self._client_of(name)
            if pause:
                client.pause_feed(name)
            else:
                client.resume_feed(name)
        self.pipeline.set_paused(name, paused=pause)
        log.info("feed %r %s", name, "paused" if pause else "resumed")

    def stop(self) -> FlushReport:
        """Stop producers first, then drain the pipeline into the cache, then close it.

        Returns (and logs) truthfully whether everything received was stored."""
        if self.http_poller is not None:
            self.http_poller.stop()
            self.http_poller = None
        publisher = self._demo_publisher
        if publisher is not None:
            publisher.stop()
            self._demo_publisher = None
        # Store what has arrived while the MQTT clients are still connected, so that they
        # acknowledge it to their brokers before they disconnect (no redelivery next time).
        if self.clients:
            self.pipeline.wait_idle(5.0)
            self.pipeline.sync(5.0)
        for client in self.clients:
            client.stop()
        self.clients.clear()
        if self.sharing is not None:
            self.pipeline.wait_idle(5.0)  # commands queued now still reach the channel
            self.sharing.stop()
            self.sharing = None
        report = self.pipeline.stop()
        self.pruner.stop()
        self.cache.close()
        broker = self._demo_broker
        if broker is not None:
            broker.stop()
            self._demo_broker = None
        if report.complete:
            log.info("stopped; everything received is stored in %s", self.cache.path)
        else:
            log.error(
                "stopped; NOT everything was stored in %s: %d readings and %d other changes"
                " unsaved, %d readings dropped earlier (%s)",
                self.cache.path,
                report.unsaved_readings,
                report.unsaved_changes,
                report.dropped_readings,
                report.detail or "cache writes failing",
            )
        return report
