"""Alarm sounds in the window: a :class:`QSoundEffect` per priority, played as the
:class:`Annunciator` decides from each delta, a timer for the critical repeat, and the
silence action. A workstation without an audio output, or with ``[app] sound = false``,
stays silent (and says so once in the log)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import (
    QMessageLogContext,
    QObject,
    QTimer,
    QtMsgType,
    QUrl,
    Signal,
    qInstallMessageHandler,
)
from PySide6.QtGui import QAction

from services.alarms.annunciation import REPEAT_EVERY_S, Annunciator
from services.model import Delta, Severity
from ui.alarm_sound_tones import write_sounds
from widgets.i18n import translate

log = logging.getLogger(__name__)


class Player(Protocol):
    """One sound that can be played and stopped."""

    def play(self) -> None: ...

    def stop(self) -> None: ...


class EffectPlayer:
    """A :class:`QSoundEffect` for one WAV file; counts its plays."""

    def __init__(self, path: Path, parent: QObject | None = None) -> None:
        from PySide6.QtMultimedia import QSoundEffect

        self.effect = QSoundEffect(parent)
        self.effect.setSource(QUrl.fromLocalFile(str(path)))
        self.plays = 0

    def play(self) -> None:
        self.plays += 1
        self.effect.play()

    def stop(self) -> None:
        self.effect.stop()


@contextmanager
def multimedia_messages_to_log() -> Iterator[None]:
    """Qt's messages while it looks for audio (missing PipeWire, VA-API or PulseAudio on
    a headless machine) go to the debug log instead of stderr."""

    def to_log(_kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        log.debug("Qt multimedia: %s: %s", context.category, message)

    previous = qInstallMessageHandler(to_log)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


def audio_output_available() -> bool:
    """Whether Qt Multimedia loads and finds an audio output."""
    with multimedia_messages_to_log():
        try:
            from PySide6.QtMultimedia import QMediaDevices
        except ImportError as error:  # e.g. libpulse missing
            log.warning("alarm sounds are off: Qt Multimedia does not load (%s)", error)
            return False
        if not QMediaDevices.audioOutputs():
            log.warning("alarm sounds are off: no audio output found")
            return False
    return True


class AlarmSound(QObject):
    """Plays the alarm sounds for the deltas it is given; ``silence`` stops them."""

    sounded = Signal(object)
    """The :class:`Severity` whose sound was just started."""

    def __init__(
        self,
        players: Mapping[Severity, Player] | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        repeat_every: float = REPEAT_EVERY_S,
        parent: QObject | None = None,
    ) -> None:
        """``players`` None: sound is off (nothing is tracked or played)."""
        super().__init__(parent)
        self.enabled = players is not None
        self.players: dict[Severity, Player] = dict(players or {})
        self.annunciator = Annunciator(repeat_every)
        self._clock = clock
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._repeat)

    @classmethod
    def for_config(cls, sound: bool, parent: QObject | None = None) -> AlarmSound:
        """Sound as ``[app] sound`` says, with WAVs written to the cache folder; silent
        when the config turns it off, the files cannot be written or there is no output."""
        if not sound:
            log.info("alarm sounds are off ([app] sound = false)")
            return cls(None, parent=parent)
        if not audio_output_available():
            return cls({}, parent=parent)
        try:
            paths = write_sounds()
        except OSError as error:
            log.warning("alarm sounds are off: cannot write the sound files (%s)", error)
            return cls({}, parent=parent)
        sound_object = cls({}, parent=parent)
        with multimedia_messages_to_log():
            sound_object.players = {
                severity: EffectPlayer(path, sound_object) for severity, path in paths.items()
            }
        return sound_object

    def apply_delta(self, delta: Delta) -> None:
        """Sound what this delta's alarm changes call for."""
        if not self.enabled or not delta.alarms:
            return
        severity = self.annunciator.update(delta.alarms.values(), self._clock())
        if severity is not None:
            self._play(severity)
        self._schedule()

    def silence(self) -> None:
        """Stop what sounds now and the critical repeat; the next new alarm sounds."""
        self.annunciator.silence()
        self._timer.stop()
        for player in self.players.values():
            player.stop()

    def attach(self, action: QAction) -> None:
        """Make ``action`` silence the alarms (disabled, saying why, when sound is off)."""
        action.triggered.connect(lambda _checked=False: self.silence())
        action.setEnabled(self.enabled)
        if self.enabled:
            action.setToolTip(
                translate("AlarmSound", "Silence the alarms sounding now; a new alarm sounds again")
            )
        else:
            action.setToolTip(
                translate("AlarmSound", "Alarm sounds are off here ([app] sound in the config)")
            )

    def _play(self, severity: Severity) -> None:
        for other, player in self.players.items():
            if other is not severity:
                player.stop()
        chosen = self.players.get(severity)
        if chosen is not None:
            chosen.play()
        self.sounded.emit(severity)

    def _schedule(self) -> None:
        due = self.annunciator.next_repeat()
        if due is None:
            self._timer.stop()
            return
        self._timer.start(max(0, math.ceil((due - self._clock()) * 1000)))

    def _repeat(self) -> None:
        severity = self.annunciator.due(self._clock())
        if severity is not None:
            self._play(severity)
        self._schedule()
