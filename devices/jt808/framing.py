"""JT/T 808 framing: 0x7E flags, 0x7D escaping, XOR checksum and the message header.

Wire layout: ``7E | header | body | checksum | 7E``. The checksum is the XOR of every byte
from the header through the body, computed before escaping; inside the flags ``7E`` is sent
as ``7D 02`` and ``7D`` as ``7D 01``.
"""

from __future__ import annotations

import enum
import functools
import struct

import msgspec

from devices.jt808.errors import (
    ChecksumError,
    EncodeError,
    EscapeError,
    FieldError,
    FrameTooLongError,
    FramingError,
    LengthError,
    TruncatedError,
)
from devices.jt808.wire import Reader, decode_bcd, encode_bcd, encode_uint

FLAG = 0x7E
ESCAPE = 0x7D
MAX_BODY_LENGTH = 0x3FF
"""The body length field is 10 bits wide."""

_BODY_LENGTH_MASK = 0x03FF
_ENCRYPTION_SHIFT = 10
_ENCRYPTION_MASK = 0b111
_SUB_PACKET_BIT = 1 << 13
_VERSION_2019_BIT = 1 << 14

MIN_FRAME_LENGTH = 2 + 2 + 6 + 2 + 1
"""Smallest unescaped frame: a 2013 header with an empty body, plus the checksum."""
MAX_HEADER_LENGTH = 2 + 2 + 1 + 10 + 2 + 4
MAX_FRAME_LENGTH = MAX_HEADER_LENGTH + MAX_BODY_LENGTH + 1
"""Largest unescaped frame (2019 header with sub-packet fields, full body, checksum)."""
DEFAULT_MAX_ESCAPED_FRAME = 2 * MAX_FRAME_LENGTH
"""Escaping at most doubles a frame, so nothing valid is longer than this between flags."""


class ProtocolVersion(enum.IntEnum):
    """Edition of JT/T 808 a frame follows (2019 sets attribute bit 14)."""

    V2013 = 2013
    V2019 = 2019


class SubPacket(msgspec.Struct, frozen=True, gc=False):
    """Sub-packet fields of a long message split over several frames (1-based index)."""

    total: int
    index: int


class Header(msgspec.Struct, frozen=True, gc=False):
    """A decoded JT/T 808 message header."""

    msg_id: int
    phone: str
    """Terminal phone as on the wire: 12 BCD digits (2013) or 20 (2019), leading zeros kept."""
    serial: int
    version: ProtocolVersion = ProtocolVersion.V2013
    protocol_version_number: int = 1
    """The 2019 header's version byte (1 for the 2019 edition); unused for 2013."""
    encryption: int = 0
    """Attribute bits 10-12; 0 = plain body, bit 10 = RSA."""
    sub_packet: SubPacket | None = None

    @property
    def device_id(self) -> str:
        """The phone without its BCD zero padding: the id a terminal is registered under."""
        return self.phone.lstrip("0") or "0"


def xor_checksum(data: bytes) -> int:
    """XOR of all bytes of ``data`` (the JT/T 808 check code)."""
    # Fold the frame as one big integer, halving its width each step: a handful of
    # C-level operations instead of one Python operation per byte.
    value = int.from_bytes(data, "little")
    width = len(data)
    while width > 1:
        half = (width + 1) // 2
        value = (value & ((1 << (8 * half)) - 1)) ^ (value >> (8 * half))
        width = half
    return value


def escape(data: bytes) -> bytes:
    """Escape frame content: ``7D`` -> ``7D 01`` first, then ``7E`` -> ``7D 02``."""
    return data.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def unescape(data: bytes) -> bytes:
    """Undo :func:`escape`; a ``7D`` followed by anything but 01/02 is an :class:`EscapeError`."""
    position = data.find(ESCAPE)
    if position == -1:
        return data
    while position != -1:
        following = data[position + 1 : position + 2]
        if following not in (b"\x01", b"\x02"):
            got = f"0x{following[0]:02X}" if following else "the end of the frame"
            raise EscapeError(
                f"bad escape at offset {position}: expected 0x7D 0x01 or 0x7D 0x02, "
                f"got 0x7D followed by {got}"
            )
        position = data.find(ESCAPE, position + 2)
    # Every 7D now starts a valid pair, so the two replacements cannot interfere.
    return data.replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")


def encode_header(header: Header, body_length: int) -> bytes:
    """Encode ``header`` for a body of ``body_length`` bytes."""
    if not 0 <= body_length <= MAX_BODY_LENGTH:
        raise EncodeError(f"body length must be 0..{MAX_BODY_LENGTH} bytes, got {body_length}")
    if not 0 <= header.encryption <= _ENCRYPTION_MASK:
        raise EncodeError(f"encryption must be 0..{_ENCRYPTION_MASK}, got {header.encryption}")
    attributes = body_length | header.encryption << _ENCRYPTION_SHIFT
    if header.sub_packet is not None:
        attributes |= _SUB_PACKET_BIT
    parts = [encode_uint(header.msg_id, 2, "message id")]
    if header.version == ProtocolVersion.V2019:
        attributes |= _VERSION_2019_BIT
        parts.append(encode_uint(attributes, 2, "attributes"))
        parts.append(encode_uint(header.protocol_version_number, 1, "protocol version"))
        parts.append(encode_bcd(header.phone, 10, "phone"))
    else:
        parts.append(encode_uint(attributes, 2, "attributes"))
        parts.append(encode_bcd(header.phone, 6, "phone"))
    parts.append(encode_uint(header.serial, 2, "serial"))
    if header.sub_packet is not None:
        parts.append(encode_uint(header.sub_packet.total, 2, "packet total"))
        parts.append(encode_uint(header.sub_packet.index, 2, "packet index"))
    return b"".join(parts)


def encode_raw_frame(header: Header, body: bytes) -> bytes:
    """Build a complete wire frame (flags, escaping, checksum) from a header and body."""
    content = encode_header(header, len(body)) + body
    return b"\x7e" + escape(content + bytes([xor_checksum(content)])) + b"\x7e"


def decode_raw_frame(data: bytes) -> tuple[Header, bytes]:
    """Decode one frame into its header and raw body, validating everything but the body.

    ``data`` is the escaped content between two flags; a single leading and trailing
    ``7E`` are accepted and ignored. Raises a :class:`~devices.jt808.errors.JT808Error`.
    """
    if data[:1] == b"\x7e":
        data = data[1:]
    if data[-1:] == b"\x7e":
        data = data[:-1]
    if FLAG in data:
        raise FramingError(
            f"0x7E flag inside a frame at offset {data.index(FLAG)}: one frame expected"
        )
    content = unescape(data)
    if len(content) < MIN_FRAME_LENGTH:
        raise TruncatedError(
            f"frame of {len(content)} bytes is shorter than the {MIN_FRAME_LENGTH}-byte minimum"
            " (2013 header + checksum)"
        )
    received_checksum = content[-1]
    content = content[:-1]
    computed = xor_checksum(content)
    if computed != received_checksum:
        raise ChecksumError(
            f"checksum mismatch: frame says 0x{received_checksum:02X}, "
            f"content XORs to 0x{computed:02X}"
        )
    attributes = content[2] << 8 | content[3]
    if not attributes & _SUB_PACKET_BIT:
        # The everyday case (no sub-packet, a header that fits) in one struct call.
        layout = _HEADER_2019 if attributes & _VERSION_2019_BIT else _HEADER_2013
        if len(content) >= layout.size:
            return _decode_plain_header(content, attributes, layout)
    reader = Reader(content, "header")
    msg_id = reader.u16("message id")
    attributes = reader.u16("attributes")
    if attributes & _VERSION_2019_BIT:
        version = ProtocolVersion.V2019
        protocol_version_number = reader.u8("protocol version")
        phone = decode_bcd(reader.take(10, "phone"), "phone")
    else:
        version = ProtocolVersion.V2013
        protocol_version_number = 1
        phone = decode_bcd(reader.take(6, "phone"), "phone")
    serial = reader.u16("serial")
    sub_packet = None
    if attributes & _SUB_PACKET_BIT:
        total = reader.u16("packet total")
        index = reader.u16("packet index")
        if not 1 <= index <= total:
            raise FieldError(f"packet index must be 1..total ({total}), got {index}")
        sub_packet = SubPacket(total=total, index=index)
    header = Header(
        msg_id=msg_id,
        phone=phone,
        serial=serial,
        version=version,
        protocol_version_number=protocol_version_number,
        encryption=attributes >> _ENCRYPTION_SHIFT & _ENCRYPTION_MASK,
        sub_packet=sub_packet,
    )
    body = reader.rest()
    _check_body_length(attributes, header, body)
    return header, body


def _check_body_length(attributes: int, header: Header, body: bytes) -> None:
    declared = attributes & _BODY_LENGTH_MASK
    if declared != len(body):
        raise LengthError(
            f"body length mismatch: header says {declared} bytes, frame carries {len(body)}",
            header=header,
        )


_HEADER_2013 = struct.Struct(">HH6sH")
_HEADER_2019 = struct.Struct(">HHB10sH")


@functools.lru_cache(maxsize=65_536)
def _phone_digits(data: bytes) -> str:
    # A gateway sees the same few thousand phones over and over.
    return decode_bcd(data, "phone")


def _decode_plain_header(
    content: bytes, attributes: int, layout: struct.Struct
) -> tuple[Header, bytes]:
    """Header and body of a frame without sub-packet fields (checksum already removed)."""
    if layout is _HEADER_2019:
        msg_id, _, protocol_version_number, phone_bcd, serial = layout.unpack_from(content)
        version = ProtocolVersion.V2019
    else:
        msg_id, _, phone_bcd, serial = layout.unpack_from(content)
        version = ProtocolVersion.V2013
        protocol_version_number = 1
    header = Header(
        msg_id=msg_id,
        phone=_phone_digits(phone_bcd),
        serial=serial,
        version=version,
        protocol_version_number=protocol_version_number,
        encryption=attributes >> _ENCRYPTION_SHIFT & _ENCRYPTION_MASK,
    )
    body = content[layout.size :]
    _check_body_length(attributes, header, body)
    return header, body


class FrameSplitter:
    """Splits a byte stream into escaped frame contents on 0x7E flags (sans-I/O).

    ``feed`` returns, in order, the content of every completed frame (still escaped, flags
    removed) and a :class:`FramingError` for bytes that cannot be a frame: bytes before the
    first flag, or a run longer than ``max_frame_size`` without a flag (then everything up
    to the next flag is discarded). Memory stays bounded by ``max_frame_size``. Two frames
    may share a flag (``7E a 7E b 7E``) or not (``7E a 7E 7E b 7E``).
    """

    def __init__(self, max_frame_size: int = DEFAULT_MAX_ESCAPED_FRAME) -> None:
        if max_frame_size < MIN_FRAME_LENGTH:
            raise ValueError(f"max_frame_size must be >= {MIN_FRAME_LENGTH}, got {max_frame_size}")
        self._max = max_frame_size
        self._buffer = bytearray()
        self._synced = False
        self._discarding = False

    def feed(self, data: bytes) -> list[bytes | FramingError]:
        """Consume ``data``; return the frames and framing errors it completes."""
        out: list[bytes | FramingError] = []
        pieces = data.split(b"\x7e")
        # pieces[0] continues the run in progress, the last piece starts the next one, and
        # every piece in between lay between two flags of this chunk.
        last = len(pieces) - 1
        for index, piece in enumerate(pieces):
            if index and self._synced and not self._discarding and not self._buffer:
                # The everyday case: a whole frame inside this chunk, no copy needed.
                if index == last:
                    if len(piece) <= self._max:
                        self._buffer += piece
                        return out
                elif piece and len(piece) <= self._max:
                    out.append(piece)
                    continue
                elif not piece:
                    continue
            self._append(piece, out)
            if index != last:
                self._close(out)
        return out

    def _append(self, piece: bytes, out: list[bytes | FramingError]) -> None:
        if self._discarding:
            return
        if len(self._buffer) + len(piece) > self._max:
            out.append(
                FrameTooLongError(
                    f"no closing 0x7E within {self._max} bytes; discarding until the next flag",
                    size=self._max,
                )
            )
            self._buffer.clear()
            self._discarding = True
            return
        self._buffer += piece

    def _close(self, out: list[bytes | FramingError]) -> None:
        if self._discarding:
            self._discarding = False
            self._synced = True
            return
        if not self._synced:
            self._synced = True
            if self._buffer:
                out.append(
                    FramingError(
                        f"discarded {len(self._buffer)} bytes before the first 0x7E flag",
                        size=len(self._buffer),
                    )
                )
            self._buffer.clear()
            return
        if self._buffer:
            out.append(bytes(self._buffer))
            self._buffer.clear()
