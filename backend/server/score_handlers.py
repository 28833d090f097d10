"""``exercise.score``: a run's score beside the original response and the earlier runs
(:mod:`backend.exercises.comparison`), asked on the live connection."""

from __future__ import annotations

from backend.errors import ValidationError
from backend.exercises.comparison import exercise_score
from backend.server.handlers import ConsoleContext
from realtime.protocol import ExerciseScoreResult, GetExerciseScore


async def get_exercise_score(ctx: ConsoleContext, command: GetExerciseScore) -> ExerciseScoreResult:
    """The score of a run the user may see (any other is refused like a missing one)."""
    runs = ctx.server.exercises
    if runs is None:
        raise ValidationError("this is an exercise: scores are asked on the live connection")
    return ExerciseScoreResult(score=await exercise_score(runs, ctx.principal, command.run_id))
