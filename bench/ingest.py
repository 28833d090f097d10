"""Ingest benchmark: JT/T 808 terminals → gateway → group commit → a subscribed console.

A separate process opens M terminal connections (real TCP, registration and
authentication) and sends location frames at a fixed rate; the backend (SQLite, in this
process) decodes, stores by group commit and fans out coalesced positions to one
subscribed console. Printed: locations stored per second, the latency from a frame being
sent to the console receiving that fix (p50/p99), and the ratio of the throughput to a raw
ceiling measured in the same run: the same frames only split and decoded, nothing stored
or sent. Last, the load generator's own CPU per frame and whether it kept to the offered
rate (it shares the machine with the backend).

    .venv/bin/python bench/ingest.py [--terminals 400] [--rate 10] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import dataclasses
import datetime as dt
import json
import multiprocessing
import os
import selectors
import socket
import statistics
import struct
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypedDict, cast

from sqlalchemy import func, select
from track_load import QuietListener, bench_database

from backend.ingest.telemetry import TelemetryWriter
from backend.runtime.collector import short_collections
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from backend.storage import db
from backend.storage.models import PositionRecord
from devices.jt808.codec import (
    FrameDecoder,
    encode_frame,
    encode_general_reply,
    frame_positions,
)
from devices.jt808.framing import Header
from devices.jt808.messages import (
    Authentication,
    Location,
    PlatformGeneralReply,
    Register,
    RegisterReply,
)
from devices.observations import Position
from realtime import eventloop
from realtime.client import ConnectionState, DutyDeskClient
from realtime.protocol import Role, Subscribe, Telemetry

PHONE_BASE = 13_700_000_000
LAT_BASE = 30.0
"""Latitude carries the frame's sequence number: lat = LAT_BASE + seq / 1e6."""


def _frame(phone: str, seq: int, serial: int, rate: float = 1.0) -> bytes:
    # Device time advances with the frames (whole seconds on the wire), as a real
    # terminal's does; the rules see in-order fixes.
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seq / rate)
    location = Location.from_degrees(
        lat=LAT_BASE + seq / 1e6,
        lon=120.0 + int(phone) % 10_000 / 1e4,
        time=at.replace(microsecond=0),
        speed_kmh=60.0,
        heading_deg=90,
    )
    return encode_frame(location, phone=phone, serial=serial)


# ---------------------------------------------------------------------- load process
#
# The load process shares the machine with the backend under test, so its hot loop is
# kept cheap: no task, future or stream per frame, no wake-up per reply. Terminals log in
# over asyncio (not measured); then one synchronous loop drives every terminal's raw
# non-blocking socket: every tick it reads the replies that arrived (the kernel stamped
# their arrival) and sends every frame that is due. What is left per frame is mostly the
# kernel's: one send and (about) one receive.

SEND_TICK = 0.002
"""The sender's tick: frames that fall due between two ticks leave together, each
stamped as it is handed to the kernel, at most about one tick behind its schedule."""
LATE_AFTER = 0.010
"""A frame sent more than this behind its schedule counts as late (the generator lagged)."""
TAIL = 1.0
"""After the last frame: how long the replies still have to arrive before closing."""
_KERNEL_STAMPS = sys.platform == "linux"
_SO_TIMESTAMPNS = 35
"""Linux: the kernel stamps each segment's arrival (CLOCK_REALTIME); Python has no name."""
_TIMESPEC = struct.Struct("@qq")
_STAMP_SPACE = socket.CMSG_SPACE(_TIMESPEC.size) if _KERNEL_STAMPS else 0


class LoadStats(TypedDict):
    """How the load process itself fared, to tell when the generator is the bottleneck."""

    frames: int
    offered_per_s: float
    sent_per_s: float
    """Frames handed to the kernel per second over the sending phase."""
    late: int
    """Frames sent more than LATE_AFTER behind their schedule."""
    max_lag_ms: float
    start_lag_ms: float
    """How late the first frame left (frame encoding can run past the planned start)."""
    cpu_us_per_frame: float
    """Load process CPU (sending, reading replies, until closing) per frame sent."""
    busy: float
    """Load process CPU / wall clock while sending: near 1.0 means one core saturated."""
    blocked: int
    """Frames the kernel did not take at once (buffered in order, retried every tick)."""
    unsent_bytes: int
    """Bytes still buffered when the connections were closed."""
    dead: int
    """Connections closed or reset under the load."""
    acked: int


class Timings(TypedDict):
    sent: dict[str, list[float]]
    """Per terminal, the wall clock at which each frame was sent (index = sequence number)."""
    acked: dict[str, list[float]]
    """Per terminal, the wall clock at which each 0x8001 arrived (in order)."""
    load: LoadStats


async def _login(sock: socket.socket, phone: str) -> None:
    """Register and authenticate over the raw socket (login is not measured)."""
    loop = asyncio.get_running_loop()
    decoder = FrameDecoder()

    async def answer() -> object:
        while True:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 4096), 60.0)
            if not chunk:
                raise ConnectionError("gateway closed the connection during login")
            for item in decoder.feed(chunk):
                if not isinstance(item, Exception):
                    return item.message

    register = Register(
        province=31,
        city=100,
        maker="BENCH",
        model="B1",
        terminal_id=phone[-7:],
        plate_color=1,
        plate=f"沪B{phone[-5:]}",
    )
    await loop.sock_sendall(sock, encode_frame(register, phone=phone, serial=1))
    reply = await answer()
    if not isinstance(reply, RegisterReply) or not reply.auth_code:
        raise ConnectionError(f"terminal {phone}: registration refused: {reply!r}")
    authentication = Authentication(auth_code=reply.auth_code)
    await loop.sock_sendall(sock, encode_frame(authentication, phone=phone, serial=2))
    if not isinstance(await answer(), PlatformGeneralReply):
        raise ConnectionError(f"terminal {phone}: authentication not answered")


async def _connect(port: int, phone: str, login: bool) -> socket.socket:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        # As asyncio's own transports do: every frame leaves as soon as it is written.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await loop.sock_connect(sock, ("127.0.0.1", port))
        if login:
            await _login(sock, phone)
    except BaseException:
        sock.close()
        raise
    return sock


async def _connect_all(port: int, phones: list[str], login: bool) -> list[socket.socket]:
    # Log in in waves; registration is not what is measured.
    tasks: list[asyncio.Task[socket.socket]] = []
    for index, phone in enumerate(phones):
        tasks.append(asyncio.create_task(_connect(port, phone, login)))
        if index % 100 == 99:
            await asyncio.sleep(0.05)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    socks = [result for result in results if isinstance(result, socket.socket)]
    errors = [result for result in results if isinstance(result, BaseException)]
    if errors:
        for sock in socks:
            sock.close()
        raise errors[0]
    return socks


@dataclasses.dataclass(slots=True, eq=False)
class _Terminal:
    phone: str
    sock: socket.socket
    frames: list[bytes]
    sent: list[float] = dataclasses.field(default_factory=list)
    acked: list[float] = dataclasses.field(default_factory=list)
    flags: int = 0
    """0x7E flags received: every 0x8001 is one frame, two flags; replies come in order."""
    backlog: bytearray = dataclasses.field(default_factory=bytearray)
    """Bytes the kernel did not take yet; later frames queue behind them, in order."""
    alive: bool = True


class _Driver:
    """Sends every terminal's frames on one schedule and collects the replies.

    Terminal i's frame k is due at ``start + (k + i / M) / rate``: every terminal keeps its
    own fixed rate, the phases spread evenly over one interval so the offered load is
    smooth. One thread wakes every SEND_TICK: it reads whatever replies arrived, then sends
    every frame that is due, each timestamped as it is handed to the kernel. Nothing per
    frame but the send, the timestamp and a list append; no wake-up per reply.

    Where the kernel stamps arrivals (Linux, SO_TIMESTAMPNS), a reply's time is when it
    reached the socket, not when the tick read it; elsewhere it is the read's time (up to
    one tick late).
    """

    def __init__(self, terminals: list[_Terminal]) -> None:
        self.terminals = terminals
        self.selector = selectors.DefaultSelector()
        for terminal in terminals:
            if _KERNEL_STAMPS:
                terminal.sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
            self.selector.register(terminal.sock, selectors.EVENT_READ, terminal)
        self.backlogged: list[_Terminal] = []
        self.buffer = memoryview(bytearray(65536))
        self.blocked = 0
        self.dead = 0

    def _receive(self) -> None:
        """Read every socket that has something: count the replies, stamp their arrival."""
        now = 0.0
        buffer = self.buffer
        for key, _ in self.selector.select(0):
            terminal: _Terminal = key.data
            try:
                # Into one preallocated buffer: recvmsg(64 KiB) would allocate per read.
                received, ancillary, _, _ = terminal.sock.recvmsg_into([buffer], _STAMP_SPACE)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                received = 0
            if not received:
                self._drop(terminal)
                continue
            terminal.flags += buffer[:received].tobytes().count(0x7E)
            acked = terminal.acked
            missing = (terminal.flags >> 1) - len(acked)
            if missing > 0:
                if ancillary:
                    # The arrival of the last segment read (replies of one write share it).
                    seconds, nanoseconds = _TIMESPEC.unpack_from(ancillary[0][2])
                    at = seconds + nanoseconds * 1e-9
                else:
                    at = now = now or time.time()
                acked.extend([at] * missing)

    def _drop(self, terminal: _Terminal) -> None:
        if terminal.alive:
            terminal.alive = False
            self.dead += 1
            self.selector.unregister(terminal.sock)

    def _send(self, terminal: _Terminal, frame: bytes) -> None:
        if terminal.backlog:
            terminal.backlog += frame
            self.blocked += 1
            return
        try:
            written = terminal.sock.send(frame)
        except (BlockingIOError, InterruptedError):
            written = 0
        except OSError:
            self._drop(terminal)
            return
        if written < len(frame):
            terminal.backlog += frame[written:]
            self.backlogged.append(terminal)
            self.blocked += 1

    def _flush(self) -> None:
        """Retry what the kernel did not take at the last tick, in order, before new frames."""
        waiting = self.backlogged
        self.backlogged = []
        for terminal in waiting:
            if not terminal.alive:
                continue
            try:
                written = terminal.sock.send(terminal.backlog)
            except (BlockingIOError, InterruptedError):
                written = 0
            except OSError:
                self._drop(terminal)
                continue
            del terminal.backlog[:written]
            if terminal.backlog:
                self.backlogged.append(terminal)

    def run(self, rate: float, start: float) -> LoadStats:
        terminals = self.terminals
        count = len(terminals)
        per_terminal = len(terminals[0].frames) if terminals else 0
        total = count * per_terminal
        step = 1.0 / (rate * count) if count else 0.0
        clock = time.time
        sleep = time.sleep
        send = self._send
        receive = self._receive
        if (wait := start - clock()) > 0:
            sleep(wait)
        cpu_started = time.process_time()
        started = clock()
        # Event j is terminal j % count's frame j // count, due at start + j * step.
        j = 0
        tick = started
        while j < total:
            receive()
            if self.backlogged:
                self._flush()
            due = min(total, int((clock() - start) / step) + 1)
            while j < due:
                frame_index, index = divmod(j, count)
                terminal = terminals[index]
                terminal.sent.append(clock())
                if terminal.alive:
                    send(terminal, terminal.frames[frame_index])
                j += 1
            tick += SEND_TICK
            # With the kernel stamping replies, nothing needs a wake-up before the next
            # frame is due; without, the replies' times need a read every tick.
            until = max(tick, start + j * step) if _KERNEL_STAMPS else tick
            if (wait := until - clock()) > 0:
                sleep(wait)
            else:
                tick = clock()  # behind: no catching up on ticks, only on frames
        cpu_sent = time.process_time()
        end = clock() + TAIL
        while clock() < end:
            receive()
            if self.backlogged:
                self._flush()
            sleep(0.01 if _KERNEL_STAMPS else SEND_TICK)
        receive()
        cpu_used = time.process_time() - cpu_started
        unsent = sum(len(terminal.backlog) for terminal in terminals)
        self.selector.close()
        if not total:
            nan = float("nan")
            return {
                "frames": 0,
                "offered_per_s": rate * count,
                "sent_per_s": nan,
                "late": 0,
                "max_lag_ms": nan,
                "start_lag_ms": nan,
                "cpu_us_per_frame": nan,
                "busy": nan,
                "blocked": 0,
                "unsent_bytes": 0,
                "dead": self.dead,
                "acked": 0,
            }
        first_sent = terminals[0].sent[0]
        last_sent = terminals[-1].sent[-1]
        # How far behind its schedule each frame left (counted after, not in the hot loop).
        lags = [
            sent_at - start - (frame_index * count + index) * step
            for index, terminal in enumerate(terminals)
            for frame_index, sent_at in enumerate(terminal.sent)
        ]
        return {
            "frames": total,
            "offered_per_s": rate * count,
            "sent_per_s": (total - 1) / (last_sent - first_sent) if total > 1 else float("nan"),
            "late": sum(1 for lag in lags if lag > LATE_AFTER),
            "max_lag_ms": max(lags) * 1000,
            "start_lag_ms": (first_sent - start) * 1000,
            "cpu_us_per_frame": cpu_used / total * 1e6,
            "busy": (cpu_sent - cpu_started) / (last_sent - started)
            if last_sent > started
            else float("nan"),
            "blocked": self.blocked,
            "unsent_bytes": unsent,
            "dead": self.dead,
            "acked": sum(len(terminal.acked) for terminal in terminals),
        }


@dataclasses.dataclass(frozen=True)
class _LoadSpec:
    port: int
    terminals: int
    rate: float
    seconds: float
    login: bool
    results: Path
    """Where the load process writes its Timings (JSON), read once the backend's CPU is
    counted: parsing them must not count as the backend's work."""
    cpus: frozenset[int] | None = None
    """CPUs the load process is confined to (``--pin``), else any."""


def _frames_per_terminal(rate: float, seconds: float) -> int:
    return int(rate * seconds)


def _load(spec: _LoadSpec) -> Timings:
    phones = [str(PHONE_BASE + i) for i in range(spec.terminals)]
    socks = asyncio.run(_connect_all(spec.port, phones, spec.login))
    logged_in = time.time()
    try:
        # Frames are encoded before the clock starts: the generator must not be the
        # bottleneck.
        per_terminal = _frames_per_terminal(spec.rate, spec.seconds)
        terminals = [
            _Terminal(
                phone,
                sock,
                [
                    _frame(phone, seq, serial=(seq + 10) % 65536, rate=spec.rate)
                    for seq in range(per_terminal)
                ],
            )
            for phone, sock in zip(phones, socks, strict=True)
        ]
        # Everyone starts together, half a second after the last login (or as soon as
        # the frames are ready, if encoding them took longer).
        start = max(logged_in + 0.5, time.time() + 0.05)
        stats = _Driver(terminals).run(spec.rate, start)
    finally:
        for sock in socks:
            sock.close()
    return {
        "sent": {terminal.phone: terminal.sent for terminal in terminals},
        "acked": {terminal.phone: terminal.acked for terminal in terminals},
        "load": stats,
    }


def _pin(cpus: frozenset[int] | None) -> None:
    """Confine this process's thread (and the threads it starts later) to ``cpus``."""
    if cpus:
        os.sched_setaffinity(0, cpus)


def _pin_backend() -> frozenset[int]:
    """Put this process (the backend) on its first allowed CPU; return the others, for
    the load and console processes. Call before any thread starts: threads inherit it."""
    if not hasattr(os, "sched_setaffinity"):
        raise SystemExit("--pin needs Linux (sched_setaffinity)")
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        raise SystemExit(f"--pin needs at least 2 CPUs, this process may use {len(allowed)}")
    os.sched_setaffinity(0, {allowed[0]})
    return frozenset(allowed[1:])


def _load_process(spec: _LoadSpec, done: multiprocessing.Queue[str]) -> None:
    try:
        _pin(spec.cpus)
        spec.results.write_text(json.dumps(_load(spec)))
    except BaseException as exc:
        done.put(f"{type(exc).__name__}: {exc}")
        raise
    done.put("")


async def _run_load(spec: _LoadSpec) -> None:
    """Run the load process to its end; its Timings are then in ``spec.results``."""
    context = multiprocessing.get_context("spawn")
    done: multiprocessing.Queue[str] = context.Queue()
    process = context.Process(target=_load_process, args=(spec, done))
    process.start()
    error = await asyncio.to_thread(done.get)
    await asyncio.to_thread(process.join)
    if error:
        raise RuntimeError(f"load process failed: {error}")


def _timings(path: Path) -> Timings:
    timings: Timings = json.loads(path.read_text())
    return timings


# ---------------------------------------------------------------------- I/O ceiling


class _Answerer(asyncio.BufferedProtocol):
    """The I/O ceiling's server side: count frames by their 0x7E flags and answer each with
    a prebuilt 0x8001, reading into one preallocated buffer (the cheapest asyncio read)."""

    buffer = memoryview(bytearray(64 * 1024))
    frames = 0

    def __init__(self, reply: bytes) -> None:
        self._reply = reply
        self._flags = 0
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)
        self._transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        self._flags += self.buffer[:nbytes].tobytes().count(0x7E)
        complete, self._flags = divmod(self._flags, 2)
        _Answerer.frames += complete
        if complete and self._transport is not None:
            self._transport.write(self._reply * complete)


async def io_ceiling(
    terminals: int,
    rate: float,
    seconds: float,
    scratch: Path,
    load_cpus: frozenset[int] | None = None,
) -> tuple[float, LoadStats]:
    """Backend CPU µs per frame for TCP alone: the same load against a bare server on the
    same event loop that answers every frame with a prebuilt 0x8001 (nothing decoded,
    stored or sent on). Also how the load process fared in that run."""
    reply = encode_general_reply(Header(msg_id=0x0200, phone="013700000000", serial=0), serial=0)
    loop = asyncio.get_running_loop()
    _Answerer.frames = 0
    server = await loop.create_server(lambda: _Answerer(reply), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    spec = _LoadSpec(
        port, terminals, rate, seconds, login=False, results=scratch / "io.json", cpus=load_cpus
    )
    cpu_started = time.process_time()
    await _run_load(spec)
    cpu_used = time.process_time() - cpu_started
    server.close()
    await server.wait_closed()
    frames = _Answerer.frames
    return (cpu_used / frames * 1e6 if frames else float("nan")), _timings(spec.results)["load"]


async def store_ceiling(
    pg_admin: str | None,
    scratch: Path,
    *,
    terminals: int,
    rate: float,
    seconds: float,
    commit_delay: float,
) -> tuple[float, int]:
    """Backend CPU µs per location for storing alone, and the fixes per commit.

    The same number of fixes (at most 100,000) from the same number of terminals go
    through the telemetry writer (same database kind, same commit window) in the batches
    the gateway hands it at the offered rate, one commit after another: nothing decoded,
    judged, answered or sent to a console. With the I/O ceiling it bounds what one core
    can do before any of the backend's own work.
    """
    rows = int(min(terminals * rate * seconds, 100_000))
    per_commit = max(1, round(terminals * rate * commit_delay))
    at = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    fixes = [
        Position(
            device=str(PHONE_BASE + n % terminals),
            at=at + dt.timedelta(seconds=n // terminals / rate),
            lat=30.25 + n % terminals / 1e4,
            lon=120.15,
            speed_kmh=42.0,
            heading_deg=90.0,
        )
        for n in range(rows)
    ]
    folder = scratch / "store-ceiling"
    folder.mkdir()
    async with bench_database(pg_admin, folder) as url:
        engine = db.create_engine(url)
        await db.migrate(engine)
        writer = TelemetryWriter(db.session_factory(engine), max_delay=commit_delay)
        writer.start()
        started = time.process_time()
        for offset in range(0, rows, per_commit):
            await writer.submit_many(fixes[offset : offset + per_commit])
        used = time.process_time() - started
        await writer.stop()
        await engine.dispose()
    return used / rows * 1e6, per_commit


# ---------------------------------------------------------------------- ceiling


def raw_ceiling(frames: int = 50_000) -> float:
    """Frames per second for splitting and decoding alone, on the same kind of frames."""
    data = b"".join(_frame(str(PHONE_BASE + i % 1000), i, i % 65536) for i in range(frames))
    decoder = FrameDecoder()
    started = time.perf_counter()
    positions = 0
    for offset in range(0, len(data), 4096):
        for item in decoder.feed(data[offset : offset + 4096]):
            if not isinstance(item, Exception):
                positions += len(frame_positions(item))
    elapsed = time.perf_counter() - started
    assert positions == frames
    return frames / elapsed


class _Commits:
    """When the telemetry writer's row count last grew (sampled every 5 ms)."""

    def __init__(self, server: DutyDeskServer) -> None:
        self._server = server
        self.rows = server.telemetry.rows_written
        self.changed_at = time.time()

    async def watch(self) -> None:
        while True:
            rows = self._server.telemetry.rows_written
            if rows != self.rows:
                self.rows, self.changed_at = rows, time.time()
            await asyncio.sleep(0.005)

    async def all_stored(self, target_rows: int) -> float:
        """Wait until ``target_rows`` are stored (or nothing more is for 2 s); return the
        wall clock of the last commit."""
        quiet_since = time.time()
        last = self.rows
        while self.rows < target_rows:
            await asyncio.sleep(0.02)
            if self.rows != last:
                last, quiet_since = self.rows, time.time()
            elif time.time() - quiet_since > 2.0:
                break
        return self.changed_at


def _thread_cpu() -> dict[int, float]:
    """CPU seconds used so far by each thread of this process (Linux; else empty)."""
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return {}
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[int, float] = {}
    for task in tasks.iterdir():
        with contextlib.suppress(OSError):
            # Fields after the command name: utime and stime are the 12th and 13th.
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            used[int(task.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return used


# ---------------------------------------------------------------------- console side


class _Console(QuietListener):
    def __init__(self) -> None:
        self.received: list[tuple[str, int, float]] = []
        self.live = asyncio.Event()
        """Set on every (re)connection."""
        self.subscribed = asyncio.Event()
        self.resubscribed = 0

    def on_state(self, state: object, detail: str) -> None:
        if state is ConnectionState.LIVE:
            self.live.set()

    def on_telemetry(self, telemetry: Telemetry) -> None:
        now = time.time()
        for position in telemetry.positions:
            seq = round((position.lat - LAT_BASE) * 1e6)
            self.received.append((position.device, seq, now))


# The console is another program (on another machine): it runs in a process of its own,
# so that decoding what it receives does not count as the backend's work.


@dataclasses.dataclass(frozen=True)
class _ConsoleSpec:
    url: str
    results: Path
    """Where the consoles write what they received: [device, seq, wall clock] per fix
    (every console's, one list)."""
    cpus: frozenset[int] | None = None
    count: int = 1
    """Consoles in the process (on a port shared by workers each lands on some worker)."""


def _console_process(
    spec: _ConsoleSpec, ready: multiprocessing.Queue[str], stop: threading.Event
) -> None:
    try:
        _pin(spec.cpus)
        asyncio.run(_run_console(spec, ready, stop))
    except BaseException as exc:
        ready.put(f"{type(exc).__name__}: {exc}")
        raise


async def _run_console(
    spec: _ConsoleSpec, ready: multiprocessing.Queue[str], stop: threading.Event
) -> None:
    consoles = [_Console() for _ in range(spec.count)]
    clients = [
        DutyDeskClient(
            spec.url,
            console,
            username="bench",
            password="bench-password",
            on_telemetry=console.on_telemetry,
        )
        for console in consoles
    ]
    cpu_at_start = time.process_time()
    client_tasks = [asyncio.create_task(client.run()) for client in clients]
    subscribers = [
        asyncio.create_task(_keep_subscribed(client, console))
        for client, console in zip(clients, consoles, strict=True)
    ]
    try:
        for console in consoles:
            await asyncio.wait_for(console.subscribed.wait(), 20)
        ready.put("")
        await asyncio.to_thread(stop.wait)
    finally:
        for subscriber in subscribers:
            subscriber.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await subscriber
        for client in clients:
            await client.close()
        for task in client_tasks:
            await task
    # The consoles' own CPU: decoding every fix is work a busy machine also waits for.
    fixes = sum(len(console.received) for console in consoles)
    cpu = time.process_time() - cpu_at_start
    print(
        f"(consoles: {len(consoles)} in one process, {fixes:,} fixes received, {cpu:.1f} s "
        f"CPU = {cpu / max(fixes, 1) * 1e6:.1f} µs per fix)",
        flush=True,
    )
    resubscribed = sum(console.resubscribed for console in consoles)
    if resubscribed:
        print(f"(consoles were cut off and came back {resubscribed}x)", flush=True)
    spec.results.write_text(json.dumps([fix for c in consoles for fix in c.received]))


async def _keep_subscribed(client: DutyDeskClient, console: _Console) -> None:
    """Subscribe again each time the console comes back, as the desktop does: the
    server forgets subscriptions with the connection (a slow console is cut off)."""
    while True:
        await console.live.wait()
        console.live.clear()
        await client.request(Subscribe(req="", topics=["positions"]))
        if console.subscribed.is_set():
            console.resubscribed += 1
        console.subscribed.set()


@contextlib.asynccontextmanager
async def _console_running(spec: _ConsoleSpec) -> AsyncIterator[None]:
    """Subscribed consoles in a process of their own for the duration of the block."""
    context = multiprocessing.get_context("spawn")
    ready: multiprocessing.Queue[str] = context.Queue()
    stop = context.Event()
    process = context.Process(target=_console_process, args=(spec, ready, stop))
    process.start()
    try:
        error = await asyncio.to_thread(ready.get)
        if error:
            raise RuntimeError(f"console process failed: {error}")
        yield
    finally:
        stop.set()
        await asyncio.to_thread(process.join, 30)
        if process.is_alive():
            process.kill()


async def main(
    terminals: int,
    rate: float,
    seconds: float,
    *,
    commit_delay: float = 0.01,
    fanout_interval: float = 0.025,
    profiler: cProfile.Profile | None = None,
    pg_admin: str | None = None,
    load_cpus: frozenset[int] | None = None,
    record_inputs: bool = True,
) -> dict[str, Any]:
    """Run the whole benchmark; ``load_cpus`` confines the load and console processes;
    ``record_inputs`` keeps the input journal (as ``serve`` does unless --no-journal)."""
    ceiling = raw_ceiling()
    with tempfile.TemporaryDirectory(prefix="dutydesk-ingest-") as scratch:
        return await _measure(
            terminals,
            rate,
            seconds,
            ceiling,
            Path(scratch),
            commit_delay=commit_delay,
            fanout_interval=fanout_interval,
            profiler=profiler,
            pg_admin=pg_admin,
            load_cpus=load_cpus,
            record_inputs=record_inputs,
        )


async def _measure(
    terminals: int,
    rate: float,
    seconds: float,
    ceiling: float,
    scratch: Path,
    *,
    commit_delay: float,
    fanout_interval: float,
    profiler: cProfile.Profile | None,
    pg_admin: str | None,
    load_cpus: frozenset[int] | None,
    record_inputs: bool = True,
) -> dict[str, Any]:
    io_cpu_us, io_load = await io_ceiling(terminals, rate, seconds, scratch, load_cpus)
    store_cpu_us, store_per_commit = await store_ceiling(
        pg_admin,
        scratch,
        terminals=terminals,
        rate=rate,
        seconds=seconds,
        commit_delay=commit_delay,
    )
    async with contextlib.AsyncExitStack() as stack:
        db_url = await stack.enter_async_context(bench_database(pg_admin, scratch))
        config = ServerConfig(
            db_url=db_url,
            data_dir=scratch,
            port=0,
            cipher=FieldCipher.generate(),
            jt808_listen=("127.0.0.1", 0),
            jt808_auto_register=True,
            jt808_max_frames_per_second=rate * 5,
            telemetry_commit_delay=commit_delay,
            telemetry_fanout_interval=fanout_interval,
            record_inputs=record_inputs,
        )
        server = DutyDeskServer(config)
        await server.start()
        stack.push_async_callback(server.close)
        await stack.enter_async_context(short_collections())  # as `dutydesk serve` does
        await server.users.add_user("bench", "bench-password", Role.OFFICER)
        console_spec = _ConsoleSpec(
            f"ws://127.0.0.1:{server.port}/console", scratch / "console.json", cpus=load_cpus
        )
        await stack.enter_async_context(_console_running(console_spec))
        assert server.jt808_port is not None
        load_spec = _LoadSpec(
            server.jt808_port,
            terminals,
            rate,
            seconds,
            login=True,
            results=scratch / "load.json",
            cpus=load_cpus,
        )
        load = asyncio.create_task(_run_load(load_spec))
        # Measure the steady state only, not the terminals logging in.
        gateway = server.jt808_gateway
        assert gateway is not None
        login_started = time.perf_counter()
        while len(gateway.online_terminals) < terminals and not load.done():
            await asyncio.wait({load}, timeout=0.05)
        login_s = time.perf_counter() - login_started
        online = len(gateway.online_terminals)
        print(f"({online} of {terminals} terminals online after {login_s:.1f} s)", flush=True)
        if profiler is not None:
            profiler.enable()
        threads_before = _thread_cpu()
        cpu_started = time.process_time()
        rows_before = server.telemetry.rows_written
        commits = _Commits(server)
        watcher = asyncio.create_task(commits.watch())
        await load
        # An overloaded backend is still working when the load ends: the CPU and the
        # throughput count until everything sent is stored (or storing stops).
        total_frames = terminals * _frames_per_terminal(rate, seconds)
        all_stored_at = await commits.all_stored(rows_before + total_frames)
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        cpu_used = time.process_time() - cpu_started
        threads_after = _thread_cpu()
        loop_thread = threading.get_native_id()
        loop_thread_cpu = threads_after.get(loop_thread, 0.0) - threads_before.get(loop_thread, 0.0)
        if profiler is not None:
            profiler.disable()
        await asyncio.sleep(0.5)  # the console's last tick
        async with server.sessions() as session:
            stored = int(
                await session.scalar(select(func.count()).select_from(PositionRecord)) or 0
            )
        await stack.aclose()  # the console, the server, then its database
        record = _timings(load_spec.results)
        sent, acked = record["sent"], record["acked"]
        console_received: list[tuple[str, int, float]] = json.loads(
            console_spec.results.read_text()
        )

    total_sent = sum(len(times) for times in sent.values())
    all_times = [t for times in sent.values() for t in times]
    # From the first frame sent to the last location committed.
    span = all_stored_at - min(all_times) if all_times else 0.0
    drain_s = all_stored_at - max(all_times) if all_times else float("nan")
    latencies = [
        (received - sent[device][seq]) * 1000
        for device, seq, received in console_received
        if device in sent and 0 <= seq < len(sent[device])
    ]
    latencies.sort()
    ack_latencies = sorted(
        (ack - sent_at) * 1000
        for phone, times in sent.items()
        for sent_at, ack in zip(times, acked[phone], strict=False)
    )
    return {
        "terminals": terminals,
        "login_s": login_s,
        "online": online,
        "offered_per_s": terminals * rate,
        "sent": total_sent,
        "stored": stored,
        "stored_per_s": stored / span if span else 0.0,
        "drain_s": drain_s,
        "latency_samples": len(latencies),
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan"),
        "ceiling_per_s": ceiling,
        "cpu_us_per_location": cpu_used / stored * 1e6 if stored else float("nan"),
        "loop_cpu_us_per_location": (
            loop_thread_cpu / stored * 1e6 if stored and threads_after else float("nan")
        ),
        "io_cpu_us_per_frame": io_cpu_us,
        "store_cpu_us_per_location": store_cpu_us,
        "store_per_commit": store_per_commit,
        "ack_p50_ms": statistics.median(ack_latencies) if ack_latencies else float("nan"),
        "ack_p99_ms": (
            ack_latencies[int(len(ack_latencies) * 0.99) - 1] if ack_latencies else float("nan")
        ),
        "load": record["load"],
        "io_load": io_load,
    }


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--terminals", type=int, default=400)
    parser.add_argument("--rate", type=float, default=10.0, help="frames per second per terminal")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--commit-delay", type=float, default=0.01, help="group commit window (s)")
    parser.add_argument("--fanout", type=float, default=0.025, help="console telemetry tick (s)")
    parser.add_argument(
        "--profile", type=Path, help="write a cProfile of the backend process to this file"
    )
    parser.add_argument(
        "--pg",
        metavar="URL",
        help="PostgreSQL admin URL (e.g. $DUTYDESK_TEST_PG): store in a fresh database there",
    )
    parser.add_argument(
        "--loop",
        choices=eventloop.CHOICES,
        default=None,
        help="event loop of the backend (default: as `dutydesk serve`, uvloop when installed)",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="Linux: run the backend on one CPU and the load generator and the console on "
        "the others, so that 'one core' is measured literally",
    )
    parser.add_argument(
        "--no-journal",
        action="store_true",
        help="run without the input journal (as `serve --no-journal`), to see its cost",
    )
    args = parser.parse_args()
    load_cpus = _pin_backend() if args.pin else None
    profiler = cProfile.Profile() if args.profile else None
    loop_name, _ = eventloop.loop_factory(args.loop)
    result = eventloop.run(
        main(
            args.terminals,
            args.rate,
            args.seconds,
            commit_delay=args.commit_delay,
            fanout_interval=args.fanout,
            profiler=profiler,
            pg_admin=args.pg,
            load_cpus=load_cpus,
            record_inputs=not args.no_journal,
        ),
        choice=loop_name,
    )
    if profiler is not None:
        profiler.dump_stats(args.profile)
    print(f"event loop             {loop_name}")
    print(f"input journal          {'off' if args.no_journal else 'on'}")
    if load_cpus is not None:
        print(
            f"CPUs                   backend on {min(os.sched_getaffinity(0))} only; "
            f"load and console on {', '.join(map(str, sorted(load_cpus)))}"
        )
    print(
        f"terminals              {result['terminals']} ({result['online']} registered, "
        f"authenticated and online {result['login_s']:.1f} s after the load process started)"
    )
    print(f"offered                {result['offered_per_s']:,.0f} locations/s")
    print(f"sent / stored          {result['sent']:,} / {result['stored']:,}")
    print(
        f"stored                 {result['stored_per_s']:,.0f} locations/s "
        f"(all stored {result['drain_s']:.2f} s after the last frame was sent)"
    )
    print(
        f"sent → console  p50    {result['p50_ms']:.1f} ms   p99 {result['p99_ms']:.1f} ms "
        f"({result['latency_samples']:,} samples)"
    )
    print(
        f"sent → 0x8001 ack p50  {result['ack_p50_ms']:.1f} ms   p99 {result['ack_p99_ms']:.1f} ms"
    )
    print(
        f"backend CPU            {result['cpu_us_per_location']:.1f} µs per location "
        f"(one core ≈ {1e6 / result['cpu_us_per_location']:,.0f} locations/s)"
    )
    print(
        f"  of which event loop  {result['loop_cpu_us_per_location']:.1f} µs "
        "(the rest: database threads)"
    )
    print(
        f"TCP alone (I/O ceiling) {result['io_cpu_us_per_frame']:.1f} µs per frame "
        f"(one core ≈ {1e6 / result['io_cpu_us_per_frame']:,.0f} frames/s); "
        f"ratio {result['io_cpu_us_per_frame'] / result['cpu_us_per_location']:.2f}"
    )
    store_us = result["store_cpu_us_per_location"]
    print(
        f"storing alone          {store_us:.1f} µs per location "
        f"({result['store_per_commit']:,} per commit; ratio "
        f"{store_us / result['cpu_us_per_location']:.2f})"
    )
    floor_us = result["io_cpu_us_per_frame"] + store_us
    print(
        f"floor (TCP + storing)  {floor_us:.1f} µs per location: one core ≤ "
        f"{1e6 / floor_us:,.0f} locations/s with nothing decoded, judged or fanned out; "
        f"at the offered rate that is {floor_us * result['offered_per_s'] / 1e6:.0%} of a core"
    )
    print(f"raw decode ceiling     {result['ceiling_per_s']:,.0f} frames/s")
    print(f"ratio stored/ceiling   {result['stored_per_s'] / result['ceiling_per_s']:.2f}")
    _print_load("load generator", result["load"])
    _print_load("  (I/O ceiling run)", result["io_load"])


def _print_load(title: str, load: LoadStats) -> None:
    """The load process's own cost, and whether it kept to the offered rate."""
    behind = (
        load["late"] > 0.01 * load["frames"] or load["sent_per_s"] < 0.98 * load["offered_per_s"]
    )
    print(
        f"{title:<22} {load['cpu_us_per_frame']:.1f} µs CPU per frame, "
        f"{load['busy']:.0%} of a core while sending"
    )
    print(
        f"{'':<22} sent {load['sent_per_s']:,.0f}/s of {load['offered_per_s']:,.0f}/s offered; "
        f"{load['late']:,} frames > {LATE_AFTER * 1000:.0f} ms late "
        f"(max {load['max_lag_ms']:.1f} ms, first frame {load['start_lag_ms']:.1f} ms)"
    )
    if behind or load["busy"] > 0.8:
        print(
            f"{'':<22} the load fell behind its schedule or used most of a core: the figures "
            "above may measure the generator (or the machine), not the backend"
        )
    if load["blocked"] or load["unsent_bytes"] or load["dead"]:
        print(
            f"{'':<22} {load['blocked']:,} frames waited for a full socket buffer, "
            f"{load['unsent_bytes']:,} bytes unsent at close, {load['dead']} connections lost"
        )


if __name__ == "__main__":
    run()
