"""The wire schema: round trips, strict decoding, clear errors."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest

from realtime.protocol import (
    AlarmView,
    CreateAlarm,
    DeviceReading,
    ErrorCode,
    Event,
    GetTrack,
    ProtocolError,
    Result,
    TrackAlarms,
    TrackColumns,
    TrackForm,
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


@pytest.mark.parametrize(
    ("decode", "raw"),
    [
        (decode_device, rb'{"type":"device.reading","ref":"r","sensor":"a\u0000b","value":1}'),
        (
            decode_device,
            rb'{"type":"device.status","ref":"r\u0000","device":"d","online":true,'
            rb'"at":"2026-01-01T00:00:00Z"}',
        ),
        (decode_console, rb'{"type":"ping","req":"\u0000"}'),
    ],
)
def test_a_nul_character_anywhere_is_a_bad_message(
    decode: Callable[[bytes], object], raw: bytes
) -> None:
    # No database of ours stores it (PostgreSQL refuses it), nor can XML carry it.
    with pytest.raises(ProtocolError, match="NUL") as error:
        decode(raw)
    assert error.value.code is ErrorCode.BAD_MESSAGE


def test_an_escaped_backslash_before_u0000_is_plain_text() -> None:
    raw = rb'{"type":"device.reading","ref":"r","sensor":"a\\u0000b","value":1}'
    reading = decode_device(raw)
    assert isinstance(reading, DeviceReading)
    assert reading.sensor == "a\\u0000b"


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


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000,
        b'{"x":' + b"[" * 100_000,
        b'{"type":"device.reading","ref":"1","x":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    ],
    ids=["bare", "before-type", "balanced"],
)
def test_deeply_nested_json_is_a_bad_message_not_a_crash(raw: bytes) -> None:
    for decode in (decode_console, decode_device):
        with pytest.raises(ProtocolError) as error:
            decode(raw)
        assert error.value.code is ErrorCode.BAD_MESSAGE
    assert request_id_of(raw) is None


def _track_columns(**changes: object) -> dict[str, object]:
    message: dict[str, object] = {
        "type": "track_columns",
        "device": "13900000001",
        "t0": "2026-11-29T03:00:00Z",
        "t_ms": [0, 1000, 2000],
        "lat_e7": [320000000, 320000100, 320000200],
        "lon_e7": [1188000000, 1188000000, 1188000000],
        "speed_kmh": [40.0, 41.5, 0.0],
        "heading_deg": [90.0, 90.0, 0.0],
        "alarms": [[1, ["overspeed"]]],
        "truncated": False,
        "total": 3,
    }
    message.update(changes)
    return {"type": "result", "req": "r-1", "data": message}


def test_track_columns_round_trip_and_strict_decoding() -> None:
    result = decode_server(json.dumps(_track_columns()))
    assert isinstance(result, Result)
    columns = result.data
    assert isinstance(columns, TrackColumns)
    assert columns.t0 == NOW
    assert columns.alarms == [TrackAlarms(1, ["overspeed"])]
    assert decode_server(encode(result)) == result
    assert b'"alarms":[[1,["overspeed"]]]' in encode(result), "alarms are compact pairs"
    empty = TrackColumns(
        device="x", t0=NOW, t_ms=[], lat_e7=[], lon_e7=[], speed_kmh=[], heading_deg=[]
    )
    assert decode_server(encode(Result(req="r-2", data=empty))) == Result(req="r-2", data=empty)

    for changes, reason in (
        ({"lat_e7": [1, 2]}, "lat_e7 has 2 values, not 3"),
        ({"t_ms": [0, 2000, 1000]}, "must ascend"),
        ({"t_ms": [-1, 0, 1]}, "before t0"),
        ({"alarms": [[3, ["overspeed"]]]}, "not in the track"),
        ({"t0": "2026-11-29T03:00:00"}, "timezone"),
        ({"lat_e7": [0.5, 1, 2]}, "Expected `int`"),
    ):
        with pytest.raises(ProtocolError) as refused:
            decode_server(json.dumps(_track_columns(**changes)))
        assert refused.value.code is ErrorCode.BAD_MESSAGE
        assert reason in refused.value.message


def test_get_track_form_defaults_to_rows_and_is_checked() -> None:
    base = {
        "type": "vehicle.track",
        "req": "r-1",
        "device": "13900000001",
        "start": "2026-11-29T03:00:00Z",
        "end": "2026-11-29T04:00:00Z",
    }
    command = decode_console(json.dumps(base))
    assert isinstance(command, GetTrack)
    assert command.form is TrackForm.ROWS, "clients written before the column form get rows"
    command = decode_console(json.dumps({**base, "form": "columns"}))
    assert isinstance(command, GetTrack)
    assert command.form is TrackForm.COLUMNS
    with pytest.raises(ProtocolError) as refused:
        decode_console(json.dumps({**base, "form": "binary"}))
    assert "$.form" in refused.value.message
