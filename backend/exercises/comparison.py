"""A run's score set beside the original response and the earlier runs (``exercise.score``).

The rules are :mod:`backend.exercises.scoring`; this module gathers the logs from the
live server's exercise manager and scores them: the run from the exercise clock's start,
the recording's own response from the recording window's start (so offsets compare), and
every earlier run of the same recording the caller may see. An ended run's figures are
kept (``record_figures``), and an earlier ended run without kept figures is scored now
and kept, so later comparisons do not read its log again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Sequence
from typing import Protocol

from backend.authz.principal import Principal
from backend.errors import Error as Refusal
from backend.exercises import library as recordings
from backend.exercises.recording import RecordingError
from backend.exercises.scoring import Scored, score_events
from realtime.protocol import (
    EarlierRun,
    Event,
    ExerciseRunView,
    ExerciseScore,
    ExerciseState,
    ScoreFigures,
)

logger = logging.getLogger(__name__)


class ExerciseRuns(Protocol):
    """What scoring needs of the exercise manager (``server.exercises``)."""

    @property
    def library(self) -> recordings.RecordingLibrary: ...

    async def view(self, principal: Principal, run_id: str) -> ExerciseRunView: ...

    async def run_events(self, run_id: str) -> list[Event]: ...

    async def original_events(self, run_id: str) -> list[Event]: ...

    async def earlier_runs(
        self, recording: str, before_run: str
    ) -> list[tuple[str, dt.datetime, float, ScoreFigures | None]]: ...

    async def record_figures(self, run_id: str, figures: ScoreFigures) -> None: ...

    def origin(self, run_id: str) -> dt.datetime: ...


def has_ended(view: ExerciseRunView) -> bool:
    """Whether the run's figures are final: it was stopped (its instance is closed). A run
    that finished replaying stays open to its participants (they may still be working its
    alarms) until the trainer stops it, which makes it STOPPED too."""
    return view.state is ExerciseState.STOPPED


async def _score(
    events: Sequence[Event], origin: dt.datetime, replay_end: dt.datetime | None = None
) -> Scored:
    # A long run's log is tens of thousands of events: scored off the event loop.
    return await asyncio.to_thread(
        functools.partial(score_events, events, origin=origin, replay_end=replay_end)
    )


def _origin(runs: ExerciseRuns, view: ExerciseRunView) -> dt.datetime:
    """The exercise clock's start; for a run of an earlier server process (the manager
    holds clocks of its own runs only) the run's start, where its clock started."""
    try:
        return runs.origin(view.run_id)
    except Refusal:
        return view.started_at


async def _score_run(runs: ExerciseRuns, view: ExerciseRunView) -> Scored:
    origin = _origin(runs, view)
    replay_end = origin + dt.timedelta(seconds=view.duration_s)
    return await _score(await runs.run_events(view.run_id), origin, replay_end)


async def _original(runs: ExerciseRuns, view: ExerciseRunView) -> ScoreFigures | None:
    """The recording's own response, or None when it holds none (or cannot be read)."""
    try:
        events = await runs.original_events(view.run_id)
        if not events:
            return None
        recording = await asyncio.to_thread(runs.library.load, view.recording)
    except (Refusal, recordings.Error, RecordingError) as exc:
        logger.warning(
            "exercise %s: the original response of %s is not compared: %s",
            view.run_id,
            view.recording,
            exc,
        )
        return None
    return (await _score(events, recording.header.window_from)).figures


async def _earlier(
    runs: ExerciseRuns, principal: Principal, view: ExerciseRunView
) -> list[EarlierRun]:
    """The earlier runs of the same recording the caller may see, newest first."""
    earlier: list[EarlierRun] = []
    for run_id, started_at, speed, kept in await runs.earlier_runs(view.recording, view.run_id):
        try:
            other = await runs.view(principal, run_id)
        except Refusal:
            continue  # another area's drill: not shown, as if it did not exist
        figures = kept
        if figures is None:
            try:
                figures = (await _score_run(runs, other)).figures
            except Refusal as exc:
                logger.warning("exercise %s: its log cannot be read: %s", run_id, exc)
                continue
            if has_ended(other):
                await runs.record_figures(run_id, figures)
        earlier.append(
            EarlierRun(run_id=run_id, started_at=started_at, speed=speed, figures=figures)
        )
    return earlier


async def exercise_score(runs: ExerciseRuns, principal: Principal, run_id: str) -> ExerciseScore:
    """The score of ``run_id`` as ``principal`` may see it (a run out of their scope is
    refused like a missing one)."""
    view = await runs.view(principal, run_id)
    ended = has_ended(view)
    scored = await _score_run(runs, view)
    if ended:
        await runs.record_figures(run_id, scored.figures)
    return ExerciseScore(
        run_id=view.run_id,
        recording=view.recording,
        title=view.title,
        ended=ended,
        figures=scored.figures,
        original=await _original(runs, view),
        earlier=await _earlier(runs, principal, view),
        alarms=scored.alarms,
    )
