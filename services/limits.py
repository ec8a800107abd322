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


CACHE_BACKLOG_READINGS = 200_000
"""Readings kept in memory while the cache cannot be written; beyond it the oldest go."""

MAX_RULE_DELAY_S = 86_400.0
"""The longest on/off delay an alarm rule may ask for (one day)."""

MAX_RULE_SAMPLES = 1_000
"""The most consecutive readings an alarm rule may ask for before it raises or clears."""

MAX_SHELVE_S_BY_PRIORITY = {1: 3_600.0, 2: 4 * 3_600.0, 3: 8 * 3_600.0, 4: 24 * 3_600.0}
"""The longest an alarm of each priority (1 highest) may be shelved for a time: the more
urgent, the sooner it comes back. Shelving until it clears has no time limit."""
