"""The JT/T 808 gateway's tests run on both event loops (see tests/loops.py)."""

from __future__ import annotations

import pytest

from tests.loops import LoopFactories, loops_for


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> LoopFactories:
    return loops_for(item, ("test_gateway",))
