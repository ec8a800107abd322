"""The words for the model's states in the chosen language: severities, alarm states and
conditions, feed states. Marked with ``QT_TRANSLATE_NOOP`` here, translated when shown."""

from __future__ import annotations

from services.model import AlarmState, Condition, FeedState, Severity
from widgets.i18n import QT_TRANSLATE_NOOP, translate

SEVERITY_TEXT: dict[Severity, str] = {
    Severity.LOW: QT_TRANSLATE_NOOP("Severity", "Low"),
    Severity.MEDIUM: QT_TRANSLATE_NOOP("Severity", "Medium"),
    Severity.HIGH: QT_TRANSLATE_NOOP("Severity", "High"),
    Severity.CRITICAL: QT_TRANSLATE_NOOP("Severity", "Critical"),
}
ALARM_STATE_TEXT: dict[AlarmState, str] = {
    AlarmState.NORMAL: QT_TRANSLATE_NOOP("AlarmState", "Normal"),
    AlarmState.UNACKNOWLEDGED: QT_TRANSLATE_NOOP("AlarmState", "Unacknowledged"),
    AlarmState.ACKNOWLEDGED: QT_TRANSLATE_NOOP("AlarmState", "Acknowledged"),
    AlarmState.RTN_UNACKNOWLEDGED: QT_TRANSLATE_NOOP("AlarmState", "Cleared, unack."),
    AlarmState.SHELVED: QT_TRANSLATE_NOOP("AlarmState", "Shelved"),
    AlarmState.SUPPRESSED: QT_TRANSLATE_NOOP("AlarmState", "Suppressed"),
    AlarmState.OUT_OF_SERVICE: QT_TRANSLATE_NOOP("AlarmState", "Out of service"),
}
CONDITION_TEXT: dict[Condition, str] = {
    Condition.LOW_LOW: QT_TRANSLATE_NOOP("Condition", "Low-low"),
    Condition.LOW: QT_TRANSLATE_NOOP("Condition", "Low"),
    Condition.HIGH: QT_TRANSLATE_NOOP("Condition", "High"),
    Condition.HIGH_HIGH: QT_TRANSLATE_NOOP("Condition", "High-high"),
    Condition.EXTERNAL: QT_TRANSLATE_NOOP("Condition", "External"),
    Condition.NO_DATA: QT_TRANSLATE_NOOP("Condition", "No data"),
    Condition.RATE: QT_TRANSLATE_NOOP("Condition", "Rate of change"),
    Condition.GEOFENCE: QT_TRANSLATE_NOOP("Condition", "Geofence"),
}
FEED_STATE_TEXT: dict[FeedState, str] = {
    FeedState.CONNECTING: QT_TRANSLATE_NOOP("FeedState", "Connecting"),
    FeedState.CONNECTED: QT_TRANSLATE_NOOP("FeedState", "Connected"),
    FeedState.PAUSED: QT_TRANSLATE_NOOP("FeedState", "Paused"),
    FeedState.STALE: QT_TRANSLATE_NOOP("FeedState", "Stale"),
    FeedState.FAILING: QT_TRANSLATE_NOOP("FeedState", "Failing"),
    FeedState.DOWN: QT_TRANSLATE_NOOP("FeedState", "Down"),
}
FEED_STATE_WORD: dict[FeedState, str] = {
    FeedState.CONNECTING: QT_TRANSLATE_NOOP("FeedStateWord", "connecting"),
    FeedState.CONNECTED: QT_TRANSLATE_NOOP("FeedStateWord", "connected"),
    FeedState.PAUSED: QT_TRANSLATE_NOOP("FeedStateWord", "paused"),
    FeedState.STALE: QT_TRANSLATE_NOOP("FeedStateWord", "stale"),
    FeedState.FAILING: QT_TRANSLATE_NOOP("FeedStateWord", "failing"),
    FeedState.DOWN: QT_TRANSLATE_NOOP("FeedStateWord", "down"),
}
"""Feed states as words inside a sentence (lower case in English)."""


def severity_text(severity: Severity) -> str:
    """``High``: an alarm's priority as a word."""
    return translate("Severity", SEVERITY_TEXT.get(severity, severity.label))


def alarm_state_text(state: AlarmState) -> str:
    """``Acknowledged``: an alarm's ISA-18.2 state in words."""
    return translate("AlarmState", ALARM_STATE_TEXT.get(state, str(state)))


def condition_text(condition: Condition) -> str:
    """``High-high``: the band an alarm's value is in."""
    return translate("Condition", CONDITION_TEXT.get(condition, str(condition)))


def feed_state_text(state: FeedState) -> str:
    """``Connected``: a feed's (or broker's) state on its own."""
    return translate("FeedState", FEED_STATE_TEXT.get(state, str(state)))


def feed_state_word(state: FeedState) -> str:
    """``connected``: a feed's (or broker's) state inside a sentence."""
    return translate("FeedStateWord", FEED_STATE_WORD.get(state, str(state)))


DOMAIN_TEXT: dict[str, str] = {
    "traffic": QT_TRANSLATE_NOOP("Domain", "traffic"),
    "environment": QT_TRANSLATE_NOOP("Domain", "environment"),
    "water": QT_TRANSLATE_NOOP("Domain", "water"),
    "energy": QT_TRANSLATE_NOOP("Domain", "energy"),
    "safety": QT_TRANSLATE_NOOP("Domain", "safety"),
    "transport": QT_TRANSLATE_NOOP("Domain", "transport"),
    "health": QT_TRANSLATE_NOOP("Domain", "health"),
    "city": QT_TRANSLATE_NOOP("Domain", "city"),
    "other": QT_TRANSLATE_NOOP("Domain", "other"),
}
"""The domains of the shared vocabulary; another domain is shown as configured."""
ENTITY_TYPE_TEXT: dict[str, str] = {
    "air_quality": QT_TRANSLATE_NOOP("EntityType", "air quality station"),
    "water_quality": QT_TRANSLATE_NOOP("EntityType", "water quality station"),
    "noise": QT_TRANSLATE_NOOP("EntityType", "noise monitor"),
    "river_gauge": QT_TRANSLATE_NOOP("EntityType", "river gauge"),
    "pumping_station": QT_TRANSLATE_NOOP("EntityType", "pumping station"),
    "intersection": QT_TRANSLATE_NOOP("EntityType", "intersection"),
    "traffic_checkpoint": QT_TRANSLATE_NOOP("EntityType", "traffic checkpoint"),
    "epidemic_checkpoint": QT_TRANSLATE_NOOP("EntityType", "epidemic checkpoint"),
    "streetlight": QT_TRANSLATE_NOOP("EntityType", "streetlight"),
    "parking": QT_TRANSLATE_NOOP("EntityType", "parking lot"),
    "waste_bin": QT_TRANSLATE_NOOP("EntityType", "waste bin"),
    "clinic": QT_TRANSLATE_NOOP("EntityType", "clinic"),
    "bus": QT_TRANSLATE_NOOP("EntityType", "bus"),
    "camera": QT_TRANSLATE_NOOP("EntityType", "camera"),
    "vehicle": QT_TRANSLATE_NOOP("EntityType", "vehicle"),
    "accident": QT_TRANSLATE_NOOP("EntityType", "accident"),
    "fire": QT_TRANSLATE_NOOP("EntityType", "fire"),
    "alert_area": QT_TRANSLATE_NOOP("EntityType", "alert area"),
    # Types as the standard payload formats name them (FIWARE data models, SensorThings).
    "AirQualityObserved": QT_TRANSLATE_NOOP("EntityType", "air quality station"),
    "NoiseLevelObserved": QT_TRANSLATE_NOOP("EntityType", "noise monitor"),
    "WaterQualityObserved": QT_TRANSLATE_NOOP("EntityType", "water quality station"),
    "Thing": QT_TRANSLATE_NOOP("EntityType", "device"),
}
"""Entity types of the demo city and the common ones; another type is shown as sent."""


def domain_text(domain: str) -> str:
    """``environment``: a feed's or entity's domain (as configured when not a known one)."""
    known = DOMAIN_TEXT.get(domain)
    return translate("Domain", known) if known else domain


def entity_type_text(kind: str) -> str:
    """``air quality station``: an entity's type (as sent when not a known one)."""
    known = ENTITY_TYPE_TEXT.get(kind)
    return translate("EntityType", known) if known else kind
