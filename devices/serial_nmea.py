"""Serial NMEA 0183 receivers (GPS/BeiDou) via pyserial: a coordinator per port.

:class:`NmeaSerialCoordinator` owns one serial port: it opens it non-blocking, waits for
data with ``loop.add_reader`` (never blocking the event loop), splits lines (bounded),
feeds them to :class:`~devices.nmea.NmeaMerger` (checksums required, no fix never becomes
a position) and submits the positions. When the port fails or disappears it logs once,
reports the device offline once, retries with exponential backoff, and when the port is
back it logs the recovery once and reports the device online.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import serial

from devices.nmea import MAX_LINE_LENGTH, NmeaError, NmeaMerger
from devices.observations import DeviceStatusChanged, Observation, ObservationSink, SinkGuard
from realtime.aio import cancel_and_wait

logger = logging.getLogger(__name__)

READ_SIZE = 4096

SerialOpener = Callable[[str, int], Any]
"""Opens a port and returns a pyserial ``Serial``-like object (``read``, ``fileno``, ``close``)."""


def open_serial(port_path: str, baud: int) -> serial.Serial:
    """Open ``port_path`` non-blocking (pyserial opens with O_NONBLOCK; ``timeout=0``)."""
    return serial.Serial(port_path, baud, timeout=0)


class NmeaSerialCoordinator:
    """Reads one serial NMEA receiver and submits its positions as ``device_id``.

    Run it with :meth:`start`/:meth:`close` (it keeps its task) or await :meth:`run`
    directly in a task of your own. ``reconnect_delay`` is the first retry delay after a
    failure; it doubles up to ``max_reconnect_delay``.
    """

    def __init__(
        self,
        port_path: str,
        baud: int,
        device_id: str,
        sink: ObservationSink,
        reconnect_delay: float = 1.0,
        *,
        max_reconnect_delay: float = 30.0,
        max_line_length: int = MAX_LINE_LENGTH,
        opener: SerialOpener = open_serial,
    ) -> None:
        self.port_path = port_path
        self.baud = baud
        self.device_id = device_id
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.max_line_length = max_line_length
        self._opener = opener
        self._merger = NmeaMerger(device_id)
        self._task: asyncio.Task[None] | None = None
        self.online: bool | None = None
        """``None`` before the first attempt, then whether the port is open and reading."""
        self._failing_since: dt.datetime | None = None
        self._guard = SinkGuard(sink, logger)
        self.problems: Counter[str] = Counter()
        """Bad lines seen, by kind (the first of each kind is logged)."""

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Run the coordinator in a task owned by this object."""
        if self._task is not None:
            raise RuntimeError("coordinator already started")
        self._task = asyncio.create_task(self.run(), name=f"nmea {self.port_path}")

    async def close(self) -> None:
        """Stop reading and close the port."""
        if self._task is not None:
            await cancel_and_wait(self._task)
            if not self._task.cancelled() and self._task.exception() is not None:
                logger.error(
                    "serial GPS %s reader crashed", self.device_id, exc_info=self._task.exception()
                )
            self._task = None

    async def run(self) -> None:
        """Open, read, and reopen with backoff on failure; runs until cancelled."""
        delay = self.reconnect_delay
        while True:
            try:
                port = self._opener(self.port_path, self.baud)
            except (serial.SerialException, OSError) as exc:
                await self._failed(f"cannot open {self.port_path}: {exc}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_reconnect_delay)
                continue
            try:
                await self._opened()
                delay = self.reconnect_delay
                await self._read(port)
            except (serial.SerialException, OSError) as exc:
                await self._flush()
                await self._failed(f"{self.port_path} failed: {exc}")
            finally:
                port.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_reconnect_delay)

    # ------------------------------------------------------------------ status

    async def _opened(self) -> None:
        if self._failing_since is not None:
            logger.info(
                "serial GPS %s on %s is back (failing since %s)",
                self.device_id,
                self.port_path,
                self._failing_since.isoformat(timespec="seconds"),
            )
            self._failing_since = None
        else:
            logger.info(
                "serial GPS %s reading %s at %s baud", self.device_id, self.port_path, self.baud
            )
        if self.online is not True:
            self.online = True
            await self._submit(
                DeviceStatusChanged(
                    device=self.device_id,
                    online=True,
                    at=dt.datetime.now(dt.UTC),
                    reason="port open",
                )
            )

    async def _failed(self, reason: str) -> None:
        if self._failing_since is None:
            self._failing_since = dt.datetime.now(dt.UTC)
            logger.warning("serial GPS %s: %s; retrying with backoff", self.device_id, reason)
        else:
            logger.debug("serial GPS %s: still failing: %s", self.device_id, reason)
        if self.online is not False:
            self.online = False
            await self._submit(
                DeviceStatusChanged(
                    device=self.device_id, online=False, at=dt.datetime.now(dt.UTC), reason=reason
                )
            )

    async def _submit(self, observation: Observation) -> bool:
        return await self._guard.submit(observation)

    # ------------------------------------------------------------------ reading

    async def _read(self, port: Any) -> None:
        loop = asyncio.get_running_loop()
        readable = asyncio.Event()
        fd = port.fileno()
        loop.add_reader(fd, readable.set)
        buffer = bytearray()
        discarding = False
        try:
            while True:
                await readable.wait()
                readable.clear()
                data: bytes = port.read(READ_SIZE)
                if not data:
                    continue
                buffer += data
                *lines, rest = buffer.split(b"\n")
                buffer = bytearray(rest)
                for line in lines:
                    if discarding:
                        discarding = False  # the tail of an over-long line
                        continue
                    await self._line(bytes(line))
                if len(buffer) > self.max_line_length:
                    self._problem(
                        "line_too_long", f"no line end within {self.max_line_length} bytes"
                    )
                    buffer.clear()
                    discarding = True
        finally:
            loop.remove_reader(fd)

    async def _line(self, raw: bytes) -> None:
        line = raw.strip()
        if not line:
            return
        try:
            positions = self._merger.feed(line)
        except NmeaError as exc:
            self._problem(type(exc).__name__, str(exc))
            return
        for position in positions:
            await self._submit(position)

    async def _flush(self) -> None:
        for position in self._merger.flush():
            await self._submit(position)

    def _problem(self, kind: str, detail: str) -> None:
        self.problems[kind] += 1
        if self.problems[kind] == 1:
            logger.warning(
                "serial GPS %s: %s (further %s are counted, not logged)",
                self.device_id,
                detail,
                kind,
            )
        else:
            logger.debug("serial GPS %s: %s", self.device_id, detail)
