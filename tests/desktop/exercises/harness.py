"""A live console with its 演练 panel against a real server, for the exercise tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from backend.server.embedded import DEFAULT_USERS
from backend.server.testing import ServerThread
from desktop.exercises.window import WindowExercises
from desktop.main_window import MainWindow
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.client import ConnectionState
from realtime.protocol import Role
from tests.desktop.conftest import wait_until

USERS = (*DEFAULT_USERS, ("trainer1", "pw-trainer1", Role.TRAINER))
"""The server's users: the defaults and a trainer."""


@asynccontextmanager
async def live_console(
    server: ServerThread, qtbot: QtBot, settings: QSettings, username: str
) -> AsyncIterator[tuple[MainWindow, WindowExercises]]:
    """The live console of ``username`` (password ``pw-<username>``) with its exercises."""
    service = ConsoleService()
    window = MainWindow(
        service, AlarmSounder(use_audio=False), settings, username=username,
        server=server.console_url,
    )  # fmt: skip
    exercises = WindowExercises(
        window, service, settings, server=server.console_url, username=username,
        use_audio=False,
    )  # fmt: skip
    qtbot.addWidget(window)
    window.show()
    service.start(server.console_url, username, f"pw-{username}")
    try:
        await wait_until(lambda: service.state is ConnectionState.LIVE, what=f"{username} live")
        yield window, exercises
    finally:
        await exercises.aclose()
        await service.stop()
        exercises.panel.shutdown()
