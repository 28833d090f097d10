"""Small asyncio helpers shared by every package that owns tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

CANCEL_RETRY_SECONDS = 0.5
"""How long to wait for a cancelled task before cancelling it again."""


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for it to end, cancelling again if a cancellation was
    swallowed (``asyncio.wait_for`` on Python 3.11 can lose one that races a result).

    The task's own outcome (its exception, if any) is left on it for the caller to read.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=CANCEL_RETRY_SECONDS)


class TaskSet:
    """The tasks one owner (a panel, a form) started: each is forgotten when it ends, and
    :meth:`close` cancels and awaits those still running, so nothing outlives its owner
    and nothing is fire-and-forget."""

    def __init__(self, on_done: Callable[[], None] | None = None) -> None:
        """``on_done`` is called after each task ends (e.g. to re-enable a button)."""
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_done = on_done

    def start(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run ``coroutine`` as a task of this set."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if self._on_done is not None:
            self._on_done()

    def __len__(self) -> int:
        """How many tasks still run."""
        return len(self._tasks)

    def cancel(self) -> None:
        """Cancel every running task without waiting (the owner is being dropped now)."""
        for task in self._tasks:
            task.cancel()

    async def close(self) -> None:
        """Cancel every running task and wait until all have ended (cancelling again one
        that swallowed its cancellation, see :func:`cancel_and_wait`)."""
        tasks = list(self._tasks)
        await asyncio.gather(*(cancel_and_wait(task) for task in tasks))
        for task in tasks:
            if not task.cancelled():
                task.exception()  # read: its owner is closing and no longer asks
