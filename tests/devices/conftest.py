"""The JT/T 808 gateway runs on uvloop in production (realtime.eventloop) and on the
standard loop wherever uvloop is missing: its tests run on both."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import pytest
import uvloop

BOTH_LOOPS: Mapping[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}
ON_BOTH_LOOPS = ("test_gateway", "test_gateway_fuzz")


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    module = getattr(item, "module", None)
    if module is not None and module.__name__.rsplit(".", 1)[-1] in ON_BOTH_LOOPS:
        return BOTH_LOOPS
    return {"asyncio": asyncio.new_event_loop}
