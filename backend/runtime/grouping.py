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
    """A request could not be handled: its group was interrupted, the handler answered
    the wrong number of results, or handling this request raised a bug."""


class Grouped(Generic[Q, R]):
    """Hands the requests waiting to ``handle`` as one group, one group at a time.

    ``handle`` returns one result per request, in order. An exception of the
    ``expected`` types (a database failure, say) fails every request of its group, and
    only those; the next group is handled as usual. Anything else is a bug, and one bad
    request must not cost the others theirs: the group is handled again in halves, down
    to single requests, so only the requests whose own handling raises fail (with
    :class:`Error`); the bug is logged once per group, with its traceback. ``handle``
    must therefore be safe to call again with part of a group whose handling raised
    (a read, or a transaction that was rolled back).
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
            bugs: list[Exception] = []
            try:
                await self._settle(group, bugs)
            finally:
                interrupted = Error(f"{self._name}: interrupted")
                for _, future in group:
                    if not future.done():
                        future.set_exception(interrupted)
            if bugs:
                logger.error(
                    "%s: %s of %s requests failed (a bug); the rest of the group was handled",
                    self._name,
                    len(bugs),
                    len(group),
                    exc_info=bugs[0],
                )

    async def _settle(
        self, group: list[tuple[Q, asyncio.Future[R]]], bugs: list[Exception]
    ) -> None:
        """Handle ``group`` and answer its futures; on a bug, split it (see the class)."""
        # Requests whose callers gave up waiting are handled all the same (a write
        # may have been meant to happen regardless); only their answer is dropped.
        try:
            results = await self._handle([request for request, _ in group])
            if len(results) != len(group):
                raise Error(f"{self._name}: {len(results)} results for {len(group)} requests")
        except self._failures as exc:
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        except Exception as exc:  # noqa: BLE001 - a bug: isolated, then logged by _run
            if len(group) == 1:
                bugs.append(exc)
                failure = Error(f"{self._name}: the request failed: {exc!r}")
                failure.__cause__ = exc
                if not group[0][1].done():
                    group[0][1].set_exception(failure)
                return
            middle = len(group) // 2
            await self._settle(group[:middle], bugs)
            await self._settle(group[middle:], bugs)
            return
        for (_, future), result in zip(group, results, strict=True):
            if not future.done():
                future.set_result(result)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._task = None
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s failed", self._name, exc_info=task.exception())
        if self._pending:  # arrived after the last group, as the task was ending
            self._start()
