"""The alarm sound: the generated tone and the sounder (muting, counting, no audio device)."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from desktop.resources import ALARM_SOUND
from desktop.sounder import (
    LEVEL_TONES,
    SAMPLE_RATE,
    AlarmSounder,
    alarm_tone_frames,
    ensure_alarm_tone,
    level_sound_file,
    tone_frames,
    write_alarm_tone,
)
from realtime.states import AlarmLevel

pytestmark = pytest.mark.gui


def test_tone_is_a_one_second_mono_wav(tmp_path: Path) -> None:
    path = write_alarm_tone(tmp_path / "tone.wav")
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, SAMPLE_RATE)
        seconds = wav.getnframes() / SAMPLE_RATE
    assert seconds == pytest.approx(1.0, abs=0.01)  # 2 tones × 0.25 s × 2 repeats


def test_shipped_tone_is_the_generated_one() -> None:
    with wave.open(str(ALARM_SOUND), "rb") as wav:
        assert wav.readframes(wav.getnframes()) == alarm_tone_frames()


def test_missing_tone_is_written_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "sounds" / "alarm.wav"
    assert ensure_alarm_tone(path) == path
    assert path.stat().st_size > SAMPLE_RATE


def test_sounder_counts_plays_and_respects_mute(qapp: QApplication) -> None:
    sounder = AlarmSounder(use_audio=False)
    assert sounder.play()
    sounder.set_muted(True)
    assert not sounder.play()
    sounder.set_muted(False)
    assert sounder.play()
    assert sounder.play_count == 2


def test_sounder_with_audio_survives_a_machine_without_sound(qapp: QApplication) -> None:
    # Offscreen there is no audio device (and QtMultimedia may be missing): playing must
    # neither raise nor log a Qt warning (pytest-qt fails the test on one).
    sounder = AlarmSounder()
    assert not sounder.uses_sound_effect  # the bell stands in
    assert sounder.play()
    assert sounder.play_count == 1


@pytest.mark.parametrize("level", list(LEVEL_TONES))
def test_shipped_level_tones_are_the_generated_ones(level: AlarmLevel) -> None:
    with wave.open(str(level_sound_file(level)), "rb") as wav:
        assert wav.readframes(wav.getnframes()) == tone_frames(LEVEL_TONES[level])


def test_each_level_plays_its_own_tone_and_blue_is_silent(qapp: QApplication) -> None:
    sounder = AlarmSounder(use_audio=False)
    for level in AlarmLevel:
        sounder.play(level)
    assert sounder.played_levels == [AlarmLevel.RED, AlarmLevel.ORANGE, AlarmLevel.YELLOW]
    assert len({level_sound_file(level) for level in LEVEL_TONES}) == len(LEVEL_TONES)
