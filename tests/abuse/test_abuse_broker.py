"""Abuse through the broker: hostile payloads published to a real mosquitto with QoS 1, taken
by the app's own MQTT feed client and ingest worker (a CitySession with its SQLite cache).

Every message the broker acknowledged must be accounted for by the app, per feed, exactly:
decoded (the feed's message counter) or dead-lettered (its error counter), as the oracle
(the app's decoder called directly) says. Nothing may log an error or stay unacknowledged
on the broker; the state hub holds exactly what was accepted and the cache what the hub
held; and a good message of every format still gets through afterwards.
"""

from __future__ import annotations

import json
import logging
import resource
import time
from collections import Counter
from pathlib import Path

import pytest

from services.config.schema import FORMATS
from services.decoders import Decoded, DecodeError
from services.limits import DEAD_LETTER_EXCERPT_CHARS, MAX_PAYLOAD_BYTES, payload_too_large
from services.store.cache import OfflineCache
from tests.helpers.abuse import (
    AWKWARD_IDS,
    AWKWARD_TOPIC_LEVELS,
    CLIENT_ID,
    AbuseCity,
    AbuseGenerator,
    TcpTrap,
    awkward_payloads,
    decode_as_app,
    expected_entities,
    feed_name,
    files_containing,
    good_messages,
    publish_once,
    redelivered,
    shared_parse_refuses,
    shared_samples,
    topic_payloads,
    topic_root,
    valid_samples,
    xml_bombs,
)

pytestmark = pytest.mark.abuse

PER_FORMAT = 10_000
"""Random and mutated payloads published per payload format."""

Message = tuple[str, str, bytes]
"""(format, topic, payload)"""


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Errors the app logged: a decoder that raised something else than DecodeError
    ("decoder failed"), an ingest batch that failed, a cache write that failed."""
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR
    ]


def oracle(messages: list[Message], received_at: float) -> tuple[Counter[str], list[Decoded]]:
    """How many messages each feed's decoder takes, and what it makes of them (in order)."""
    decoded: Counter[str] = Counter()
    accepted: list[Decoded] = []
    for format_name, topic, payload in messages:
        try:
            accepted.append(decode_as_app(format_name, topic, payload, received_at))
        except DecodeError:
            continue
        decoded[feed_name(format_name)] += 1
    return decoded, accepted


def assert_accounted(city: AbuseCity, published: Counter[str], decoded: Counter[str]) -> None:
    """Wait until the app has accounted for every published message; then each feed's
    counters must be exactly (decoded, dead-lettered) as the oracle says, and the other
    feeds must have had nothing."""
    city.ledger.wait_accounted(dict(published), timeout=120)
    expected = {name: (decoded[name], published[name] - decoded[name]) for name in published}
    counts = city.ledger.counts()
    assert {name: counts.get(name, (0, 0)) for name in published} == expected
    assert {name: n for name, n in counts.items() if name not in published and n != (0, 0)} == {}
    assert city.ledger.messages == sum(published.values()), "messages the worker took"


def publish_and_account(
    city: AbuseCity, messages: list[Message], received_at: float
) -> list[Decoded]:
    """Publish the messages (QoS 1, one connection, in order), check the app's accounting
    against the oracle; returns what the accepted ones decode to, in order."""
    published = Counter(feed_name(format_name) for format_name, _, _ in messages)
    decoded, accepted = oracle(messages, received_at)
    city.publisher.publish_all([(topic, payload) for _, topic, payload in messages])
    assert_accounted(city, published, decoded)
    return accepted


def assert_hub_holds(city: AbuseCity, accepted: list[Decoded]) -> None:
    """The state hub holds exactly the entities (ids, names, types) and series that the
    accepted payloads carry."""
    hub = city.pipeline.hub
    assert {e.id: (e.name, e.type) for e in hub.entities()} == expected_entities(accepted)
    series = {(r.entity_id, r.metric) for decoded in accepted for r in decoded.readings}
    assert set(hub.latest_values()) == series


def assert_stored_and_acknowledged(city: AbuseCity) -> None:
    """Stop the app as the window does; everything must be stored, the cache must hold what
    the hub held, and the broker must hold nothing unacknowledged for the app's session."""
    report = city.stop_app()
    assert report.complete, report
    hub = city.pipeline.hub
    with OfflineCache(city.cache_dir) as cache:
        snapshot = cache.load_snapshot()
    assert sorted((e.id, e.name, e.type, e.lat, e.lon) for e in snapshot.entities) == sorted(
        (e.id, e.name, e.type, e.lat, e.lon) for e in hub.entities()
    )
    assert {(r.entity_id, r.metric): (r.value, r.ts) for r in snapshot.latest} == {
        key: (r.value, r.ts) for key, r in hub.latest_values().items()
    }
    left = redelivered(city.port, CLIENT_ID, f"{topic_root('json')}/marker")
    assert not left, f"{len(left)} messages were never acknowledged, e.g. {left[:5]}"


# -- 10,000 random and mutated payloads per format ---------------------------------------------


@pytest.mark.timeout(150)
@pytest.mark.parametrize("format_name", FORMATS)
def test_every_random_and_mutated_payload_is_decoded_or_dead_lettered(
    city: AbuseCity, caplog: pytest.LogCaptureFixture, format_name: str
) -> None:
    generator = AbuseGenerator(format_name, valid_samples(format_name))
    messages = [(format_name, m.topic, m.payload) for m in generator.generate(PER_FORMAT)]

    started = time.monotonic()
    sending = city.publisher.send([(topic, payload) for _, topic, payload in messages])
    decoded, accepted = oracle(messages, time.time())  # while the app works
    assert sending.wait(90) == PER_FORMAT
    assert_accounted(city, Counter({feed_name(format_name): PER_FORMAT}), decoded)
    took = time.monotonic() - started

    assert not errors_logged(caplog)
    assert_hub_holds(city, accepted)
    city.takes_good_messages()
    assert_stored_and_acknowledged(city)
    taken = decoded[feed_name(format_name)]
    print(
        f"\n{format_name}: {PER_FORMAT} published ({dict(generator.kinds)}): {taken} decoded,"
        f" {PER_FORMAT - taken} dead-lettered, accounted for in {took:.1f} s"
    )


# -- oversized payloads -------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_oversized_payloads_are_dead_lettered_for_their_size(
    city: AbuseCity, caplog: pytest.LogCaptureFixture
) -> None:
    now = time.time()
    sizes = [MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES + 1, 2 * MAX_PAYLOAD_BYTES, 8 * 2**20]
    messages = [  # a valid message padded with (valid) trailing spaces
        (format_name, topic, payload + b" " * (size - len(payload)))
        for format_name, (topic, payload) in good_messages("oversized", now).items()
        for size in sizes
    ]

    publish_and_account(city, messages, now)

    for format_name in FORMATS:
        feed = feed_name(format_name)
        assert city.ledger.counts()[feed] == (1, 3), f"{feed}: only the one at the limit decodes"
        letters = city.ledger.dead_letters[feed]
        assert [letter.reason for letter in letters] == [payload_too_large(s) for s in sizes[1:]]
        for letter in letters:
            assert len(letter.payload_excerpt) <= DEAD_LETTER_EXCERPT_CHARS + 40
    assert not errors_logged(caplog)
    city.takes_good_messages()
    assert_stored_and_acknowledged(city)


# -- entity ids and topics that are not what they seem --------------------------------------


@pytest.mark.timeout(60)
def test_ids_names_and_metrics_with_controls_bidi_marks_and_markup_are_kept_as_text(
    city: AbuseCity, caplog: pytest.LogCaptureFixture
) -> None:
    now = time.time()
    messages = [
        message
        for label, text in AWKWARD_IDS.items()
        for message in awkward_payloads(label, text, now)
    ]

    accepted = publish_and_account(city, messages, now)

    assert_hub_holds(city, accepted)
    hub = city.pipeline.hub
    for text in ("\u202eexe.gnp", "<script>alert(1)</script>", "a\x01b\x1b[31mc", "nul\x00byte"):
        entity = hub.entity(text)
        assert entity is not None and entity.name == text, f"{text!r} kept verbatim as a json id"
        assert hub.latest(text, text) is not None, f"{text!r} kept verbatim as a metric name"
    for letter in (x for letters in city.ledger.dead_letters.values() for x in letters):
        assert all(ch.isprintable() or ch in "\n\t" for ch in letter.payload_excerpt), letter
    assert not errors_logged(caplog)
    city.takes_good_messages()
    assert_stored_and_acknowledged(city)


@pytest.mark.timeout(90)
def test_topics_with_controls_bidi_marks_and_markup_are_refused_by_the_broker_or_kept_as_text(
    city: AbuseCity, caplog: pytest.LogCaptureFixture
) -> None:
    now = time.time()
    published: list[Message] = []
    for label, level in AWKWARD_TOPIC_LEVELS.items():
        for format_name, topic, payload in topic_payloads(label, level, now):
            # mosquitto drops a client that publishes to a topic with control characters or
            # noncharacters: those never reach the app and do not count as published
            if publish_once(city.port, topic, payload):
                published.append((format_name, topic, payload))
    assert any("\u202e" in topic for _, topic, _ in published), "bidi marks get through"

    decoded, accepted = oracle(published, now)
    assert_accounted(city, Counter(feed_name(name) for name, _, _ in published), decoded)
    assert_hub_holds(city, accepted)
    assert city.pipeline.hub.entity("\u202eexe.gnp") is not None, "the id from the topic"
    assert not errors_logged(caplog)
    city.takes_good_messages()
    assert_stored_and_acknowledged(city)


# -- XML entity bombs and external entities ---------------------------------------------------


@pytest.mark.timeout(60)
def test_cap_entity_bombs_and_external_entities_are_refused_without_expansion_or_access(
    city: AbuseCity, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    secret = f"abuse-secret-{time.time_ns()}"
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(secret)
    trap = TcpTrap()
    try:
        bombs = xml_bombs(secret_file, trap.port)
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        messages = [
            ("cap", f"{topic_root('cap')}/bombs/{name}", doc) for name, doc in bombs.items()
        ]

        accepted = publish_and_account(city, messages, time.time())

        letters = {
            letter.topic.rsplit("/", 1)[-1]: letter for letter in city.ledger.dead_letters["cap"]
        }
        with_dtd = {
            name for name, doc in bombs.items() if b"<!DOCTYPE" in doc or b"<\x00!\x00D" in doc
        }
        assert set(letters) == with_dtd, "every document with a DTD is refused, the others taken"
        for name in with_dtd:
            assert "DTD" in letters[name].reason or "entit" in letters[name].reason, letters[name]
        assert len(accepted) == len(bombs) - len(with_dtd)
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
        assert grown_mb < 200, f"peak memory grew by {grown_mb:.0f} MB: was something expanded?"
        assert trap.connections == 0, "something fetched an external entity, DTD or stylesheet"
        shown = [
            text
            for entity in city.pipeline.hub.entities()
            for text in (entity.id, entity.name, entity.type)
        ] + [f"{alarm.message} {alarm.entity_id}" for alarm in city.pipeline.alarms.alarms()]
        for needle in (secret, "root:", "lollol", "AAAAAAAA"):
            assert not [text for text in shown if needle in text], f"{needle!r} reached the app"
        assert not errors_logged(caplog)
        city.takes_good_messages()
        assert_stored_and_acknowledged(city)
        for leaked in (secret.encode(), b"root:x:0:0", b"lollollol"):
            assert not files_containing(city.cache_dir, leaked), f"{leaked!r} in the cache"
        assert trap.connections == 0
    finally:
        trap.close()


# -- the sharing pseudo-feed ---------------------------------------------------------------------

SHARING = "sharing"


def shared_messages_taken(city: AbuseCity, count: int) -> None:
    """Wait until the sharing pseudo-feed has taken ``count`` messages (its message counter
    counts every shared message received, its error counter those dead-lettered)."""
    city.ledger.wait_settled(
        lambda: city.ledger.decoded(SHARING) >= count, f"{count} shared messages received"
    )


# Hostile shared messages once broke the whole ingest batch (RecursionError from json.loads,
# OverflowError from a 400-digit time or a count past SQLite's integers, an AssertionError
# for an incident priority of 2.0), and the item-by-item retry counted every other message
# of the batch again: these tests hold the fixes.


@pytest.mark.timeout(150)
def test_every_random_and_mutated_shared_message_is_merged_or_dead_lettered(
    city: AbuseCity, caplog: pytest.LogCaptureFixture
) -> None:
    prefix = city.config.sharing.prefix
    now = time.time()
    generator = AbuseGenerator(SHARING, shared_samples(now), root=prefix, extend_topics=False)
    messages = generator.generate(PER_FORMAT)
    refused = sum(shared_parse_refuses(m.topic, m.payload, prefix) for m in messages)

    city.publisher.publish_all([(m.topic, m.payload) for m in messages], timeout=90)
    shared_messages_taken(city, PER_FORMAT)

    assert city.ledger.decoded(SHARING) == PER_FORMAT, "each shared message received once"
    assert refused <= city.ledger.rejected(SHARING) <= PER_FORMAT
    assert city.ledger.messages == PER_FORMAT
    assert {
        name: n for name, n in city.ledger.counts().items() if name != SHARING and n != (0, 0)
    } == {}
    assert not errors_logged(caplog)
    city.takes_good_messages()
    assert_stored_and_acknowledged(city)


def batch_breaker(case: str, prefix: str, now: float) -> tuple[str, bytes]:
    """(topic, payload) of a shared message that breaks a whole ingest batch today."""
    samples = {sample.origin: sample for sample in shared_samples(now)}
    action, incident = samples["action:ack"], samples["incident"]
    huge = "1" + "0" * 400
    if case == "action nested too deep for json":
        return f"{prefix}/{action.topic}", b"[" * 100_000
    if case == "state nested too deep for json":
        return f"{prefix}/{samples['state'].topic}", b'{"a":' * 50_000
    if case == "action time of 400 digits":
        body = json.loads(action.payload)
        text = json.dumps(body).replace(json.dumps(body["ts"]), huge, 1)
        return f"{prefix}/{action.topic}", text.encode()
    body = json.loads(incident.payload)
    if case == "incident time of 400 digits":
        text = json.dumps(body).replace(json.dumps(body["ts"]), huge)
        return f"{prefix}/{incident.topic}", text.encode()
    if case == "incident priority 2.0":
        body["priority"] = 2.0
    else:  # "incident revision 2**63"
        body["revision"] = 2**63
    return f"{prefix}/{incident.topic}", json.dumps(body).encode()


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "case",
    [
        "action nested too deep for json",
        "state nested too deep for json",
        "action time of 400 digits",
        "incident time of 400 digits",
        "incident priority 2.0",
        "incident revision 2**63",
    ],
)
def test_a_hostile_shared_message_is_accounted_for_once_and_leaves_its_neighbours_alone(
    city: AbuseCity, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    topic, payload = batch_breaker(case, city.config.sharing.prefix, time.time())
    neighbours = [
        (f"{topic_root('json')}/neighbour/{n}", json.dumps({"id": f"n{n}", "v": n}).encode())
        for n in range(600)
    ]

    city.publisher.publish_all([*neighbours[:300], (topic, payload), *neighbours[300:]])
    city.ledger.wait_settled(
        lambda: city.ledger.accounted("json") >= 600 and city.ledger.decoded(SHARING) >= 1,
        "the neighbours and the shared message taken",
    )

    assert city.ledger.counts()["json"] == (600, 0), "every neighbour decoded once"
    assert city.ledger.decoded(SHARING) == 1, "the shared message received once"
    assert city.ledger.rejected(SHARING) <= 1
    assert city.ledger.messages == 601
    assert not errors_logged(caplog)
    city.takes_good_messages()
    assert_stored_and_acknowledged(city)
