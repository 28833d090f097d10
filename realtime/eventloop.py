"""The event loop the server and the JT/T 808 gateway run on.

uvloop (libuv underneath) reads, writes and runs callbacks in C: with thousands of
terminals each sending small frames, that is ≈ 10 % less CPU per location than the
standard loop (bench/ingest.py). It is used when it is installed, unless
``DUTYDESK_EVENT_LOOP=asyncio`` asks for the standard loop. The desktop never uses this:
its loop is Qt's, through qasync.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

ENV_VAR = "DUTYDESK_EVENT_LOOP"
CHOICES = ("auto", "uvloop", "asyncio")


class Error(Exception):
    """The event loop asked for cannot be used."""


def loop_factory(choice: str | None = None) -> tuple[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The name and factory of the loop for ``choice`` (default: ``$DUTYDESK_EVENT_LOOP``,
    else ``auto``): ``uvloop``, ``asyncio``, or ``auto`` (uvloop when installed)."""
    wanted = (choice or os.environ.get(ENV_VAR) or "auto").strip().lower()
    if wanted not in CHOICES:
        raise Error(f"{ENV_VAR} must be one of {', '.join(CHOICES)}, got {wanted!r}")
    if wanted == "asyncio":
        return "asyncio", asyncio.new_event_loop
    try:
        import uvloop  # noqa: PLC0415 - optional: not on Windows
    except ImportError as exc:
        if wanted == "uvloop":
            raise Error(f"uvloop was asked for but cannot be imported: {exc}") from exc
        return "asyncio", asyncio.new_event_loop
    return "uvloop", uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], *, choice: str | None = None) -> T:
    """Run ``main`` to completion on the chosen loop (see :func:`loop_factory`)."""
    try:
        name, factory = loop_factory(choice)
    except Error:
        main.close()  # never awaited: say so quietly rather than with a warning
        raise
    logger.info("event loop: %s", name)
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
