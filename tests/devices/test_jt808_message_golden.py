"""Golden bodies: one instance of every JT/T 808 message class (and every location item),
encoded in each protocol edition, compared byte for byte with ``jt808_message_golden.txt``.

The golden file was written from the codec before the messages module became a package, so
any later drift in the encoding shows up here. Regenerate it only for a deliberate wire
change: ``python -m tests.devices.test_jt808_message_golden``.
"""

from __future__ import annotations

import datetime as dt
import typing
from pathlib import Path

import pytest

from devices.jt808 import (
    MESSAGE_TYPES,
    AlarmEventIdItem,
    AnalogItem,
    AreaRouteItem,
    Authentication,
    BatchKind,
    FuelItem,
    GeneralResult,
    Heartbeat,
    IoStatusItem,
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
    TerminalGeneralReply,
    TextFlag,
    TextMessage,
    VehicleSignalsItem,
)
from devices.jt808.messages import (
    CallBackOrder,
    Parameter,
    ParametersAnswer,
    PositionAnswer,
    PositionQuery,
    QueryAllParameters,
    QueryParameters,
    SetParameters,
    TemporaryTracking,
    VehicleControlAnswer,
    VehicleControlOrder,
)

GOLDEN_PATH = Path(__file__).with_name("jt808_message_golden.txt")

_TIME = dt.datetime(2024, 5, 1, 0, 30, 0, tzinfo=dt.UTC)

_ALL_ITEMS: tuple[LocationItem, ...] = (
    MileageItem(tenths_km=12345),
    FuelItem(tenths_l=456),
    RecorderSpeedItem(tenths_kmh=605),
    AlarmEventIdItem(event_id=7),
    OverspeedItem(position_type=0),
    OverspeedItem(position_type=2, area_id=0x01020304),
    AreaRouteItem(position_type=1, area_id=99, direction=1),
    RoadSectionTimeItem(section_id=4242, driving_time_s=600, result=0),
    VehicleSignalsItem(flags=0x0000_0401),
    IoStatusItem(flags=0x0003),
    AnalogItem(raw=0x0123_0456),
    SignalStrengthItem(strength=31),
    SatelliteCountItem(count=12),
    RawItem(item_id=0xE1, value=b"\x01\x02\x03"),
    # A known id with the wrong length stays raw.
    RawItem(item_id=0x01, value=b"\x00\x01"),
)

_PLAIN_LOCATION = Location.from_degrees(
    lat=31.230416, lon=121.473701, time=_TIME, speed_kmh=60.5, heading_deg=90, altitude_m=12
)
_RICH_LOCATION = Location.from_degrees(
    lat=-33.8688,
    lon=-70.6693,
    time=_TIME,
    speed_kmh=0.0,
    heading_deg=359,
    altitude_m=520,
    alarm_flags=0x0000_0001,
    items=_ALL_ITEMS,
)

_BOTH = (ProtocolVersion.V2013, ProtocolVersion.V2019)

CASES: tuple[tuple[str, Message, tuple[ProtocolVersion, ...]], ...] = (
    (
        "terminal_general_reply",
        TerminalGeneralReply(
            reply_serial=0x1234, reply_msg_id=0x8300, result=GeneralResult.SUCCESS
        ),
        _BOTH,
    ),
    (
        "platform_general_reply",
        PlatformGeneralReply(
            reply_serial=0x007E, reply_msg_id=0x0200, result=GeneralResult.ALARM_CONFIRMED
        ),
        _BOTH,
    ),
    ("heartbeat", Heartbeat(), _BOTH),
    ("logout", Logout(), _BOTH),
    (
        "register",
        Register(
            province=31,
            city=115,
            maker="ACME",
            model="DD-808",
            terminal_id="T000042",
            plate_color=2,
            plate="沪A12345",
        ),
        _BOTH,
    ),
    (
        "register_reply_success",
        RegisterReply(reply_serial=1, result=RegisterResult.SUCCESS, auth_code="AUTH-0042"),
        _BOTH,
    ),
    (
        "register_reply_refused",
        RegisterReply(reply_serial=2, result=RegisterResult.NO_SUCH_TERMINAL),
        _BOTH,
    ),
    ("authentication_2013", Authentication(auth_code="AUTH-0042"), (ProtocolVersion.V2013,)),
    (
        "authentication_2019",
        Authentication(auth_code="AUTH-0042", imei="860000000000042", software_version="1.2.3"),
        (ProtocolVersion.V2019,),
    ),
    ("location_plain", _PLAIN_LOCATION, _BOTH),
    ("location_all_items", _RICH_LOCATION, _BOTH),
    (
        "location_batch",
        LocationBatch(kind=BatchKind.BACKFILL, locations=(_PLAIN_LOCATION, _RICH_LOCATION)),
        _BOTH,
    ),
    (
        "text_message",
        TextMessage(flags=TextFlag.EMERGENCY | TextFlag.TTS, text="请立即返回基地"),
        _BOTH,
    ),
    (
        "text_message_service",
        TextMessage(flags=TextFlag.TERMINAL_DISPLAY, text="Service notice", text_type=2),
        (ProtocolVersion.V2019,),
    ),
    ("position_query", PositionQuery(), _BOTH),
    ("temporary_tracking", TemporaryTracking(interval_s=10, validity_s=600), _BOTH),
    ("call_back", CallBackOrder(phone="13800138000"), _BOTH),
    ("call_back_listen", CallBackOrder(phone="+8613800138000", listen=True), _BOTH),
    ("vehicle_control_lock", VehicleControlOrder(lock=True), _BOTH),
    ("vehicle_control_unlock", VehicleControlOrder(lock=False), _BOTH),
    (
        "set_parameters",
        SetParameters(
            parameters=(
                Parameter(0x0001, 30),
                Parameter(0x0013, "gw.example.cn"),
                Parameter(0x0081, 31),
                Parameter(0x0083, "沪A12345"),
                Parameter(0x0084, 2),
            )
        ),
        _BOTH,
    ),
    ("query_all_parameters", QueryAllParameters(), _BOTH),
    ("query_parameters", QueryParameters(ids=(0x0001, 0x0029, 0x0055)), _BOTH),
    ("position_answer", PositionAnswer(reply_serial=7, location=_PLAIN_LOCATION), _BOTH),
    (
        "parameters_answer",
        ParametersAnswer(
            reply_serial=0x0102,
            parameters=(
                Parameter(0x0029, 30),
                Parameter(0x0055, 80),
                Parameter(0xF001, "0a0b", raw=b"\x0a\x0b"),
            ),
        ),
        _BOTH,
    ),
    (
        "vehicle_control_answer",
        VehicleControlAnswer(reply_serial=9, location=_PLAIN_LOCATION),
        _BOTH,
    ),
)


def golden_lines() -> list[str]:
    """``case version hex`` for every case and edition, as the golden file holds them
    (``-`` for an empty body, so no line ends in a space)."""
    return [
        f"{name} {version.name} {message.encode(version).hex() or '-'}"
        for name, message, versions in CASES
        for version in versions
    ]


def _read_golden() -> dict[tuple[str, str], bytes]:
    golden: dict[tuple[str, str], bytes] = {}
    for line in GOLDEN_PATH.read_text(encoding="ascii").splitlines():
        name, version, body = line.split(" ")
        golden[name, version] = b"" if body == "-" else bytes.fromhex(body)
    return golden


def test_every_message_class_and_item_has_a_case() -> None:
    classes = {type(message) for _, message, _ in CASES}
    assert classes == set(MESSAGE_TYPES.values())
    item_types = {type(item) for item in _ALL_ITEMS}
    assert item_types == set(typing.get_args(LocationItem))


def test_golden_file_holds_exactly_the_cases() -> None:
    assert GOLDEN_PATH.read_text(encoding="ascii").splitlines() == golden_lines()


@pytest.mark.parametrize(
    ("name", "message", "version"),
    [(name, message, version) for name, message, versions in CASES for version in versions],
)
def test_body_matches_golden_and_round_trips(
    name: str, message: Message, version: ProtocolVersion
) -> None:
    body = _read_golden()[name, version.name]
    assert message.encode(version) == body
    assert type(message).decode(body, version) == message


if __name__ == "__main__":
    GOLDEN_PATH.write_text("\n".join(golden_lines()) + "\n", encoding="ascii")
