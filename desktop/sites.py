"""Hazard sources and dispatchable units as the console's detail views see them.

Plain Python, no Qt: :func:`hazard_sources` groups the sensor registry into the hazard
sources the map draws, :class:`LatestReadings` keeps the newest value of every sensor
from live telemetry, and the ``*_status`` / ``*_alarms`` functions answer what a
dispatcher asks about a clicked site or team from the alarms the console holds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Iterator

from desktop.trends.store import sensor_of_alarm
from realtime.protocol import AlarmView, ReadingView, SensorView, Telemetry, UnitView
from realtime.states import LEVEL_RANK, AlarmLevel, is_open

logger = logging.getLogger(__name__)

HIGH_THRESHOLD = "high"
"""A threshold whose alarm fires at or above its value (any other direction: at or below)."""
STALE_CYCLES = 3
"""A sensor that missed this many poll cycles is shown as silent."""


@dataclasses.dataclass(frozen=True, slots=True)
class HazardSource:
    """A major hazard source (or mine) as the map shows it: its sensors and where they are."""

    name: str
    enterprise: str
    places: tuple[str, ...]
    """The distinct places of its sensors, in registry order."""
    lon: float
    lat: float
    """The centre of its sensors (WGS-84)."""
    sensors: tuple[SensorView, ...]

    @property
    def sensor_ids(self) -> frozenset[str]:
        """The ids of its sensors."""
        return frozenset(sensor.sensor_id for sensor in self.sensors)


def hazard_sources(sensors: Iterable[SensorView]) -> dict[str, HazardSource]:
    """Group sensors by hazard source; sensors without one, or without a place, are left out."""
    members: dict[str, list[SensorView]] = {}
    for sensor in sensors:
        if sensor.hazard_source and sensor.lat is not None and sensor.lon is not None:
            members.setdefault(sensor.hazard_source, []).append(sensor)
    sources: dict[str, HazardSource] = {}
    for name, group in members.items():
        lons = [sensor.lon for sensor in group if sensor.lon is not None]
        lats = [sensor.lat for sensor in group if sensor.lat is not None]
        sources[name] = HazardSource(
            name=name,
            enterprise=next((sensor.enterprise for sensor in group if sensor.enterprise), ""),
            places=tuple(dict.fromkeys(sensor.place for sensor in group if sensor.place)),
            lon=sum(lons) / len(lons),
            lat=sum(lats) / len(lats),
            sensors=tuple(sorted(group, key=lambda sensor: sensor.sensor_id)),
        )
    return sources


class LatestReadings:
    """The newest reading of every sensor seen in live telemetry (out-of-order ones ignored)."""

    def __init__(self) -> None:
        self._readings: dict[str, ReadingView] = {}

    def apply_telemetry(self, telemetry: Telemetry) -> None:
        """Keep the readings of ``telemetry`` that are newer than those held."""
        for reading in telemetry.readings:
            held = self._readings.get(reading.sensor)
            if held is None or reading.at >= held.at:
                self._readings[reading.sensor] = reading

    def get(self, sensor_id: str) -> ReadingView | None:
        """The newest reading of ``sensor_id``, or None if none arrived yet."""
        return self._readings.get(sensor_id)

    def __len__(self) -> int:
        return len(self._readings)

    def __iter__(self) -> Iterator[ReadingView]:
        return iter(self._readings.values())


@dataclasses.dataclass(frozen=True, slots=True)
class SensorStatus:
    """What the detail of a hazard source says about one of its sensors."""

    sensor: SensorView
    reading: ReadingView | None
    age: dt.timedelta | None
    """How old the newest reading is, or None without one."""
    threshold_level: AlarmLevel | None
    """The most severe threshold the newest value reaches, if any."""
    alarm: AlarmView | None
    """The most severe open alarm the sensor raised, if any."""

    @property
    def silent(self) -> bool:
        """Whether the sensor has not reported for several poll cycles (or never)."""
        if self.age is None:
            return True
        return self.age.total_seconds() > STALE_CYCLES * max(self.sensor.poll_cycle_seconds, 1.0)


def reached_threshold(sensor: SensorView, value: float) -> AlarmLevel | None:
    """The most severe level among ``sensor``'s thresholds that ``value`` reaches."""
    reached = [
        threshold.level
        for threshold in sensor.thresholds
        if (
            value >= threshold.value
            if threshold.direction == HIGH_THRESHOLD
            else value <= threshold.value
        )
    ]
    return min(reached, key=LEVEL_RANK.__getitem__) if reached else None


def most_severe_first(alarms: Iterable[AlarmView]) -> list[AlarmView]:
    """Sort alarms red first, then the one waiting longest first."""
    return sorted(alarms, key=lambda alarm: (LEVEL_RANK[alarm.level], alarm.first_seen))


def sensor_statuses(
    source: HazardSource,
    readings: LatestReadings,
    alarms: Iterable[AlarmView],
    now: dt.datetime,
) -> list[SensorStatus]:
    """The status of each sensor of ``source``, in the order of its sensors."""
    open_by_sensor: dict[str, list[AlarmView]] = {}
    for alarm in hazard_source_alarms(source, alarms):
        sensor_id = sensor_of_alarm(alarm)
        if sensor_id is not None:
            open_by_sensor.setdefault(sensor_id, []).append(alarm)
    statuses = []
    for sensor in source.sensors:
        reading = readings.get(sensor.sensor_id)
        sensor_alarms = most_severe_first(open_by_sensor.get(sensor.sensor_id, ()))
        statuses.append(
            SensorStatus(
                sensor=sensor,
                reading=reading,
                age=max(now - reading.at, dt.timedelta(0)) if reading is not None else None,
                threshold_level=(
                    reached_threshold(sensor, reading.value) if reading is not None else None
                ),
                alarm=sensor_alarms[0] if sensor_alarms else None,
            )
        )
    return statuses


def hazard_source_alarms(source: HazardSource, alarms: Iterable[AlarmView]) -> list[AlarmView]:
    """The open alarms raised by the sensors of ``source``, most severe first."""
    sensor_ids = source.sensor_ids
    return most_severe_first(
        alarm for alarm in alarms if is_open(alarm.state) and sensor_of_alarm(alarm) in sensor_ids
    )


def unit_alarms(unit: UnitView, alarms: Iterable[AlarmView]) -> list[AlarmView]:
    """The open alarms ``unit`` has been dispatched to, most severe first."""
    return most_severe_first(
        alarm
        for alarm in alarms
        if is_open(alarm.state)
        and any(dispatch.unit_id == unit.id for dispatch in alarm.dispatches)
    )
