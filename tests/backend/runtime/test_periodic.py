"""Issue 13.2: background loops survive their failures, log once, and stop cleanly."""

from __future__ import annotations

import asyncio
import logging

import pytest

from backend.runtime.periodic import Periodic


class Flaky:
    """A body that fails ``failures`` times, then works; counts its runs."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.runs = 0
        self.successes = 0
        self.ran = asyncio.Event()

    async def __call__(self) -> None:
        self.runs += 1
        self.ran.set()
        if self.runs <= self.failures:
            raise ConnectionError(f"database away (run {self.runs})")
        self.successes += 1


async def _until(predicate: object, timeout: float = 5.0) -> None:
    assert callable(predicate)
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - polls a plain counter
            await asyncio.sleep(0.005)


@pytest.mark.logs_errors
async def test_a_loop_that_fails_n_times_logs_once_recovers_once_and_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="backend.runtime.periodic")
    body = Flaky(failures=4)
    loop = Periodic("test loop", body, interval=0.005, backoff_max=0.02)
    loop.start()
    try:
        await _until(lambda: body.successes >= 3)
        assert loop.running
        assert loop.failures == 0
    finally:
        await loop.stop()
    records = [r for r in caplog.records if r.name == "backend.runtime.periodic"]
    errors = [r for r in records if r.levelno >= logging.WARNING]
    recoveries = [r for r in records if "works again" in r.getMessage()]
    assert len(errors) == 1, "one failure line per episode"
    assert errors[0].levelno == logging.ERROR
    assert errors[0].exc_info is not None, "with the traceback of the first failure"
    assert "test loop" in errors[0].getMessage()
    assert len(recoveries) == 1
    assert "4 failed runs" in recoveries[0].getMessage()


@pytest.mark.logs_errors
async def test_stop_during_a_failure_episode_returns_cleanly() -> None:
    body = Flaky(failures=10**6)
    loop = Periodic("always failing", body, interval=0.005, backoff_max=0.01)
    loop.start()
    await _until(lambda: body.runs >= 3)
    await loop.stop()  # must not raise what the body raised
    assert not loop.running
    runs = body.runs
    await asyncio.sleep(0.05)
    assert body.runs == runs, "stopped for good"
    await loop.stop()  # twice is fine


async def test_stop_cancels_a_run_in_progress() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def hangs() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    loop = Periodic("hanging", hangs, interval=0.001, immediately=True)
    loop.start()
    await started.wait()
    await loop.stop()
    assert cancelled.is_set()


def test_backoff_doubles_from_the_interval_up_to_the_cap() -> None:
    async def body() -> None:
        return None

    loop = Periodic("backoff", body, interval=1.0, backoff_max=10.0)
    delays = []
    for failures in range(6):
        loop.failures = failures
        delays.append(loop.next_delay())
    assert delays == [1.0, 1.0, 2.0, 4.0, 8.0, 10.0]
    with pytest.raises(ValueError, match="interval"):
        Periodic("bad", body, interval=0)


async def test_a_shorter_interval_applies_at_once_and_a_longer_one_from_the_next_wait() -> None:
    body = Flaky(failures=0)
    loop = Periodic("test loop", body, interval=30.0)
    loop.start()
    try:
        await asyncio.sleep(0.05)
        assert body.runs == 0, "the first run waits one interval"
        loop.interval = 0.01  # e.g. an exercise sped up: its checks come this often now
        await _until(lambda: body.runs >= 5, timeout=2.0)
        loop.interval = 30.0
        await asyncio.sleep(0.05)  # the wait under way (0.01 s) ends; the next is long
        runs = body.runs
        await asyncio.sleep(0.2)
        assert body.runs == runs
        assert loop.interval == 30.0
        with pytest.raises(ValueError, match="positive"):
            loop.interval = 0.0
    finally:
        await loop.stop()
