"""The ``cap`` decoder: CAP 1.1/1.2 alerts, Atom/RSS wrappers, areas, and hostile XML."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.alarms.store import AlarmStore
from services.config import FeedConfig
from services.decoders.base import Decoded, DecodeError, ExternalAlarm
from services.decoders.cap import decode_cap
from services.limits import MAX_PAYLOAD_BYTES
from services.model import AlarmState, Severity
from tests.helpers.paths import SHARED_INTEROP

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cap"
INTEROP = SHARED_INTEROP / "cap"
CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11 = "urn:oasis:names:tc:emergency:cap:1.1"
MET_SENDER = "warning@yiyang-met.example.cn"
RAIN_ENTITY = f"cap:{MET_SENDER}/GB2260=430902"
FEED = FeedConfig(name="warnings", topic="yiyang/cap/#", format="cap")


def decode(payload: bytes) -> Decoded:
    return decode_cap(payload, "yiyang/cap/met", FEED, 1.0)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def only_alarm(result: Decoded) -> ExternalAlarm:
    assert len(result.alarms) == 1
    return result.alarms[0]


def alert_xml(
    *,
    namespace: str = CAP12,
    identifier: str = "T-1",
    status: str = "Actual",
    msg_type: str = "Alert",
    infos: str = "",
    extra: str = "",
) -> bytes:
    """A small alert document built from parts."""
    return (
        f'<alert xmlns="{namespace}"><identifier>{identifier}</identifier>'
        f"<sender>s@example.cn</sender><sent>2026-11-21T08:00:00+08:00</sent>"
        f"<status>{status}</status><msgType>{msg_type}</msgType><scope>Public</scope>"
        f"{extra}{infos}</alert>"
    ).encode()


def info_xml(language: str | None, event: str, severity: str = "Moderate", area: str = "") -> str:
    language_part = f"<language>{language}</language>" if language is not None else ""
    return (
        f"<info>{language_part}<category>Met</category><event>{event}</event>"
        f"<urgency>Expected</urgency><severity>{severity}</severity>"
        f"<certainty>Likely</certainty><headline>{event} headline</headline>{area}</info>"
    )


# --- the project's own fixtures ---------------------------------------------------------


def test_rainstorm_alert_prefers_english_and_keeps_the_chinese_headline() -> None:
    result = decode(fixture("yiyang-rainstorm-alert.xml"))
    alarm = only_alarm(result)
    assert alarm.source_id == "YY-MET-20261121-0001"
    assert alarm.entity_id == RAIN_ENTITY
    assert alarm.event == "Rainstorm"
    assert alarm.severity is Severity.HIGH
    assert alarm.sent_at == 1_795_219_200.0  # 2026-11-21T08:00:00+08:00
    assert alarm.expires_at == 1_795_219_200.0 + 12 * 3600
    assert alarm.cancel is False
    assert alarm.references == ()
    assert alarm.message.startswith(
        "Rainstorm orange warning for central Yiyang — More than 100 mm of rain is expected "
        "in the central city within the next 6 hours."
    )
    assert alarm.message.endswith(" | [zh-CN] 益阳市气象台发布暴雨橙色预警信号")
    assert "\n" not in alarm.message


def test_polygon_becomes_geojson_in_lon_lat_order_and_entity_sits_at_its_centroid() -> None:
    result = decode(fixture("yiyang-rainstorm-alert.xml"))
    area = only_alarm(result).area
    assert area is not None
    assert area["type"] == "FeatureCollection"
    features = area["features"]
    assert isinstance(features, list) and len(features) == 1
    feature = features[0]
    assert feature["geometry"] == {
        "type": "Polygon",
        "coordinates": [
            [[112.30, 28.62], [112.42, 28.62], [112.42, 28.52], [112.30, 28.52], [112.30, 28.62]]
        ],
    }
    assert feature["properties"] == {
        "areaDesc": "Yiyang city centre (Ziyang and Heshan districts)",
        "geocodes": [["GB2260", "430902"], ["GB2260", "430903"]],
    }
    [entity] = result.entities
    assert entity.id == RAIN_ENTITY
    assert entity.name == "Yiyang city centre (Ziyang and Heshan districts)"
    assert entity.type == "alert_area"
    assert entity.lat == pytest.approx(28.57)
    assert entity.lon == pytest.approx(112.36)


def test_update_references_the_alert_and_escalates_the_same_source() -> None:
    alarm = only_alarm(decode(fixture("yiyang-rainstorm-update.xml")))
    assert alarm.source_id == "YY-MET-20261121-0002"
    assert alarm.references == ("YY-MET-20261121-0001",)
    assert alarm.cancel is False
    assert alarm.entity_id == RAIN_ENTITY
    assert alarm.event == "Rainstorm"
    assert alarm.severity is Severity.CRITICAL
    assert alarm.expires_at == epoch("2026-11-22T02:00:00+08:00")
    assert alarm.message.startswith("Rainstorm red warning for central Yiyang — ")
    assert "[zh-CN] 益阳市气象台将暴雨橙色预警信号升级为红色" in alarm.message


def test_cancel_names_both_earlier_alerts_and_moves_no_entity() -> None:
    result = decode(fixture("yiyang-rainstorm-cancel.xml"))
    alarm = only_alarm(result)
    assert alarm.cancel is True
    assert alarm.source_id == "YY-MET-20261122-0003"
    assert alarm.references == ("YY-MET-20261121-0001", "YY-MET-20261121-0002")
    assert alarm.entity_id == RAIN_ENTITY
    assert alarm.event == "Rainstorm"
    assert alarm.area is None
    assert result.entities == []
    assert alarm.message.startswith("Rainstorm red warning for central Yiyang lifted")


def test_alert_update_cancel_drive_a_real_alarm_store() -> None:
    store = AlarmStore([])
    first = store.apply_external(decode(fixture("yiyang-rainstorm-alert.xml")).alarms)
    assert [(a.entity_id, a.metric, a.severity, a.state) for a in first] == [
        (RAIN_ENTITY, "Rainstorm", Severity.HIGH, AlarmState.UNACKNOWLEDGED)
    ]
    updated = store.apply_external(decode(fixture("yiyang-rainstorm-update.xml")).alarms)
    assert [(a.id, a.severity, a.state) for a in updated] == [
        (first[0].id, Severity.CRITICAL, AlarmState.UNACKNOWLEDGED)
    ]
    cancelled = store.apply_external(decode(fixture("yiyang-rainstorm-cancel.xml")).alarms)
    assert [(a.id, a.state) for a in cancelled] == [(first[0].id, AlarmState.RTN_UNACKNOWLEDGED)]
    assert store.worst_active_severity(RAIN_ENTITY) is None


def test_cap11_circles_worst_severity_and_earliest_expiry() -> None:
    result = decode(fixture("yiyang-chemical-circle.xml"))
    alarm = only_alarm(result)
    assert alarm.source_id == "YY-EMG-20261105-017"
    assert alarm.entity_id == "cap:emergency@yiyang.example.cn/" + (
        "Longling industrial park, 1.5 km around the leak"
    )
    assert alarm.event == "Chemical leak"
    assert alarm.severity is Severity.CRITICAL  # Extreme in one block, Moderate in the other
    assert alarm.expires_at == epoch("2026-11-05T10:30:00+08:00")
    assert alarm.message.startswith("Ammonia leak at Longling industrial park")
    assert alarm.message.endswith(" | [en-US] Ammonia leak: stay indoors within 5 km")
    assert alarm.area is not None
    features = alarm.area["features"]
    assert isinstance(features, list)
    assert [(f["geometry"], f["properties"]["radius_km"]) for f in features] == [
        ({"type": "Point", "coordinates": [112.3312, 28.5931]}, 1.5)
    ]
    [entity] = result.entities
    assert (entity.lat, entity.lon) == (28.5931, 112.3312)


def test_ack_and_error_messages_are_ignored_without_error() -> None:
    assert decode(fixture("yiyang-ack.xml")) == Decoded()
    error = fixture("yiyang-rainstorm-alert.xml").replace(
        b"<msgType>Alert</msgType>", b"<msgType>Error</msgType>"
    )
    assert decode(error) == Decoded()


@pytest.mark.parametrize(
    ("status", "prefix"),
    [
        ("Exercise", "[EXERCISE] "),
        ("Test", "[TEST] "),
        ("Draft", "[DRAFT] "),
        ("System", "[SYSTEM] "),
    ],
)
def test_non_actual_status_is_kept_marked_and_low(status: str, prefix: str) -> None:
    payload = fixture("yiyang-rainstorm-update.xml").replace(
        b"<status>Actual</status>", f"<status>{status}</status>".encode()
    )
    alarm = only_alarm(decode(payload))
    assert alarm.message.startswith(prefix + "Rainstorm red warning")
    assert alarm.severity is Severity.LOW
    assert alarm.references == ("YY-MET-20261121-0001",)


def test_atom_feed_alerts_in_both_namespaces_and_link_only_entry_ignored() -> None:
    result = decode(fixture("yiyang-feed-atom.xml"))
    assert [(a.source_id, a.event, a.severity) for a in result.alarms] == [
        ("YY-MET-20261121-0004", "Thunderstorm and gale", Severity.MEDIUM),
        ("YY-WTR-20261121-0002", "洪水", Severity.LOW),
    ]
    assert result.alarms[0].expires_at == epoch("2026-11-21T15:00:00+08:00")
    assert result.alarms[1].expires_at is None
    assert [e.id for e in result.entities] == [
        f"cap:{MET_SENDER}/Heshan district",
        "cap:hydrology@yiyang.example.cn/资江益阳段",
    ]
    assert result.entities[0].lat == pytest.approx(28.55)
    assert result.entities[0].lon == pytest.approx(112.41)
    assert (result.entities[1].lat, result.entities[1].lon) == (28.584, 112.333)


def test_rss_feed_keeps_the_test_alert_and_skips_ack_and_links() -> None:
    result = decode(fixture("yiyang-feed-rss.xml"))
    alarm = only_alarm(result)
    assert alarm.source_id == "YY-EMG-TEST-20261201"
    assert alarm.event == "防空警报试鸣"
    assert alarm.severity is Severity.LOW  # Extreme, but only a test
    assert alarm.message == "[TEST] 益阳市防空警报试鸣"
    assert [e.id for e in result.entities] == ["cap:emergency@yiyang.example.cn/益阳市"]


def test_empty_feeds_decode_to_nothing() -> None:
    atom = b'<feed xmlns="http://www.w3.org/2005/Atom"><title>none</title></feed>'
    assert decode(atom) == Decoded()
    assert decode(b'<rss version="2.0"><channel><title>x</title></channel></rss>') == Decoded()


def test_feed_skips_an_unreadable_alert_but_refuses_when_all_are(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = alert_xml(identifier="OK-1", infos=info_xml("en", "Fog")).decode()
    bad = alert_xml(identifier="BAD-1", status="Real").decode()
    mixed = f'<rss version="2.0"><channel><item>{bad}</item><item>{good}</item></channel></rss>'
    assert [a.source_id for a in decode(mixed.encode()).alarms] == ["OK-1"]
    many_bad = "".join(f"<item>{bad}</item>" for _ in range(50))
    caplog.clear()
    feed = f'<rss version="2.0"><channel>{many_bad}<item>{good}</item></channel></rss>'
    assert [a.source_id for a in decode(feed.encode()).alarms] == ["OK-1"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "50 of 51 alerts skipped" in warnings[0]  # not one each
    only_bad = f'<rss version="2.0"><channel><item>{bad}</item></channel></rss>'
    with pytest.raises(DecodeError, match=r"no readable alert among 1: <status> must be"):
        decode(only_bad.encode())


# --- language preference ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("languages", "expected_event"),
    [
        (["fr-FR", "zh-CN", "en-GB"], "event-en-GB"),
        (["fr-FR", "zh-CN", "zh-TW"], "event-zh-CN"),
        (["fr-FR", "de-DE"], "event-fr-FR"),
        (["zh-CN", None], "event-None"),  # no language means en-US
    ],
)
def test_preferred_info_is_english_then_chinese_then_first(
    languages: list[str | None], expected_event: str
) -> None:
    infos = "".join(info_xml(language, f"event-{language}") for language in languages)
    alarm = only_alarm(decode(alert_xml(infos=infos)))
    assert alarm.event == expected_event
    others = [f"event-{language}" for language in languages if f"event-{language}" != alarm.event]
    for other in others:
        assert f"{other} headline" in alarm.message


def test_alert_without_info_uses_the_note() -> None:
    payload = alert_xml(
        msg_type="Cancel",
        extra="<note>withdrawn</note><references>s@example.cn,T-0,2026-11-21T07:00:00Z</references>",
    )
    alarm = only_alarm(decode(payload))
    assert (alarm.cancel, alarm.references, alarm.message) == (True, ("T-0",), "withdrawn")
    assert alarm.entity_id == "cap:s@example.cn"
    assert alarm.severity is Severity.MEDIUM


def test_severity_mapping_and_unknown() -> None:
    expected = {
        "Extreme": Severity.CRITICAL,
        "Severe": Severity.HIGH,
        "Moderate": Severity.MEDIUM,
        "Minor": Severity.LOW,
        "Unknown": Severity.MEDIUM,
        "Whatever": Severity.MEDIUM,
    }
    for text, severity in expected.items():
        alarm = only_alarm(decode(alert_xml(infos=info_xml("en", "X", severity=text))))
        assert alarm.severity is severity, text


def test_unclosed_polygon_is_closed_and_long_area_ids_are_shortened() -> None:
    long_desc = "Very long area description " * 8
    area = (
        f"<area><areaDesc>{long_desc}</areaDesc>"
        "<polygon>28.0,112.0 28.0,113.0 29.0,113.0</polygon></area>"
    )
    result = decode(alert_xml(infos=info_xml("en", "X", area=area)))
    alarm = only_alarm(result)
    assert alarm.area is not None
    features = alarm.area["features"]
    assert isinstance(features, list)
    ring = features[0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] == [112.0, 28.0] and len(ring) == 4
    assert len(alarm.entity_id) <= 128
    assert alarm.entity_id.startswith("cap:s@example.cn/Very long area description")
    assert result.entities[0].lat == pytest.approx(28 + 1 / 3)
    assert result.entities[0].lon == pytest.approx(112 + 2 / 3)


# --- refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize("element", ["identifier", "sender", "sent", "status", "msgType"])
def test_missing_required_element_is_named(element: str) -> None:
    text = fixture("yiyang-rainstorm-alert.xml").decode()
    start = text.index(f"<{element}>")
    end = text.index(f"</{element}>") + len(f"</{element}>")
    with pytest.raises(DecodeError, match=f"alert has no <{element}>"):
        decode((text[:start] + text[end:]).encode())


def _with_area(area: str) -> bytes:
    return alert_xml(infos=info_xml("en", "X", area=f"<area><areaDesc>a</areaDesc>{area}</area>"))


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (alert_xml(status="Real"), r"<status> must be Actual"),
        (alert_xml(msg_type="Notify"), r"<msgType> must be Alert"),
        (alert_xml().replace(b"2026-11-21T08:00:00+08:00", b"yesterday"), r"<sent>"),
        (
            alert_xml(
                infos=info_xml("en", "X").replace("</info>", "<expires>soon</expires></info>")
            ),
            r"<expires>",
        ),
        (alert_xml(extra="<references>a,b</references>"), r"<references>: expected"),
        (_with_area("<polygon>28.6,112.3 28.6,nan 28.5,112.4 28.6,112.3</polygon>"), "finite"),
        (_with_area("<polygon>91,112.3 28.6,112.4 28.5,112.4 91,112.3</polygon>"), "out of range"),
        (_with_area("<polygon>28.6,112.3 28.6,112.4 28.6,112.3</polygon>"), "three distinct"),
        (_with_area("<polygon>28.6;112.3 28.6,112.4 28.5,112.4</polygon>"), "'lat,lon'"),
        (_with_area("<circle>28.6,112.3</circle>"), "radius_km"),
        (_with_area("<circle>28.6,112.3 -1</circle>"), "negative radius"),
        (_with_area("<circle>28.6,112.3 far</circle>"), "not a number"),
        (alert_xml(namespace="http://www.incident.com/cap/1.0"), "CAP 1.1 or 1.2 namespace"),
        (b"<alert><identifier>x</identifier></alert>", "CAP 1.1 or 1.2 namespace"),
        (b'<rss version="2.0"><item/></rss>', "no <channel>"),
        (b"<html><body>hello</body></html>", "expected a CAP <alert>, an Atom <feed>"),
        (b'<feed xmlns="http://example.com/not-atom"/>', "expected a CAP <alert>"),
    ],
)
def test_unreadable_alerts_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode(payload)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier>
<sender>s</sender><sent>2026-11-21T08:00:00Z</sent><status>Actual</status>
<msgType>Alert</msgType></alert>
"""

EXTERNAL_DTD = b'<!DOCTYPE alert SYSTEM "http://example.invalid/cap.dtd">' + alert_xml(
    infos=info_xml("en", "X")
)
PARAMETER_ENTITY = (
    b'<!DOCTYPE alert [<!ENTITY % remote SYSTEM "http://example.invalid/x.dtd"> %remote;]>'
    + alert_xml()
)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (BILLION_LAUGHS, "document type declaration"),
        (EXTERNAL_ENTITY, "document type declaration"),
        (EXTERNAL_DTD, "document type declaration"),
        (PARAMETER_ENTITY, "document type declaration"),
        (b"<a>" * 1_000 + b"</a>" * 1_000, "nested deeper than 32"),
        (
            b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
            + b"<x/>" * 60_000
            + b"</alert>",
            "more than 50000 elements",
        ),
        (alert_xml(infos="<info/>" * 5_001), r"more than 5000 <info>/<area>"),
        (b" " * (MAX_PAYLOAD_BYTES + 1), "exceeds 256 KiB"),
        (b"this is not XML", "not well-formed XML"),
        (b"", "not well-formed XML: no element found"),
        (b'{"id": "json"}', "not well-formed XML"),
        (b"<alert>&undefined;</alert>", "undefined entity"),
        (b"<cap:alert/>", "unbound prefix"),
        (b"\xff\xfe\x00\x00garbage", "not well-formed XML"),
        (b'<?xml version="1.0" encoding="no-such-codec"?><alert/>', "unreadable XML encoding"),
    ],
)
def test_hostile_or_broken_xml_is_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode(payload)


def test_refused_entity_is_never_expanded_into_the_reason() -> None:
    with pytest.raises(DecodeError) as caught:
        decode(EXTERNAL_ENTITY)
    assert "root:" not in str(caught.value)
    assert "lol" not in str(caught.value)


# --- robustness -------------------------------------------------------------------------

VALID = fixture("yiyang-rainstorm-update.xml")
FIELDS = [
    "identifier",
    "sender",
    "sent",
    "status",
    "msgType",
    "references",
    "event",
    "severity",
    "expires",
    "headline",
    "language",
    "areaDesc",
    "polygon",
    "valueName",
    "value",
]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_only_ever_raise_decode_error(payload: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode(payload)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["replace", "insert", "delete"]),
            st.integers(min_value=0, max_value=len(VALID) - 1),
            st.binary(min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_byte_mutations_of_a_valid_alert_only_raise_decode_error(
    mutations: list[tuple[str, int, bytes]],
) -> None:
    payload = bytearray(VALID)
    for operation, position, data in mutations:
        at = min(position, len(payload))
        if operation == "replace":
            payload[at : at + len(data)] = data
        elif operation == "insert":
            payload[at:at] = data
        else:
            del payload[at : at + len(data)]
    with contextlib.suppress(DecodeError):
        decode(bytes(payload))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(FIELDS),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=60),
)
def test_random_field_values_decode_or_refuse(element: str, value: str) -> None:
    text = VALID.decode()
    start = text.index(f"<{element}>") + len(f"<{element}>")
    end = text.index(f"</{element}>", start)
    payload = (text[:start] + escape(value) + text[end:]).encode()
    try:
        result = decode(payload)
    except DecodeError:
        return
    for alarm in result.alarms:
        assert alarm.sent_at == alarm.sent_at  # never NaN
        assert alarm.source_id and alarm.entity_id and len(alarm.entity_id) <= 128


# --- interop: the CAP 1.2 specification's appendix examples -----------------------------


def interop(name: str) -> Decoded:
    path = INTEROP / name
    if not path.is_file():
        pytest.skip(f"shared interop sample {path} not present")
    return decode(path.read_bytes())


def test_interop_a1_homeland_security_advisory() -> None:
    result = interop("cap12-appendix-a1.xml")
    alarm = only_alarm(result)
    assert alarm.source_id == "43b080713727"
    assert alarm.event == "Homeland Security Advisory System Update"
    assert alarm.severity is Severity.HIGH  # Severe
    assert alarm.sent_at == epoch("2003-04-02T14:39:01-05:00")
    assert (alarm.cancel, alarm.references, alarm.expires_at, alarm.area) == (False, (), None, None)
    assert alarm.message.startswith("Homeland Security Sets Code ORANGE — ")
    assert alarm.entity_id == "cap:hsas@dhs.gov/U.S. nationwide and interests worldwide"
    assert (result.entities[0].lat, result.entities[0].lon) == (None, None)


def test_interop_a2_severe_thunderstorm_polygon() -> None:
    result = interop("cap12-appendix-a2.xml")
    alarm = only_alarm(result)
    assert alarm.source_id == "KSTO1055887203"
    assert alarm.event == "SEVERE THUNDERSTORM"
    assert alarm.severity is Severity.HIGH
    assert alarm.expires_at == epoch("2003-06-17T16:00:00-07:00")
    assert alarm.entity_id == "cap:KSTO@NWS.NOAA.GOV/SAME=006109"
    assert alarm.area is not None
    features = alarm.area["features"]
    assert isinstance(features, list)
    ring = features[0]["geometry"]["coordinates"][0]
    assert ring == [
        [-120.14, 38.47],
        [-119.95, 38.34],
        [-119.74, 38.52],
        [-119.89, 38.62],
        [-120.14, 38.47],
    ]
    assert features[0]["properties"]["geocodes"] == [
        ["SAME", "006109"],
        ["SAME", "006009"],
        ["SAME", "006003"],
    ]
    entity = result.entities[0]
    assert entity.lat is not None and 38.34 < entity.lat < 38.62
    assert entity.lon is not None and -120.14 < entity.lon < -119.74


def test_interop_a3_earthquake_update_with_circle() -> None:
    result = interop("cap12-appendix-a3.xml")
    alarm = only_alarm(result)
    assert alarm.source_id == "TRI13970876.2"
    assert alarm.references == ("TRI13970876.1",)
    assert alarm.cancel is False
    assert alarm.event == "Earthquake"
    assert alarm.severity is Severity.LOW  # Minor
    assert alarm.message.startswith("EQ 3.4 Imperial County CA — ")
    assert alarm.area is not None
    features = alarm.area["features"]
    assert isinstance(features, list)
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [-115.5527, 32.9525]}
    assert features[0]["properties"]["radius_km"] == 0.0
    assert (result.entities[0].lat, result.entities[0].lon) == (32.9525, -115.5527)


def test_interop_a4_amber_alert_in_two_languages() -> None:
    result = interop("cap12-appendix-a4.xml")
    alarm = only_alarm(result)
    assert alarm.source_id == "KAR0-0306112239-SW"
    assert alarm.event == "Child Abduction"  # en-US preferred over es-US
    assert alarm.severity is Severity.HIGH
    assert alarm.message.startswith("Amber Alert in Los Angeles County — ")
    assert alarm.message.endswith(" | [es-US] Alerta Amber en el condado de Los Ángeles")
    assert alarm.entity_id == "cap:KARO@CLETS.DOJ.CA.GOV/SAME=006037"
    assert result.entities[0].name == "Los Angeles County"
    assert alarm.area is None
