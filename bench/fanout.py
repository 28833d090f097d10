"""Scoped fan-out benchmark: alarm events and vehicle positions to 100 consoles of mixed
scopes, against the raw ``websockets.broadcast`` of the same frames to the same clients.

A real DutyDesk server (SQLite, 127.0.0.1, port 0) runs in this process. The consoles run
in a process of their own (as on other machines: their decoding is not the server's
work): real WebSocket connections that log in, say hello, sync and subscribe to
positions. Their scopes are mixed: a fifth whole-area officers, two fifths officers and
supervisors of four cities, a fifth district officers, a fifth agency desks (which get the
alarms dispatched to their agency in their area, and no telemetry).

**DutyDesk**: for ``--seconds``, alarm events (``--events`` per second over 24 places in
the four cities and a few unplaced) and fixes of ``--vehicles`` vehicles (each at 1 Hz,
each in one place) go to the server's hub exactly as the event writer hands over
committed events and the ingest hands over fixes (committing and decoding are measured by
``bench/ingest.py``; here only the fan-out is). The hub decides per console what it may
see, encodes once and sends on its telemetry tick.

**Ceiling**: the same schedule, the same events and the same coalescing tick, on the same
event loop, but every frame encoded once and handed to ``websockets.broadcast`` for all the
consoles' connections to a bare ``websockets`` server: no scope, no queue, no flow control.

Printed for both: messages delivered per second, latency (event: published → received;
telemetry: the tick's newest fix offered → received) p50/p99, the server's CPU (its event
loop's thread, and the whole process) and **the cost per console per message** (loop CPU /
messages delivered), then the ratio of the two costs (the goal: DutyDesk ≥ 50 % of the
ceiling's messages per CPU second). It checks that each console received exactly what its
scope allows (every alarm it may see, once; no alarm or fix outside its scope; every
vehicle of its area), prints mismatches loudly and exits 1 on any.

    .venv/bin/python bench/fanout.py [--consoles 100] [--seconds 10] [--events 100]
                                     [--vehicles 2000] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import dataclasses
import datetime as dt
import functools
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, broadcast, serve

from backend.config import sqlite_url
from backend.eventlog import log as eventlog
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from devices.observations import Position
from realtime import PROTOCOL_VERSION, eventloop
from realtime.client import basic_auth_header
from realtime.protocol import (
    AlarmView,
    DispatchView,
    Event,
    PositionView,
    Role,
    Telemetry,
    encode,
)
from realtime.states import AlarmLevel, AlarmState

AGENCY_ROLE = next(role for role in Role if role.value.startswith("agency"))
"""The linked agencies' desk role (renamed across versions; found by its prefix)."""
CITIES = ("3301", "3302", "31", "3201")
DISTRICTS = ("330106", "330108", "310115", "320102")
AGENCIES = ("fire", "police", "health")
PLACES = (
    *("330102", "330105", "330106", "330106001", "330106002", "330108", "330110"),
    *("330203", "330205", "330212", "330206"),
    *("310101", "310104", "310115", "310115004", "310112"),
    *("320102", "320104", "320106", "320113", "3201"),
    *("3301", "31", ""),
)
"""Where alarms and vehicles are: districts and towns of the four cities, a city-level
place, and unplaced ("": whole-area users only)."""
PASSWORD = "bench-password"
DRAIN_SECONDS = 1.0
"""After the load stops: time for what is in flight to arrive before the counts."""
STEP = 0.01
"""The load's schedule: what is due is handed over every 10 ms."""


# ------------------------------------------------------------------------------ scopes


@dataclasses.dataclass(frozen=True)
class Scope:
    """One account: what its consoles may see."""

    username: str
    role: Role
    jurisdiction: str
    agency: str | None = None

    def sees_alarm(self, place: str, dispatched_to: frozenset[str]) -> bool:
        """Written out here, not asked of the server's policy: the check is independent."""
        if not place.startswith(self.jurisdiction):
            return False
        return self.agency is None or self.agency in dispatched_to

    def sees_fixes_in(self, place: str) -> bool:
        return self.agency is None and place.startswith(self.jurisdiction)


def make_scopes(consoles: int) -> list[Scope]:
    """The scope of each console: 20 % whole area, 40 % cities, 20 % districts, 20 % desks."""
    scopes: list[Scope] = []
    for index in range(consoles):
        share = index * 5 // consoles
        if share == 0:
            scopes.append(Scope("whole", Role.OFFICER, ""))
        elif share in {1, 2}:
            city = CITIES[index % len(CITIES)]
            role = Role.SUPERVISOR if index % 2 else Role.OFFICER
            scopes.append(Scope(f"city-{city}-{role.value}", role, city))
        elif share == 3:
            district = DISTRICTS[index % len(DISTRICTS)]
            scopes.append(Scope(f"district-{district}", Role.OFFICER, district))
        else:
            city = CITIES[index % len(CITIES)]
            agency = AGENCIES[index % len(AGENCIES)]
            name = f"desk-{AGENCIES.index(agency)}-{city}"
            scopes.append(Scope(name, AGENCY_ROLE, city, agency))
    return scopes


# ------------------------------------------------------------------------------ the load


@dataclasses.dataclass(frozen=True)
class Load:
    seconds: float
    events_per_s: float
    vehicles: int
    seed: int = 14

    def alarm(self, number: int) -> tuple[str, frozenset[str]]:
        """Alarm ``number``'s place and the agencies it was dispatched to."""
        rng = random.Random(self.seed * 1_000_003 + number)
        place = rng.choice(PLACES)
        dispatched = frozenset(rng.sample(AGENCIES, rng.choice((0, 0, 1, 2))))
        return place, dispatched

    def vehicle_place(self, vehicle: int) -> str:
        return self.vehicle_places[vehicle]

    @functools.cached_property
    def vehicle_places(self) -> list[str]:
        """Where each vehicle is (it stays in its place for the run)."""
        rng = random.Random(self.seed)
        return [rng.choice(PLACES) for _ in range(self.vehicles)]


def _event(load: Load, number: int, seq: int) -> Event:
    """Alarm event ``number`` as the alarm service commits it (stamped now)."""
    now = dt.datetime.now(dt.UTC)
    place, dispatched = load.alarm(number)
    return Event(
        seq=seq,
        at=now,
        kind="alarm.raised",
        actor="bench",
        alarm=AlarmView(
            id=number + 1,
            version=1,
            state=AlarmState.DISPATCHED if dispatched else AlarmState.NEW,
            level=AlarmLevel.ORANGE,
            alarm_type="hazmat_leak",
            title=f"危化品泄漏 {number}",
            description="罐车阀门渗漏，现场有刺激性气味",
            lat=30.2,
            lon=120.1,
            place="某路与某路交叉口",
            jurisdiction=place,
            source="device",
            source_ref=f"bench:{number}",
            first_seen=now,
            last_seen=now,
            updated_at=now,
            dispatches=[
                DispatchView(unit_id=n, unit_name="站", agency=a, note="", by="bench", at=now)
                for n, a in enumerate(sorted(dispatched))
            ],
        ),
    )


class _Fanout:
    """Where the load goes: the DutyDesk hub, or the bare broadcast (the ceiling)."""

    def publish(self, events: Sequence[Event]) -> None:
        raise NotImplementedError

    def offer_position(self, position: Position, jurisdiction: str) -> None:
        raise NotImplementedError


class _NullFanout(_Fanout):
    """The load alone: built on schedule and handed to nothing."""

    def publish(self, events: Sequence[Event]) -> None:
        pass

    def offer_position(self, position: Position, jurisdiction: str) -> None:
        pass


class _HubFanout(_Fanout):
    def __init__(self, server: DutyDeskServer) -> None:
        self._hub = server.hub

    def publish(self, events: Sequence[Event]) -> None:
        self._hub.publish(events)

    def offer_position(self, position: Position, jurisdiction: str) -> None:
        self._hub.offer_position(position, jurisdiction)


class _BroadcastFanout(_Fanout):
    """The ceiling: each frame encoded once and written to every connection."""

    def __init__(self, connections: set[ServerConnection], interval: float) -> None:
        self._connections = connections
        self._interval = interval
        self._positions: dict[str, tuple[Position, str]] = {}

    def publish(self, events: Sequence[Event]) -> None:
        for event in events:
            broadcast(self._connections, encode(event), text=True)

    def offer_position(self, position: Position, jurisdiction: str) -> None:
        self._positions[position.device] = (position, jurisdiction)

    async def tick(self) -> None:
        """The same coalescing as the hub's tick, without scope."""
        while True:
            await asyncio.sleep(self._interval)
            if not self._positions:
                continue
            batch = Telemetry(
                positions=[
                    PositionView(
                        device=p.device,
                        at=p.at,
                        lat=p.lat,
                        lon=p.lon,
                        speed_kmh=p.speed_kmh,
                        heading_deg=p.heading_deg,
                        alarms=sorted(p.alarms),
                        jurisdiction=place,
                    )
                    for p, place in self._positions.values()
                ]
            )
            self._positions = {}
            broadcast(self._connections, encode(batch), text=True)


async def _drive(fanout: _Fanout, load: Load, first_seq: int) -> int:
    """Hand over the load on schedule; return the number of alarm events sent."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    events = fixes = 0
    total_fixes = int(load.vehicles * load.seconds)
    while (elapsed := loop.time() - started) < load.seconds:
        due_events = int(elapsed * load.events_per_s) - events
        if due_events > 0:
            fanout.publish(
                [_event(load, n, first_seq + n) for n in range(events, events + due_events)]
            )
            events += due_events
        due_fixes = min(int(elapsed * load.vehicles), total_fixes) - fixes
        if due_fixes > 0:
            now = dt.datetime.now(dt.UTC)
            for n in range(fixes, fixes + due_fixes):
                vehicle = n % load.vehicles
                position = Position(
                    device=f"v{vehicle:05d}", at=now, lat=30.2, lon=120.1, speed_kmh=42.0
                )
                fanout.offer_position(position, load.vehicle_place(vehicle))
            fixes += due_fixes
        await asyncio.sleep(STEP)
    return events


# ------------------------------------------------------------------------------ consoles
# The consoles are other programs: they run in a process of their own.


class _AlarmProbe(msgspec.Struct):
    id: int


class _FixProbe(msgspec.Struct):
    device: str
    at: dt.datetime
    jurisdiction: str = ""


class _Probe(msgspec.Struct):
    """What a console checks of each message (the rest is skipped by the decoder)."""

    type: str
    at: dt.datetime | None = None
    alarm: _AlarmProbe | None = None
    positions: list[_FixProbe] = msgspec.field(default_factory=list)


_probe = msgspec.json.Decoder(_Probe)


@dataclasses.dataclass
class ConsoleRecord:
    """What one console received while measured."""

    alarms: list[int] = dataclasses.field(default_factory=list)
    fixes: dict[str, str] = dataclasses.field(default_factory=dict)
    """Device → the place it was sent with."""
    frames: int = 0
    event_latency: list[float] = dataclasses.field(default_factory=list)
    telemetry_latency: list[float] = dataclasses.field(default_factory=list)
    closed: str = ""


async def _read(connection: ClientConnection, record: ConsoleRecord) -> None:
    try:
        async for raw in connection:
            now = time.time()
            probe = _probe.decode(raw)
            if probe.type == "event":
                record.frames += 1
                if probe.alarm is not None:
                    record.alarms.append(probe.alarm.id)
                if probe.at is not None:
                    record.event_latency.append(now - probe.at.timestamp())
            elif probe.type == "telemetry":
                record.frames += 1
                for fix in probe.positions:
                    record.fixes[fix.device] = fix.jurisdiction
                if probe.positions:
                    newest = max(fix.at for fix in probe.positions)
                    record.telemetry_latency.append(now - newest.timestamp())
    finally:
        if connection.close_code is not None and connection.close_code != 1000:
            record.closed = f"{connection.close_code} {connection.close_reason}"


async def _open(url: str, account: tuple[str, bool] | None) -> ClientConnection:
    """A console's connection; ``account`` (username, subscribes?) for DutyDesk."""
    if account is None:
        return await connect(url, compression=None, max_size=None)
    username, subscribes = account
    connection = await connect(
        url,
        compression=None,
        max_size=None,
        additional_headers={"Authorization": basic_auth_header(username, PASSWORD)},
    )
    await connection.send(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION}))
    while _probe.decode(await connection.recv()).type != "synced":
        pass
    if subscribes:
        await connection.send(
            json.dumps({"type": "subscribe", "req": "s", "topics": ["positions"]})
        )
        while _probe.decode(await connection.recv()).type != "result":
            pass
    return connection


async def _console_phase(
    url: str, accounts: list[tuple[str, bool] | None], orders: Queue[str], out: Queue[Any]
) -> None:
    connections: list[ClientConnection] = []
    for start in range(0, len(accounts), 10):  # ten logins at a time
        connections += await asyncio.gather(*(_open(url, a) for a in accounts[start : start + 10]))
    records = [ConsoleRecord() for _ in connections]
    readers = [asyncio.create_task(_read(c, r)) for c, r in zip(connections, records, strict=True)]
    out.put("ready")
    await asyncio.to_thread(orders.get)  # "stop"
    for connection in connections:
        await connection.close()
    await asyncio.gather(*readers, return_exceptions=True)
    out.put([dataclasses.asdict(r) for r in records])


def _console_process(orders: Queue[Any], out: Queue[Any]) -> None:
    while (order := orders.get()) is not None:
        url, accounts = order
        asyncio.run(_console_phase(url, accounts, orders, out))


# ------------------------------------------------------------------------------ measuring


@dataclasses.dataclass
class Phase:
    name: str
    seconds: float
    records: list[ConsoleRecord]
    loop_cpu: float
    process_cpu: float
    events_sent: int

    @property
    def frames(self) -> int:
        return sum(r.frames for r in self.records)

    load_cpu: float = 0.0
    """Loop CPU of the load alone (building it) over as long: not the fan-out's."""

    @property
    def us_per_message(self) -> float:
        return self.loop_cpu / max(self.frames, 1) * 1e6

    @property
    def net_us_per_message(self) -> float:
        """The same without the load's own cost: the fan-out alone."""
        return max(self.loop_cpu - self.load_cpu, 0.0) / max(self.frames, 1) * 1e6

    def figures(self) -> dict[str, float]:
        events = sorted(x for r in self.records for x in r.event_latency)
        telemetry = sorted(x for r in self.records for x in r.telemetry_latency)
        event_frames = sum(len(r.event_latency) for r in self.records)
        return {
            "messages_per_s": self.frames / self.seconds,
            "event_messages_per_s": event_frames / self.seconds,
            "telemetry_messages_per_s": (self.frames - event_frames) / self.seconds,
            "event_p50_ms": _percentile(events, 50) * 1e3,
            "event_p99_ms": _percentile(events, 99) * 1e3,
            "telemetry_p50_ms": _percentile(telemetry, 50) * 1e3,
            "telemetry_p99_ms": _percentile(telemetry, 99) * 1e3,
            "loop_cpu_share": self.loop_cpu / self.seconds,
            "process_cpu_share": self.process_cpu / self.seconds,
            "us_per_console_message": self.us_per_message,
            "net_us_per_console_message": self.net_us_per_message,
        }


def _percentile(values: list[float], percent: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(percent) - 1]


@contextlib.asynccontextmanager
async def _consoles(
    orders: Queue[Any], out: Queue[Any], url: str, accounts: list[tuple[str, bool] | None]
) -> AsyncIterator[None]:
    orders.put((url, accounts))
    answer = await asyncio.to_thread(out.get, True, 120)
    if answer != "ready":
        raise RuntimeError(f"the console process failed: {answer}")
    yield


async def _measure(
    name: str,
    fanout: _Fanout,
    load: Load,
    first_seq: int,
    *,
    orders: Queue[Any],
    out: Queue[Any],
    profiler: cProfile.Profile | None = None,
) -> Phase:
    cpu, process = time.thread_time(), time.process_time()
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    sent = await _drive(fanout, load, first_seq)
    await asyncio.sleep(DRAIN_SECONDS)
    if profiler is not None:
        profiler.disable()
    loop_cpu, process_cpu = time.thread_time() - cpu, time.process_time() - process
    elapsed = time.perf_counter() - started - DRAIN_SECONDS
    orders.put("stop")
    raw = await asyncio.to_thread(out.get, True, 120)
    records = [ConsoleRecord(**r) for r in raw]
    return Phase(name, elapsed, records, loop_cpu, process_cpu, sent)


async def _load_alone(load: Load) -> float:
    """Loop CPU seconds per second of building the load and handing it to nothing."""
    cpu = time.thread_time()
    started = time.perf_counter()
    await _drive(_NullFanout(), load, 1)
    return (time.thread_time() - cpu) / (time.perf_counter() - started)


def check(phase: Phase, scopes: list[Scope], load: Load) -> list[str]:
    """Every way the consoles' records differ from what their scopes allow."""
    problems: list[str] = []
    alarms = [load.alarm(n) for n in range(phase.events_sent)]
    places = {f"v{v:05d}": load.vehicle_place(v) for v in range(load.vehicles)}
    for index, (scope, record) in enumerate(zip(scopes, phase.records, strict=True)):
        who = f"console {index} ({scope.username})"
        if record.closed:
            problems.append(f"{who} was closed by the server: {record.closed}")
        expected = Counter(n + 1 for n, (p, d) in enumerate(alarms) if scope.sees_alarm(p, d))
        got = Counter(record.alarms)
        if got != expected:
            extra, missing = got - expected, expected - got
            problems.append(
                f"{who}: {sum(got.values())} alarm events, expected {sum(expected.values())} "
                f"({sum(missing.values())} missing, {sum(extra.values())} extra or repeated)"
            )
        leaked = [d for d in record.fixes if not scope.sees_fixes_in(places[d])]
        wrong = [d for d, place in record.fixes.items() if place != places[d]]
        missing_fixes = [
            d for d, place in places.items() if scope.sees_fixes_in(place) and d not in record.fixes
        ]
        if leaked or wrong or missing_fixes:
            problems.append(
                f"{who}: {len(leaked)} vehicles outside its area, {len(wrong)} with a wrong "
                f"place, {len(missing_fixes)} of its area never received"
            )
    return problems


def check_ceiling(phase: Phase) -> list[str]:
    return [
        f"ceiling console {index}: {len(record.alarms)} of {phase.events_sent} events"
        + (f", closed: {record.closed}" if record.closed else "")
        for index, record in enumerate(phase.records)
        if len(record.alarms) != phase.events_sent or record.closed
    ]


async def run(
    consoles: int, load: Load, scratch: Path, profiler: cProfile.Profile | None = None
) -> dict[str, Any]:
    """Both phases, one after the other, on this process's event loop."""
    scopes = make_scopes(consoles)
    config = ServerConfig(
        db_url=sqlite_url(scratch),
        data_dir=scratch,
        port=0,
        cipher=FieldCipher.generate(),
        console_rate_per_second=1000.0,
        console_rate_burst=1000,
    )
    server = DutyDeskServer(config)
    await server.start()
    context = multiprocessing.get_context("spawn")
    orders: Queue[Any] = context.Queue()
    out: Queue[Any] = context.Queue()
    process = context.Process(target=_console_process, args=(orders, out), daemon=True)
    process.start()
    connections: set[ServerConnection] = set()

    async def keep(connection: ServerConnection) -> None:
        connections.add(connection)
        try:
            await connection.wait_closed()
        finally:
            connections.discard(connection)

    try:
        for scope in {s.username: s for s in scopes}.values():
            await server.users.add_user(
                scope.username,
                PASSWORD,
                scope.role,
                agency=scope.agency,
                jurisdiction=scope.jurisdiction,
            )
        url = f"ws://127.0.0.1:{server.port}/console"
        # Every console subscribes to positions (desks too: they must get none).
        accounts: list[tuple[str, bool] | None] = [(s.username, True) for s in scopes]
        async with server.sessions() as session:
            first_seq = await eventlog.head_seq(session) + 1
        async with _consoles(orders, out, url, accounts):
            dutydesk = await _measure(
                "DutyDesk",
                _HubFanout(server),
                load,
                first_seq,
                orders=orders,
                out=out,
                profiler=profiler,
            )
        async with serve(keep, "127.0.0.1", 0, compression=None) as bare:
            port = bare.sockets[0].getsockname()[1]
            ceiling_fanout = _BroadcastFanout(connections, config.telemetry_fanout_interval)
            ticker = asyncio.create_task(ceiling_fanout.tick())
            try:
                async with _consoles(orders, out, f"ws://127.0.0.1:{port}", [None] * consoles):
                    ceiling = await _measure(
                        "ceiling", ceiling_fanout, load, 1, orders=orders, out=out
                    )
            finally:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
        load_share = await _load_alone(load)
    finally:
        orders.put(None)
        await asyncio.to_thread(process.join, 30)
        if process.is_alive():
            process.kill()
        await server.close()
    for phase in (dutydesk, ceiling):
        phase.load_cpu = load_share * phase.seconds
    problems = check(dutydesk, scopes, load) + check_ceiling(ceiling)
    mix = Counter(
        "whole-area" if not s.jurisdiction else "agency desks" if s.agency else
        "districts" if len(s.jurisdiction) == 6 else "cities"
        for s in scopes
    )  # fmt: skip
    return {
        "consoles": consoles,
        "mix": dict(mix),
        "seconds": load.seconds,
        "events_per_s": load.events_per_s,
        "vehicles": load.vehicles,
        "tick_ms": config.telemetry_fanout_interval * 1e3,
        "events_sent": dutydesk.events_sent,
        "alarms_delivered": sum(len(r.alarms) for r in dutydesk.records),
        "dutydesk": dutydesk.figures(),
        "ceiling": ceiling.figures(),
        "load_cpu_share": load_share,
        "ratio": ceiling.us_per_message / dutydesk.us_per_message,
        "net_ratio": ceiling.net_us_per_message / max(dutydesk.net_us_per_message, 1e-9),
        "problems": problems,
    }


def _line(name: str, figures: dict[str, float]) -> str:
    return (
        f"{name:<9} {figures['messages_per_s']:>9,.0f} msg/s delivered "
        f"({figures['event_messages_per_s']:,.0f} events, "
        f"{figures['telemetry_messages_per_s']:,.0f} telemetry); "
        f"latency event p50/p99 {figures['event_p50_ms']:.1f}/{figures['event_p99_ms']:.1f} ms, "
        f"telemetry {figures['telemetry_p50_ms']:.1f}/{figures['telemetry_p99_ms']:.1f} ms; "
        f"CPU loop {figures['loop_cpu_share']:.0%} (process {figures['process_cpu_share']:.0%}); "
        f"{figures['us_per_console_message']:.1f} µs per console per message "
        f"({figures['net_us_per_console_message']:.1f} without building the load)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--consoles", type=int, default=100, help="consoles (mixed scopes)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--events", type=float, default=100.0, help="alarm events per second")
    parser.add_argument("--vehicles", type=int, default=2000, help="vehicles, each at 1 Hz")
    parser.add_argument(
        "--loop",
        choices=eventloop.CHOICES,
        default=None,
        help="event loop of the server (default: as `dutydesk serve`, uvloop when installed)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--profile", type=Path, help="write a cProfile of the DutyDesk phase to this file"
    )
    args = parser.parse_args()
    if args.consoles < 5:
        parser.error("--consoles must be at least 5 (one of each scope kind)")
    load = Load(seconds=args.seconds, events_per_s=args.events, vehicles=args.vehicles)
    loop_name, _ = eventloop.loop_factory(args.loop)
    with tempfile.TemporaryDirectory(prefix="dutydesk-fanout-") as scratch:
        profiler = cProfile.Profile() if args.profile else None
        result = eventloop.run(run(args.consoles, load, Path(scratch), profiler), choice=loop_name)
        if profiler is not None:
            profiler.dump_stats(args.profile)
    mix = ", ".join(f"{count} {kind}" for kind, count in result["mix"].items())
    print(
        f"{result['consoles']} consoles ({mix}); {result['seconds']:g} s per phase; "
        f"{result['events_per_s']:g} alarm events/s over {len(PLACES)} places; "
        f"{result['vehicles']:,} vehicles at 1 Hz; {result['tick_ms']:g} ms telemetry tick; "
        f"event loop {loop_name}; {os.cpu_count()} CPUs"
    )
    print(_line("DutyDesk", result["dutydesk"]))
    print(_line("ceiling", result["ceiling"]))
    print(
        f"ratio     DutyDesk delivers {result['ratio']:.0%} of the raw broadcast's messages "
        f"per CPU second of the loop (goal ≥ 50 %); {result['net_ratio']:.0%} without the "
        f"load's own building ({result['load_cpu_share']:.1%} of the loop)"
    )
    if result["problems"]:
        print(f"!!! {len(result['problems'])} CONSOLES GOT WHAT THEIR SCOPE DOES NOT ALLOW !!!")
        for problem in result["problems"]:
            print(f"!!! {problem}")
    else:
        print(
            f"correct   every console got exactly what its scope allows: each of "
            f"{result['events_sent']:,} alarm events where allowed, once "
            f"({result['alarms_delivered']:,} deliveries), every vehicle of its area, "
            "nothing outside it"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
