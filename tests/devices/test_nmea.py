"""NMEA 0183: checksums required, no-fix never a position, only NmeaError escapes."""

from __future__ import annotations

import datetime as dt
import functools
import operator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.nmea import (
    GgaSentence,
    NmeaChecksumError,
    NmeaError,
    NmeaMerger,
    RmcSentence,
    UnsupportedSentenceError,
    parse_sentence,
    rmc_position,
)


def sentence(body: str) -> str:
    """``$body*hh`` with the checksum computed here, independently of the code under test."""
    checksum = functools.reduce(operator.xor, body.encode("ascii"), 0)
    return f"${body}*{checksum:02X}\r\n"


RMC = sentence("GPRMC,083000.00,A,3113.8250,N,12128.4221,E,010.0,090.0,010524,,,A")
GGA = sentence("GPGGA,083000.00,3113.8250,N,12128.4221,E,1,09,0.8,12.5,M,7.1,M,,")
RMC_NEXT = sentence("GPRMC,083001.00,A,3113.8260,N,12128.4231,E,010.0,090.0,010524,,,A")


def test_known_checksum_from_a_published_example() -> None:
    line = "$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D"
    gga = parse_sentence(line)
    assert isinstance(gga, GgaSentence)
    assert gga.lat == pytest.approx(-(19 + 29.045 / 60))
    assert gga.lon == pytest.approx(24 + 10.506 / 60)
    assert gga.time == dt.time(18, 43, 53, 70_000, tzinfo=dt.UTC)
    assert gga.geoid_separation_m == -33.9


def test_rmc_fields() -> None:
    rmc = parse_sentence(RMC)
    assert isinstance(rmc, RmcSentence)
    assert rmc.has_fix
    assert rmc.lat == pytest.approx(31 + 13.825 / 60)
    assert rmc.lon == pytest.approx(121 + 28.4221 / 60)
    assert rmc.speed_knots == 10.0
    assert rmc.course_deg == 90.0
    assert rmc.at == dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.UTC)


def test_southern_and_western_hemispheres_are_negative() -> None:
    rmc = parse_sentence(sentence("GNRMC,120000,A,3352.1280,S,15112.5520,W,0.0,0.0,311223,,,A"))
    assert isinstance(rmc, RmcSentence)
    assert rmc.lat is not None
    assert rmc.lon is not None
    assert rmc.lat < 0
    assert rmc.lon < 0


def test_gga_fields() -> None:
    gga = parse_sentence(GGA)
    assert isinstance(gga, GgaSentence)
    assert gga.has_fix
    assert (gga.quality, gga.satellites, gga.hdop, gga.altitude_m) == (1, 9, 0.8, 12.5)


def test_a_sentence_without_checksum_is_refused() -> None:
    with pytest.raises(NmeaChecksumError, match=r"checksum missing: a sentence must end with \*hh"):
        parse_sentence(RMC.strip().rsplit("*", 1)[0])


def test_a_wrong_checksum_names_both_values() -> None:
    line = RMC.strip()[:-2] + "00"
    with pytest.raises(NmeaChecksumError, match=r"sentence says \*00, content gives \*"):
        parse_sentence(line)


@pytest.mark.parametrize(
    "line",
    [
        sentence("GPRMC,083000.00,V,3113.8250,N,12128.4221,E,010.0,090.0,010524,,,A"),
        sentence("GPRMC,083000.00,A,3113.8250,N,12128.4221,E,010.0,090.0,010524,,,N"),
        sentence("GPRMC,,V,,,,,,,,,,N"),
        sentence("GPGGA,083000.00,3113.8250,N,12128.4221,E,0,00,99.9,,,,,,"),
        sentence("GPGGA,,,,,,0,,,,,,,,"),
    ],
)
def test_no_fix_sentences_are_never_a_position(line: str) -> None:
    parsed = parse_sentence(line)
    assert not parsed.has_fix
    merger = NmeaMerger("gps-1")
    assert merger.feed(line) == []
    assert merger.flush() == []
    if isinstance(parsed, RmcSentence):
        assert rmc_position("gps-1", parsed) is None


@pytest.mark.parametrize("talker", ["GP", "GN", "BD", "GL"])
def test_supported_talkers(talker: str) -> None:
    parsed = parse_sentence(
        sentence(f"{talker}GGA,083000,3113.8250,N,12128.4221,E,1,5,1.0,3,M,,,,")
    )
    assert parsed.talker == talker


@pytest.mark.parametrize(
    ("line", "match"),
    [
        (sentence("GPGSV,1,1,01,05,40,083,46"), "unsupported sentence type GPGSV"),
        (sentence("XXGGA,083000,3113.8250,N,12128.4221,E,1,5,1.0,3,M,,,,"), "talker 'XX'"),
        (sentence("PGRME,15.0,M,45.0,M,25.0,M"), "unsupported sentence type PGRME"),
        (sentence("PUBX,00,083000.00,3113.8250,N"), "unsupported sentence address 'PUBX'"),
    ],
)
def test_other_sentences_are_unsupported(line: str, match: str) -> None:
    with pytest.raises(UnsupportedSentenceError, match=match):
        parse_sentence(line)


@pytest.mark.parametrize(
    ("line", "match"),
    [
        (sentence("GPRMC,083000,A,31X3.8250,N,12128.4221,E,0,0,010524,,"), "latitude: expected"),
        (sentence("GPRMC,083000,A,3113.8250,Q,12128.4221,E,0,0,010524,,"), "must be N or S"),
        (sentence("GPRMC,083000,A,3175.0000,N,12128.4221,E,0,0,010524,,"), "below 60"),
        (sentence("GPRMC,256000,A,3113.8250,N,12128.4221,E,0,0,010524,,"), "valid time of day"),
        (sentence("GPRMC,083000,A,3113.8250,N,12128.4221,E,0,0,310224,,"), "valid ddmmyy date"),
        (sentence("GPRMC,083000,X,3113.8250,N,12128.4221,E,0,0,010524,,"), "status must be A"),
        (sentence("GPRMC,083000,A,3113.8250,N,12128.4221,E,nan,0,010524,,"), "decimal number"),
        (sentence("GPGGA,083000,3113.8250,N"), "GGA needs at least 9 fields, got 3"),
        ("GPGGA,083000*00", "a sentence starts with '\\$'"),
        ("$GPGGA" + "," * 300 + "*00", "exceeds 256"),
    ],
)
def test_malformed_fields_are_named(line: str, match: str) -> None:
    with pytest.raises(NmeaError, match=match):
        parse_sentence(line)


def test_non_ascii_bytes_are_refused() -> None:
    with pytest.raises(NmeaError, match="not ASCII: byte 0xFF at 1"):
        parse_sentence(b"$\xffGPGGA*00")


def test_merger_joins_rmc_and_gga_of_the_same_epoch() -> None:
    merger = NmeaMerger("gps-1")
    assert merger.feed(RMC) == []  # held: the GGA of this epoch may follow
    [position] = merger.feed(GGA.encode("ascii"))
    assert position.device == "gps-1"
    assert position.at == dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.UTC)
    assert position.speed_kmh == pytest.approx(18.52)
    assert position.heading_deg == 90.0
    assert position.altitude_m == 12.5
    assert position.extras == {"talker": "GP", "fix_quality": 1, "satellites": 9, "hdop": 0.8}


def test_merger_accepts_gga_before_rmc() -> None:
    merger = NmeaMerger("gps-1")
    assert merger.feed(GGA) == []
    [position] = merger.feed(RMC)
    assert position.altitude_m == 12.5


def test_rmc_alone_becomes_a_position_at_the_next_epoch_or_flush() -> None:
    merger = NmeaMerger("gps-1")
    assert merger.feed(RMC) == []
    [first] = merger.feed(RMC_NEXT)
    assert first.at == dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.UTC)
    assert first.altitude_m == 0.0
    assert "satellites" not in first.extras
    [second] = merger.flush()
    assert second.at == dt.datetime(2024, 5, 1, 8, 30, 1, tzinfo=dt.UTC)


def test_gga_of_another_epoch_does_not_merge() -> None:
    merger = NmeaMerger("gps-1")
    merger.feed(RMC)
    other = sentence("GPGGA,083005.00,3113.8250,N,12128.4221,E,1,09,0.8,99.0,M,7.1,M,,")
    [position] = merger.feed(other)
    assert position.altitude_m == 0.0


def test_a_bad_line_raises_and_leaves_the_merger_intact() -> None:
    merger = NmeaMerger("gps-1")
    merger.feed(RMC)
    with pytest.raises(NmeaChecksumError):
        merger.feed(GGA.strip()[:-2] + "00")
    assert merger.feed(sentence("GPGSV,1,1,01,05,40,083,46")) == []
    [position] = merger.feed(GGA)
    assert position.altitude_m == 12.5


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120) | st.binary(max_size=120))
def test_any_line_raises_only_nmea_error(line: str | bytes) -> None:
    merger = NmeaMerger("fuzz")
    try:
        merger.feed(line)
    except NmeaError as error:
        assert str(error)  # noqa: PT017 - the point is the type and a reason


_FIELD = st.text("0123456789.,-+NSEWAVMnx ", max_size=14)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(["GPGGA", "GNRMC", "BDGGA", "GLRMC"]), fields=st.lists(_FIELD))
def test_checksummed_random_fields_raise_only_nmea_error(kind: str, fields: list[str]) -> None:
    line = sentence(",".join([kind, *fields]))
    try:
        parsed = parse_sentence(line)
    except NmeaError:
        return
    if parsed.has_fix:
        assert parsed.lat is not None
        assert -90 <= parsed.lat <= 90
        assert parsed.lon is not None
        assert -180 <= parsed.lon <= 180
