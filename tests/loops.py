"""Which event loops an async test runs on (pytest-asyncio's loop-factory hook).

`dutydesk serve` and the JT/T 808 gateway run on uvloop where it is installed
(realtime.eventloop), everything else on the standard loop: the modules named by a
conftest run on both, the rest on the standard loop only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping

import pytest
import uvloop

LoopFactories = Mapping[str, Callable[[], asyncio.AbstractEventLoop]]

STANDARD: LoopFactories = {"asyncio": asyncio.new_event_loop}
BOTH: LoopFactories = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def loops_for(item: pytest.Item, on_both: Collection[str]) -> LoopFactories:
    """Both loops for tests in the modules named ``on_both`` (last name part), else one."""
    module = getattr(item, "module", None)
    if module is not None and module.__name__.rsplit(".", 1)[-1] in on_both:
        return BOTH
    return STANDARD
