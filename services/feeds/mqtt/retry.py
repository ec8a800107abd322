"""When the MQTT feed client tries again: capped exponential backoff with equal jitter.

Steps of 1, 2, 4 … seconds, half fixed and half random (pauses of 0.5 to 1 s, 1 to 2 s, …).
While an outage is younger than :data:`FAST_RETRY_WINDOW` the step is capped at
:data:`FAST_RETRY_CAP`, so a broker that comes back is reached within about 2 s plus the
connect time; longer outages, and brokers that refuse our credentials, back off up to
:data:`SLOW_RETRY_CAP`.
"""

from __future__ import annotations

import random

MIN_RETRY_DELAY = 0.5
"""The shortest pause between connection attempts (seconds)."""
FAST_RETRY_CAP = 2.0
"""The longest pause while an outage is younger than :data:`FAST_RETRY_WINDOW`."""
SLOW_RETRY_CAP = 30.0
"""The longest pause after that, and after the broker refused our credentials."""
FAST_RETRY_WINDOW = 600.0
"""How long (seconds) after losing a connection the client keeps retrying quickly."""
STABLE_CONNECTION = 10.0
"""A connection that lasted this long resets the backoff to its first step."""


def retry_delay(attempt: int, outage: float, rng: random.Random) -> float:
    """The pause before connection attempt ``attempt + 1`` (0-based), ``outage`` seconds
    after the connection was lost: capped exponential backoff with equal jitter."""
    cap = FAST_RETRY_CAP if outage < FAST_RETRY_WINDOW else SLOW_RETRY_CAP
    step = min(cap, 2 * MIN_RETRY_DELAY * 2.0 ** min(attempt, 16))
    return step / 2 + rng.uniform(0, step / 2)
