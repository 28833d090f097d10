"""VehicleStore: newest fix per device, states, listeners."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.map.projection import to_mercator
from desktop.map.vehicles import OFFLINE_AFTER, VehicleState, VehicleStore, classify
from realtime.protocol import PositionView, Telemetry, decode_server, encode

T0 = dt.datetime(2025, 3, 1, 8, 0, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def fix(device: str, seconds: float = 0.0, **fields: object) -> PositionView:
    values: dict[str, object] = {"lat": 30.27, "lon": 120.15}
    values.update(fields)
    return PositionView(device=device, at=T0 + dt.timedelta(seconds=seconds), **values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> VehicleStore:
    return VehicleStore(clock=clock)


def test_newest_fix_is_kept_and_older_ones_ignored(store: VehicleStore) -> None:
    assert store.update([fix("a", 10, lat=30.0)]) == {"a"}
    assert store.update([fix("a", 5, lat=31.0)]) == frozenset()
    assert store.update([fix("a", 10, lat=32.0)]) == frozenset(), "a repeat is not newer"
    record = store.get("a")
    assert record is not None
    assert record.position.lat == 30.0
    assert store.update([fix("a", 11, lat=33.0)]) == {"a"}
    record = store.get("a")
    assert record is not None
    assert record.position.lat == 33.0
    assert (record.x, record.y) == pytest.approx(to_mercator(120.15, 33.0))


def test_telemetry_updates_positions_only(store: VehicleStore) -> None:
    wire = encode(Telemetry(positions=[fix("a"), fix("b", 1)]))
    telemetry = decode_server(wire)
    assert isinstance(telemetry, Telemetry)
    assert store.apply_telemetry(telemetry) == {"a", "b"}
    assert len(store) == 2
    assert {record.device for record in store} == {"a", "b"}


def test_listeners_hear_changes_and_can_leave(store: VehicleStore) -> None:
    heard: list[frozenset[str]] = []
    remove = store.add_listener(heard.append)
    version = store.version
    store.update([fix("a"), fix("b")])
    store.update([fix("a")])  # nothing new: no call
    assert heard == [frozenset({"a", "b"})]
    assert store.version == version + 1
    remove()
    store.update([fix("a", 1)])
    assert len(heard) == 1


def test_states(store: VehicleStore, clock: Clock) -> None:
    store.update(
        [
            fix("moving", speed_kmh=40.0),
            fix("stopped", speed_kmh=1.0),
            fix("alarm", speed_kmh=0.0, alarms=["sos"]),
            fix("old", -OFFLINE_AFTER.total_seconds() - 1, speed_kmh=50.0),
        ]
    )
    states = {record.device: classify(record, clock.now) for record in store}
    assert states == {
        "moving": VehicleState.MOVING,
        "stopped": VehicleState.STOPPED,
        "alarm": VehicleState.ALARM,
        "old": VehicleState.OFFLINE,
    }
    clock.now = T0 + OFFLINE_AFTER + dt.timedelta(seconds=1)
    assert store.counts()[VehicleState.OFFLINE] == 3, "silent vehicles turn offline"
    assert store.counts()[VehicleState.ALARM] == 1, "an alarm stays visible"


def test_data_age_and_labels(store: VehicleStore, clock: Clock) -> None:
    assert store.data_age() is None
    store.update([fix("13800000001")])
    clock.now = T0 + dt.timedelta(seconds=42)
    assert store.data_age() == dt.timedelta(seconds=42)
    record = store.get("13800000001")
    assert record is not None
    assert record.age(clock.now) == dt.timedelta(seconds=42)
    assert store.label("13800000001") == "13800000001"
    store.set_labels({"13800000001": "浙A·12345"})
    assert store.label("13800000001") == "浙A·12345"


def test_remove_and_clear(store: VehicleStore) -> None:
    store.update([fix("a"), fix("b")])
    assert store.remove("a")
    assert not store.remove("a")
    store.clear()
    assert len(store) == 0
