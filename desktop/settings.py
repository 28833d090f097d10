"""The console's persistent settings (language, per-user window layouts)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANIZATION = "DutyDesk"
APPLICATION = "console"


def open_settings() -> QSettings:
    """Return the console's settings (an INI file in the user's config folder)."""
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )
