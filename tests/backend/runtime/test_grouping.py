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
        self.poison: set[int] = set()
        """Requests whose handling raises ValueError (a bug), whatever the group."""

    async def __call__(self, requests: Sequence[int]) -> list[int]:
        self.groups.append(list(requests))
        await asyncio.sleep(0.01)
        if self.fail_with is not None:
            failure, self.fail_with = self.fail_with, None
            raise failure
        for request in requests:
            if request in self.poison:
                raise ValueError(f"bug: {request}")
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
    handler.poison = {1, 2}  # a bug hit by every request of the group
    grouped = grouping.Grouped(handler, name="test-handler", expected=(OSError,))
    with caplog.at_level(logging.ERROR, logger="backend.runtime.grouping"):
        outcomes = await asyncio.gather(
            grouped.submit(1), grouped.submit(2), return_exceptions=True
        )
        await grouped.close()
    assert all(isinstance(outcome, grouping.Error) for outcome in outcomes), outcomes
    assert "test-handler: the request failed: ValueError('bug: 1')" in str(outcomes[0])
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert [record.getMessage() for record in errors] == [
        "test-handler: 2 of 2 requests failed (a bug); the rest of the group was handled"
    ]
    assert errors[0].exc_info is not None, "logged with its traceback"
    assert await grouped.submit(3) == 30


@pytest.mark.logs_errors
async def test_a_bug_on_one_request_fails_only_that_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = _Handler()
    handler.poison = {13}
    grouped = grouping.Grouped(handler, name="test-handler", expected=(OSError,))
    first = asyncio.create_task(grouped.submit(0))
    await asyncio.sleep(0)  # the first group (just 0) is being handled: the rest queue up
    with caplog.at_level(logging.ERROR, logger="backend.runtime.grouping"):
        outcomes = await asyncio.gather(
            *(grouped.submit(n) for n in range(1, 41)), return_exceptions=True
        )
        await grouped.close()
    assert await first == 0
    assert handler.groups[1] == list(range(1, 41)), "the 40 requests formed one group"
    failed = {n for n, outcome in zip(range(1, 41), outcomes, strict=True) if n * 10 != outcome}
    assert failed == {13}
    assert isinstance(outcomes[12], grouping.Error)
    assert isinstance(outcomes[12].__cause__, ValueError)
    # Split in halves: a handful of calls, not one per request.
    assert len(handler.groups) <= 2 + 2 * 6
    assert [record.getMessage() for record in caplog.records] == [
        "test-handler: 1 of 40 requests failed (a bug); the rest of the group was handled"
    ]


async def test_an_expected_failure_reaches_every_caller_of_the_group_as_it_is() -> None:
    handler = _Handler()
    handler.fail_with = OSError("disk full")
    grouped = grouping.Grouped(handler, name="test", expected=(OSError,))
    outcomes = await asyncio.gather(grouped.submit(1), grouped.submit(2), return_exceptions=True)
    assert [str(outcome) for outcome in outcomes] == ["disk full", "disk full"]
    assert await grouped.submit(3) == 30
