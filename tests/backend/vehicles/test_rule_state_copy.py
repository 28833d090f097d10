"""The engine copies each judged vehicle's rule states before a batch and puts the copies
back when the batch could not be stored: a copy must carry every field and share nothing
mutable with the original, or a rollback would silently keep half a decision."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing

import pytest

from backend.vehicles.rules.state import (
    ConditionState,
    DwellState,
    ParkingState,
    TerminalAlarmState,
    VehicleState,
)

AT = dt.datetime(2026, 12, 5, 3, 0, tzinfo=dt.UTC)


def _non_default(kind: type[object]) -> object:
    """An instance with every field set to something other than its default."""
    hints = typing.get_type_hints(kind)
    values: dict[str, object] = {}
    for number, field in enumerate(dataclasses.fields(kind)):  # type: ignore[arg-type]
        hint = str(hints[field.name])
        if "datetime" in hint:
            values[field.name] = AT + dt.timedelta(seconds=number)
        elif "frozenset" in hint:
            values[field.name] = frozenset({f"bit-{number}"})
        elif "bool" in hint:
            values[field.name] = True
        elif "float" in hint:
            values[field.name] = 10.5 + number
        elif "str" in hint:
            values[field.name] = f"episode-{number}"
        else:  # pragma: no cover - a new field type: teach this test about it
            pytest.fail(f"{kind.__name__}.{field.name}: no sample value for {hint}")
    return kind(**values)


@pytest.mark.parametrize("kind", [ConditionState, DwellState, ParkingState, TerminalAlarmState])
def test_a_rule_state_copy_keeps_every_field(kind: type[object]) -> None:
    original = _non_default(kind)
    duplicate = original.copy()  # type: ignore[attr-defined]
    assert duplicate == original
    assert duplicate is not original
    assert dataclasses.asdict(duplicate) != dataclasses.asdict(kind()), "not the defaults"  # type: ignore[call-overload]


def test_a_vehicle_state_copy_is_independent_of_the_original() -> None:
    vehicle = VehicleState(vehicle="13800000001", last_fix_at=AT, last_lat=30.5, last_lon=114.3)
    speeding = vehicle.rule_state("overspeed", ConditionState)
    fence = vehicle.rule_state("fence-1", DwellState)
    duplicate = vehicle.copy()
    assert duplicate == vehicle

    speeding.active = True
    speeding.started_at = AT
    fence.inside = True
    vehicle.rules["parking"] = ParkingState(stopped_since=AT)

    assert duplicate.rules["overspeed"] == ConditionState(), "the copy did not follow"
    assert duplicate.rules["fence-1"] == DwellState()
    assert "parking" not in duplicate.rules
