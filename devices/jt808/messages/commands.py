"""Orders to a terminal beyond the text message, and the terminal's answers.

Platform to terminal: position query (0x8201), temporary tracking (0x8202), call-back
(0x8400), vehicle control (0x8500), set parameters (0x8103), query all parameters
(0x8104), query some parameters (0x8106). Terminal to platform: the position answer
(0x0201), the parameters answer (0x0104) and the vehicle-control answer (0x0500); the
other orders are answered with the general reply 0x0001.

Only 0x8500 differs between the editions: 2013 sends one control-flag BYTE (bit 0: 1 lock
the doors, 0 unlock); 2019 sends a WORD count and a list of control types, of which this
codec knows the door (type 0x0001, one BYTE: 0 lock, 1 open, JT/T 808-2019 Table 40 —
note the inverted sense against 2013's bit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final, Self

from devices.jt808.errors import EncodeError, FieldError, LengthError, UnsupportedError
from devices.jt808.framing import ProtocolVersion
from devices.jt808.messages.general import EmptyBody
from devices.jt808.messages.location import Location
from devices.jt808.messages.parameters import Parameter, encode_parameters, read_parameters
from devices.jt808.wire import Reader, decode_gbk, encode_gbk, encode_uint

MAX_CALL_BACK_PHONE: Final = 20
"""0x8400's phone number is a STRING of at most 20 bytes."""
DOOR_CONTROL_TYPE: Final = 0x0001
"""2019 vehicle-control type id of the door."""
_DOOR_LOCK_2019 = 0
_DOOR_OPEN_2019 = 1


@dataclass(frozen=True, slots=True)
class PositionQuery(EmptyBody):
    """0x8201: report the position now (empty body)."""

    MSG_ID: ClassVar[int] = 0x8201
    MSG_NAME: ClassVar[str] = "position_query"


@dataclass(frozen=True, slots=True)
class QueryAllParameters(EmptyBody):
    """0x8104: report every parameter (empty body)."""

    MSG_ID: ClassVar[int] = 0x8104
    MSG_NAME: ClassVar[str] = "query_all_parameters"


@dataclass(frozen=True, slots=True)
class TemporaryTracking:
    """0x8202: report every ``interval_s`` seconds for ``validity_s`` seconds (interval 0
    stops the tracking)."""

    MSG_ID: ClassVar[int] = 0x8202
    MSG_NAME: ClassVar[str] = "temporary_tracking"

    interval_s: int
    validity_s: int

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body: WORD interval, DWORD validity."""
        return encode_uint(self.interval_s, 2, "tracking interval") + encode_uint(
            self.validity_s, 4, "tracking validity"
        )

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body."""
        reader = Reader(body, cls.MSG_NAME)
        interval = reader.u16("tracking interval")
        validity = reader.u32("tracking validity")
        reader.expect_end()
        return cls(interval_s=interval, validity_s=validity)


@dataclass(frozen=True, slots=True)
class CallBackOrder:
    """0x8400: the terminal calls ``phone``; ``listen`` (flag 1, 监听) opens its
    microphone without the handset ringing, flag 0 is an ordinary call."""

    MSG_ID: ClassVar[int] = 0x8400
    MSG_NAME: ClassVar[str] = "call_back"

    phone: str
    listen: bool = False

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body: BYTE flag, STRING phone."""
        phone = encode_gbk(self.phone, "call-back phone")
        if not phone or len(phone) > MAX_CALL_BACK_PHONE:
            raise EncodeError(f"call-back phone must be 1..{MAX_CALL_BACK_PHONE} bytes")
        return bytes((1 if self.listen else 0,)) + phone

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body."""
        reader = Reader(body, cls.MSG_NAME)
        flag = reader.u8("call-back flag")
        if flag not in (0, 1):
            raise FieldError(f"call-back flag must be 0 or 1, got {flag}")
        phone = decode_gbk(reader.rest(), "call-back phone")
        if not phone or len(phone) > MAX_CALL_BACK_PHONE:
            raise LengthError(f"call-back phone must be 1..{MAX_CALL_BACK_PHONE} bytes")
        return cls(phone=phone, listen=flag == 1)


@dataclass(frozen=True, slots=True)
class VehicleControlOrder:
    """0x8500: lock (``lock``) or unlock the doors, in the layout of each edition."""

    MSG_ID: ClassVar[int] = 0x8500
    MSG_NAME: ClassVar[str] = "vehicle_control"

    lock: bool

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """2013: the control flag BYTE; 2019: WORD count 1, the door type and its BYTE."""
        if version == ProtocolVersion.V2019:
            parameter = _DOOR_LOCK_2019 if self.lock else _DOOR_OPEN_2019
            return (
                encode_uint(1, 2, "control type count")
                + encode_uint(DOOR_CONTROL_TYPE, 2, "control type")
                + bytes((parameter,))
            )
        return bytes((1 if self.lock else 0,))

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body; in 2019 every control type must be the door (others have
        lengths this codec does not know)."""
        reader = Reader(body, cls.MSG_NAME)
        if version != ProtocolVersion.V2019:
            flags = reader.u8("control flag")
            reader.expect_end()
            return cls(lock=bool(flags & 1))
        count = reader.u16("control type count")
        if count != 1:
            raise LengthError(f"vehicle control: expected one control type, got {count}")
        control_type = reader.u16("control type")
        if control_type != DOOR_CONTROL_TYPE:
            raise UnsupportedError(f"vehicle control type 0x{control_type:04X} is not supported")
        parameter = reader.u8("door control parameter")
        if parameter not in (_DOOR_LOCK_2019, _DOOR_OPEN_2019):
            raise FieldError(f"door control parameter must be 0 or 1, got {parameter}")
        reader.expect_end()
        return cls(lock=parameter == _DOOR_LOCK_2019)


@dataclass(frozen=True, slots=True)
class SetParameters:
    """0x8103: set terminal parameters (BYTE count, then the items)."""

    MSG_ID: ClassVar[int] = 0x8103
    MSG_NAME: ClassVar[str] = "set_parameters"

    parameters: tuple[Parameter, ...]

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body (known ids only)."""
        for parameter in self.parameters:
            if parameter.raw is not None:
                raise EncodeError(f"parameter 0x{parameter.id:04X} is not one this platform sets")
        return encode_parameters(self.parameters)

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body."""
        return cls(parameters=read_parameters(Reader(body, cls.MSG_NAME)))


@dataclass(frozen=True, slots=True)
class QueryParameters:
    """0x8106: report the parameters ``ids`` (BYTE count, then DWORD ids)."""

    MSG_ID: ClassVar[int] = 0x8106
    MSG_NAME: ClassVar[str] = "query_parameters"

    ids: tuple[int, ...]

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body."""
        return encode_uint(len(self.ids), 1, "parameter count") + b"".join(
            encode_uint(identifier, 4, "parameter id") for identifier in self.ids
        )

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body; the count must match the ids present."""
        reader = Reader(body, cls.MSG_NAME)
        count = reader.u8("parameter count")
        ids = tuple(reader.u32(f"parameter id {number}") for number in range(1, count + 1))
        reader.expect_end()
        return cls(ids=ids)


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True, slots=True)
class _LocationAnswer:
    MSG_NAME: ClassVar[str]

    reply_serial: int
    location: Location

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body: WORD reply serial, then a location report body."""
        return encode_uint(self.reply_serial, 2, "reply serial") + self.location.encode(version)

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body."""
        reader = Reader(body, cls.MSG_NAME)
        reply_serial = reader.u16("reply serial")
        return cls(reply_serial=reply_serial, location=Location.decode(reader.rest(), version))


@dataclass(frozen=True, slots=True)
class PositionAnswer(_LocationAnswer):
    """0x0201: the terminal's position, answering a 0x8201 (``reply_serial``)."""

    MSG_ID: ClassVar[int] = 0x0201
    MSG_NAME: ClassVar[str] = "position_answer"


@dataclass(frozen=True, slots=True)
class VehicleControlAnswer(_LocationAnswer):
    """0x0500: the terminal's position after a vehicle control (its status bits show the
    doors), answering a 0x8500."""

    MSG_ID: ClassVar[int] = 0x0500
    MSG_NAME: ClassVar[str] = "vehicle_control_answer"


@dataclass(frozen=True, slots=True)
class ParametersAnswer:
    """0x0104: the terminal's parameters, answering a 0x8104 or 0x8106."""

    MSG_ID: ClassVar[int] = 0x0104
    MSG_NAME: ClassVar[str] = "parameters_answer"

    reply_serial: int
    parameters: tuple[Parameter, ...]

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body: WORD reply serial, BYTE count, items."""
        return encode_uint(self.reply_serial, 2, "reply serial") + encode_parameters(
            self.parameters
        )

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body; the count must match the items present."""
        reader = Reader(body, cls.MSG_NAME)
        reply_serial = reader.u16("reply serial")
        return cls(reply_serial=reply_serial, parameters=read_parameters(reader))
