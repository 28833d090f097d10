"""The sans-I/O TerminalSession: bytes and times in, frames, observations and replies out."""

from __future__ import annotations

import datetime as dt
from collections import deque

import pytest

from devices.jt808 import (
    BatchKind,
    ChecksumError,
    Frame,
    FrameDecoder,
    FramingError,
    GeneralResult,
    Heartbeat,
    Location,
    LocationBatch,
    PlatformGeneralReply,
    RegisterReply,
    RegisterResult,
    TextFlag,
    TextMessage,
    decode_frame,
    encode_frame,
)
from devices.jt808.framing import Header
from devices.jt808.session import MAX_RUN, Item, TerminalSession, alarm_mask
from devices.observations import DeviceAlarmRaised, Position

PHONE = "013912345678"
DEVICE = "13912345678"
WHEN = dt.datetime(2024, 5, 1, 0, 30, tzinfo=dt.UTC)
SOS = 1 << 0
OVERSPEED = 1 << 1


def location(alarm_flags: int = 0) -> Location:
    return Location.from_degrees(lat=30.25, lon=120.16, time=WHEN, alarm_flags=alarm_flags)


def report(serial: int, alarm_flags: int = 0) -> bytes:
    return encode_frame(location(alarm_flags), phone=PHONE, serial=serial)


def frames_of(queue: deque[Item]) -> list[Frame]:
    assert all(isinstance(item, Frame) for item in queue)
    return [item for item in queue if isinstance(item, Frame)]


def test_receive_decodes_frames_in_stream_order_across_reads() -> None:
    session = TerminalSession(now=0.0)
    queue: deque[Item] = deque()
    wire = report(1) + encode_frame(Heartbeat(), phone=PHONE, serial=2) + report(3)
    assert session.receive(wire[:30], 0.0, queue) == 0
    assert session.receive(wire[30:], 0.0, queue) == 0
    assert [frame.header.serial for frame in frames_of(queue)] == [1, 2, 3]


def test_a_bad_checksum_keeps_a_salvaged_header_to_answer_by() -> None:
    bad = bytearray(report(7))
    bad[-2] ^= 0xFF  # the checksum byte
    queue: deque[Item] = deque()
    TerminalSession(now=0.0).receive(bytes(bad), 0.0, queue)
    (error,) = queue
    assert isinstance(error, ChecksumError)
    assert error.header is not None
    assert (error.header.serial, error.header.msg_id) == (7, 0x0200)
    # The plain decoder reports the same error without guessing a header.
    (plain,) = FrameDecoder().feed(bytes(bad))
    assert isinstance(plain, ChecksumError)
    assert plain.header is None


def test_framing_errors_are_queued_in_order() -> None:
    queue: deque[Item] = deque()
    TerminalSession(now=0.0).receive(b"junk" + report(1), 0.0, queue)
    assert isinstance(queue[0], FramingError)
    assert isinstance(queue[1], Frame)


def test_frames_over_the_rate_are_dropped_and_a_long_overload_is_reported() -> None:
    session = TerminalSession(now=0.0, max_frames_per_second=2, overload_close_after=2.0)
    queue: deque[Item] = deque()
    assert session.receive(report(1) + report(2) + report(3), 0.0, queue) == 1
    assert (len(queue), session.overloaded) == (2, False)
    for second in (1.0, 2.0):
        session.receive(b"".join(report(n) for n in range(5)), second, queue)
    assert session.overloaded
    # Once overloaded, the rest of a read is ignored.
    before = len(queue)
    assert session.receive(report(9), 2.0, queue) == 1
    assert len(queue) == before


def test_a_quiet_second_ends_an_overload() -> None:
    session = TerminalSession(now=0.0, max_frames_per_second=1, overload_close_after=2.0)
    queue: deque[Item] = deque()
    for second in (0.0, 1.0, 2.5, 4.0):  # a gap of 1.5 s between drops
        session.receive(report(1) + report(2) + report(3), second, queue)
    assert not session.overloaded


def test_take_reports_pops_the_leading_run_of_the_terminals_reports() -> None:
    session = TerminalSession(now=0.0, max_frames_per_second=1000)
    session.authenticated(Header(msg_id=0x0102, phone=PHONE, serial=0))
    queue: deque[Item] = deque()
    wire = b"".join(report(n) for n in range(MAX_RUN + 2))
    session.receive(wire + encode_frame(Heartbeat(), phone=PHONE, serial=99), 0.0, queue)
    assert len(session.take_reports(queue, DEVICE)) == MAX_RUN
    assert len(session.take_reports(queue, DEVICE)) == 2
    assert session.take_reports(queue, DEVICE) == []
    assert isinstance(queue[0], Frame)
    assert isinstance(queue[0].message, Heartbeat)


def test_judge_reports_raises_alarms_on_rising_bits_only() -> None:
    session = TerminalSession(now=0.0, raise_mask=alarm_mask({0, 1}))
    frames = [decode_frame(report(n, flags)) for n, flags in enumerate([SOS, SOS, SOS | 8])]
    judged = session.judge_reports(frames, DEVICE, live_flags=0)
    positions = [o for o in judged.observations if isinstance(o, Position)]
    alarms = [o for o in judged.observations if isinstance(o, DeviceAlarmRaised)]
    assert len(positions) == 3
    assert [alarm.key for alarm in alarms] == ["emergency"]  # bit 3 does not raise
    assert judged.observations[-1] == alarms[-1]  # positions first, then alarms
    assert judged.live_flags == SOS | 8
    assert judged.raises_alarms
    again = session.judge_reports(frames[1:2], DEVICE, live_flags=judged.live_flags)
    assert not again.raises_alarms


def test_backfill_alarms_are_judged_within_the_batch_and_leave_live_flags_alone() -> None:
    session = TerminalSession(now=0.0)
    batch = LocationBatch(
        kind=BatchKind.BACKFILL, locations=(location(OVERSPEED), location(OVERSPEED))
    )
    frame = decode_frame(encode_frame(batch, phone=PHONE, serial=1))
    judged = session.judge_reports([frame], DEVICE, live_flags=OVERSPEED)
    alarms = [o for o in judged.observations if isinstance(o, DeviceAlarmRaised)]
    assert [alarm.description for alarm in alarms] == ["JT/T 808 alarm bit 1 (blind-area backfill)"]
    assert judged.live_flags == OVERSPEED


def test_alarm_mask_refuses_bits_outside_the_32() -> None:
    assert alarm_mask({0, 31}) == 1 | 1 << 31
    with pytest.raises(ValueError, match=r"0\.\.31"):
        alarm_mask({32})


def test_replies_answer_in_order_with_consecutive_serials() -> None:
    session = TerminalSession(now=0.0)
    frames = [decode_frame(report(n)) for n in (5, 6)]
    replies = FrameDecoder().feed(session.replies(frames, GeneralResult.SUCCESS))
    messages = [item.message for item in replies if isinstance(item, Frame)]
    assert messages == [
        PlatformGeneralReply(reply_serial=5, reply_msg_id=0x0200, result=GeneralResult.SUCCESS),
        PlatformGeneralReply(reply_serial=6, reply_msg_id=0x0200, result=GeneralResult.SUCCESS),
    ]
    assert [item.header.serial for item in replies if isinstance(item, Frame)] == [0, 1]
    assert session.next_serial() == 2


def test_a_refused_registration_carries_no_code() -> None:
    session = TerminalSession(now=0.0)
    header = Header(msg_id=0x0100, phone=PHONE, serial=3)
    (refused,) = FrameDecoder().feed(
        session.register_reply(header, RegisterResult.NO_SUCH_TERMINAL, "secret")
    )
    assert isinstance(refused, Frame)
    assert refused.message == RegisterReply(
        reply_serial=3, result=RegisterResult.NO_SUCH_TERMINAL, auth_code=""
    )


def test_a_text_goes_to_the_authenticated_terminal_only() -> None:
    session = TerminalSession(now=0.0)
    message = TextMessage(flags=TextFlag.EMERGENCY | TextFlag.TTS, text="请靠边停车")
    with pytest.raises(ValueError, match="authenticated"):
        session.text(message)
    session.authenticated(Header(msg_id=0x0102, phone=PHONE, serial=0))
    serial, wire = session.text(message)
    frame = decode_frame(wire)
    assert (frame.header.phone, frame.header.serial) == (PHONE, serial)
    assert isinstance(frame.message, TextMessage)
    assert frame.message.flag_names == {"emergency", "tts"}
