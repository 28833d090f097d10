"""Exercises (演练) as the console holds them (no Qt): the runs it knows, their clocks,
who may steer them, where a drill console connects, and the targets an injection may
name.

The runs come from ``exercise.list`` answers and the live ``exercise.*`` life-cycle events
(each carries the run as it is after the change); a newer view of a run replaces an older
one. The exercise clock is carried forward between views: it runs at the run's speed while
the run runs and stands still otherwise.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import urllib.parse
import zoneinfo
from collections.abc import Callable, Iterable, Mapping

import msgspec

from realtime.event_kinds import EventKind
from realtime.protocol import Event, ExerciseRunView, Role, UserInfo
from realtime.protocol.exercises import (
    ExerciseLabel,
    ExerciseState,
    InjectKind,
    exercise_console_path,
)

DISPLAY_TIMEZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
"""The zone of every time on screen (:data:`desktop.texts.DISPLAY_TIMEZONE`, without Qt)."""
STEERING_ROLES = frozenset({Role.TRAINER, Role.SUPERVISOR, Role.ADMIN})
"""Roles offered the trainer's controls (a courtesy: the server's permission table decides)."""
ENDED_STATES = frozenset({ExerciseState.FINISHED, ExerciseState.STOPPED})
"""A run in one of these states is over: nothing more is replayed into it."""
CLOSED_STATES = frozenset({ExerciseState.STOPPED})
"""A run in this state takes no more work: a drill console on it is closed."""
LIFE_CYCLE_KINDS = frozenset(
    {
        EventKind.EXERCISE_STARTED,
        EventKind.EXERCISE_CHANGED,
        EventKind.EXERCISE_INJECTED,
        EventKind.EXERCISE_ENDED,
    }
)

Monotonic = Callable[[], float]
RunsListener = Callable[[str | None], None]
"""Hears the id of the run that changed, or None when the whole list was replaced."""


def may_steer(user: UserInfo | None) -> bool:
    """Whether this user's console offers starting, steering and ending exercises."""
    return user is not None and user.role in STEERING_ROLES


def is_ended(run: ExerciseRunView) -> bool:
    """Whether the replay of ``run`` is over (finished or stopped)."""
    return run.state in ENDED_STATES


def takes_part(run: ExerciseRunView, username: str) -> bool:
    """Whether ``username`` is the run's trainer or one of its participants."""
    return username == run.trainer or username in run.participants


def drill_url(live_url: str, run_id: str) -> str:
    """The address of ``run_id``'s drill console on the server behind ``live_url`` (the
    same scheme, host and port; the path is the run's console path)."""
    parts = urllib.parse.urlsplit(live_url)
    return urllib.parse.urlunsplit(
        (parts.scheme, parts.netloc, exercise_console_path(run_id), "", "")
    )


def clock_text(moment: dt.datetime) -> str:
    """``hh:mm:ss`` of ``moment`` in the zone the console shows every time in."""
    return moment.astimezone(DISPLAY_TIMEZONE).strftime("%H:%M:%S")


def duration_text(seconds: float) -> str:
    """``h:mm:ss`` (or ``m:ss`` under an hour) of a recorded span."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def speed_text(speed: float) -> str:
    """``4×`` for 4.0, ``1.5×`` for 1.5."""
    return f"{speed:g}×"


def progress_permille(run: ExerciseRunView, position_s: float | None = None) -> int:
    """How far into its recording ``run`` is, in thousandths (for a progress bar)."""
    position = run.position_s if position_s is None else position_s
    if run.duration_s <= 0:
        return 1000 if is_ended(run) else 0
    return max(0, min(1000, round(1000 * position / run.duration_s)))


@dataclasses.dataclass(frozen=True, slots=True)
class HeldRun:
    """A run as last heard, and when (on the console's monotonic clock)."""

    view: ExerciseRunView
    received: float

    def elapsed_wall(self, now: float) -> float:
        """Wall seconds since the view arrived during which the exercise clock ran."""
        if self.view.state is not ExerciseState.RUNNING:
            return 0.0
        return max(0.0, now - self.received)

    def exercise_time(self, now: float) -> dt.datetime:
        """The exercise clock now: the view's, run on at the speed while running."""
        return self.view.exercise_time + dt.timedelta(
            seconds=self.elapsed_wall(now) * self.view.speed
        )

    def position_s(self, now: float) -> float:
        """How far into the recording the replay is now (never past its end)."""
        position = self.view.position_s + self.elapsed_wall(now) * self.view.speed
        return min(position, self.view.duration_s) if self.view.duration_s > 0 else position


class ExerciseRuns:
    """The exercise runs this console knows, newest start first."""

    def __init__(self, monotonic: Monotonic = time.monotonic) -> None:
        self._monotonic = monotonic
        self._runs: dict[str, HeldRun] = {}
        self._listeners: list[RunsListener] = []

    def add_listener(self, listener: RunsListener) -> None:
        """Call ``listener`` after every change."""
        self._listeners.append(listener)

    def remove_listener(self, listener: RunsListener) -> None:
        """Stop calling ``listener``."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def __len__(self) -> int:
        return len(self._runs)

    def runs(self) -> list[ExerciseRunView]:
        """Every run, the newest start first."""
        held = sorted(self._runs.values(), key=lambda run: run.view.started_at, reverse=True)
        return [run.view for run in held]

    def get(self, run_id: str) -> ExerciseRunView | None:
        """The run ``run_id`` as last heard."""
        held = self._runs.get(run_id)
        return held.view if held is not None else None

    def held(self, run_id: str) -> HeldRun | None:
        """The run with the moment it was heard (for its clock)."""
        return self._runs.get(run_id)

    def now(self) -> float:
        """The monotonic clock the runs' clocks are carried forward on."""
        return self._monotonic()

    def replace(self, runs: Iterable[ExerciseRunView]) -> None:
        """Take an ``exercise.list`` answer (it replaces every run held)."""
        now = self._monotonic()
        self._runs = {run.run_id: HeldRun(run, now) for run in runs}
        self._notify(None)

    def upsert(self, run: ExerciseRunView) -> None:
        """Take one run as it is now (a command's answer or an event's)."""
        held = self._runs.get(run.run_id)
        if held is not None and _older(run, held.view):
            return
        self._runs[run.run_id] = HeldRun(run, self._monotonic())
        self._notify(run.run_id)

    def apply_event(self, event: Event) -> ExerciseRunView | None:
        """Take a live ``exercise.*`` life-cycle event; return the run it is about."""
        if event.kind not in LIFE_CYCLE_KINDS or isinstance(event.exercise_run, msgspec.UnsetType):
            return None
        self.upsert(event.exercise_run)
        return event.exercise_run

    def clear(self) -> None:
        """Forget every run (another login)."""
        self._runs.clear()
        self._notify(None)

    def _notify(self, run_id: str | None) -> None:
        for listener in list(self._listeners):
            listener(run_id)


def _older(candidate: ExerciseRunView, held: ExerciseRunView) -> bool:
    """Whether ``candidate`` was overtaken by ``held`` (an ended run never comes back to
    life; a replay only moves forward)."""
    if is_ended(held) and not is_ended(candidate):
        return True
    return candidate.exercise_time < held.exercise_time


@dataclasses.dataclass(slots=True)
class DrillClock:
    """A drill console's exercise clock, set from what it hears.

    Views of its run (from the live window's :class:`ExerciseRuns`) set it; the exercise
    connection's marks keep speed, title and state current in between.
    """

    run_id: str
    title: str
    speed: float
    state: ExerciseState
    anchor: dt.datetime | None = None
    """The exercise time at :attr:`anchored` (None: not known yet)."""
    anchored: float = 0.0
    monotonic: Monotonic = time.monotonic

    @classmethod
    def of_run(cls, run: ExerciseRunView, monotonic: Monotonic = time.monotonic) -> DrillClock:
        """A clock set from ``run`` as heard just now."""
        return cls(
            run_id=run.run_id,
            title=run.title,
            speed=run.speed,
            state=run.state,
            anchor=run.exercise_time,
            anchored=monotonic(),
            monotonic=monotonic,
        )

    def set_run(self, held: HeldRun) -> None:
        """Take a newer view of the run."""
        self.title, self.speed, self.state = held.view.title, held.view.speed, held.view.state
        self.anchor, self.anchored = held.view.exercise_time, held.received

    def set_label(self, label: ExerciseLabel) -> None:
        """Take the mark of a message of the exercise connection."""
        if self.anchor is not None and label.speed != self.speed:
            # Re-anchor so the time already run keeps the speed it ran at.
            self.anchor, self.anchored = self.now(), self.monotonic()
        if self.anchor is not None and label.state != self.state:
            self.anchor, self.anchored = self.now(), self.monotonic()
        self.title = label.title or self.title
        self.speed, self.state = label.speed, label.state

    def exercise_now(self) -> dt.datetime:
        """The exercise time now (the wall clock's before it is known): the clock of
        everything a drill window shows (ages, deadlines, countdowns)."""
        return self.now() or dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime | None:
        """The exercise time now, or None before the clock is known."""
        if self.anchor is None:
            return None
        if self.state is not ExerciseState.RUNNING:
            return self.anchor
        elapsed = max(0.0, self.monotonic() - self.anchored)
        return self.anchor + dt.timedelta(seconds=elapsed * self.speed)


@dataclasses.dataclass(frozen=True, slots=True)
class TargetChoice:
    """Something an injection may name: what goes on the wire and what the trainer reads."""

    value: str
    label: str


@dataclasses.dataclass(frozen=True, slots=True)
class KnownTargets:
    """What a console knows that an injection may name (its registries and tasks)."""

    sensors: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Sensor code → name."""
    terminals: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Terminal phone number (device identity) → name or plate."""
    cameras: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Camera code → name."""
    tasks: Mapping[int, str] = dataclasses.field(default_factory=dict)
    """Task id → who it is assigned to."""

    def choices(self, kind: InjectKind) -> list[TargetChoice]:
        """The targets ``kind`` may name, sorted by what goes on the wire."""
        match kind:
            case InjectKind.SENSOR_FAILS:
                named: Mapping[str, str] = self.sensors
            case InjectKind.TRUCK_SOS:
                named = self.terminals
            case InjectKind.CAMERA_DROPS:
                named = self.cameras
            case InjectKind.TASK_DECLINED:
                named = {str(task_id): name for task_id, name in self.tasks.items()}
        return [
            TargetChoice(value, f"{value} · {name}" if name and name != value else value)
            for value, name in sorted(named.items(), key=lambda item: _sort_key(item[0]))
        ]


def _sort_key(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() and len(value) < 12 else (1 << 62, value)
