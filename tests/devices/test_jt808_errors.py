"""Each JT/T 808 error type, with the message that says what is wrong."""

from __future__ import annotations

import datetime as dt
import functools
import operator

import pytest

from devices.jt808 import (
    ChecksumError,
    EncodeError,
    EscapeError,
    FieldError,
    Frame,
    FrameDecoder,
    FrameSplitter,
    FrameTooLongError,
    FramingError,
    GeneralResult,
    Heartbeat,
    JT808Error,
    LengthError,
    Location,
    MileageItem,
    ProtocolVersion,
    RegisterReply,
    RegisterResult,
    TruncatedError,
    UnknownMessageError,
    UnsupportedError,
    decode_frame,
    encode_frame,
    encode_general_reply,
)

PHONE_BCD = bytes([0x01, 0x39, 0x12, 0x34, 0x56, 0x78])


def frame_2013(msg_id: int, body: bytes, *, declared_length: int | None = None) -> bytes:
    """Wire bytes of a 2013 frame, built without the codec (serial 1)."""
    length = len(body) if declared_length is None else declared_length
    content = msg_id.to_bytes(2, "big") + length.to_bytes(2, "big") + PHONE_BCD + b"\x00\x01"
    content += body
    content += bytes([functools.reduce(operator.xor, content, 0)])
    escaped = content.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")
    return b"\x7e" + escaped + b"\x7e"


LOCATION_BODY = bytes(28 - 6) + bytes([0x24, 0x05, 0x01, 0x08, 0x30, 0x00])


def test_checksum_error_names_both_values() -> None:
    wire = bytearray(frame_2013(0x0002, b""))
    wire[-2] ^= 0xFF
    with pytest.raises(ChecksumError, match=r"frame says 0x[0-9A-F]{2}, content XORs to 0x"):
        decode_frame(bytes(wire))


def test_bad_escape_names_the_offending_byte() -> None:
    with pytest.raises(EscapeError, match=r"offset 2: .* got 0x7D followed by 0x03"):
        decode_frame(b"\x7e\x00\x02\x7d\x03\x00\x7e")


def test_escape_at_the_end_of_a_frame_is_bad() -> None:
    with pytest.raises(EscapeError, match="followed by the end of the frame"):
        decode_frame(b"\x7e\x00\x02\x7d\x7e")


def test_too_short_frame_is_truncated() -> None:
    with pytest.raises(TruncatedError, match="frame of 3 bytes is shorter than the 13-byte"):
        decode_frame(b"\x7e\x00\x02\x00\x7e")


def test_body_length_mismatch_names_declared_and_actual() -> None:
    wire = frame_2013(0x0200, LOCATION_BODY, declared_length=30)
    with pytest.raises(LengthError, match="header says 30 bytes, frame carries 28") as caught:
        decode_frame(wire)
    assert caught.value.header is not None
    assert caught.value.header.msg_id == 0x0200


def test_truncated_field_names_the_field_and_keeps_the_header() -> None:
    with pytest.raises(TruncatedError, match=r"location: latitude needs 4 bytes at offset 8") as c:
        decode_frame(frame_2013(0x0200, bytes(10)))
    assert c.value.header is not None
    assert c.value.header.serial == 1


def test_truncated_additional_item() -> None:
    body = LOCATION_BODY + bytes([0x01, 0x04, 0x00, 0x00])
    with pytest.raises(TruncatedError, match=r"item 1 \(0x01\) value needs 4 bytes"):
        decode_frame(frame_2013(0x0200, body))


def test_bad_bcd_time_is_a_field_error() -> None:
    body = bytes(22) + bytes([0x24, 0x13, 0x01, 0x08, 0x30, 0x00])
    with pytest.raises(FieldError, match="241301083000 is not a valid YYMMDDhhmmss"):
        decode_frame(frame_2013(0x0200, body))


def test_non_digit_bcd_is_a_field_error() -> None:
    body = bytes(22) + bytes([0x24, 0x05, 0x01, 0x08, 0x3A, 0x00])
    with pytest.raises(FieldError, match="BCD must hold only digits 0-9, got 240501083A00"):
        decode_frame(frame_2013(0x0200, body))


def test_unknown_result_is_a_field_error() -> None:
    with pytest.raises(FieldError, match="result must be one of 0, 1, 2, 3, 4, got 9"):
        decode_frame(frame_2013(0x8001, bytes([0, 1, 0x02, 0x00, 9])))


def test_non_empty_heartbeat_is_a_length_error() -> None:
    with pytest.raises(LengthError, match="heartbeat body must be empty, got 2 bytes"):
        decode_frame(frame_2013(0x0002, b"\x01\x02"))


def test_trailing_bytes_after_a_reply_are_a_length_error() -> None:
    with pytest.raises(LengthError, match="expected the body to end at offset 5, but 1 more"):
        decode_frame(frame_2013(0x0001, bytes([0, 1, 0x80, 0x01, 0, 0xAA])))


def test_batch_count_mismatch_is_a_length_error() -> None:
    item = len(LOCATION_BODY).to_bytes(2, "big") + LOCATION_BODY
    body = b"\x00\x03\x01" + item + item
    with pytest.raises(LengthError, match="count says 3 items, body holds 2"):
        decode_frame(frame_2013(0x0704, body))
    body = b"\x00\x01\x01" + item + item
    with pytest.raises(LengthError, match="count says 1 items, but 30 bytes follow"):
        decode_frame(frame_2013(0x0704, body))


def test_bad_gbk_is_a_field_error() -> None:
    with pytest.raises(FieldError, match="text: not valid GBK"):
        decode_frame(frame_2013(0x8300, b"\x01\xff\xff"))


def test_unknown_message_keeps_header_and_body_for_a_result_3_reply() -> None:
    wire = frame_2013(0x0900, b"\x01\x02\x03")
    with pytest.raises(UnknownMessageError, match="unsupported message id 0x0900") as caught:
        decode_frame(wire)
    error = caught.value
    assert isinstance(error, UnsupportedError)
    assert error.header is not None
    assert error.body == b"\x01\x02\x03"
    reply = decode_frame(
        encode_general_reply(error.header, serial=7, result=GeneralResult.UNSUPPORTED)
    )
    assert reply.body == bytes([0x00, 0x01, 0x09, 0x00, 0x03])


def test_encrypted_body_is_unsupported() -> None:
    wire = frame_2013(0x0002, b"", declared_length=1 << 10)
    with pytest.raises(UnsupportedError, match=r"encrypted body \(encryption bits 001\)"):
        decode_frame(wire)


def test_bad_sub_packet_index_is_a_field_error() -> None:
    # Attributes 0x2000 (sub-packet), total 2, index 3.
    content = b"\x02\x00\x20\x00" + PHONE_BCD + b"\x00\x01" + b"\x00\x02\x00\x03"
    wire = content + bytes([functools.reduce(operator.xor, content, 0)])
    with pytest.raises(FieldError, match=r"packet index must be 1..total \(2\), got 3"):
        decode_frame(wire)


def test_flag_inside_a_frame_is_a_framing_error() -> None:
    with pytest.raises(FramingError, match="0x7E flag inside a frame at offset 2"):
        decode_frame(b"\x00\x02\x7e\x00")


def test_splitter_reports_bytes_before_the_first_flag() -> None:
    wire = encode_frame(Heartbeat(), phone="1", serial=1)
    results = FrameDecoder().feed(b"\x01\x02\x03" + wire)
    assert isinstance(results[0], FramingError)
    assert str(results[0]) == "discarded 3 bytes before the first 0x7E flag"
    assert isinstance(results[1], Frame)


def test_splitter_discards_an_overlong_run_once_and_recovers() -> None:
    splitter = FrameSplitter(max_frame_size=20)
    out = splitter.feed(b"\x7e" + bytes(15))
    assert out == []
    out = splitter.feed(bytes(15))
    assert len(out) == 1
    assert isinstance(out[0], FrameTooLongError)
    assert "no closing 0x7E within 20 bytes" in str(out[0])
    assert splitter.feed(bytes(1000)) == []  # still discarding, no repeated error
    assert splitter.feed(b"\x7e\x01\x02\x7e") == [b"\x01\x02"]


def test_one_bad_frame_does_not_stop_the_stream() -> None:
    good = encode_frame(Heartbeat(), phone="13912345678", serial=1)
    bad = bytearray(good)
    bad[-2] ^= 0x01
    results = FrameDecoder().feed(good + bytes(bad) + good)
    assert [type(result) for result in results] == [Frame, ChecksumError, Frame]


def test_errors_are_one_hierarchy() -> None:
    for error in (
        ChecksumError,
        EscapeError,
        FieldError,
        FramingError,
        LengthError,
        TruncatedError,
        UnknownMessageError,
        EncodeError,
    ):
        assert issubclass(error, JT808Error)
    assert issubclass(EncodeError, ValueError)


UTC_2024 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("location", "match"),
    [
        (
            Location.from_degrees(lat=1, lon=1, time=dt.datetime(2024, 1, 1)),  # noqa: DTZ001 - refused on purpose
            "time must be an aware datetime",
        ),
        (
            Location.from_degrees(lat=1, lon=1, time=dt.datetime(1999, 1, 1, tzinfo=dt.UTC)),
            "year 1999 is outside 2000-2099",
        ),
        (
            Location.from_degrees(lat=1, lon=1, time=UTC_2024, altitude_m=70_000),
            "altitude must be 0..65535, got 70000",
        ),
        (
            Location.from_degrees(lat=1, lon=1, time=UTC_2024, items=(MileageItem(-1),)),
            "mileage must be 0..4294967295, got -1",
        ),
    ],
)
def test_encode_errors_name_the_field(location: Location, match: str) -> None:
    with pytest.raises(EncodeError, match=match):
        location.encode()


def test_encode_refuses_a_too_long_phone_and_non_gbk_text() -> None:
    with pytest.raises(EncodeError, match="phone holds at most 12 digits, got 13"):
        encode_frame(Heartbeat(), phone="1234567890123", serial=1)
    with pytest.raises(EncodeError, match="phone must be decimal digits"):
        encode_frame(Heartbeat(), phone="13912A", serial=1)
    with pytest.raises(EncodeError, match="has no GBK encoding"):
        encode_frame(
            RegisterReply(reply_serial=1, result=RegisterResult.SUCCESS, auth_code="🚒"),
            phone="1",
            serial=1,
            version=ProtocolVersion.V2019,
        )


def test_register_reply_refuses_an_auth_code_on_failure() -> None:
    with pytest.raises(EncodeError, match="only sent with result 0"):
        RegisterReply(reply_serial=1, result=RegisterResult.NO_SUCH_VEHICLE, auth_code="X")
