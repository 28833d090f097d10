"""SMPP 3.4 PDUs, sans-I/O: the ones an ESME sending SMS needs, encoded and decoded.

Layouts are those of the SMPP v3.4 specification (SMPP Developers Forum, issue 1.2,
1999), section 4 (PDU definitions) and 5 (parameter definitions): a 16-octet header
``command_length, command_id, command_status, sequence_number`` (big-endian), then the
mandatory parameters (C-Octet strings are NUL-terminated, with the maximum lengths the
specification gives including the NUL), then optional TLVs (tag, length, value).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field
from typing import Final

HEADER: Final = struct.Struct(">IIII")
MAX_PDU_LENGTH: Final = 16 * 1024
"""Longest PDU accepted (a submit_sm with its 254-octet message is well under 1 KiB)."""
MAX_SEQUENCE: Final = 0x7FFFFFFF
MAX_SHORT_MESSAGE: Final = 254
INTERFACE_VERSION: Final = 0x34
RESPONSE_BIT: Final = 0x80000000


class Error(Exception):
    """Base of the SMPP codec's errors."""


class PduError(Error):
    """A PDU that cannot be decoded (or encoded). ``status`` is what to answer it with;
    ``sequence`` its sequence number (0 when not even the header was readable)."""

    def __init__(self, message: str, *, status: int, sequence: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.sequence = sequence


class FramingError(PduError):
    """The byte stream cannot be split into PDUs any more: the connection must close.
    ``frames``: the whole PDUs cut before the unreadable octets (still to be handled)."""

    def __init__(
        self, message: str, *, status: int, sequence: int = 0, frames: list[bytes] | None = None
    ) -> None:
        super().__init__(message, status=status, sequence=sequence)
        self.frames = frames or []


class CommandId(enum.IntEnum):
    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015


class CommandStatus(enum.IntEnum):
    """``command_status`` values (SMPP 3.4 section 5.1.3), those we send or act on."""

    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RSYSERR = 0x08
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVMSGID = 0x0C
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RMSGQFUL = 0x14
    ESME_RINVNUMDESTS = 0x33
    ESME_RINVESMCLASS = 0x43
    ESME_RSUBMITFAIL = 0x45
    ESME_RINVSRCTON = 0x48
    ESME_RINVSRCNPI = 0x49
    ESME_RINVDSTTON = 0x50
    ESME_RINVDSTNPI = 0x51
    ESME_RINVSYSTYP = 0x53
    ESME_RTHROTTLED = 0x58
    ESME_RX_T_APPN = 0x64
    ESME_RX_P_APPN = 0x65
    ESME_RX_R_APPN = 0x66
    ESME_RUNKNOWNERR = 0xFF


def status_name(status: int) -> str:
    """``ESME_RTHROTTLED`` or ``0x00000123`` for a code we do not name."""
    try:
        return CommandStatus(status).name
    except ValueError:
        return f"0x{status:08X}"


class Tag(enum.IntEnum):
    """Optional parameter tags used here (SMPP 3.4 section 5.3.2)."""

    RECEIPTED_MESSAGE_ID = 0x001E
    MESSAGE_STATE = 0x0427
    SC_INTERFACE_VERSION = 0x0210
    MESSAGE_PAYLOAD = 0x0424


ESM_CLASS_UDHI: Final = 0x40
"""esm_class bit: the short message starts with a user data header."""
ESM_CLASS_DELIVERY_RECEIPT: Final = 0x04
"""esm_class message type (deliver_sm): an SMSC delivery receipt."""
DATA_CODING_DEFAULT: Final = 0x00
DATA_CODING_UCS2: Final = 0x08


# --- bodies ----------------------------------------------------------------------------

Tlvs = tuple[tuple[int, bytes], ...]


@dataclass(frozen=True, slots=True)
class Bind:
    """bind_transmitter / bind_receiver / bind_transceiver."""

    command: CommandId
    system_id: str
    password: str
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


@dataclass(frozen=True, slots=True)
class BindResp:
    command: CommandId
    system_id: str = ""
    sc_interface_version: int | None = None


@dataclass(frozen=True, slots=True)
class ShortMessage:
    """submit_sm and deliver_sm (the same layout, SMPP 3.4 sections 4.4.1 and 4.6.1)."""

    command: CommandId
    source_addr: str
    destination_addr: str
    short_message: bytes = b""
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    tlvs: Tlvs = ()

    def tlv(self, tag: int) -> bytes | None:
        """The value of the first optional parameter ``tag``, if present."""
        return next((value for key, value in self.tlvs if key == tag), None)


@dataclass(frozen=True, slots=True)
class MessageResp:
    """submit_sm_resp / deliver_sm_resp: the SMSC's message id (deliver_sm_resp: empty)."""

    command: CommandId
    message_id: str = ""


@dataclass(frozen=True, slots=True)
class Empty:
    """A header-only PDU: enquire_link(_resp), unbind(_resp), generic_nack."""

    command: CommandId


Body = Bind | BindResp | ShortMessage | MessageResp | Empty


@dataclass(frozen=True, slots=True)
class Pdu:
    """One PDU: header fields and the body."""

    sequence: int
    body: Body
    status: int = 0
    extra: bytes = field(default=b"", compare=False)
    """Undecoded trailing octets of a body we only partly read (kept for logs)."""

    @property
    def command(self) -> CommandId:
        return self.body.command


_BINDS: Final = {CommandId.BIND_RECEIVER, CommandId.BIND_TRANSMITTER, CommandId.BIND_TRANSCEIVER}
_BIND_RESPS: Final = {CommandId(c | RESPONSE_BIT) for c in _BINDS}
_SHORT_MESSAGES: Final = {CommandId.SUBMIT_SM, CommandId.DELIVER_SM}
_MESSAGE_RESPS: Final = {CommandId.SUBMIT_SM_RESP, CommandId.DELIVER_SM_RESP}


# --- encoding --------------------------------------------------------------------------


def _cstring(value: str, limit: int, name: str) -> bytes:
    raw = value.encode("ascii", "strict") if value.isascii() else b""
    if not value.isascii() or len(raw) + 1 > limit or b"\0" in raw:
        raise PduError(
            f"{name} must be ASCII, at most {limit - 1} characters: {value!r}",
            status=CommandStatus.ESME_RSYSERR,
        )
    return raw + b"\0"


def _tlvs(tlvs: Tlvs) -> bytes:
    return b"".join(struct.pack(">HH", tag, len(value)) + value for tag, value in tlvs)


def _encode_body(body: Body) -> bytes:
    if isinstance(body, Bind):
        return b"".join(
            (
                _cstring(body.system_id, 16, "system_id"),
                _cstring(body.password, 9, "password"),
                _cstring(body.system_type, 13, "system_type"),
                bytes((body.interface_version, body.addr_ton, body.addr_npi)),
                _cstring(body.address_range, 41, "address_range"),
            )
        )
    if isinstance(body, BindResp):
        tlvs: Tlvs = ()
        if body.sc_interface_version is not None:
            tlvs = ((Tag.SC_INTERFACE_VERSION, bytes((body.sc_interface_version,))),)
        return _cstring(body.system_id, 16, "system_id") + _tlvs(tlvs)
    if isinstance(body, ShortMessage):
        if len(body.short_message) > MAX_SHORT_MESSAGE:
            raise PduError(
                f"short_message of {len(body.short_message)} octets (at most {MAX_SHORT_MESSAGE})",
                status=CommandStatus.ESME_RINVMSGLEN,
            )
        return b"".join(
            (
                _cstring(body.service_type, 6, "service_type"),
                bytes((body.source_addr_ton, body.source_addr_npi)),
                _cstring(body.source_addr, 21, "source_addr"),
                bytes((body.dest_addr_ton, body.dest_addr_npi)),
                _cstring(body.destination_addr, 21, "destination_addr"),
                bytes((body.esm_class, body.protocol_id, body.priority_flag)),
                _cstring(body.schedule_delivery_time, 17, "schedule_delivery_time"),
                _cstring(body.validity_period, 17, "validity_period"),
                bytes(
                    (
                        body.registered_delivery,
                        body.replace_if_present_flag,
                        body.data_coding,
                        body.sm_default_msg_id,
                        len(body.short_message),
                    )
                ),
                body.short_message,
                _tlvs(body.tlvs),
            )
        )
    if isinstance(body, MessageResp):
        return _cstring(body.message_id, 65, "message_id")
    return b""


def encode_pdu(pdu: Pdu) -> bytes:
    """The PDU's octets (header included)."""
    if not 0 <= pdu.sequence <= MAX_SEQUENCE:
        raise PduError(f"sequence number out of range: {pdu.sequence}", status=0)
    body = _encode_body(pdu.body)
    return HEADER.pack(HEADER.size + len(body), pdu.command, pdu.status, pdu.sequence) + body


# --- decoding --------------------------------------------------------------------------


class _Cursor:
    def __init__(self, data: bytes, sequence: int) -> None:
        self.data = data
        self.at = 0
        self.sequence = sequence

    def _short(self, what: str) -> PduError:
        return PduError(
            f"PDU body ends inside {what}",
            status=CommandStatus.ESME_RINVCMDLEN,
            sequence=self.sequence,
        )

    def cstring(self, limit: int, name: str) -> str:
        end = self.data.find(b"\0", self.at, self.at + limit)
        if end < 0:
            if self.data.find(b"\0", self.at) < 0:
                raise self._short(name)
            raise PduError(
                f"{name} longer than {limit - 1} octets",
                status=CommandStatus.ESME_RINVMSGLEN,
                sequence=self.sequence,
            )
        raw = self.data[self.at : end]
        self.at = end + 1
        return raw.decode("latin-1")

    def octets(self, count: int, name: str) -> bytes:
        if self.at + count > len(self.data):
            raise self._short(name)
        raw = self.data[self.at : self.at + count]
        self.at += count
        return raw

    def int8(self, name: str) -> int:
        return self.octets(1, name)[0]

    def tlvs(self) -> Tlvs:
        found: list[tuple[int, bytes]] = []
        while self.at < len(self.data):
            tag, length = struct.unpack(">HH", self.octets(4, "an optional parameter"))
            found.append((tag, self.octets(length, f"optional parameter 0x{tag:04X}")))
        return tuple(found)

    @property
    def done(self) -> bool:
        return self.at >= len(self.data)


def _decode_short_message(command: CommandId, cur: _Cursor) -> ShortMessage:
    service_type = cur.cstring(6, "service_type")
    source_ton, source_npi = cur.int8("source_addr_ton"), cur.int8("source_addr_npi")
    source = cur.cstring(21, "source_addr")
    dest_ton, dest_npi = cur.int8("dest_addr_ton"), cur.int8("dest_addr_npi")
    destination = cur.cstring(21, "destination_addr")
    esm_class, protocol_id, priority = (
        cur.int8("esm_class"),
        cur.int8("protocol_id"),
        cur.int8("priority_flag"),
    )
    schedule = cur.cstring(17, "schedule_delivery_time")
    validity = cur.cstring(17, "validity_period")
    registered, replace, coding, default_id, length = cur.octets(5, "the message flags")
    if length > MAX_SHORT_MESSAGE:
        raise PduError(
            f"sm_length {length} over {MAX_SHORT_MESSAGE}",
            status=CommandStatus.ESME_RINVMSGLEN,
            sequence=cur.sequence,
        )
    message = cur.octets(length, "short_message")
    return ShortMessage(
        command,
        source,
        destination,
        message,
        service_type,
        source_ton,
        source_npi,
        dest_ton,
        dest_npi,
        esm_class,
        protocol_id,
        priority,
        schedule,
        validity,
        registered,
        replace,
        coding,
        default_id,
        cur.tlvs(),
    )


def _decode_body(command: CommandId, status: int, cur: _Cursor) -> Body:
    if command in _BINDS:
        system_id = cur.cstring(16, "system_id")
        password = cur.cstring(9, "password")
        system_type = cur.cstring(13, "system_type")
        version, ton, npi = cur.octets(3, "interface_version, addr_ton, addr_npi")
        return Bind(
            command,
            system_id,
            password,
            system_type,
            version,
            ton,
            npi,
            cur.cstring(41, "address_range"),
        )
    if command in _BIND_RESPS:
        if cur.done and status:
            return BindResp(command)  # an error answer may carry no body
        system_id = cur.cstring(16, "system_id")
        sc_version = next((v for t, v in cur.tlvs() if t == Tag.SC_INTERFACE_VERSION), None)
        return BindResp(command, system_id, sc_version[0] if sc_version else None)
    if command in _SHORT_MESSAGES:
        return _decode_short_message(command, cur)
    if command in _MESSAGE_RESPS:
        if cur.done:
            return MessageResp(command)  # an error (or deliver_sm_resp) may carry no body
        return MessageResp(command, cur.cstring(65, "message_id"))
    return Empty(command)


def decode_pdu(frame: bytes) -> Pdu:
    """One whole PDU (as :class:`PduReader` cuts them). Raises :class:`PduError` with the
    status to answer (``ESME_RINVCMDID`` for an unknown command, …)."""
    if len(frame) < HEADER.size:
        raise FramingError("PDU shorter than its header", status=CommandStatus.ESME_RINVCMDLEN)
    length, command_id, status, sequence = HEADER.unpack_from(frame)
    if length != len(frame):
        raise FramingError(
            f"command_length {length} but {len(frame)} octets",
            status=CommandStatus.ESME_RINVCMDLEN,
            sequence=sequence,
        )
    try:
        command = CommandId(command_id)
    except ValueError:
        raise PduError(
            f"unknown command_id 0x{command_id:08X}",
            status=CommandStatus.ESME_RINVCMDID,
            sequence=sequence,
        ) from None
    cur = _Cursor(frame[HEADER.size :], sequence)
    body = _decode_body(command, status, cur)
    return Pdu(sequence, body, status, extra=cur.data[cur.at :])


class PduReader:
    """Cuts a TCP byte stream into PDU frames (whole PDUs, header included)."""

    def __init__(self, max_length: int = MAX_PDU_LENGTH) -> None:
        self._buffer = bytearray()
        self._max = max_length

    def feed(self, data: bytes) -> list[bytes]:
        """Add received octets; return the frames now complete. Raises
        :class:`FramingError` for a command_length out of bounds (the stream is lost),
        carrying the frames complete before it (an answer the peer sent before breaking
        the stream still counts)."""
        self._buffer += data
        frames: list[bytes] = []
        while len(self._buffer) >= 4:
            (length,) = struct.unpack_from(">I", self._buffer)
            if not HEADER.size <= length <= self._max:
                sequence = (
                    HEADER.unpack_from(self._buffer)[3] if len(self._buffer) >= HEADER.size else 0
                )
                raise FramingError(
                    f"command_length {length} out of bounds ({HEADER.size}..{self._max})",
                    status=CommandStatus.ESME_RINVCMDLEN,
                    sequence=sequence,
                    frames=frames,
                )
            if len(self._buffer) < length:
                break
            frames.append(bytes(self._buffer[:length]))
            del self._buffer[:length]
        return frames


class Sequences:
    """Sequence numbers 1 … 0x7FFFFFFF, wrapping (SMPP 3.4 section 5.1.4)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = self._last % MAX_SEQUENCE + 1
        return self._last
