"""Exercises (演练) on the wire: recordings of real incidents (and shipped scenarios),
replayed through the real pipeline into an isolated exercise, steered by a trainer and
scored.

An exercise runs beside the live system, never in it: it has its own database, event log
(its own ``seq`` from 1), alarms, incidents and tasks. Consoles taking part open a second
connection to the exercise's path (:attr:`ExerciseRunView.console_path`) on the same server
and with the same account; every message on it is marked with the exercise
(:class:`ExerciseLabel` on ``welcome``, ``snapshot``, ``event`` and ``telemetry``), so a
console can never mistake a drill for the real thing. On the live connection only the
exercise's own life cycle (``exercise.*`` events, carrying :class:`ExerciseRunView`) is
seen, and only by trainers and the participants.

The trainer's commands go to the live connection (``exercise.*``); the participants work
the exercise's alarms and incidents with the ordinary commands on the exercise connection.
"""

from __future__ import annotations

import enum
from typing import Annotated, Final

import msgspec

from realtime.protocol.common import AwareDateTime, ShortText, Tagged

EXERCISE_PATH_PREFIX: Final = "/exercise/"
"""Consoles taking part connect to ``/exercise/<run_id>/console`` (the same handshake and
account as ``/console``)."""
MAX_SPEED: Final = 64.0
"""The fastest replay: 64 recorded seconds per second."""
MAX_PARTICIPANTS: Final = 50
"""The most users one exercise names as participants."""
MAX_RECORDING_NAME: Final = 120

Speed = Annotated[float, msgspec.Meta(ge=1.0, le=MAX_SPEED)]
"""Replay speed: 1 (real time) to :data:`MAX_SPEED`."""
RunId = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
"""An exercise run's id (letters, digits, ``-`` and ``_``; it appears in a URL path)."""
RecordingName = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=MAX_RECORDING_NAME, pattern=r"^[A-Za-z0-9_.-]+$"),
]
"""A recording in the server's library: a shipped scenario's directory name or a file name
under ``data_dir/recordings`` (no path separators)."""


class RecordingSource(enum.StrEnum):
    """Where a recording came from."""

    INCIDENT = "incident"
    """Made automatically around a real incident (a window before and after)."""
    WINDOW = "window"
    """Made on demand for a time window (``dutydesk record`` or ``exercise.record``)."""
    SCENARIO = "scenario"
    """A shipped scenario (``resources/scenarios/``), built on a public accident report."""


class ExerciseState(enum.StrEnum):
    """An exercise run's life cycle: preparing → running ⇄ paused → finished | stopped."""

    PREPARING = "preparing"
    """Its database and gateways are being set up from the recording."""
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    """The recording was replayed to its end (the participants may still be working)."""
    STOPPED = "stopped"
    """The trainer ended it; its data is kept for the after-action review and the score."""


class ControlAction(enum.StrEnum):
    """What a trainer does to a running exercise with ``exercise.control``."""

    PAUSE = "pause"
    RESUME = "resume"
    SEEK = "seek"
    """Jump to ``position_s`` of the recording (forward: the inputs in between are
    replayed at once, in order; backward is refused — what happened stays happened)."""
    SPEED = "speed"
    """Change the speed to ``speed``."""


class InjectKind(enum.StrEnum):
    """Events a trainer adds to a running exercise (``exercise.inject``); ``target`` names
    what they happen to."""

    SENSOR_FAILS = "sensor_fails"
    """The sensor ``target`` (its code) stops reporting and reports a fault."""
    TRUCK_SOS = "truck_sos"
    """The terminal ``target`` (its phone number) presses SOS (a JT/T 808 alarm frame
    through the exercise's gateway)."""
    CAMERA_DROPS = "camera_drops"
    """The camera ``target`` (its code) goes offline."""
    TASK_DECLINED = "task_declined"
    """The task ``target`` (its id) is declined by its agency (``note`` is the reason)."""


class ExerciseLabel(msgspec.Struct, kw_only=True, frozen=True):
    """What marks every message of an exercise connection."""

    run_id: str
    title: str
    speed: float
    state: ExerciseState


class RecordingInfo(msgspec.Struct, kw_only=True):
    """One recording of the server's library."""

    name: str
    """Its name in the library (:data:`RecordingName`)."""
    title: str
    source: RecordingSource
    description: str = ""
    window_from: AwareDateTime
    """The first recorded instant (for a scenario: its own timeline's start)."""
    window_to: AwareDateTime
    duration_s: float
    devices: int
    """Devices (terminals, sensors, receivers) whose input it holds."""
    inputs: int
    """Device inputs (frames, messages, sentences, readings) it holds."""
    alarms: int
    """Alarms raised in the original response (0 for a scenario without one)."""
    masked: bool
    """True when personal data in it is masked."""
    sources: list[str] = msgspec.field(default_factory=list)
    """For a scenario: the public reports its timeline is built on (title, publisher, year)."""
    area: str = ""
    """The jurisdiction a recording of live data was limited to ("" the whole area): only
    users whose area contains it see the recording (scenarios: everyone)."""


class ExerciseRunView(msgspec.Struct, kw_only=True):
    """One exercise run as the trainer and the participants see it."""

    run_id: str
    recording: str
    title: str
    state: ExerciseState
    speed: float
    trainer: str
    participants: list[str]
    jurisdiction: str
    """The trainer's area when the run started (a supervisor of it sees the run)."""
    started_at: AwareDateTime
    """When the run started (wall clock)."""
    ended_at: AwareDateTime | None = None
    position_s: float
    """How far into the recording the replay is (recorded seconds)."""
    duration_s: float
    exercise_time: AwareDateTime
    """The exercise's clock now: it starts at the wall clock and runs at ``speed``."""
    console_path: str
    """Where participants connect (:data:`EXERCISE_PATH_PREFIX` + ``<run_id>/console``)."""
    alarms: int = 0
    """Alarms raised in the exercise so far."""
    injected: int = 0
    """Events the trainer injected so far."""


class ListRecordings(Tagged, tag="exercise.recordings"):
    """Ask for the recordings of the server's library (shipped scenarios first)."""

    req: str


class StartExercise(Tagged, tag="exercise.start"):
    """Start replaying ``recording`` into a new isolated exercise."""

    req: str
    recording: RecordingName
    speed: Speed = 1.0
    participants: Annotated[list[ShortText], msgspec.Meta(max_length=MAX_PARTICIPANTS)] = (
        msgspec.field(default_factory=list)
    )
    """Usernames taking part (the trainer always does)."""
    title: ShortText = ""
    """Shown in every participant's banner (default: the recording's title)."""


class ListExercises(Tagged, tag="exercise.list"):
    """Ask for the exercise runs the user started or takes part in (a supervisor: all)."""

    req: str
    include_ended: bool = True


class ControlExercise(Tagged, tag="exercise.control"):
    """Pause, resume, seek or change the speed of a run."""

    req: str
    run_id: RunId
    action: ControlAction
    speed: Speed | None = None
    """For ``speed``."""
    position_s: Annotated[float, msgspec.Meta(ge=0.0)] | None = None
    """For ``seek``."""


class InjectEvent(Tagged, tag="exercise.inject"):
    """Add an event to a running exercise (see :class:`InjectKind`)."""

    req: str
    run_id: RunId
    kind: InjectKind
    target: ShortText
    note: ShortText = ""


class StopExercise(Tagged, tag="exercise.stop"):
    """End a run (its data and score are kept)."""

    req: str
    run_id: RunId


class GetExerciseScore(Tagged, tag="exercise.score"):
    """Ask for a run's score, compared with the original response and earlier runs."""

    req: str
    run_id: RunId


class RecordWindow(Tagged, tag="exercise.record"):
    """Record a window of live input and events into the library (the user's area only;
    personal data masked unless the role may see it)."""

    req: str
    from_at: AwareDateTime
    to_at: AwareDateTime
    title: ShortText = ""


class RecordingsResult(msgspec.Struct, tag="exercise_recordings", kw_only=True):
    recordings: list[RecordingInfo]


class RecordingResult(msgspec.Struct, tag="exercise_recording", kw_only=True):
    recording: RecordingInfo


class ExerciseResult(msgspec.Struct, tag="exercise", kw_only=True):
    run: ExerciseRunView


class ExercisesResult(msgspec.Struct, tag="exercises", kw_only=True):
    runs: list[ExerciseRunView]


class ScoreFigures(msgspec.Struct, kw_only=True):
    """A response's figures (the exercise's, the original's or an earlier run's)."""

    alarms: int
    acknowledged: int
    missed: int
    """Alarms never acknowledged before the end."""
    late: int
    """Alarms acknowledged after their level's limit."""
    acknowledge_p50_s: float | None = None
    acknowledge_max_s: float | None = None
    dispatch_p50_s: float | None = None
    """From raised to the first dispatch (units or a task) of the alarm or its incident."""
    arrive_p50_s: float | None = None
    """From raised to the first arrival on scene."""
    close_p50_s: float | None = None
    tasks: int = 0
    tasks_overdue: int = 0
    score: float
    """0–100 (docs/exercises.md says how it is made up)."""


class AlarmScore(msgspec.Struct, kw_only=True):
    """One alarm of the exercise and how it was handled."""

    title: str
    level: int
    alarm_type: str
    device: str
    raised_offset_s: float
    """When it was raised, in recorded seconds from the start."""
    acknowledge_s: float | None = None
    dispatch_s: float | None = None
    arrive_s: float | None = None
    close_s: float | None = None
    late: bool = False
    missed: bool = False


class EarlierRun(msgspec.Struct, kw_only=True):
    run_id: str
    started_at: AwareDateTime
    speed: float
    figures: ScoreFigures


class ExerciseScore(msgspec.Struct, kw_only=True):
    """A run's score."""

    run_id: str
    recording: str
    title: str
    ended: bool
    """False while the run goes on (the figures so far)."""
    figures: ScoreFigures
    original: ScoreFigures | None = None
    """The response in the recording (``None`` for a scenario without one)."""
    earlier: list[EarlierRun] = msgspec.field(default_factory=list)
    """Earlier runs of the same recording, newest first."""
    alarms: list[AlarmScore] = msgspec.field(default_factory=list)


class ExerciseScoreResult(msgspec.Struct, tag="exercise_score", kw_only=True):
    score: ExerciseScore


def exercise_console_path(run_id: str) -> str:
    """Where the consoles taking part in ``run_id`` connect."""
    return f"{EXERCISE_PATH_PREFIX}{run_id}/console"
