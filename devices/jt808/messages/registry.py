"""Every message this codec understands, and the table from message id to class."""

from __future__ import annotations

from devices.jt808.messages.commands import (
    CallBackOrder,
    ParametersAnswer,
    PositionAnswer,
    PositionQuery,
    QueryAllParameters,
    QueryParameters,
    SetParameters,
    TemporaryTracking,
    VehicleControlAnswer,
    VehicleControlOrder,
)
from devices.jt808.messages.general import (
    Heartbeat,
    Logout,
    PlatformGeneralReply,
    TerminalGeneralReply,
)
from devices.jt808.messages.location import Location, LocationBatch
from devices.jt808.messages.registration import Authentication, Register, RegisterReply
from devices.jt808.messages.text import TextMessage

Message = (
    TerminalGeneralReply
    | PlatformGeneralReply
    | Heartbeat
    | Logout
    | Register
    | RegisterReply
    | Authentication
    | Location
    | LocationBatch
    | TextMessage
    | PositionQuery
    | TemporaryTracking
    | CallBackOrder
    | VehicleControlOrder
    | SetParameters
    | QueryAllParameters
    | QueryParameters
    | PositionAnswer
    | ParametersAnswer
    | VehicleControlAnswer
)
"""Every message this codec understands."""

MESSAGE_TYPES: dict[int, type[Message]] = {
    cls.MSG_ID: cls
    for cls in (
        TerminalGeneralReply,
        PlatformGeneralReply,
        Heartbeat,
        Logout,
        Register,
        RegisterReply,
        Authentication,
        Location,
        LocationBatch,
        TextMessage,
        PositionQuery,
        TemporaryTracking,
        CallBackOrder,
        VehicleControlOrder,
        SetParameters,
        QueryAllParameters,
        QueryParameters,
        PositionAnswer,
        ParametersAnswer,
        VehicleControlAnswer,
    )
}
"""Message id -> message class."""
