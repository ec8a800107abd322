"""The ``cap`` format: OASIS Common Alerting Protocol 1.1 / 1.2 alerts as external alarms.

A payload is one CAP ``<alert>``, an Atom ``<feed>`` or an RSS 2.0 ``<rss>`` document whose
entries/items embed alerts. XML is parsed only with defusedxml: DTDs (and with them entity
expansion and external entities) are refused, and the payload size, element depth and
element count are bounded before anything is built.

Rules (chosen here, relied on by tests):

- Each alert becomes one :class:`ExternalAlarm`: ``source_id`` is the CAP ``identifier``;
  ``references`` are the identifiers of the ``sender,identifier,sent`` triples in
  ``<references>``. ``Alert`` and ``Update`` raise (an update carries its references, which
  the alarm store clears first); ``Cancel`` gives ``cancel=True``; ``Ack`` and ``Error`` are
  ignored (nothing decoded, no error).
- ``entity_id`` is ``cap:<sender>/<area key>``, the area key being the first geocode
  (``valueName=value``) of the first area of the preferred info block, else that area's
  ``areaDesc``, so that warnings of one sender for different places stay separate alarms;
  ``cap:<sender>`` when the alert names no area. Ids over 128 characters are shortened with
  a hash of the area key.
- Preferred info block: the first whose language starts with ``en`` (an info without a
  language is ``en-US`` per CAP), else the first starting with ``zh``, else the first.
  ``event`` and the message come from it; the other blocks' headlines follow in the message
  after `` | `` as ``[language] headline``.
- ``severity`` is the most severe of all info blocks: Extreme → critical, Severe → high,
  Moderate → medium, Minor → low, Unknown (or missing/unrecognised) → medium.
  ``expires_at`` is the earliest ``expires`` of all info blocks, or None.
- ``status`` other than ``Actual`` (Exercise, Test, Draft, System) is kept so operators see
  it, but the message is prefixed ``[EXERCISE]``/``[TEST]``/``[DRAFT]``/``[SYSTEM]`` and the
  severity is low, so it never outranks a real alarm.
- ``area`` is a GeoJSON FeatureCollection in lon,lat order (CAP writes lat,lon): a Polygon
  feature per ``<polygon>`` and a Point feature with a ``radius_km`` property per
  ``<circle>``, each with ``areaDesc`` and ``geocodes`` properties. Shapes come from the
  preferred info block (or the first block that has any); ``area`` is None without shapes.
  An :class:`EntityUpdate` places the entity at the centroid of the first shape (no position
  when there is none) and names it after the first ``areaDesc``; a Cancel updates no entity.
- In Atom feeds an alert is an ``<alert>`` child of ``<entry>/<content>`` (or of
  ``<entry>``); in RSS a child of ``<item>``. Entries that only link to an alert are ignored:
  fetching links is the poller's business. An unreadable alert in a feed is skipped with a
  warning; the payload is refused only when every embedded alert is unreadable.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from defusedxml import (  # type: ignore[import-untyped,unused-ignore]
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from defusedxml.ElementTree import (  # type: ignore[import-untyped,unused-ignore]
    DefusedXMLParser,
)

from services.config import FeedConfig
from services.decoders.base import Decoded, DecodeError, EntityUpdate, ExternalAlarm
from services.decoders.common import check_size
from services.model import Severity
from services.timeutil import parse_timestamp

log = logging.getLogger(__name__)

CAP_NAMESPACES = {
    "urn:oasis:names:tc:emergency:cap:1.2": "1.2",
    "urn:oasis:names:tc:emergency:cap:1.1": "1.1",
}
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"

MAX_DEPTH = 32
MAX_ELEMENTS = 50_000
MAX_INFO_AND_AREA = 5_000
MAX_POLYGON_POINTS = 10_000
MAX_ID_LENGTH = 256
MAX_ENTITY_ID_LENGTH = 128
MAX_EVENT_LENGTH = 128
MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 300
MAX_MESSAGE_LENGTH = 1000
ENTITY_TYPE = "alert_area"
DEFAULT_EVENT = "CAP alert"

SEVERITIES = {
    "extreme": Severity.CRITICAL,
    "severe": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "minor": Severity.LOW,
    "unknown": Severity.MEDIUM,
}
STATUS_PREFIXES = {
    "actual": "",
    "exercise": "[EXERCISE] ",
    "test": "[TEST] ",
    "draft": "[DRAFT] ",
    "system": "[SYSTEM] ",
}
MSG_TYPES = {name.lower(): name for name in ("Alert", "Update", "Cancel", "Ack", "Error")}
IGNORED_MSG_TYPES = ("Ack", "Error")
PREFERRED_LANGUAGES = ("en", "zh")

_WHITESPACE = re.compile(r"\s+")
_COMMA_SPACES = re.compile(r"\s*,\s*")


class _LimitedTreeBuilder(ET.TreeBuilder):
    """A tree builder that stops the parse once the document gets too deep or too large."""

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0
        self._elements = 0
        self._blocks = 0

    def start(self, tag: Any, attrs: dict[Any, Any], /) -> ET.Element:
        self._depth += 1
        self._elements += 1
        if self._depth > MAX_DEPTH:
            raise DecodeError(f"XML nested deeper than {MAX_DEPTH} elements")
        if self._elements > MAX_ELEMENTS:
            raise DecodeError(f"XML has more than {MAX_ELEMENTS} elements")
        if isinstance(tag, str) and _local_name(tag) in ("info", "area"):
            self._blocks += 1
            if self._blocks > MAX_INFO_AND_AREA:
                raise DecodeError(f"more than {MAX_INFO_AND_AREA} <info>/<area> elements")
        return super().start(tag, attrs)

    def end(self, tag: str, /) -> ET.Element:
        self._depth -= 1
        return super().end(tag)


def parse_xml(payload: bytes) -> ET.Element:
    """Parse ``payload`` safely (no DTD, entities or external references; bounded size)."""
    check_size(payload)
    parser = DefusedXMLParser(
        target=_LimitedTreeBuilder(),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        parser.feed(payload)
        root = parser.close()
    except DecodeError:
        raise
    except DTDForbidden:
        raise DecodeError(
            "XML with a document type declaration (DTD) is refused: "
            "no entity definitions or external references are accepted"
        ) from None
    except EntitiesForbidden:
        raise DecodeError("XML entity declarations are refused") from None
    except ExternalReferenceForbidden:
        raise DecodeError("XML external references are refused") from None
    except DefusedXmlException as error:
        raise DecodeError(f"unsafe XML refused: {type(error).__name__}") from None
    except ET.ParseError as error:
        raise DecodeError(f"not well-formed XML: {error}") from None
    except (ValueError, LookupError) as error:
        raise DecodeError(f"unreadable XML encoding: {str(error)[:80]}") from None
    if not isinstance(root, ET.Element):
        raise DecodeError("XML has no root element")
    return root


def _split_tag(tag: object) -> tuple[str, str]:
    """(namespace, local name) of an element tag; comments and PIs have no name."""
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _local_name(tag: str) -> str:
    return _split_tag(tag)[1]


def _clean(text: str | None) -> str:
    """Text with whitespace runs collapsed to single spaces."""
    return _WHITESPACE.sub(" ", text or "").strip()


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(slots=True)
class _Area:
    description: str
    geocodes: list[tuple[str, str]] = field(default_factory=list)
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)
    circles: list[tuple[float, float, float]] = field(default_factory=list)


@dataclass(slots=True)
class _Info:
    language: str
    event: str
    severity: Severity
    headline: str
    description: str
    expires: float | None
    areas: list[_Area]

    @property
    def has_shapes(self) -> bool:
        return any(area.polygons or area.circles for area in self.areas)


class _Reader:
    """Children of one CAP element, in the alert's own namespace."""

    def __init__(self, element: ET.Element, namespace: str) -> None:
        self.element = element
        self.namespace = namespace

    def _tag(self, name: str) -> str:
        return f"{{{self.namespace}}}{name}"

    def text(self, name: str) -> str:
        child = self.element.find(self._tag(name))
        return _clean(child.text) if child is not None else ""

    def children(self, name: str) -> list[ET.Element]:
        return self.element.findall(self._tag(name))

    def reader(self, child: ET.Element) -> _Reader:
        return _Reader(child, self.namespace)

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            raise DecodeError(f"alert has no <{name}>")
        return value


def _time(text: str, what: str) -> float:
    try:
        return parse_timestamp(text)
    except (ValueError, OverflowError) as error:
        raise DecodeError(f"<{what}>: {error}") from None


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DecodeError(f"{what}: not a number: {text[:30]!r}") from None
    if not math.isfinite(value):
        raise DecodeError(f"{what}: not a finite number: {text[:30]!r}")
    return value


def _point(text: str, what: str) -> tuple[float, float]:
    """(lon, lat) from CAP's ``lat,lon`` text."""
    parts = text.split(",")
    if len(parts) != 2:
        raise DecodeError(f"{what}: expected 'lat,lon', got {text[:40]!r}")
    lat = _number(parts[0], what)
    lon = _number(parts[1], what)
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise DecodeError(f"{what}: coordinate out of range: {text[:40]!r}")
    return lon, lat


def _polygon(text: str) -> list[tuple[float, float]]:
    pairs = _COMMA_SPACES.sub(",", text).split()
    if len(pairs) > MAX_POLYGON_POINTS:
        raise DecodeError(f"<polygon> has more than {MAX_POLYGON_POINTS} points")
    ring = [_point(pair, "<polygon>") for pair in pairs]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    if len(set(ring)) < 3:
        raise DecodeError("<polygon> needs at least three distinct points")
    return ring


def _circle(text: str) -> tuple[float, float, float]:
    centre, _, radius_text = _COMMA_SPACES.sub(",", text).partition(" ")
    if not radius_text.strip():
        raise DecodeError(f"<circle>: expected 'lat,lon radius_km', got {text[:40]!r}")
    lon, lat = _point(centre, "<circle>")
    radius = _number(radius_text.strip(), "<circle> radius")
    if radius < 0:
        raise DecodeError(f"<circle>: negative radius {radius:g}")
    return lon, lat, radius


def _read_area(area: _Reader) -> _Area:
    result = _Area(description=_truncate(area.text("areaDesc"), MAX_NAME_LENGTH))
    for geocode in area.children("geocode"):
        code = area.reader(geocode)
        name, value = code.text("valueName"), code.text("value")
        if value:
            result.geocodes.append((name, value))
    for polygon in area.children("polygon"):
        text = _clean(polygon.text)
        if text:
            result.polygons.append(_polygon(text))
    for circle in area.children("circle"):
        text = _clean(circle.text)
        if text:
            result.circles.append(_circle(text))
    return result


def _read_info(info: _Reader) -> _Info:
    expires_text = info.text("expires")
    return _Info(
        language=info.text("language") or "en-US",
        event=_truncate(info.text("event") or DEFAULT_EVENT, MAX_EVENT_LENGTH),
        severity=SEVERITIES.get(info.text("severity").lower(), Severity.MEDIUM),
        headline=info.text("headline"),
        description=info.text("description"),
        expires=_time(expires_text, "expires") if expires_text else None,
        areas=[_read_area(info.reader(area)) for area in info.children("area")],
    )


def _preferred(infos: list[_Info]) -> _Info:
    for prefix in PREFERRED_LANGUAGES:
        for info in infos:
            if info.language.lower().startswith(prefix):
                return info
    return infos[0]


def _references(text: str) -> tuple[str, ...]:
    """Identifiers named by ``sender,identifier,sent`` triples (a bare identifier also counts)."""
    found: dict[str, None] = {}
    for token in text.split():
        parts = token.split(",")
        if len(parts) == 3 and parts[1]:
            identifier = parts[1]
        elif len(parts) == 1:
            identifier = parts[0]
        else:
            raise DecodeError(
                f"<references>: expected 'sender,identifier,sent', got {token[:60]!r}"
            )
        found[identifier] = None
    return tuple(found)


def _entity_id(sender: str, area: _Area | None) -> str:
    base = f"cap:{sender}"
    key = ""
    if area is not None:
        if area.geocodes:
            name, value = area.geocodes[0]
            key = f"{name}={value}" if name else value
        else:
            key = area.description
    if not key:
        candidate = base
    else:
        candidate = f"{base}/{key}"
        if len(candidate) > MAX_ENTITY_ID_LENGTH:
            digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]
            candidate = f"{base}/{key[:40].rstrip()}~{digest}"
    if len(candidate) > MAX_ENTITY_ID_LENGTH:
        digest = hashlib.sha1(candidate.encode("utf-8")).hexdigest()[:24]
        candidate = f"cap:{digest}"
    return candidate


def _ring_centroid(ring: list[tuple[float, float]]) -> tuple[float, float]:
    """Area-weighted centroid (lon, lat) of a closed ring; the vertex mean when it is flat.

    Computed relative to the first vertex to keep precision for small areas.
    """
    ox, oy = ring[0]
    twice_area = 0.0
    cx = cy = 0.0
    shifted = [(x - ox, y - oy) for x, y in ring]
    for (x0, y0), (x1, y1) in itertools.pairwise(shifted):
        cross = x0 * y1 - x1 * y0
        twice_area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(twice_area) < 1e-15:
        points = ring[:-1]
        return (
            sum(p[0] for p in points) / len(points),
            sum(p[1] for p in points) / len(points),
        )
    return ox + cx / (3.0 * twice_area), oy + cy / (3.0 * twice_area)


def _geometry(areas: list[_Area]) -> tuple[dict[str, object] | None, tuple[float, float] | None]:
    """The GeoJSON FeatureCollection of the areas' shapes and the first shape's centre."""
    features: list[dict[str, object]] = []
    centre: tuple[float, float] | None = None
    for area in areas:
        properties: dict[str, object] = {
            "areaDesc": area.description,
            "geocodes": [[name, value] for name, value in area.geocodes],
        }
        for ring in area.polygons:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": [[[x, y] for x, y in ring]]},
                    "properties": dict(properties),
                }
            )
            if centre is None:
                centre = _ring_centroid(ring)
        for lon, lat, radius in area.circles:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {**properties, "radius_km": radius},
                }
            )
            if centre is None:
                centre = (lon, lat)
    if not features:
        return None, None
    return {"type": "FeatureCollection", "features": features}, centre


def _message(prefix: str, preferred: _Info | None, infos: list[_Info], note: str) -> str:
    if preferred is None:
        return _truncate(prefix + (note or "CAP message without information"), MAX_MESSAGE_LENGTH)
    text = prefix + (preferred.headline or preferred.event)
    if preferred.description:
        text += " — " + _truncate(preferred.description, MAX_DESCRIPTION_LENGTH)
    parts = {text: None}
    length = len(text)
    for info in infos:
        if length > MAX_MESSAGE_LENGTH:
            break
        if info is not preferred:
            other = f"[{info.language}] {info.headline or info.event}"
            if other not in parts:
                parts[other] = None
                length += len(other) + 3
    return _truncate(" | ".join(parts), MAX_MESSAGE_LENGTH)


def decode_alert(alert: ET.Element) -> tuple[ExternalAlarm, EntityUpdate | None] | None:
    """One CAP ``<alert>`` element as an external alarm (and its area entity).

    None for ``Ack`` and ``Error`` messages; DecodeError when the alert cannot be read.
    """
    namespace, local = _split_tag(alert.tag)
    if local != "alert":
        raise DecodeError(f"expected a CAP <alert>, got <{local[:40]}>")
    if namespace not in CAP_NAMESPACES:
        raise DecodeError(
            f"<alert> is not in the CAP 1.1 or 1.2 namespace (got {namespace[:80]!r})"
        )
    reader = _Reader(alert, namespace)
    identifier = reader.required("identifier")
    sender = reader.required("sender")
    for name, value in (("identifier", identifier), ("sender", sender)):
        if len(value) > MAX_ID_LENGTH:
            raise DecodeError(f"<{name}> longer than {MAX_ID_LENGTH} characters")
    sent_at = _time(reader.required("sent"), "sent")
    status = reader.required("status")
    prefix = STATUS_PREFIXES.get(status.lower())
    if prefix is None:
        raise DecodeError(
            f"<status> must be Actual, Exercise, System, Test or Draft, got {status[:30]!r}"
        )
    msg_type_text = reader.required("msgType")
    msg_type = MSG_TYPES.get(msg_type_text.lower())
    if msg_type is None:
        raise DecodeError(
            f"<msgType> must be Alert, Update, Cancel, Ack or Error, got {msg_type_text[:30]!r}"
        )
    if msg_type in IGNORED_MSG_TYPES:
        return None
    references = _references(reader.text("references"))
    infos = [_read_info(reader.reader(info)) for info in reader.children("info")]
    preferred = _preferred(infos) if infos else None

    severity = max((info.severity for info in infos), default=Severity.MEDIUM)
    if prefix:
        severity = Severity.LOW
    expiries = [info.expires for info in infos if info.expires is not None]
    shaped = (
        preferred
        if preferred is not None and preferred.has_shapes
        else next((info for info in infos if info.has_shapes), None)
    )
    area, centre = _geometry(shaped.areas) if shaped is not None else (None, None)
    first_area = preferred.areas[0] if preferred is not None and preferred.areas else None
    entity_id = _entity_id(sender, first_area)

    alarm = ExternalAlarm(
        source_id=identifier,
        entity_id=entity_id,
        event=preferred.event if preferred is not None else DEFAULT_EVENT,
        severity=severity,
        sent_at=sent_at,
        expires_at=min(expiries) if expiries else None,
        message=_message(prefix, preferred, infos, reader.text("note")),
        cancel=msg_type == "Cancel",
        references=references,
        area=area,
    )
    if alarm.cancel:
        return alarm, None
    name = first_area.description if first_area is not None and first_area.description else ""
    update = EntityUpdate(
        id=entity_id,
        name=name or _truncate(sender, MAX_NAME_LENGTH),
        type=ENTITY_TYPE,
        lon=centre[0] if centre is not None else None,
        lat=centre[1] if centre is not None else None,
    )
    return alarm, update


def _embedded_alerts(root: ET.Element) -> tuple[list[ET.Element], int]:
    """Alert elements embedded in an Atom feed or RSS channel, and how many entries had none."""
    namespace, local = _split_tag(root.tag)
    if namespace == ATOM_NAMESPACE and local == "feed":
        containers = root.findall(f"{{{ATOM_NAMESPACE}}}entry")
        content_tag = f"{{{ATOM_NAMESPACE}}}content"
    elif namespace == "" and local == "rss":
        channel = root.find("channel")
        if channel is None:
            raise DecodeError("RSS document has no <channel>")
        containers = channel.findall("item")
        content_tag = ""
    else:
        raise DecodeError(
            "expected a CAP <alert>, an Atom <feed> or an RSS <rss> root, "
            f"got <{local[:40]}> in namespace {namespace[:80]!r}"
        )
    alerts: list[ET.Element] = []
    link_only = 0
    for container in containers:
        candidates = list(container)
        if content_tag:
            for content in container.findall(content_tag):
                candidates.extend(content)
        found = [child for child in candidates if _split_tag(child.tag)[1] == "alert"]
        if not found:
            link_only += 1
        alerts.extend(found)
    return alerts, link_only


def decode_cap(payload: bytes, topic: str, feed: FeedConfig, received_at: float) -> Decoded:
    """Decode a CAP alert, or an Atom/RSS feed of them, into external alarms and areas."""
    root = parse_xml(payload)
    if _split_tag(root.tag)[1] == "alert":
        alerts = [root]
        in_feed = False
    else:
        alerts, link_only = _embedded_alerts(root)
        in_feed = True
        if link_only:
            log.debug(
                "feed %s: %d entries without an embedded CAP alert ignored", feed.name, link_only
            )
    decoded = Decoded()
    failures: list[str] = []
    for element in alerts:
        try:
            result = decode_alert(element)
        except DecodeError as error:
            if not in_feed:
                raise
            failures.append(str(error))
            continue
        if result is None:
            continue
        alarm, update = result
        decoded.alarms.append(alarm)
        if update is not None:
            decoded.entities.append(update)
    if failures and len(failures) == len(alerts):
        raise DecodeError(f"no readable alert among {len(alerts)}: {failures[0]}")
    if failures:  # one line per payload, however many alerts it carries
        log.warning(
            "feed %s: %d of %d alerts skipped (first: %s)",
            feed.name,
            len(failures),
            len(alerts),
            failures[0],
        )
    return decoded
