"""The sans-I/O session's byte and garbage budgets: abuse is cut short, a terminal with a
bad radio link is not."""

from __future__ import annotations

import datetime as dt
import random
from collections import deque

from devices.jt808 import Heartbeat, Location, encode_frame, encode_raw_frame
from devices.jt808.framing import Header
from devices.jt808.session import GARBAGE_ALLOWANCE, Item, TerminalSession

PHONE = "013912345678"
WHEN = dt.datetime(2024, 5, 1, 0, 30, tzinfo=dt.UTC)


def report(serial: int) -> bytes:
    return encode_frame(
        Location.from_degrees(lat=30.25, lon=120.16, time=WHEN), phone=PHONE, serial=serial
    )


def corrupt(frame: bytes) -> bytes:
    """``frame`` with one content byte changed (a bad checksum), its flags intact."""
    middle = len(frame) // 2
    changed = 0x00 if frame[middle] in (0x7C, 0x7D, 0x7E, 0x7F) else frame[middle] ^ 0x01
    return frame[:middle] + bytes([changed]) + frame[middle + 1 :]


def session(
    *, max_bytes_per_second: float = 64 * 1024, max_frame_size: int = 2048
) -> TerminalSession:
    return TerminalSession(
        now=0.0,
        max_frames_per_second=1e6,
        max_bytes_per_second=max_bytes_per_second,
        max_frame_size=max_frame_size,
    )


def abuse_of(terminal: TerminalSession) -> tuple[str, str] | None:
    return terminal.abuse


def test_random_bytes_are_abuse_after_a_little_garbage_and_are_not_even_split() -> None:
    noise = random.Random(808).randbytes(256 * 1024)
    terminal = session()
    queue: deque[Item] = deque()
    terminal.receive(noise, 0.0, queue)
    assert terminal.abuse is not None
    assert terminal.abuse[0] == "garbage"
    # Stopped right after the allowance: a handful of items, not a thousand.
    assert len(queue) < GARBAGE_ALLOWANCE // 64


def test_a_bad_link_now_and_then_is_no_abuse() -> None:
    terminal = session()
    queue: deque[Item] = deque()
    for serial in range(2_000):
        frame = report(serial)
        # One frame in five arrives corrupted: far more than a real link.
        terminal.receive(corrupt(frame) if serial % 5 == 0 else frame, serial * 0.01, queue)
    assert terminal.abuse is None
    assert len(queue) == 2_000


def test_frames_with_an_unknown_id_are_frames_not_garbage() -> None:
    header = Header(msg_id=0x0900, phone=PHONE, serial=1)  # transparent data: unsupported
    frame = encode_raw_frame(header, bytes(900))
    terminal = session()
    queue: deque[Item] = deque()
    for n in range(50):
        terminal.receive(frame, n * 0.1, queue)
    assert terminal.abuse is None


def test_the_byte_budget_allows_bursts_and_refills() -> None:
    rate = 1024.0
    terminal = session(max_bytes_per_second=rate, max_frame_size=256)
    queue: deque[Item] = deque()
    heartbeat = encode_frame(Heartbeat(), phone=PHONE, serial=0)
    burst = heartbeat * int(4 * rate // len(heartbeat))  # four seconds' worth at once
    terminal.receive(burst, 0.0, queue)
    assert terminal.abuse is None
    terminal.receive(heartbeat * 20, 1.0, queue)  # refilled by a second's worth
    assert terminal.abuse is None
    terminal.receive(heartbeat * 200, 1.1, queue)
    assert abuse_of(terminal) == ("byte_rate", "over 1024 bytes/s")
