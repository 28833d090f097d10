"""The server's cycle-collector policy: full passes walk only what is new; a periodic
thaw still reclaims cyclic garbage among frozen objects; nothing is left behind."""

from __future__ import annotations

import asyncio
import gc
import logging
import weakref

import pytest

from backend.runtime.collector import short_collections


class _Node:
    """A weak-referenceable object that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.partner: _Node | None = None


def _in_generation_2(target: object) -> bool:
    return any(candidate is target for candidate in gc.get_objects(generation=2))


async def test_survivors_of_a_full_collection_are_frozen_and_not_walked_again() -> None:
    async with short_collections(thaw_every=3600):
        kept = [[index] for index in range(20_000)]  # long-lived, tracked objects
        before = gc.get_freeze_count()
        gc.collect()
        assert gc.get_freeze_count() - before >= len(kept)
        # Frozen objects live in the permanent generation, outside what a full pass walks.
        assert not _in_generation_2(kept[0])
    # Thawed again on the way out: an ordinary long-lived object once more.
    gc.collect()
    assert _in_generation_2(kept[0])


async def test_cyclic_garbage_among_frozen_objects_is_reclaimed_at_the_next_thaw(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="backend.runtime.collector"):
        async with short_collections(thaw_every=0.05):
            first, second = _Node(), _Node()
            first.partner, second.partner = second, first
            watch = weakref.ref(first)
            gc.collect()  # both survive it, so both are frozen
            del first, second
            gc.collect()
            assert watch() is not None  # frozen garbage: out of reach of ordinary passes
            for _ in range(100):
                await asyncio.sleep(0.02)
                if watch() is None:
                    break
            assert watch() is None  # the thaw's pass over everything found the cycle
    assert "full cycle collection over everything" in caplog.text


async def test_the_collector_is_left_as_it_was_found() -> None:
    callbacks = list(gc.callbacks)
    async with short_collections(thaw_every=0.01):
        assert len(gc.callbacks) == len(callbacks) + 1
        assert gc.get_freeze_count() > 0
        await asyncio.sleep(0.05)
    assert gc.callbacks == callbacks
    assert gc.get_freeze_count() == 0
    assert not [task for task in asyncio.all_tasks() if task.get_name() == "gc-thaw"]
