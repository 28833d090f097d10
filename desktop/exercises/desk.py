"""The exercises' commands and what they bring back: the library, the runs, the scores.

:class:`ExerciseDesk` sends the ``exercise.*`` commands through the
:class:`~desktop.service.ConsoleService` (the live connection: the trainer steers a run from
there) and keeps the runs in an :class:`~desktop.exercises.state.ExerciseRuns`; the live
``exercise.*`` events update them too. Views listen to its signals; none awaits the network.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from desktop import texts
from desktop.exercises.state import ExerciseRuns, takes_part
from desktop.service import ConsoleService
from realtime.event_kinds import EventKind
from realtime.protocol import (
    ControlExercise,
    Event,
    ExerciseResult,
    ExerciseScoreResult,
    ExercisesResult,
    GetExerciseScore,
    InjectEvent,
    ListExercises,
    ListRecordings,
    RecordingInfo,
    RecordingsResult,
    ResultData,
    Role,
    StartExercise,
    StopExercise,
    Welcome,
)
from realtime.protocol.exercises import ControlAction, ExerciseRunView, InjectKind

logger = logging.getLogger(__name__)


class ExerciseDesk(QObject):
    """Sends the exercise commands and holds the library and the runs."""

    recordings_changed = Signal(list)
    """The library arrived (a list of :class:`~realtime.protocol.RecordingInfo`)."""
    started = Signal(object)
    """A run this console started (an :class:`~realtime.protocol.ExerciseRunView`)."""
    score_ready = Signal(object)
    """A run's score arrived (an :class:`~realtime.protocol.ExerciseScore`)."""
    message = Signal(str, bool)
    """(text, is_error): a command's outcome, for the window's notification bar."""
    run_started_for_me = Signal(object)
    """The live log says a run started that this user takes part in (a run view)."""

    def __init__(self, service: ConsoleService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self.runs = ExerciseRuns()
        self.recordings: list[RecordingInfo] = []
        service.event_received.connect(self.apply_event)
        service.welcomed.connect(self.on_welcome)

    @property
    def username(self) -> str:
        """Who is logged in ("" before the welcome)."""
        user = self._service.user
        return user.username if user is not None else ""

    def on_welcome(self, _welcome: Welcome | None = None) -> None:
        """After a login: read the library and the runs afresh."""
        self.runs.clear()
        user = self._service.user
        if user is not None and user.role is Role.ENTERPRISE:
            return  # an enterprise user's console holds its workplace only
        self.refresh()

    def refresh(self) -> None:
        """Ask for the library and the runs again."""
        self._service.query(ListRecordings(req=""), self._on_recordings, self._on_error)
        self._service.query(ListExercises(req=""), self._on_runs, self._on_error)

    def apply_event(self, event: Event) -> None:
        """Take a live ``exercise.*`` event (others are not ours)."""
        run = self.runs.apply_event(event)
        if run is None:
            return
        if (
            event.kind == EventKind.EXERCISE_STARTED
            and takes_part(run, self.username)
            and event.actor != self.username
        ):
            self.run_started_for_me.emit(run)

    # ------------------------------------------------------------------ commands

    def start(self, recording: str, *, speed: float, participants: list[str], title: str) -> None:
        """Start ``recording`` as a new run."""
        command = StartExercise(
            req="", recording=recording, speed=speed, participants=participants, title=title
        )
        self._service.query(command, self._on_started, self._on_error)

    def pause(self, run_id: str) -> None:
        """Pause a running run."""
        self._control(ControlExercise(req="", run_id=run_id, action=ControlAction.PAUSE))

    def resume(self, run_id: str) -> None:
        """Let a paused run go on."""
        self._control(ControlExercise(req="", run_id=run_id, action=ControlAction.RESUME))

    def seek(self, run_id: str, position_s: float) -> None:
        """Jump forward to ``position_s`` of the recording."""
        self._control(
            ControlExercise(req="", run_id=run_id, action=ControlAction.SEEK, position_s=position_s)
        )

    def set_speed(self, run_id: str, speed: float) -> None:
        """Replay at ``speed`` from now on."""
        self._control(
            ControlExercise(req="", run_id=run_id, action=ControlAction.SPEED, speed=speed)
        )

    def inject(self, run_id: str, kind: InjectKind, target: str, note: str) -> None:
        """Add an event to a running run."""
        command = InjectEvent(req="", run_id=run_id, kind=kind, target=target, note=note)
        self._service.query(command, self._on_injected, self._on_error)

    def stop(self, run_id: str) -> None:
        """End a run (its data and score are kept)."""
        self._service.query(StopExercise(req="", run_id=run_id), self._on_stopped, self._on_error)

    def ask_score(self, run_id: str) -> None:
        """Ask for a run's score; it arrives as :attr:`score_ready`."""
        self._service.query(GetExerciseScore(req="", run_id=run_id), self._on_score, self._on_error)

    def _control(self, command: ControlExercise) -> None:
        self._service.query(command, self._on_controlled, self._on_error)

    # ------------------------------------------------------------------ answers

    def _on_recordings(self, result: ResultData) -> None:
        if isinstance(result, RecordingsResult):
            self.recordings = list(result.recordings)
            self.recordings_changed.emit(self.recordings)

    def _on_runs(self, result: ResultData) -> None:
        if isinstance(result, ExercisesResult):
            self.runs.replace(result.runs)

    def _on_controlled(self, result: ResultData) -> None:
        self._on_run(result)

    def _on_run(self, result: ResultData) -> ExerciseRunView | None:
        if not isinstance(result, ExerciseResult):
            return None
        self.runs.upsert(result.run)
        return result.run

    def _on_started(self, result: ResultData) -> None:
        run = self._on_run(result)
        if run is not None:
            self.message.emit(self.tr("Exercise “{title}” started.").format(title=run.title), False)
            self.started.emit(run)

    def _on_injected(self, result: ResultData) -> None:
        if self._on_run(result) is not None:
            self.message.emit(self.tr("Event injected into the exercise."), False)

    def _on_stopped(self, result: ResultData) -> None:
        run = self._on_run(result)
        if run is not None:
            self.message.emit(self.tr("Exercise “{title}” ended.").format(title=run.title), False)

    def _on_score(self, result: ResultData) -> None:
        if isinstance(result, ExerciseScoreResult):
            self.score_ready.emit(result.score)

    def _on_error(self, code: str, message: str) -> None:
        logger.info("exercise command refused: %s %s", code, message)
        self.message.emit(
            self.tr("Exercise: {summary} ({reason})").format(
                summary=texts.error_summary(code), reason=message
            ),
            True,
        )
