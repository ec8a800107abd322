"""When alarms sound: new or re-raised unacknowledged alarms, the most urgent wins, critical
repeats until acknowledged or silenced (no Qt)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.alarms.annunciation import Annunciator
from services.config.loader import parse_config
from services.model import AlarmState, Severity
from tests.helpers.alarms import pm25_alarm


def test_a_new_unacknowledged_alarm_sounds_once_at_its_priority() -> None:
    sound = Annunciator()
    assert sound.update([pm25_alarm("a", Severity.MEDIUM)], 0.0) is Severity.MEDIUM
    # The same version again (or an unrelated change) does not sound.
    assert sound.update([pm25_alarm("a", Severity.MEDIUM)], 1.0) is None
    assert sound.update([pm25_alarm("a", Severity.MEDIUM, revision=2)], 1.0) is None


def test_the_most_urgent_priority_of_a_delta_wins() -> None:
    sound = Annunciator()
    changed = [
        pm25_alarm("a", Severity.LOW),
        pm25_alarm("b", Severity.HIGH),
        pm25_alarm("c", Severity.MEDIUM),
    ]
    assert sound.update(changed, 0.0) is Severity.HIGH


def test_a_raise_again_sounds_but_acknowledged_or_cleared_alarms_do_not() -> None:
    sound = Annunciator()
    sound.update([pm25_alarm("a", Severity.LOW)], 0.0)
    assert sound.update([pm25_alarm("a", Severity.LOW, count=2, revision=2)], 1.0) is Severity.LOW
    acked = pm25_alarm("a", Severity.LOW, AlarmState.ACKNOWLEDGED, count=2, revision=3)
    assert sound.update([acked], 2.0) is None
    rtn = pm25_alarm("b", Severity.HIGH, AlarmState.RTN_UNACKNOWLEDGED)
    assert sound.update([rtn], 2.0) is None
    # Back to unacknowledged after acknowledged: sounds again.
    again = pm25_alarm("a", Severity.LOW, AlarmState.UNACKNOWLEDGED, count=3, revision=4)
    assert sound.update([again], 3.0) is Severity.LOW
    # An older revision arriving late is ignored.
    assert sound.update([pm25_alarm("a", Severity.LOW, count=9, revision=1)], 4.0) is None


def test_a_new_occurrence_after_normal_sounds() -> None:
    sound = Annunciator()
    sound.update([pm25_alarm("a", Severity.HIGH)], 0.0)
    sound.update([pm25_alarm("a", Severity.HIGH, AlarmState.NORMAL, revision=2)], 1.0)
    later = replace(pm25_alarm("a", Severity.HIGH, revision=3), raised_at=200.0)
    assert sound.update([later], 2.0) is Severity.HIGH


def test_critical_repeats_until_acknowledged() -> None:
    sound = Annunciator(repeat_every=5.0)
    assert sound.update([pm25_alarm("a", Severity.CRITICAL)], 10.0) is Severity.CRITICAL
    assert sound.next_repeat() == 15.0
    assert sound.due(14.9) is None
    assert sound.due(15.0) is Severity.CRITICAL
    assert sound.next_repeat() == 20.0
    # A lower priority sounding meanwhile keeps the critical schedule.
    assert sound.update([pm25_alarm("b", Severity.LOW)], 17.0) is Severity.LOW
    assert sound.next_repeat() == 20.0
    acked = pm25_alarm("a", Severity.CRITICAL, AlarmState.ACKNOWLEDGED, revision=2)
    assert sound.update([acked], 18.0) is None
    assert sound.next_repeat() is None
    assert sound.due(30.0) is None


def test_critical_repeats_while_any_critical_is_unacknowledged() -> None:
    sound = Annunciator(repeat_every=5.0)
    sound.update([pm25_alarm("a", Severity.CRITICAL), pm25_alarm("b", Severity.CRITICAL)], 0.0)
    sound.update([pm25_alarm("a", Severity.CRITICAL, AlarmState.ACKNOWLEDGED, revision=2)], 1.0)
    assert sound.repeating == {"b|pm25|high"}
    assert sound.due(5.0) is Severity.CRITICAL
    # Returned to normal but still unacknowledged: the repeat goes on until acknowledged.
    sound.update([pm25_alarm("b", Severity.CRITICAL, AlarmState.RTN_UNACKNOWLEDGED, revision=2)], 6)
    assert sound.due(10.0) is Severity.CRITICAL


def test_silence_stops_the_repeat_and_a_new_alarm_sounds_again() -> None:
    sound = Annunciator(repeat_every=5.0)
    sound.update([pm25_alarm("a", Severity.CRITICAL)], 0.0)
    sound.silence()
    assert sound.next_repeat() is None
    assert sound.due(100.0) is None
    # The silenced alarm changing without raising again stays silent.
    assert sound.update([pm25_alarm("a", Severity.CRITICAL, revision=2)], 101.0) is None
    assert sound.due(200.0) is None
    # A new critical alarm sounds and repeats again.
    assert sound.update([pm25_alarm("c", Severity.CRITICAL)], 300.0) is Severity.CRITICAL
    assert sound.due(305.0) is Severity.CRITICAL


def test_repeat_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="repeat_every"):
        Annunciator(repeat_every=0)


def test_app_sound_config_defaults_on_and_can_be_turned_off() -> None:
    assert parse_config(b"", "t.toml").sound is True
    assert parse_config(b"[app]\nsound = false\n", "t.toml").sound is False
    with pytest.raises(Exception, match=r"app\.sound: must be true or false"):
        parse_config(b'[app]\nsound = "no"\n', "t.toml")


def test_shelving_stops_a_critical_repeat_and_unshelving_sounds_again() -> None:
    sound = Annunciator(repeat_every=5.0)
    assert sound.update([pm25_alarm("a", Severity.CRITICAL)], 0.0) is Severity.CRITICAL
    shelved = pm25_alarm("a", Severity.CRITICAL, AlarmState.SHELVED, revision=2)
    assert sound.update([shelved], 1.0) is None
    assert sound.repeating == frozenset() and sound.due(10.0) is None
    back = pm25_alarm("a", Severity.CRITICAL, revision=3)
    assert sound.update([back], 20.0) is Severity.CRITICAL
