"""Simulated JT/T 808 terminals: a terminal-side client and trucks driving a route.

:class:`TerminalClient` is the terminal's side of one connection: it sends messages, waits
for the platform's 0x8001/0x8100 replies (matched by serial), answers 0x8300 texts with
0x0001 and, given :class:`~devices.jt808.terminal_orders.TerminalOrders`, every other
order the way a terminal does (temporary tracking sends reports at the interval).
:class:`SimulatedTruck` registers, authenticates and reports 0x0200 locations along a
route, with optional speeding, stops and SOS; :func:`run_fleet` runs many at once. Both
back the ``dutydesk simulate`` command, the demo and the gateway tests.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from devices.jt808.codec import Frame, FrameDecoder, encode_frame
from devices.jt808.errors import JT808Error
from devices.jt808.framing import ProtocolVersion
from devices.jt808.messages import (
    Authentication,
    CallBackOrder,
    GeneralResult,
    Heartbeat,
    Location,
    Message,
    MileageItem,
    PlatformGeneralReply,
    Register,
    RegisterReply,
    RegisterResult,
    SatelliteCountItem,
    TemporaryTracking,
    TerminalGeneralReply,
    TextMessage,
)
from devices.jt808.routes import DEFAULT_ROUTE, Route, Window
from devices.jt808.terminal_orders import ORDER_TYPES, TerminalOrders, Tracking
from realtime.aio import cancel_and_wait

logger = logging.getLogger(__name__)

EMERGENCY_BIT = 1 << 0
OVERSPEED_BIT = 1 << 1
STATUS_ACC_ON = 1 << 0
STATUS_POSITIONED = 1 << 1
STATUS_GPS_BEIDOU = (1 << 18) | (1 << 19)
MAX_UNSOLICITED = 256

Reply = PlatformGeneralReply | RegisterReply

_STANDING = Location.from_degrees(
    lat=31.2304, lon=121.4737, time=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
)
"""Where a terminal without a location provider says it is."""


class SimulatorError(Exception):
    """A simulated terminal could not do what it was asked (refused, no reply...)."""


class TerminalClient:
    """The terminal's side of one JT/T 808 connection.

    ``on_frame`` (optional) is called with every frame received, before it is handled;
    tests use it to record when a reply arrived. Texts (0x8300) are stored in ``texts``
    and answered with 0x0001 carrying ``text_result`` (unless ``answer_texts`` is false).
    """

    def __init__(
        self,
        phone: str,
        *,
        version: ProtocolVersion = ProtocolVersion.V2013,
        text_result: GeneralResult = GeneralResult.SUCCESS,
        answer_texts: bool = True,
        on_frame: Callable[[Frame], None] | None = None,
        orders: TerminalOrders | None = None,
        location: Callable[[], Location] | None = None,
    ) -> None:
        self.phone = phone
        self.orders = orders
        """Where orders are carried out and answered (None: they stay unsolicited)."""
        self._location = location
        self._tracker: asyncio.Task[None] | None = None
        self.tracking_reports = 0
        """Location reports sent for temporary tracking."""
        self.version = version
        self.text_result = text_result
        self.answer_texts = answer_texts
        self.texts: list[TextMessage] = []
        self.unsolicited: collections.deque[Frame] = collections.deque(maxlen=MAX_UNSOLICITED)
        """Frames from the platform that matched no pending request (bounded)."""
        self.decode_errors = 0
        self._on_frame = on_frame
        self._serial = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[Reply]] = {}
        self._write_lock = asyncio.Lock()
        self.closed = asyncio.Event()
        """Set once the platform closed the connection (or :meth:`close` ran)."""

    async def connect(self, host: str, port: int, *, local_host: str | None = None) -> None:
        """Open the TCP connection (from ``local_host``, if given) and start reading."""
        self._reader, self._writer = await asyncio.open_connection(
            host, port, local_addr=None if local_host is None else (local_host, 0)
        )
        self.closed.clear()
        self._task = asyncio.create_task(self._read_loop(), name=f"jt808 terminal {self.phone}")

    async def close(self) -> None:
        """Close the connection and stop the reader task."""
        if self._tracker is not None:
            await cancel_and_wait(self._tracker)
            self._tracker = None
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except ConnectionError:
                logger.debug("terminal %s: reset while closing", self.phone)
            self._writer = None
        self._fail_pending("connection closed")
        self.closed.set()

    async def __aenter__(self) -> TerminalClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def next_serial(self) -> int:
        """Allocate the next outgoing serial number."""
        serial = self._serial
        self._serial = (self._serial + 1) & 0xFFFF
        return serial

    def encode(self, message: Message, serial: int | None = None) -> tuple[int, bytes]:
        """Encode ``message`` as this terminal; returns (serial, frame bytes)."""
        serial = self.next_serial() if serial is None else serial
        return serial, encode_frame(message, phone=self.phone, serial=serial, version=self.version)

    async def send_raw(
        self, data: bytes, *, reply_serial: int | None = None, timeout: float = 5.0
    ) -> Reply | None:
        """Write ``data`` as is; with ``reply_serial``, wait for the reply to that serial."""
        if reply_serial is None:
            await self._write(data)
            return None
        future = self._expect(reply_serial)
        try:
            await self._write(data)
            async with asyncio.timeout(timeout):
                return await future
        finally:
            self._pending.pop(reply_serial, None)

    async def request(self, message: Message, *, timeout: float = 5.0) -> Reply:
        """Send ``message`` and wait for the platform's reply to it."""
        serial, data = self.encode(message)
        reply = await self.send_raw(data, reply_serial=serial, timeout=timeout)
        if reply is None:
            raise SimulatorError(f"no reply to {type(message).__name__}")
        return reply

    async def send(self, message: Message) -> int:
        """Send ``message`` without waiting; returns its serial."""
        serial, data = self.encode(message)
        await self._write(data)
        return serial

    async def register(self, register: Register, *, timeout: float = 5.0) -> RegisterReply:
        """Send 0x0100 and return the platform's 0x8100."""
        reply = await self.request(register, timeout=timeout)
        if not isinstance(reply, RegisterReply):
            raise SimulatorError(f"expected a register reply, got {reply!r}")
        return reply

    async def general(self, message: Message, *, timeout: float = 5.0) -> GeneralResult:
        """Send ``message`` and return the result of the platform's 0x8001."""
        reply = await self.request(message, timeout=timeout)
        if not isinstance(reply, PlatformGeneralReply):
            raise SimulatorError(f"expected a general reply, got {reply!r}")
        return reply.result

    async def login(self, register: Register, *, timeout: float = 5.0) -> str:
        """Register, then authenticate with the code received; returns the code."""
        reply = await self.register(register, timeout=timeout)
        if reply.result != RegisterResult.SUCCESS:
            raise SimulatorError(
                f"terminal {self.phone}: registration refused ({reply.result.name})"
            )
        await self.authenticate(reply.auth_code, timeout=timeout)
        return reply.auth_code

    async def authenticate(self, code: str, *, timeout: float = 5.0) -> None:
        """Send 0x0102 with ``code``; raise :class:`SimulatorError` if refused."""
        if self.version == ProtocolVersion.V2019:
            auth = Authentication(code, imei="860000000000000", software_version="sim-1.0")
        else:
            auth = Authentication(code)
        result = await self.general(auth, timeout=timeout)
        if result != GeneralResult.SUCCESS:
            raise SimulatorError(f"terminal {self.phone}: authentication refused ({result.name})")

    def _expect(self, serial: int) -> asyncio.Future[Reply]:
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[serial] = future
        return future

    def _fail_pending(self, reason: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionResetError(reason))
        self._pending.clear()

    async def _write(self, data: bytes) -> None:
        writer = self._writer
        if writer is None or writer.is_closing():
            raise ConnectionResetError(f"terminal {self.phone} is not connected")
        async with self._write_lock:
            writer.write(data)
            await writer.drain()

    async def _read_loop(self) -> None:
        if self._reader is None:
            raise SimulatorError("the truck is not connected")
        decoder = FrameDecoder()
        try:
            while data := await self._reader.read(4096):
                for item in decoder.feed(data):
                    if isinstance(item, JT808Error):
                        self.decode_errors += 1
                        logger.debug("terminal %s: bad platform frame: %s", self.phone, item)
                        continue
                    await self._handle(item)
        except ConnectionError as exc:
            logger.debug("terminal %s: connection lost: %s", self.phone, exc)
        finally:
            self._fail_pending("connection closed by the platform")
            self.closed.set()

    async def _handle(self, frame: Frame) -> None:
        if self._on_frame is not None:
            self._on_frame(frame)
        message = frame.message
        if isinstance(message, PlatformGeneralReply | RegisterReply):
            future = self._pending.get(message.reply_serial)
            if future is not None and not future.done():
                future.set_result(message)
                return
        elif isinstance(message, TextMessage):
            self.texts.append(message)
            if not self.answer_texts:
                return
            reply = TerminalGeneralReply(
                reply_serial=frame.header.serial,
                reply_msg_id=frame.header.msg_id,
                result=self.text_result,
            )
            await self.send(reply)
            return
        elif isinstance(message, ORDER_TYPES) and self.orders is not None:
            await self.send(self.orders.answer(frame.header, message, self._now()))
            if isinstance(message, CallBackOrder):
                logger.info("terminal %s: calling back %s", self.phone, message.phone)
            elif isinstance(message, TemporaryTracking):
                await self._follow_tracking()
            return
        self.unsolicited.append(frame)

    def _now(self) -> Location:
        location = self._location() if self._location is not None else _STANDING
        return self.orders.located(location) if self.orders is not None else location

    async def _follow_tracking(self) -> None:
        """Start (or restart, or stop) the reports of temporary tracking."""
        tracking = self.orders.tracking if self.orders is not None else None
        if self._tracker is not None:
            await cancel_and_wait(self._tracker)  # a new 0x8202 replaces the old one
            self._tracker = None
        if tracking is not None:
            self._tracker = asyncio.create_task(
                self._track(tracking), name=f"jt808 tracking {self.phone}"
            )

    async def _track(self, tracking: Tracking) -> None:
        try:
            for _ in range(tracking.validity_s // tracking.interval_s):
                await asyncio.sleep(tracking.interval_s)
                await self.send(self._now())
                self.tracking_reports += 1
        except ConnectionError as exc:
            logger.debug("terminal %s: tracking ended: %s", self.phone, exc)
        finally:
            if self.orders is not None and self.orders.tracking is tracking:
                self.orders.tracking = None


@dataclass(frozen=True, slots=True)
class TruckPlan:
    """How a simulated truck drives. Times are simulated seconds since it started.

    ``speeding`` windows drive at ``speeding_kmh``; ``stops`` windows stand still; the
    overspeed alarm bit is set while the speed exceeds ``speed_limit_kmh``; at each time
    in ``sos_at_s`` the emergency bit is set until a report carrying it is acknowledged
    (the terminal clears it once the platform replied, as the standard says).
    """

    route: Sequence[tuple[float, float]] = DEFAULT_ROUTE
    speed_kmh: float = 50.0
    interval_s: float = 1.0
    """Simulated seconds between two reports."""
    time_scale: float = 1.0
    """Simulated seconds per real second (> 1 replays faster; device times run ahead)."""
    speed_limit_kmh: float | None = 80.0
    speeding: Sequence[Window] = ()
    speeding_kmh: float = 100.0
    stops: Sequence[Window] = ()
    sos_at_s: Sequence[float] = ()
    loop: bool = True


@dataclass
class TruckStats:
    """What a simulated truck did."""

    reports_sent: int = 0
    reports_acked: int = 0
    reports_refused: int = 0
    sos_sent: int = 0
    connections: int = 0
    texts: list[str] = field(default_factory=list)


class SimulatedTruck:
    """A JT/T 808 terminal on a truck: registers, authenticates, reports along a route.

    The location for simulated time ``t`` is deterministic (:meth:`location_at` after the
    truck advanced to ``t``), so tests can predict what the gateway receives.
    """

    def __init__(
        self,
        phone: str,
        plate: str,
        plan: TruckPlan | None = None,
        *,
        version: ProtocolVersion = ProtocolVersion.V2013,
        start_time: dt.datetime | None = None,
        reply_timeout: float = 5.0,
        reconnect_delay: float = 1.0,
    ) -> None:
        self.phone = phone
        self.plate = plate
        self.plan = plan or TruckPlan()
        self.version = version
        self.start_time = start_time or dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.reply_timeout = reply_timeout
        self.reconnect_delay = reconnect_delay
        self.route = Route(self.plan.route, loop=self.plan.loop)
        self.stats = TruckStats()
        self.client: TerminalClient | None = None
        self._distance_m = 0.0
        self._t = 0.0
        self._sos_times = sorted(self.plan.sos_at_s)
        self._sos_pending = False
        self._auth_code: str | None = None
        self.orders = TerminalOrders()
        """The truck's parameters and doors, as the platform's orders left them."""

    def press_sos(self) -> None:
        """Set the emergency bit on the next reports until one is acknowledged."""
        self._sos_pending = True

    def speed_at(self, t: float) -> float:
        """Planned speed (km/h) at simulated time ``t``."""
        if any(window.contains(t) for window in self.plan.stops):
            return 0.0
        if any(window.contains(t) for window in self.plan.speeding):
            return self.plan.speeding_kmh
        return self.plan.speed_kmh

    def advance(self, seconds: float) -> None:
        """Move the truck forward by ``seconds`` of simulated time."""
        self._distance_m += self.speed_at(self._t) / 3.6 * seconds
        self._t += seconds
        while self._sos_times and self._sos_times[0] <= self._t:
            self._sos_times.pop(0)
            self._sos_pending = True

    def location(self) -> Location:
        """The 0x0200 report for the truck's current simulated time."""
        lat, lon, heading = self.route.at(self._distance_m)
        speed = self.speed_at(self._t)
        alarm = EMERGENCY_BIT if self._sos_pending else 0
        limit = self.plan.speed_limit_kmh
        if limit is not None and speed > limit:
            alarm |= OVERSPEED_BIT
        return Location.from_degrees(
            lat=lat,
            lon=lon,
            time=self.start_time + dt.timedelta(seconds=self._t),
            speed_kmh=speed,
            heading_deg=round(heading) % 360,
            altitude_m=8,
            alarm_flags=alarm,
            status_flags=self.orders.status_bits(
                STATUS_ACC_ON | STATUS_POSITIONED | STATUS_GPS_BEIDOU
            ),
            items=(MileageItem(round(self._distance_m / 100)), SatelliteCountItem(12)),
        )

    def register_message(self) -> Register:
        """The truck's 0x0100 body."""
        return Register(
            province=31,
            city=100,
            maker="DDSIM",
            model="DD-SIM-808",
            terminal_id=self.phone[-7:],
            plate_color=2,
            plate=self.plate,
        )

    async def connect(self, host: str, port: int) -> TerminalClient:
        """Connect, register (once per truck) and authenticate."""
        client = TerminalClient(
            self.phone, version=self.version, orders=self.orders, location=self.location
        )
        await client.connect(host, port)
        try:
            if self._auth_code is None:
                reply = await client.register(self.register_message(), timeout=self.reply_timeout)
                if reply.result != RegisterResult.SUCCESS:
                    raise SimulatorError(
                        f"truck {self.phone}: registration refused ({reply.result.name})"
                    )
                self._auth_code = reply.auth_code
            await client.authenticate(self._auth_code, timeout=self.reply_timeout)
        except BaseException:
            await client.close()
            raise
        self.client = client
        self.stats.connections += 1
        return client

    async def report(self) -> GeneralResult:
        """Send the current location and return the platform's result."""
        if self.client is None:
            raise SimulatorError(f"truck {self.phone} is not connected")
        location = self.location()
        self.stats.reports_sent += 1
        if location.alarm_flags & EMERGENCY_BIT:
            self.stats.sos_sent += 1
        result = await self.client.general(location, timeout=self.reply_timeout)
        if result == GeneralResult.SUCCESS:
            self.stats.reports_acked += 1
            if location.alarm_flags & EMERGENCY_BIT:
                self._sos_pending = False
        else:
            self.stats.reports_refused += 1
        return result

    async def heartbeat(self) -> GeneralResult:
        """Send 0x0002 and return the platform's result."""
        if self.client is None:
            raise SimulatorError(f"truck {self.phone} is not connected")
        return await self.client.general(Heartbeat(), timeout=self.reply_timeout)

    async def close(self) -> None:
        """Disconnect."""
        if self.client is not None:
            self.stats.texts.extend(text.text for text in self.client.texts)
            await self.client.close()
            self.client = None

    async def run(
        self,
        host: str,
        port: int,
        *,
        reports: int | None = None,
        duration_s: float | None = None,
    ) -> TruckStats:
        """Drive: report every ``interval_s`` simulated seconds until ``reports`` were sent
        or ``duration_s`` simulated seconds passed (forever if neither). A lost connection
        is retried after ``reconnect_delay``; a refused registration ends the run."""
        pause = self.plan.interval_s / self.plan.time_scale
        try:
            while not self._done(reports, duration_s):
                if self.client is None or self.client.closed.is_set():
                    await self.close()
                    try:
                        await self.connect(host, port)
                    except (OSError, TimeoutError) as exc:
                        logger.info("truck %s: cannot connect (%s); retrying", self.phone, exc)
                        await asyncio.sleep(self.reconnect_delay)
                        continue
                try:
                    await self.report()
                except (ConnectionError, TimeoutError) as exc:
                    logger.info("truck %s: report failed (%s)", self.phone, exc)
                    await self.close()
                    continue
                await asyncio.sleep(pause)
                self.advance(self.plan.interval_s)
        finally:
            await self.close()
        return self.stats

    def _done(self, reports: int | None, duration_s: float | None) -> bool:
        if reports is not None and self.stats.reports_sent >= reports:
            return True
        return duration_s is not None and self._t >= duration_s


async def run_fleet(
    host: str,
    port: int,
    n: int,
    *,
    plan: TruckPlan | None = None,
    reports: int | None = None,
    duration_s: float | None = None,
    sos_trucks: int = 0,
    speeding_trucks: int = 0,
    version: ProtocolVersion = ProtocolVersion.V2013,
    phone_base: int = 13_800_000_000,
    plate_prefix: str = "沪D",
) -> list[TruckStats]:
    """Run ``n`` trucks against a gateway and return their stats (in phone order).

    Trucks share ``plan`` but start spread along the route; the first ``sos_trucks`` press
    SOS after a few reports and the next ``speeding_trucks`` speed for a while. Phones are
    ``phone_base + i``; plates ``plate_prefix`` + a five-digit number.
    """
    base = plan or TruckPlan()
    trucks: list[SimulatedTruck] = []
    for index in range(n):
        truck_plan = base
        if index < sos_trucks:
            truck_plan = dataclasses.replace(base, sos_at_s=(3 * base.interval_s,))
        elif index < sos_trucks + speeding_trucks:
            truck_plan = dataclasses.replace(
                base, speeding=(Window(2 * base.interval_s, 12 * base.interval_s),)
            )
        truck = SimulatedTruck(
            str(phone_base + index), f"{plate_prefix}{index:05d}", truck_plan, version=version
        )
        truck._distance_m = truck.route.length_m * index / max(n, 1)
        trucks.append(truck)
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(truck.run(host, port, reports=reports, duration_s=duration_s))
            for truck in trucks
        ]
    return [task.result() for task in tasks]
