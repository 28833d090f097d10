"""Sans-I/O NMEA 0183 decoding for serial GPS/BeiDou receivers (GGA and RMC).

Checksums are required: a sentence without ``*hh`` is refused. pynmea2 checks the frame
and checksum; the fields are then read strictly here, so every bad input ends as an
:class:`NmeaError` and a no-fix sentence (RMC status V, GGA quality 0, empty fields) never
becomes a position. :class:`NmeaMerger` turns a stream of lines into
:class:`~devices.observations.Position` records.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pynmea2

from devices.observations import Position

KNOT_KMH = 1.852
MAX_LINE_LENGTH = 256
"""NMEA allows 82 characters; some receivers exceed it, nothing sane comes near this."""
SUPPORTED_TALKERS = frozenset({"GP", "GN", "BD", "GB", "GL", "GA"})
"""GPS, multi-constellation, BeiDou (BD, and GB since NMEA 4.11), GLONASS, Galileo."""

_SENTENCE_SHAPE = re.compile(
    r"\$(?P<talker>[A-Z]{2})(?P<kind>[A-Z]{3}),[^$*]*\*(?P<checksum>[0-9A-Fa-f]{2})"
)
_ANY_ADDRESS = re.compile(r"\$(?P<address>[A-Za-z0-9]{1,10})[,*]")
_TIME = re.compile(r"(\d{2})(\d{2})(\d{2})(?:\.(\d{1,6}))?")
_DATE = re.compile(r"(\d{2})(\d{2})(\d{2})")
_LATITUDE = re.compile(r"(\d{2})(\d{2}(?:\.\d+)?)")
_LONGITUDE = re.compile(r"(\d{3})(\d{2}(?:\.\d+)?)")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"\d+")


class NmeaError(Exception):
    """A line that is not a usable NMEA 0183 sentence; the message says why."""


class NmeaChecksumError(NmeaError):
    """The ``*hh`` checksum is missing or does not match."""


class UnsupportedSentenceError(NmeaError):
    """A well-formed sentence this module does not interpret (e.g. GSV, or a proprietary one)."""


@dataclass(frozen=True, slots=True)
class GgaSentence:
    """GGA: fix data. ``lat``/``lon`` are ``None`` when the fields are empty."""

    talker: str
    time: dt.time | None
    lat: float | None
    lon: float | None
    quality: int
    """Fix quality: 0 none, 1 GPS, 2 DGPS, 4 RTK fixed, 5 RTK float, 6 estimated..."""
    satellites: int | None
    hdop: float | None
    altitude_m: float | None
    geoid_separation_m: float | None

    @property
    def has_fix(self) -> bool:
        """True when the receiver reports a fix with coordinates and a time."""
        return (
            self.quality > 0
            and self.lat is not None
            and self.lon is not None
            and self.time is not None
        )


@dataclass(frozen=True, slots=True)
class RmcSentence:
    """RMC: recommended minimum data (time, date, position, speed, course)."""

    talker: str
    time: dt.time | None
    valid: bool
    """Status ``A`` (and mode not ``N``); ``V`` means no fix."""
    lat: float | None
    lon: float | None
    speed_knots: float | None
    course_deg: float | None
    date: dt.date | None

    @property
    def has_fix(self) -> bool:
        """True when the sentence is valid and carries coordinates, time and date."""
        return (
            self.valid
            and self.lat is not None
            and self.lon is not None
            and self.time is not None
            and self.date is not None
        )

    @property
    def at(self) -> dt.datetime | None:
        """Aware UTC datetime of the fix, when time and date are present."""
        if self.time is None or self.date is None:
            return None
        return dt.datetime.combine(self.date, self.time, tzinfo=dt.UTC)


Sentence = GgaSentence | RmcSentence


def _field(fields: list[str], index: int) -> str:
    return fields[index].strip() if index < len(fields) else ""


def _decimal(text: str, name: str) -> float | None:
    if not text:
        return None
    if not _DECIMAL.fullmatch(text):
        raise NmeaError(f"{name}: expected a decimal number, got {text!r}")
    return float(text)


def _integer(text: str, name: str) -> int | None:
    if not text:
        return None
    if not _INTEGER.fullmatch(text):
        raise NmeaError(f"{name}: expected a whole number, got {text!r}")
    return int(text)


def _time(text: str) -> dt.time | None:
    if not text:
        return None
    match = _TIME.fullmatch(text)
    if match is None:
        raise NmeaError(f"time: expected hhmmss[.sss], got {text!r}")
    hours, minutes, seconds, fraction = match.groups()
    try:
        return dt.time(
            int(hours),
            int(minutes),
            int(seconds),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=dt.UTC,
        )
    except ValueError as exc:
        raise NmeaError(f"time: {text!r} is not a valid time of day ({exc})") from exc


def _date(text: str) -> dt.date | None:
    if not text:
        return None
    match = _DATE.fullmatch(text)
    if match is None:
        raise NmeaError(f"date: expected ddmmyy, got {text!r}")
    day, month, year = (int(part) for part in match.groups())
    try:
        # GPS time starts in 1980, so two-digit years 80-99 are the 1900s.
        return dt.date((1900 if year >= 80 else 2000) + year, month, day)
    except ValueError as exc:
        raise NmeaError(f"date: {text!r} is not a valid ddmmyy date ({exc})") from exc


def _coordinate(value: str, hemisphere: str, *, latitude: bool) -> float | None:
    name = "latitude" if latitude else "longitude"
    if not value and not hemisphere:
        return None
    pattern, limit, hemispheres = (_LATITUDE, 90.0, "NS") if latitude else (_LONGITUDE, 180.0, "EW")
    match = pattern.fullmatch(value)
    if match is None:
        shape = "ddmm.mmmm" if latitude else "dddmm.mmmm"
        raise NmeaError(f"{name}: expected {shape}, got {value!r}")
    if len(hemisphere) != 1 or hemisphere not in hemispheres:
        raise NmeaError(
            f"{name}: hemisphere must be {' or '.join(hemispheres)}, got {hemisphere!r}"
        )
    degrees = int(match.group(1))
    minutes = float(match.group(2))
    if minutes >= 60:
        raise NmeaError(f"{name}: minutes must be below 60, got {minutes}")
    result = degrees + minutes / 60
    if result > limit:
        raise NmeaError(f"{name}: {result:.6f} degrees is beyond {limit:g}")
    return -result if hemisphere in "SW" else result


def _check_shape(line: str) -> re.Match[str]:
    if len(line) > MAX_LINE_LENGTH:
        raise NmeaError(f"line of {len(line)} characters exceeds {MAX_LINE_LENGTH}")
    if not line.startswith("$"):
        raise NmeaError(f"a sentence starts with '$', got {line[:12]!r}")
    shape = _SENTENCE_SHAPE.fullmatch(line)
    if shape is not None:
        return shape
    if "*" not in line:
        raise NmeaChecksumError("checksum missing: a sentence must end with *hh")
    address = _ANY_ADDRESS.match(line)
    if address is not None and not re.fullmatch(r"[A-Z]{5}", address.group("address")):
        raise UnsupportedSentenceError(
            f"unsupported sentence address {address.group('address')!r}"
            " (only talker sentences such as GPGGA are read)"
        )
    raise NmeaError(f"malformed sentence {line[:40]!r}: expected $ttsss,...*hh")


def parse_sentence(line: str | bytes) -> Sentence:
    """Parse one GGA or RMC sentence (``$..*hh``, trailing CR/LF allowed).

    Raises :class:`NmeaChecksumError` for a missing or wrong checksum,
    :class:`UnsupportedSentenceError` for other well-formed sentences and :class:`NmeaError`
    for anything else that is wrong. Returns the sentence even when it has no fix.
    """
    if isinstance(line, bytes):
        try:
            line = line.decode("ascii")
        except UnicodeDecodeError as exc:
            raise NmeaError(f"not ASCII: byte 0x{line[exc.start]:02X} at {exc.start}") from exc
    line = line.strip()
    shape = _check_shape(line)
    body = line[1 : line.rindex("*")]
    computed = pynmea2.NMEASentence.checksum(body)
    received = int(shape.group("checksum"), 16)
    if computed != received:
        raise NmeaChecksumError(
            f"checksum mismatch: sentence says *{received:02X}, content gives *{computed:02X}"
        )
    talker, kind = shape.group("talker"), shape.group("kind")
    if kind not in ("GGA", "RMC"):
        raise UnsupportedSentenceError(f"unsupported sentence type {talker}{kind}")
    if talker not in SUPPORTED_TALKERS:
        raise UnsupportedSentenceError(f"unsupported talker {talker!r} in {talker}{kind}")
    try:
        parsed = pynmea2.parse(line, check=True)
    except pynmea2.ChecksumError as exc:
        raise NmeaChecksumError(f"checksum rejected: {exc.args[0][0]}") from exc
    except pynmea2.ParseError as exc:
        raise NmeaError(f"unparseable sentence: {exc.args[0][0]}") from exc
    fields = [str(value) for value in parsed.data]
    if kind == "GGA":
        return _gga(talker, fields)
    return _rmc(talker, fields)


def _gga(talker: str, fields: list[str]) -> GgaSentence:
    if len(fields) < 9:
        raise NmeaError(f"GGA needs at least 9 fields, got {len(fields)}")
    quality = _integer(_field(fields, 5), "GGA fix quality")
    return GgaSentence(
        talker=talker,
        time=_time(_field(fields, 0)),
        lat=_coordinate(_field(fields, 1), _field(fields, 2), latitude=True),
        lon=_coordinate(_field(fields, 3), _field(fields, 4), latitude=False),
        quality=quality or 0,
        satellites=_integer(_field(fields, 6), "GGA satellites"),
        hdop=_decimal(_field(fields, 7), "GGA HDOP"),
        altitude_m=_decimal(_field(fields, 8), "GGA altitude"),
        geoid_separation_m=_decimal(_field(fields, 10), "GGA geoid separation"),
    )


def _rmc(talker: str, fields: list[str]) -> RmcSentence:
    if len(fields) < 9:
        raise NmeaError(f"RMC needs at least 9 fields, got {len(fields)}")
    status = _field(fields, 1)
    if status not in ("A", "V"):
        raise NmeaError(f"RMC status must be A or V, got {status!r}")
    # NMEA 2.3 adds a mode indicator; "N" means the data are not valid whatever the status.
    mode = _field(fields, 11)
    return RmcSentence(
        talker=talker,
        time=_time(_field(fields, 0)),
        valid=status == "A" and mode != "N",
        lat=_coordinate(_field(fields, 2), _field(fields, 3), latitude=True),
        lon=_coordinate(_field(fields, 4), _field(fields, 5), latitude=False),
        speed_knots=_decimal(_field(fields, 6), "RMC speed"),
        course_deg=_decimal(_field(fields, 7), "RMC course"),
        date=_date(_field(fields, 8)),
    )


def gga_extras(gga: GgaSentence) -> dict[str, float | int | str]:
    """The GGA values a position carries as extras (fix quality, satellites, HDOP)."""
    extras: dict[str, float | int | str] = {"fix_quality": gga.quality}
    if gga.satellites is not None:
        extras["satellites"] = gga.satellites
    if gga.hdop is not None:
        extras["hdop"] = gga.hdop
    return extras


class NmeaMerger:
    """Turns a receiver's lines into positions (sans-I/O): ``feed`` a line, get positions.

    A position needs a valid RMC (it alone has the date); a GGA with the same time adds
    altitude and, in ``extras``, satellites, HDOP and fix quality. Receivers send the two in
    either order, so a valid RMC is held until its GGA arrives or the next epoch starts
    (at most one fix interval); :meth:`flush` releases a held RMC at the end of a stream.
    Other well-formed sentences (GSV, GSA, ...) are ignored; bad lines raise
    :class:`NmeaError` and leave the merger's state untouched.
    """

    def __init__(self, device: str) -> None:
        self._device = device
        self._pending_rmc: RmcSentence | None = None
        self._pending_gga: GgaSentence | None = None

    def feed(self, line: str | bytes) -> list[Position]:
        """Consume one line; return the positions it completes (zero, one or two)."""
        try:
            sentence = parse_sentence(line)
        except UnsupportedSentenceError:
            return []
        if isinstance(sentence, RmcSentence):
            return self._feed_rmc(sentence)
        return self._feed_gga(sentence)

    def flush(self) -> list[Position]:
        """Release a held RMC (as a position without GGA data)."""
        out = self._release_rmc()
        self._pending_gga = None
        return out

    def _feed_rmc(self, rmc: RmcSentence) -> list[Position]:
        out = self._release_rmc()
        if not rmc.has_fix:
            return out
        gga = self._pending_gga
        self._pending_gga = None
        if gga is not None and gga.time == rmc.time:
            out.append(_make_position(self._device, rmc, gga if gga.has_fix else None))
        else:
            self._pending_rmc = rmc
        return out

    def _feed_gga(self, gga: GgaSentence) -> list[Position]:
        rmc = self._pending_rmc
        if rmc is not None and rmc.time == gga.time:
            self._pending_rmc = None
            return [_make_position(self._device, rmc, gga if gga.has_fix else None)]
        out = self._release_rmc()
        self._pending_gga = gga
        return out

    def _release_rmc(self) -> list[Position]:
        rmc = self._pending_rmc
        self._pending_rmc = None
        return [] if rmc is None else [_make_position(self._device, rmc, None)]


def _make_position(device: str, rmc: RmcSentence, gga: GgaSentence | None) -> Position:
    at, lat, lon = rmc.at, rmc.lat, rmc.lon
    if at is None or lat is None or lon is None:
        raise NmeaError("RMC without a fix cannot become a position")
    extras: dict[str, float | int | str] = {"talker": rmc.talker}
    altitude = 0.0
    if gga is not None:
        extras.update(gga_extras(gga))
        altitude = gga.altitude_m or 0.0
    return Position(
        device=device,
        at=at,
        lat=lat,
        lon=lon,
        speed_kmh=(rmc.speed_knots or 0.0) * KNOT_KMH,
        heading_deg=rmc.course_deg or 0.0,
        altitude_m=altitude,
        extras=extras,
    )


def rmc_position(device: str, rmc: RmcSentence) -> Position | None:
    """A position from one RMC alone, or ``None`` when it has no fix."""
    if not rmc.has_fix:
        return None
    return _make_position(device, rmc, None)
