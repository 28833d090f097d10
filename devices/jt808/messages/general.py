"""General replies (0x0001 terminal, 0x8001 platform) and the empty-body messages
(0x0002 heartbeat, 0x0003 logout)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from devices.jt808.errors import LengthError
from devices.jt808.framing import ProtocolVersion
from devices.jt808.messages.enums import GeneralResult, decode_enum
from devices.jt808.wire import Reader, encode_uint


@dataclass(frozen=True, slots=True)
class _GeneralReply:
    MSG_NAME: ClassVar[str]

    reply_serial: int
    reply_msg_id: int
    result: GeneralResult

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body."""
        return (
            encode_uint(self.reply_serial, 2, "reply serial")
            + encode_uint(self.reply_msg_id, 2, "reply message id")
            + encode_uint(self.result, 1, "result")
        )

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body."""
        reader = Reader(body, cls.MSG_NAME)
        reply_serial = reader.u16("reply serial")
        reply_msg_id = reader.u16("reply message id")
        result = decode_enum(GeneralResult, reader.u8("result"), "result")
        reader.expect_end()
        return cls(reply_serial=reply_serial, reply_msg_id=reply_msg_id, result=result)


@dataclass(frozen=True, slots=True)
class TerminalGeneralReply(_GeneralReply):
    """0x0001: the terminal acknowledges a platform message."""

    MSG_ID: ClassVar[int] = 0x0001
    MSG_NAME: ClassVar[str] = "terminal_general_reply"


@dataclass(frozen=True, slots=True)
class PlatformGeneralReply(_GeneralReply):
    """0x8001: the platform acknowledges a terminal message."""

    MSG_ID: ClassVar[int] = 0x8001
    MSG_NAME: ClassVar[str] = "platform_general_reply"


# --------------------------------------------------------------------------- empty bodies


@dataclass(frozen=True, slots=True)
class EmptyBody:
    """A message whose body is empty (a heartbeat, a position query…): subclasses name it."""

    MSG_NAME: ClassVar[str]

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the (empty) body."""
        return b""

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body, which must be empty."""
        if body:
            raise LengthError(f"{cls.MSG_NAME} body must be empty, got {len(body)} bytes")
        return cls()


@dataclass(frozen=True, slots=True)
class Heartbeat(EmptyBody):
    """0x0002: terminal heartbeat (empty body)."""

    MSG_ID: ClassVar[int] = 0x0002
    MSG_NAME: ClassVar[str] = "heartbeat"


@dataclass(frozen=True, slots=True)
class Logout(EmptyBody):
    """0x0003: terminal logout / unregister (empty body)."""

    MSG_ID: ClassVar[int] = 0x0003
    MSG_NAME: ClassVar[str] = "logout"
