"""The exercise clock: it starts at the wall clock when the run starts and runs at the
run's speed; it stands still while the run is paused and jumps forward on a seek.

Its reading is the recording's *position* (recorded seconds since the window's start)
laid onto the run's origin: ``now() == origin + position``. Every time inside an
exercise (event times, alarms raised, deadlines, device times) is on it.

It never runs ahead of the replay: the replayer sets a *limit* (the recorded time of the
earliest device input the gateways have not yet taken) and the clock waits there until
the limit moves on. A replay that cannot keep up is then slower than asked (the time it
lost is :meth:`ExerciseClock.behind`), but every rule sees the same input times as at 1×.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from realtime.protocol import MAX_SPEED


class Error(Exception):
    """A clock change that cannot be made (``str()`` says why)."""


class ExerciseClock:
    """Recorded seconds → exercise time; starts paused (the run is being prepared)."""

    def __init__(
        self,
        origin: dt.datetime,
        speed: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.origin = origin
        self._monotonic = monotonic
        self._speed = _checked(speed)
        self._position = 0.0
        self._since = monotonic()
        self._limit: float | None = None
        self._lost = 0.0
        self.paused = True

    @property
    def speed(self) -> float:
        """Recorded seconds per wall second."""
        return self._speed

    def position(self) -> float:
        """How far into the recording the clock is (recorded seconds)."""
        if self.paused:
            return self._position
        free = self._position + (self._monotonic() - self._since) * self._speed
        if self._limit is not None and free > self._limit:
            return max(self._position, self._limit)
        return free

    def behind(self) -> float:
        """Recorded seconds the clock has lost waiting for the replay (0: on schedule)."""
        if self.paused or self._limit is None:
            return self._lost
        free = self._position + (self._monotonic() - self._since) * self._speed
        return self._lost + max(0.0, free - max(self._position, self._limit))

    def limit(self, position: float | None) -> None:
        """Run no further than ``position`` (``None``: no limit) until told otherwise."""
        self._rebase()
        self._limit = position

    def __call__(self) -> dt.datetime:
        """The exercise time now (aware, UTC)."""
        return self.origin + dt.timedelta(seconds=self.position())

    def at(self, position: float) -> dt.datetime:
        """The exercise time of a recording position."""
        return self.origin + dt.timedelta(seconds=position)

    def _rebase(self) -> None:
        self._lost = self.behind()
        self._position = self.position()
        self._since = self._monotonic()

    def pause(self) -> None:
        """Stand still."""
        self._rebase()
        self.paused = True

    def resume(self) -> None:
        """Run on from where it stood."""
        self._rebase()
        self.paused = False

    def set_speed(self, speed: float) -> None:
        """Run at ``speed`` from now on (what passed stays passed)."""
        checked = _checked(speed)
        self._rebase()
        self._speed = checked

    def seek(self, position: float) -> None:
        """Jump forward to ``position``; refuse going back (what happened stays happened)."""
        self._rebase()
        if position < self._position:
            raise Error(
                f"cannot seek back to {position:g} s: the exercise is at {self._position:.1f} s "
                "(what happened in it stays happened; start a new run to see it again)"
            )
        self._position = position

    def wall_seconds_until(self, position: float) -> float | None:
        """Wall seconds until the clock reaches ``position`` (0 if it has; ``None`` while
        paused or held short of it by its limit)."""
        ahead = position - self.position()
        if ahead <= 0:
            return 0.0
        if self.paused or (self._limit is not None and self._limit < position):
            return None
        return ahead / self._speed


def _checked(speed: float) -> float:
    if not 1.0 <= speed <= MAX_SPEED:
        raise Error(f"the speed must be 1 to {MAX_SPEED:g}, not {speed:g}")
    return float(speed)
