"""Text sent down to the terminal (0x8300) and its flag bits."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, Self

from devices.jt808.framing import ProtocolVersion
from devices.jt808.wire import Reader, decode_gbk, encode_gbk, encode_uint


class TextFlag(enum.IntFlag):
    """The 0x8300 flag bits. A set bit's name, in lower case, is the label the decoder gives
    it (:attr:`TextMessage.flag_names`); bit 5 clear means navigation information."""

    EMERGENCY = 1 << 0
    TERMINAL_DISPLAY = 1 << 2
    TTS = 1 << 3
    ADVERTISING_SCREEN = 1 << 4
    CAN_FAULT_CODE = 1 << 5


_TEXT_FLAG_NAMES: dict[int, str] = {
    flag.value.bit_length() - 1: str(flag.name).lower() for flag in TextFlag
}
"""0x8300 flag bit index -> label."""


@dataclass(frozen=True, slots=True)
class TextMessage:
    """0x8300: text sent down to the terminal (GBK).

    ``text_type`` (1 notice, 2 service) exists only in 2019 and is ignored for 2013.
    """

    MSG_ID: ClassVar[int] = 0x8300
    MSG_NAME: ClassVar[str] = "text_message"

    flags: int
    text: str
    text_type: int = 1

    @property
    def flag_names(self) -> frozenset[str]:
        """Names of the set flag bits."""
        return frozenset(
            _TEXT_FLAG_NAMES.get(bit, f"reserved_bit_{bit}")
            for bit in range(8)
            if self.flags >> bit & 1
        )

    def encode(self, version: ProtocolVersion = ProtocolVersion.V2013) -> bytes:
        """Encode the body in the layout of ``version``."""
        body = encode_uint(self.flags, 1, "text flags")
        if version == ProtocolVersion.V2019:
            body += encode_uint(self.text_type, 1, "text type")
        return body + encode_gbk(self.text, "text")

    @classmethod
    def decode(cls, body: bytes, version: ProtocolVersion = ProtocolVersion.V2013) -> Self:
        """Decode the body in the layout of ``version``."""
        reader = Reader(body, "text message")
        flags = reader.u8("text flags")
        text_type = reader.u8("text type") if version == ProtocolVersion.V2019 else 1
        return cls(flags=flags, text=decode_gbk(reader.rest(), "text"), text_type=text_type)
