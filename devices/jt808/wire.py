"""Primitive JT/T 808 field codecs: big-endian integers, BCD, GBK strings and BCD time.

Readers raise :class:`~devices.jt808.errors.TruncatedError` or
:class:`~devices.jt808.errors.FieldError` naming the field; writers raise
:class:`~devices.jt808.errors.EncodeError`.
"""

from __future__ import annotations

import datetime as dt
import functools

from devices.jt808.errors import EncodeError, FieldError, LengthError, TruncatedError

DEVICE_TIMEZONE = dt.timezone(dt.timedelta(hours=8), "GMT+8")
"""JT/T 808 terminals report BCD times in Beijing time (GMT+8)."""

_INT_LIMITS = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFF_FFFF}


class Reader:
    """Reads fields from a body in order; errors name ``context`` and the field."""

    def __init__(self, data: bytes, context: str) -> None:
        self._data = data
        self._offset = 0
        self._context = context

    @property
    def remaining(self) -> int:
        """How many bytes have not been read yet."""
        return len(self._data) - self._offset

    def take(self, size: int, field: str) -> bytes:
        """Read exactly ``size`` bytes for ``field``."""
        if size > self.remaining:
            raise TruncatedError(
                f"{self._context}: {field} needs {size} bytes at offset {self._offset}, "
                f"only {self.remaining} left"
            )
        chunk = self._data[self._offset : self._offset + size]
        self._offset += size
        return chunk

    def u8(self, field: str) -> int:
        """Read a BYTE."""
        return self.take(1, field)[0]

    def u16(self, field: str) -> int:
        """Read a big-endian WORD."""
        return int.from_bytes(self.take(2, field), "big")

    def u32(self, field: str) -> int:
        """Read a big-endian DWORD."""
        return int.from_bytes(self.take(4, field), "big")

    def rest(self) -> bytes:
        """Read everything that is left (possibly nothing)."""
        return self.take(self.remaining, "rest")

    def expect_end(self) -> None:
        """Refuse trailing bytes after the last field."""
        if self.remaining:
            raise LengthError(
                f"{self._context}: expected the body to end at offset {self._offset}, "
                f"but {self.remaining} more bytes follow"
            )


def encode_uint(value: int, size: int, field: str) -> bytes:
    """Encode ``value`` as a big-endian unsigned integer of ``size`` bytes."""
    if not 0 <= value <= _INT_LIMITS[size]:
        raise EncodeError(f"{field} must be 0..{_INT_LIMITS[size]}, got {value}")
    return value.to_bytes(size, "big")


def decode_bcd(data: bytes, field: str) -> str:
    """Decode packed BCD into its digit string (two digits per byte)."""
    digits = data.hex()
    if digits.strip("0123456789"):
        raise FieldError(f"{field}: BCD must hold only digits 0-9, got {digits.upper()}")
    return digits


def encode_bcd(digits: str, size: int, field: str) -> bytes:
    """Encode a digit string as ``size`` bytes of packed BCD, left-padded with zeros."""
    if not (digits.isascii() and digits.isdigit()):
        raise EncodeError(f"{field} must be decimal digits, got {digits!r}")
    if len(digits) > size * 2:
        raise EncodeError(f"{field} holds at most {size * 2} digits, got {len(digits)}")
    return bytes.fromhex(digits.rjust(size * 2, "0"))


def decode_gbk(data: bytes, field: str) -> str:
    """Decode a GBK string; trailing NUL padding or terminators are dropped."""
    try:
        return data.rstrip(b"\x00").decode("gbk")
    except UnicodeDecodeError as exc:
        raise FieldError(f"{field}: not valid GBK text ({exc.reason} at byte {exc.start})") from exc


def encode_gbk(text: str, field: str) -> bytes:
    """Encode ``text`` as GBK."""
    try:
        return text.encode("gbk")
    except UnicodeEncodeError as exc:
        raise EncodeError(f"{field}: {text[exc.start : exc.end]!r} has no GBK encoding") from exc


def encode_fixed_gbk(text: str, size: int, field: str) -> bytes:
    """Encode ``text`` as GBK right-padded with NULs to exactly ``size`` bytes."""
    encoded = encode_gbk(text, field)
    if len(encoded) > size:
        raise EncodeError(f"{field} holds at most {size} bytes, got {len(encoded)}")
    return encoded.ljust(size, b"\x00")


@functools.lru_cache(maxsize=4096)
def decode_bcd_time(data: bytes, field: str) -> dt.datetime:
    """Decode BCD[6] ``YYMMDDhhmmss`` (GMT+8, years 2000-2099) into an aware UTC datetime."""
    # Cached: thousands of terminals report the same few seconds (errors are not cached).
    digits = decode_bcd(data, field)
    try:
        local = dt.datetime(
            2000 + int(digits[0:2]),
            int(digits[2:4]),
            int(digits[4:6]),
            int(digits[6:8]),
            int(digits[8:10]),
            int(digits[10:12]),
            tzinfo=DEVICE_TIMEZONE,
        )
    except ValueError as exc:
        raise FieldError(f"{field}: {digits} is not a valid YYMMDDhhmmss time ({exc})") from exc
    return local.astimezone(dt.UTC)


def encode_bcd_time(when: dt.datetime, field: str) -> bytes:
    """Encode an aware datetime as BCD[6] ``YYMMDDhhmmss`` in GMT+8 (sub-seconds dropped)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise EncodeError(f"{field} must be an aware datetime, got naive {when.isoformat()}")
    local = when.astimezone(DEVICE_TIMEZONE)
    if not 2000 <= local.year <= 2099:
        raise EncodeError(f"{field}: year {local.year} is outside 2000-2099 (two BCD digits)")
    return bytes.fromhex(local.strftime("%y%m%d%H%M%S"))
