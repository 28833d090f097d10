"""The sans-I/O JT/T 808 codec: bytes in, typed frames (or errors) out, and back.

A gateway owns one :class:`FrameDecoder` per TCP connection, feeds it whatever it reads and
gets :class:`Frame` objects or :class:`~devices.jt808.errors.JT808Error` values in order,
so one bad frame never ends the stream. Replies are built with :func:`encode_frame`,
:func:`encode_general_reply` and :func:`encode_register_reply`.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable

import msgspec

from devices.jt808.bits import alarm_names, status_names
from devices.jt808.errors import (
    ChecksumError,
    EscapeError,
    FramingError,
    JT808Error,
    UnknownMessageError,
    UnsupportedError,
)
from devices.jt808.framing import (
    DEFAULT_MAX_ESCAPED_FRAME,
    FrameSplitter,
    Header,
    ProtocolVersion,
    SubPacket,
    decode_raw_frame,
    encode_raw_frame,
    escape,
    xor_checksum,
)
from devices.jt808.messages import (
    MESSAGE_TYPES,
    BatchKind,
    GeneralResult,
    Location,
    LocationBatch,
    Message,
    PlatformGeneralReply,
    RegisterReply,
    RegisterResult,
)
from devices.observations import Position


class Frame(msgspec.Struct, frozen=True, gc=False):
    """One decoded frame.

    ``message`` is the typed body, or ``None`` for a sub-packet fragment (its ``body`` must
    be reassembled with the other fragments before it can be parsed).
    """

    header: Header
    message: Message | None
    body: bytes


def decode_frame(data: bytes) -> Frame:
    """Decode one frame (escaped content, optionally with its 0x7E flags).

    Raises :class:`~devices.jt808.errors.JT808Error`; once the header is known the error
    carries it, and an unknown message id raises
    :class:`~devices.jt808.errors.UnknownMessageError` with the header and raw body.
    """
    header, body = decode_raw_frame(data)
    if header.sub_packet is not None:
        return Frame(header=header, message=None, body=body)
    if header.encryption:
        raise UnsupportedError(
            f"encrypted body (encryption bits {header.encryption:03b}) is not supported",
            header=header,
        )
    message_type = MESSAGE_TYPES.get(header.msg_id)
    if message_type is None:
        raise UnknownMessageError(
            f"unsupported message id 0x{header.msg_id:04X}", header=header, body=body
        )
    try:
        message = message_type.decode(body, header.version)
    except JT808Error as exc:
        exc.with_header(header)
        raise
    return Frame(header=header, message=message, body=body)


def salvage_header(escaped: bytes) -> Header | None:
    """Best-effort header of a frame that failed its checksum or escaping, else ``None``.

    The platform answers such a frame with 0x8001 result 2 so the terminal resends it;
    the reply only echoes the (possibly damaged) serial and message id.
    """
    content = escaped.replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")
    if len(content) < 2:
        return None
    body = content[:-1]
    try:
        header, _ = decode_raw_frame(escape(body + bytes([xor_checksum(body)])))
    except JT808Error as exc:
        return exc.header
    return header


class FrameDecoder:
    """Streaming decoder: ``feed`` bytes as they arrive, get frames and errors in order.

    Buffering is bounded by ``max_frame_size`` (escaped bytes between two flags). With
    ``salvage_headers``, a frame that failed its checksum or escaping carries the header
    :func:`salvage_header` finds in its bytes, so a gateway can ask for it again.

    ``feed`` is :meth:`split` then :meth:`decode`; a caller that may drop frames (a rate
    limit) calls the two itself and decodes only what it keeps.
    """

    def __init__(
        self, max_frame_size: int = DEFAULT_MAX_ESCAPED_FRAME, *, salvage_headers: bool = False
    ) -> None:
        self.split: Callable[[bytes], list[bytes | FramingError]] = FrameSplitter(
            max_frame_size
        ).feed
        """Consume bytes; return the escaped content of every frame they complete (and
        every framing error), in stream order, not yet decoded."""
        self._salvage_headers = salvage_headers

    def feed(self, data: bytes) -> list[Frame | JT808Error]:
        """Consume ``data``; return every frame (or error) it completes, in stream order."""
        decode = self.decode
        return [item if isinstance(item, JT808Error) else decode(item) for item in self.split(data)]

    def decode(self, content: bytes) -> Frame | JT808Error:
        """Decode one frame's escaped content from :meth:`split`; an error is returned."""
        try:
            return decode_frame(content)
        except (ChecksumError, EscapeError) as exc:
            if self._salvage_headers and exc.header is None:
                salvaged = salvage_header(content)
                if salvaged is not None:
                    exc.with_header(salvaged)
            return exc
        except JT808Error as exc:
            return exc


def encode_frame(
    message: Message,
    *,
    phone: str,
    serial: int,
    version: ProtocolVersion = ProtocolVersion.V2013,
    protocol_version_number: int = 1,
) -> bytes:
    """Encode ``message`` as a complete wire frame (flags, escaping, checksum).

    ``phone`` is a digit string, zero-padded to 12 (2013) or 20 (2019) digits.
    """
    header = Header(
        msg_id=message.MSG_ID,
        phone=phone,
        serial=serial,
        version=version,
        protocol_version_number=protocol_version_number,
    )
    return encode_raw_frame(header, message.encode(version))


def encode_to(header: Header, message: Message, *, serial: int) -> bytes:
    """Encode ``message`` for the terminal that sent ``header``: its phone, edition and
    protocol version number, with the platform's own ``serial``."""
    return encode_frame(
        message,
        phone=header.phone,
        serial=serial,
        version=header.version,
        protocol_version_number=header.protocol_version_number,
    )


def encode_sub_packets(
    msg_id: int,
    body: bytes,
    *,
    phone: str,
    first_serial: int,
    packet_size: int = 1023,
    version: ProtocolVersion = ProtocolVersion.V2013,
) -> list[bytes]:
    """Split an already encoded long ``body`` into sub-packet frames (consecutive serials)."""
    chunks = [body[i : i + packet_size] for i in range(0, len(body), packet_size)] or [b""]
    return [
        encode_raw_frame(
            Header(
                msg_id=msg_id,
                phone=phone,
                serial=(first_serial + number) & 0xFFFF,
                version=version,
                sub_packet=SubPacket(total=len(chunks), index=number + 1),
            ),
            chunk,
        )
        for number, chunk in enumerate(chunks)
    ]


_REPLY_PREFIX_2013 = struct.Struct(">HH6s")
_REPLY_PREFIX_2019 = struct.Struct(">HHB10s")
_REPLY_TAIL = struct.Struct(">HHHB")
_REPLY_BODY_LENGTH = 5
_VERSION_2019_ATTRIBUTE = 1 << 14
_PHONE_DIGITS = {ProtocolVersion.V2013: 12, ProtocolVersion.V2019: 20}


@functools.lru_cache(maxsize=65_536)
def _reply_prefix(
    phone: str, version: ProtocolVersion, protocol_version_number: int
) -> tuple[bytes, int]:
    """A terminal's 0x8001 header up to the platform serial, and its XOR."""
    if version == ProtocolVersion.V2019:
        prefix = _REPLY_PREFIX_2019.pack(
            PlatformGeneralReply.MSG_ID,
            _REPLY_BODY_LENGTH | _VERSION_2019_ATTRIBUTE,
            protocol_version_number,
            bytes.fromhex(phone),
        )
    else:
        prefix = _REPLY_PREFIX_2013.pack(
            PlatformGeneralReply.MSG_ID, _REPLY_BODY_LENGTH, bytes.fromhex(phone)
        )
    return prefix, xor_checksum(prefix)


def encode_general_reply(
    header: Header, *, serial: int, result: GeneralResult = GeneralResult.SUCCESS
) -> bytes:
    """The platform's 0x8001 answer to the frame with ``header`` (same phone and version).

    ``serial`` is the platform's own outgoing serial number.
    """
    if header.sub_packet is None and len(header.phone) == _PHONE_DIGITS[header.version]:
        # The gateway answers every report: a cached header per terminal, then the
        # 7 bytes that change and their share of the checksum.
        prefix, prefix_xor = _reply_prefix(
            header.phone, header.version, header.protocol_version_number
        )
        reply_serial = header.serial
        msg_id = header.msg_id
        checksum = (
            prefix_xor
            ^ serial >> 8
            ^ serial & 0xFF
            ^ reply_serial >> 8
            ^ reply_serial & 0xFF
            ^ msg_id >> 8
            ^ msg_id & 0xFF
            ^ result
        )
        content = prefix + _REPLY_TAIL.pack(serial, reply_serial, msg_id, result)
        return b"\x7e" + escape(content + bytes((checksum,))) + b"\x7e"
    reply = PlatformGeneralReply(
        reply_serial=header.serial, reply_msg_id=header.msg_id, result=result
    )
    return encode_to(header, reply, serial=serial)


def encode_register_reply(
    header: Header,
    *,
    serial: int,
    result: RegisterResult,
    auth_code: str = "",
) -> bytes:
    """The platform's 0x8100 answer to the registration with ``header``.

    ``auth_code`` is sent only (and must be given only) when ``result`` is success.
    """
    reply = RegisterReply(reply_serial=header.serial, result=result, auth_code=auth_code)
    return encode_to(header, reply, serial=serial)


def location_to_position(
    location: Location,
    *,
    device: str,
    version: ProtocolVersion = ProtocolVersion.V2013,
    backfill: bool = False,
) -> Position:
    """Normalize one location report into a :class:`~devices.observations.Position`.

    A report without a fix (status bit 1 clear) still becomes a position, because its
    alarms matter; ``"positioned"`` is then missing from ``status``.
    """
    return Position(
        device=device,
        at=location.time,
        lat=location.lat,
        lon=location.lon,
        speed_kmh=location.speed_kmh,
        heading_deg=float(location.heading_deg),
        altitude_m=float(location.altitude_m),
        alarms=alarm_names(location.alarm_flags, version),
        status=status_names(location.status_flags, version),
        extras=location.extras(),
        backfill=backfill,
    )


def frame_positions(frame: Frame) -> list[Position]:
    """Positions carried by a 0x0200 or 0x0704 frame (none for other messages).

    The device id is the header phone without its zero padding.
    """
    message = frame.message
    device = frame.header.device_id
    version = frame.header.version
    if isinstance(message, Location):
        return [location_to_position(message, device=device, version=version)]
    if isinstance(message, LocationBatch):
        backfill = message.kind == BatchKind.BACKFILL
        return [
            location_to_position(item, device=device, version=version, backfill=backfill)
            for item in message.locations
        ]
    return []
