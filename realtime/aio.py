"""Small asyncio helpers shared by every package that owns tasks."""

from __future__ import annotations

import asyncio
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
