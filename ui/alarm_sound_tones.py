"""The alarm sounds, made here (no Qt, nothing downloaded): one pattern of beeps per
priority, written as small 16-bit mono PCM WAV files.

critical: a fast two-tone (988/1319 Hz) alternation; high: three 880 Hz pulses; medium: two
660 Hz pulses; low: one 440 Hz beep. Higher priorities are higher, longer and busier.
"""

from __future__ import annotations

import math
import os
import struct
import wave
from pathlib import Path

import platformdirs

from services.model import Severity

RATE = 22_050
"""Samples per second."""
AMPLITUDE = 0.45
"""Peak level as a fraction of full scale."""
FADE_S = 0.005
"""Fade in and out of each beep, so it starts and ends without a click."""

Segment = tuple[float, float]
"""A frequency in Hz (0 for a pause) held for a duration in seconds."""

PATTERNS: dict[Severity, tuple[Segment, ...]] = {
    Severity.CRITICAL: ((988.0, 0.15), (1319.0, 0.15)) * 3,
    Severity.HIGH: ((880.0, 0.12), (0.0, 0.08)) * 3,
    Severity.MEDIUM: ((660.0, 0.15), (0.0, 0.1)) * 2,
    Severity.LOW: ((440.0, 0.25),),
}


def samples(pattern: tuple[Segment, ...], rate: int = RATE) -> list[int]:
    """The 16-bit samples of ``pattern``."""
    peak = AMPLITUDE * 32767
    fade = max(1, int(FADE_S * rate))
    out: list[int] = []
    for frequency, seconds in pattern:
        count = round(seconds * rate)
        if frequency <= 0:
            out.extend([0] * count)
            continue
        step = 2 * math.pi * frequency / rate
        for index in range(count):
            envelope = min(1.0, index / fade, (count - 1 - index) / fade)
            out.append(round(peak * envelope * math.sin(step * index)))
    return out


def write_wav(path: Path, pattern: tuple[Segment, ...], rate: int = RATE) -> Path:
    """Write ``pattern`` to ``path`` (replaced whole, never half-written)."""
    values = samples(pattern, rate)
    data = struct.pack(f"<{len(values)}h", *values)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with wave.open(str(partial), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data)
    partial.replace(path)
    return path


def default_sound_dir() -> Path:
    """Where the sounds are written: ``sounds`` in the platform cache folder."""
    return Path(platformdirs.user_cache_dir("cityops", appauthor=False)) / "sounds"


def write_sounds(folder: Path | None = None) -> dict[Severity, Path]:
    """Write one WAV file per priority into ``folder`` (default :func:`default_sound_dir`)."""
    folder = default_sound_dir() if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    return {
        severity: write_wav(folder / f"alarm-{severity.label}.wav", pattern)
        for severity, pattern in PATTERNS.items()
    }
