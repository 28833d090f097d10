"""The alarm sounds: one short WAV per alarm level, and the system bell when there is no audio.

Playback goes through :class:`AlarmSounder` so it can be muted and counted. It uses
``QSoundEffect`` when QtMultimedia loads (:mod:`desktop.multimedia`, the one module that
imports it) and an audio output exists; otherwise it falls back to the system bell, and it
never fails because there is no sound card. On screenless Qt platforms (offscreen,
minimal) it does not probe audio at all.

Each level has its own tone (``resources/sounds/alarm-red.wav``…): red is high, fast and
three times over; orange is the console's classic two-tone chime (``alarm.wav``, also
played for a task escalated to this desk); yellow is one soft note. Blue alarms are
silent. How often a tone repeats is decided by :mod:`desktop.attention.reminders`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import struct
import tempfile
import wave
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from desktop.multimedia import load_multimedia
from desktop.resources import ALARM_SOUND, SOUNDS_DIR
from realtime.states import AlarmLevel

logger = logging.getLogger(__name__)

SAMPLE_RATE = 22_050
TONES_HZ = (880.0, 660.0)
TONE_SECONDS = 0.25
REPEATS = 2
AMPLITUDE = 0.5
SCREENLESS_PLATFORMS = frozenset({"offscreen", "minimal"})
"""Qt platforms without a screen, where the console plays no real sound."""


@dataclasses.dataclass(frozen=True, slots=True)
class Tone:
    """A synthesised alarm tone: notes played one after the other, the lot repeated."""

    notes_hz: tuple[float, ...]
    note_seconds: float
    repeats: int
    amplitude: float


CLASSIC_TONE = Tone(TONES_HZ, TONE_SECONDS, REPEATS, AMPLITUDE)
"""The two-tone chime of ``alarm.wav`` (orange alarms, escalated tasks)."""
LEVEL_TONES: dict[AlarmLevel, Tone] = {
    AlarmLevel.RED: Tone((988.0, 740.0), 0.15, 4, 0.6),
    AlarmLevel.ORANGE: CLASSIC_TONE,
    AlarmLevel.YELLOW: Tone((523.0,), 0.35, 1, 0.35),
}
"""The tone of each level that sounds (blue alarms are silent)."""


def level_sound_file(level: AlarmLevel) -> Path:
    """Where the tone of ``level`` is shipped (``resources/sounds/alarm-red.wav``…; orange
    plays the classic ``alarm.wav``)."""
    if LEVEL_TONES.get(level) == CLASSIC_TONE:
        return ALARM_SOUND
    return SOUNDS_DIR / f"alarm-{level.value}.wav"


def tone_frames(tone: Tone = CLASSIC_TONE) -> bytes:
    """Return 16-bit mono PCM of ``tone``."""
    samples_per_note = int(SAMPLE_RATE * tone.note_seconds)
    fade = samples_per_note // 20
    frames = bytearray()
    for _ in range(tone.repeats):
        for frequency in tone.notes_hz:
            for i in range(samples_per_note):
                envelope = min(1.0, i / fade, (samples_per_note - i) / fade)
                phase = 2 * math.pi * frequency * i / SAMPLE_RATE
                value = tone.amplitude * envelope * math.sin(phase)
                frames += struct.pack("<h", int(value * 32767))
    return bytes(frames)


def alarm_tone_frames() -> bytes:
    """Return 16-bit mono PCM of the classic alarm tone (two alternating tones, twice)."""
    return tone_frames(CLASSIC_TONE)


def write_alarm_tone(path: Path, tone: Tone = CLASSIC_TONE) -> Path:
    """Write ``tone`` as a WAV file at ``path`` and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(tone_frames(tone))
    return path


def ensure_alarm_tone(path: Path = ALARM_SOUND, tone: Tone = CLASSIC_TONE) -> Path:
    """Return a WAV file of ``tone``, writing it on first use.

    The tone is written to ``path`` (``resources/sounds/alarm.wav``), or to the temporary
    folder when that is read-only.
    """
    if path.is_file():
        return path
    try:
        return write_alarm_tone(path, tone)
    except OSError as exc:
        fallback = Path(tempfile.gettempdir()) / f"dutydesk-{path.name}"
        logger.info("cannot write %s (%s); using %s", path, exc, fallback)
        return fallback if fallback.is_file() else write_alarm_tone(fallback, tone)


def _load_sound_effects(paths: dict[AlarmLevel | None, Path], parent: QObject) -> dict[Any, Any]:
    """Return a ready ``QSoundEffect`` per tone, or nothing without QtMultimedia or audio."""
    platform = QGuiApplication.platformName()
    if platform in SCREENLESS_PLATFORMS:
        # Nobody sits at a screenless console; and probing audio there only makes Qt warn
        # about missing PipeWire/PulseAudio servers.
        logger.info("no screen (%s platform); alarms use the system bell", platform)
        return {}
    loaded = load_multimedia()
    if loaded is None:
        return {}  # desktop.multimedia said why, once
    if not loaded.multimedia.QMediaDevices.audioOutputs():
        logger.info("no audio output found; alarms use the system bell")
        return {}
    effects: dict[Any, Any] = {}
    for level, path in paths.items():
        effect = loaded.multimedia.QSoundEffect(parent)
        effect.setSource(QUrl.fromLocalFile(str(path)))
        effects[level] = effect
    return effects


class AlarmSounder(QObject):
    """Plays the alarm sounds unless muted, and counts what it played.

    Muting here is the global mute (the status bar shows it); a single alarm is muted by
    :class:`~desktop.attention.reminders.ReminderSchedule`.
    """

    played = Signal()
    """Emitted each time the sound is played (not when muted)."""
    muted_changed = Signal(bool)

    def __init__(
        self,
        *,
        sound_file: Path | None = None,
        use_audio: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._muted = False
        self._play_count = 0
        self.played_levels: list[AlarmLevel | None] = []
        """The level of every sound played, in order (None: the classic chime)."""
        self._effects: dict[Any, Any] = {}
        if use_audio:
            paths: dict[AlarmLevel | None, Path] = {None: sound_file or ensure_alarm_tone()}
            for level, tone in LEVEL_TONES.items():
                paths[level] = ensure_alarm_tone(level_sound_file(level), tone)
            self._effects = _load_sound_effects(paths, self)

    @property
    def play_count(self) -> int:
        """How many times the sound was played."""
        return self._play_count

    @property
    def uses_sound_effect(self) -> bool:
        """Whether the sound plays through QtMultimedia (else the system bell)."""
        return bool(self._effects)

    @property
    def muted(self) -> bool:
        """Whether the sound is switched off."""
        return self._muted

    def set_muted(self, muted: bool) -> None:
        """Switch the sound off or on."""
        if muted != self._muted:
            self._muted = muted
            logger.info("alarm sound %s", "muted" if muted else "on")
            self.muted_changed.emit(muted)

    def play(self, level: AlarmLevel | None = None) -> bool:
        """Play the tone of ``level`` once (None: the classic chime); return whether it
        played (False when muted, or for a level without a tone)."""
        if self._muted or (level is not None and level not in LEVEL_TONES):
            return False
        self._play_count += 1
        self.played_levels.append(level)
        effect = self._effects.get(level)
        if effect is not None:
            effect.play()
        else:
            QApplication.beep()
        self.played.emit()
        return True
