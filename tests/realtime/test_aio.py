"""cancel_and_wait: a task ends cancelled, even one that swallows a cancellation."""

from __future__ import annotations

import asyncio

import pytest

from realtime.aio import cancel_and_wait


async def test_a_running_task_ends_cancelled() -> None:
    task = asyncio.create_task(asyncio.sleep(3600))
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert task.cancelled()


async def test_a_swallowed_cancellation_is_repeated() -> None:
    cancellations = 0

    async def stubborn() -> None:
        nonlocal cancellations
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancellations += 1
                if cancellations > 1:
                    raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert task.cancelled()
    assert cancellations == 2


async def test_a_finished_task_is_left_alone() -> None:
    async def fail() -> None:
        raise ValueError("boom")

    task = asyncio.create_task(fail())
    await asyncio.wait({task})
    await cancel_and_wait(task)
    assert not task.cancelled()
    with pytest.raises(ValueError, match="boom"):
        task.result()
