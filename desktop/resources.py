"""Where the console's files live (``resources/`` at the top of the source tree)."""

from __future__ import annotations

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent.parent / "resources"
"""The project's ``resources`` folder (the package is installed in editable mode)."""
TRANSLATIONS_DIR = RESOURCES_DIR / "translations"
SOUNDS_DIR = RESOURCES_DIR / "sounds"
ALARM_SOUND = SOUNDS_DIR / "alarm.wav"
