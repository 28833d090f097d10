"""Ingest benchmark: JT/T 808 terminals → gateway → group commit → a subscribed console.

A separate process opens M terminal connections (real TCP, registration and
authentication) and sends location frames at a fixed rate; the backend (SQLite, in this
process) decodes, stores by group commit and fans out coalesced positions to one
subscribed console. Printed: locations stored per second, the latency from a frame being
sent to the console receiving that fix (p50/p99), and the ratio of the throughput to a raw
ceiling measured in the same run: the same frames only split and decoded, nothing stored
or sent.

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
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from track_load import QuietListener, bench_database

from backend.security import FieldCipher
from backend.server import DutyDeskServer, ServerConfig, freeze_startup_heap
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
from realtime.client import DutyDeskClient
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


class _Start:
    """Everyone starts sending together once every terminal has logged in."""

    def __init__(self, terminals: int) -> None:
        self._waiting = terminals
        self._go = asyncio.Event()
        self.at = 0.0

    async def logged_in(self) -> float:
        self._waiting -= 1
        if self._waiting == 0:
            self.at = time.time() + 0.5
            self._go.set()
        await self._go.wait()
        return self.at


async def _login(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, phone: str) -> None:
    """Register and authenticate over raw streams (the hot loop below stays lean)."""
    decoder = FrameDecoder()

    async def answer() -> object:
        while True:
            chunk = await asyncio.wait_for(reader.read(4096), 60.0)
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
    writer.write(encode_frame(register, phone=phone, serial=1))
    reply = await answer()
    if not isinstance(reply, RegisterReply) or not reply.auth_code:
        raise ConnectionError(f"terminal {phone}: registration refused: {reply!r}")
    writer.write(encode_frame(Authentication(auth_code=reply.auth_code), phone=phone, serial=2))
    if not isinstance(await answer(), PlatformGeneralReply):
        raise ConnectionError(f"terminal {phone}: authentication not answered")


async def _terminal(
    phone: str,
    port: int,
    *,
    rate: float,
    seconds: float,
    start: _Start,
    sent: list[float],
    acked: list[float],
    login: bool,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if login:
        await _login(reader, writer, phone)
    start_at = await start.logged_in()
    # Frames are encoded before the clock starts: the generator must not be the bottleneck.
    frames = [
        _frame(phone, seq, serial=(seq + 10) % 65536, rate=rate)
        for seq in range(int(rate * seconds))
    ]

    async def count_replies() -> None:
        # Every 0x8001 is one frame: two 0x7E flags. Replies come back in order.
        flags = 0
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return
            flags += chunk.count(0x7E)
            now = time.time()
            while len(acked) < flags // 2:
                acked.append(now)

    counter = asyncio.create_task(count_replies())
    await asyncio.sleep(max(0.0, start_at - time.time()))
    interval = 1.0 / rate
    next_at = time.time()
    for frame in frames:
        sent.append(time.time())
        writer.write(frame)
        next_at += interval
        delay = next_at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.sleep(1.0)  # let the last replies arrive before closing
    counter.cancel()
    writer.close()
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        await counter
        await writer.wait_closed()


Timings = dict[str, dict[str, list[float]]]


async def _load(port: int, terminals: int, rate: float, seconds: float, login: bool) -> Timings:
    start = _Start(terminals)
    sent: dict[str, list[float]] = {str(PHONE_BASE + i): [] for i in range(terminals)}
    acked: dict[str, list[float]] = {phone: [] for phone in sent}
    # Log in in waves; registration is not what is measured.
    tasks = []
    for index, phone in enumerate(sent):
        tasks.append(
            asyncio.create_task(
                _terminal(
                    phone,
                    port,
                    rate=rate,
                    seconds=seconds,
                    start=start,
                    sent=sent[phone],
                    acked=acked[phone],
                    login=login,
                )
            )
        )
        if index % 100 == 99:
            await asyncio.sleep(0.05)
    await asyncio.gather(*tasks)
    return {"sent": sent, "acked": acked}


@dataclasses.dataclass(frozen=True)
class _LoadSpec:
    port: int
    terminals: int
    rate: float
    seconds: float
    login: bool


def _load_process(spec: _LoadSpec, results: multiprocessing.Queue[str]) -> None:
    timings = asyncio.run(_load(spec.port, spec.terminals, spec.rate, spec.seconds, spec.login))
    results.put(json.dumps(timings))


async def _run_load(port: int, terminals: int, rate: float, seconds: float, login: bool) -> Timings:
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[str] = context.Queue()
    process = context.Process(
        target=_load_process, args=(_LoadSpec(port, terminals, rate, seconds, login), results)
    )
    process.start()
    record: Timings = json.loads(await asyncio.to_thread(results.get))
    await asyncio.to_thread(process.join)
    return record


# ---------------------------------------------------------------------- I/O ceiling


async def io_ceiling(terminals: int, rate: float, seconds: float) -> float:
    """Backend CPU µs per frame for TCP alone: the same load against a bare asyncio server
    that answers every frame with a prebuilt 0x8001 (nothing decoded, stored or sent on)."""
    reply = encode_general_reply(Header(msg_id=0x0200, phone="013700000000", serial=0), serial=0)
    frames = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal frames
        flags = 0
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(4096):
                flags += data.count(0x7E)
                complete, flags = divmod(flags, 2)
                frames += complete
                writer.write(reply * complete)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    cpu_started = time.process_time()
    await _run_load(port, terminals, rate, seconds, login=False)
    cpu_used = time.process_time() - cpu_started
    server.close()
    await server.wait_closed()
    return cpu_used / frames * 1e6 if frames else float("nan")


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


# ---------------------------------------------------------------------- console side


class _Console(QuietListener):
    def __init__(self) -> None:
        self.received: list[tuple[str, int, float]] = []

    def on_telemetry(self, telemetry: Telemetry) -> None:
        now = time.time()
        for position in telemetry.positions:
            seq = round((position.lat - LAT_BASE) * 1e6)
            self.received.append((position.device, seq, now))


async def main(
    terminals: int,
    rate: float,
    seconds: float,
    *,
    commit_delay: float = 0.01,
    fanout_interval: float = 0.025,
    profiler: cProfile.Profile | None = None,
    pg_admin: str | None = None,
) -> dict[str, Any]:
    ceiling = raw_ceiling()
    io_cpu_us = await io_ceiling(terminals, rate, seconds)
    async with contextlib.AsyncExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        db_url = await stack.enter_async_context(bench_database(pg_admin, Path(tmp)))
        config = ServerConfig(
            db_url=db_url,
            data_dir=Path(tmp),
            port=0,
            cipher=FieldCipher.generate(),
            jt808_listen=("127.0.0.1", 0),
            jt808_auto_register=True,
            jt808_max_frames_per_second=rate * 5,
            telemetry_commit_delay=commit_delay,
            telemetry_fanout_interval=fanout_interval,
        )
        server = DutyDeskServer(config)
        await server.start()
        freeze_startup_heap()  # as `dutydesk serve` does
        await server.users.add_user("bench", "bench-password", Role.OFFICER)
        console = _Console()
        client = DutyDeskClient(
            f"ws://127.0.0.1:{server.port}/console",
            console,
            username="bench",
            password="bench-password",
            on_telemetry=console.on_telemetry,
        )
        client_task = asyncio.create_task(client.run())
        await client.wait_live(10)
        await client.request(Subscribe(req="", topics=["positions"]))

        load = asyncio.create_task(
            _run_load(server.jt808_port, terminals, rate, seconds, login=True)
        )
        # Measure the steady state only, not the terminals logging in.
        gateway = server.jt808_gateway
        assert gateway is not None
        while len(gateway.online_terminals) < terminals and not load.done():
            await asyncio.wait({load}, timeout=0.05)
        if profiler is not None:
            profiler.enable()
        cpu_started = time.process_time()
        record = await load
        cpu_used = time.process_time() - cpu_started
        if profiler is not None:
            profiler.disable()
        await asyncio.sleep(0.5)
        async with server.sessions() as session:
            stored = int(
                await session.scalar(select(func.count()).select_from(PositionRecord)) or 0
            )
            first = await session.scalar(select(func.min(PositionRecord.at)))
        sent: dict[str, list[float]] = record["sent"]
        acked: dict[str, list[float]] = record["acked"]
        await client.close()
        await client_task
        await server.close()

    total_sent = sum(len(times) for times in sent.values())
    all_times = [t for times in sent.values() for t in times]
    span = max(all_times) - min(all_times) if all_times else 0.0
    latencies = [
        (received - sent[device][seq]) * 1000
        for device, seq, received in console.received
        if device in sent and 0 <= seq < len(sent[device])
    ]
    latencies.sort()
    del first
    ack_latencies = sorted(
        (ack - sent_at) * 1000
        for phone, times in sent.items()
        for sent_at, ack in zip(times, acked[phone], strict=False)
    )
    return {
        "terminals": terminals,
        "offered_per_s": terminals * rate,
        "sent": total_sent,
        "stored": stored,
        "stored_per_s": stored / span if span else 0.0,
        "latency_samples": len(latencies),
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan"),
        "ceiling_per_s": ceiling,
        "cpu_us_per_location": cpu_used / stored * 1e6 if stored else float("nan"),
        "io_cpu_us_per_frame": io_cpu_us,
        "ack_p50_ms": statistics.median(ack_latencies) if ack_latencies else float("nan"),
        "ack_p99_ms": (
            ack_latencies[int(len(ack_latencies) * 0.99) - 1] if ack_latencies else float("nan")
        ),
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
    args = parser.parse_args()
    profiler = cProfile.Profile() if args.profile else None
    result = asyncio.run(
        main(
            args.terminals,
            args.rate,
            args.seconds,
            commit_delay=args.commit_delay,
            fanout_interval=args.fanout,
            profiler=profiler,
            pg_admin=args.pg,
        )
    )
    if profiler is not None:
        profiler.dump_stats(args.profile)
    print(f"terminals              {result['terminals']}")
    print(f"offered                {result['offered_per_s']:,.0f} locations/s")
    print(f"sent / stored          {result['sent']:,} / {result['stored']:,}")
    print(f"stored                 {result['stored_per_s']:,.0f} locations/s")
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
        f"TCP alone (I/O ceiling) {result['io_cpu_us_per_frame']:.1f} µs per frame "
        f"(one core ≈ {1e6 / result['io_cpu_us_per_frame']:,.0f} frames/s); "
        f"ratio {result['io_cpu_us_per_frame'] / result['cpu_us_per_location']:.2f}"
    )
    print(f"raw decode ceiling     {result['ceiling_per_s']:,.0f} frames/s")
    print(f"ratio stored/ceiling   {result['stored_per_s'] / result['ceiling_per_s']:.2f}")


if __name__ == "__main__":
    run()
