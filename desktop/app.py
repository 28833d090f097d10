"""Start the console: Qt application, qasync loop, login, main window, clean exit.

qasync's ``QEventLoop`` is the only bridge between Qt and asyncio. The loop runs
:func:`run_console_async` until the officer closes the window, presses Ctrl-C, or a
requested screenshot has been saved; then the client is closed and every task cancelled.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import qasync
from PySide6.QtCore import QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from desktop import texts
from desktop.collector import GuiThreadCollector
from desktop.exercises.window import WindowExercises
from desktop.i18n import choose_language, install_translators
from desktop.lock import DEFAULT_IDLE_LOCK_SECONDS, IDLE_LOCK_KEY, ConsoleLock
from desktop.login import DEFAULT_SERVER_URL, LoginDialog
from desktop.main_window import MainWindow
from desktop.service import ConsoleService
from desktop.sessions_view import SessionsAction
from desktop.settings import (
    APPLICATION,
    ORGANIZATION,
    SERVERS_KEY,
    open_settings,
    saved_servers,
)
from desktop.sounder import AlarmSounder
from realtime.client import CERTIFICATE_NOT_TRUSTED, ConnectionState
from realtime.protocol import Welcome

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
SIGNAL_POLL_MS = 200
SCREENSHOT_WIDTH = 1440
SCREENSHOT_HEIGHT = 900
"""Qt's loop runs C++ code; a tick this often lets Python run its signal handlers."""
OPEN_INCIDENT_LEAD = 3.0
"""Seconds before the screenshot at which ``open_incident`` opens the first incident."""
CA_FILE_KEY = "connection/ca_file"
"""QSettings key of the CA certificate file last used to verify a ``wss://`` server."""


class _Phase(enum.Enum):
    LOGIN = "login"
    """The login dialog is open and nothing is being tried."""
    CONNECTING = "connecting"
    """A login from the dialog is being tried."""
    RUNNING = "running"
    """The main window is open."""
    DONE = "done"


class ConsoleSession(QObject):
    """Drives one run of the console: login, main window, screenshot, exit code."""

    def __init__(
        self,
        service: ConsoleService,
        sounder: AlarmSounder,
        settings: QSettings,
        done: asyncio.Future[int],
        *,
        idle_lock_seconds: float | None = None,
        wall: bool = False,
    ) -> None:
        super().__init__()
        self.service = service
        self.wall = wall
        """Open the main window as the wall display (map, queue, counters; no editing)."""
        self._sounder = sounder
        self._settings = settings
        self._done = done
        self._phase = _Phase.LOGIN
        self._tasks: set[asyncio.Task[Any]] = set()
        self.login_dialog: LoginDialog | None = None
        self.main_window: MainWindow | None = None
        self.lock: ConsoleLock | None = None
        """The idle lock of the open main window."""
        self.sessions_action: SessionsAction | None = None
        """Who is logged in where (administrators), in the open main window."""
        self.exercises: WindowExercises | None = None
        """The 演练 panel and the drill consoles of the open main window (none on a wall)."""
        self.idle_lock_seconds = (
            idle_lock_seconds if idle_lock_seconds is not None else _saved_idle_lock(settings)
        )
        """Idle time before the console locks (0: never)."""
        self._username = ""
        self._server_url = ""
        service.connection_changed.connect(self._on_connection_changed)
        service.welcomed.connect(self._on_welcomed)

    # ------------------------------------------------------------------ flow

    def show_login(self, server_url: str, username: str, message: str = "") -> LoginDialog:
        """Open the login dialog (with ``message`` saying why, after a session ended)."""
        ca_file = self._settings.value(CA_FILE_KEY, "")
        dialog = LoginDialog(
            server_url, username, ca_file=ca_file if isinstance(ca_file, str) else ""
        )
        dialog.login_requested.connect(self._on_login_requested)
        dialog.rejected.connect(lambda: self.finish(EXIT_OK))
        self.login_dialog = dialog
        if message:
            dialog.show_error(message)
        dialog.show()
        return dialog

    def login_unattended(
        self, server_url: str, username: str, password: str, *, ca_file: str | None = None
    ) -> None:
        """Log in without the dialog and open the main window straight away."""
        self._username = username
        self._server_url = server_url
        self._settings.setValue(SERVERS_KEY, server_url)
        self.service.start(server_url, username, password, ca_file=ca_file)
        self._open_main_window()

    def finish(self, code: int) -> None:
        """End the run with exit status ``code`` (the first call wins)."""
        if not self._done.done():
            self._phase = _Phase.DONE
            self._done.set_result(code)

    def open_first_incident(self) -> None:
        """Open the first incident in the workspace (before a screenshot of it)."""
        if self.main_window is None or not self.main_window.open_first_incident():
            logger.warning("no incident to open before the screenshot")

    def take_screenshot(self, path: Path) -> None:
        """Save a PNG of the main window (or the login dialog) and finish."""
        widget: QWidget | None = self.main_window or self.login_dialog
        if widget is None:
            logger.error("nothing to take a screenshot of")
            self.finish(EXIT_FAILED)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.main_window is not None and widget.width() < SCREENSHOT_WIDTH:
            # Pictures for the docs need room; an offscreen screen is only 800 px wide.
            widget.resize(SCREENSHOT_WIDTH, SCREENSHOT_HEIGHT)
            QApplication.processEvents()
        if widget.grab().save(str(path), "PNG"):
            logger.info("screenshot saved to %s", path)
            self.finish(EXIT_OK)
        else:
            logger.error("cannot save the screenshot to %s", path)
            self.finish(EXIT_FAILED)

    async def close(self) -> None:
        """Close the session, the windows and every task."""
        if self.exercises is not None:
            exercises, self.exercises = self.exercises, None
            await exercises.aclose()
        await self.service.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._close_main_window()
        if self.login_dialog is not None:
            self.login_dialog.done(0)

    def _close_main_window(self) -> None:
        if self.lock is not None:
            self.lock.stop()
            self.lock = None
        if self.exercises is not None:
            # The drill consoles go with the live window; their connections close here.
            self._keep(asyncio.get_running_loop().create_task(self.exercises.aclose()))
            self.exercises = None
        if self.main_window is not None:
            self.main_window.closed.disconnect()
            self.main_window.close()
            self.main_window = None

    # ------------------------------------------------------------------ internals

    def _keep(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_login_requested(self, server_url: str, username: str, password: str) -> None:
        self._phase = _Phase.CONNECTING
        self._username = username
        self._server_url = server_url
        self._settings.setValue(SERVERS_KEY, server_url)
        totp, ca_file = "", ""
        if self.login_dialog is not None:
            totp, ca_file = self.login_dialog.totp_code(), self.login_dialog.ca_file()
            self._settings.setValue(CA_FILE_KEY, ca_file)
        self._keep(
            asyncio.get_running_loop().create_task(
                self._start_login(server_url, username, password, totp, ca_file),
                name="dutydesk-login",
            )
        )

    async def _start_login(
        self, server_url: str, username: str, password: str, totp: str, ca_file: str
    ) -> None:
        await self.service.stop()  # a previous failed attempt may still be winding down
        self.service.start(server_url, username, password, totp=totp, ca_file=ca_file or None)

    def _login_failed(self, message: str) -> None:
        self._phase = _Phase.LOGIN
        if self.login_dialog is not None:
            self.login_dialog.show_error(message)
        self._keep(asyncio.get_running_loop().create_task(self.service.stop()))

    def _on_connection_changed(self, state: ConnectionState, detail: str) -> None:
        if state is ConnectionState.SESSION_ENDED and self._phase is _Phase.RUNNING:
            self._back_to_login(detail)
            return
        if self._phase is not _Phase.CONNECTING:
            return
        if state is ConnectionState.AUTH_FAILED and detail.startswith(CERTIFICATE_NOT_TRUSTED):
            self._login_failed(
                self.tr(
                    "The server's certificate is not trusted ({reason}). Check the address "
                    "and the CA certificate file."
                ).format(reason=detail.removeprefix(CERTIFICATE_NOT_TRUSTED).strip(": "))
            )
        elif state is ConnectionState.AUTH_FAILED and self.service.second_factor_required:
            self._phase = _Phase.LOGIN
            if self.login_dialog is not None:
                self.login_dialog.ask_for_code(
                    self.tr(
                        "Enter the verification code from your authenticator app ({reason})."
                    ).format(reason=detail)
                )
            self._keep(asyncio.get_running_loop().create_task(self.service.stop()))
        elif state is ConnectionState.AUTH_FAILED:
            self._login_failed(self.tr("Login refused: {reason}").format(reason=detail))
        elif state is ConnectionState.DISCONNECTED and self.service.refusal is not None:
            self._login_failed(texts.refusal_text(self.service.refusal))
        elif state is ConnectionState.DISCONNECTED:
            self._login_failed(self.tr("Cannot reach the server: {reason}").format(reason=detail))

    def _back_to_login(self, reason: str) -> None:
        """The server ended the session: close the window (nothing of it stays on the
        screen), forget what it held, and ask for a login again, saying why."""
        logger.info("session ended by the server (%s); back to the login", reason)
        self._phase = _Phase.LOGIN
        self._close_main_window()
        self._keep(
            asyncio.get_running_loop().create_task(self._reset_service(), name="dutydesk-reset")
        )
        self.show_login(
            self._server_url,
            self._username,
            self.tr("Your session was ended: {reason}. Log in again.").format(
                reason=texts.session_end_label(reason)
            ),
        )

    async def _reset_service(self) -> None:
        await self.service.stop()
        self.service.reset()

    def _on_welcomed(self, welcome: object) -> None:
        if self._phase is _Phase.CONNECTING:
            self._open_main_window()
            # The window was made while the welcome was being announced, too late to hear it.
            if self.main_window is not None and isinstance(welcome, Welcome):
                self.main_window.accept_welcome(welcome)
            if self.exercises is not None and isinstance(welcome, Welcome):
                self.exercises.accept_welcome(welcome)
            if self.login_dialog is not None:
                self.login_dialog.accept()
                self.login_dialog = None

    def _open_main_window(self) -> None:
        self._phase = _Phase.RUNNING
        window = MainWindow(
            self.service,
            self._sounder,
            self._settings,
            username=self._username,
            server=self._server_url,
            wall=self.wall,
        )
        window.closed.connect(lambda: self.finish(EXIT_OK))
        self.main_window = window
        self.sessions_action = SessionsAction(window, self.service)
        if not self.wall:
            self.exercises = WindowExercises(
                window,
                self.service,
                self._settings,
                server=self._server_url,
                username=self._username,
                use_audio=self._sounder.uses_sound_effect,
            )
        if self.idle_lock_seconds > 0:
            self.lock = ConsoleLock(
                window, self.service, idle_seconds=self.idle_lock_seconds, username=self._username
            )
        window.show()


async def run_console_async(
    server_url: str,
    username: str,
    password: str,
    *,
    screenshot: Path | None = None,
    after: float = 3.0,
    open_incident: bool = False,
    settings: QSettings | None = None,
    use_audio: bool = True,
    ca_file: str | None = None,
    idle_lock_seconds: float | None = None,
    wall: bool = False,
) -> int:
    """Run the console on the current (qasync) loop until it is closed; return the exit code."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[int] = loop.create_future()
    service = ConsoleService()
    sounder = AlarmSounder(use_audio=use_audio)
    settings = settings or open_settings()
    if ca_file is not None:
        settings.setValue(CA_FILE_KEY, ca_file)
    # No address given: the ones of the last login (several instances), else the default.
    server_url = server_url or saved_servers(settings) or DEFAULT_SERVER_URL
    session = ConsoleSession(
        service, sounder, settings, done, idle_lock_seconds=idle_lock_seconds, wall=wall
    )
    if username and password:
        session.login_unattended(server_url, username, password, ca_file=ca_file)
    else:
        session.show_login(server_url, username)
    screenshot_timer: asyncio.TimerHandle | None = None
    if screenshot is not None:
        screenshot_timer = loop.call_later(after, session.take_screenshot, screenshot)
    incident_timer: asyncio.TimerHandle | None = None
    if open_incident:
        # Early enough for the incident, its tasks and timeline to arrive before the picture.
        incident_timer = loop.call_later(
            max(after - OPEN_INCIDENT_LEAD, 0.0), session.open_first_incident
        )

    def on_interrupt(_signum: int, _frame: FrameType | None) -> None:
        logger.info("interrupted; closing the console")
        loop.call_soon_threadsafe(session.finish, EXIT_INTERRUPTED)

    previous_handler = signal.signal(signal.SIGINT, on_interrupt)
    signal_poll = QTimer()
    signal_poll.timeout.connect(lambda: None)
    signal_poll.start(SIGNAL_POLL_MS)
    try:
        return await done
    finally:
        signal_poll.stop()
        signal.signal(signal.SIGINT, previous_handler)
        for timer in (screenshot_timer, incident_timer):
            if timer is not None:
                timer.cancel()
        await session.close()


def _saved_idle_lock(settings: QSettings) -> float:
    """The idle time from the settings (minutes there), else 30 minutes."""
    value = settings.value(IDLE_LOCK_KEY)
    try:
        return float(value) * 60.0 if value is not None else DEFAULT_IDLE_LOCK_SECONDS
    except (TypeError, ValueError):
        logger.warning("ignoring the setting %s=%r: not a number of minutes", IDLE_LOCK_KEY, value)
        return DEFAULT_IDLE_LOCK_SECONDS


def run_console(
    server_url: str,
    username: str,
    password: str,
    *,
    lang: str | None = None,
    screenshot: Path | str | None = None,
    after: float = 3.0,
    ca_file: str | None = None,
    idle_lock_seconds: float | None = None,
    open_incident: bool = False,
    wall: bool = False,
) -> int:
    """Run the console (blocking) and return its exit status.

    With both ``username`` and ``password`` it logs in unattended; otherwise it opens the
    login dialog. ``lang`` is ``zh_CN`` or ``en`` (default: the saved choice, else
    Chinese). With ``screenshot`` it saves a PNG of the window after ``after`` seconds and
    exits; ``open_incident`` opens the first incident in the workspace shortly before.
    ``wall`` opens the wall display (map, queue and counters in large type, no editing).
    """
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("DutyDesk")
    # qasync would stop the loop when the login dialog closes before the main window opens.
    app.setQuitOnLastWindowClosed(False)
    settings = open_settings()
    install_translators(app, choose_language(lang, settings))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    collector = GuiThreadCollector()
    collector.start()
    try:
        return int(
            loop.run_until_complete(
                run_console_async(
                    server_url,
                    username,
                    password,
                    screenshot=Path(screenshot) if screenshot is not None else None,
                    after=after,
                    open_incident=open_incident,
                    settings=settings,
                    ca_file=ca_file,
                    idle_lock_seconds=idle_lock_seconds,
                    wall=wall,
                )
            )
        )
    finally:
        collector.stop()
        loop.close()
        asyncio.set_event_loop(None)
