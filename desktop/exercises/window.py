"""The exercises part of the live window: the 演练 dock and menu, the notice of a run the
user takes part in, the drill consoles opened from it, and the score dialog.

Kept out of :mod:`desktop.main_window` so the window stays layout and wiring. The live
window stays live: only the ``exercise.*`` life-cycle events reach it (as entries of its
log and as runs here); a drill is worked in its own window (:mod:`desktop.exercises.drill`).
"""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QCoreApplication, QObject, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from desktop.exercises.desk import ExerciseDesk
from desktop.exercises.drill import DRILL_COLOUR, DrillSession, DrillWindow
from desktop.exercises.panel import ExercisePanel
from desktop.exercises.score_view import ScoreDialog
from desktop.exercises.state import CLOSED_STATES, KnownTargets, speed_text, takes_part
from desktop.main_window import MainWindow
from desktop.plain_text import plain_label
from desktop.service import ConsoleService
from realtime.protocol import (
    ExerciseRunView,
    ExerciseScore,
    ResultData,
    RosterResult,
    RosterToday,
    Welcome,
)

logger = logging.getLogger(__name__)

PANEL_KEY = "Ctrl+Shift+E"
JOIN_KEY = "Ctrl+Shift+J"


def known_targets(window: MainWindow) -> KnownTargets:
    """What ``window``'s console knows that an injection may name."""
    model = window.model
    return KnownTargets(
        sensors={code: sensor.name for code, sensor in model.sensors.items()},
        terminals={
            identity: device.plate or device.name
            for identity, device in model.roster.devices.items()
        },
        cameras={code: camera.name for code, camera in model.cameras.items()},
        tasks={
            task.id: task.assignee_name or task.assignee_ref
            for task in window.incident_desk.board.tasks.values()
        },
    )


class ExerciseNotice(QWidget):
    """「演练开始 … [加入]」 over the live queue: non-blocking, closable."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exercise_notice")
        self.setStyleSheet(
            f"#exercise_notice {{ background: #fdebd0; border: 2px solid {DRILL_COLOUR}; }}"
        )
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        self.label = plain_label(parent=self)
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.join_button = QPushButton(self.tr("Join the exercise"), self)
        layout.addWidget(self.join_button)
        close_button = QPushButton("×", self)
        close_button.setFlat(True)
        close_button.setFixedWidth(28)
        close_button.clicked.connect(self.hide)
        layout.addWidget(close_button)
        self.run: ExerciseRunView | None = None
        self.hide()

    def show_run(self, run: ExerciseRunView) -> None:
        """Say that ``run`` started and that the user takes part."""
        self.run = run
        self.label.setText(
            self.tr(
                "Exercise “{title}” ({speed}) started by {trainer}; you take part. This "
                "window stays live."
            ).format(title=run.title, speed=speed_text(run.speed), trainer=run.trainer)
        )
        self.show()


class WindowExercises(QObject):
    """Builds and wires the live window's exercise views; owns the drill consoles."""

    def __init__(
        self,
        window: MainWindow,
        service: ConsoleService,
        settings: QSettings,
        *,
        server: str,
        username: str,
        use_audio: bool = True,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._service = service
        self._settings = settings
        self._server = server
        self._username = username
        self._use_audio = use_audio
        self.desk = ExerciseDesk(service, self)
        self.roster_users: set[str] = set()
        self.panel = ExercisePanel(
            self.desk,
            service,
            known_users=self.known_users,
            known_targets=self.targets_for,
            parent=window,
        )
        self.dock = QDockWidget(QCoreApplication.translate("MainWindow", "Exercises"), window)
        self.dock.setObjectName("exercises_dock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        window.tabifyDockWidget(window.registry.dock, self.dock)
        window.event_log_dock.raise_()
        window.restore_layout()  # the dock came after the window restored its layout
        menu = window.menuBar().addMenu(QCoreApplication.translate("MainWindow", "E&xercises"))
        self.panel_action = QAction(
            QCoreApplication.translate("MainWindow", "Exercises panel"), window
        )
        self.panel_action.setShortcut(QKeySequence(PANEL_KEY))
        self.panel_action.triggered.connect(self.show_panel)
        menu.addAction(self.panel_action)
        self.join_action = QAction(
            QCoreApplication.translate("MainWindow", "Join the exercise I take part in"), window
        )
        self.join_action.setShortcut(QKeySequence(JOIN_KEY))
        self.join_action.triggered.connect(self.join_newest)
        menu.addAction(self.join_action)
        central = window.centralWidget()
        self.notice = ExerciseNotice(central)
        central_layout = central.layout() if central is not None else None
        if isinstance(central_layout, QVBoxLayout):
            # Under the connection banner and the notification line, over the queue.
            central_layout.insertWidget(2, self.notice)
        self.notice.join_button.clicked.connect(self._join_from_notice)
        self.sessions: dict[str, DrillSession] = {}
        """The open drill consoles by run id."""
        self._ending: set[DrillSession] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.score_dialog: ScoreDialog | None = None

        self.desk.message.connect(
            lambda text, error: window.notification_bar.show_message(text, error=error)
        )
        self.desk.score_ready.connect(self.show_score)
        self.desk.run_started_for_me.connect(self.notice.show_run)
        self.desk.started.connect(self._on_started)
        self.panel.join_requested.connect(self.join)
        service.welcomed.connect(self._ask_roster)

    def accept_welcome(self, welcome: Welcome) -> None:
        """Take a login announced before these views existed (the login dialog's)."""
        self.desk.on_welcome(welcome)
        self.panel.on_welcome(welcome)
        self._ask_roster()

    # ------------------------------------------------------------------ panel

    def show_panel(self) -> None:
        """Show and raise the 演练 dock."""
        self.dock.show()
        self.dock.raise_()

    def known_users(self) -> list[str]:
        """The users the console knows (on duty today, in the runs), not the user."""
        names = set(self.roster_users)
        for run in self.desk.runs.runs():
            names.update(run.participants)
            names.add(run.trainer)
        names.discard(self._username)
        return sorted(names)

    def targets_for(self, run_id: str) -> KnownTargets:
        """What an injection into ``run_id`` may name: the run's own devices when its
        drill console is open here, else what the live console knows."""
        session = self.sessions.get(run_id)
        if session is not None and session.window is not None:
            return known_targets(session.window)
        return known_targets(self._window)

    def _ask_roster(self, *_args: object) -> None:
        self._service.query(RosterToday(req=""), self._on_roster, lambda _code, _message: None)

    def _on_roster(self, result: ResultData) -> None:
        if isinstance(result, RosterResult):
            self.roster_users = {entry.username for entry in result.entries}

    def show_score(self, score: ExerciseScore) -> ScoreDialog:
        """Open a run's score."""
        if self.score_dialog is not None:
            self.score_dialog.close()
        dialog = ScoreDialog(score, self._window)
        self.score_dialog = dialog
        dialog.show()
        return dialog

    def _on_started(self, run: ExerciseRunView) -> None:
        self.panel.select_run(run.run_id)

    # ------------------------------------------------------------------ drill consoles

    def _join_from_notice(self) -> None:
        if self.notice.run is not None:
            self.join(self.desk.runs.get(self.notice.run.run_id) or self.notice.run)
        self.notice.hide()

    def join_newest(self) -> None:
        """Join the newest run still going that the user takes part in."""
        for run in self.desk.runs.runs():
            if run.state not in CLOSED_STATES and takes_part(run, self._username):
                self.join(run)
                return

    def join(self, run: ExerciseRunView) -> DrillSession:
        """Open (or bring forward) the drill console of ``run``."""
        held = self.sessions.get(run.run_id)
        if held is not None and held.raise_window():
            return held
        if held is not None:
            return held  # still connecting
        session = DrillSession(
            run,
            live_service=self._service,
            live_url=self._server,
            username=self._username,
            settings=self._settings,
            runs=self.desk.runs,
            use_audio=self._use_audio,
            parent=self,
        )
        session.failed.connect(self._on_failed)
        session.ended.connect(self._on_ended)
        self.sessions[run.run_id] = session
        session.start()
        return session

    def drill_window(self, run_id: str) -> DrillWindow | None:
        """The open drill window of ``run_id``."""
        session = self.sessions.get(run_id)
        return session.window if session is not None else None

    def _on_failed(self, run_id: str, text: str) -> None:
        session = self.sessions.get(run_id)
        if session is not None and session.window is None:
            # Nothing opened: say why here, and forget it.
            self._window.notification_bar.show_message(text, error=True)
            self._retire(run_id)

    def _on_ended(self, run_id: str) -> None:
        self._retire(run_id)

    def _retire(self, run_id: str) -> None:
        session = self.sessions.pop(run_id, None)
        if session is None:
            return
        self._ending.add(session)
        task = asyncio.get_running_loop().create_task(self._close(session), name="drill-close")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close(self, session: DrillSession) -> None:
        try:
            await session.aclose()
        finally:
            self._ending.discard(session)
            session.deleteLater()

    def close_all(self) -> None:
        """Close every drill console (the live window is closing)."""
        self.panel.shutdown()
        for run_id in list(self.sessions):
            self._retire(run_id)

    async def aclose(self) -> None:
        """Close every drill console and wait until their connections are closed."""
        self.close_all()
        tasks = list(self._tasks)
        await asyncio.gather(*tasks, return_exceptions=True)
