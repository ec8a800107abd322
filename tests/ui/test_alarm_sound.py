"""Alarm sounds: the generated WAVs have each priority's pitch, the right sound plays for
a delta, critical repeats until acknowledged, silence stops it, the Go menu's action and
the status-bar button silence (no audio device needed: players are counted, not heard)."""

from __future__ import annotations

import itertools
import math
import wave
from pathlib import Path

import pytest
from PySide6.QtWidgets import QToolButton
from pytestqt.qtbot import QtBot

from services.config import AppConfig
from services.model import Alarm, AlarmState, Delta, Severity
from tests.helpers.alarms import pm25_alarm
from ui.alarm_sound import AlarmSound, EffectPlayer, multimedia_messages_to_log
from ui.alarm_sound_tones import PATTERNS, RATE, default_sound_dir, write_sounds
from ui.bridge import DeltaBridge
from ui.main_window import MainWindow
from ui.runtime import attach_alarm_sound


class FakePlayer:
    def __init__(self) -> None:
        self.plays = 0
        self.stops = 0

    def play(self) -> None:
        self.plays += 1

    def stop(self) -> None:
        self.stops += 1


def players() -> dict[Severity, FakePlayer]:
    return {severity: FakePlayer() for severity in Severity}


def delta(*alarms: Alarm) -> Delta:
    return Delta(alarms={a.id: a for a in alarms})


def read_samples(path: Path) -> list[int]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        raw = wav.readframes(wav.getnframes())
    return [int.from_bytes(raw[i : i + 2], "little", signed=True) for i in range(0, len(raw), 2)]


def power(values: list[int], frequency: float) -> float:
    """The strength of ``frequency`` in ``values`` (one DFT bin)."""
    step = 2 * math.pi * frequency / RATE
    re = sum(v * math.cos(step * i) for i, v in enumerate(values))
    im = sum(v * math.sin(step * i) for i, v in enumerate(values))
    return math.hypot(re, im) / len(values)


def test_each_priority_has_its_own_pitch_and_pattern(tmp_path: Path) -> None:
    paths = write_sounds(tmp_path)
    assert set(paths) == set(Severity)
    pitches = {f for pattern in PATTERNS.values() for f, _ in pattern if f > 0}
    lengths = set()
    for severity, path in paths.items():
        values = read_samples(path)
        lengths.add(len(values))
        assert max(abs(v) for v in values) > 10_000  # audible, not clipped garbage
        start = 0
        for frequency, seconds in PATTERNS[severity]:
            segment = values[start : start + round(seconds * RATE)]
            start += len(segment)
            if frequency == 0:
                assert max(abs(v) for v in segment) == 0
                continue
            strongest = max((power(segment, f), f) for f in pitches)[1]
            assert strongest == frequency, (severity, frequency)
            # Zero crossings agree: two per period.
            crossings = sum(1 for a, b in itertools.pairwise(segment) if a < 0 <= b)
            assert abs(crossings - frequency * seconds) <= 2
    assert len(lengths) == len(Severity)  # different patterns, not only pitches


def test_sounds_are_written_under_the_platform_cache_dir(isolated_user_dirs: Path) -> None:
    paths = write_sounds()
    assert default_sound_dir().is_relative_to(isolated_user_dirs)
    assert all(path.parent == default_sound_dir() and path.is_file() for path in paths.values())


def test_the_most_urgent_new_alarm_plays_its_own_sound(qtbot: QtBot) -> None:
    fakes = players()
    sound = AlarmSound(fakes)
    with qtbot.waitSignal(sound.sounded) as sounded:
        sound.apply_delta(
            delta(
                pm25_alarm("a", Severity.LOW, AlarmState.UNACKNOWLEDGED),
                pm25_alarm("b", Severity.HIGH, AlarmState.UNACKNOWLEDGED),
            )
        )
    assert sounded.args == [Severity.HIGH]
    assert {s: p.plays for s, p in fakes.items()} == {
        Severity.CRITICAL: 0,
        Severity.HIGH: 1,
        Severity.MEDIUM: 0,
        Severity.LOW: 0,
    }
    sound.apply_delta(delta(pm25_alarm("b", Severity.HIGH, AlarmState.ACKNOWLEDGED, revision=2)))
    assert fakes[Severity.HIGH].plays == 1


def test_critical_repeats_until_acknowledged(qtbot: QtBot) -> None:
    fakes = players()
    sound = AlarmSound(fakes, repeat_every=0.05)
    sound.apply_delta(delta(pm25_alarm("a", Severity.CRITICAL, AlarmState.UNACKNOWLEDGED)))
    qtbot.waitUntil(lambda: fakes[Severity.CRITICAL].plays >= 3, timeout=5000)
    sound.apply_delta(
        delta(pm25_alarm("a", Severity.CRITICAL, AlarmState.ACKNOWLEDGED, revision=2))
    )
    plays = fakes[Severity.CRITICAL].plays
    qtbot.wait(200)
    assert fakes[Severity.CRITICAL].plays == plays


def test_silence_stops_the_sound_and_the_repeat_and_a_new_alarm_sounds(qtbot: QtBot) -> None:
    fakes = players()
    sound = AlarmSound(fakes, repeat_every=0.05)
    sound.apply_delta(delta(pm25_alarm("a", Severity.CRITICAL, AlarmState.UNACKNOWLEDGED)))
    sound.silence()
    assert all(p.stops >= 1 for p in fakes.values())
    qtbot.wait(200)
    assert fakes[Severity.CRITICAL].plays == 1
    sound.apply_delta(delta(pm25_alarm("b", Severity.MEDIUM, AlarmState.UNACKNOWLEDGED)))
    assert fakes[Severity.MEDIUM].plays == 1


def test_sound_off_plays_nothing(qtbot: QtBot) -> None:
    sound = AlarmSound.for_config(False)
    assert not sound.enabled
    with qtbot.assertNotEmitted(sound.sounded):
        sound.apply_delta(delta(pm25_alarm("a", Severity.CRITICAL, AlarmState.UNACKNOWLEDGED)))


def test_sound_on_without_an_audio_device_starts_quietly(qtbot: QtBot) -> None:
    # Headless CI has no audio output: no Qt warnings escape, silence still works.
    sound = AlarmSound.for_config(True)
    assert sound.enabled
    sound.apply_delta(delta(pm25_alarm("a", Severity.CRITICAL, AlarmState.UNACKNOWLEDGED)))
    sound.silence()


@pytest.mark.qt_log_ignore("QSoundEffect", "PulseAudio", "Couldn't (load|resolve)", "FFmpeg")
def test_effect_player_plays_the_generated_file(tmp_path: Path, qtbot: QtBot) -> None:
    paths = write_sounds(tmp_path)
    with multimedia_messages_to_log():
        player = EffectPlayer(paths[Severity.CRITICAL])
    assert Path(player.effect.source().toLocalFile()) == paths[Severity.CRITICAL]
    player.play()
    player.stop()
    assert player.plays == 1


def test_go_menu_and_status_bar_button_silence(qtbot: QtBot) -> None:
    window = MainWindow(AppConfig(source="test", demo=True), acknowledge=lambda ids, note: None)
    qtbot.addWidget(window)
    fakes = players()
    sound = AlarmSound(fakes, repeat_every=0.05, parent=window)
    bridge = DeltaBridge(Delta, parent=window)
    attach_alarm_sound(window, bridge, sound)
    action = window.menus.silence
    assert action.isEnabled()
    assert action in window.menus.actions()
    assert action.shortcut().toString() == "Ctrl+Shift+M"
    button = window.findChild(QToolButton, "silence_alarms")
    assert button is not None and button.defaultAction() is action
    bridge.deltaReady.emit(delta(pm25_alarm("a", Severity.CRITICAL, AlarmState.UNACKNOWLEDGED)))
    assert fakes[Severity.CRITICAL].plays == 1
    button.click()
    assert fakes[Severity.CRITICAL].stops == 1
    qtbot.wait(200)
    assert fakes[Severity.CRITICAL].plays == 1


def test_silence_action_is_disabled_when_sound_is_off(qtbot: QtBot) -> None:
    window = MainWindow(AppConfig(source="test", demo=True), acknowledge=lambda ids, note: None)
    qtbot.addWidget(window)
    bridge = DeltaBridge(Delta, parent=window)
    attach_alarm_sound(window, bridge, AlarmSound.for_config(False, parent=window))
    assert not window.menus.silence.isEnabled()
    assert "[app] sound" in window.menus.silence.toolTip()
