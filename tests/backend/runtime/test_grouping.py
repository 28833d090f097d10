"""backend.runtime.grouping: requests in bursts handled in groups."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pytest

from backend.runtime import grouping


class _Handler:
    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self.fail_with: Exception | None = None

    async def __call__(self, requests: Sequence[int]) -> list[int]:
        self.groups.append(list(requests))
        await asyncio.sleep(0.01)
        if self.fail_with is not None:
            failure, self.fail_with = self.fail_with, None
            raise failure
        return [request * 10 for request in requests]


async def test_requests_arriving_meanwhile_form_the_next_group() -> None:
    handler = _Handler()
    grouped = grouping.Grouped(handler, name="test", expected=(OSError,))
    first = asyncio.create_task(grouped.submit(1))
    await asyncio.sleep(0)  # the first group (just 1) is being handled
    rest = [asyncio.create_task(grouped.submit(n)) for n in (2, 3, 4)]
    assert await first == 10
    assert [await task for task in rest] == [20, 30, 40]
    assert handler.groups == [[1], [2, 3, 4]]
    await grouped.close()
    # Idle again: a later request starts a new group of its own.
    assert await grouped.submit(5) == 50
    assert handler.groups[-1] == [5]


@pytest.mark.logs_errors
async def test_a_bug_in_the_handler_fails_its_group_is_logged_and_the_next_group_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = _Handler()
    handler.fail_with = ValueError("bug")
    grouped = grouping.Grouped(handler, name="test-handler", expected=(OSError,))
    with caplog.at_level(logging.ERROR, logger="backend.runtime.grouping"):
        outcomes = await asyncio.gather(
            grouped.submit(1), grouped.submit(2), return_exceptions=True
        )
        await grouped.close()
    assert all(isinstance(outcome, grouping.Error) for outcome in outcomes), outcomes
    assert "test-handler: interrupted" in str(outcomes[0])
    assert "test-handler failed" in caplog.text
    assert await grouped.submit(3) == 30


async def test_an_expected_failure_reaches_every_caller_of_the_group_as_it_is() -> None:
    handler = _Handler()
    handler.fail_with = OSError("disk full")
    grouped = grouping.Grouped(handler, name="test", expected=(OSError,))
    outcomes = await asyncio.gather(grouped.submit(1), grouped.submit(2), return_exceptions=True)
    assert [str(outcome) for outcome in outcomes] == ["disk full", "disk full"]
    assert await grouped.submit(3) == 30
