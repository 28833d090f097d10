"""devices.wire: every observation type survives the trip over the device endpoint."""

from __future__ import annotations

import datetime as dt

import pytest

from devices.observations import (
    DeviceAlarmRaised,
    DeviceStatusChanged,
    Observation,
    Position,
    Reading,
)
from devices.wire import to_message, to_observation
from realtime.protocol import DeviceReading, decode_device, encode

WHEN = dt.datetime(2024, 5, 1, 0, 30, tzinfo=dt.UTC)

OBSERVATIONS: list[Observation] = [
    Position(
        device="13912345678",
        at=WHEN,
        lat=30.25,
        lon=120.16,
        speed_kmh=62.5,
        heading_deg=90.0,
        altitude_m=12.0,
        alarms=frozenset({"overspeed", "emergency"}),
        backfill=True,
    ),
    Position(device="13912345678", at=WHEN, lat=-33.9, lon=151.2),
    Reading(device="tank-3", sensor="level", at=WHEN, value=4.75, unit="m"),
    DeviceAlarmRaised(
        device="13912345678",
        key="emergency",
        at=WHEN,
        lat=30.25,
        lon=120.16,
        description="JT/T 808 alarm bit 0",
    ),
    DeviceAlarmRaised(device="13912345678", key="overspeed", at=WHEN),
    DeviceStatusChanged(device="13912345678", online=False, at=WHEN, reason="logout"),
]


@pytest.mark.parametrize("observation", OBSERVATIONS, ids=lambda o: type(o).__name__)
def test_an_observation_round_trips_through_the_wire(observation: Observation) -> None:
    message = to_message(observation, kind="jt808", ref="r-1")
    assert (message.ref, message.kind) == ("r-1", "jt808")
    arrived = decode_device(encode(message))
    assert to_observation(arrived, sender="gateway") == observation  # type: ignore[arg-type]


def test_position_alarms_travel_sorted() -> None:
    message = to_message(OBSERVATIONS[0], kind="jt808", ref="r")
    assert message.alarms == ["emergency", "overspeed"]  # type: ignore[union-attr]


def test_status_and_extras_stay_at_the_gateway() -> None:
    position = Position(
        device="d", at=WHEN, lat=1.0, lon=2.0, status=frozenset({"acc_on"}), extras={"fuel": 3}
    )
    back = to_observation(to_message(position, kind="jt808", ref="r"), sender="x")
    assert back == Position(device="d", at=WHEN, lat=1.0, lon=2.0)


def test_a_plain_feed_reading_is_the_senders_at_arrival() -> None:
    message = DeviceReading(ref="r", sensor="temp", value=21.5, unit="°C")
    assert to_observation(message, sender="feed-7", now=WHEN) == Reading(
        device="feed-7", sensor="temp", at=WHEN, value=21.5, unit="°C"
    )
    before = dt.datetime.now(dt.UTC)
    reading = to_observation(message, sender="feed-7")
    assert isinstance(reading, Reading)
    assert reading.at >= before
