"""Deeply nested JSON is a bad message like any other: it is answered with a typed
``bad_message`` error on both endpoints and the connection carries on (it used to end
the connection with 1011 because decoding hit the interpreter's recursion limit)."""

from __future__ import annotations

import json

import pytest

from backend.server.app import DutyDeskServer
from realtime.protocol import MAX_CONSOLE_MESSAGE_BYTES, MAX_DEVICE_MESSAGE_BYTES
from tests.backend.server.test_wire_robustness import _ping_works, _recv, raw_console, raw_device


def _nested(prefix: str, limit: int) -> str:
    """``prefix`` followed by as many ``[`` as fit under ``limit`` bytes (far past any
    recursion limit), unclosed and then closed variants alike being refused."""
    return prefix + "[" * (limit - len(prefix) - 16)


def _balanced(prefix: str, limit: int) -> str:
    depth = (limit - len(prefix) - 16) // 2
    return prefix + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize(
    "payload",
    [
        _nested("", MAX_CONSOLE_MESSAGE_BYTES),
        _nested('{"x":', MAX_CONSOLE_MESSAGE_BYTES),
        _nested('{"type":"ping","req":"deep","x":', MAX_CONSOLE_MESSAGE_BYTES),
        _balanced('{"type":"alarm.create","req":"deep","extra":', MAX_CONSOLE_MESSAGE_BYTES),
    ],
    ids=["bare", "before-type", "unknown-field", "balanced"],
)
async def test_console_deeply_nested_json_is_a_bad_message(
    server: DutyDeskServer, payload: str
) -> None:
    async with raw_console(server) as ws:
        await ws.send(payload)
        answer = await _recv(ws)
        assert answer["type"] == "error"
        assert answer["code"] == "bad_message"
        await _ping_works(ws)


@pytest.mark.parametrize(
    "payload",
    [
        _nested("", MAX_DEVICE_MESSAGE_BYTES),
        _nested('{"x":', MAX_DEVICE_MESSAGE_BYTES),
        _balanced('{"type":"device.reading","ref":"deep","extra":', MAX_DEVICE_MESSAGE_BYTES),
    ],
    ids=["bare", "before-type", "balanced"],
)
async def test_device_deeply_nested_json_is_a_bad_message(
    server: DutyDeskServer, payload: str
) -> None:
    async with raw_device(server) as ws:
        await ws.send(payload)
        answer = await _recv(ws)
        assert answer["type"] == "error"
        assert answer["code"] == "bad_message"
        reading = {"type": "device.reading", "ref": "after", "sensor": "ch4-1", "value": 0.4}
        await ws.send(json.dumps(reading | {"unit": "%"}))
        assert await _recv(ws) == {
            "type": "ack",
            "ref": "after",
            "alarm_id": None,
            "repeated": False,
        }
