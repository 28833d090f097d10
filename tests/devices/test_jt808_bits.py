"""Alarm and status bit names follow the standard's tables, per edition."""

from __future__ import annotations

from devices.jt808 import (
    ALARM_BITS_2013,
    CLEARED_ON_REPLY_BITS,
    ProtocolVersion,
    alarm_names,
    cleared_on_reply_names,
    status_names,
)


def test_alarm_bits_by_position() -> None:
    flags = 1 << 0 | 1 << 1 | 1 << 2 | 1 << 29 | 1 << 30 | 1 << 31
    assert alarm_names(flags) == {
        "emergency",
        "overspeed",
        "fatigue_driving",
        "collision_warning",
        "rollover_warning",
        "illegal_door_open",
    }


def test_all_32_alarm_bits_2013_have_distinct_names() -> None:
    names = alarm_names(0xFFFF_FFFF, ProtocolVersion.V2013)
    assert len(names) == 32
    assert {"reserved_bit_15", "reserved_bit_16", "reserved_bit_17"} <= names
    assert len(ALARM_BITS_2013) == 29


def test_2019_redefines_bits_15_to_17_and_29_to_31() -> None:
    flags = 1 << 15 | 1 << 16 | 1 << 17 | 1 << 29 | 1 << 30 | 1 << 31
    assert alarm_names(flags, ProtocolVersion.V2019) == {
        "driving_violation",
        "tire_pressure_warning",
        "right_turn_blind_spot",
        "collision_rollover",
        "reserved_bit_30",
        "reserved_bit_31",
    }
    assert alarm_names(flags, ProtocolVersion.V2013) == {
        "reserved_bit_15",
        "reserved_bit_16",
        "reserved_bit_17",
        "collision_warning",
        "rollover_warning",
        "illegal_door_open",
    }


def test_no_bits_no_names() -> None:
    assert alarm_names(0) == frozenset()
    assert status_names(0) == frozenset()


def test_cleared_on_reply_alarms() -> None:
    assert frozenset({0, 3, 20, 21, 22, 27, 28, 31}) == CLEARED_ON_REPLY_BITS
    assert cleared_on_reply_names() == {
        "emergency",
        "danger_warning",
        "area_in_out",
        "route_in_out",
        "road_section_time_abnormal",
        "illegal_ignition",
        "illegal_displacement",
        "illegal_door_open",
    }
    # Bit 31 is reserved in 2019, so it has no name to clear.
    assert "illegal_door_open" not in cleared_on_reply_names(ProtocolVersion.V2019)
    # Overspeed lasts while the condition lasts: it is not cleared by a reply.
    assert "overspeed" not in cleared_on_reply_names()


def test_status_bits_and_load_state() -> None:
    flags = 0b1111 | 0b11 << 8 | 1 << 13 | 1 << 19
    assert status_names(flags) == {
        "acc_on",
        "positioned",
        "south_latitude",
        "west_longitude",
        "load_full",
        "door1_open",
        "beidou_used",
    }
    assert "load_half" in status_names(0b01 << 8)


def test_2019_adds_status_bits() -> None:
    flags = 1 << 6 | 1 << 7 | 1 << 22
    assert status_names(flags, ProtocolVersion.V2019) == {
        "forward_collision_warning",
        "lane_departure_warning",
        "driving",
    }
    assert status_names(flags, ProtocolVersion.V2013) == {
        "reserved_bit_6",
        "reserved_bit_7",
        "reserved_bit_22",
    }
