"""The registration handshake: register (0x0100), its reply (0x8100) and
authentication (0x0102); field widths differ between the 2013 and 2019 editions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from devices.jt808.errors import EncodeError
from devices.jt808.framing import ProtocolVersion
from devices.jt808.messages.enums import RegisterResult, decode_enum
from devices.jt808.wire import Reader, decode_gbk, encode_fixed_gbk, encode_gbk, encode_uint

_REGISTER_WIDTHS = {
    ProtocolVersion.V2013: (5, 20, 7),
    ProtocolVersion.V2019: (11, 30, 30),
}
"""Byte widths of (maker, model, terminal id) in 0x0100 per edition."""


@dataclass(frozen=True, slots=True)
class Register:
    """0x0100: terminal registration."""

    MSG_ID: ClassVar[int] = 0x0100
    MSG_NAME: ClassVar[str] = "register"

    province: int
    """Province code (GB/T 2260 first two digits)."""
    city: int
    maker: str
    model: str
    terminal_id: str
    plate_color: int
    """JT/T 415 plate colour; 0 when the vehicle has no plate (``plate`` is then the VIN)."""
    plate: str

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body with the field widths of ``version``."""
        maker_width, model_width, terminal_width = _REGISTER_WIDTHS[version]
        return b"".join(
            (
                encode_uint(self.province, 2, "province"),
                encode_uint(self.city, 2, "city"),
                encode_fixed_gbk(self.maker, maker_width, "maker"),
                encode_fixed_gbk(self.model, model_width, "model"),
                encode_fixed_gbk(self.terminal_id, terminal_width, "terminal id"),
                encode_uint(self.plate_color, 1, "plate color"),
                encode_gbk(self.plate, "plate"),
            )
        )

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body with the field widths of ``version``."""
        maker_width, model_width, terminal_width = _REGISTER_WIDTHS[version]
        reader = Reader(body, "register")
        return cls(
            province=reader.u16("province"),
            city=reader.u16("city"),
            maker=decode_gbk(reader.take(maker_width, "maker"), "maker"),
            model=decode_gbk(reader.take(model_width, "model"), "model"),
            terminal_id=decode_gbk(reader.take(terminal_width, "terminal id"), "terminal id"),
            plate_color=reader.u8("plate color"),
            plate=decode_gbk(reader.rest(), "plate"),
        )


@dataclass(frozen=True, slots=True)
class RegisterReply:
    """0x8100: the platform's answer to a registration; ``auth_code`` only on success."""

    MSG_ID: ClassVar[int] = 0x8100
    MSG_NAME: ClassVar[str] = "register_reply"

    reply_serial: int
    result: RegisterResult
    auth_code: str = ""

    def __post_init__(self) -> None:
        if self.auth_code and self.result != RegisterResult.SUCCESS:
            raise EncodeError(
                f"an auth code is only sent with result 0 (success), not {self.result.value}"
            )

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body."""
        body = encode_uint(self.reply_serial, 2, "reply serial") + encode_uint(
            self.result, 1, "result"
        )
        if self.result == RegisterResult.SUCCESS:
            body += encode_gbk(self.auth_code, "auth code")
        return body

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body."""
        reader = Reader(body, "register reply")
        reply_serial = reader.u16("reply serial")
        result = decode_enum(RegisterResult, reader.u8("result"), "result")
        if result != RegisterResult.SUCCESS:
            reader.expect_end()
            return cls(reply_serial=reply_serial, result=result)
        auth_code = decode_gbk(reader.rest(), "auth code")
        return cls(reply_serial=reply_serial, result=result, auth_code=auth_code)


_IMEI_WIDTH = 15
_SOFTWARE_VERSION_WIDTH = 20


@dataclass(frozen=True, slots=True)
class Authentication:
    """0x0102: terminal authentication with the code it got from 0x8100.

    2013: the whole body is the code. 2019: code length BYTE, code, IMEI[15], software
    version[20]; ``imei`` and ``software_version`` are empty for 2013.
    """

    MSG_ID: ClassVar[int] = 0x0102
    MSG_NAME: ClassVar[str] = "authentication"

    auth_code: str
    imei: str = ""
    software_version: str = ""

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body in the layout of ``version``."""
        code = encode_gbk(self.auth_code, "auth code")
        if version == ProtocolVersion.V2013:
            if self.imei or self.software_version:
                raise EncodeError("a 2013 authentication carries no IMEI or software version")
            return code
        return b"".join(
            (
                encode_uint(len(code), 1, "auth code length"),
                code,
                encode_fixed_gbk(self.imei, _IMEI_WIDTH, "imei"),
                encode_fixed_gbk(
                    self.software_version, _SOFTWARE_VERSION_WIDTH, "software version"
                ),
            )
        )

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body in the layout of ``version``."""
        if version == ProtocolVersion.V2013:
            return cls(auth_code=decode_gbk(body, "auth code"))
        reader = Reader(body, "authentication")
        code_length = reader.u8("auth code length")
        auth_code = decode_gbk(reader.take(code_length, "auth code"), "auth code")
        imei = decode_gbk(reader.take(_IMEI_WIDTH, "imei"), "imei")
        software_version = decode_gbk(
            reader.take(_SOFTWARE_VERSION_WIDTH, "software version"), "software version"
        )
        reader.expect_end()
        return cls(auth_code=auth_code, imei=imei, software_version=software_version)
