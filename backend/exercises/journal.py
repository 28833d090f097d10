"""The live server's input journal: device input exactly as received, with receive times.

What it keeps (docs/exercises.md, "Recordings"): every chunk of bytes read from a JT/T 808
terminal connection (frames are cut out of them when a recording is made), every
device-feed message's text, and every console command's text with the user and role
(never the password of ``session.unlock``; logins happen at the handshake and never
reach it). Exercises are recorded from it (:mod:`backend.exercises.recorder`).

Ingest never waits for it: ``record_*`` append to a bounded buffer in memory (no I/O, no
encoding); a task writes the buffer off the event loop several times a second. When the
disk stalls or fails, the oldest unwritten input is dropped once the buffer is full, with
one warning per outage (and one line when it recovers): the alarms go on regardless.

Segments: one file per hour and process start, ``<UTC yyyymmddThh>-<start id>.jnl``
under ``data_dir/journal``, appended only. A record is framed as::

    magic  b"\\xddJ"         2 bytes
    length  uint32 LE        4 bytes   (of the payload)
    crc32   uint32 LE        4 bytes   (of the payload)
    payload msgpack array    [kind, at_us, key, who, role, data]

``kind`` is ``jt808`` (``key`` = ``<start id>:<connection number>``, ``data`` the bytes
read), ``feed`` (``key`` the same for the feed's connection, ``who`` the account,
``data`` the text as UTF-8) or ``command`` (``who`` the user, ``role``, ``data`` the text).
``at_us`` is the receive time in microseconds since the epoch (UTC). A record torn by a
crash (short, or its CRC wrong) is skipped on read and reading goes on at the next magic:
one bad record never costs the segment. Old segments are deleted after ``hours``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import functools
import logging
import os
import secrets
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import msgspec

from realtime.aio import cancel_and_wait

logger = logging.getLogger(__name__)

MAGIC: Final = b"\xddJ"
_HEAD = struct.Struct("<2sII")
_encode = msgspec.msgpack.Encoder().encode
SEGMENT_SUFFIX: Final = ".jnl"
DEFAULT_HOURS: Final = 72
"""How long segments are kept by default (``serve --journal-hours``)."""
DEFAULT_MAX_BUFFERED_BYTES: Final = 64 * 1024 * 1024
"""Unwritten input kept in memory at most; beyond, the oldest is dropped."""
MAX_RECORD_BYTES: Final = 4 * 1024 * 1024
"""A longer payload is taken for garbage on read (no input is that long)."""
FLUSH_INTERVAL: Final = 0.2
"""Seconds between writes of the buffer."""
RETRY_INTERVAL: Final = 2.0
"""Seconds between tries while the disk fails."""
STOP_TIMEOUT: Final = 5.0
"""Longest the stop waits for the last write."""

JT808: Final = "jt808"
FEED: Final = "feed"
COMMAND: Final = "command"

LEFT_OUT_COMMANDS: Final = frozenset({"session.unlock", "ping"})
"""Commands never journaled: the unlock carries the password; pings are only noise."""


class _Tag(msgspec.Struct):
    type: str = ""


_tag_of = msgspec.json.Decoder(_Tag).decode

_Pending = tuple[str, float, "str | int", str, str, bytes]
"""(kind, receive time in s, key — a JT/T 808 connection's number until written —, who,
role, data): kept as cheap to make as possible, formatted in the writer's thread."""


class Error(Exception):
    """Base of this module's errors."""


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """One input as the journal holds it."""

    kind: str
    at: dt.datetime
    key: str
    """The connection (``<start id>:<number>``) of ``jt808`` and ``feed`` input."""
    who: str
    """The feed account or the command's user."""
    role: str
    data: bytes


_US_PER_HOUR = 3_600_000_000


def _hour_name(at_us: int) -> str:
    return _name_of_hour(at_us // _US_PER_HOUR)


@functools.lru_cache(maxsize=64)
def _name_of_hour(hour: int) -> str:
    # Cached: formatting a datetime for every input was 4 % of a busy gateway's CPU.
    return dt.datetime.fromtimestamp(hour * 3600, dt.UTC).strftime("%Y%m%dT%H")


def segment_hour(path: Path) -> dt.datetime | None:
    """The UTC hour a segment starts, from its name (``None``: not a segment)."""
    try:
        return dt.datetime.strptime(path.name[:11], "%Y%m%dT%H").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


class InputJournal:
    """The append-only journal of one server process (see the module's docstring)."""

    def __init__(
        self,
        directory: Path,
        *,
        hours: float = DEFAULT_HOURS,
        max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if hours <= 0:
            raise ValueError(f"hours must be > 0, got {hours}")
        self.directory = directory
        self.hours = hours
        self.max_buffered_bytes = max_buffered_bytes
        self._clock = clock
        self.start_id = secrets.token_hex(4)
        """Names this process's segments and connections (numbers restart with it)."""
        self._pending: collections.deque[_Pending] = collections.deque()
        self._pending_bytes = 0
        self._connections = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._trouble = False
        self.dropped = 0
        """Inputs dropped because the disk did not keep up (since the start)."""
        self.written = 0
        """Inputs written (since the start)."""
        self._last_retention = 0.0

    @property
    def pending_bytes(self) -> int:
        """Roughly how much unwritten input is held in memory."""
        return self._pending_bytes

    # ------------------------------------------------------------------ recording

    def connection_key(self) -> str:
        """A new connection's key (unique across restarts)."""
        self._connections += 1
        return f"{self.start_id}:{self._connections}"

    def record(self, kind: str, key: str | int, who: str, role: str, data: bytes) -> None:
        """Keep one input (never blocks, never raises for a full buffer)."""
        self._pending.append((kind, self._clock(), key, who, role, data))
        self._pending_bytes += len(data) + 64
        if self._pending_bytes > self.max_buffered_bytes:
            self._drop_oldest()

    def record_jt808(self, connection: int | str, data: bytes) -> None:
        """Bytes read from a JT/T 808 connection (its number in the gateway)."""
        self._pending.append((JT808, self._clock(), connection, "", "", data))
        self._pending_bytes += len(data) + 64
        if self._pending_bytes > self.max_buffered_bytes:
            self._drop_oldest()

    def record_feed(self, key: str, account: str, text: str | bytes) -> None:
        """One device-feed message."""
        self.record(FEED, key, account, "", text.encode() if isinstance(text, str) else text)

    def record_command(self, user: str, role: str, text: str | bytes) -> None:
        """One console command as received (secret-bearing ones are left out)."""
        raw = text.encode() if isinstance(text, str) else text
        try:
            tag = _tag_of(raw).type
        except msgspec.DecodeError:
            return  # refused by the server as it came: nothing an officer did
        if tag in LEFT_OUT_COMMANDS:
            return
        self.record(COMMAND, "", user, role, raw)

    def _drop_oldest(self) -> None:
        if not self._trouble:
            self._trouble = True
            logger.warning(
                "input journal: the disk does not keep up; dropping the oldest unwritten "
                "input (ingest goes on; logged once until it recovers)"
            )
        while self._pending and self._pending_bytes > self.max_buffered_bytes // 2:
            dropped = self._pending.popleft()
            self._pending_bytes -= len(dropped[5]) + 64
            self.dropped += 1

    # ------------------------------------------------------------------ life cycle

    def start(self) -> None:
        """Start the writer task."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="input-journal")

    async def stop(self) -> None:
        """Write what is buffered (once more) and stop."""
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        try:
            # A stalled disk must not hold up the server's stop.
            async with asyncio.timeout(STOP_TIMEOUT):
                await self._flush()
        except (OSError, TimeoutError) as exc:
            if not self._trouble:  # else the outage's warning said it already
                logger.warning("input journal: the last input was not written: %s", exc)

    async def flush(self) -> None:
        """Write what is buffered now (raises ``OSError`` when the disk fails)."""
        await self._flush()

    async def _run(self) -> None:
        while True:
            try:
                await self._flush()
            except OSError as exc:
                self._failed(exc)
                await asyncio.sleep(RETRY_INTERVAL)
                continue
            if self._clock() - self._last_retention > 600:
                self._last_retention = self._clock()
                await asyncio.to_thread(self.delete_old)
            await asyncio.sleep(FLUSH_INTERVAL)

    def _failed(self, exc: OSError) -> None:
        if not self._trouble:
            self._trouble = True
            logger.warning(
                "input journal: cannot write to %s: %s (ingest goes on; the oldest input "
                "is dropped when the buffer fills; logged once until it recovers)",
                self.directory,
                exc.strerror or exc,
            )

    async def _flush(self) -> None:
        if not self._pending:
            return
        batch = list(self._pending)
        size = self._pending_bytes
        self._pending.clear()
        self._pending_bytes = 0
        try:
            await asyncio.to_thread(self._write, batch)
        except OSError:
            # Put it back in front of what came meanwhile (the bound still applies).
            self._pending.extendleft(reversed(batch))
            self._pending_bytes += size
            if self._pending_bytes > self.max_buffered_bytes:
                self._drop_oldest()
            raise
        self.written += len(batch)
        if self._trouble:
            self._trouble = False
            logger.warning("input journal: writing again (%s inputs dropped)", self.dropped)

    def _write(self, batch: list[_Pending]) -> None:
        """Append ``batch`` to its hourly segments (in a worker thread)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        by_hour: dict[str, bytearray] = {}
        start_id = self.start_id
        for kind, at, key, who, role, data in batch:
            at_us = int(at * 1e6)
            name = f"{start_id}:t{key}" if isinstance(key, int) else key
            payload = _encode((kind, at_us, name, who, role, data))
            out = by_hour.setdefault(_hour_name(at_us), bytearray())
            out += _HEAD.pack(MAGIC, len(payload), zlib.crc32(payload))
            out += payload
        for hour, chunk in by_hour.items():
            path = self.directory / f"{hour}-{self.start_id}{SEGMENT_SUFFIX}"
            with path.open("ab") as segment:
                segment.write(chunk)
                segment.flush()
                os.fsync(segment.fileno())

    def delete_old(self) -> int:
        """Delete segments older than :attr:`hours`; return how many."""
        cutoff = dt.datetime.fromtimestamp(self._clock(), dt.UTC) - dt.timedelta(hours=self.hours)
        deleted = 0
        for path in segments(self.directory):
            hour = segment_hour(path)
            if hour is not None and hour + dt.timedelta(hours=1) <= cutoff:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    deleted += 1
        if deleted:
            logger.info("input journal: %s segments older than %g h deleted", deleted, self.hours)
        return deleted


# ---------------------------------------------------------------------- reading


def segments(directory: Path) -> list[Path]:
    """The journal's segment files, oldest hour first."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith(SEGMENT_SUFFIX))


def read_segment(data: bytes) -> Iterator[JournalRecord]:
    """The records of one segment's bytes; torn or corrupt records are skipped."""
    position = 0
    end = len(data)
    while position + _HEAD.size <= end:
        magic, length, crc = _HEAD.unpack_from(data, position)
        start = position + _HEAD.size
        payload = data[start : start + length]
        if (
            magic != MAGIC
            or length > MAX_RECORD_BYTES
            or len(payload) != length
            or zlib.crc32(payload) != crc
        ):
            following = data.find(MAGIC, position + 1)
            if following < 0:
                return
            position = following
            continue
        position = start + length
        try:
            kind, at_us, key, who, role, raw = msgspec.msgpack.decode(payload)
            at = dt.datetime.fromtimestamp(at_us / 1e6, dt.UTC)
        except (msgspec.DecodeError, ValueError, TypeError, OverflowError):
            continue
        yield JournalRecord(str(kind), at, str(key), str(who), str(role), bytes(raw))


def read_window(
    directory: Path, window_from: dt.datetime, window_to: dt.datetime
) -> list[JournalRecord]:
    """Every record received in [window_from, window_to], in order of receive time (reads
    files: call it off the event loop)."""
    records: list[JournalRecord] = []
    first_hour = window_from.replace(minute=0, second=0, microsecond=0)
    for path in segments(directory):
        hour = segment_hour(path)
        if hour is None or hour < first_hour or hour > window_to:
            continue
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue  # deleted by retention meanwhile
        records.extend(r for r in read_segment(data) if window_from <= r.at <= window_to)
    records.sort(key=lambda record: record.at)
    return records


__all__ = [
    "COMMAND",
    "DEFAULT_HOURS",
    "FEED",
    "JT808",
    "InputJournal",
    "JournalRecord",
    "read_segment",
    "read_window",
    "segments",
]
