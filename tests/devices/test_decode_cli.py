"""``decode jt808`` / ``decode nmea``: JSON on stdout, exit 2 with a reason for bad input."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from typing import Any

import pytest

from devices import decode_cli
from devices.jt808 import (
    Authentication,
    BatchKind,
    Location,
    LocationBatch,
    MileageItem,
    ProtocolVersion,
    Register,
    TextMessage,
    encode_frame,
    encode_raw_frame,
)
from devices.jt808.framing import Header

BEIJING = dt.timezone(dt.timedelta(hours=8))
HEARTBEAT_HEX = "7E000200000139123456780001337E"
LOCATION_HEX = (
    "7E 02 00 00 22 01 39 12 34 56 78 00 02 00 00 00 01 00 00 00 02 01 DC 89 D0 07 3D 8A A5"
    " 00 00 02 5D 00 5A 24 05 01 08 30 00 01 04 00 00 30 39 91 7E"
)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dutydesk")
    decode_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    status = decode_cli.run(make_parser().parse_args(["decode", *argv]))
    captured = capsys.readouterr()
    return status, json.loads(captured.out) if captured.out else None, captured.err


def test_location_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "jt808", LOCATION_HEX)
    assert (status, err) == (0, "")
    assert out == {
        "msg_id": "0x0200",
        "msg_name": "location",
        "version": 2013,
        "phone": "013912345678",
        "device_id": "13912345678",
        "serial": 2,
        "alarm_flags": "0x00000001",
        "alarms": ["emergency"],
        "status_flags": "0x00000002",
        "status": ["positioned"],
        "lat": 31.230416,
        "lon": 121.473701,
        "altitude_m": 0,
        "speed_kmh": 60.5,
        "heading_deg": 90,
        "time": "2024-05-01T08:30:00+08:00",
        "mileage_km": 1234.5,
    }


def test_hex_may_be_split_over_arguments_and_lack_flags(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "jt808", "0002 0000", "013912345678", "0001 33")
    assert status == 0
    assert out["msg_name"] == "heartbeat"
    assert out["serial"] == 1


def test_batch_json(capsys: pytest.CaptureFixture[str]) -> None:
    when = dt.datetime(2024, 5, 1, 8, 30, tzinfo=BEIJING)
    batch = LocationBatch(
        kind=BatchKind.BACKFILL,
        locations=(
            Location.from_degrees(lat=-33.5, lon=151.25, time=when),
            Location.from_degrees(lat=1, lon=-2, time=when, items=(MileageItem(10),)),
        ),
    )
    status, out, _ = run(capsys, "jt808", encode_frame(batch, phone="1", serial=3).hex())
    assert status == 0
    assert (out["count"], out["kind"]) == (2, "backfill")
    assert [(item["lat"], item["lon"]) for item in out["items"]] == [(-33.5, 151.25), (1, -2)]
    assert out["items"][0]["status"] == ["positioned", "south_latitude"]
    assert out["items"][1]["mileage_km"] == 1.0


def test_register_and_auth_2019_json(capsys: pytest.CaptureFixture[str]) -> None:
    register = Register(
        province=44, city=768, maker="M1", model="X", terminal_id="T1", plate_color=1, plate="粤B1"
    )
    wire = encode_frame(register, phone="13912345678", serial=1, version=ProtocolVersion.V2019)
    status, out, _ = run(capsys, "jt808", wire.hex())
    assert status == 0
    assert out["version"] == 2019
    assert out["phone"] == "00000000013912345678"
    assert {key: out[key] for key in ("province", "city", "maker", "plate")} == {
        "province": 44,
        "city": 768,
        "maker": "M1",
        "plate": "粤B1",
    }
    auth = Authentication(auth_code="AB", imei="860000000000001", software_version="1.0")
    wire = encode_frame(auth, phone="1", serial=2, version=ProtocolVersion.V2019)
    status, out, _ = run(capsys, "jt808", wire.hex())
    assert (out["auth_code"], out["imei"], out["software_version"]) == (
        "AB",
        "860000000000001",
        "1.0",
    )


def test_text_json(capsys: pytest.CaptureFixture[str]) -> None:
    wire = encode_frame(TextMessage(flags=0b1001, text="前方拥堵"), phone="1", serial=1)
    _, out, _ = run(capsys, "jt808", wire.hex())
    assert (out["flags"], out["flag_names"], out["text"]) == (9, ["emergency", "tts"], "前方拥堵")


def test_unknown_message_shows_the_header_and_raw_body(
    capsys: pytest.CaptureFixture[str],
) -> None:
    wire = encode_raw_frame(Header(msg_id=0x0900, phone="1", serial=4), b"\xab\xcd")
    status, out, err = run(capsys, "jt808", wire.hex())
    assert status == 0
    assert (out["msg_id"], out["msg_name"], out["body_hex"]) == ("0x0900", "unsupported", "abcd")
    assert "unsupported message id 0x0900" in err


@pytest.mark.parametrize(
    ("hex_input", "reason"),
    [
        ("7E000200000139123456780001347E", "checksum mismatch: frame says 0x34"),
        ("7E00027D03", "bad escape"),
        ("7E0G7E", "not hexadecimal: 'G'"),
        ("7E000", "odd number of hex digits"),
        ("7E", "no JT/T 808 frame in the input"),
    ],
)
def test_bad_frames_exit_2_with_the_reason(
    capsys: pytest.CaptureFixture[str], hex_input: str, reason: str
) -> None:
    status, out, err = run(capsys, "jt808", hex_input)
    assert status == 2
    assert out is None
    assert reason in err


def test_nmea_json(capsys: pytest.CaptureFixture[str]) -> None:
    line = "$GPRMC,123519.00,A,4807.038,N,01131.000,E,022.4,084.4,230324,,*34"
    status, out, _ = run(capsys, "nmea", line)
    assert status == 0
    assert out["sentence"] == "RMC"
    assert out["fix"] is True
    assert out["at"] == "2024-03-23T12:35:19+00:00"
    assert out["lat"] == pytest.approx(48.1173)


def test_nmea_without_checksum_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "nmea", "$GPRMC,123519.00,A,4807.038,N,01131.000,E,,,230324,,")
    assert (status, out) == (2, None)
    assert "checksum missing" in err


HARNESS = """
import argparse, sys
from devices import decode_cli
parser = argparse.ArgumentParser(prog="dutydesk")
decode_cli.add_parser(parser.add_subparsers(dest="command", required=True))
sys.exit(decode_cli.run(parser.parse_args(sys.argv[1:])))
"""


def test_subprocess_round_trip_and_help() -> None:
    done = subprocess.run(
        [sys.executable, "-c", HARNESS, "decode", "jt808", HEARTBEAT_HEX],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["msg_name"] == "heartbeat"
    bad = subprocess.run(
        [sys.executable, "-c", HARNESS, "decode", "jt808", HEARTBEAT_HEX[:-4] + "347E"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.startswith("error: checksum mismatch")
    helped = subprocess.run(
        [sys.executable, "-c", HARNESS, "decode", "nmea", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert helped.returncode == 0
    assert "examples:" in helped.stdout
    assert "checksum is required" in helped.stdout
