"""The wire schema: round trips, strict decoding, clear errors."""

from __future__ import annotations

import datetime as dt

import pytest

from realtime.protocol import (
    AlarmView,
    CreateAlarm,
    ErrorCode,
    Event,
    ProtocolError,
    decode_console,
    decode_device,
    decode_server,
    encode,
    request_id_of,
)
from realtime.states import AlarmLevel, AlarmState

NOW = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)


def test_event_round_trip() -> None:
    alarm = AlarmView(
        id=7,
        version=2,
        state=AlarmState.ACKNOWLEDGED,
        level=AlarmLevel.ORANGE,
        alarm_type="fire",
        title="仓库起火",
        source="manual",
        first_seen=NOW,
        last_seen=NOW,
        updated_at=NOW,
    )
    event = Event(seq=12, at=NOW, kind="alarm.transitioned", actor="officer1", alarm=alarm)
    assert decode_server(encode(event)) == event
    assert b'"type":"event"' in encode(event)


def test_command_round_trip() -> None:
    command = CreateAlarm(
        req="r1", alarm_type="fire", level=AlarmLevel.RED, title="x", lat=1.0, lon=2.0
    )
    assert decode_console(encode(command)) == command


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"null",
        b'{"type":"hello"}',
        b'{"type":"hello","protocol":1,"surprise":true}',
        b'{"type":"alarm.create","req":"1","alarm_type":"fire","level":"red","title":"x","lat":91,"lon":0}',
        b'{"type":"alarm.create","req":"1","alarm_type":"fire","level":"red","title":"'
        + b"x" * 201
        + b'"}',
    ],
)
def test_bad_console_messages_raise_protocol_error(raw: bytes) -> None:
    with pytest.raises(ProtocolError) as error:
        decode_console(raw)
    assert error.value.code is ErrorCode.BAD_MESSAGE
    assert error.value.message


def test_device_times_must_carry_an_offset() -> None:
    ok = decode_device(
        b'{"type":"device.reading","ref":"1","sensor":"s","value":1,"at":"2026-11-29T11:00:00+08:00"}'
    )
    assert ok.at == dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)
    with pytest.raises(ProtocolError, match="timezone"):
        decode_device(
            b'{"type":"device.reading","ref":"1","sensor":"s","value":1,"at":"2026-11-29T11:00:00"}'
        )


def test_request_id_is_recovered_from_broken_messages() -> None:
    assert request_id_of(b'{"req":"abc","type":"nope"}') == "abc"
    assert request_id_of(b'{"ref":"d1"}') == "d1"
    assert request_id_of(b"garbage") is None
    assert request_id_of(b'{"req": 5}') is None
