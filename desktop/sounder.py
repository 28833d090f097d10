"""The alarm sound: a short two-tone WAV played when a red or orange alarm arrives.

Playback goes through :class:`AlarmSounder` so it can be muted and counted. It uses
``QSoundEffect`` when QtMultimedia is installed (it ships in ``PySide6-Addons``) and an
audio output exists; otherwise it falls back to the system bell, and it never fails
because there is no sound card. On screenless Qt platforms (offscreen, minimal) it does
not probe audio at all.
"""

from __future__ import annotations

import importlib
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

from desktop.resources import ALARM_SOUND

logger = logging.getLogger(__name__)

SAMPLE_RATE = 22_050
TONES_HZ = (880.0, 660.0)
TONE_SECONDS = 0.25
REPEATS = 2
AMPLITUDE = 0.5
SCREENLESS_PLATFORMS = frozenset({"offscreen", "minimal"})
"""Qt platforms without a screen, where the console plays no real sound."""


def alarm_tone_frames() -> bytes:
    """Return 16-bit mono PCM of the alarm tone (two alternating tones, twice)."""
    samples_per_tone = int(SAMPLE_RATE * TONE_SECONDS)
    fade = samples_per_tone // 20
    frames = bytearray()
    for _ in range(REPEATS):
        for frequency in TONES_HZ:
            for i in range(samples_per_tone):
                envelope = min(1.0, i / fade, (samples_per_tone - i) / fade)
                value = AMPLITUDE * envelope * math.sin(2 * math.pi * frequency * i / SAMPLE_RATE)
                frames += struct.pack("<h", int(value * 32767))
    return bytes(frames)


def write_alarm_tone(path: Path) -> Path:
    """Write the alarm tone as a WAV file at ``path`` and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(alarm_tone_frames())
    return path


def ensure_alarm_tone(path: Path = ALARM_SOUND) -> Path:
    """Return a WAV file of the alarm tone, writing it on first use.

    The tone is written to ``path`` (``resources/sounds/alarm.wav``), or to the temporary
    folder when that is read-only.
    """
    if path.is_file():
        return path
    try:
        return write_alarm_tone(path)
    except OSError as exc:
        fallback = Path(tempfile.gettempdir()) / "dutydesk-alarm.wav"
        logger.info("cannot write %s (%s); using %s", path, exc, fallback)
        return fallback if fallback.is_file() else write_alarm_tone(fallback)


def _load_sound_effect(path: Path, parent: QObject) -> Any | None:
    """Return a ready ``QSoundEffect`` for ``path``, or None without QtMultimedia or audio."""
    platform = QGuiApplication.platformName()
    if platform in SCREENLESS_PLATFORMS:
        # Nobody sits at a screenless console; and probing audio there only makes Qt warn
        # about missing PipeWire/PulseAudio servers.
        logger.info("no screen (%s platform); alarms use the system bell", platform)
        return None
    try:
        multimedia = importlib.import_module("PySide6.QtMultimedia")
    except ImportError:
        logger.info("QtMultimedia is not installed; alarms use the system bell")
        return None
    if not multimedia.QMediaDevices.audioOutputs():
        logger.info("no audio output found; alarms use the system bell")
        return None
    effect = multimedia.QSoundEffect(parent)
    effect.setSource(QUrl.fromLocalFile(str(path)))
    return effect


class AlarmSounder(QObject):
    """Plays the alarm sound unless muted, and counts what it played."""

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
        self._effect: Any | None = None
        if use_audio:
            self._effect = _load_sound_effect(sound_file or ensure_alarm_tone(), self)

    @property
    def play_count(self) -> int:
        """How many times the sound was played."""
        return self._play_count

    @property
    def uses_sound_effect(self) -> bool:
        """Whether the sound plays through QtMultimedia (else the system bell)."""
        return self._effect is not None

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

    def play(self) -> bool:
        """Play the sound once; return whether it played (False when muted)."""
        if self._muted:
            return False
        self._play_count += 1
        if self._effect is not None:
            self._effect.play()
        else:
            QApplication.beep()
        self.played.emit()
        return True
