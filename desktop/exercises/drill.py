"""The drill console: a second window on an exercise, which says so on every view.

A :class:`DrillSession` opens a second connection of the same login (the live session's
token) to the run's console path on the same server, with its own
:class:`~desktop.service.ConsoleService` that refuses anything not marked with this run
(:mod:`desktop.exercises.marks`): a Welcome without the mark closes it before any window
opens, so live data is never shown as a drill. The :class:`DrillWindow` is the whole
console (queue, map, incidents, …) with a banner that cannot be closed
「演练 · <title> · <speed>× · 演练时间 hh:mm:ss」, an orange frame, a title starting 【演练】
and tray notes starting 【演练】. When the run ends the connection is closed and the banner
says so; closing the window leaves the live one untouched.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec
from PySide6.QtCore import QCoreApplication, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolBar, QWidget

from desktop.exercises.state import (
    CLOSED_STATES,
    DrillClock,
    ExerciseRuns,
    clock_text,
    drill_url,
    speed_text,
)
from desktop.main_window import MainWindow
from desktop.plain_text import make_plain
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.client import ConnectionState
from realtime.protocol import Event, ExerciseRunView, Telemetry, Welcome

logger = logging.getLogger(__name__)

DRILL_COLOUR = "#e67e22"
"""The colour of everything that says "drill" (frame, banner)."""
ENDED_COLOUR = "#7f8c8d"
BANNER_TICK_MS = 500


def drill_prefix() -> str:
    """What starts a drill window's title and its tray notes."""
    return QCoreApplication.translate("Exercises", "[DRILL] ")


class DrillBanner(QLabel):
    """「演练 · <title> · <speed>× · 演练时间 hh:mm:ss」, redrawn twice a second."""

    def __init__(self, clock: DrillClock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        make_plain(self)
        self.setObjectName("exercise_banner")
        self.clock = clock
        self.ended_text = ""
        """Set when the run ended: the banner says so instead of the clock."""
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._paint(DRILL_COLOUR)
        self._timer = QTimer(self)
        self._timer.setInterval(BANNER_TICK_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def _paint(self, colour: str) -> None:
        self.setStyleSheet(
            f"#exercise_banner {{ background: {colour}; color: white; font-weight: bold;"
            " font-size: 15px; padding: 6px 12px; }"
        )

    def refresh(self) -> None:
        """Redraw the text (the exercise clock moves on)."""
        now = self.clock.now()
        text = self.tr("DRILL · {title} · {speed} · exercise time {time}").format(
            title=self.clock.title,
            speed=speed_text(self.clock.speed),
            time=clock_text(now) if now is not None else "--:--:--",
        )
        if self.ended_text:
            text = f"{text} · {self.ended_text}"
        self.setText(text)

    def show_ended(self, text: str) -> None:
        """Say the run is over (the clock stops)."""
        self.ended_text = text
        self._timer.stop()
        self._paint(ENDED_COLOUR)
        self.refresh()

    def stop(self) -> None:
        """Stop redrawing."""
        self._timer.stop()


class DrillWindow(MainWindow):
    """The whole console on an exercise, marked as a drill everywhere."""

    def __init__(
        self,
        service: ConsoleService,
        sounder: AlarmSounder,
        settings: QSettings,
        *,
        clock: DrillClock,
        username: str,
        server: str,
    ) -> None:
        self.clock = clock
        super().__init__(
            service,
            sounder,
            settings,
            username=username,
            server=server,
            clock=clock.exercise_now,
        )
        self.setObjectName("exercise_window")
        self.setStyleSheet(
            f"QMainWindow#exercise_window {{ border: 6px solid {DRILL_COLOUR}; }}"
            f" QStatusBar {{ background: {DRILL_COLOUR}; color: white; }}"
        )
        self.exercise_banner = DrillBanner(clock, self)
        self.banner_bar = QToolBar(self.tr("Exercise"), self)
        self.banner_bar.setObjectName("exercise_banner_bar")
        self.banner_bar.setMovable(False)
        self.banner_bar.setFloatable(False)
        self.banner_bar.toggleViewAction().setVisible(False)  # not in the toolbar menu
        self.banner_bar.addWidget(self.exercise_banner)
        self.exercise_banner.setSizePolicy(
            QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred
        )
        first = next(iter(self.findChildren(QToolBar)), None)
        if first is not None and first is not self.banner_bar:
            self.insertToolBar(first, self.banner_bar)
            self.insertToolBarBreak(first)
        else:
            self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.banner_bar)
        self.banner_bar.visibilityChanged.connect(self._keep_banner)
        self.attention.tray.prefix = drill_prefix()
        if self.attention.tray.tray is not None:
            self.attention.tray.tray.setToolTip(drill_prefix() + "DutyDesk")
        self.setWindowTitle(self.windowTitle())

    def setWindowTitle(self, title: str) -> None:  # noqa: N802 - Qt's name
        """Every title of this window starts with the drill prefix."""
        prefix = drill_prefix()
        super().setWindowTitle(title if title.startswith(prefix) else prefix + title)

    def restore_layout(self) -> None:
        """Restore the layout, but never without the banner."""
        super().restore_layout()
        if hasattr(self, "banner_bar"):
            self.banner_bar.show()

    def reset_layout(self) -> None:
        """Put the docks back; the banner stays."""
        super().reset_layout()
        self.banner_bar.show()

    def _keep_banner(self, visible: bool) -> None:
        if not visible and self.isVisible():
            self.banner_bar.show()

    def show_ended(self, text: str) -> None:
        """The run is over: say so on the banner and over the queue."""
        self.exercise_banner.show_ended(text)
        self.notification_bar.show_message(text, error=True)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        """Stop the banner's clock, then close as the console does."""
        self.exercise_banner.stop()
        super().closeEvent(event)


class DrillSession(QObject):
    """One drill console: its connection, its window, and their end."""

    opened = Signal(object)
    """The window opened (the :class:`DrillWindow`)."""
    failed = Signal(str, str)
    """(run id, why): the drill console did not open or was closed by what happened."""
    ended = Signal(str)
    """The window was closed and the connection stopped (the run id)."""

    def __init__(
        self,
        run: ExerciseRunView,
        *,
        live_service: ConsoleService,
        live_url: str,
        username: str,
        settings: QSettings,
        runs: ExerciseRuns,
        use_audio: bool = True,
        service: ConsoleService | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.run_id = run.run_id
        self.url = drill_url(live_url, run.run_id)
        self._live_url = live_url
        self._live_service = live_service
        self._username = username
        self._settings = settings
        self._runs = runs
        self._use_audio = use_audio
        self.service = service if service is not None else ConsoleService(exercise_run=run.run_id)
        if self.service.exercise_run != run.run_id:
            raise ValueError("a drill console's service must expect its run's mark")
        self.clock = DrillClock.of_run(run, runs.now)
        self.window: DrillWindow | None = None
        self.ended_reason = ""
        """Why the drill console was closed by the server side ("" while it was not)."""
        self._tasks: set[asyncio.Task[Any]] = set()
        self._was_live = False
        self.service.welcomed.connect(self._on_welcomed)
        self.service.mark_refused.connect(self._on_refused)
        self.service.connection_changed.connect(self._on_connection)
        self.service.event_received.connect(self._on_event)
        self.service.telemetry_received.connect(self._on_telemetry)
        runs.add_listener(self._on_run_changed)

    def start(self) -> None:
        """Connect with the live session's token (the password is not kept)."""
        self.service.start(
            self.url,
            self._username,
            "",
            token=self._live_service.session_token,
            ca_file=self._live_service.ca_file,
        )

    # ------------------------------------------------------------------ what arrives

    def _on_welcomed(self, welcome: Welcome) -> None:
        if welcome.exercise is not None:
            self.clock.set_label(welcome.exercise)
        if self.window is not None:
            return
        window = DrillWindow(
            self.service,
            AlarmSounder(use_audio=self._use_audio, parent=self),
            self._settings,
            clock=self.clock,
            username=self._username,
            server=f"{self._live_url}#drill",
        )
        window.accept_welcome(welcome)
        window.closed.connect(self._on_window_closed)
        self.window = window
        window.show()
        self.opened.emit(window)

    def _on_event(self, event: Event) -> None:
        # The service let it through, so it carries this run's mark.
        if not isinstance(event.exercise, msgspec.UnsetType):
            self.clock.set_label(event.exercise)

    def _on_telemetry(self, telemetry: Telemetry) -> None:
        if not isinstance(telemetry.exercise, msgspec.UnsetType):
            self.clock.set_label(telemetry.exercise)

    def _on_run_changed(self, run_id: str | None) -> None:
        held = self._runs.held(self.run_id)
        if held is None or run_id not in (None, self.run_id):
            return
        self.clock.set_run(held)
        if held.view.state in CLOSED_STATES:
            self._end(self.tr("The exercise has ended; its console is disconnected."))

    def _on_refused(self, reason: str) -> None:
        self._end(
            self.tr("The exercise console was closed: {reason}").format(reason=reason),
            refused=True,
        )

    def _on_connection(self, state: ConnectionState, detail: str) -> None:
        if state is ConnectionState.LIVE:
            self._was_live = True
        elif state is ConnectionState.DISCONNECTED and not self._was_live:
            # Never in (not running, not taking part): retrying would not mend it.
            self._end(
                self.tr("The exercise console could not open: {reason}").format(reason=detail)
            )
        elif state is ConnectionState.CLOSED and detail:
            # Closed by the server (close code 4020, the run ended), not by this console.
            self._end(self.tr("The exercise has ended; its console is disconnected."))
        elif state is ConnectionState.SESSION_ENDED:
            self._end(self.tr("The exercise session was ended: {reason}").format(reason=detail))
        elif state is ConnectionState.AUTH_FAILED:
            self._end(self.tr("The exercise console was refused: {reason}").format(reason=detail))

    # ------------------------------------------------------------------ ending

    def _end(self, text: str, *, refused: bool = False) -> None:
        """Close the connection and say why (on the window, or to the live window when
        none opened)."""
        if self.ended_reason:
            return
        self.ended_reason = text
        logger.info("drill console of %s closed: %s", self.run_id, text)
        self._keep(self.service.stop())
        if self.window is not None and not refused:
            self.window.show_ended(text)
        elif self.window is not None:
            # What arrived cannot be trusted: nothing of it stays on the screen.
            self.window.close()
        self.failed.emit(self.run_id, text)

    def _on_window_closed(self) -> None:
        self.window = None
        self._keep(self._finish())

    async def _finish(self) -> None:
        await self.service.stop()
        self.ended.emit(self.run_id)

    def raise_window(self) -> bool:
        """Bring the open window to the front."""
        if self.window is None:
            return False
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
        return True

    def _keep(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine, name="dutydesk-drill")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Close the window and the connection; wait for both."""
        self._runs.remove_listener(self._on_run_changed)
        if self.window is not None:
            window, self.window = self.window, None
            window.closed.disconnect(self._on_window_closed)
            window.close()
        await self.service.stop()
        tasks = list(self._tasks)
        await asyncio.gather(*tasks, return_exceptions=True)
