"""One exercise run of this process (:class:`Run`, held by
:class:`~backend.exercises.manager.ExerciseManager`): its row, recording, clock, instance,
replayer and tasks, and who its replayer is on the run's device feed."""

from __future__ import annotations

import asyncio
import contextvars
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from websockets.asyncio.server import ServerConnection

from backend.authz.principal import Principal
from backend.exercises import store
from backend.exercises.clock import ExerciseClock
from backend.exercises.recording import FeedInput, Recording
from backend.exercises.replay import Replayer
from realtime.protocol import Role

if TYPE_CHECKING:
    from backend.server.app import DutyDeskServer

T = TypeVar("T")

REPLAY_ACCOUNT = "replay"
"""The replayer's feed account when the recording holds no feed message."""


@dataclass(eq=False)
class Run:
    """One exercise run in this process."""

    row: store.RunRecord
    recording: Recording
    clock: ExerciseClock
    directory: Path
    feed_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    instance: DutyDeskServer | None = None
    replayer: Replayer | None = None
    task: asyncio.Task[None] | None = None
    counter: asyncio.Task[None] | None = None
    """Announces the alarm count while the instance is open (:meth:`ExerciseManager._count`)."""
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    connections: set[ServerConnection] = field(default_factory=set)
    """The consoles and the feed connected to the run (closed, with the reason, when it
    is stopped)."""

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.row.run_id

    @property
    def active(self) -> bool:
        """Its instance is open (preparing, running, paused or finished but not stopped)."""
        return self.instance is not None

    async def on_clock(self, work: Awaitable[T]) -> T:
        """Run ``work`` in a task on the exercise clock (every time it stamps is the
        exercise's)."""
        return await asyncio.create_task(_await(work), context=self.context)


async def _await(work: Awaitable[T]) -> T:
    return await work


def replayer_principal(run: Run) -> Principal:
    """Who the replayer's feed is in the exercise: the feed account the recording was
    made from (so a monitoring system's own alarm names the same device in every run)."""
    account = next(
        (entry.account for entry in run.recording.entries if isinstance(entry, FeedInput)),
        REPLAY_ACCOUNT,
    )
    return Principal(
        user_id=0,
        username=account or REPLAY_ACCOUNT,
        display_name="演练回放",
        role=Role.DEVICE,
        agency=None,
        jurisdiction="",
    )
