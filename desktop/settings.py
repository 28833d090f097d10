"""The console's persistent settings (language, per-user window layouts)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANIZATION = "DutyDesk"
APPLICATION = "console"
SERVERS_KEY = "connection/servers"
"""The server addresses of the last login (comma-separated: several instances)."""


def open_settings() -> QSettings:
    """Return the console's settings (an INI file in the user's config folder)."""
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


def saved_servers(settings: QSettings) -> str:
    """The server addresses of the last login ("" when none was saved)."""
    value = settings.value(SERVERS_KEY, "")
    return value if isinstance(value, str) else ""
