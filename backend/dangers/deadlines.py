"""The hidden dangers' deadline checker: every :data:`CHECK_INTERVAL` seconds, on the one
instance holding its lease (:mod:`backend.runtime.leases`), it marks open dangers past
their deadline overdue and escalates overdue ones a rung up when due
(:meth:`DangerService.check_deadlines`; the rules are :mod:`backend.dangers.lifecycle`).

Unlike the incident tasks' deadlines (a heap of thousands checked every second), hidden
dangers' deadlines are days apart: one indexed query per check is enough, and nothing is
kept in memory that a lease changing hands would have to rebuild.
"""

from __future__ import annotations

import logging

from backend.dangers.service import DangerService
from backend.runtime.leases import Lease
from backend.runtime.periodic import Periodic

logger = logging.getLogger(__name__)

CHECK_INTERVAL = 30.0
"""Seconds between checks (a deadline is a day; half a minute late is on time)."""
LEASE_NAME = "hidden danger deadlines"


class DangerDeadlines:
    """Runs :meth:`DangerService.check_deadlines` periodically under a lease."""

    def __init__(
        self, service: DangerService, *, interval: float = CHECK_INTERVAL, lease: Lease | None
    ) -> None:
        self._service = service
        self._runner = Periodic(
            "hidden danger deadlines",
            self._check,
            interval=interval,
            immediately=True,
            log=logger,
            lease=lease,
        )

    def start(self) -> None:
        """Start checking (nothing if running)."""
        self._runner.start()

    async def stop(self) -> None:
        """Stop checking; a check in progress is cancelled (its transaction rolls back)."""
        await self._runner.stop()

    async def run_once(self) -> bool:
        """Check now (tests); return whether the check succeeded."""
        return await self._runner.run_once()

    async def _check(self) -> None:
        changed = await self._service.check_deadlines()
        if changed:
            logger.info("hidden danger deadlines: %s changed", changed)


class Dangers:
    """The server's hidden-danger part: the service and its deadline checker."""

    def __init__(self, service: DangerService, deadlines: DangerDeadlines) -> None:
        self.service = service
        self.deadlines = deadlines
