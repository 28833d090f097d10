"""Encoding and strict decoding of wire messages: a message that does not decode raises
:class:`ProtocolError` with a reason precise enough to send back to its author."""

from __future__ import annotations

from typing import Any

import msgspec

from realtime.protocol.common import ErrorCode
from realtime.protocol.console import ConsoleMessage
from realtime.protocol.device import DeviceMessage
from realtime.protocol.server import ServerMessage

_console_decoder = msgspec.json.Decoder(ConsoleMessage)
_device_decoder = msgspec.json.Decoder(DeviceMessage)
_server_decoder = msgspec.json.Decoder(ServerMessage)
_encoder = msgspec.json.Encoder()


class ProtocolError(Exception):
    """A message that cannot be decoded; ``str()`` says exactly what is wrong."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def encode(message: msgspec.Struct) -> bytes:
    """Encode any wire message to JSON bytes."""
    return _encoder.encode(message)


def _decode(
    decoder: msgspec.json.Decoder[Any], data: bytes | str, *, refuse_nul: bool = False
) -> Any:
    try:
        message = decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, f"invalid message: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, f"not valid JSON: {exc}") from exc
    except RecursionError as exc:
        # msgspec bounds its own recursion and raises this cleanly: arrays or objects
        # nested deeper than any message of ours is one more bad message, not a crash.
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "not valid JSON: nested too deeply") from exc
    # Only a message that spells the escape can hold U+0000 (JSON forbids it raw); then
    # the decoded text decides (an escaped backslash before "u0000" is plain text).
    if refuse_nul and _spells_nul(data) and _holds_nul(msgspec.to_builtins(message)):
        # No database of ours takes it (PostgreSQL refuses it), nor can XML carry it.
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "invalid message: text holds a NUL character")
    return message


def _spells_nul(data: bytes | str) -> bool:
    if isinstance(data, str):
        return "\\u0000" in data
    return b"\\u0000" in data


def _holds_nul(value: object) -> bool:
    # A loop, not recursion: how deep a message may nest is the decoder's business.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def decode_console(data: bytes | str) -> ConsoleMessage:
    """Decode a console message or raise :class:`ProtocolError` (text holding U+0000
    too)."""
    result: ConsoleMessage = _decode(_console_decoder, data, refuse_nul=True)
    return result


def decode_device(data: bytes | str) -> DeviceMessage:
    """Decode a device-feed message or raise :class:`ProtocolError` (text holding U+0000
    too)."""
    result: DeviceMessage = _decode(_device_decoder, data, refuse_nul=True)
    return result


def decode_server(data: bytes | str) -> ServerMessage:
    """Decode a server message or raise :class:`ProtocolError`."""
    result: ServerMessage = _decode(_server_decoder, data)
    return result


def request_id_of(data: bytes | str) -> str | None:
    """Best effort: the ``req`` of a message that failed to decode, so the error can name it."""
    try:
        raw = msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return None
    if isinstance(raw, dict):
        req = raw.get("req", raw.get("ref"))
        if isinstance(req, str):
            return req
    return None
