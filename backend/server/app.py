"""The DutyDesk WebSocket server: one port for consoles (``/console``), device feeds
(``/device``) and the health check (``GET /health``).

Authentication happens at the handshake (``Authorization`` header); every message after
that is authorized again by the services. Each connection is bounded in message size,
message rate and outgoing queue, so one misbehaving peer cannot hurt the others.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import contextlib
import datetime as dt
import http
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.typing import Origin

from backend import __version__
from backend.alarms.service import AlarmService
from backend.alarms.service import Error as AlarmError
from backend.authz.policy import ForbiddenError, can_see, check_console, check_device
from backend.eventlog import log as eventlog
from backend.ingest.service import IngestService, RefusedError
from backend.ingest.telemetry import TelemetryWriter
from backend.registry.cameras import CameraRegistry
from backend.registry.devices import DEVICE_KINDS, DeviceRegistry
from backend.registry.users import AuthError, Principal, UserService
from backend.security import FieldCipher
from backend.sensors import timeseries
from backend.sensors.rules import SensorConfig
from backend.sensors.service import SensorService
from backend.server.hub import TELEMETRY_TOPICS, Hub, Subscriber
from backend.storage import db
from backend.vehicles import track_query
from backend.vehicles.geofences import GeofenceService, rules_with_geofences
from backend.vehicles.rules import RulesConfig, VehicleRulesEngine
from devices.jt808.gateway import Jt808Gateway, ReplyTimeoutError, TerminalOfflineError
from devices.jt808.messages import GeneralResult, TextFlag
from devices.observations import DeviceAlarmRaised, DeviceStatusChanged, Position, Reading
from realtime import PROTOCOL_VERSION
from realtime.protocol import (
    CLOSE_HELLO_EXPECTED,
    CLOSE_RATE_ABUSE,
    CLOSE_TOO_SLOW,
    CLOSE_UNSUPPORTED_PROTOCOL,
    CONSOLE_PATH,
    CONSOLE_RATE_BURST,
    CONSOLE_RATE_PER_SECOND,
    DEVICE_PATH,
    DEVICE_RATE_BURST,
    DEVICE_RATE_PER_SECOND,
    HEALTH_PATH,
    HELLO_TIMEOUT_SECONDS,
    MAX_CONSOLE_MESSAGE_BYTES,
    MAX_DEVICE_MESSAGE_BYTES,
    MAX_REPLAY_EVENTS,
    MAX_TRACK_ROWS,
    Ack,
    AlarmResult,
    CamerasResult,
    CameraView,
    Command,
    CreateAlarm,
    DeleteGeofence,
    DeviceAlarm,
    DevicePosition,
    DeviceReading,
    DevicesResult,
    DeviceStatus,
    DispatchAlarm,
    Error,
    ErrorCode,
    Event,
    GeofenceResult,
    GeofencesResult,
    GetAlarmHistory,
    GetSeries,
    GetTrack,
    Hello,
    HistoryResult,
    Limits,
    ListCameras,
    ListDevices,
    ListGeofences,
    ListSensors,
    ListUnits,
    Ping,
    Pong,
    ProtocolError,
    Result,
    ResultData,
    RevealContact,
    Role,
    SaveGeofence,
    SendText,
    SensorsResult,
    SensorView,
    SeriesPoint,
    SeriesResult,
    Subscribe,
    Subscribed,
    Synced,
    Telemetry,
    TextSent,
    ThresholdView,
    TrackColumns,
    TrackForm,
    TrackResult,
    TransitionAlarm,
    UnitsResult,
    UnitView,
    Welcome,
    decode_console,
    decode_device,
    encode,
    request_id_of,
)
from realtime.protocol import (
    DeviceAlarmRaised as DeviceAlarmRaisedMessage,
)
from realtime.ratelimit import TokenBucket

logger = logging.getLogger(__name__)


_MOVING = frozenset({"jt808", "nmea"})
"""Device kinds that report positions."""
SNAPSHOT_CHUNK = 2_000
"""Fixes (and readings) per telemetry message of the snapshot a subscription starts with
(≈ 300 KB): a fleet of any size stays far below the console's message limit."""

RATE_ABUSE_LIMIT = 200
"""Messages refused for rate in a row before the connection is closed."""
ANSWER_MEMORY = 10_000
"""How many recent command answers are kept to absorb re-sends."""
LOGIN_FAILURES_BEFORE_LOCK = 5
LOGIN_LOCK_SECONDS = 300.0


@dataclass(slots=True)
class _LoginThrottle:
    failures: dict[str, list[float]] = field(default_factory=dict)

    def locked(self, key: str) -> bool:
        recent = [
            t for t in self.failures.get(key, []) if time.monotonic() - t < LOGIN_LOCK_SECONDS
        ]
        self.failures[key] = recent
        return len(recent) >= LOGIN_FAILURES_BEFORE_LOCK

    def failed(self, key: str) -> None:
        self.failures.setdefault(key, []).append(time.monotonic())

    def succeeded(self, key: str) -> None:
        self.failures.pop(key, None)


@dataclass(slots=True)
class ServerConfig:
    """How to run the server."""

    db_url: str
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8765
    allowed_origins: Sequence[str] = ()
    """Browser origins allowed to connect; clients that send no Origin are always allowed."""
    cipher: FieldCipher | None = None
    seed_units: Sequence[UnitView] = ()
    console_rate_per_second: float = CONSOLE_RATE_PER_SECOND
    console_rate_burst: int = CONSOLE_RATE_BURST
    jt808_auto_register: bool = False
    """Give unknown JT/T 808 terminals an auth code (and a registry entry) on registration."""
    jt808_listen: tuple[str, int] | None = None
    """Run a JT/T 808 TCP gateway in this process on (host, port)."""
    jt808_offline_after: float = 180.0
    """Seconds of silence after which a terminal counts as offline."""
    jt808_max_frames_per_second: float = 20.0
    """Per-connection frame rate limit (a terminal reports every few seconds)."""
    telemetry_commit_delay: float = 0.01
    """Longest a position or reading waits for its group commit (under load the batches
    grow by themselves while the previous commit runs)."""
    telemetry_fanout_interval: float = 0.025
    """How often coalesced telemetry goes to consoles (the map redraws on its own timer)."""
    seed_sensors: Sequence[SensorConfig] = ()
    """Sensors to register at start unless already known (samples, demos)."""
    seed_cameras: Sequence[CameraView] = ()
    """Cameras to register at start unless their code is known (samples, demos)."""
    vehicle_rules: RulesConfig | None = None
    """Rules checked on every live vehicle fix (overspeed, geofences, night ban, …)."""


class TextSender(Protocol):
    """Delivers a text to a vehicle terminal and says whether the terminal confirmed it."""

    async def __call__(
        self, phone: str, text: str, *, emergency: bool, tts: bool, display: bool
    ) -> bool:
        """Send; raise LookupError when the terminal is not connected."""


class DutyDeskServer:
    """Owns the database engine, the services and the listening socket."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.engine = db.create_engine(config.db_url)
        self.sessions = db.session_factory(self.engine)
        self.cipher = config.cipher or FieldCipher.from_data_dir(config.data_dir)
        self.hub = Hub(telemetry_interval=config.telemetry_fanout_interval)
        self.users = UserService(self.sessions)
        self.writer = eventlog.EventWriter(self.sessions, self.hub.publish)
        self.alarms = AlarmService(self.sessions, self.cipher, self.writer)
        self.registry = DeviceRegistry(
            self.sessions, self.writer, auto_register=config.jt808_auto_register
        )
        self.telemetry = TelemetryWriter(self.sessions, max_delay=config.telemetry_commit_delay)
        self.sensors = SensorService(self.sessions, self.alarms)
        self.geofences = GeofenceService(self.sessions, self.writer)
        self.cameras = CameraRegistry(self.sessions, self.cipher)
        self.vehicle_engines: dict[str, VehicleRulesEngine] = {}
        """The live vehicle rules engine of each vehicle ingest (file rules + geofences)."""
        self._geofences_applying = asyncio.Lock()
        self.ingests = {kind: self._ingest(kind) for kind in DEVICE_KINDS}
        """One ingest per device protocol (levels and titles of device alarms differ)."""
        self.json_ingest = self.ingests["json"]
        self.jt808_ingest = self.ingests["jt808"]
        self.jt808_gateway: Jt808Gateway | None = None
        self.text_sender: TextSender | None = None
        """Set when a JT/T 808 gateway runs in this process, to deliver 0x8300 texts."""
        self._server: Server | None = None
        self._principals: dict[ServerConnection, Principal] = {}
        self._throttle = _LoginThrottle()
        self._answers: collections.OrderedDict[tuple[str, str], Result | Error] = (
            collections.OrderedDict()
        )
        self._started = time.monotonic()
        self._devices_connected = 0

    def _ingest(self, kind: str) -> IngestService:
        # Vehicles report by JT/T 808 terminals or serial GPS; sensors have their own rules.
        # Vehicle ingests always get an engine: geofences drawn later add rules to it.
        engine: VehicleRulesEngine | None = None
        if kind in ("jt808", "nmea"):
            engine = VehicleRulesEngine(self.config.vehicle_rules or RulesConfig())
            self.vehicle_engines[kind] = engine
        return IngestService(
            kind=kind,
            alarms=self.alarms,
            registry=self.registry,
            telemetry=self.telemetry,
            hub=self.hub,
            vehicle_rules=engine,
            # Sensors report by Modbus pollers or JSON feeds.
            sensors=self.sensors if kind in ("json", "modbus") else None,
        )

    async def apply_geofences(self) -> None:
        """Put the file's vehicle rules plus the stored geofences in force on every engine."""
        # One at a time, so an older read of the table can never win over a newer one.
        async with self._geofences_applying:
            config = rules_with_geofences(self.config.vehicle_rules, await self.geofences.list())
            for engine in self.vehicle_engines.values():
                engine.replace_config(config)
        logger.info("vehicle rules in force: %s", len(config.rules))

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        if self._server is None:
            raise RuntimeError("server not started")
        sockets = list(self._server.sockets)
        return int(sockets[0].getsockname()[1])

    @property
    def database_kind(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return make_url(self.config.db_url).get_backend_name()

    async def start(self) -> None:
        """Migrate the database, seed the registry, and start listening."""
        await db.migrate(self.engine)
        await self.apply_geofences()
        if self.config.seed_units:
            added = await self.alarms.seed_units(self.config.seed_units)
            if added:
                logger.info("seeded %s units into the registry", added)
        self.telemetry.start()
        self.hub.start()
        # Consoles that subscribe get every sensor's newest value and every vehicle's last
        # known place at once, not "no reading yet" and an empty map until each reports.
        self.hub.remember_readings(await self.sensors.start())
        async with self.sessions() as session:
            self.hub.remember_positions(await track_query.latest_fixes(session, _MOVING))
        if self.config.seed_sensors:
            added = await self.sensors.add_sensors(self.config.seed_sensors, only_new=True)
            if added:
                logger.info("registered %s sample sensors", added)
        if self.config.seed_cameras:
            seeded = await self.cameras.import_cameras(self.config.seed_cameras, only_new=True)
            if seeded.added:
                logger.info("registered %s sample cameras", seeded.added)
        for ingest in self.ingests.values():
            ingest.start()
        if self.config.jt808_listen is not None:
            await self._start_jt808(*self.config.jt808_listen)
        origins: list[Origin | None] = [None, *(Origin(o) for o in self.config.allowed_origins)]
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=self._process_request,
            max_size=MAX_CONSOLE_MESSAGE_BYTES,
            compression=None,
            origins=origins,
            ping_interval=20,
            ping_timeout=20,
            close_timeout=5,
            server_header=f"DutyDesk/{__version__}",
        )
        logger.info(
            "DutyDesk %s listening on ws://%s:%s (database: %s)",
            __version__,
            self.config.host,
            self.port,
            self.database_kind,
        )

    async def close(self) -> None:
        """Stop accepting, close every connection, flush telemetry, release the database."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self.jt808_gateway is not None:
            await self.jt808_gateway.close()
            self.jt808_gateway = None
            self.text_sender = None
        for ingest in self.ingests.values():
            await ingest.stop()
        await self.registry.close()
        await self.sensors.stop()
        await self.hub.stop()
        await self.telemetry.stop()
        await self.engine.dispose()

    async def _start_jt808(self, host: str, port: int) -> None:
        gateway = Jt808Gateway(
            self.jt808_ingest,
            self.registry,
            host=host,
            port=port,
            offline_after=self.config.jt808_offline_after,
            max_frames_per_second=self.config.jt808_max_frames_per_second,
        )
        await gateway.start()
        self.jt808_gateway = gateway

        async def send_text(
            phone: str, text: str, *, emergency: bool, tts: bool, display: bool
        ) -> bool:
            flags = (
                (TextFlag.EMERGENCY if emergency else 0)
                | (TextFlag.TTS if tts else 0)
                | (TextFlag.TERMINAL_DISPLAY if display else 0)
            )
            try:
                result = await gateway.send_text(phone, text, flags)
            except TerminalOfflineError as exc:
                raise LookupError(phone) from exc
            except ReplyTimeoutError:
                return False
            return result is GeneralResult.SUCCESS

        self.text_sender = send_text

    @property
    def jt808_port(self) -> int:
        """The JT/T 808 gateway's port (useful with port 0)."""
        if self.jt808_gateway is None:
            raise RuntimeError("no JT/T 808 gateway in this server")
        return self.jt808_gateway.port

    async def serve_forever(self) -> None:
        """Run until cancelled."""
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.wait_closed()

    # ------------------------------------------------------------------ handshake

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == HEALTH_PATH:
            return await self._health()
        if path not in (CONSOLE_PATH, DEVICE_PATH):
            return connection.respond(http.HTTPStatus.NOT_FOUND, f"no endpoint {path}\n")
        remote = _remote(connection)
        authorization = request.headers.get("Authorization")
        key = _login_key(authorization, remote)
        if self._throttle.locked(key):
            logger.warning("login refused for %s from %s: too many failures", key, remote)
            return connection.respond(
                http.HTTPStatus.TOO_MANY_REQUESTS, "too many failed logins; wait five minutes\n"
            )
        try:
            principal = await self.users.authenticate(authorization)
        except AuthError as exc:
            self._throttle.failed(key)
            logger.warning("login refused for %s from %s: %s", key, remote, exc)
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, f"{exc}\n")
        self._throttle.succeeded(key)
        if path == CONSOLE_PATH:
            try:
                check_console(principal)
            except ForbiddenError as exc:
                logger.warning("console refused for %s: %s", principal.username, exc)
                return connection.respond(http.HTTPStatus.FORBIDDEN, f"{exc}\n")
        self._principals[connection] = principal
        return None

    async def _health(self) -> Response:
        async with self.sessions() as session:
            head = await eventlog.head_seq(session)
        body = json.dumps(
            {
                "status": "ok",
                "version": __version__,
                "protocol": PROTOCOL_VERSION,
                "database": self.database_kind,
                "head_seq": head,
                "uptime_s": round(time.monotonic() - self._started, 1),
                "consoles": len(self.hub),
                "devices": self._devices_connected,
                "terminals_online": (
                    len(self.jt808_gateway.online_terminals) if self.jt808_gateway else 0
                ),
            }
        ).encode()
        headers = Headers(
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return Response(200, "OK", headers, body)

    async def _handle(self, connection: ServerConnection) -> None:
        principal = self._principals.pop(connection, None)
        if principal is None:  # the handshake hook always sets it; be safe anyway
            await connection.close(CloseCode.POLICY_VIOLATION, "not authenticated")
            return
        assert connection.request is not None
        if connection.request.path.split("?", 1)[0] == DEVICE_PATH:
            await self._device_session(connection, principal)
        else:
            await self._console_session(connection, principal)

    # ------------------------------------------------------------------ consoles

    async def _console_session(self, connection: ServerConnection, principal: Principal) -> None:
        try:
            raw = await asyncio.wait_for(connection.recv(), HELLO_TIMEOUT_SECONDS)
            hello = decode_console(raw)
        except TimeoutError:
            await connection.close(CLOSE_HELLO_EXPECTED, "send hello first")
            return
        except ProtocolError as exc:
            await _send(connection, Error(code=ErrorCode.HELLO_EXPECTED, message=exc.message))
            await connection.close(CLOSE_HELLO_EXPECTED, "send a valid hello first")
            return
        except ConnectionClosed:
            return
        if not isinstance(hello, Hello):
            await _send(
                connection,
                Error(code=ErrorCode.HELLO_EXPECTED, message="the first message must be hello"),
            )
            await connection.close(CLOSE_HELLO_EXPECTED, "send hello first")
            return
        if hello.protocol != PROTOCOL_VERSION:
            await connection.close(
                CLOSE_UNSUPPORTED_PROTOCOL,
                f"protocol {hello.protocol} unsupported; this server speaks {PROTOCOL_VERSION}",
            )
            return

        subscriber = Subscriber(principal)
        self.hub.add(subscriber)
        logger.info(
            "console %s (%s) connected from %s",
            principal.username,
            hello.client,
            _remote(connection),
        )
        try:
            last_sent = await self._sync(connection, principal, hello.resume_from)
            sender = asyncio.create_task(self._send_live(connection, subscriber, last_sent))
            receiver = asyncio.create_task(self._receive_commands(connection, subscriber))
            done, pending = await asyncio.wait(
                {sender, receiver}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await task
            for task in done:
                with contextlib.suppress(ConnectionClosed):
                    task.result()
        except ConnectionClosed:
            pass
        finally:
            self.hub.remove(subscriber)
            logger.info("console %s disconnected", principal.username)

    async def _sync(
        self, connection: ServerConnection, principal: Principal, resume_from: int | None
    ) -> int:
        """Send the replay or a snapshot, then ``synced``; return the last seq sent."""
        async with self.sessions() as session:
            head = await eventlog.head_seq(session)
            replay: list[Event] | None = None
            if (
                resume_from is not None
                and 0 <= resume_from <= head
                and head - resume_from <= MAX_REPLAY_EVENTS
            ):
                replay = await eventlog.events_after(session, resume_from, MAX_REPLAY_EVENTS)
        welcome = Welcome(
            protocol=PROTOCOL_VERSION,
            server_version=__version__,
            session_token=await self.users.issue_token(principal),
            user=principal.info(),
            head_seq=head,
            limits=Limits(
                max_message_bytes=MAX_CONSOLE_MESSAGE_BYTES,
                rate_per_second=self.config.console_rate_per_second,
                rate_burst=self.config.console_rate_burst,
            ),
        )
        await _send(connection, welcome)
        if replay is None:
            snapshot = await self.alarms.snapshot(principal)
            await _send(connection, snapshot)
            last_sent = snapshot.head_seq
        else:
            last_sent = resume_from or 0
            for event in replay:
                if event.alarm is None or can_see(principal, event.alarm):
                    await _send(connection, event)
                last_sent = event.seq
        await _send(connection, Synced(head_seq=max(last_sent, head)))
        return last_sent

    async def _send_live(
        self, connection: ServerConnection, subscriber: Subscriber, last_sent: int
    ) -> None:
        overflow = asyncio.create_task(subscriber.overflowed.wait())
        pending: asyncio.Task[Any] | None = None
        try:
            while True:
                pending = asyncio.create_task(subscriber.queue.get())
                if not await self._unless_overflow(pending, overflow):
                    break
                item = pending.result()
                if not isinstance(item, Telemetry):
                    if item.seq <= last_sent:
                        continue  # already sent in the replay or snapshot
                    last_sent = item.seq
                # A console that stops reading blocks this send once its socket is full;
                # watching the overflow here too means it is still cut off in time.
                pending = asyncio.create_task(_send(connection, item))
                if not await self._unless_overflow(pending, overflow):
                    break
                pending.result()
            await connection.close(CLOSE_TOO_SLOW, "console too slow; resume from your last seq")
        finally:
            overflow.cancel()
            if pending is not None:
                pending.cancel()
            await asyncio.gather(overflow, *([pending] if pending else []), return_exceptions=True)

    @staticmethod
    async def _unless_overflow(task: asyncio.Task[Any], overflow: asyncio.Task[Any]) -> bool:
        """Wait for ``task``; False (and ``task`` cancelled) if the console overflowed first."""
        done, _ = await asyncio.wait({task, overflow}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            return True
        task.cancel()
        return False

    async def _receive_commands(self, connection: ServerConnection, subscriber: Subscriber) -> None:
        principal = subscriber.principal
        bucket = TokenBucket(self.config.console_rate_per_second, self.config.console_rate_burst)
        refused_in_a_row = 0
        async for raw in connection:
            if not bucket.allow():
                refused_in_a_row += 1
                if refused_in_a_row >= RATE_ABUSE_LIMIT:
                    logger.warning("closing console of %s: message flood", principal.username)
                    await connection.close(CLOSE_RATE_ABUSE, "message rate far over the limit")
                    return
                await _send(
                    connection,
                    Error(
                        code=ErrorCode.RATE_LIMITED,
                        message=f"over {bucket.rate:g} messages/s; message dropped",
                        req=request_id_of(raw),
                    ),
                )
                continue
            refused_in_a_row = 0
            try:
                message = decode_console(raw)
            except ProtocolError as exc:
                logger.info("bad message from %s: %s", principal.username, exc.message)
                await _send(
                    connection, Error(code=exc.code, message=exc.message, req=request_id_of(raw))
                )
                continue
            if isinstance(message, Hello):
                await _send(
                    connection,
                    Error(code=ErrorCode.BAD_MESSAGE, message="hello was already received"),
                )
                continue
            await _send(connection, await self._execute(subscriber, message))

    async def _execute(self, subscriber: Subscriber, command: Command) -> Result | Error:
        """Run one console command and return the answer to send.

        A client re-sends commands whose answer it lost in a disconnect; the answers of
        recent state-changing commands are remembered per (user, req) so a re-send gets the
        first answer instead of acting twice (or a confusing stale_version).
        """
        principal = subscriber.principal
        key = (principal.username, command.req)
        if isinstance(command, TransitionAlarm | DispatchAlarm | SaveGeofence | DeleteGeofence):
            remembered = self._answers.get(key)
            if remembered is not None:
                return remembered
        answer = await self._execute_once(subscriber, command)
        if isinstance(command, TransitionAlarm | DispatchAlarm | SaveGeofence | DeleteGeofence):
            self._answers[key] = answer
            while len(self._answers) > ANSWER_MEMORY:
                self._answers.popitem(last=False)
        return answer

    async def _execute_once(self, subscriber: Subscriber, command: Command) -> Result | Error:
        principal = subscriber.principal
        try:
            data = await self._dispatch_command(subscriber, command)
        except AlarmError as exc:
            logger.info(
                "%s refused for %s: %s", type(command).__name__, principal.username, exc.message
            )
            return Error(code=exc.code, message=exc.message, req=command.req)
        except SQLAlchemyError:
            logger.exception(
                "storage failed on %s for %s", type(command).__name__, principal.username
            )
            return Error(
                code=ErrorCode.INTERNAL,
                message="the database failed; the command was not applied, try again",
                req=command.req,
            )
        return Result(req=command.req, data=data)

    async def _dispatch_command(self, subscriber: Subscriber, command: Command) -> ResultData:
        principal = subscriber.principal
        match command:
            case CreateAlarm():
                client_ref = f"{principal.username}:{command.req}"
                return AlarmResult(
                    alarm=await self.alarms.create_manual(principal, command, client_ref=client_ref)
                )
            case TransitionAlarm():
                return AlarmResult(alarm=await self.alarms.transition(principal, command))
            case DispatchAlarm():
                return AlarmResult(alarm=await self.alarms.dispatch(principal, command))
            case ListUnits():
                return UnitsResult(units=await self.alarms.list_units(principal))
            case ListCameras():
                # Filtered by area and agency: the stream addresses carry credentials.
                return CamerasResult(cameras=await self.cameras.visible_to(principal))
            case GetAlarmHistory():
                return HistoryResult(events=await self.alarms.history(principal, command.alarm_id))
            case RevealContact():
                return await self.alarms.reveal_contact(principal, command.alarm_id, command.reason)
            case Subscribe():
                unknown = set(command.topics) - TELEMETRY_TOPICS
                if unknown:
                    raise AlarmError(
                        ErrorCode.VALIDATION,
                        f"unknown topic {', '.join(sorted(unknown))}; "
                        f"use {', '.join(sorted(TELEMETRY_TOPICS))}",
                    )
                newly = frozenset(command.topics) - subscriber.topics
                subscriber.topics = frozenset(command.topics)
                # The newest value of every sensor and fix of every vehicle now (only of
                # the topics just added), in messages of a bounded size; changes follow on
                # the tick.
                positions = self.hub.latest_positions() if "positions" in newly else []
                readings = self.hub.latest_readings() if "readings" in newly else []
                for start in range(0, max(len(positions), len(readings)), SNAPSHOT_CHUNK):
                    end = start + SNAPSHOT_CHUNK
                    subscriber.offer_telemetry(
                        Telemetry(positions=positions[start:end], readings=readings[start:end])
                    )
                return Subscribed(topics=sorted(subscriber.topics))
            case ListDevices():
                _require_command_centre(principal, "see the device registry")
                return DevicesResult(devices=await self.registry.list())
            case SendText():
                _require_command_centre(principal, "send texts to vehicles")
                return await self._send_text(principal, command)
            case GetSeries():
                _require_command_centre(principal, "read sensor history")
                return await self._series(command)
            case ListSensors():
                _require_command_centre(principal, "see the sensor registry")
                return SensorsResult(sensors=self._sensor_views())
            case GetTrack():
                _require_command_centre(principal, "replay vehicle tracks")
                return await self._track(command)
            case ListGeofences():
                _require_command_centre(principal, "see geofences")
                return GeofencesResult(geofences=await self.geofences.list())
            case SaveGeofence():
                _require_command_centre(principal, "edit geofences")
                saved = await self.geofences.save(principal.username, command)
                await self.apply_geofences()
                return GeofenceResult(geofence=saved)
            case DeleteGeofence():
                if principal.role not in (Role.SUPERVISOR, Role.ADMIN):
                    raise AlarmError(
                        ErrorCode.FORBIDDEN, f"role {principal.role} may not delete geofences"
                    )
                deleted = await self.geofences.delete(principal.username, command)
                await self.apply_geofences()
                return GeofenceResult(geofence=deleted, deleted=True)
            case Ping():
                return Pong(server_time=dt.datetime.now(dt.UTC))
        raise AlarmError(ErrorCode.BAD_MESSAGE, f"unsupported command {type(command).__name__}")

    async def _series(self, command: GetSeries) -> SeriesResult:
        if command.end <= command.start:
            raise AlarmError(ErrorCode.VALIDATION, "the series' end must be after its start")
        config = self.sensors.rules.config(command.sensor)
        async with self.sessions() as session:
            found = await timeseries.history(
                session, command.sensor, command.start, command.end, command.max_points
            )
        return SeriesResult(
            sensor=command.sensor,
            unit=config.unit if config is not None else "",
            source=found.source,
            downsampled=found.downsampled,
            points=[SeriesPoint(at=point.at, value=point.value) for point in found.points],
        )

    def _sensor_views(self) -> list[SensorView]:
        views = []
        for config in self.sensors.rules.configs():
            views.append(
                SensorView(
                    sensor_id=config.sensor_id,
                    kind=config.kind.value,
                    unit=config.unit,
                    name=config.name,
                    place=config.place,
                    lat=config.lat,
                    lon=config.lon,
                    hazard_source=config.hazard_source,
                    enterprise=config.enterprise,
                    poll_cycle_seconds=config.poll_cycle_seconds,
                    thresholds=[
                        ThresholdView(
                            level=t.level,
                            direction=t.direction.value,
                            value=t.value,
                            restore=t.restore,
                            label=t.label,
                        )
                        for t in config.rules.thresholds
                    ],
                )
            )
        return sorted(views, key=lambda view: view.sensor_id)

    async def _track(self, command: GetTrack) -> TrackResult | TrackColumns:
        columns = command.form is TrackForm.COLUMNS
        max_points = command.max_points if columns else min(command.max_points, MAX_TRACK_ROWS)
        try:
            async with self.sessions() as session:
                stored = await track_query.load_track(
                    session, command.device, command.start, command.end, max_points
                )
        except track_query.Error as exc:
            raise AlarmError(ErrorCode.VALIDATION, str(exc)) from exc
        return stored.columns() if columns else stored.rows()

    async def _send_text(self, principal: Principal, command: SendText) -> TextSent:
        if self.text_sender is None:
            raise AlarmError(ErrorCode.DEVICE_OFFLINE, "no JT/T 808 gateway runs in this server")
        try:
            confirmed = await self.text_sender(
                command.device,
                command.text,
                emergency=command.emergency,
                tts=command.tts,
                display=command.display,
            )
        except LookupError as exc:
            raise AlarmError(
                ErrorCode.DEVICE_OFFLINE, f"terminal {command.device} is not connected"
            ) from exc
        logger.info(
            "text to %s sent by %s (confirmed: %s)", command.device, principal.username, confirmed
        )
        return TextSent(device=command.device, acknowledged=confirmed)

    # ------------------------------------------------------------------ devices

    async def _device_session(self, connection: ServerConnection, principal: Principal) -> None:
        # Devices get a tighter message limit than consoles on the same port.
        connection.protocol.max_message_size = MAX_DEVICE_MESSAGE_BYTES
        bucket = TokenBucket(DEVICE_RATE_PER_SECOND, DEVICE_RATE_BURST)
        self._devices_connected += 1
        logger.info("device feed %s connected from %s", principal.username, _remote(connection))
        try:
            async for raw in connection:
                if not bucket.allow():
                    await _send(
                        connection,
                        Error(
                            code=ErrorCode.RATE_LIMITED,
                            message="device message rate over the limit",
                            ref=request_id_of(raw),
                        ),
                    )
                    continue
                await _send(connection, await self._device_message(principal, raw))
        except ConnectionClosed:
            pass
        finally:
            self._devices_connected -= 1
            logger.info("device feed %s disconnected", principal.username)

    async def _device_message(self, principal: Principal, raw: str | bytes) -> Ack | Error:
        try:
            message = decode_device(raw)
        except ProtocolError as exc:
            logger.info("bad device message from %s: %s", principal.username, exc.message)
            return Error(code=exc.code, message=exc.message, ref=request_id_of(raw))
        try:
            match message:
                case DeviceAlarm():
                    outcome = await self.alarms.device_alarm(principal, message)
                    return Ack(
                        ref=message.ref, alarm_id=outcome.alarm.id, repeated=outcome.repeated
                    )
                case DeviceReading():
                    check_device(principal)
                    await self.ingests[message.kind].submit(
                        Reading(
                            device=message.device or principal.username,
                            sensor=message.sensor,
                            at=message.at or dt.datetime.now(dt.UTC),
                            value=message.value,
                            unit=message.unit,
                        )
                    )
                    return Ack(ref=message.ref)
                case DevicePosition():
                    check_device(principal)
                    await self.ingests[message.kind].submit(
                        Position(
                            device=message.device,
                            at=message.at,
                            lat=message.lat,
                            lon=message.lon,
                            speed_kmh=message.speed_kmh,
                            heading_deg=message.heading_deg,
                            altitude_m=message.altitude_m,
                            alarms=frozenset(message.alarms),
                            backfill=message.backfill,
                        )
                    )
                    return Ack(ref=message.ref)
                case DeviceAlarmRaisedMessage():
                    check_device(principal)
                    await self.ingests[message.kind].submit(
                        DeviceAlarmRaised(
                            device=message.device,
                            key=message.key,
                            at=message.at,
                            lat=message.lat,
                            lon=message.lon,
                            description=message.description,
                        )
                    )
                    return Ack(ref=message.ref)
                case DeviceStatus():
                    check_device(principal)
                    await self.ingests[message.kind].submit(
                        DeviceStatusChanged(
                            device=message.device,
                            online=message.online,
                            at=message.at,
                            reason=message.reason,
                        )
                    )
                    return Ack(ref=message.ref)
        except AlarmError as exc:
            return Error(code=exc.code, message=exc.message, ref=message.ref)
        except RefusedError as exc:
            return Error(code=ErrorCode.VALIDATION, message=str(exc), ref=message.ref)
        except ForbiddenError as exc:
            return Error(code=ErrorCode.FORBIDDEN, message=str(exc), ref=message.ref)


async def _send(
    connection: ServerConnection, message: Welcome | Event | Synced | Result | Error | Ack | object
) -> None:
    await connection.send(encode(message).decode("utf-8"))  # type: ignore[arg-type]


def _require_command_centre(principal: Principal, what: str) -> None:
    if principal.role not in (Role.OFFICER, Role.SUPERVISOR, Role.ADMIN):
        raise AlarmError(ErrorCode.FORBIDDEN, f"role {principal.role} may not {what}")


def _remote(connection: ServerConnection) -> str:
    address = connection.remote_address
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


def _login_key(authorization: str | None, remote: str) -> str:
    """Name the login attempt for logs and throttling: the username for Basic, else the host."""
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return remote.rsplit(":", 1)[0]
        return decoded.partition(":")[0] or remote.rsplit(":", 1)[0]
    return remote.rsplit(":", 1)[0]
