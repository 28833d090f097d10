"""Simulated gas, temperature, pressure and level sensors feeding the JSON device endpoint.

Each sensor drifts slowly around its base value with noise; now and then one "leaks": its
value ramps past the alarm lines for a while and then recovers, which is what the
threshold rules must catch.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from realtime.protocol import Ack, DeviceReading, Error, decode_server, encode

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SensorKind:
    """How a kind of sensor behaves in the simulation."""

    name: str
    unit: str
    base: float
    noise: float
    leak_peak: float


SENSOR_KINDS: Sequence[SensorKind] = (
    SensorKind("ch4", "%", 0.3, 0.03, 1.8),
    SensorKind("co", "ppm", 6.0, 0.8, 60.0),
    SensorKind("h2s", "ppm", 1.0, 0.2, 35.0),
    SensorKind("temperature", "°C", 60.0, 0.5, 190.0),
    SensorKind("pressure", "MPa", 1.6, 0.02, 2.8),
    SensorKind("liquid_level", "m", 8.0, 0.05, 14.5),
)


@dataclass(slots=True)
class SimulatedSensor:
    """One sensor channel with its own drift and leak schedule."""

    sensor_id: str
    kind: SensorKind
    rng: random.Random
    drift_phase: float = 0.0
    leak_started: float | None = None
    leak_seconds: float = 60.0

    def value_at(self, t: float, leak_chance: float) -> float:
        """The reading at simulated second ``t`` (advances the leak state)."""
        kind = self.kind
        drift = 0.1 * kind.base * math.sin(t / 300.0 + self.drift_phase)
        value = kind.base + drift + self.rng.gauss(0.0, kind.noise)
        if self.leak_started is None and self.rng.random() < leak_chance:
            self.leak_started = t
        if self.leak_started is not None:
            progress = (t - self.leak_started) / self.leak_seconds
            if progress >= 1.0:
                self.leak_started = None
            else:
                # Rise for the first half, fall for the second.
                shape = math.sin(math.pi * progress)
                value += (kind.leak_peak - kind.base) * shape
        return max(0.0, value)


@dataclass(slots=True)
class SensorFeedStats:
    """What a feed did."""

    sent: int = 0
    acked: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)


def make_sensors(count: int, seed: int = 808) -> list[SimulatedSensor]:
    """Return ``count`` sensors cycling through the kinds, with stable ids."""
    rng = random.Random(seed)  # noqa: S311 - simulation, not security
    return [
        SimulatedSensor(
            sensor_id=f"{SENSOR_KINDS[i % len(SENSOR_KINDS)].name}-{i + 1:04d}",
            kind=SENSOR_KINDS[i % len(SENSOR_KINDS)],
            rng=random.Random(rng.random()),  # noqa: S311
            drift_phase=rng.uniform(0, 2 * math.pi),
        )
        for i in range(count)
    ]


async def run_sensor_feed(
    url: str,
    authorization: str,
    sensors: Sequence[SimulatedSensor],
    *,
    interval_s: float = 1.0,
    duration_s: float | None = None,
    leak_chance: float = 0.0005,
) -> SensorFeedStats:
    """Send every sensor's reading every ``interval_s`` over the JSON device endpoint.

    Readings are pipelined (all sent, then all acknowledgements read) per round. Runs until
    ``duration_s`` simulated seconds passed, or forever; reconnects when the link drops.
    """
    stats = SensorFeedStats()
    t = 0.0
    while duration_s is None or t < duration_s:
        try:
            async with connect(
                url, additional_headers={"Authorization": authorization}, compression=None
            ) as ws:
                while duration_s is None or t < duration_s:
                    now = dt.datetime.now(dt.UTC)
                    for sensor in sensors:
                        reading = DeviceReading(
                            ref=f"{sensor.sensor_id}@{t:.0f}",
                            sensor=sensor.sensor_id,
                            value=round(sensor.value_at(t, leak_chance), 3),
                            unit=sensor.kind.unit,
                            at=now,
                        )
                        await ws.send(encode(reading).decode("utf-8"))
                        stats.sent += 1
                    for _ in sensors:
                        answer = decode_server(await ws.recv())
                        if isinstance(answer, Ack):
                            stats.acked += 1
                        elif isinstance(answer, Error):
                            stats.refused += 1
                            if len(stats.errors) < 10:
                                stats.errors.append(answer.message)
                    t += interval_s
                    await asyncio.sleep(interval_s)
        except (OSError, ConnectionClosed, InvalidHandshake) as exc:
            logger.info("sensor feed reconnecting: %s", exc)
            await asyncio.sleep(1.0)
    return stats
