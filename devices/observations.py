"""Normalized observations: what every device adapter hands to the backend's ingest.

Whatever the protocol (JT/T 808, NMEA, Modbus, JSON), a device's news becomes one of these
plain, immutable records with UTC times and WGS-84 coordinates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Protocol

import msgspec

# Observations are msgspec structs rather than frozen dataclasses: a gateway builds one per
# report, and a frozen dataclass's __init__ costs ~20x as much (object.__setattr__ per field).
# gc=False: they hold only strings, numbers, frozensets and a flat dict, never a cycle.


class Position(msgspec.Struct, frozen=True, gc=False):
    """Where a vehicle (or a receiver) was at ``at`` (UTC), in WGS-84 degrees."""

    device: str
    at: dt.datetime
    lat: float
    lon: float
    speed_kmh: float = 0.0
    heading_deg: float = 0.0
    altitude_m: float = 0.0
    alarms: frozenset[str] = frozenset()
    """Names of the alarm bits the device reports as set (standard's names)."""
    status: frozenset[str] = frozenset()
    extras: dict[str, float | int | str] = msgspec.field(default_factory=dict)
    backfill: bool = False
    """True for blind-area backfill (JT/T 808 0x0704 type 1): old, not live."""


class Reading(msgspec.Struct, frozen=True, gc=False):
    """One measured value of one sensor channel at ``at`` (UTC)."""

    device: str
    sensor: str
    at: dt.datetime
    value: float
    unit: str = ""


class DeviceAlarmRaised(msgspec.Struct, frozen=True, gc=False):
    """A device says one of its alarm conditions is active (e.g. ``emergency``)."""

    device: str
    key: str
    at: dt.datetime
    lat: float | None = None
    lon: float | None = None
    description: str = ""


class DeviceStatusChanged(msgspec.Struct, frozen=True, gc=False):
    """A device went online or offline."""

    device: str
    online: bool
    at: dt.datetime
    reason: str = ""


Observation = Position | Reading | DeviceAlarmRaised | DeviceStatusChanged


class ObservationSink(Protocol):
    """Where adapters deliver observations. ``submit`` returns once the observation is
    durably accepted (for alarms: committed), so a gateway may then acknowledge the device."""

    async def submit(self, observation: Observation) -> None:
        """Accept one observation; raise on refusal."""

    async def submit_many(self, observations: Sequence[Observation]) -> None:
        """Accept several observations in order; return once all are durably accepted.

        A busy adapter hands over what one read brought (e.g. a terminal's run of location
        reports) so the sink can store it together. On refusal it raises; some of the
        observations may have been accepted, so the adapter must not acknowledge any.
        """


class SinkGuard:
    """Submits an adapter's observations, logging a failing sink once and its recovery once.

    Adapters must keep serving their devices while the backend is away; the sink may be any
    implementation (a database, a network link), so every failure of it is caught here —
    and only here — reported through the adapter's own ``logger``, and turned into False.
    """

    def __init__(self, sink: ObservationSink, logger: logging.Logger) -> None:
        self._sink = sink
        self._logger = logger
        self.failing = False

    async def submit(self, observation: Observation) -> bool:
        """Submit; return whether the sink accepted the observation."""
        return await self.submit_many((observation,))

    async def submit_many(self, observations: Sequence[Observation]) -> bool:
        """Submit several in order; return whether the sink accepted all of them."""
        try:
            if len(observations) == 1:
                await self._sink.submit(observations[0])
            else:
                await self._sink.submit_many(observations)
        except Exception:
            if not self.failing:
                self.failing = True
                self._logger.exception(
                    "observation sink refused %s",
                    repr(observations[0])
                    if len(observations) == 1
                    else f"{len(observations)} observations",
                )
            else:
                self._logger.debug("observation sink still refusing", exc_info=True)
            return False
        if self.failing:
            self.failing = False
            self._logger.info("observation sink accepts observations again")
        return True
