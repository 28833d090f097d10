"""The serial NMEA coordinator through real socat pty pairs (``pytest -m serial``)."""

from __future__ import annotations

import asyncio
import functools
import logging
import operator
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devices.serial_nmea import NmeaSerialCoordinator
from tests.devices.support import RecordingSink

pytestmark = pytest.mark.serial

DEVICE = "gps-7"


def sentence(body: str) -> bytes:
    """``$body*hh\\r\\n`` with the checksum computed independently of the code under test."""
    checksum = functools.reduce(operator.xor, body.encode("ascii"), 0)
    return f"${body}*{checksum:02X}\r\n".encode("ascii")


def fix(second: int, minute: str = "13.8250") -> bytes:
    time = f"0830{second:02d}.00"
    return sentence(f"GPRMC,{time},A,31{minute},N,12128.4221,E,010.0,090.0,010524,,,A") + sentence(
        f"GPGGA,{time},31{minute},N,12128.4221,E,1,09,0.8,12.5,M,7.1,M,,"
    )


@pytest.fixture
def socat() -> str:
    path = shutil.which("socat")
    if path is None:
        if os.environ.get("DUTYDESK_REQUIRE_SERIAL") == "1":
            pytest.fail("socat is required (DUTYDESK_REQUIRE_SERIAL=1) but is not installed")
        pytest.skip("socat is not installed (apt install socat); serial tests need pty pairs")
    return path


class PtyPair:
    """A socat pty pair: the coordinator reads ``a``; the test writes ``b``."""

    def __init__(self, socat: str, folder: Path) -> None:
        self.socat = socat
        self.a = str(folder / "gps-a")
        self.b = str(folder / "gps-b")
        self._process: asyncio.subprocess.Process | None = None
        self._fd: int | None = None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            self.socat,
            "-d",
            "-d",
            f"pty,raw,echo=0,link={self.a}",
            f"pty,raw,echo=0,link={self.b}",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self._process.stderr is not None
        async with asyncio.timeout(5):
            # With -d -d socat says so once both ptys (and their links) exist.
            while b"starting data transfer loop" not in await self._process.stderr.readline():
                pass
        self._fd = os.open(self.b, os.O_RDWR | os.O_NOCTTY)

    def write(self, data: bytes) -> None:
        assert self._fd is not None
        os.write(self._fd, data)

    async def stop(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._process is not None:
            if self._process.returncode is None:
                self._process.terminate()
            await self._process.communicate()  # socat removes its links before it exits
            self._process = None


@pytest.fixture
async def pty_pair(socat: str, tmp_path: Path) -> AsyncIterator[PtyPair]:
    pair = PtyPair(socat, tmp_path)
    await pair.start()
    yield pair
    await pair.stop()


@pytest.fixture
async def coordinator(
    pty_pair: PtyPair,
) -> AsyncIterator[tuple[NmeaSerialCoordinator, RecordingSink]]:
    sink = RecordingSink()
    coordinator = NmeaSerialCoordinator(
        pty_pair.a, 9600, DEVICE, sink, reconnect_delay=0.05, max_reconnect_delay=0.2
    )
    coordinator.start()
    yield coordinator, sink
    await coordinator.close()


async def test_good_sentences_become_positions(
    pty_pair: PtyPair, coordinator: tuple[NmeaSerialCoordinator, RecordingSink]
) -> None:
    _, sink = coordinator
    await sink.wait_for(lambda s: len(s.statuses) == 1)
    pty_pair.write(fix(0) + fix(1))
    await sink.wait_for(lambda s: len(s.positions) == 2)
    first = sink.positions[0]
    assert first.device == DEVICE
    assert first.lat == pytest.approx(31 + 13.8250 / 60)
    assert first.lon == pytest.approx(121 + 28.4221 / 60)
    assert first.altitude_m == 12.5
    assert first.speed_kmh == pytest.approx(18.52)
    assert [s.online for s in sink.statuses] == [True]


async def test_bad_checksum_and_no_fix_give_no_position(
    pty_pair: PtyPair,
    coordinator: tuple[NmeaSerialCoordinator, RecordingSink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    coord, sink = coordinator
    caplog.set_level(logging.WARNING, logger="devices.serial_nmea")
    await sink.wait_for(lambda s: len(s.statuses) == 1)
    good = sentence("GPRMC,083002.00,A,3113.8250,N,12128.4221,E,010.0,090.0,010524,,,A")
    bad = good[:-4] + (b"00" if good[-4:-2] != b"00" else b"11") + b"\r\n"
    no_checksum = b"$GPRMC,083003.00,A,3113.8250,N,12128.4221,E,010.0,090.0,010524,,,A\r\n"
    no_fix = sentence("GPRMC,083004.00,V,,,,,,,010524,,,N") + sentence(
        "GPGGA,083004.00,,,,,0,00,99.9,,,,,,"
    )
    garbage = b"\x00\xff garbage without end " * 20 + b"\r\n"
    pty_pair.write(bad * 3 + no_checksum + no_fix + garbage)
    pty_pair.write(fix(5, minute="14.0000"))
    await sink.wait_for(lambda s: len(s.positions) == 1)
    await asyncio.sleep(0.1)
    [position] = sink.positions
    assert position.lat == pytest.approx(31 + 14 / 60)
    assert coord.problems["NmeaChecksumError"] >= 3
    checksum_logs = [r for r in caplog.records if "NmeaChecksumError" in r.getMessage()]
    assert len(checksum_logs) == 1


async def test_port_loss_goes_offline_once_and_recovers(
    pty_pair: PtyPair,
    coordinator: tuple[NmeaSerialCoordinator, RecordingSink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    coord, sink = coordinator
    caplog.set_level(logging.INFO, logger="devices.serial_nmea")
    await sink.wait_for(lambda s: len(s.statuses) == 1)
    pty_pair.write(fix(0))
    await sink.wait_for(lambda s: len(s.positions) == 1)

    await pty_pair.stop()
    await sink.wait_for(lambda s: len(s.statuses) == 2)
    assert coord.online is False
    await asyncio.sleep(0.6)  # several failed reopen attempts
    assert [s.online for s in sink.statuses] == [True, False]

    await pty_pair.start()
    await sink.wait_for(lambda s: len(s.statuses) == 3, timeout=5)
    pty_pair.write(fix(10, minute="15.0000"))
    await sink.wait_for(lambda s: len(s.positions) >= 2)
    assert sink.positions[-1].lat == pytest.approx(31 + 15 / 60)
    assert [s.online for s in sink.statuses] == [True, False, True]
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "retrying with backoff" in m]) == 1
    assert len([m for m in messages if "is back" in m]) == 1
