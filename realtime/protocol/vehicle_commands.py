"""Commands to vehicle terminals (JT/T 808) beyond the text message, on the wire.

``vehicle.command`` sends one of :data:`VehicleOrder` to a terminal of the user's area:

========================  ==========  ===================================
order                     platform    the terminal answers
========================  ==========  ===================================
``query_position``        0x8201      0x0201 (a location report)
``track``                 0x8202      0x0001 (then location reports at the interval)
``call_back``             0x8400      0x0001 (the terminal dials; ``listen``: 监听)
``control``               0x8500      0x0500 (its location after the control)
``set_parameters``        0x8103      0x0001
``query_parameters``      0x8104/06   0x0104 (the parameters asked for)
========================  ==========  ===================================

Orders that change the vehicle or the terminal (``control``, ``set_parameters``, and
``call_back`` with ``listen``) take two steps: the first answer is ``confirm_needed`` with a
one-time token (valid :data:`CONFIRM_TTL_S` seconds, for the same user and the same
order); ``vehicle.confirm`` with it sends the order. Every order sent is an event
(``vehicle.command``: who, what, the terminal's answer) in the event log.
"""

from __future__ import annotations

import enum
from typing import Annotated, Final

import msgspec

from realtime.protocol.common import AwareDateTime, Tagged

CONFIRM_TTL_S: Final = 60
"""How long a confirmation token stays valid."""
MAX_PARAMETERS: Final = 64

ParameterId = Annotated[int, msgspec.Meta(ge=0, le=0xFFFFFFFF)]
PhoneNumber = Annotated[str, msgspec.Meta(min_length=3, max_length=20, pattern=r"^[0-9+*]+$")]
"""Digits (and ``+``); a ``*`` appears only where an event or a view masks the number (the
server refuses it in an order)."""


class QueryPosition(msgspec.Struct, tag="query_position", kw_only=True, forbid_unknown_fields=True):
    """0x8201: report the position now."""


class TemporaryTracking(msgspec.Struct, tag="track", kw_only=True, forbid_unknown_fields=True):
    """0x8202: report every ``interval_s`` seconds for ``duration_s`` (interval 0 stops)."""

    interval_s: Annotated[int, msgspec.Meta(ge=0, le=3600)]
    duration_s: Annotated[int, msgspec.Meta(ge=0, le=86_400)] = 600


class CallBack(msgspec.Struct, tag="call_back", kw_only=True, forbid_unknown_fields=True):
    """0x8400: the terminal calls ``phone`` back; ``listen`` (监听) opens its microphone
    without the handset (confirmed, supervisors only). Events show ``phone`` masked."""

    phone: PhoneNumber
    listen: bool = False


class DoorControl(enum.StrEnum):
    LOCK = "lock"
    UNLOCK = "unlock"


class VehicleControl(msgspec.Struct, tag="control", kw_only=True, forbid_unknown_fields=True):
    """0x8500: vehicle control (door lock). 2013: the control flag byte; 2019: the
    control-type list (id 0x0001, door)."""

    door: DoorControl


class ParameterValue(msgspec.Struct, kw_only=True):
    """One terminal parameter (JT/T 808 table of parameter ids): an integer (DWORD, WORD,
    BYTE by id) or a string (GBK)."""

    id: ParameterId
    value: int | str


class SetParameters(msgspec.Struct, tag="set_parameters", kw_only=True, forbid_unknown_fields=True):
    """0x8103: set parameters (known ids only; their types are checked)."""

    parameters: Annotated[
        list[ParameterValue], msgspec.Meta(min_length=1, max_length=MAX_PARAMETERS)
    ]


class QueryParameters(
    msgspec.Struct, tag="query_parameters", kw_only=True, forbid_unknown_fields=True
):
    """0x8104 (all, ``ids`` empty) or 0x8106 (the ids listed)."""

    ids: Annotated[list[ParameterId], msgspec.Meta(max_length=MAX_PARAMETERS)] = msgspec.field(
        default_factory=list
    )


VehicleOrder = (
    QueryPosition | TemporaryTracking | CallBack | VehicleControl | SetParameters | QueryParameters
)
"""What ``vehicle.command`` sends (the ``type`` field of ``order`` names it)."""


class TextToDriver(msgspec.Struct, tag="text", kw_only=True):
    """0x8300 as the event log shows it: a text sent with ``device.send_text`` (not an
    order of ``vehicle.command``), its flags as sent."""

    text: str
    emergency: bool = False
    tts: bool = False
    display: bool = True


LoggedOrder = VehicleOrder | TextToDriver
"""What a ``vehicle.command`` event says was sent: an order, or a text."""


class CommandOutcome(enum.StrEnum):
    CONFIRM_NEEDED = "confirm_needed"
    """Nothing was sent: confirm with ``vehicle.confirm`` and the token."""
    ANSWERED = "answered"
    """The terminal answered (``reply``)."""
    FAILED = "failed"
    """The terminal answered with failure, a bad message or unsupported (``result``)."""
    TIMEOUT = "timeout"
    """No answer within the reply timeout (the order may still have reached it)."""


class PositionReply(msgspec.Struct, kw_only=True):
    """A location in a 0x0201/0x0500 answer."""

    lat: float
    lon: float
    speed_kmh: float
    heading: int
    at: AwareDateTime
    alarms: list[str] = msgspec.field(default_factory=list)
    door_locked: bool | None = None
    """From the status bits (0x0500: after the control)."""


class VehicleCommandView(msgspec.Struct, kw_only=True):
    """An order and its outcome (the answer of ``vehicle.command``/``vehicle.confirm`` and
    the ``vehicle_command`` of a ``vehicle.command`` event)."""

    device: str
    """The terminal's phone number."""
    order: LoggedOrder
    """The order (a text only in events: ``device.send_text`` answers ``text_sent``)."""
    outcome: CommandOutcome
    requested_by: str
    at: AwareDateTime
    token: str = ""
    """For ``confirm_needed``."""
    confirm_by: AwareDateTime | None = None
    result: str = ""
    """The 0x0001 result (success, failure, bad_message, unsupported) where one came."""
    position: PositionReply | None = None
    """0x0201 / 0x0500."""
    parameters: list[ParameterValue] = msgspec.field(default_factory=list)
    """0x0104."""
    protocol: str = ""
    """The terminal's protocol version (2013, 2019)."""
    jurisdiction: str = ""
    """The vehicle's area (by its latest fix) when the order was sent: who sees the event."""
    plate: str = ""
    """The vehicle's plate from the registry ("" if it has none): what people call it."""


class SendVehicleCommand(Tagged, tag="vehicle.command"):
    req: str
    device: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    order: VehicleOrder


class ConfirmVehicleCommand(Tagged, tag="vehicle.confirm"):
    req: str
    token: Annotated[str, msgspec.Meta(min_length=8, max_length=64)]


class VehicleCommandResult(msgspec.Struct, tag="vehicle_command", kw_only=True):
    command: VehicleCommandView
