"""Hand-built JT/T 808 frames: every byte written out here, checksums computed independently."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import operator

import pytest

from devices.jt808 import (
    Authentication,
    EncodeError,
    Frame,
    FrameDecoder,
    GeneralResult,
    Heartbeat,
    Location,
    MileageItem,
    PlatformGeneralReply,
    ProtocolVersion,
    Register,
    RegisterReply,
    RegisterResult,
    SatelliteCountItem,
    SignalStrengthItem,
    SubPacket,
    TextMessage,
    decode_frame,
    encode_frame,
    encode_general_reply,
    encode_register_reply,
    encode_sub_packets,
    frame_positions,
    unescape,
)


def xor_all(data: bytes) -> int:
    return functools.reduce(operator.xor, data, 0)


# 2013 location: phone 013912345678, serial 0x007E (must be escaped on the wire).
LOCATION_HEADER = bytes([0x02, 0x00, 0x00, 0x28, 0x01, 0x39, 0x12, 0x34, 0x56, 0x78, 0x00, 0x7E])
LOCATION_BODY = bytes(
    [
        *(0x00, 0x00, 0x00, 0x01),  # alarm: bit 0 emergency
        *(0x00, 0x0C, 0x00, 0x03),  # status: ACC on, positioned, GPS + BeiDou used
        *(0x01, 0xDC, 0x89, 0xD0),  # latitude 31.230416
        *(0x07, 0x3D, 0x8A, 0xA5),  # longitude 121.473701
        *(0x00, 0x0C),  # altitude 12 m
        *(0x02, 0x5D),  # speed 60.5 km/h
        *(0x00, 0x5A),  # heading 90
        *(0x24, 0x05, 0x01, 0x08, 0x30, 0x00),  # 2024-05-01 08:30:00 GMT+8
        *(0x01, 0x04, 0x00, 0x00, 0x30, 0x39),  # mileage 1234.5 km
        *(0x30, 0x01, 0x1F),  # signal strength 31
        *(0x31, 0x01, 0x0C),  # 12 satellites
    ]
)
LOCATION_CHECKSUM = 0xF4
LOCATION_WIRE = (
    b"\x7e"
    + LOCATION_HEADER[:-1]
    + b"\x7d\x02"  # the serial's 0x7E byte, escaped
    + LOCATION_BODY
    + bytes([LOCATION_CHECKSUM])
    + b"\x7e"
)


def test_location_vector_checksum_is_the_xor_of_header_and_body() -> None:
    assert len(LOCATION_BODY) == 0x28
    assert xor_all(LOCATION_HEADER + LOCATION_BODY) == LOCATION_CHECKSUM


def test_2013_location_decodes_field_by_field() -> None:
    frame = decode_frame(LOCATION_WIRE)
    assert frame.header.msg_id == 0x0200
    assert frame.header.version is ProtocolVersion.V2013
    assert frame.header.phone == "013912345678"
    assert frame.header.device_id == "13912345678"
    assert frame.header.serial == 0x7E
    location = frame.message
    assert isinstance(location, Location)
    assert location.lat == 31.230416
    assert location.lon == 121.473701
    assert location.altitude_m == 12
    assert location.speed_kmh == 60.5
    assert location.heading_deg == 90
    assert location.time == dt.datetime(2024, 5, 1, 0, 30, tzinfo=dt.UTC)
    assert location.items == (MileageItem(12345), SignalStrengthItem(31), SatelliteCountItem(12))
    assert location.extras() == {"mileage_km": 1234.5, "signal_strength": 31, "satellites": 12}


def test_2013_location_encodes_to_the_same_bytes() -> None:
    location = Location(
        alarm_flags=1,
        status_flags=0x000C0003,
        latitude_e6=31_230_416,
        longitude_e6=121_473_701,
        altitude_m=12,
        speed_tenths_kmh=605,
        heading_deg=90,
        time=dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        items=(MileageItem(12345), SignalStrengthItem(31), SatelliteCountItem(12)),
    )
    assert encode_frame(location, phone="13912345678", serial=0x7E) == LOCATION_WIRE


def test_2013_location_becomes_a_position() -> None:
    [position] = frame_positions(decode_frame(LOCATION_WIRE))
    assert position.device == "13912345678"
    assert position.at == dt.datetime(2024, 5, 1, 0, 30, tzinfo=dt.UTC)
    assert (position.lat, position.lon) == (31.230416, 121.473701)
    assert position.alarms == {"emergency"}
    assert position.status == {"acc_on", "positioned", "gps_used", "beidou_used"}
    assert position.extras["mileage_km"] == 1234.5
    assert not position.backfill


# 2019 registration: phone 00000000013912345678, serial 5, version byte 1.
REGISTER_BODY = (
    bytes([0x00, 0x2C, 0x03, 0x00])  # province 44, city 768
    + b"ABCDE" + bytes(6)  # maker, BYTE[11]
    + b"DD-808" + bytes(24)  # model, BYTE[30]
    + b"T1234567" + bytes(22)  # terminal id, BYTE[30]
    + bytes([0x01])  # plate colour blue
    + bytes([0xD4, 0xC1]) + b"B12345"  # "粤B12345" in GBK
)  # fmt: skip
REGISTER_HEADER = bytes(
    [0x01, 0x00, 0x40, 0x54, 0x01, 0, 0, 0, 0, 0x01, 0x39, 0x12, 0x34, 0x56, 0x78, 0x00, 0x05]
)
REGISTER_CHECKSUM = 0x51
REGISTER_WIRE = b"\x7e" + REGISTER_HEADER + REGISTER_BODY + bytes([REGISTER_CHECKSUM]) + b"\x7e"


def test_register_vector_checksum_is_the_xor_of_header_and_body() -> None:
    assert len(REGISTER_BODY) == 0x54
    assert xor_all(REGISTER_HEADER + REGISTER_BODY) == REGISTER_CHECKSUM


def test_2019_register_decodes_with_2019_field_widths() -> None:
    frame = decode_frame(REGISTER_WIRE)
    assert frame.header.version is ProtocolVersion.V2019
    assert frame.header.protocol_version_number == 1
    assert frame.header.phone == "00000000013912345678"
    assert frame.header.device_id == "13912345678"
    assert frame.message == Register(
        province=44,
        city=768,
        maker="ABCDE",
        model="DD-808",
        terminal_id="T1234567",
        plate_color=1,
        plate="粤B12345",
    )


def test_2019_register_encodes_to_the_same_bytes() -> None:
    frame = decode_frame(REGISTER_WIRE)
    assert frame.message is not None
    wire = encode_frame(frame.message, phone="13912345678", serial=5, version=ProtocolVersion.V2019)
    assert wire == REGISTER_WIRE


def test_2013_register_uses_the_narrower_field_widths() -> None:
    frame = decode_frame(REGISTER_WIRE)
    assert isinstance(frame.message, Register)
    with pytest.raises(EncodeError, match="terminal id holds at most 7 bytes, got 8"):
        frame.message.encode(ProtocolVersion.V2013)
    register = dataclasses.replace(frame.message, terminal_id="T123456")
    body = register.encode(ProtocolVersion.V2013)
    # province, city | maker[5] | model[20] | terminal id[7] | colour | plate
    assert body == (
        bytes([0x00, 0x2C, 0x03, 0x00])
        + b"ABCDE"
        + b"DD-808" + bytes(14)
        + b"T123456"
        + bytes([0x01])
        + bytes([0xD4, 0xC1]) + b"B12345"
    )  # fmt: skip
    assert Register.decode(body, ProtocolVersion.V2013) == register


def test_heartbeat_frame_bytes() -> None:
    wire = encode_frame(Heartbeat(), phone="13912345678", serial=1)
    header = bytes([0x00, 0x02, 0x00, 0x00, 0x01, 0x39, 0x12, 0x34, 0x56, 0x78, 0x00, 0x01])
    assert wire == b"\x7e" + header + bytes([xor_all(header)]) + b"\x7e"


def test_general_reply_answers_the_received_frame() -> None:
    received = decode_frame(LOCATION_WIRE).header
    wire = encode_general_reply(received, serial=0x7D)
    body = bytes([0x00, 0x7E, 0x02, 0x00, 0x00])  # reply serial, reply id 0x0200, result 0
    header = bytes([0x80, 0x01, 0x00, 0x05, 0x01, 0x39, 0x12, 0x34, 0x56, 0x78, 0x00, 0x7D])
    checksum = xor_all(header + body)
    expected_content = header + body + bytes([checksum])
    escaped = expected_content.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")
    assert wire == b"\x7e" + escaped + b"\x7e"
    reply = decode_frame(wire).message
    assert reply == PlatformGeneralReply(
        reply_serial=0x7E, reply_msg_id=0x0200, result=GeneralResult.SUCCESS
    )


def test_register_reply_keeps_the_2019_header_and_carries_the_auth_code() -> None:
    received = decode_frame(REGISTER_WIRE).header
    frame = decode_frame(
        encode_register_reply(received, serial=9, result=RegisterResult.SUCCESS, auth_code="AB12")
    )
    assert frame.header.version is ProtocolVersion.V2019
    assert frame.header.phone == received.phone
    assert frame.body == bytes([0x00, 0x05, 0x00]) + b"AB12"
    assert frame.message == RegisterReply(
        reply_serial=5, result=RegisterResult.SUCCESS, auth_code="AB12"
    )


def test_register_reply_without_success_has_no_auth_code_bytes() -> None:
    received = decode_frame(REGISTER_WIRE).header
    frame = decode_frame(
        encode_register_reply(received, serial=9, result=RegisterResult.NO_SUCH_TERMINAL)
    )
    assert frame.body == bytes([0x00, 0x05, 0x04])


def test_2019_authentication_layout() -> None:
    auth = Authentication(auth_code="AB12", imei="860000000000001", software_version="V1.0")
    body = auth.encode(ProtocolVersion.V2019)
    assert body == bytes([4]) + b"AB12" + b"860000000000001" + b"V1.0" + bytes(16)
    assert Authentication.decode(body, ProtocolVersion.V2019) == auth
    # 2013: the whole body is the code.
    assert Authentication(auth_code="AB12").encode() == b"AB12"


def test_text_message_2019_inserts_the_type_byte() -> None:
    text = TextMessage(flags=0b1001, text="注意安全", text_type=2)
    gbk = "注意安全".encode("gbk")
    assert text.encode(ProtocolVersion.V2013) == bytes([0b1001]) + gbk
    assert text.encode(ProtocolVersion.V2019) == bytes([0b1001, 2]) + gbk
    assert text.flag_names == {"emergency", "tts"}


def test_two_frames_sharing_one_flag_both_decode() -> None:
    shared = LOCATION_WIRE + REGISTER_WIRE[1:]
    results = FrameDecoder().feed(shared)
    messages = [result.message for result in results if isinstance(result, Frame)]
    assert len(results) == 2
    assert isinstance(messages[0], Location)
    assert isinstance(messages[1], Register)


def test_long_body_is_split_into_sub_packets_with_consecutive_serials() -> None:
    body = bytes(range(256)) * 5  # 1280 bytes: more than one 1023-byte body
    wires = encode_sub_packets(0x0801, body, phone="13912345678", first_serial=0xFFFF)
    frames = [decode_frame(wire) for wire in wires]
    packets = [frame.header.sub_packet for frame in frames]
    assert packets == [SubPacket(total=2, index=1), SubPacket(total=2, index=2)]
    assert [frame.header.serial for frame in frames] == [0xFFFF, 0x0000]
    assert all(frame.message is None for frame in frames)
    assert b"".join(frame.body for frame in frames) == body
    # Sub-packet header: attributes carry bit 13 and the body length, then total/index.
    first_content = unescape(wires[0][1:-1])
    assert first_content[2:4] == (0x2000 | 1023).to_bytes(2, "big")
    assert first_content[12:16] == bytes([0x00, 0x02, 0x00, 0x01])


def test_report_without_a_fix_still_carries_its_alarms() -> None:
    location = Location.from_degrees(
        lat=0,
        lon=0,
        time=dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
        alarm_flags=1 << 28,
        status_flags=0,
    )
    [position] = frame_positions(decode_frame(encode_frame(location, phone="7", serial=1)))
    assert position.device == "7"
    assert position.alarms == {"illegal_displacement"}
    assert "positioned" not in position.status
    assert not location.positioned
