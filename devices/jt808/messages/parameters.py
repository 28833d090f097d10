"""Terminal parameters (the JT/T 808 table of parameter ids) and their wire items.

A parameter item is DWORD id, BYTE length, value; the value's type is fixed by the id.
:data:`PARAMETER_TYPES` lists the ids this codec knows (the common ones of the table in
JT/T 808-2013 §8.8, Table 10, unchanged in 2019): setting an unknown id is refused
(:class:`~devices.jt808.errors.EncodeError`), and a known id whose length does not fit its
type is a :class:`~devices.jt808.errors.FieldError` when decoded. An unknown id in a
terminal's answer is kept as raw bytes (terminals report dozens of vendor ids).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from devices.jt808.errors import EncodeError, FieldError
from devices.jt808.wire import Reader, decode_gbk, encode_gbk, encode_uint

MAX_STRING_PARAMETER: Final = 255
"""A STRING parameter's length must fit its BYTE length field."""


class ParameterType(enum.Enum):
    """How a parameter's value is encoded (its byte size for integers)."""

    BYTE = 1
    WORD = 2
    DWORD = 4
    STRING = 0


PARAMETER_TYPES: Final[dict[int, ParameterType]] = {
    0x0001: ParameterType.DWORD,  # heartbeat interval, s
    0x0002: ParameterType.DWORD,  # TCP reply timeout, s
    0x0003: ParameterType.DWORD,  # TCP retransmissions
    0x0013: ParameterType.STRING,  # main server address (IP or domain)
    0x0018: ParameterType.DWORD,  # server TCP port
    0x0020: ParameterType.DWORD,  # report strategy (0 timed, 1 distance, 2 both)
    0x0027: ParameterType.DWORD,  # report interval while asleep, s
    0x0028: ParameterType.DWORD,  # report interval in an emergency, s
    0x0029: ParameterType.DWORD,  # default report interval, s
    0x0055: ParameterType.DWORD,  # maximum speed, km/h
    0x0056: ParameterType.DWORD,  # overspeed duration, s
    0x0080: ParameterType.DWORD,  # odometer, 1/10 km
    0x0081: ParameterType.WORD,  # province id
    0x0082: ParameterType.WORD,  # city id
    0x0083: ParameterType.STRING,  # plate
    0x0084: ParameterType.BYTE,  # plate colour (JT/T 697.7)
}
"""Parameter id -> type, for the ids this codec encodes."""

PARAMETER_NAMES: Final[dict[int, str]] = {
    0x0001: "heartbeat_interval_s",
    0x0002: "tcp_reply_timeout_s",
    0x0003: "tcp_retransmissions",
    0x0013: "main_server_address",
    0x0018: "server_tcp_port",
    0x0020: "report_strategy",
    0x0027: "sleep_report_interval_s",
    0x0028: "emergency_report_interval_s",
    0x0029: "default_report_interval_s",
    0x0055: "max_speed_kmh",
    0x0056: "overspeed_duration_s",
    0x0080: "odometer_tenths_km",
    0x0081: "province_id",
    0x0082: "city_id",
    0x0083: "plate",
    0x0084: "plate_color",
}
"""Parameter id -> a short English name (logs, docs)."""


@dataclass(frozen=True, slots=True)
class Parameter:
    """One terminal parameter: a known id with an ``int`` or ``str`` value, or an unknown id
    (from a terminal's answer) with its raw bytes in ``raw``."""

    id: int
    value: int | str
    raw: bytes | None = None
    """The value bytes of an id this codec does not know (then ``value`` is their hex)."""

    def encode(self) -> bytes:
        """The item: DWORD id, BYTE length, value (known ids only)."""
        label = f"parameter 0x{self.id:04X}"
        kind = PARAMETER_TYPES.get(self.id)
        if self.raw is not None:  # an unknown id as a terminal reported it
            value = self.raw
        elif kind is None:
            raise EncodeError(f"{label} is not one this platform sets")
        elif kind is ParameterType.STRING:
            if not isinstance(self.value, str):
                raise EncodeError(f"{label} is a string, got {self.value!r}")
            value = encode_gbk(self.value, label)
            if len(value) > MAX_STRING_PARAMETER:
                raise EncodeError(f"{label} holds at most {MAX_STRING_PARAMETER} bytes")
        elif isinstance(self.value, str | bool):
            raise EncodeError(f"{label} is an integer ({kind.name}), got {self.value!r}")
        else:
            value = encode_uint(self.value, kind.value, label)
        return encode_uint(self.id, 4, "parameter id") + bytes((len(value),)) + value

    @classmethod
    def read(cls, reader: Reader, number: int) -> Parameter:
        """Read item ``number`` (1-based) of a parameter list."""
        identifier = reader.u32(f"parameter {number} id")
        length = reader.u8(f"parameter {number} (0x{identifier:04X}) length")
        value = reader.take(length, f"parameter {number} (0x{identifier:04X}) value")
        kind = PARAMETER_TYPES.get(identifier)
        if kind is None:
            return cls(id=identifier, value=value.hex(), raw=value)
        if kind is ParameterType.STRING:
            return cls(id=identifier, value=decode_gbk(value, f"parameter 0x{identifier:04X}"))
        if length != kind.value:
            raise FieldError(
                f"parameter 0x{identifier:04X} is a {kind.name} ({kind.value} bytes), "
                f"got {length} bytes"
            )
        return cls(id=identifier, value=int.from_bytes(value, "big"))


def encode_parameters(parameters: tuple[Parameter, ...]) -> bytes:
    """BYTE count, then every item."""
    return encode_uint(len(parameters), 1, "parameter count") + b"".join(
        parameter.encode() for parameter in parameters
    )


def read_parameters(reader: Reader) -> tuple[Parameter, ...]:
    """BYTE count, then exactly that many items (to the end of the body)."""
    count = reader.u8("parameter count")
    parameters = tuple(Parameter.read(reader, number) for number in range(1, count + 1))
    reader.expect_end()
    return parameters
