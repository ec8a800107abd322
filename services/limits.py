"""Limits shared by feeds, decoders and the ingest worker (one place per limit)."""

from __future__ import annotations

MAX_PAYLOAD_BYTES = 256 * 1024
"""The largest payload any feed may deliver: MQTT messages and HTTP responses alike."""

DEAD_LETTER_EXCERPT_CHARS = 512
"""How much of a rejected payload is kept for the operator to read."""

DEAD_LETTERS_PER_FEED = 50
"""How many rejected payloads are kept per feed (the newest)."""


def payload_too_large(size: int) -> str:
    """The reason given when a payload of ``size`` bytes is refused."""
    return f"payload of {size} bytes exceeds {MAX_PAYLOAD_BYTES // 1024} KiB"


HUB_POINTS_BUDGET = 3_000_000
"""Points of recent history the state hub keeps over all series (16 bytes each: ~48 MB);
with more series than fit an hour each, each keeps its newest share."""

HUB_SERIES_MIN_POINTS = 120
"""The fewest recent points a series keeps, however many series there are."""

MQTT_PROCESS_BACKLOG = 50_000
"""Messages an MQTT receiver process holds for the app at most; beyond it its network
thread waits (the broker's flow control then applies)."""

CACHE_BACKLOG_READINGS = 200_000
"""Readings kept in memory while the cache cannot be written; beyond it the oldest go."""

MAX_RULE_DELAY_S = 86_400.0
"""The longest on/off delay an alarm rule may ask for (one day)."""

MAX_RULE_SAMPLES = 1_000
"""The most consecutive readings an alarm rule may ask for before it raises or clears."""

MAX_SHELVE_S_BY_PRIORITY = {1: 3_600.0, 2: 4 * 3_600.0, 3: 8 * 3_600.0, 4: 24 * 3_600.0}
"""The longest an alarm of each priority (1 highest) may be shelved for a time: the more
urgent, the sooner it comes back. Shelving until it clears has no time limit."""

MAX_NOTE_CHARS = 2_000
"""The longest note, comment or shelving reason an operator action may carry."""

MAX_SHARED_COMMENTS = 20
"""How many of an alarm occurrence's comments its retained shared state carries (newest)."""

MAX_PENDING_SHARED_ACTIONS = 2_000
"""Shared actions kept for alarm occurrences this workstation has not raised yet; beyond
it the oldest go."""

PENDING_SHARED_ACTION_S = 3_600.0
"""How long a shared action waits for its alarm occurrence to be raised here."""

OCCURRENCE_MATCH_S = 2.0
"""Raise times closer than this are the same alarm occurrence. Workstations compute them
from the same readings, so they agree to the float when the reading carries its own time;
readings without one, geofences and feed silences are timed by each workstation's own
receipt, a few milliseconds apart. (Two occurrences of one alarm less than this apart are
taken as one.)"""

MAX_GEOFENCES = 200
"""The most ``[[geofences]]`` a config may have."""

MAX_GEOFENCE_POINTS = 200_000
"""The most polygon points all geofences together may have (every entity update is tested
against them on the ingest worker)."""

MAX_GEOJSON_BYTES = 16 * 1024 * 1024
"""The largest GeoJSON file a geofence may be read from."""

MAX_INCIDENT_TITLE_CHARS = 200
"""The longest incident title."""

MAX_INCIDENT_OWNER_CHARS = 100
"""The longest name an incident's owner may have."""

MAX_INCIDENT_NOTES = 500
"""The most notes one incident may have (each at most :data:`MAX_NOTE_CHARS`)."""

MAX_INCIDENT_ALARMS = 200
"""The most alarms one incident may link (and as many entities)."""

RECENT_INCIDENT_S = 7 * 86_400.0
"""Closed incidents changed within this long are loaded at start with the open ones."""

MAX_RESTORED_INCIDENTS = 2_000
"""The most incidents loaded at start (open ones first, then the most recently changed)."""

MAX_TIMELINE_ENTRIES = 2_000
"""The most entries an incident's timeline shows (the newest)."""

MAX_JOURNAL_ENTRIES = 20_000
"""The most alarm-journal entries read for one window (the newest)."""

RAW_RETENTION_DAYS = 2.0
"""How long raw readings are kept unless ``[cache] retention_days`` says otherwise."""

HISTORY_DAYS = {"1m": 30.0, "15m": 365.0}
"""How long the 1-minute and 15-minute history tiers are kept unless configured."""

ALARM_HISTORY_DAYS = 365.0
"""How long alarm transitions and sign-ins are kept unless ``[cache] alarm_history_days``
says otherwise (operator actions and incidents are never pruned)."""

TRACK_POINTS = 360
"""The most positions the state hub keeps per moving entity (its map track)."""

TRACK_SPACING_S = 10.0
"""A moving entity's track gains at most one position this often: 360 of them span an
hour."""

MAX_TRACKED_ENTITIES = 1_000
"""The most moving entities whose tracks are kept (about 130 bytes a position: at most
about 50 MB); entities that start moving beyond it have no track."""

CACHE_BACKLOG_POSITIONS = 50_000
"""Track points kept in memory while the cache cannot be written (about 8 minutes of
:data:`MAX_TRACKED_ENTITIES` moving); beyond it the oldest go."""

MAX_HELD_COMMANDS = 1_000
"""Operator commands the window holds while its engine process is restarting (sent to the
new engine once it is up, oldest first); beyond it a command is refused with an error."""
