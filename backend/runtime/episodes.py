"""Logging a recurring failure once per episode: one line when it starts, one when it ends.

A database outage fails every commit, query and health check until it is over; logging
each (with a traceback) buried the one useful line under tens of thousands. Whoever meets
the failure reports it to the shared :class:`EpisodeLog`; whoever succeeds next ends the
episode. Tracebacks go to DEBUG.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class EpisodeLog:
    """The state of one recurring failure (e.g. "the database"), logged once per episode."""

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._what = what
        self._clock = clock
        self._since: float | None = None
        self._failures = 0
        self.last_problem = ""
        """Why it failed most recently ('' when it is working)."""

    @property
    def failing(self) -> bool:
        """Whether an episode is under way."""
        return self._since is not None

    def failed(self, problem: str, exc: BaseException | None = None) -> None:
        """Count a failure; the first of an episode is logged as an ERROR (one line)."""
        self._failures += 1
        self.last_problem = problem
        if self._since is None:
            self._since = self._clock()
            self._failures = 1
            self._logger.error(
                "%s unavailable: %s (logged once until it recovers)", self._what, problem
            )
        if exc is not None:
            self._logger.debug("%s failure", self._what, exc_info=exc)

    def succeeded(self) -> None:
        """End an episode if one is under way, saying how long it lasted."""
        if self._since is None:
            return
        seconds = self._clock() - self._since
        self._logger.warning(
            "%s available again after %.1f s (%s failures meanwhile)",
            self._what,
            seconds,
            self._failures,
        )
        self._since = None
        self._failures = 0
        self.last_problem = ""
