"""Property tests: every message round-trips, the stream splits anywhere, nothing but
JT808Error ever escapes the decoder."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.jt808 import (
    MESSAGE_TYPES,
    AlarmEventIdItem,
    AnalogItem,
    AreaRouteItem,
    Authentication,
    BatchKind,
    Frame,
    FrameDecoder,
    FuelItem,
    GeneralResult,
    Header,
    Heartbeat,
    IoStatusItem,
    JT808Error,
    Location,
    LocationBatch,
    LocationItem,
    Logout,
    Message,
    MileageItem,
    OverspeedItem,
    PlatformGeneralReply,
    ProtocolVersion,
    RawItem,
    RecorderSpeedItem,
    Register,
    RegisterReply,
    RegisterResult,
    RoadSectionTimeItem,
    SatelliteCountItem,
    SignalStrengthItem,
    SubPacket,
    TerminalGeneralReply,
    TextMessage,
    VehicleSignalsItem,
    alarm_names,
    decode_frame,
    encode_frame,
    encode_general_reply,
    encode_raw_frame,
    escape,
    frame_positions,
    status_names,
    unescape,
    xor_checksum,
)
from devices.jt808.messages import (
    PARAMETER_TYPES,
    CallBackOrder,
    Parameter,
    ParametersAnswer,
    ParameterType,
    PositionAnswer,
    PositionQuery,
    QueryAllParameters,
    QueryParameters,
    SetParameters,
    TemporaryTracking,
    VehicleControlAnswer,
    VehicleControlOrder,
    decode_item,
)

FAST = settings(max_examples=60, deadline=None)
FUZZ = settings(max_examples=300, deadline=None)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)
versions = st.sampled_from(ProtocolVersion)


def gbk_text(max_chars: int) -> st.SearchStrategy[str]:
    """Text GBK can encode, at most 2 bytes a character; NUL excluded (it is padding)."""
    return st.text(st.characters(codec="gbk", exclude_characters="\x00"), max_size=max_chars)


times = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=dt.datetime(2099, 12, 31, 15, 59, 59),  # noqa: DTZ001 - hypothesis bounds are naive
    timezones=st.just(dt.UTC),
).map(lambda when: when.replace(microsecond=0))

_KNOWN_ITEM_IDS = {0x01, 0x02, 0x03, 0x04, 0x11, 0x12, 0x13, 0x25, 0x2A, 0x2B, 0x30, 0x31}

items: st.SearchStrategy[LocationItem] = st.one_of(
    st.builds(MileageItem, u32),
    st.builds(FuelItem, u16),
    st.builds(RecorderSpeedItem, u16),
    st.builds(AlarmEventIdItem, u16),
    st.just(OverspeedItem(position_type=0)),
    st.builds(OverspeedItem, position_type=st.integers(1, 0xFF), area_id=u32),
    st.builds(AreaRouteItem, position_type=u8, area_id=u32, direction=u8),
    st.builds(RoadSectionTimeItem, section_id=u32, driving_time_s=u16, result=u8),
    st.builds(VehicleSignalsItem, u32),
    st.builds(IoStatusItem, u16),
    st.builds(AnalogItem, u32),
    st.builds(SignalStrengthItem, u8),
    st.builds(SatelliteCountItem, u8),
    st.builds(
        RawItem,
        item_id=u8.filter(lambda item_id: item_id not in _KNOWN_ITEM_IDS),
        value=st.binary(max_size=16),
    ),
)

locations = st.builds(
    Location,
    alarm_flags=u32,
    status_flags=u32,
    latitude_e6=st.integers(0, 90_000_000),
    longitude_e6=st.integers(0, 180_000_000),
    altitude_m=u16,
    speed_tenths_kmh=u16,
    heading_deg=st.integers(0, 359),
    time=times,
    items=st.lists(items, max_size=6).map(tuple),
)


@st.composite
def known_parameters(draw: st.DrawFn) -> Parameter:
    identifier = draw(st.sampled_from(sorted(PARAMETER_TYPES)))
    kind = PARAMETER_TYPES[identifier]
    if kind is ParameterType.STRING:
        return Parameter(identifier, draw(gbk_text(100)))
    return Parameter(identifier, draw(st.integers(0, (1 << (8 * kind.value)) - 1)))


vendor_parameters = st.builds(
    lambda identifier, raw: Parameter(identifier, raw.hex(), raw=raw),
    u32.filter(lambda identifier: identifier not in PARAMETER_TYPES),
    st.binary(max_size=8),
)


@st.composite
def messages_with_version(draw: st.DrawFn) -> tuple[Message, ProtocolVersion]:
    version = draw(versions)
    wide = version == ProtocolVersion.V2019
    message: Message = draw(
        st.one_of(
            st.builds(
                TerminalGeneralReply,
                reply_serial=u16,
                reply_msg_id=u16,
                result=st.sampled_from(GeneralResult),
            ),
            st.builds(
                PlatformGeneralReply,
                reply_serial=u16,
                reply_msg_id=u16,
                result=st.sampled_from(GeneralResult),
            ),
            st.just(Heartbeat()),
            st.just(Logout()),
            st.builds(
                Register,
                province=u16,
                city=u16,
                maker=gbk_text(5 if wide else 2),
                model=gbk_text(15 if wide else 10),
                terminal_id=gbk_text(15 if wide else 3),
                plate_color=u8,
                plate=gbk_text(10),
            ),
            st.builds(
                RegisterReply,
                reply_serial=u16,
                result=st.sampled_from(RegisterResult).filter(
                    lambda result: result != RegisterResult.SUCCESS
                ),
            ),
            st.builds(
                RegisterReply,
                reply_serial=u16,
                result=st.just(RegisterResult.SUCCESS),
                auth_code=gbk_text(30),
            ),
            st.builds(
                Authentication,
                auth_code=gbk_text(60),
                imei=gbk_text(7) if wide else st.just(""),
                software_version=gbk_text(10) if wide else st.just(""),
            ),
            locations,
            st.builds(
                LocationBatch,
                kind=st.sampled_from(BatchKind),
                locations=st.lists(locations, max_size=4).map(tuple),
            ),
            st.builds(
                TextMessage,
                flags=u8,
                text=gbk_text(200),
                text_type=u8 if wide else st.just(1),
            ),
            st.just(PositionQuery()),
            st.just(QueryAllParameters()),
            st.builds(TemporaryTracking, interval_s=u16, validity_s=u32),
            st.builds(
                CallBackOrder,
                phone=gbk_text(10).filter(bool),
                listen=st.booleans(),
            ),
            st.builds(VehicleControlOrder, lock=st.booleans()),
            st.builds(
                SetParameters, parameters=st.lists(known_parameters(), max_size=8).map(tuple)
            ),
            st.builds(QueryParameters, ids=st.lists(u32, max_size=20).map(tuple)),
            st.builds(PositionAnswer, reply_serial=u16, location=locations),
            st.builds(VehicleControlAnswer, reply_serial=u16, location=locations),
            st.builds(
                ParametersAnswer,
                reply_serial=u16,
                parameters=st.lists(
                    st.one_of(known_parameters(), vendor_parameters), max_size=8
                ).map(tuple),
            ),
        )
    )
    return message, version


@FAST
@given(
    case=messages_with_version(),
    phone=st.text("0123456789", min_size=1, max_size=12),
    serial=u16,
)
def test_every_message_round_trips(
    case: tuple[Message, ProtocolVersion], phone: str, serial: int
) -> None:
    message, version = case
    frame = decode_frame(encode_frame(message, phone=phone, serial=serial, version=version))
    assert frame.message == message
    assert frame.header.msg_id == message.MSG_ID
    assert frame.header.version == version
    assert frame.header.serial == serial
    width = 20 if version == ProtocolVersion.V2019 else 12
    assert frame.header.phone == phone.rjust(width, "0")


def test_every_message_type_is_covered_by_the_round_trip() -> None:
    covered = {
        TerminalGeneralReply,
        PlatformGeneralReply,
        Heartbeat,
        Logout,
        Register,
        RegisterReply,
        Authentication,
        Location,
        LocationBatch,
        TextMessage,
        PositionQuery,
        QueryAllParameters,
        TemporaryTracking,
        CallBackOrder,
        VehicleControlOrder,
        SetParameters,
        QueryParameters,
        PositionAnswer,
        VehicleControlAnswer,
        ParametersAnswer,
    }
    assert set(MESSAGE_TYPES.values()) == covered


@FAST
@given(
    msg_id=u16,
    phone=st.text("0123456789", min_size=1, max_size=20),
    serial=u16,
    total=st.integers(1, 0xFFFF),
    data=st.data(),
    body=st.binary(max_size=64),
)
def test_sub_packet_fragments_round_trip_raw(
    *, msg_id: int, phone: str, serial: int, total: int, data: st.DataObject, body: bytes
) -> None:
    index = data.draw(st.integers(1, total))
    header = Header(
        msg_id=msg_id,
        phone=phone.rjust(20, "0"),
        serial=serial,
        version=ProtocolVersion.V2019,
        sub_packet=SubPacket(total=total, index=index),
    )
    frame = decode_frame(encode_raw_frame(header, body))
    assert frame.header == header
    assert frame.message is None
    assert frame.body == body


@FAST
@given(st.binary(max_size=300))
def test_escape_round_trips_and_leaves_no_flag(data: bytes) -> None:
    escaped = escape(data)
    assert 0x7E not in escaped
    assert unescape(escaped) == data


@FAST
@given(item_id=st.sampled_from(sorted(_KNOWN_ITEM_IDS)), value=st.binary(min_size=8, max_size=9))
def test_known_item_with_a_wrong_length_is_kept_raw(item_id: int, value: bytes) -> None:
    # No known item is 8 or 9 bytes long, so these must stay raw rather than fail.
    assert decode_item(item_id, value) == RawItem(item_id=item_id, value=value)


@FAST
@given(location=locations, backfill=st.booleans())
def test_positions_take_their_sign_from_the_status_bits(location: Location, backfill: bool) -> None:
    batch = LocationBatch(
        kind=BatchKind.BACKFILL if backfill else BatchKind.NORMAL, locations=(location,)
    )
    frame = decode_frame(encode_frame(batch, phone="13912345678", serial=1))
    [position] = frame_positions(frame)
    south = bool(location.status_flags & 0b100)
    west = bool(location.status_flags & 0b1000)
    assert (position.lat < 0) == (south and location.latitude_e6 > 0)
    assert (position.lon < 0) == (west and location.longitude_e6 > 0)
    assert abs(position.lat) == location.latitude_e6 / 1_000_000
    assert position.backfill is backfill
    assert position.at == location.time


@FAST
@given(
    batch=st.lists(locations, min_size=1, max_size=5),
    share_flags=st.booleans(),
    cuts=st.lists(st.integers(0, 2000), max_size=12),
)
def test_stream_splits_at_any_chunk_boundary(
    batch: list[Location], share_flags: bool, cuts: list[int]
) -> None:
    wires = [encode_frame(loc, phone="13912345678", serial=n) for n, loc in enumerate(batch)]
    stream = b"".join(wire[1:] if share_flags and n else wire for n, wire in enumerate(wires))
    bounds = sorted({cut % (len(stream) + 1) for cut in cuts} | {0, len(stream)})
    decoder = FrameDecoder()
    results: list[Frame | JT808Error] = []
    for start, end in itertools.pairwise(bounds):
        results.extend(decoder.feed(stream[start:end]))
    assert all(isinstance(result, Frame) for result in results)
    assert [result.message for result in results if isinstance(result, Frame)] == batch
    assert [result.header.serial for result in results if isinstance(result, Frame)] == list(
        range(len(batch))
    )


@FUZZ
@given(st.lists(st.binary(max_size=200), max_size=8))
def test_arbitrary_bytes_yield_only_frames_or_jt808_errors(chunks: list[bytes]) -> None:
    decoder = FrameDecoder(max_frame_size=256)
    for chunk in chunks:
        for result in decoder.feed(chunk):
            assert isinstance(result, Frame | JT808Error)
            assert str(result)


@FUZZ
@given(
    msg_id=st.sampled_from(sorted(MESSAGE_TYPES)),
    version=versions,
    body=st.binary(max_size=120),
)
def test_random_bodies_in_valid_frames_raise_only_jt808_errors(
    msg_id: int, version: ProtocolVersion, body: bytes
) -> None:
    wire = encode_raw_frame(
        Header(msg_id=msg_id, phone="13912345678", serial=1, version=version), body
    )
    outcome: Frame | JT808Error
    try:
        outcome = decode_frame(wire)
    except JT808Error as error:
        outcome = error
    # The header was valid, so even a failure carries it and the gateway can answer.
    assert outcome.header is not None
    assert outcome.header.msg_id == msg_id


@FAST
@given(case=messages_with_version(), flips=st.lists(st.tuples(u16, u8), min_size=1, max_size=4))
def test_corrupted_frames_raise_only_jt808_errors(
    case: tuple[Message, ProtocolVersion], flips: list[tuple[int, int]]
) -> None:
    message, version = case
    wire = bytearray(encode_frame(message, phone="13912345678", serial=7, version=version))
    for position, value in flips:
        wire[position % len(wire)] = value
    for result in FrameDecoder().feed(bytes(wire)):
        assert isinstance(result, Frame | JT808Error)


# ------------------------------------------------------------------ fast paths
# The hot paths (checksum fold, struct header, 0x8001 template, cached names) must agree
# with the field-by-field definitions they short-cut.


@given(st.binary(max_size=1100))
def test_checksum_fold_is_the_xor_of_every_byte(data: bytes) -> None:
    expected = 0
    for byte in data:
        expected ^= byte
    assert xor_checksum(data) == expected


@FAST
@given(
    version=versions,
    phone=st.text("0123456789", min_size=1, max_size=12),
    serial=u16,
    reply_serial=u16,
    msg_id=u16,
    result=st.sampled_from(GeneralResult),
    protocol_version_number=u8,
)
def test_general_reply_template_equals_the_generic_encoder(
    version: ProtocolVersion,
    phone: str,
    serial: int,
    reply_serial: int,
    msg_id: int,
    result: GeneralResult,
    protocol_version_number: int,
) -> None:
    width = 20 if version is ProtocolVersion.V2019 else 12
    header = Header(
        msg_id=msg_id,
        phone=phone.rjust(width, "0"),
        serial=reply_serial,
        version=version,
        protocol_version_number=protocol_version_number,
    )
    generic = encode_frame(
        PlatformGeneralReply(reply_serial=reply_serial, reply_msg_id=msg_id, result=result),
        phone=header.phone,
        serial=serial,
        version=version,
        protocol_version_number=protocol_version_number,
    )
    reply = encode_general_reply(header, serial=serial, result=result)
    assert reply == generic
    decoded = decode_frame(reply)
    assert decoded.header.phone == header.phone
    assert decoded.message == PlatformGeneralReply(
        reply_serial=reply_serial, reply_msg_id=msg_id, result=result
    )


@FAST
@given(location=locations, version=versions)
def test_names_are_the_same_on_every_call(location: Location, version: ProtocolVersion) -> None:
    # Cached name sets are shared between positions: they must be immutable and stable.
    first = alarm_names(location.alarm_flags, version)
    assert isinstance(first, frozenset)
    assert alarm_names(location.alarm_flags, version) is first
    assert status_names(location.status_flags, version) == status_names(
        location.status_flags, version
    )
