"""Periodic background work that survives its failures.

A 24/7 service has loops (last-seen writes, rule timeouts, sensor ticks, time-series
maintenance) whose body touches the database. A database outage must neither end such a
loop for good nor fill the log: :class:`Periodic` logs the first failure of an episode
once (with its traceback), retries with capped exponential backoff, logs the recovery
once, and ends only when it is stopped. Stopping never re-raises what the body raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from realtime.aio import cancel_and_wait

if TYPE_CHECKING:
    from backend.runtime.leases import Lease

logger = logging.getLogger(__name__)

BACKOFF_MAX = 60.0
"""The longest wait between two attempts while the body keeps failing (seconds)."""


class Periodic:
    """Runs ``body`` every ``interval`` seconds in a task of its own until :meth:`stop`.

    A body that raises is retried after ``interval``, then twice as long each time, at
    most ``backoff_max`` (or ``interval`` if that is longer). The first run is one
    interval after :meth:`start`, or at once with ``immediately``. Failures and recoveries are
    logged through ``log`` (default: this module's logger) under ``name``.

    With a ``lease`` (see :mod:`backend.runtime.leases`) a run happens only while this
    instance holds it: one instance of several on the database does the work, and another
    takes over within one interval when it dies. ``on_lease_taken`` is called before the
    first run of each new term (to reload what another holder may have changed).
    """

    def __init__(
        self,
        name: str,
        body: Callable[[], Awaitable[None]],
        *,
        interval: float,
        backoff_max: float = BACKOFF_MAX,
        immediately: bool = False,
        log: logging.Logger | None = None,
        lease: Lease | None = None,
        on_lease_taken: Callable[[], None] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"{name}: the interval must be positive, not {interval!r}")
        self.name = name
        self._body = body
        self._interval = interval
        self._backoff_limit = backoff_max
        self._backoff_max = max(backoff_max, interval)
        self._shortened = asyncio.Event()
        """Set when the interval is shortened: the wait in progress ends at once."""
        self._log = log or logger
        self._immediately = immediately
        self._task: asyncio.Task[None] | None = None
        self._lease = lease
        self._on_lease_taken = on_lease_taken
        self._term = 0
        self.failures = 0
        """Consecutive failed runs (0 while the body works)."""

    @property
    def running(self) -> bool:
        """Whether the task is running (started and not stopped)."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the task (nothing if it is running)."""
        if self._task is None:
            self._shortened = asyncio.Event()  # of this start's loop
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Cancel the task and wait for it to end; a run in progress is cancelled.

        Returns normally whatever the body raised before (that was logged already).
        """
        task, self._task = self._task, None
        if task is None:
            return
        await cancel_and_wait(task)
        if not task.cancelled() and task.exception() is not None:
            # Only a BaseException that is not an Exception can end the loop otherwise.
            self._log.warning("%s ended: %r", self.name, task.exception())

    @property
    def interval(self) -> float:
        """Seconds between two runs while the body works."""
        return self._interval

    @interval.setter
    def interval(self, seconds: float) -> None:
        """Run every ``seconds`` from now on; a shorter interval ends the wait in progress
        (a run then follows at once), a longer one applies from the next wait."""
        if seconds <= 0:
            raise ValueError(f"{self.name}: the interval must be positive, not {seconds!r}")
        shorter = seconds < self._interval
        self._interval = seconds
        self._backoff_max = max(self._backoff_limit, seconds)
        if shorter:
            self._shortened.set()

    def next_delay(self) -> float:
        """How long to wait before the next run, given the failures so far."""
        if self.failures == 0:
            return self._interval
        backoff: float = self._interval * 2.0 ** min(self.failures - 1, 30)
        return min(backoff, self._backoff_max)

    async def _run(self) -> None:
        if self._immediately:
            await self._tick()
        while True:
            self._shortened.clear()
            # Like asyncio.sleep, but a shortened interval ends the wait.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.next_delay()):
                    await self._shortened.wait()
            await self._tick()

    async def _tick(self) -> None:
        if self._lease is not None:
            if not await self._lease.hold():
                return
            if self._lease.terms != self._term:
                self._term = self._lease.terms
                if self._on_lease_taken is not None:
                    self._on_lease_taken()
        await self.run_once()

    async def run_once(self) -> bool:
        """Run the body now, with the failure bookkeeping; return whether it succeeded."""
        try:
            await self._body()
        except Exception:  # noqa: BLE001 - the loop outlives any failure; logged once an episode
            self.failures += 1
            if self.failures == 1:
                self._log.exception(
                    "%s failed; retrying with backoff (up to every %g s) until it works",
                    self.name,
                    self._backoff_max,
                )
            else:
                self._log.debug(
                    "%s failed again (%s in a row)", self.name, self.failures, exc_info=True
                )
            return False
        if self.failures:
            self._log.info("%s works again after %s failed runs", self.name, self.failures)
            self.failures = 0
        return True
