"""Names of the 0x0200 alarm and status bits, from the standard's tables (not a vendor's).

The 2019 edition redefined some alarm bits: 15-17 (reserved in 2013) became driving
violation, tyre-pressure warning and right-turn blind-spot alarm; 29 became the combined
collision/rollover alarm and 30-31 became reserved. Set bits without a meaning are named
``reserved_bit_<n>`` so no information is lost; they raise no alarm. ``ALARM_LABELS``
gives every named alarm bit its label for the duty officer.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from devices.jt808.framing import ProtocolVersion

_ALARMS_COMMON: dict[int, str] = {
    0: "emergency",
    1: "overspeed",
    2: "fatigue_driving",
    3: "danger_warning",
    4: "gnss_module_fault",
    5: "gnss_antenna_open",
    6: "gnss_antenna_short",
    7: "main_power_undervoltage",
    8: "main_power_lost",
    9: "lcd_fault",
    10: "tts_fault",
    11: "camera_fault",
    12: "ic_card_module_fault",
    13: "overspeed_prewarning",
    14: "fatigue_prewarning",
    18: "daily_driving_overtime",
    19: "parking_overtime",
    20: "area_in_out",
    21: "route_in_out",
    22: "road_section_time_abnormal",
    23: "route_deviation",
    24: "vss_fault",
    25: "fuel_abnormal",
    26: "vehicle_stolen",
    27: "illegal_ignition",
    28: "illegal_displacement",
}

ALARM_BITS_2013: dict[int, str] = {
    **_ALARMS_COMMON,
    29: "collision_warning",
    30: "rollover_warning",
    31: "illegal_door_open",
}
"""Alarm bit index -> name, JT/T 808-2013 table (bits 15-17 reserved)."""

ALARM_BITS_2019: dict[int, str] = {
    **_ALARMS_COMMON,
    15: "driving_violation",
    16: "tire_pressure_warning",
    17: "right_turn_blind_spot",
    29: "collision_rollover",
}
"""Alarm bit index -> name, JT/T 808-2019 table (bits 30-31 reserved)."""

ALARM_LABELS: dict[str, str] = {
    "emergency": "紧急报警",
    "overspeed": "超速报警",
    "fatigue_driving": "疲劳驾驶",
    "danger_warning": "危险预警",
    "gnss_module_fault": "GNSS 模块故障",
    "gnss_antenna_open": "GNSS 天线未接或被剪断",
    "gnss_antenna_short": "GNSS 天线短路",
    "main_power_undervoltage": "终端主电源欠压",
    "main_power_lost": "终端主电源掉电",
    "lcd_fault": "终端 LCD 故障",
    "tts_fault": "TTS 模块故障",
    "camera_fault": "摄像头故障",
    "ic_card_module_fault": "IC 卡模块故障",
    "overspeed_prewarning": "超速预警",
    "fatigue_prewarning": "疲劳驾驶预警",
    "driving_violation": "违规行驶报警",
    "tire_pressure_warning": "胎压预警",
    "right_turn_blind_spot": "右转盲区异常报警",
    "daily_driving_overtime": "当天累计驾驶超时",
    "parking_overtime": "超时停车",
    "area_in_out": "进出区域",
    "route_in_out": "进出路线",
    "road_section_time_abnormal": "路段行驶时间不足/过长",
    "route_deviation": "路线偏离",
    "vss_fault": "车辆 VSS 故障",
    "fuel_abnormal": "车辆油量异常",
    "vehicle_stolen": "车辆被盗",
    "illegal_ignition": "车辆非法点火",
    "illegal_displacement": "车辆非法位移",
    "collision_warning": "碰撞预警",
    "rollover_warning": "侧翻预警",
    "collision_rollover": "碰撞侧翻报警",
    "illegal_door_open": "非法开门",
}
"""The duty officer's (Chinese) label of every alarm bit name of either table."""

RESERVED_PREFIX = "reserved_bit_"
"""Names of set bits the table of their edition leaves reserved start with this."""

CLEARED_ON_REPLY_BITS: frozenset[int] = frozenset({0, 3, 20, 21, 22, 27, 28, 31})
"""Alarm bits the terminal clears once the platform has replied ("收到应答后清零").

Every other alarm bit stays set while its condition lasts, so a bit that stays set across
reports is one alarm, not many.
"""

STATUS_BITS_2013: dict[int, str] = {
    0: "acc_on",
    1: "positioned",
    2: "south_latitude",
    3: "west_longitude",
    4: "out_of_service",
    5: "coordinates_encrypted",
    10: "fuel_line_cut",
    11: "circuit_cut",
    12: "doors_locked",
    13: "door1_open",
    14: "door2_open",
    15: "door3_open",
    16: "door4_open",
    17: "door5_open",
    18: "gps_used",
    19: "beidou_used",
    20: "glonass_used",
    21: "galileo_used",
}
"""Status bit index -> name, JT/T 808-2013 (bits 8-9 are the load state, see below)."""

STATUS_BITS_2019: dict[int, str] = {
    **STATUS_BITS_2013,
    6: "forward_collision_warning",
    7: "lane_departure_warning",
    22: "driving",
}
"""Status bit index -> name, JT/T 808-2019 (adds bits 6, 7 and 22)."""

STATUS_SOUTH_BIT = 1 << 2
STATUS_WEST_BIT = 1 << 3
STATUS_POSITIONED_BIT = 1 << 1
STATUS_DOORS_LOCKED_BIT = 1 << 12
"""Status bit 12: the doors are locked (what a 0x8500 door control changes)."""
_LOAD_SHIFT = 8
_LOAD_NAMES = {0b01: "load_half", 0b10: "load_reserved", 0b11: "load_full"}


def alarm_table(version: ProtocolVersion) -> dict[int, str]:
    """The alarm bit table of ``version``."""
    return ALARM_BITS_2019 if version == ProtocolVersion.V2019 else ALARM_BITS_2013


def _mask(bits: Iterable[int]) -> int:
    return sum(1 << bit for bit in bits)


_RESERVED_MASKS = {
    ProtocolVersion.V2013: ~_mask(ALARM_BITS_2013) & 0xFFFFFFFF,
    ProtocolVersion.V2019: ~_mask(ALARM_BITS_2019) & 0xFFFFFFFF,
}


def reserved_alarm_mask(version: ProtocolVersion) -> int:
    """The alarm bits the table of ``version`` leaves reserved: they mean nothing, so
    they raise no alarm (the gateway logs and counts them)."""
    return _RESERVED_MASKS[version]


@functools.lru_cache(maxsize=1024)
def alarm_names(flags: int, version: ProtocolVersion = ProtocolVersion.V2013) -> frozenset[str]:
    """Names of the alarm bits set in the DWORD ``flags``."""
    table = alarm_table(version)
    return frozenset(table.get(bit, f"reserved_bit_{bit}") for bit in range(32) if flags >> bit & 1)


def alarm_flags_of(names: Iterable[str], version: ProtocolVersion = ProtocolVersion.V2013) -> int:
    """The DWORD of alarm bits named ``names`` (the inverse of :func:`alarm_names`; names
    the edition does not know are left out)."""
    wanted = set(names)
    flags = 0
    for bit in range(32):
        if alarm_table(version).get(bit, f"{RESERVED_PREFIX}{bit}") in wanted:
            flags |= 1 << bit
    return flags


def cleared_on_reply_names(version: ProtocolVersion = ProtocolVersion.V2013) -> frozenset[str]:
    """Names of the alarms the terminal clears once the platform replies (per ``version``)."""
    table = alarm_table(version)
    return frozenset(table[bit] for bit in CLEARED_ON_REPLY_BITS if bit in table)


@functools.lru_cache(maxsize=1024)
def status_names(flags: int, version: ProtocolVersion = ProtocolVersion.V2013) -> frozenset[str]:
    """Names of the status bits set in the DWORD ``flags``.

    Bits 8-9 form the load state (00 empty, 01 half, 11 full); empty adds no name.
    """
    table = STATUS_BITS_2019 if version == ProtocolVersion.V2019 else STATUS_BITS_2013
    names = {
        table.get(bit, f"reserved_bit_{bit}")
        for bit in range(32)
        if flags >> bit & 1 and bit not in (8, 9)
    }
    load = flags >> _LOAD_SHIFT & 0b11
    if load:
        names.add(_LOAD_NAMES[load])
    return frozenset(names)
