"""The clock the code running now reads: the wall clock, or an exercise's.

An exercise instance runs in the live server's process with every time on its own clock
(event times, alarms raised, deadlines, rule timers). Its tasks run in a context where
:func:`running_on` set that clock; everything else reads the wall clock. Code that stamps
a time calls :func:`utc_now` instead of ``datetime.now``.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]

_clock: contextvars.ContextVar[Clock | None] = contextvars.ContextVar(
    "dutydesk_clock", default=None
)


def utc_now() -> dt.datetime:
    """Now (aware, UTC) on the clock of the running context."""
    clock = _clock.get()
    return clock() if clock is not None else dt.datetime.now(dt.UTC)


def running_on(clock: Clock) -> contextvars.Context:
    """A copy of the current context in which :func:`utc_now` reads ``clock`` (give it to
    ``asyncio.create_task(..., context=...)``: the task and every task it starts run on it)."""
    context = contextvars.copy_context()
    context.run(_clock.set, clock)
    return context


def set_for_this_task(clock: Clock) -> None:
    """Make :func:`utc_now` read ``clock`` in the current task (and the tasks it starts)."""
    _clock.set(clock)
