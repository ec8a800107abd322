"""Payloads of the demo city in the formats real deployments send.

- environment: FIWARE NGSI-LD notifications (``AirQualityObserved``, ``NoiseLevelObserved``
  in normalized form, with ``unitCode`` and ``observedAt``);
- water: SenML packs (RFC 8428) with a device URN base name and ``lat``/``lon`` records,
  and the utility's asset register (plain JSON: the device's name and kind, retained);
- traffic: OGC SensorThings Observations on the MQTT topics
  ``v1.1/Datastreams('<thing>:<metric>')/Observations``, with the Datastream (Thing,
  ObservedProperty, unit) and FeatureOfInterest expanded;
- buses: OwnTracks ``location`` messages, plus a plain JSON status (delay, passengers);
- warnings: CAP 1.2 alerts (Alert, Update, Cancel) with polygons over the districts;
- everything else: plain JSON objects.

The static parts of each station's payload are rendered once; a sample only fills in the
numbers and times, so that the load generator stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from xml.sax.saxutils import escape

from services.demo.city import BUS_STATUS_TOPIC, METRIC_UNITS, StationSpec
from services.demo.models import aqi_level

LOCAL_TZ = timezone(timedelta(hours=8), "CST")

NGSI_TYPES = {"air_quality": "AirQualityObserved", "noise": "NoiseLevelObserved"}
NGSI_UNIT_CODES = {
    "pm25": "GQ",
    "pm10": "GQ",
    "no2": "GQ",
    "o3": "GQ",
    "LAeq": "2N",
    "LAmax": "2N",
}
"""UN/CEFACT codes: GQ = µg/m³, 2N = dB."""
NGSI_SUBSCRIPTION = "urn:ngsi-ld:Subscription:yiyang-environment"

OBSERVED_PROPERTIES: dict[str, tuple[str, str]] = {
    "vehicles_in": ("Vehicles entering the city per minute", "vehicles per minute"),
    "vehicles_out": ("Vehicles leaving the city per minute", "vehicles per minute"),
    "traffic_flow": ("Vehicles crossing the stop line per minute", "vehicles per minute"),
    "occupancy": ("Share of time the detector loops are occupied", "percent"),
    "avg_speed": ("Mean speed of passing vehicles", "kilometre per hour"),
}

SENML_BOOLEANS = frozenset({"running"})


def number(value: float) -> str:
    """A JSON number: whole values without a fraction, others as Python writes them."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def text(value: str) -> str:
    """A JSON string."""
    return json.dumps(value, ensure_ascii=False)


@dataclass(slots=True)
class Sample:
    """One station's values at one instant, ready to encode."""

    values: Mapping[str, float]
    ts: float
    """Epoch seconds written into the payload (wall clock, plus any simulated skew)."""
    iso: str
    """``ts`` as ISO-8601 UTC text."""
    lat: float
    lon: float
    name: str | None = None
    kind: str | None = None
    placed: bool = True
    milliseconds: bool = False
    """OwnTracks ``tst`` in milliseconds (a firmware bug the sensor-failures scenario plays)."""


class Encoder:
    """Turns samples of one station into (topic, payload) pairs."""

    def __init__(self, spec: StationSpec) -> None:
        self.spec = spec

    def encode(self, sample: Sample) -> list[tuple[str, bytes]]:
        raise NotImplementedError


class NgsiLdEncoder(Encoder):
    """NGSI-LD notifications carrying one normalized entity."""

    def __init__(self, spec: StationSpec) -> None:
        super().__init__(spec)
        entity_type = NGSI_TYPES[spec.type]
        head = {
            "id": spec.entity_id,
            "type": entity_type,
            "name": {"type": "Property", "value": spec.name},
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [spec.lon, spec.lat]},
            },
        }
        self._head = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
        self._attributes = [
            (
                metric,
                f',"unitCode":"{NGSI_UNIT_CODES[metric]}"' if metric in NGSI_UNIT_CODES else "",
            )
            for metric in spec.metrics
        ]
        self._notification = f'{{"id":"urn:ngsi-ld:Notification:{spec.id}:'

    def encode(self, sample: Sample) -> list[tuple[str, bytes]]:
        iso = sample.iso
        parts = [
            self._head,
            ',"dateObserved":{"type":"Property","value":{"@type":"DateTime","@value":"',
            iso,
            '"}}',
        ]
        values = sample.values
        for metric, unit in self._attributes:
            parts.append(
                f',"{metric}":{{"type":"Property","value":{number(values[metric])}{unit},'
                f'"observedAt":"{iso}"}}'
            )
        if "airQualityIndex" in values:
            level = aqi_level(values["airQualityIndex"])
            parts.append(f',"airQualityLevel":{{"type":"Property","value":"{level}"}}')
        parts.append("}")
        payload = (
            f'{self._notification}{int(sample.ts * 1000)}","type":"Notification",'
            f'"subscriptionId":"{NGSI_SUBSCRIPTION}","notifiedAt":"{iso}","data":['
            + "".join(parts)
            + "]}"
        )
        return [(self.spec.topic, payload.encode("utf-8"))]


class SenmlEncoder(Encoder):
    """A SenML pack per sample: base name = device URN, base time = the sample time."""

    def __init__(self, spec: StationSpec) -> None:
        super().__init__(spec)
        self._base = f'[{{"bn":"{spec.entity_id}:","bt":'
        position = (
            f'{{"n":"lat","u":"lat","v":{number(spec.lat)}}},'
            f'{{"n":"lon","u":"lon","v":{number(spec.lon)}}}]'
        )
        self._tail = position
        self._records = []
        for metric in spec.metrics:
            unit = METRIC_UNITS.get(metric, "")
            self._records.append((metric, f',"u":"{unit}"' if unit else ""))

    def encode(self, sample: Sample) -> list[tuple[str, bytes]]:
        values = sample.values
        records = []
        for index, (metric, unit) in enumerate(self._records):
            opening = "" if index == 0 else "{"
            if metric in SENML_BOOLEANS:
                value = "true" if values[metric] else "false"
                records.append(f'{opening}"n":"{metric}","vb":{value}}}')
            else:
                records.append(f'{opening}"n":"{metric}"{unit},"v":{number(values[metric])}}}')
        payload = f"{self._base}{number(round(sample.ts, 3))}," + ",".join(records)
        payload += "," + self._tail
        return [(self.spec.topic, payload.encode("utf-8"))]


class SensorThingsEncoder(Encoder):
    """One Observation per metric, with its Datastream and FeatureOfInterest expanded."""

    def __init__(self, spec: StationSpec) -> None:
        super().__init__(spec)
        thing = {"@iot.id": spec.id, "name": spec.name, "description": spec.type}
        feature = {
            "@iot.id": f"{spec.id}:site",
            "name": spec.name,
            "encodingType": "application/geo+json",
            "feature": {"type": "Point", "coordinates": [spec.lon, spec.lat]},
        }
        self._streams: list[tuple[str, str, str]] = []
        for metric in spec.metrics:
            definition, unit_name = OBSERVED_PROPERTIES[metric]
            datastream = {
                "@iot.id": f"{spec.id}:{metric}",
                "name": f"{spec.id} {metric}",
                "unitOfMeasurement": {"name": unit_name, "symbol": METRIC_UNITS[metric]},
                "ObservedProperty": {"@iot.id": metric, "name": metric, "description": definition},
                "Thing": thing,
            }
            tail = json.dumps(
                {"Datastream": datastream, "FeatureOfInterest": feature},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            self._streams.append((metric, spec.metric_topic(metric), "," + tail[1:]))

    def encode(self, sample: Sample) -> list[tuple[str, bytes]]:
        iso = sample.iso
        values = sample.values
        return [
            (
                topic,
                (
                    f'{{"phenomenonTime":"{iso}","resultTime":"{iso}",'
                    f'"result":{number(values[metric])}{tail}'
                ).encode(),
            )
            for metric, topic, tail in self._streams
        ]


class BusEncoder(Encoder):
    """An OwnTracks location and a plain JSON status (delay, passengers) per bus."""

    def __init__(self, spec: StationSpec) -> None:
        super().__init__(spec)
        self._tid = text(spec.name)
        self._status_topic = BUS_STATUS_TOPIC.format(id=spec.id)
        self._status_head = f'{{"id":{text(spec.entity_id)},"line":{text(spec.route + "路")}'

    def encode(self, sample: Sample) -> list[tuple[str, bytes]]:
        values = sample.values
        tst = int(sample.ts * 1000) if sample.milliseconds else int(sample.ts)
        location = (
            f'{{"_type":"location","tid":{self._tid},"tst":{tst},'
            f'"lat":{number(sample.lat)},"lon":{number(sample.lon)},'
            f'"acc":{number(values["acc"])},"vel":{number(values["vel"])},'
            f'"cog":{number(values["cog"])},"batt":{number(values["batt"])},'
            f'"conn":"m","t":"t"}}'
        )
        status = (
            f'{self._status_head},"ts":"{sample.iso}",'
            f'"delay_min":{number(values["delay_min"])},'
            f'"passengers":{number(values["passengers"])}}}'
        )
        return [
            (self.spec.topic, location.encode("utf-8")),
            (self._status_topic, status.encode("utf-8")),
        ]


class JsonEncoder(Encoder):
    """A flat JSON object: id, name, type, position, ts and the metrics."""

    def __init__(self, spec: StationSpec) -> None:
        super().__init__(spec)
        self._id = f'{{"id":{text(spec.id)}'
        self._name = text(spec.name)
        self._type = text(spec.type)

    def encode(self, sample: Sample) -> list[tuple[str, bytes]]:
        parts = [self._id]
        parts.append(',"name":' + (self._name if sample.name is None else text(sample.name)))
        parts.append(',"type":' + (self._type if sample.kind is None else text(sample.kind)))
        if sample.placed:
            parts.append(f',"lat":{number(sample.lat)},"lon":{number(sample.lon)}')
        parts.append(f',"ts":"{sample.iso}"')
        for metric, value in sample.values.items():
            parts.append(f',"{metric}":{number(value)}')
        parts.append("}")
        return [(self.spec.topic, "".join(parts).encode("utf-8"))]


def asset_record(spec: StationSpec) -> bytes:
    """The asset register's JSON record of a device: id, name, kind and place, no readings."""
    record = {
        "id": spec.entity_id,
        "name": spec.name,
        "type": spec.type,
        "lat": spec.lat,
        "lon": spec.lon,
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


ENCODERS: dict[str, type[Encoder]] = {
    "ngsi-ld": NgsiLdEncoder,
    "senml": SenmlEncoder,
    "sensorthings": SensorThingsEncoder,
    "owntracks": BusEncoder,
    "json": JsonEncoder,
}


def make_encoder(spec: StationSpec) -> Encoder:
    """The encoder of a station's format."""
    return ENCODERS[spec.format](spec)


# -- CAP ---------------------------------------------------------------------------------

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_LEVELS: dict[str, tuple[str, str, str, str]] = {
    # level: (CAP severity, Chinese colour, English colour, CAP urgency)
    "blue": ("Minor", "蓝色", "Blue", "Expected"),
    "yellow": ("Moderate", "黄色", "Yellow", "Expected"),
    "orange": ("Severe", "橙色", "Orange", "Immediate"),
    "red": ("Extreme", "红色", "Red", "Immediate"),
}


@dataclass(frozen=True, slots=True)
class CapArea:
    """Where a CAP alert applies: a description, a ``[lon, lat]`` ring and geocodes."""

    description: str
    ring: Sequence[Sequence[float]]
    geocodes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CapMessage:
    """Everything one CAP alert says."""

    identifier: str
    sender: str
    sender_name: str
    sender_name_en: str
    sent: float
    msg_type: str
    event: str
    event_zh: str
    category: str
    level: str
    expires: float
    area: CapArea
    references: tuple[tuple[str, float], ...] = ()
    instruction: str = ""


def cap_time(epoch: float) -> str:
    """A CAP date-time: local time with its UTC offset, no fractions."""
    moment = datetime.fromtimestamp(round(epoch), tz=UTC).astimezone(LOCAL_TZ)
    return moment.isoformat(timespec="seconds")


def _polygon(ring: Sequence[Sequence[float]]) -> str:
    points = [f"{lat:.4f},{lon:.4f}" for lon, lat in ring]
    if points[0] != points[-1]:
        points.append(points[0])
    return " ".join(points)


def cap_alert(message: CapMessage) -> bytes:
    """A CAP 1.2 ``<alert>`` document with a Chinese and an English ``<info>`` block."""
    severity, colour_zh, colour_en, urgency = CAP_LEVELS[message.level]
    sent = cap_time(message.sent)
    references = " ".join(
        f"{message.sender},{identifier},{cap_time(at)}" for identifier, at in message.references
    )
    cancelled = message.msg_type == "Cancel"
    area = message.area
    geocodes = "".join(
        f"<geocode><valueName>{escape(name)}</valueName><value>{escape(value)}</value></geocode>"
        for name, value in area.geocodes
    )
    area_xml = (
        f"<area><areaDesc>{escape(area.description)}</areaDesc>"
        f"<polygon>{_polygon(area.ring)}</polygon>{geocodes}</area>"
    )
    if cancelled:
        headline_zh = f"{message.sender_name}解除{message.event_zh}{colour_zh}预警"
        headline_en = f"{message.sender_name_en} lifts the {colour_en} {message.event} Warning"
    else:
        headline_zh = f"{message.sender_name}发布{message.event_zh}{colour_zh}预警信号"
        headline_en = f"{message.sender_name_en} issues a {colour_en} {message.event} Warning"
    description_en = (
        f"{message.event} warning level {colour_en.lower()} for {area.description}."
        if not cancelled
        else f"The {message.event.lower()} warning for {area.description} is lifted."
    )
    infos = []
    for language, event, headline, description, sender_name in (
        ("zh-CN", message.event_zh, headline_zh, headline_zh + "。", message.sender_name),
        ("en-US", message.event, headline_en, description_en, message.sender_name_en),
    ):
        instruction = (
            f"<instruction>{escape(message.instruction)}</instruction>"
            if message.instruction and language == "en-US" and not cancelled
            else ""
        )
        infos.append(
            f"<info><language>{language}</language>"
            f"<category>{message.category}</category><event>{escape(event)}</event>"
            f"<responseType>{'AllClear' if cancelled else 'Prepare'}</responseType>"
            f"<urgency>{'Past' if cancelled else urgency}</urgency>"
            f"<severity>{severity}</severity><certainty>Likely</certainty>"
            f"<effective>{sent}</effective><expires>{cap_time(message.expires)}</expires>"
            f"<senderName>{escape(sender_name)}</senderName>"
            f"<headline>{escape(headline)}</headline>"
            f"<description>{escape(description)}</description>{instruction}"
            f"{area_xml}</info>"
        )
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<alert xmlns="{CAP_NAMESPACE}">'
        f"<identifier>{escape(message.identifier)}</identifier>"
        f"<sender>{escape(message.sender)}</sender><sent>{sent}</sent>"
        f"<status>Actual</status><msgType>{message.msg_type}</msgType><scope>Public</scope>"
        + (f"<references>{escape(references)}</references>" if references else "")
        + "".join(infos)
        + "</alert>"
    )
    return document.encode("utf-8")


# -- broken payloads ---------------------------------------------------------------------


def corrupt(payload: bytes, format_name: str, how: float) -> bytes:
    """A broken copy of a valid payload, the way failing devices and gateways break them.

    ``how`` in [0, 1) picks the kind; every result is refused by the format's decoder.
    """
    if how < 0.4 or format_name not in _SPECIFIC:
        return payload[: max(1, len(payload) // 2)]  # cut off mid-message
    if format_name == "owntracks":  # a phone with payload encryption switched on
        return b'{"_type":"encrypted","data":"bm90IGZvciB5b3VyIGV5ZXM="}'
    old, new = _SPECIFIC[format_name]
    broken = payload.replace(old, new, 1)
    return broken if broken != payload else payload[: max(1, len(payload) // 2)]


_SPECIFIC: dict[str, tuple[bytes, bytes]] = {
    "json": (b'"ts":"', b'"ts":"yesterday'),
    "ngsi-ld": (b'"data":[{"id":', b'"data":[{"ref":'),
    "senml": (b',"v":', b',"v":"n/a","x":'),
    "sensorthings": (b'"phenomenonTime":"', b'"phenomenonTime":"soon'),
    "owntracks": (b"", b""),
    "cap": (b'<?xml version="1.0" encoding="UTF-8"?>', b'<!DOCTYPE alert [<!ENTITY x "y">]>'),
}
