"""NGSI v2 and NGSI-LD: entities, notifications, units, times, locations and Alerts."""

from __future__ import annotations

import json

import pytest

from services.decoders import Decoded, DecodeError
from services.decoders.ngsi import decode_ngsi_ld, decode_ngsi_v2, unit_text
from services.model import Severity
from tests.helpers.decoders import RECEIVED_AT, fixture, make_feed, readings_by_key
from tests.helpers.paths import SHARED_INTEROP

T_0740 = RECEIVED_AT - 20 * 60
T_0750 = RECEIVED_AT - 10 * 60
T_0755 = RECEIVED_AT - 5 * 60


def v2(payload: bytes, received_at: float = RECEIVED_AT) -> Decoded:
    return decode_ngsi_v2(payload, "fiware/notify", make_feed("ngsi-v2"), received_at)


def ld(payload: bytes, received_at: float = RECEIVED_AT) -> Decoded:
    return decode_ngsi_ld(payload, "fiware/notify", make_feed("ngsi-ld"), received_at)


def test_v2_normalized_entity() -> None:
    result = v2(fixture("ngsi/v2-normalized-air.json"))
    entity_id = "AirQualityObserved-Yiyang-Heshan-01"
    [entity] = result.entities
    assert (entity.id, entity.type, entity.name) == (
        entity_id,
        "AirQualityObserved",
        "赫山区 空气站 01",
    )
    assert (entity.lat, entity.lon) == (28.5704, 112.3721)
    readings = readings_by_key(result)
    assert set(readings) == {
        (entity_id, "pm25"),
        (entity_id, "pm10"),
        (entity_id, "temperature"),
        (entity_id, "noiseIndex"),
    }
    pm25 = readings[entity_id, "pm25"]
    assert (pm25.value, pm25.unit, pm25.ts, pm25.feed) == (81.5, "µg/m³", T_0755, "city")
    pm10 = readings[entity_id, "pm10"]
    assert (pm10.value, pm10.ts) == (120.0, T_0750)  # its own metadata.TimeInstant
    assert readings[entity_id, "temperature"].unit == "°C"
    assert readings[entity_id, "noiseIndex"].unit == "XYZ"  # unknown codes stay as they are
    assert result.alarms == []


def test_v2_key_values_array_with_area_locations() -> None:
    result = v2(fixture("ngsi/v2-keyvalues-parking.json"))
    station, hospital = result.entities
    assert station.id == "OffStreetParking-Yiyang-Station"
    assert station.name == "益阳站停车场"
    # Polygon: mean of the four distinct corners (the closing vertex counts once)
    assert station.lat == pytest.approx(28.592)
    assert station.lon == pytest.approx(112.352)
    assert hospital.lat == pytest.approx(28.562)
    assert hospital.lon == pytest.approx(112.302)
    readings = readings_by_key(result)
    assert {metric for (_, metric) in readings} == {
        "availableSpotNumber",
        "totalSpotNumber",
        "occupancy",
    }
    spots = readings["OffStreetParking-Yiyang-Station", "availableSpotNumber"]
    assert (spots.value, spots.ts) == (37.0, RECEIVED_AT - 90)  # dateModified 07:58:30Z
    other = readings["OffStreetParking-Yiyang-Hospital", "availableSpotNumber"]
    assert other.ts == RECEIVED_AT - 8 * 3600 - 3 * 60  # TimeInstant 07:57+08:00


def test_v2_notification_and_geo_point() -> None:
    result = v2(fixture("ngsi/v2-notification-water.json"))
    first, second = result.entities
    assert (first.id, first.lat, first.lon) == ("WaterQualityObserved-Zishui-01", 28.6012, 112.3288)
    assert (second.lat, second.lon) == (None, None)
    readings = readings_by_key(result)
    assert readings["WaterQualityObserved-Zishui-01", "pH"].value == 7.2
    assert readings["WaterQualityObserved-Zishui-01", "pH"].ts == RECEIVED_AT - 15 * 60
    assert readings["WaterQualityObserved-Zishui-01", "temperature"].unit == "°C"
    assert readings["WaterQualityObserved-Zishui-02", "pH"].ts == RECEIVED_AT - 14 * 60
    assert len(readings) == 4


def test_ld_normalized_entity_observed_at_per_property() -> None:
    result = ld(fixture("ngsi/ld-normalized-weather.jsonld"))
    entity_id = "urn:ngsi-ld:WeatherObserved:Yiyang-Ziyang-03"
    [entity] = result.entities
    assert (entity.id, entity.type, entity.name) == (
        entity_id,
        "WeatherObserved",
        "资阳区 气象站 03",
    )
    assert (entity.lat, entity.lon) == (28.6127, 112.3102)  # a 3-D point: altitude ignored
    readings = readings_by_key(result)
    assert set(readings) == {
        (entity_id, "temperature"),
        (entity_id, "relativeHumidity"),
        (entity_id, "atmosphericPressure"),
        (entity_id, "windSpeed"),
    }
    temperature = readings[entity_id, "temperature"]
    assert (temperature.value, temperature.unit, temperature.ts) == (8.6, "°C", T_0755 - 180)
    assert readings[entity_id, "relativeHumidity"].ts == T_0755 - 120
    assert readings[entity_id, "relativeHumidity"].unit == "%"
    pressure = readings[entity_id, "atmosphericPressure"]
    # no observedAt of its own: the entity's dateObserved ({"@value": ...}) applies
    assert (pressure.value, pressure.unit, pressure.ts) == (1021.4, "hPa", T_0750)
    assert readings[entity_id, "windSpeed"].unit == "m/s"


def test_ld_notification_multi_attribute_uri_names_and_concise_form() -> None:
    result = ld(fixture("ngsi/ld-notification-noise.jsonld"))
    square, light = result.entities
    assert square.id == "urn:ngsi-ld:NoiseLevelObserved:Heshan-Square"
    assert square.lat == pytest.approx(28.565)
    assert square.lon == pytest.approx(112.375)
    assert (light.id, light.type, light.lat, light.lon) == (
        "urn:ngsi-ld:Streetlight:Heshan-0042",
        "Streetlight",
        28.5531,
        112.3655,
    )
    readings = readings_by_key(result)
    laeq = readings[square.id, "LAeq"]
    assert (laeq.value, laeq.unit, laeq.ts) == (64.5, "dB", T_0755)  # default instance
    assert readings[square.id, "LAS"].value == 60.2  # full URI name shortened
    assert readings[square.id, "LAmax"].value == 82.1
    level = readings[light.id, "illuminanceLevel"]
    assert (level.value, level.ts) == (0.8, RECEIVED_AT - 120)
    assert (light.id, "powerState") not in readings


def test_v2_alert_becomes_external_alarm_and_location() -> None:
    result = v2(fixture("ngsi/v2-alert.json"))
    [alarm] = result.alarms
    assert alarm.source_id == "Alert-Yiyang-Flood-2026-11-21-001"
    assert alarm.entity_id == "WaterLevelObserved-Zishui-Bridge"
    assert (alarm.event, alarm.severity) == ("flood", Severity.HIGH)
    assert (alarm.sent_at, alarm.expires_at) == (T_0740, T_0740 + 12 * 3600)
    assert alarm.message == "资江水位超过警戒线 0.6 m"
    assert alarm.area is None  # a point places the Alert entity; only lines and areas draw
    assert not alarm.cancel
    [entity] = result.entities
    assert (entity.id, entity.type, entity.lat, entity.lon) == (
        "Alert-Yiyang-Flood-2026-11-21-001",
        "Alert",
        28.5912,
        112.3395,
    )
    assert result.readings == []


def test_alert_with_url_source_stays_on_the_alert() -> None:
    result = v2(fixture("ngsi/v2-alert-keyvalues-url-source.json"))
    [alarm] = result.alarms
    assert alarm.entity_id == alarm.source_id == "Alert-Yiyang-Traffic-88"
    assert (alarm.event, alarm.severity) == ("traffic", Severity.LOW)
    assert alarm.sent_at == RECEIVED_AT - 2 * 3600
    assert alarm.expires_at is None
    assert result.entities == []


def test_ld_alert_with_relationship_source() -> None:
    result = ld(fixture("ngsi/ld-alert.jsonld"))
    [alarm] = result.alarms
    assert alarm.entity_id == "urn:ngsi-ld:Device:SmokeDetector-B2-17"
    assert (alarm.event, alarm.severity) == ("fire", Severity.CRITICAL)
    assert alarm.sent_at == RECEIVED_AT - 108
    assert alarm.message == "Smoke detected in the underground car park"
    assert (result.entities[0].lat, result.entities[0].lon) == (28.5837, 112.3551)


def test_alert_area_is_a_clean_feature_collection() -> None:
    ring = [[112.30, 28.55, 5], [112.32, 28.55], [112.32, 28.57], [112.30, 28.55]]
    payload = {
        "id": "urn:ngsi-ld:Alert:flood-zone-2",
        "type": "Alert",
        "category": {"type": "Property", "value": "weather"},
        "location": {"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": [ring]}},
    }
    result = ld(json.dumps(payload).encode())
    [alarm] = result.alarms
    assert alarm.area == {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[112.3, 28.55], [112.32, 28.55], [112.32, 28.57], [112.3, 28.55]]
                    ],
                },
                "properties": {"areaDesc": "weather"},
            }
        ],
    }
    [entity] = result.entities
    assert entity.lat == pytest.approx((28.55 + 28.55 + 28.57) / 3)
    assert entity.lon == pytest.approx((112.30 + 112.32 + 112.32) / 3)


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("informational", Severity.LOW),
        ("low", Severity.LOW),
        ("medium", Severity.MEDIUM),
        ("High", Severity.HIGH),
        ("critical", Severity.CRITICAL),
        ("apocalyptic", Severity.MEDIUM),
    ],
)
def test_alert_severities(text: str, severity: Severity) -> None:
    payload = {"id": "a1", "type": "Alert", "category": "health", "severity": text}
    [alarm] = v2(json.dumps(payload).encode()).alarms
    assert alarm.severity is severity
    assert alarm.sent_at == RECEIVED_AT


def test_time_intervals_and_fallbacks() -> None:
    payload = {"id": "e", "type": "T", "dateObserved": "2026-11-21T07:00:00Z/2026-11-21T07:30:00Z"}
    payload["x"] = 1
    assert v2(json.dumps(payload).encode()).readings[0].ts == RECEIVED_AT - 30 * 60
    bare = v2(b'{"id": "e", "type": "T", "x": 2}')
    assert bare.readings[0].ts == RECEIVED_AT


def test_unit_codes() -> None:
    assert unit_text("GQ") == "µg/m³"
    assert unit_text("KMH") == "km/h"
    assert unit_text("E01") == "E01"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"17", "expected an NGSI entity"),
        (b'{"type": "T", "x": 1}', "'id' must be non-empty text"),
        (b'[{"id": "a", "type": "T"}, 5]', "entity 1 is int"),
        (b'{"id": "a", "x": {"value": 1, "observedAt": "2026-11-23T08:00:00Z"}}', "in the future"),
        (b'{"id": "a", "dateObserved": "soon", "x": 1}', "attribute 'dateObserved'"),
        (b'{"id": "a", "location": {"type": "Point", "coordinates": [200, 10]}}', "out of range"),
        (b'{"id": "a", "location": {"type": "Point", "coordinates": "x"}}', "location"),
        (b'{"id": "a", "location": {"type": "geo:point", "value": "north"}}', "geo:point"),
        (b'{"id": "a", "x": NaN}', "non-finite"),
        (b'{"id": "a", "x": ' + b"[" * 40 + b"]" * 40 + b"}", "nested deeper"),
        (b'{"id": "' + b"i" * 300 + b'"}', "longer than 256"),
        (b"\xfe\xff", "UTF-8"),
    ],
)
def test_refusals(payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        v2(payload)
    with pytest.raises(DecodeError, match=reason):
        ld(payload)


def compact(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def test_size_limits() -> None:
    many_entities = compact([{"id": f"e{i}", "type": "T"} for i in range(10_001)])
    with pytest.raises(DecodeError, match="more than 10000 entities"):
        v2(many_entities)
    many_readings = compact({"id": "e", **{f"m{i}": i for i in range(10_001)}})
    with pytest.raises(DecodeError, match="more than 10000 readings"):
        ld(many_readings)
    exactly = compact({"id": "e", **{f"m{i}": i for i in range(10_000)}})
    assert len(ld(exactly).readings) == 10_000


def test_non_numbers_are_skipped_not_refused() -> None:
    payload = {
        "id": "e",
        "type": "T",
        "on": True,
        "label": "x",
        "nested": {"a": {"b": 1}},
        "list": [1, 2],
        "when": {"type": "DateTime", "value": 5},
        "rel": {"type": "Relationship", "object": "urn:x"},
        "unknown": {"type": "Polygon", "coordinates": []},
        "kept": {"type": "Number", "value": 3},
    }
    result = v2(json.dumps(payload).encode())
    assert [(r.metric, r.value) for r in result.readings] == [("kept", 3.0)]


# --- externally written samples (FIWARE smart data models), when present -------------------

INTEROP = SHARED_INTEROP / "ngsi"
needs_interop = pytest.mark.skipif(not INTEROP.is_dir(), reason="no ../shared/interop/ngsi")
MADRID_TS = 1_458_039_600.0  # 2016-03-15T11:00:00 (no zone: UTC)
MADRID = (40.423852777777775, -3.712247222222222)


@needs_interop
def test_interop_air_quality_v2_key_values() -> None:
    result = v2((INTEROP / "AirQualityObserved-example.json").read_bytes())
    entity_id = "Madrid-AmbientObserved-28079004-2016-03-15T11:00:00"
    [entity] = result.entities
    assert (entity.id, entity.type) == (entity_id, "AirQualityObserved")
    assert (entity.lat, entity.lon) == MADRID
    readings = readings_by_key(result)
    assert readings[entity_id, "co"].value == 500.0
    assert readings[entity_id, "co2"].value == 69.0
    assert readings[entity_id, "windDirection"].value == 176.0
    assert readings[entity_id, "precipitation"].value == 0.0
    assert readings[entity_id, "tsp"].value == 73.3
    assert all(r.ts == MADRID_TS for r in result.readings)
    assert (entity_id, "areaServed") not in readings
    assert (entity_id, "address") not in readings


@needs_interop
def test_interop_air_quality_v2_normalized() -> None:
    result = v2((INTEROP / "AirQualityObserved-example-normalized.json").read_bytes())
    entity_id = "Madrid-AmbientObserved-28079004-2016-03-15T11:00:00"
    readings = readings_by_key(result)
    assert (readings[entity_id, "co"].value, readings[entity_id, "co"].unit) == (500.0, "mg/m³")
    assert (readings[entity_id, "no2"].value, readings[entity_id, "no2"].unit) == (69.0, "µg/m³")
    assert readings[entity_id, "temperature"].unit == ""
    assert (entity_id, "precipitation") not in readings  # a Boolean
    assert readings[entity_id, "windDirection"].ts == MADRID_TS
    assert (result.entities[0].lat, result.entities[0].lon) == MADRID


@needs_interop
def test_interop_air_quality_ld_normalized() -> None:
    result = ld((INTEROP / "AirQualityObserved-example-normalized.jsonld").read_bytes())
    entity_id = "urn:ngsi-ld:AirQualityObserved:Madrid-AmbientObserved-28079004-2016-03-15T11:00:00"
    readings = readings_by_key(result)
    assert readings[entity_id, "windDirection"].value == 186.0
    assert readings[entity_id, "so2"].unit == "µg/m³"
    assert readings[entity_id, "precipitation"].value == 0.0
    assert (entity_id, "refPointOfInterest") not in readings
    assert readings[entity_id, "charge"].ts == MADRID_TS
    assert (result.entities[0].lat, result.entities[0].lon) == MADRID


@needs_interop
def test_interop_traffic_flow_v2_line_and_interval() -> None:
    result = v2((INTEROP / "TrafficFlowObserved-example.json").read_bytes())
    entity_id = "TrafficFlowObserved-Valladolid-osm-60821110"
    [entity] = result.entities
    assert entity.lat == pytest.approx((41.6538181849672 + 41.6600594193478 + 41.659585195093) / 3)
    assert entity.lon == pytest.approx(
        (-4.73735395519672 - 4.73414858659993 - 4.73447575302641) / 3
    )
    readings = readings_by_key(result)
    intensity = readings[entity_id, "intensity"]
    assert (intensity.value, intensity.ts) == (197.0, 1_481_109_300.0)  # end of the interval
    assert readings[entity_id, "occupancy"].value == 0.76
    assert (entity_id, "reversedLane") not in readings


@needs_interop
def test_interop_traffic_flow_ld() -> None:
    result = ld((INTEROP / "TrafficFlowObserved-example-normalized.jsonld").read_bytes())
    entity_id = "urn:ngsi-ld:TrafficFlowObserved:TrafficFlowObserved-Valladolid-osm-60821110"
    readings = readings_by_key(result)
    speed = readings[entity_id, "averageVehicleSpeed"]
    assert (speed.value, speed.ts) == (52.6, 1_481_109_000.0)  # dateObserved {"@value": ...}
    assert readings[entity_id, "averageVehicleLength"].value == 9.87
    assert result.entities[0].lat == pytest.approx(41.6578209, abs=1e-6)
