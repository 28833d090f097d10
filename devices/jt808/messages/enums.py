"""Enumerated codes carried in JT/T 808 bodies, and their strict decoding."""

from __future__ import annotations

import enum
from typing import TypeVar

from devices.jt808.errors import FieldError

_EnumT = TypeVar("_EnumT", bound=enum.IntEnum)


def decode_enum(kind: type[_EnumT], value: int, field: str) -> _EnumT:
    """``value`` as a member of ``kind``; any other value is a :class:`FieldError`."""
    try:
        return kind(value)
    except ValueError as exc:
        allowed = ", ".join(str(member.value) for member in kind)
        raise FieldError(f"{field} must be one of {allowed}, got {value}") from exc


class GeneralResult(enum.IntEnum):
    """Result of a general reply (0x0001 terminal, 0x8001 platform)."""

    SUCCESS = 0
    FAILURE = 1
    MESSAGE_ERROR = 2
    UNSUPPORTED = 3
    ALARM_CONFIRMED = 4
    """Platform only: alarm handling confirmed."""


class RegisterResult(enum.IntEnum):
    """Result of a registration (0x8100)."""

    SUCCESS = 0
    VEHICLE_ALREADY_REGISTERED = 1
    NO_SUCH_VEHICLE = 2
    TERMINAL_ALREADY_REGISTERED = 3
    NO_SUCH_TERMINAL = 4


class BatchKind(enum.IntEnum):
    """Kind of a batch location upload (0x0704)."""

    NORMAL = 0
    BACKFILL = 1
    """Blind-area backfill: positions stored while offline, old rather than live."""
