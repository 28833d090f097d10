"""SMS text on SMPP, sans-I/O: choosing the encoding, splitting a long text into
concatenated parts, reassembling them (the simulator), and reading delivery receipts.

Encodings: text the GSM 03.38 default alphabet can carry (plain ASCII apart from a few
signs such as the backtick) goes as ``data_coding`` 0, one septet per octet (unpacked,
as SMPP carries it); anything else (Chinese) as UCS-2, ``data_coding`` 8, UTF-16 big
endian. Long texts are split with a concatenation user data header (3GPP TS 23.040
section 9.2.3.24.1: ``05 00 03 ref total seq``): 153 septets or 67 UCS-2 units per part,
never cutting an escape sequence or a surrogate pair; every part carries the same
reference, so the handset joins them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from backend.publishing.smpp.pdu import (
    DATA_CODING_DEFAULT,
    DATA_CODING_UCS2,
    ESM_CLASS_DELIVERY_RECEIPT,
    ESM_CLASS_UDHI,
    ShortMessage,
    Tag,
)

SINGLE_GSM: Final = 160
PART_GSM: Final = 153
SINGLE_UCS2: Final = 70
PART_UCS2: Final = 67
MAX_PARTS: Final = 255

# GSM 03.38 default alphabet (3GPP TS 23.038 section 6.2.1), in code order 0x00-0x7F;
# 0x1B is the escape to the extension table.
_GSM_BASIC: Final = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION: Final = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
_GSM_CODE: Final = {char: code for code, char in enumerate(_GSM_BASIC) if code != 0x1B}
_GSM_EXTENDED_CHAR: Final = {code: char for char, code in _GSM_EXTENSION.items()}
_ESCAPE: Final = 0x1B


class Error(Exception):
    """Base of the SMS text errors."""


class TextTooLongError(Error):
    """More than :data:`MAX_PARTS` parts would be needed."""


def gsm_septets(text: str) -> list[bytes] | None:
    """Each character's septets (one, or escape + one), or ``None`` when some character
    is not in the GSM default alphabet."""
    out: list[bytes] = []
    for char in text:
        code = _GSM_CODE.get(char)
        if code is not None:
            out.append(bytes((code,)))
        elif char in _GSM_EXTENSION:
            out.append(bytes((_ESCAPE, _GSM_EXTENSION[char])))
        else:
            return None
    return out


def decode_gsm(data: bytes) -> str:
    """Unpacked GSM 03.38 septets back to text (unknown codes become ``?``)."""
    chars: list[str] = []
    escaped = False
    for code in data:
        if escaped:
            chars.append(_GSM_EXTENDED_CHAR.get(code, "?"))
            escaped = False
        elif code == _ESCAPE:
            escaped = True
        else:
            chars.append(_GSM_BASIC[code] if code < len(_GSM_BASIC) else "?")
    return "".join(chars)


def _chunks(units: list[bytes], size: int) -> list[bytes]:
    """Join ``units`` (each an indivisible group of octets counted by octet) into chunks
    of at most ``size`` octets."""
    chunks: list[bytes] = []
    current = bytearray()
    for unit in units:
        if len(current) + len(unit) > size:
            chunks.append(bytes(current))
            current = bytearray()
        current += unit
    chunks.append(bytes(current))
    return chunks


def _ucs2_units(text: str) -> list[bytes]:
    # One unit per character: two octets, four for a character outside the BMP (a
    # surrogate pair that must stay in one part).
    return [char.encode("utf-16-be") for char in text]


@dataclass(frozen=True, slots=True)
class Segment:
    """One submit_sm's worth of a text."""

    data_coding: int
    esm_class: int
    short_message: bytes


def split_text(text: str, reference: int) -> list[Segment]:
    """The text as submit_sm payloads: one when it fits, else concatenated parts sharing
    ``reference`` (0-255). Raises :class:`TextTooLongError` past 255 parts."""
    septets = gsm_septets(text)
    if septets is not None:
        coding, units, single, part = DATA_CODING_DEFAULT, septets, SINGLE_GSM, PART_GSM
    else:
        coding, units, single, part = (
            DATA_CODING_UCS2,
            _ucs2_units(text),
            2 * SINGLE_UCS2,
            2 * PART_UCS2,
        )
    whole = b"".join(units)
    if len(whole) <= single:
        return [Segment(coding, 0, whole)]
    chunks = _chunks(units, part)
    if len(chunks) > MAX_PARTS:
        raise TextTooLongError(f"the text needs {len(chunks)} SMS parts (at most {MAX_PARTS})")
    return [
        Segment(coding, ESM_CLASS_UDHI, bytes((5, 0, 3, reference & 0xFF, len(chunks), n)) + chunk)
        for n, chunk in enumerate(chunks, start=1)
    ]


@dataclass(frozen=True, slots=True)
class Part:
    """A received short message: its concatenation place (``(0, 1, 1)`` when whole)."""

    reference: int
    total: int
    number: int
    text: str


def read_part(message: ShortMessage) -> Part:
    """The text and the concatenation header of a received submit_sm or deliver_sm."""
    payload = message.short_message
    reference, total, number = 0, 1, 1
    if message.esm_class & ESM_CLASS_UDHI and payload:
        header_length = payload[0]
        header, payload = payload[1 : 1 + header_length], payload[1 + header_length :]
        at = 0
        while at + 2 <= len(header):
            element, length = header[at], header[at + 1]
            value = header[at + 2 : at + 2 + length]
            if element == 0x00 and length == 3:
                reference, total, number = value[0], value[1], value[2]
            elif element == 0x08 and length == 4:
                reference, total, number = int.from_bytes(value[:2], "big"), value[2], value[3]
            at += 2 + length
    if message.data_coding == DATA_CODING_UCS2:
        text = payload.decode("utf-16-be", "replace")
    else:
        text = decode_gsm(payload)
    return Part(reference, total, number, text)


# --- delivery receipts -----------------------------------------------------------------

FINAL_DELIVERED: Final = frozenset({"DELIVRD"})
FINAL_FAILED: Final = frozenset({"EXPIRED", "DELETED", "UNDELIV", "UNKNOWN", "REJECTD"})
_MESSAGE_STATES: Final = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
STATE_CODES: Final = {name: code for code, name in _MESSAGE_STATES.items()}
_FIELD = re.compile(r"(id|stat|err):(\S*)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Receipt:
    """An SMSC delivery receipt (SMPP 3.4 appendix B; TLVs of section 5.3.2.35/.12)."""

    message_id: str
    state: str
    """``DELIVRD``, ``UNDELIV``, … (``ENROUTE``/``ACCEPTD`` are not final)."""
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.state in FINAL_DELIVERED

    @property
    def final(self) -> bool:
        return self.state in FINAL_DELIVERED or self.state in FINAL_FAILED


def read_receipt(message: ShortMessage) -> Receipt | None:
    """The receipt a deliver_sm carries, or ``None`` when it is not one (a mobile
    originated message) or names no message id or no state (garbled: taking it for a
    failure would mark a text failed that may well have arrived). The TLVs win over the
    text."""
    if not message.esm_class & ESM_CLASS_DELIVERY_RECEIPT:
        return None
    text = message.short_message.decode("latin-1")
    fields = {key.lower(): value for key, value in _FIELD.findall(text)}
    message_id = fields.get("id", "")
    state = fields.get("stat", "").upper()
    tlv_id = message.tlv(Tag.RECEIPTED_MESSAGE_ID)
    if tlv_id:
        message_id = tlv_id.rstrip(b"\0").decode("latin-1")
    tlv_state = message.tlv(Tag.MESSAGE_STATE)
    if tlv_state and tlv_state[0] in _MESSAGE_STATES:
        state = _MESSAGE_STATES[tlv_state[0]]
    if not message_id or not state:
        return None
    return Receipt(message_id, state, fields.get("err", ""))


def receipt_text(
    message_id: str, state: str, error: str, *, submitted: dt.datetime, done: dt.datetime, text: str
) -> bytes:
    """The receipt's short_message in the customary format (SMPP 3.4 appendix B)."""
    return (
        f"id:{message_id} sub:001 dlvrd:{'001' if state == 'DELIVRD' else '000'} "
        f"submit date:{submitted:%y%m%d%H%M} done date:{done:%y%m%d%H%M} "
        f"stat:{state} err:{error} text:{text[:20]}"
    ).encode("ascii", "replace")
