"""cancel_and_wait: a task ends cancelled, even one that swallows a cancellation; TaskSet:
an owner's tasks are forgotten when they end and cancelled when it closes."""

from __future__ import annotations

import asyncio

import pytest

from realtime.aio import TaskSet, cancel_and_wait


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


async def test_a_task_set_forgets_finished_tasks_and_reports_each_end() -> None:
    ended: list[int] = []
    tasks = TaskSet(on_done=lambda: ended.append(len(tasks)))
    done = tasks.start(asyncio.sleep(0), "quick")
    waiting = tasks.start(asyncio.sleep(3600), "slow")
    assert len(tasks) == 2
    await done
    await asyncio.sleep(0)
    assert len(tasks) == 1
    assert ended == [1]
    await tasks.close()
    assert waiting.cancelled()
    assert len(tasks) == 0
    assert ended == [1, 0]


async def test_cancel_drops_running_tasks_without_waiting() -> None:
    tasks = TaskSet()
    task = tasks.start(asyncio.sleep(3600), "slow")
    await asyncio.sleep(0)
    tasks.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await tasks.close()
    assert not tasks


async def test_closing_a_task_set_ends_a_task_that_swallowed_its_cancellation() -> None:
    swallowed = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            swallowed.set()  # as wait_for on Python 3.11 may, racing a result
        await asyncio.sleep(3600)

    tasks = TaskSet()
    task = tasks.start(stubborn(), "stubborn")
    await asyncio.sleep(0)
    async with asyncio.timeout(10):
        await tasks.close()
    assert swallowed.is_set()
    assert task.cancelled()
