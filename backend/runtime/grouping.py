"""Requests that come in bursts, handled in groups: whatever arrives while one group is
being handled goes into the next, and each request still awaits its own result.

For a fleet of terminals logging in again after a restart: one transaction (one fsync)
or one query each would take minutes for thousands.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

Q = TypeVar("Q")
R = TypeVar("R")


class Error(Exception):
    """A group could not be handled (its requests all get this, or the handler's error)."""


class Grouped(Generic[Q, R]):
    """Hands the requests waiting to ``handle`` as one group, one group at a time.

    ``handle`` returns one result per request, in order. An exception of the
    ``expected`` types (a database failure, say) fails every request of its group, and
    only those; the next group is handled as usual. Anything else is logged as a bug and
    the group's requests fail with :class:`Error`.
    """

    def __init__(
        self,
        handle: Callable[[Sequence[Q]], Awaitable[Sequence[R]]],
        *,
        name: str,
        expected: tuple[type[Exception], ...],
    ) -> None:
        self._handle = handle
        self._name = name
        self._failures: tuple[type[Exception], ...] = (Error, *expected)
        """What fails a group's requests as it is (anything else is a bug)."""
        self._pending: list[tuple[Q, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, request: Q) -> R:
        """Handle ``request`` with whatever else is waiting; return its own result."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
        if self._task is None:
            self._start()
        return await future

    async def close(self) -> None:
        """Wait until everything submitted is handled."""
        while self._task is not None:
            await asyncio.wait({self._task})
            await asyncio.sleep(0)  # let its done callback run (it may start another)

    def _start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)
        self._task.add_done_callback(self._finished)

    async def _run(self) -> None:
        while self._pending:
            group, self._pending = self._pending, []
            failure: BaseException = Error(f"{self._name}: interrupted")
            results: Sequence[R] = ()
            try:
                results = await self._handle([request for request, _ in group])
                if len(results) != len(group):
                    raise Error(f"{self._name}: {len(results)} results for {len(group)} requests")
            except self._failures as exc:
                failure, results = exc, ()
            finally:
                for index, (_, future) in enumerate(group):
                    if future.done():
                        continue  # its caller gave up waiting
                    if results:
                        future.set_result(results[index])
                    else:
                        future.set_exception(failure)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._task = None
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s failed", self._name, exc_info=task.exception())
        if self._pending:  # arrived after the last group, as the task was ending
            self._start()
