"""Golden samples of the orders to vehicle terminals (``vehicle.command``,
``vehicle.confirm``, their answer and the ``vehicle.command`` event), merged into
:mod:`tests.realtime.test_protocol_golden`."""

from __future__ import annotations

import datetime as dt

import msgspec

from realtime.protocol import (
    ConfirmVehicleCommand,
    Event,
    SendVehicleCommand,
    VehicleCommandResult,
    VehicleCommandView,
)
from realtime.protocol.vehicle_commands import (
    CallBack,
    CommandOutcome,
    DoorControl,
    ParameterValue,
    PositionReply,
    QueryParameters,
    QueryPosition,
    SetParameters,
    TemporaryTracking,
    TextToDriver,
    VehicleControl,
)

_AT = dt.datetime(2026, 12, 5, 2, 0, 0, tzinfo=dt.UTC)
_DEVICE = "13912345678"

_LOCKED = VehicleCommandView(
    device=_DEVICE,
    order=VehicleControl(door=DoorControl.LOCK),
    outcome=CommandOutcome.ANSWERED,
    requested_by="supervisor1",
    at=_AT,
    result="success",
    position=PositionReply(
        lat=31.2304,
        lon=121.4737,
        speed_kmh=0.0,
        heading=90,
        at=_AT,
        alarms=["emergency"],
        door_locked=True,
    ),
    protocol="2019",
    jurisdiction="310104",
)

CONSOLE_SAMPLES: dict[str, msgspec.Struct] = {
    "SendVehicleCommand": SendVehicleCommand(req="v1", device=_DEVICE, order=QueryPosition()),
    "SendVehicleCommandTrack": SendVehicleCommand(
        req="v2", device=_DEVICE, order=TemporaryTracking(interval_s=10, duration_s=600)
    ),
    "SendVehicleCommandCallBack": SendVehicleCommand(
        req="v3", device=_DEVICE, order=CallBack(phone="02161234567", listen=True)
    ),
    "SendVehicleCommandControl": SendVehicleCommand(
        req="v4", device=_DEVICE, order=VehicleControl(door=DoorControl.UNLOCK)
    ),
    "SendVehicleCommandSet": SendVehicleCommand(
        req="v5",
        device=_DEVICE,
        order=SetParameters(
            parameters=[ParameterValue(id=0x0029, value=30), ParameterValue(id=0x0083, value="沪A")]
        ),
    ),
    "SendVehicleCommandQuery": SendVehicleCommand(
        req="v6", device=_DEVICE, order=QueryParameters(ids=[0x0001, 0x0055])
    ),
    "ConfirmVehicleCommand": ConfirmVehicleCommand(req="v7", token="Zk3v9Qm2xY7pL0aB"),
}

RESULTS: dict[str, msgspec.Struct] = {
    "vehicle_command": VehicleCommandResult(command=_LOCKED),
    "vehicle_command_confirm": VehicleCommandResult(
        command=VehicleCommandView(
            device=_DEVICE,
            order=SetParameters(parameters=[ParameterValue(id=0x0018, value=7018)]),
            outcome=CommandOutcome.CONFIRM_NEEDED,
            requested_by="supervisor1",
            at=_AT,
            token="Zk3v9Qm2xY7pL0aB",
            confirm_by=_AT + dt.timedelta(seconds=60),
            jurisdiction="310104",
        )
    ),
    "vehicle_command_parameters": VehicleCommandResult(
        command=VehicleCommandView(
            device=_DEVICE,
            order=QueryParameters(),
            outcome=CommandOutcome.ANSWERED,
            requested_by="officer1",
            at=_AT,
            result="success",
            parameters=[ParameterValue(id=0x0055, value=80)],
            protocol="2013",
        )
    ),
}

SERVER_SAMPLES: dict[str, msgspec.Struct] = {
    "VehicleCommandEvent": Event(
        seq=301, at=_AT, kind="vehicle.command", actor="supervisor1", vehicle_command=_LOCKED
    ),
    "VehicleTextEvent": Event(
        seq=302,
        at=_AT,
        kind="vehicle.command",
        actor="officer1",
        vehicle_command=VehicleCommandView(
            device=_DEVICE,
            order=TextToDriver(text="前方封路，请绕行", emergency=True, tts=True),
            outcome=CommandOutcome.ANSWERED,
            requested_by="officer1",
            at=_AT,
            result="success",
            protocol="2019",
            jurisdiction="310101",
            plate="苏A·D8821",
        ),
    ),
}
