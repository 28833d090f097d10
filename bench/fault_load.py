"""The fault harness's moving parts: the backend as a real ``dutydesk serve`` process, the
JT/T 808 trucks and the JSON sensor feed that load it (each keeping its own record of what
was acknowledged), the console that records the events it receives, a probe terminal that
times its acks, and a flood of random bytes from one address. ``bench/faults.py`` drives
them and checks the records against the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from devices.jt808.messages import GeneralResult, Location, Register
from devices.jt808.simulator import (
    EMERGENCY_BIT,
    OVERSPEED_BIT,
    SimulatedTruck,
    SimulatorError,
    TerminalClient,
    TruckPlan,
)
from realtime.protocol import Ack, DeviceReading, Error, Event, Snapshot, decode_server, encode

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
ALARM_BITS = {EMERGENCY_BIT: "emergency", OVERSPEED_BIT: "overspeed"}
"""The JT/T 808 alarm bits the trucks raise, by the alarm key the backend gives them."""
SOS_EVERY_S = 40
OVERSPEED_EVERY_S = 60
OVERSPEED_FOR_S = 3
CROSS_EVERY = 20
"""Every CROSS_EVERY-th reading of a sensor is over its threshold, the next one below."""
NORMAL_CH4 = 0.3
OVER_CH4 = 1.2
"""Methane (%): over the shipped 1.0 % alarm line, under the 1.5 % power-cut line."""


def free_port() -> int:
    """A TCP port nobody listens on now (the backend is restarted on the same one)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# ---------------------------------------------------------------------- the backend


def dutydesk(*args: str, env: dict[str, str] | None = None) -> str:
    """Run one ``dutydesk`` command to its end; return its stdout (raise on failure)."""
    done = subprocess.run(
        [sys.executable, "-m", "backend.cli.app", *args],
        cwd=REPO,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dutydesk {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout


@dataclasses.dataclass
class Backend:
    """``dutydesk serve`` in a process of its own, on fixed ports, restartable."""

    db_url: str
    data_dir: Path
    port: int = dataclasses.field(default_factory=free_port)
    jt808_port: int = dataclasses.field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def storage_args(self) -> list[str]:
        """``--db`` and ``--data-dir`` for the CLI commands on the same database."""
        return ["--db", self.db_url, "--data-dir", str(self.data_dir)]

    async def start(self, extra_env: dict[str, str] | None = None) -> float:
        """Start the process; return the seconds until both ports answer."""
        env = dict(os.environ)
        env.update(extra_env or {})
        self.starts += 1
        log = (self.data_dir / f"serve-{self.starts}.log").open("wb")
        started = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: ASYNC220 - started once, waited on by poll
            [
                sys.executable,
                "-m",
                "backend.cli.app",
                "--log-level",
                "WARNING",
                "serve",
                "--port",
                str(self.port),
                "--jt808",
                f"{HOST}:{self.jt808_port}",
                "--jt808-auto-register",
                *self.storage_args(),
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        await self.wait_listening(self.process)
        return time.perf_counter() - started

    async def wait_listening(self, process: subprocess.Popen[bytes], limit: float = 60.0) -> None:
        """Until ``/health`` answers 200 and the JT/T 808 port accepts a connection."""
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                log = (self.data_dir / f"serve-{self.starts}.log").read_text(errors="replace")
                raise RuntimeError(
                    f"dutydesk serve exited with {process.returncode}: {log[-2000:]}"
                )
            if await self.healthy() and await _accepts(self.jt808_port):
                return
            await asyncio.sleep(0.02)
        raise RuntimeError(f"dutydesk serve not listening after {limit:.0f} s")

    async def healthy(self) -> bool:
        """Whether ``GET /health`` answers 200 within a second."""
        try:
            async with asyncio.timeout(1.0):
                reader, writer = await asyncio.open_connection(HOST, self.port)
                try:
                    writer.write(b"GET /health HTTP/1.1\r\nHost: harness\r\n\r\n")
                    status = await reader.readline()
                finally:
                    writer.close()
        except (OSError, TimeoutError):
            return False
        return status.startswith(b"HTTP/1.1 200")

    def kill(self) -> None:
        """kill -9, as a power cut or the OOM killer would."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        """SIGTERM and wait: a clean stop."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return False
    writer.close()
    return True


# ---------------------------------------------------------------------- trucks


@dataclasses.dataclass(slots=True)
class Frame:
    """One 0x0200 report of a truck, as the truck saw it."""

    alarm_flags: int
    sends: int = 0
    acked: bool = False
    """Answered 0x8001 with result 0 (success)."""


class FaultTruck(SimulatedTruck):
    """A simulated truck that keeps a record of every report and its answer.

    Device time advances one second per report (``time_scale`` = the report rate), so a
    report is identified by its device time. SOS is pressed every SOS_EVERY_S simulated
    seconds; the truck speeds for OVERSPEED_FOR_S seconds every OVERSPEED_EVERY_S.
    """

    def __init__(self, phone: str, plate: str, rate: float, offset: int) -> None:
        plan = TruckPlan(interval_s=1.0, time_scale=rate, speed_kmh=60.0, speeding_kmh=100.0)
        super().__init__(phone, plate, plan, reply_timeout=5.0, reconnect_delay=0.2)
        self.offset = offset
        self.elapsed = 0
        self.frames: dict[int, Frame] = {}
        """By simulated second (device time - start_time)."""

    def speed_at(self, t: float) -> float:
        """Speeding for OVERSPEED_FOR_S seconds every OVERSPEED_EVERY_S (one modulo)."""
        second = (int(t) + self.offset) % OVERSPEED_EVERY_S
        return self.plan.speeding_kmh if second < OVERSPEED_FOR_S else self.plan.speed_kmh

    def advance(self, seconds: float) -> None:
        """Move on; press SOS every SOS_EVERY_S simulated seconds."""
        super().advance(seconds)
        self.elapsed += round(seconds)
        if (self.elapsed + self.offset) % SOS_EVERY_S == SOS_EVERY_S // 2:
            self.press_sos()

    def second_of(self, location: Location) -> int:
        """The simulated second a report stands for."""
        return round((location.time - self.start_time).total_seconds())

    async def connect(self, host: str, port: int) -> TerminalClient:
        """As the simulator's, but a refused login is retried like a lost connection
        (the database may be down or failing on purpose)."""
        try:
            return await super().connect(host, port)
        except SimulatorError as exc:
            raise ConnectionRefusedError(str(exc)) from exc

    async def report(self) -> GeneralResult:
        """Send the current report and record what became of it."""
        location = self.location()
        frame = self.frames.get(second := self.second_of(location))
        if frame is None:
            frame = self.frames[second] = Frame(location.alarm_flags)
        frame.alarm_flags |= location.alarm_flags  # a resend may carry a pending SOS
        frame.sends += 1
        result = await super().report()
        if result == GeneralResult.SUCCESS:
            frame.acked = True
        return result


def make_trucks(count: int, rate: float) -> list[FaultTruck]:
    """``count`` trucks with stable phones and plates, their alarms spread over time."""
    return [
        FaultTruck(str(13_600_000_000 + i), f"沪F{i:05d}", rate, offset=i * 7) for i in range(count)
    ]


async def drive(trucks: Sequence[FaultTruck], port: int, stop: asyncio.Event) -> None:
    """Run every truck (reconnecting through restarts) until ``stop`` is set."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(truck.run(HOST, port)) for truck in trucks]
        await stop.wait()
        for task in tasks:
            task.cancel()


# ---------------------------------------------------------------------- sensor feed


@dataclasses.dataclass(slots=True)
class Reading:
    """One reading the feed sent, as the feed saw it."""

    sensor: str
    at: dt.datetime
    value: float
    sends: int = 0
    acked: bool = False
    refused: bool = False


def sensors_csv(path: Path, count: int) -> list[str]:
    """Write a CSV of ``count`` methane sensors for ``dutydesk sensor import``."""
    ids = [f"ch4-fault-{i:04d}" for i in range(count)]
    lines = ["sensor_id,kind,placement,unit,name,poll_cycle_seconds"]
    lines += [f"{sensor},ch4,mining_face,%,工作面甲烷 {sensor},3600" for sensor in ids]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


class Feed:
    """One ``/device`` connection sending its sensors' readings at ``rate`` per second,
    pipelined (up to ``window`` unanswered). After a lost connection, what was unanswered
    is sent again, in order, before anything new; a refused reading is not retried."""

    def __init__(self, url: str, token: str, sensors: Sequence[str], rate: float) -> None:
        self.url = url
        self.token = token
        self.sensors = list(sensors)
        self.rate = rate
        self.window = 200
        self.readings: list[Reading] = []
        self.counts = dict.fromkeys(self.sensors, 0)
        self.unanswered: deque[tuple[str, Reading]] = deque()
        self.reconnects = 0

    def _next(self, index: int) -> tuple[str, Reading]:
        sensor = self.sensors[index % len(self.sensors)]
        count = self.counts[sensor] = self.counts[sensor] + 1
        value = OVER_CH4 if count % CROSS_EVERY == CROSS_EVERY // 2 else NORMAL_CH4
        reading = Reading(sensor, dt.datetime.now(dt.UTC), value)
        self.readings.append(reading)
        return f"{sensor}#{count}", reading

    async def run(self, stop: asyncio.Event) -> None:
        """Feed until ``stop`` is set, reconnecting through restarts."""
        index = 0
        while not stop.is_set():
            try:
                async with connect(
                    self.url,
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    compression=None,
                    open_timeout=5,
                ) as ws:
                    resend = list(self.unanswered)
                    index = await self._session(ws, resend, index, stop)
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError):
                self.reconnects += 1
                await asyncio.sleep(0.2)

    async def _session(
        self,
        ws: ClientConnection,
        resend: list[tuple[str, Reading]],
        index: int,
        stop: asyncio.Event,
    ) -> int:
        reader = asyncio.create_task(self._read(ws))
        try:
            for ref, reading in resend:
                await self._send(ws, ref, reading)
            started, sent = time.perf_counter(), 0
            while not stop.is_set():
                due = int((time.perf_counter() - started) * self.rate) + 1
                while sent < due and len(self.unanswered) < self.window:
                    ref, reading = self._next(index)
                    index += 1
                    sent += 1
                    self.unanswered.append((ref, reading))
                    await self._send(ws, ref, reading)
                if reader.done():
                    break
                await asyncio.sleep(0.01)
            await self._drain(reader)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await reader
        return index

    async def _drain(self, reader: asyncio.Task[None]) -> None:
        # The answers to what was sent, for up to 5 s.
        for _ in range(250):
            if not self.unanswered or reader.done():
                return
            await asyncio.sleep(0.02)

    async def _send(self, ws: ClientConnection, ref: str, reading: Reading) -> None:
        reading.sends += 1
        message = DeviceReading(
            ref=ref, sensor=reading.sensor, value=reading.value, unit="%", at=reading.at
        )
        await ws.send(encode(message).decode("utf-8"))

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            answer = decode_server(raw)
            if not isinstance(answer, Ack | Error) or not self.unanswered:
                continue
            # Answers come in order: the first unanswered reading is the one answered.
            ref, reading = self.unanswered.popleft()
            if answer.ref != ref:
                raise RuntimeError(f"feed answer out of order: {answer.ref} for {ref}")
            if isinstance(answer, Ack):
                reading.acked = True
            else:
                reading.refused = True


# ---------------------------------------------------------------------- console


class ConsoleRecord:
    """A console's listener: every event received, in the order received."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.snapshots = 0
        self.out_of_order = 0

    def on_state(self, state: object, detail: str) -> None:
        """Connection state changes are not checked."""

    def on_welcome(self, welcome: object) -> None:
        """Nothing to record."""

    def on_snapshot(self, snapshot: Snapshot) -> None:
        """A snapshot instead of a replay: events were skipped (counted as a failure)."""
        if snapshot.head_seq > 0 and self.events:
            self.snapshots += 1

    def on_event(self, event: Event) -> None:
        """Record the event; count one that is not above the last."""
        if self.events and event.seq <= self.events[-1].seq:
            self.out_of_order += 1
        self.events.append(event)


# ---------------------------------------------------------------------- probe and flood


class Probe:
    """A legitimate terminal that sends a report every ``interval`` and times each ack."""

    def __init__(self, phone: str, interval: float = 0.05, timeout: float = 5.0) -> None:
        self.phone = phone
        self.interval = interval
        self.timeout = timeout
        self.client: TerminalClient | None = None
        self.t = 0

    async def connect(self, port: int) -> None:
        """Register and authenticate."""
        self.client = TerminalClient(self.phone)
        await self.client.connect(HOST, port)
        register = Register(31, 100, "PROBE", "P1", self.phone[-7:], 2, f"沪P{self.phone[-5:]}")
        await self.client.login(register, timeout=self.timeout)

    async def measure(self, seconds: float) -> list[float]:
        """Ack latencies (s) of reports sent for ``seconds``; an unanswered one counts as
        the timeout."""
        if self.client is None:
            raise RuntimeError("the probe is not connected")
        latencies: list[float] = []
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.t += 1
            location = Location.from_degrees(
                lat=31.0, lon=121.0, time=start + dt.timedelta(seconds=self.t), speed_kmh=30.0
            )
            sent = time.perf_counter()
            try:
                await self.client.general(location, timeout=self.timeout)
            except (TimeoutError, ConnectionError, SimulatorError):
                latencies.append(self.timeout)
                if self.client.closed.is_set():
                    break
            else:
                latencies.append(time.perf_counter() - sent)
            await asyncio.sleep(self.interval)
        return latencies

    async def close(self) -> None:
        """Disconnect."""
        if self.client is not None:
            await self.client.close()


def _flood_worker(port: int, until: float, sent: list[int]) -> None:
    block = os.urandom(64 * 1024)
    while time.time() < until:
        try:
            with socket.create_connection((HOST, port), timeout=1.0) as sock:
                while time.time() < until:
                    sock.sendall(block)
                    sent[0] += len(block)
        except OSError:
            time.sleep(0.05)


def _flood_process(
    port: int, connections: int, seconds: float, result: multiprocessing.Queue[int]
) -> None:
    until = time.time() + seconds
    counters = [[0] for _ in range(connections)]
    threads = [
        threading.Thread(target=_flood_worker, args=(port, until, counter), daemon=True)
        for counter in counters
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 5)
    result.put(sum(counter[0] for counter in counters))


async def flood(port: int, connections: int, seconds: float) -> int:
    """Random bytes from ``connections`` sockets of one address for ``seconds`` (in a
    process of its own, so that it does not slow the harness); return the bytes sent."""
    context = multiprocessing.get_context("spawn")
    result: multiprocessing.Queue[int] = context.Queue()
    process = context.Process(target=_flood_process, args=(port, connections, seconds, result))
    process.start()
    sent = await asyncio.to_thread(result.get, True, seconds + 30)
    await asyncio.to_thread(process.join, 10)
    return sent
