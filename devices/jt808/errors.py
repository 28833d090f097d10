"""The JT/T 808 error hierarchy.

Every problem the codec finds in device bytes is a :class:`JT808Error`; the message names
what is wrong (expected versus got). Errors raised once the header has been read carry it,
so a gateway can still answer the terminal (0x8001 result 2 "message error" or 3
"unsupported") instead of dropping the frame silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devices.jt808.framing import Header


class JT808Error(Exception):
    """Base class of every JT/T 808 decoding or encoding error."""

    def __init__(self, message: str, *, header: Header | None = None) -> None:
        super().__init__(message)
        self.header = header
        """The frame's header when it could be read before the error, else ``None``."""

    def with_header(self, header: Header) -> None:
        """Attach ``header`` unless one is already set (used while re-raising)."""
        if self.header is None:
            self.header = header


class FramingError(JT808Error):
    """Bytes that are not part of any frame (e.g. before the first 0x7E flag).

    ``size`` is how many bytes were discarded (at least), when known.
    """

    def __init__(self, message: str, *, header: Header | None = None, size: int = 0) -> None:
        super().__init__(message, header=header)
        self.size = size


class FrameTooLongError(FramingError):
    """No closing 0x7E flag within the maximum frame size."""


class EscapeError(JT808Error):
    """A 0x7D escape byte not followed by 0x01 or 0x02."""


class ChecksumError(JT808Error):
    """The XOR checksum at the end of the frame does not match its content."""


class TruncatedError(JT808Error):
    """The frame or a field ends before all of its bytes have been read."""


class LengthError(JT808Error):
    """A declared length or count disagrees with the bytes actually present."""


class FieldError(JT808Error):
    """A field holds a value the standard does not allow (bad BCD digit, date, enum...)."""


class UnsupportedError(JT808Error):
    """A well-formed frame this codec cannot interpret (e.g. an RSA-encrypted body)."""


class UnknownMessageError(UnsupportedError):
    """A well-formed frame whose message id this codec does not know.

    ``header`` is always set and ``body`` holds the raw body, so the gateway can answer
    0x8001 with result 3 (unsupported) and keep the bytes for diagnosis.
    """

    def __init__(self, message: str, *, header: Header, body: bytes) -> None:
        super().__init__(message, header=header)
        self.body = body


class EncodeError(JT808Error, ValueError):
    """A value cannot be encoded (out of range, too long, not representable in GBK...)."""
