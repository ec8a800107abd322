"""OGC SensorThings API observations (``sensorthings`` format), over MQTT or HTTP.

Accepted payloads:

- one Observation, as published on the MQTT extension topics
  ``v1.0/Datastreams(<id>)/Observations``, ``v1.1/...`` and
  ``v1.x/Things(<id>)/Datastreams(<id>)/Observations``;
- a collection ``{"value": [...], "@iot.nextLink": "..."}`` (HTTP): its members may be
  Observations, Datastreams with expanded ``Observations``, or Things with expanded
  ``Datastreams`` (and ``Locations``); ``@iot.nextLink`` is followed by the HTTP poller,
  not here.

Rules:

- entity: ``Thing(<id>)`` when the Thing is known (expanded ``Datastream.Thing``, or a
  Thing member); else ``Datastream(<id>)`` from the expanded Datastream or from the topic
  (or the polled URL, when it names ``Datastreams(<id>)``); an observation with neither is
  refused. Quoted string ids (``Datastreams('a')``) lose their quotes;
- metric: ``Datastream.ObservedProperty.name`` when expanded; else, for a Datastream
  entity, ``result``; for a Thing entity the Datastream ``name`` (or ``Datastream(<id>)``);
- unit: ``Datastream.unitOfMeasurement.symbol``;
- time: ``phenomenonTime`` (an interval ``start/end`` gives its end), else ``resultTime``,
  else ``received_at``; more than a day in the future is refused;
- position: the observation's ``FeatureOfInterest.feature`` (GeoJSON), else the Thing's
  first ``Locations[].location``; when several observations of one entity carry one, the
  newest wins;
- results that are not numbers (text, objects, booleans, null) are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from services.config import FeedConfig
from services.decoders.base import Decoded, DecodeError, EntityUpdate
from services.decoders.common import (
    check_count,
    checked_metric,
    checked_time,
    clip_text,
    geojson_position,
    number_value,
    parse_json_document,
)
from services.model import Reading

TOPIC_PATTERN = re.compile(
    r"(?:^|/)v1\.[01]/(?:Things\((?P<thing>[^()/]+)\)/)?"
    r"Datastreams\((?P<datastream>[^()/]+)\)/Observations(?:[?#].*)?$"
)
MAX_IOT_ID_LENGTH = 100


@dataclass(frozen=True, slots=True)
class _Context:
    """What an observation belongs to, as far as it is known."""

    entity_id: str
    metric: str = "result"
    unit: str = ""
    name: str | None = None
    type: str | None = None
    position: tuple[float, float] | None = None


@dataclass(slots=True)
class _Collector:
    feed: str
    received_at: float
    readings: list[Reading] = field(default_factory=list)
    entities: dict[str, EntityUpdate] = field(default_factory=dict)
    position_times: dict[str, float] = field(default_factory=dict)

    def entity(self, context: _Context, ts: float, position: tuple[float, float] | None) -> None:
        update = self.entities.get(context.entity_id)
        if update is None:
            check_count(len(self.entities) + 1, "entities")
            update = EntityUpdate(id=context.entity_id)
            self.entities[context.entity_id] = update
        update.name = update.name or context.name
        update.type = update.type or context.type
        if position is not None and ts >= self.position_times.get(context.entity_id, -1.0):
            update.lat, update.lon = position
            self.position_times[context.entity_id] = ts

    def observation(self, observation: object, context: _Context | None) -> None:
        if not isinstance(observation, dict):
            raise DecodeError(f"observation is {type(observation).__name__}, not an object")
        datastream = observation.get("Datastream")
        if isinstance(datastream, dict):
            context = _datastream_context(datastream, None, context)
        if context is None:
            raise DecodeError(
                "observation without its Datastream: the topic is not "
                "v1.x/Datastreams(<id>)/Observations and no Datastream is expanded"
            )
        ts = self.received_at
        for key in ("phenomenonTime", "resultTime"):
            raw = observation.get(key)
            if raw is not None:
                ts = checked_time(raw, self.received_at, key)
                break
        position = context.position
        feature = observation.get("FeatureOfInterest")
        if isinstance(feature, dict):
            position = _geometry_position(feature.get("feature"), "FeatureOfInterest") or position
        self.entity(context, ts, position)
        value = number_value(observation.get("result"))
        if value is None:
            return
        self.readings.append(
            Reading(
                entity_id=context.entity_id,
                metric=context.metric,
                value=value,
                ts=ts,
                feed=self.feed,
                unit=context.unit,
            )
        )
        check_count(len(self.readings))

    def member(self, item: object, context: _Context | None) -> bool:
        """One member of a collection: an Observation, a Datastream or a Thing.

        Returns False (and reads nothing) for anything else.
        """
        if not isinstance(item, dict):
            raise DecodeError(f"collection member is {type(item).__name__}, not an object")
        if "result" in item or "phenomenonTime" in item:
            self.observation(item, context)
        elif isinstance(item.get("Observations"), list):
            self._datastream(item, item.get("Thing"), context)
        elif isinstance(item.get("Datastreams"), list) or isinstance(item.get("Locations"), list):
            self._thing(item)
        else:
            return False
        return True

    def _datastream(
        self, datastream: dict[str, Any], thing: object, parent: _Context | None
    ) -> None:
        context = _datastream_context(datastream, thing, parent)
        observations = datastream.get("Observations")
        if not isinstance(observations, list):
            return
        check_count(len(observations), "observations")
        for observation in observations:
            self.observation(observation, context)

    def _thing(self, thing: dict[str, Any]) -> None:
        context = _thing_context(thing)
        self.entity(context, self.received_at, context.position)
        datastreams = thing.get("Datastreams")
        if not isinstance(datastreams, list):
            return
        check_count(len(datastreams), "datastreams")
        for datastream in datastreams:
            if not isinstance(datastream, dict):
                raise DecodeError(f"Datastream is {type(datastream).__name__}, not an object")
            self._datastream(datastream, thing, None)


def _iot_id(raw: object, what: str) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, str) and raw.strip():
        text = raw.strip()
        if len(text) >= 2 and text[0] == text[-1] == "'":
            text = text[1:-1].strip()
        if not text:
            raise DecodeError(f"{what} @iot.id is empty")
        if len(text) > MAX_IOT_ID_LENGTH:
            raise DecodeError(f"{what} @iot.id longer than {MAX_IOT_ID_LENGTH} characters")
        return text
    raise DecodeError(f"{what} @iot.id must be text or a whole number")


def _geometry_position(raw: object, what: str) -> tuple[float, float] | None:
    try:
        return geojson_position(raw)
    except DecodeError as error:
        raise DecodeError(f"{what}: {error}") from None


def _thing_position(thing: dict[str, Any]) -> tuple[float, float] | None:
    locations = thing.get("Locations")
    if not isinstance(locations, list):
        return None
    for location in locations:
        if isinstance(location, dict):
            position = _geometry_position(location.get("location"), "Thing Location")
            if position is not None:
                return position
    return None


def _thing_context(thing: dict[str, Any]) -> _Context:
    thing_id = _iot_id(thing.get("@iot.id"), "Thing")
    if thing_id is None:
        raise DecodeError("Thing without @iot.id")
    return _Context(
        entity_id=f"Thing({thing_id})",
        name=clip_text(thing.get("name")),
        type="Thing",
        position=_thing_position(thing),
    )


def _datastream_context(
    datastream: dict[str, Any], thing: object, parent: _Context | None
) -> _Context:
    datastream_id = _iot_id(datastream.get("@iot.id"), "Datastream")
    observed = datastream.get("ObservedProperty")
    property_name = clip_text(observed.get("name")) if isinstance(observed, dict) else None
    measure = datastream.get("unitOfMeasurement")
    symbol = clip_text(measure.get("symbol")) if isinstance(measure, dict) else None
    if not isinstance(thing, dict):
        thing = datastream.get("Thing")
    if isinstance(thing, dict) and thing.get("@iot.id") is not None:
        own = _thing_context(thing)
        metric = property_name or clip_text(datastream.get("name"))
        if metric is None:
            if datastream_id is None:
                raise DecodeError("Datastream of a Thing without @iot.id or name")
            metric = f"Datastream({datastream_id})"
        return replace(own, metric=checked_metric(metric), unit=symbol or "")
    if datastream_id is None:
        if parent is None:
            raise DecodeError("Datastream without @iot.id")
        return replace(
            parent,
            metric=checked_metric(property_name or parent.metric),
            unit=symbol or parent.unit,
        )
    return _Context(
        entity_id=f"Datastream({datastream_id})",
        metric=checked_metric(property_name or "result"),
        unit=symbol or "",
        name=clip_text(datastream.get("name")),
        type="Datastream",
    )


def _topic_context(topic: str) -> _Context | None:
    match = TOPIC_PATTERN.search(topic)
    if match is None:
        return None
    datastream_id = _iot_id(match["datastream"], "Datastream")
    return _Context(entity_id=f"Datastream({datastream_id})", type="Datastream")


def decode_sensorthings(
    payload: bytes, topic: str, feed: FeedConfig, received_at: float
) -> Decoded:
    """Decode one SensorThings Observation, or a collection page of them."""
    document = parse_json_document(payload)
    collector = _Collector(feed.name, received_at)
    context = _topic_context(topic)
    if isinstance(document, dict) and isinstance(document.get("value"), list):
        members = document["value"]
    elif isinstance(document, list):
        members = document
    elif isinstance(document, dict):
        if not collector.member(document, context):
            raise DecodeError("not a SensorThings Observation: no 'result' or 'phenomenonTime'")
        members = []
    else:
        raise DecodeError(f"expected an Observation or a collection, got {type(document).__name__}")
    check_count(len(members), "collection members")
    for member in members:
        collector.member(member, context)
    return Decoded(
        readings=collector.readings,
        entities=list(collector.entities.values()),
    )
