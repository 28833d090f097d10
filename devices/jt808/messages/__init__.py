"""Typed JT/T 808 message bodies (both directions), each with ``encode`` and ``decode``.

A message class knows its id (``MSG_ID``) and name (``MSG_NAME``); ``encode(version)``
returns the body bytes and ``decode(body, version)`` parses them strictly (trailing bytes,
bad enums, bad BCD or GBK are errors). Raw units are kept in the fields so every message
round-trips exactly; properties give the values in everyday units.

The bodies live in one module per topic and are all importable from here:

- :mod:`~devices.jt808.messages.enums`: result and batch-kind codes;
- :mod:`~devices.jt808.messages.general`: general replies (0x0001, 0x8001), heartbeat
  (0x0002) and logout (0x0003);
- :mod:`~devices.jt808.messages.registration`: register (0x0100), register reply
  (0x8100), authentication (0x0102);
- :mod:`~devices.jt808.messages.items`: the additional items of a location report;
- :mod:`~devices.jt808.messages.location`: location (0x0200) and batch (0x0704);
- :mod:`~devices.jt808.messages.text`: text message (0x8300) and its flags;
- :mod:`~devices.jt808.messages.commands`: orders to the terminal (0x8201, 0x8202,
  0x8400, 0x8500, 0x8103, 0x8104, 0x8106) and its answers (0x0201, 0x0104, 0x0500);
- :mod:`~devices.jt808.messages.parameters`: terminal parameters and their types;
- :mod:`~devices.jt808.messages.registry`: :data:`Message` and :data:`MESSAGE_TYPES`.
"""

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
from devices.jt808.messages.enums import BatchKind, GeneralResult, RegisterResult
from devices.jt808.messages.general import (
    Heartbeat,
    Logout,
    PlatformGeneralReply,
    TerminalGeneralReply,
)
from devices.jt808.messages.items import (
    AlarmEventIdItem,
    AnalogItem,
    AreaRouteItem,
    Extras,
    FuelItem,
    IoStatusItem,
    KnownItem,
    LocationItem,
    MileageItem,
    OverspeedItem,
    RawItem,
    RecorderSpeedItem,
    RoadSectionTimeItem,
    SatelliteCountItem,
    SignalStrengthItem,
    VehicleSignalsItem,
    decode_item,
    item_id,
)
from devices.jt808.messages.location import Location, LocationBatch
from devices.jt808.messages.parameters import (
    PARAMETER_TYPES,
    Parameter,
    ParameterType,
)
from devices.jt808.messages.registration import Authentication, Register, RegisterReply
from devices.jt808.messages.registry import MESSAGE_TYPES, Message
from devices.jt808.messages.text import TextFlag, TextMessage

__all__ = [
    "MESSAGE_TYPES",
    "PARAMETER_TYPES",
    "AlarmEventIdItem",
    "AnalogItem",
    "AreaRouteItem",
    "Authentication",
    "BatchKind",
    "CallBackOrder",
    "Extras",
    "FuelItem",
    "GeneralResult",
    "Heartbeat",
    "IoStatusItem",
    "KnownItem",
    "Location",
    "LocationBatch",
    "LocationItem",
    "Logout",
    "Message",
    "MileageItem",
    "OverspeedItem",
    "Parameter",
    "ParameterType",
    "ParametersAnswer",
    "PlatformGeneralReply",
    "PositionAnswer",
    "PositionQuery",
    "QueryAllParameters",
    "QueryParameters",
    "RawItem",
    "RecorderSpeedItem",
    "Register",
    "RegisterReply",
    "RegisterResult",
    "RoadSectionTimeItem",
    "SatelliteCountItem",
    "SetParameters",
    "SignalStrengthItem",
    "TemporaryTracking",
    "TerminalGeneralReply",
    "TextFlag",
    "TextMessage",
    "VehicleControlAnswer",
    "VehicleControlOrder",
    "VehicleSignalsItem",
    "decode_item",
    "item_id",
]
