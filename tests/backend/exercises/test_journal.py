"""The input journal on its own: round trip, torn records, retention, a failing disk."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import pytest

from backend.exercises import journal
from backend.exercises.journal import InputJournal, read_segment, read_window, segments

T0 = dt.datetime(2026, 12, 5, 8, 30, tzinfo=dt.UTC)


class Clock:
    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now


async def test_inputs_come_back_as_received_in_order(tmp_path: Path) -> None:
    clock = Clock()
    log = InputJournal(tmp_path, clock=clock)
    log.start()
    key = log.connection_key()
    frames = [bytes([0x7E, 2, 0, 0x7D, 0x02, 9, 0x7E]), b"\x00\xff" * 300]
    log.record_jt808("t1", frames[0])
    clock.now += 0.5
    log.record_feed(key, "feed-1", '{"type":"device.reading","ref":"r1","sensor":"s","value":1}')
    clock.now += 0.5
    log.record_command("officer1", "officer", '{"type":"alarms.list","req":"1"}')
    unlock = '{"req":"%s","password":"x","type":"session.unlock"}' % ("2" * 500)
    log.record_command("officer1", "officer", unlock)
    log.record_command("officer1", "officer", '{"type":"ping","req":"3"}')
    clock.now += 3600  # the next hour: a second segment
    log.record_jt808("t1", frames[1])
    await log.stop()

    assert len(segments(tmp_path)) == 2
    records = read_window(tmp_path, T0, T0 + dt.timedelta(hours=2))
    assert [(r.kind, r.key, r.who, r.role) for r in records] == [
        ("jt808", "t1", "", ""),
        ("feed", key, "feed-1", ""),
        ("command", "", "officer1", "officer"),
        ("jt808", "t1", "", ""),
    ]
    assert [records[0].data, records[3].data] == frames
    assert records[1].at == T0 + dt.timedelta(seconds=0.5)
    assert all(b"password" not in r.data for r in records), "never the unlock password"
    # A window reads only its own part.
    later = read_window(tmp_path, T0 + dt.timedelta(minutes=30), T0 + dt.timedelta(hours=2))
    assert len(later) == 1


async def test_a_torn_record_is_skipped_not_the_segment(tmp_path: Path) -> None:
    log = InputJournal(tmp_path, clock=Clock())
    for number in range(5):
        log.record_jt808("t1", f"frame {number}".encode())
    await log.stop()
    (path,) = segments(tmp_path)
    data = path.read_bytes()
    # A crash mid-write: the last record is cut short.
    path.write_bytes(data[:-3])
    assert [r.data for r in read_segment(path.read_bytes())] == [
        f"frame {n}".encode() for n in range(4)
    ]
    # A damaged record in the middle costs that record only.
    middle = data.index(b"frame 2")
    damaged = data[:middle] + b"FRAME" + data[middle + 5 :]
    assert [r.data for r in read_segment(damaged)] == [
        b"frame 0",
        b"frame 1",
        b"frame 3",
        b"frame 4",
    ]
    # Garbage is no journal, and no crash either.
    assert list(read_segment(b"\xddJ" + b"\xff" * 40)) == []


async def test_old_segments_are_deleted(tmp_path: Path) -> None:
    clock = Clock(T0 - dt.timedelta(hours=5))
    log = InputJournal(tmp_path, hours=3, clock=clock)
    for _ in range(6):
        log.record_jt808("t1", b"x")
        clock.now += 3600
    await log.stop()
    assert len(segments(tmp_path)) == 6
    # Now T0 + 1 h: segments ending before T0 - 2 h go (03:00, 04:00 and 05:00 UTC).
    assert log.delete_old() == 3
    hours = [journal.segment_hour(path) for path in segments(tmp_path)]
    assert hours == [T0.replace(minute=0) - dt.timedelta(hours=h) for h in (2, 1, 0)]


async def test_a_failing_disk_drops_the_oldest_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="backend.exercises.journal")
    blocked = tmp_path / "journal"
    blocked.write_text("a file where the folder should be")  # every write fails
    log = InputJournal(blocked, max_buffered_bytes=10_000, clock=Clock())
    log.start()
    for number in range(1000):
        log.record_jt808("t1", b"%04d" % number + b"." * 60)  # never blocks, never raises
        if number % 100 == 0:
            await asyncio.sleep(0.01)
    assert log.dropped > 0
    assert log.pending_bytes <= 10_000
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    # The disk comes back: what is still buffered is written, the newest input first kept.
    blocked.unlink()
    await asyncio.sleep(journal.RETRY_INTERVAL + 0.5)
    await log.stop()
    records = read_window(blocked, T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1))
    assert records, "written once the disk works again"
    assert records[-1].data.startswith(b"0999")
    assert "writing again" in caplog.records[-1].getMessage()
