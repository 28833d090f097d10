"""``dutydesk decode``: decode a JT/T 808 frame or an NMEA sentence to pretty JSON.

The ``dutydesk`` entry point (backend/cli.py) calls :func:`add_parser` to register the
subcommand and :func:`run` to execute it. Exit status: 0 decoded, 2 bad input (the reason
goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import string
import sys
from typing import Any

from devices.jt808 import (
    Authentication,
    Frame,
    FrameDecoder,
    JT808Error,
    Location,
    LocationBatch,
    Message,
    PlatformGeneralReply,
    Register,
    RegisterReply,
    TerminalGeneralReply,
    TextMessage,
    UnknownMessageError,
    alarm_names,
    status_names,
)
from devices.jt808.framing import Header, ProtocolVersion
from devices.jt808.wire import DEVICE_TIMEZONE
from devices.nmea import KNOT_KMH, GgaSentence, NmeaError, Sentence, parse_sentence

EXIT_OK = 0
EXIT_BAD_INPUT = 2

_JT808_EXAMPLES = """\
examples:
  heartbeat (2013):
    dutydesk decode jt808 7E000200000139123456780001337E
  location with an emergency alarm and mileage (spaces allowed, quote them):
    dutydesk decode jt808 "7E 02 00 00 22 01 39 12 34 56 78 00 02 00 00 00 01 00 00 00 02
      01 DC 89 D0 07 3D 8A A5 00 00 02 5D 00 5A 24 05 01 08 30 00 01 04 00 00 30 39 91 7E"

The 7E flags may be left out. Several frames in one input are decoded in order and
printed as a JSON array. Exit status 2 (reason on stderr) for a bad frame.
"""

_NMEA_EXAMPLES = """\
examples:
  dutydesk decode nmea '$GPRMC,123519.00,A,4807.038,N,01131.000,E,022.4,084.4,230324,,*34'
  dutydesk decode nmea '$GNGGA,123519.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*77'

The *hh checksum is required. Only GGA and RMC (talkers GP, GN, BD, GB, GL, GA) are
read. Exit status 2 (reason on stderr) for a bad or unsupported sentence.
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``decode jt808 HEX`` and ``decode nmea SENTENCE`` on ``subparsers``."""
    decode = subparsers.add_parser(
        "decode",
        help="decode a device message (JT/T 808 frame or NMEA sentence) to JSON",
        description="Decode one device message and print it as pretty JSON.",
    )
    formats = decode.add_subparsers(dest="decode_format", required=True, metavar="FORMAT")
    jt808 = formats.add_parser(
        "jt808",
        help="decode JT/T 808 (2013/2019) frames given as hex",
        description="Decode JT/T 808 frames (2013 or 2019) given as hexadecimal bytes.",
        epilog=_JT808_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    jt808.add_argument(
        "hex",
        nargs="+",
        metavar="HEX",
        help="frame bytes in hex (with or without 7E flags; spaces allowed)",
    )
    nmea = formats.add_parser(
        "nmea",
        help="decode one NMEA 0183 GGA or RMC sentence",
        description="Decode one NMEA 0183 GGA or RMC sentence (checksum required).",
        epilog=_NMEA_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    nmea.add_argument("sentence", metavar="SENTENCE", help="the sentence, e.g. '$GPRMC,...*hh'")


def run(args: argparse.Namespace) -> int:
    """Execute ``decode``; return the process exit status."""
    if args.decode_format == "jt808":
        return _run_jt808(" ".join(args.hex))
    return _run_nmea(args.sentence)


def _fail(reason: str) -> int:
    sys.stderr.write(f"error: {reason}\n")
    return EXIT_BAD_INPUT


def _emit(value: object) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _parse_hex(text: str) -> bytes:
    cleaned = "".join(text.split())
    if cleaned[:2].lower() == "0x":
        cleaned = cleaned[2:]
    bad = next((char for char in cleaned if char not in string.hexdigits), None)
    if bad is not None:
        raise ValueError(f"not hexadecimal: {bad!r} in the input")
    if len(cleaned) % 2:
        raise ValueError(f"odd number of hex digits ({len(cleaned)}): a byte needs two")
    return bytes.fromhex(cleaned)


def _run_jt808(text: str) -> int:
    try:
        data = _parse_hex(text)
    except ValueError as exc:
        return _fail(str(exc))
    if not data.startswith(b"\x7e"):
        data = b"\x7e" + data
    if not data.endswith(b"\x7e") or len(data) == 1:
        data += b"\x7e"
    decoded: list[dict[str, Any]] = []
    failed = False
    for item in FrameDecoder().feed(data):
        if isinstance(item, UnknownMessageError) and item.header is not None:
            sys.stderr.write(f"note: {item}; body shown as hex\n")
            decoded.append(_header_dict(item.header, "unsupported") | {"body_hex": item.body.hex()})
        elif isinstance(item, JT808Error):
            _fail(str(item))
            failed = True
        else:
            decoded.append(frame_to_dict(item))
    if not decoded and not failed:
        return _fail("no JT/T 808 frame in the input")
    if decoded:
        _emit(decoded[0] if len(decoded) == 1 else decoded)
    return EXIT_BAD_INPUT if failed else EXIT_OK


def _header_dict(header: Header, name: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "msg_id": f"0x{header.msg_id:04X}",
        "msg_name": name,
        "version": int(header.version),
        "phone": header.phone,
        "device_id": header.device_id,
        "serial": header.serial,
    }
    if header.version == ProtocolVersion.V2019:
        out["protocol_version_number"] = header.protocol_version_number
    if header.sub_packet is not None:
        out["packet_total"] = header.sub_packet.total
        out["packet_index"] = header.sub_packet.index
    return out


def frame_to_dict(frame: Frame) -> dict[str, Any]:
    """A JSON-ready description of ``frame``: header fields, then the message's fields."""
    message = frame.message
    if message is None:
        return _header_dict(frame.header, "sub_packet_fragment") | {"body_hex": frame.body.hex()}
    out = _header_dict(frame.header, message.MSG_NAME)
    out.update(message_to_dict(message, frame.header.version))
    return out


def message_to_dict(message: Message, version: ProtocolVersion) -> dict[str, Any]:
    """A JSON-ready description of the fields of ``message``."""
    match message:
        case TerminalGeneralReply() | PlatformGeneralReply():
            return {
                "reply_serial": message.reply_serial,
                "reply_msg_id": f"0x{message.reply_msg_id:04X}",
                "result": message.result.name.lower(),
                "result_code": int(message.result),
            }
        case Register():
            return {
                "province": message.province,
                "city": message.city,
                "maker": message.maker,
                "model": message.model,
                "terminal_id": message.terminal_id,
                "plate_color": message.plate_color,
                "plate": message.plate,
            }
        case RegisterReply():
            return {
                "reply_serial": message.reply_serial,
                "result": message.result.name.lower(),
                "result_code": int(message.result),
                "auth_code": message.auth_code,
            }
        case Authentication():
            out: dict[str, Any] = {"auth_code": message.auth_code}
            if version == ProtocolVersion.V2019:
                out["imei"] = message.imei
                out["software_version"] = message.software_version
            return out
        case Location():
            return location_to_dict(message, version)
        case LocationBatch():
            return {
                "count": len(message.locations),
                "kind": message.kind.name.lower(),
                "items": [location_to_dict(item, version) for item in message.locations],
            }
        case TextMessage():
            out = {"flags": message.flags, "flag_names": sorted(message.flag_names)}
            if version == ProtocolVersion.V2019:
                out["text_type"] = message.text_type
            out["text"] = message.text
            return out
        case _:
            # Heartbeat and logout have empty bodies.
            return {}


def location_to_dict(location: Location, version: ProtocolVersion) -> dict[str, Any]:
    """A JSON-ready description of a location report (time in GMT+8, as devices send it)."""
    out: dict[str, Any] = {
        "alarm_flags": f"0x{location.alarm_flags:08X}",
        "alarms": sorted(alarm_names(location.alarm_flags, version)),
        "status_flags": f"0x{location.status_flags:08X}",
        "status": sorted(status_names(location.status_flags, version)),
        "lat": location.lat,
        "lon": location.lon,
        "altitude_m": location.altitude_m,
        "speed_kmh": location.speed_kmh,
        "heading_deg": location.heading_deg,
        "time": location.time.astimezone(DEVICE_TIMEZONE).isoformat(),
    }
    out.update(location.extras())
    return out


def _run_nmea(line: str) -> int:
    try:
        sentence = parse_sentence(line)
    except NmeaError as exc:
        return _fail(str(exc))
    _emit(sentence_to_dict(sentence))
    return EXIT_OK


def sentence_to_dict(sentence: Sentence) -> dict[str, Any]:
    """A JSON-ready description of a parsed GGA or RMC sentence."""
    common: dict[str, Any] = {
        "talker": sentence.talker,
        "time": sentence.time.isoformat() if sentence.time is not None else None,
        "fix": sentence.has_fix,
        "lat": sentence.lat,
        "lon": sentence.lon,
    }
    if isinstance(sentence, GgaSentence):
        return (
            {"sentence": "GGA"}
            | common
            | {
                "quality": sentence.quality,
                "satellites": sentence.satellites,
                "hdop": sentence.hdop,
                "altitude_m": sentence.altitude_m,
                "geoid_separation_m": sentence.geoid_separation_m,
            }
        )
    at = sentence.at
    speed_kmh = None if sentence.speed_knots is None else sentence.speed_knots * KNOT_KMH
    return (
        {"sentence": "RMC"}
        | common
        | {
            "valid": sentence.valid,
            "date": sentence.date.isoformat() if sentence.date is not None else None,
            "at": at.isoformat() if at is not None else None,
            "speed_knots": sentence.speed_knots,
            "speed_kmh": speed_kmh,
            "course_deg": sentence.course_deg,
        }
    )
