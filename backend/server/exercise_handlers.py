"""What the ``exercise.*`` commands of the live connection do (the trainer's steering of
exercises, :mod:`backend.exercises.manager`). On an exercise's own connection they are
refused: exercises do not nest."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from backend.authz import policy as authz
from backend.errors import ValidationError
from backend.server.handlers import ConsoleContext
from realtime.protocol import (
    ControlExercise,
    ExerciseResult,
    ExercisesResult,
    InjectEvent,
    ListExercises,
    ListRecordings,
    RecordingsResult,
    StartExercise,
    StopExercise,
)

if TYPE_CHECKING:
    from backend.exercises.manager import ExerciseManager


def _manager(ctx: ConsoleContext) -> ExerciseManager:
    manager = ctx.server.exercises
    if manager is None:
        raise ValidationError("this is an exercise: exercises are steered on the live connection")
    return manager


async def list_recordings(ctx: ConsoleContext, command: ListRecordings) -> RecordingsResult:
    """The recordings of the server's library."""
    library = _manager(ctx).library
    # Reading the files is blocking work: off the event loop.
    listed = await asyncio.to_thread(library.list)
    return RecordingsResult(
        recordings=[r for r in listed if authz.can_see_recording(ctx.principal, r.source, r.area)]
    )


async def start_exercise(ctx: ConsoleContext, command: StartExercise) -> ExerciseResult:
    """Start a run."""
    return ExerciseResult(run=await _manager(ctx).start(ctx.principal, command))


async def list_exercises(ctx: ConsoleContext, command: ListExercises) -> ExercisesResult:
    """The runs the user may see."""
    return ExercisesResult(runs=await _manager(ctx).list_runs(ctx.principal, command.include_ended))


async def control_exercise(ctx: ConsoleContext, command: ControlExercise) -> ExerciseResult:
    """Pause, resume, seek or change the speed."""
    return ExerciseResult(run=await _manager(ctx).control(ctx.principal, command))


async def inject_event(ctx: ConsoleContext, command: InjectEvent) -> ExerciseResult:
    """Inject an event."""
    return ExerciseResult(run=await _manager(ctx).inject(ctx.principal, command))


async def stop_exercise(ctx: ConsoleContext, command: StopExercise) -> ExerciseResult:
    """End a run."""
    return ExerciseResult(run=await _manager(ctx).stop(ctx.principal, command.run_id))
