"""The replayer's sans-I/O core: the schedule, and each kind of input moved onto the
exercise clock through the project's own codecs."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import operator

import msgspec
import pytest

from backend.exercises.clock import Error as ClockError
from backend.exercises.clock import ExerciseClock
from backend.exercises.recording import ModbusInput, NmeaInput
from backend.exercises.schedule import (
    NmeaRelay,
    Schedule,
    modbus_messages,
    shift_feed_text,
    shift_jt808_frame,
)
from devices.jt808.codec import decode_frame, encode_frame
from devices.jt808.messages import Authentication
from realtime.protocol import DevicePosition, DeviceReading, decode_device
from tests.backend.exercises.helpers import (
    GAS_DEVICE,
    PHONE,
    T0,
    location,
    reading,
    small_recording,
)

DELTA = dt.timedelta(days=640, hours=3, seconds=17)
RMC = "GPRMC,020000.00,A,3111.400,N,12126.400,E,10.0,90.0,010325,,,A"
GGA = "GPGGA,020000.00,3111.400,N,12126.400,E,1,08,0.9,12.0,M,0.0,M,,"


def test_the_schedule_hands_out_device_input_in_order_once() -> None:
    schedule = Schedule(small_recording())
    assert len(schedule) == 6
    assert [item.offset for item in schedule.due(1.0)] == [0.1, 0.2, 0.5, 1.0]
    assert list(schedule.due(1.0)) == []
    assert schedule.next_offset() == 2.0
    assert [item.offset for item in schedule.due(10.0)] == [2.0, 3.0]
    assert schedule.next_offset() is None
    assert schedule.sent == 6


def test_a_location_frame_is_moved_and_its_check_code_recomputed() -> None:
    original = encode_frame(location(T0, alarms=2), phone=PHONE, serial=7)
    moved = shift_jt808_frame(original, DELTA)
    assert moved != original
    frame = decode_frame(moved)  # a wrong check code would raise here
    assert frame.header.serial == 7
    assert frame.message is not None
    assert frame.message.time == T0 + DELTA  # type: ignore[union-attr]
    assert frame.message.alarm_flags == 2  # type: ignore[union-attr]


def test_frames_without_times_and_broken_frames_go_as_they_are() -> None:
    login = encode_frame(Authentication(auth_code="x"), phone=PHONE, serial=1)
    assert shift_jt808_frame(login, DELTA) == login
    broken = login[:-2] + bytes([login[-2] ^ 0xFF]) + login[-1:]
    assert shift_jt808_frame(broken, DELTA) == broken


def test_feed_messages_are_moved_and_completed() -> None:
    due = T0 + DELTA
    moved = decode_device(shift_feed_text(reading(T0, 1.2, "r"), "acct", DELTA, due))
    assert isinstance(moved, DeviceReading)
    assert moved.at == T0 + DELTA
    untimed = decode_device(shift_feed_text(reading(None, 1.2, "r"), "acct", DELTA, due))
    assert isinstance(untimed, DeviceReading)
    assert untimed.at == due
    assert untimed.device == GAS_DEVICE
    assert shift_feed_text("not json", "acct", DELTA, due) == "not json"


def nmea_line(body: str) -> str:
    checksum = functools.reduce(operator.xor, body.encode(), 0)
    return f"${body}*{checksum:02X}"


def test_nmea_sentences_become_positions_through_the_merger() -> None:
    relay = NmeaRelay()
    refs = (f"n{n}" for n in itertools.count())
    rmc = NmeaInput(
        at=T0,
        device="gps-1",
        line=nmea_line(RMC),
    )
    gga = NmeaInput(
        at=T0,
        device="gps-1",
        line=nmea_line(GGA),
    )
    assert relay.messages(rmc, DELTA, next(refs)) == []  # held for its GGA
    (text,) = relay.messages(gga, DELTA, next(refs))
    position = decode_device(text)
    assert isinstance(position, DevicePosition)
    assert position.kind == "nmea"
    assert position.at == dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.UTC) + DELTA
    assert position.lat == pytest.approx(31.19)
    bad = msgspec.structs.replace(rmc, line=rmc.line[:-2] + "00")
    assert relay.messages(bad, DELTA, next(refs)) == []
    assert relay.refused == 1
    assert relay.messages(rmc, DELTA, next(refs)) == []
    assert len(relay.flush(DELTA, lambda: next(refs))) == 1


def test_modbus_registers_become_readings_through_the_register_decoding() -> None:
    due = T0 + DELTA
    one = ModbusInput(at=T0, device="plc-1", sensor="T-1", address=100, registers=[412])
    (text,) = modbus_messages(one, {"T-1": "°C"}, due, "m1")
    value = decode_device(text)
    assert isinstance(value, DeviceReading)
    assert (value.value, value.unit, value.at, value.kind) == (412.0, "°C", due, "modbus")
    # 1.5 as a big-endian float32: 0x3FC0 0x0000.
    two = msgspec.structs.replace(one, registers=[0x3FC0, 0x0000])
    (text,) = modbus_messages(two, {}, due, "m2")
    value = decode_device(text)
    assert isinstance(value, DeviceReading)
    assert value.value == pytest.approx(1.5)
    assert modbus_messages(msgspec.structs.replace(one, registers=[1, 2, 3]), {}, due, "m") == []


def test_the_clock_pauses_seeks_forward_only_and_changes_speed() -> None:
    now = [0.0]
    clock = ExerciseClock(T0, 2.0, monotonic=lambda: now[0])
    assert clock() == T0  # starts paused
    clock.resume()
    now[0] = 1.0
    assert clock.position() == 2.0
    clock.set_speed(10.0)
    now[0] = 2.0
    assert clock.position() == 12.0
    clock.pause()
    now[0] = 5.0
    assert clock.position() == 12.0
    assert clock.wall_seconds_until(20.0) is None
    clock.seek(30.0)
    with pytest.raises(ClockError, match="cannot seek back"):
        clock.seek(29.0)
    clock.resume()
    assert clock.wall_seconds_until(40.0) == pytest.approx(1.0)
    assert clock() == T0 + dt.timedelta(seconds=30)
    with pytest.raises(ClockError, match="1 to 64"):
        clock.set_speed(0.5)
