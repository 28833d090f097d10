"""The JT/T 808 gateway's report batcher: one sink call per turn of the event loop.

Every run of location reports read in one turn, from every connection, is submitted to
the observation sink together (one group commit instead of one per connection); each
run's owner is told whether its run was accepted, and only then replies to the terminal.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from devices.jt808.codec import Frame
from devices.jt808.session import JudgedReports
from devices.observations import SinkGuard
from realtime.aio import cancel_and_wait

logger = logging.getLogger(__name__)


class RunOwner(Protocol):
    """Who a run of reports belongs to (a terminal's connection)."""

    def run_done(self, run: ReportRun, accepted: bool) -> None:
        """The sink answered for ``run``: reply to its frames, then go on."""


@dataclass(eq=False, slots=True)
class ReportRun:
    """Consecutive location reports of one connection, on their way to the sink."""

    owner: RunOwner
    frames: list[Frame]
    reports: JudgedReports


class ReportBatcher:
    """Submits the location runs of every connection read in one turn of the event loop
    together: one sink call (one group commit) instead of one per connection.

    Runs that raise device alarms are submitted each on their own, so an alarm's commit
    never holds up, or fails, another terminal's positions. Every run's replies go out
    only after its own observations were accepted.
    """

    def __init__(self, guard: SinkGuard) -> None:
        self._guard = guard
        self._runs: list[ReportRun] = []
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, run: ReportRun) -> None:
        """Queue ``run`` for the batch of this turn of the event loop."""
        self._runs.append(run)
        if not self._scheduled:
            self._scheduled = True
            # After the callbacks of this turn: every connection read now joins one batch.
            asyncio.get_running_loop().call_soon(self._dispatch)

    def _dispatch(self) -> None:
        self._scheduled = False
        runs, self._runs = self._runs, []
        task = asyncio.get_running_loop().create_task(self._submit(runs), name="jt808-reports")
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    async def _submit(self, runs: list[ReportRun]) -> None:
        plain = [run for run in runs if not run.reports.raises_alarms]
        if plain:
            accepted = await self._guard.submit_many(
                [observation for run in plain for observation in run.reports.observations]
            )
            for run in plain:
                run.owner.run_done(run, accepted)
        for run in runs:
            if run.reports.raises_alarms:
                run.owner.run_done(run, await self._guard.submit_many(run.reports.observations))

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("submitting location reports failed", exc_info=task.exception())

    async def close(self) -> None:
        """Cancel the submissions in flight (their terminals get no reply and resend)."""
        for task in list(self._tasks):
            await cancel_and_wait(task)
