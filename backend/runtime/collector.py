"""Short cycle-collector pauses for a long-running server process.

Python's full (generation 2) collection walks every tracked object and holds the event
loop meanwhile. A started server holds hundreds of thousands of long-lived objects
(SQLAlchemy's mappers and caches, the registry, rule tables), and a fleet that logs in
adds ~50 per terminal (connections, their queues, rule state): with 2,000 terminals a full
pass took 35–60 ms, once every ~10 s at 8,000 locations/s, and those pauses made the
console's p99 (bench/ingest.py: 87–239 ms with them, 59–69 ms without).

So, while :func:`short_collections` is active:

- what start-up left alive is frozen (``gc.freeze``): never walked again;
- after every full collection, its survivors are frozen too, so the next full pass walks
  only what became long-lived since;
- every ``thaw_every`` seconds everything is thawed and collected once (one longer
  pause): cyclic garbage among frozen objects — rare, since most die by reference
  counting — is reclaimed then, so memory stays bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

logger = logging.getLogger(__name__)

THAW_EVERY = 600.0
"""Seconds between the full passes over everything (frozen objects included)."""


def freeze_startup_heap() -> None:
    """Exempt what is alive now from the cycle collector (after a server's start-up)."""
    gc.collect()
    gc.freeze()
    logger.debug("%s start-up objects exempt from cycle collection", gc.get_freeze_count())


def _freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    # Called by the collector itself; after a full pass the younger generations are empty,
    # so this freezes exactly the survivors of that pass.
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def _thaw_and_collect() -> tuple[int, float]:
    """One full pass over everything, frozen objects included (the callback then freezes
    the survivors). Returns the objects found unreachable and the pause in seconds."""
    started = time.perf_counter()
    gc.unfreeze()
    found = gc.collect()
    return found, time.perf_counter() - started


async def _thaw_periodically(every: float) -> None:
    while True:
        await asyncio.sleep(every)
        found, pause = _thaw_and_collect()
        logger.info(
            "full cycle collection over everything: %s unreachable objects, %.0f ms",
            found,
            pause * 1000,
        )


@contextlib.asynccontextmanager
async def short_collections(thaw_every: float = THAW_EVERY) -> AsyncIterator[None]:
    """Keep full collections short while the block runs (see the module docstring).

    Leaves the collector as it found it: the callback removed, everything thawed.
    """
    freeze_startup_heap()
    gc.callbacks.append(_freeze_survivors)
    thawing = asyncio.create_task(_thaw_periodically(thaw_every), name="gc-thaw")
    try:
        yield
    finally:
        thawing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await thawing
        gc.callbacks.remove(_freeze_survivors)
        gc.unfreeze()
