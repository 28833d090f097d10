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


def _decode(decoder: msgspec.json.Decoder[Any], data: bytes | str) -> Any:
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, f"invalid message: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, f"not valid JSON: {exc}") from exc
    except RecursionError as exc:
        # msgspec bounds its own recursion and raises this cleanly: arrays or objects
        # nested deeper than any message of ours is one more bad message, not a crash.
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "not valid JSON: nested too deeply") from exc


def decode_console(data: bytes | str) -> ConsoleMessage:
    """Decode a console message or raise :class:`ProtocolError`."""
    result: ConsoleMessage = _decode(_console_decoder, data)
    return result


def decode_device(data: bytes | str) -> DeviceMessage:
    """Decode a device-feed message or raise :class:`ProtocolError`."""
    result: DeviceMessage = _decode(_device_decoder, data)
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
