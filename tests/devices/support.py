"""Shared test support (no tests here): a recording observation sink.

Used by the gateway, simulator, serial and Modbus tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TypeVar

from devices.observations import (
    DeviceAlarmRaised,
    DeviceStatusChanged,
    Observation,
    Position,
    Reading,
)

T = TypeVar("T")


class SinkDownError(RuntimeError):
    """Raised by a failing :class:`RecordingSink`."""


class RecordingSink:
    """An ObservationSink that records what it accepted, in order, into ``log``.

    ``log`` is shared with tests, which append their own markers (e.g. when a reply
    arrived), so ordering between "committed" and "acknowledged" can be asserted.
    ``delay`` makes every submit slow; ``fail`` makes it raise.
    """

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.fail = False
        self.items: list[Observation] = []
        self.batches: list[int] = []
        """Sizes of the ``submit_many`` calls, in order."""
        self.log: list[tuple[str, object]] = []
        self._changed = asyncio.Event()

    async def submit(self, observation: Observation) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise SinkDownError("sink is down")
        self.items.append(observation)
        self.log.append(("submitted", observation))
        self._changed.set()

    async def submit_many(self, observations: Sequence[Observation]) -> None:
        self.batches.append(len(observations))
        for observation in observations:
            await self.submit(observation)

    def of_type(self, kind: type[T]) -> list[T]:
        return [item for item in self.items if isinstance(item, kind)]

    @property
    def positions(self) -> list[Position]:
        return self.of_type(Position)

    @property
    def alarms(self) -> list[DeviceAlarmRaised]:
        return self.of_type(DeviceAlarmRaised)

    @property
    def statuses(self) -> list[DeviceStatusChanged]:
        return self.of_type(DeviceStatusChanged)

    @property
    def readings(self) -> list[Reading]:
        return self.of_type(Reading)

    async def wait_for(
        self, predicate: Callable[[RecordingSink], bool], timeout: float = 5.0
    ) -> None:
        async with asyncio.timeout(timeout):
            while not predicate(self):
                self._changed.clear()
                await self._changed.wait()
