"""The DutyDesk WebSocket server: one port for consoles (``/console``), device feeds
(``/device``) and the health check (``GET /health``).

Authentication happens at the handshake (``Authorization`` header); every message after
that is authorized again by the services. Each connection is bounded in message size,
message rate and outgoing queue, so one misbehaving peer cannot hurt the others.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import json
import logging
import ssl
import time
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.typing import Origin

from backend import __version__
from backend.alarms.grants import GrantService
from backend.alarms.reveals import RevealLimit
from backend.alarms.service import AlarmService
from backend.chat.attachments import AttachmentStore
from backend.chat.service import ChatService
from backend.dangers.deadlines import LEASE_NAME as DANGER_LEASE
from backend.dangers.deadlines import DangerDeadlines, Dangers
from backend.dangers.service import DangerService
from backend.decision.chemicals import load_table as load_chemical_table
from backend.decision.service import DecisionService
from backend.early_warning import weather
from backend.early_warning.service import EarlyWarningService
from backend.early_warning.weather_dir import WeatherFolder
from backend.eventlog import log as eventlog
from backend.exercises.live import LiveRecording, live_recording
from backend.incidents.catalogue import CatalogueError, load_catalogue
from backend.incidents.deadlines import grid_levels
from backend.incidents.service import IncidentService
from backend.ingest.service import IngestService
from backend.ingest.telemetry import TelemetryWriter
from backend.ingest.terminal_state import TerminalStates
from backend.jurisdictions import store as jurisdiction_store
from backend.jurisdictions.tree import JurisdictionTree
from backend.plans.checklist import ChecklistService
from backend.plans.documents import PlanDocuments
from backend.publishing.adapters import build_adapters, close_adapters
from backend.publishing.channels import ChannelAdapter
from backend.publishing.outbox import Outbox
from backend.publishing.service import PublishingService
from backend.registry.agencies import AgencyRegistry
from backend.registry.cameras import CameraRegistry
from backend.registry.devices import DEVICE_KINDS, DeviceRegistry
from backend.registry.items import RegistryService
from backend.registry.sessions import SessionStore
from backend.registry.users import UserService
from backend.roads.service import RoadService
from backend.runtime.clock import utc_now
from backend.runtime.episodes import EpisodeLog
from backend.runtime.leases import Leases
from backend.security import FieldCipher, PasswordWork
from backend.sensors.service import SensorService
from backend.server import cap_feed
from backend.server.cap_feed import CAP_PATH_ROOT
from backend.server.cluster import ClusterLink
from backend.server.cluster_relay import ClusterRelay, start_relays
from backend.server.commands import CommandRunner
from backend.server.config import ServerConfig
from backend.server.console import run_console
from backend.server.device_feed import run_device_feed
from backend.server.handlers import device_jurisdictions
from backend.server.handshake import Gatekeeper, LoginThrottle, TrustedProxies
from backend.server.hub import Hub
from backend.server.presence import TerminalPresence
from backend.server.sessions import SessionTracker
from backend.server.telemetry_relay import TelemetryRelay
from backend.shifts.handover import HandoverService
from backend.shifts.reports import GridReports
from backend.shifts.roster import Roster
from backend.storage import db
from backend.vehicles import track_query
from backend.vehicles.commands import VehicleCommands
from backend.vehicles.geofences import GeofenceService, rules_with_geofences
from backend.vehicles.rules import RulesConfig, VehicleRulesEngine
from devices.jt808.gateway import (
    Jt808Gateway,
)
from realtime import PROTOCOL_VERSION
from realtime.protocol import (
    DEVICE_PATH,
    EXERCISE_PATH_PREFIX,
    HEALTH_PATH,
    MAX_CONSOLE_MESSAGE_BYTES,
    Channel,
)

if TYPE_CHECKING:
    from backend.exercises.manager import ExerciseManager

logger = logging.getLogger(__name__)

HEALTH_DATABASE_TIMEOUT = 3.0
"""Longest ``/health`` waits for the database before calling it down."""


class Error(Exception):
    """The server cannot start as configured; ``str()`` is one line for the operator."""


class DatabaseUnavailableError(Error):
    """The database cannot be reached, opened or migrated."""


class ListenError(Error):
    """A listening socket cannot be opened."""


class TlsError(Error):
    """The TLS certificate or key cannot be used."""


class CatalogueUnusableError(Error):
    """The event catalogue cannot be read or is invalid (the loader's message)."""


def tls_context(cert: Path, key: Path | None) -> ssl.SSLContext:
    """A server TLS context from PEM files (``key`` may be inside ``cert``); raise
    :class:`TlsError` saying which file is wrong and why."""
    for what, path in (("certificate", cert), ("key", key)):
        if path is not None and not path.is_file():
            raise TlsError(f"TLS {what} file {path} does not exist (or is not a file)")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise TlsError(
            f"cannot use the TLS certificate {cert}"
            + (f" with the key {key}" if key is not None else "")
            + f": {exc.reason or exc} (both must be PEM, and the key must match the certificate)"
        ) from exc
    except OSError as exc:
        raise TlsError(f"cannot read the TLS certificate or key: {exc.strerror or exc}") from exc
    return context


_MOVING = frozenset({"jt808", "nmea"})
"""Device kinds that report positions."""


class Identity(NamedTuple):
    """Who may log in and the sessions open: an exercise instance shares the live
    server's (participants log in with their own accounts, once)."""

    users: UserService
    session_tracker: SessionTracker
    gatekeeper: Gatekeeper


class DutyDeskServer:
    """Owns the database engine, the services and the listening socket."""

    relay: TelemetryRelay | None = None
    """Live positions to and from the other workers (``serve --workers``)."""
    channel_adapters: dict[Channel, ChannelAdapter]
    """How notices leave the system (SMS, e-mail); never any in an exercise."""
    publishing: PublishingService
    """Publishing (信息发布): the workflow of notices, their lists and inboxes."""
    outbox: Outbox
    """Sends the published notices' queued deliveries (one instance of several)."""
    cluster_relay: ClusterRelay | None = None
    """Live positions to and from the other instances on the database (PostgreSQL)."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        identity: Identity | None = None,
        roads: RoadService | None = None,
    ) -> None:
        self.config = config
        self._shared_identity = identity is not None
        self._shared_roads = roads
        # First: a bad certificate stops the start before anything is opened.
        self._tls = (
            tls_context(config.tls_cert, config.tls_key) if config.tls_cert is not None else None
        )
        self.database_outage = EpisodeLog(logger, "database")
        """Database failures anywhere in the server: logged once per outage."""
        self.engine = db.create_engine(config.db_url)
        self.sessions = db.session_factory(self.engine)
        self.cipher = config.cipher or FieldCipher.from_data_dir(config.data_dir)
        self.hub = Hub(telemetry_interval=config.telemetry_fanout_interval, mark=config.exercise)
        # Users, their open sessions (ended at once when the account changes) and logins.
        self.users, self.session_tracker, self._gatekeeper = identity or self._own_identity()
        self.writer = self._event_writer()
        self.jurisdictions = JurisdictionTree()
        """The jurisdiction tree and placer (basemap read and imported rows loaded at start)."""
        self.alarms = AlarmService(
            self.sessions,
            self.cipher,
            self.writer,
            self.jurisdictions,
            reveal_limit=RevealLimit(config.reveals_per_hour),
        )
        self.registry_items = self._registry_service()
        """The registry (台账): enterprises, hazard sources, teams, equipment, shelters,
        experts, protection targets and plans."""
        self.registry = DeviceRegistry(
            self.sessions, self.writer, auto_register=config.jt808_auto_register
        )
        self.telemetry = TelemetryWriter(
            self.sessions, max_delay=config.telemetry_commit_delay, outage=self.database_outage
        )
        self.sensors = SensorService(
            self.sessions, self.alarms, jurisdictions=self.jurisdictions, leases=self.leases
        )
        self.geofences = GeofenceService(self.sessions, self.writer)
        self.cameras = CameraRegistry(self.sessions, self.cipher, self.jurisdictions)
        self.registry.places = lambda: device_jurisdictions(self)
        self.agencies = AgencyRegistry(self.sessions)
        self.grants = GrantService(self.sessions, self.writer, self.alarms.load_view)
        self.incidents = self._incident_service()
        """Incidents, tasks and their deadlines (the runner starts and stops with the server)."""
        self.chat, self.checklists, self.decision = self._incident_support()
        """Incident chat (messages, attachments, receipts, plans' documents), the plan
        checklists of incidents and their ticks, hazardous-chemical decision support."""
        self.vehicle_engines: dict[str, VehicleRulesEngine] = {}
        """The live vehicle rules engine of each vehicle ingest (file rules + geofences)."""
        self._geofences_applying = asyncio.Lock()
        self.ingests = {kind: self._ingest(kind) for kind in DEVICE_KINDS}
        """One ingest per device protocol (levels and titles of device alarms differ)."""
        self.json_ingest = self.ingests["json"]
        self.jt808_ingest = self.ingests["jt808"]
        self._jt808_downlink()
        self._server: Server | None = None
        self.commands = CommandRunner(self.database_outage, self.sessions)
        """The command table's runner (it remembers recent answers to absorb re-sends)."""
        self._started = time.monotonic()
        self.roster = Roster(self.sessions)
        self.grid_reports = GridReports(self.sessions, self.incidents, self.jurisdictions.place)
        self.handovers = HandoverService(
            self.sessions,
            self.writer,
            alarms=self.alarms,
            incidents=self.incidents,
            roster=self.roster,
        )
        self.devices_connected = 0
        """Device feeds connected now (for ``/health``)."""
        self.exercises = self._exercise_manager()
        """The exercises (演练) run beside this live server (``None`` in an exercise)."""
        self._publishing()

    @functools.cached_property
    def dangers(self) -> Dangers:
        """Hidden dangers (隐患排查治理) and their deadline checker (issue 20)."""

        def area_name(code: str) -> str:
            node = self.jurisdictions.get(code)
            return node.name if node is not None else code

        clock = self.config.clock or utc_now
        service = DangerService(
            self.sessions, self.writer, self.cipher, clock=clock, area_name=area_name
        )
        deadlines = DangerDeadlines(
            service,
            interval=self.config.danger_check_interval,
            lease=self.leases.lease(DANGER_LEASE),
        )
        return Dangers(service, deadlines)

    def _own_identity(self) -> Identity:
        config = self.config
        users = UserService(
            self.sessions,
            PasswordWork(config.login_hash_workers, config.login_hash_queue),
            cipher=self.cipher,
            require_totp=config.require_totp,
            session_lifetime=config.session_lifetime,
        )
        tracker = SessionTracker(
            SessionStore(self.sessions),
            users,
            check_interval=config.session_check_interval,
            touch_interval=config.session_touch_interval,
            outage=self.database_outage,
            stale_lease=self.leases.lease("stale sessions"),
        )
        # Changes through this server end its sessions without waiting for the watcher.
        users.on_sessions_ended = tracker.end_user
        gatekeeper = Gatekeeper(
            users,
            config.login_limits,
            self.database_outage,
            TrustedProxies(config.trusted_proxies),
        )
        return Identity(users, tracker, gatekeeper)

    @functools.cached_property
    def early_warnings(self) -> EarlyWarningService:
        """Early warnings (预警): trends, co-rise and weather alerts over hazard sources
        (made at the start, before any reading is taken)."""
        config = self.config
        service = EarlyWarningService(
            self.sessions,
            self.writer,
            self.sensors.rules.config,
            settings=config.early_warning,
            clock=config.clock or utc_now,
            lease=self.leases.lease("early warning housekeeping"),
        )
        # Readings are evaluated as they are stored (after their alarms).
        self.sensors.on_stored = service.observe
        service.expire_weather = functools.partial(weather.expire, service)
        if config.weather_dir is not None and config.exercise is None:
            service.folder = WeatherFolder(
                config.weather_dir, service, lease=self.leases.lease("weather folder")
            )
        return service

    def _publishing(self) -> None:
        config = self.config
        # SMS and e-mail as configured (none in an exercise): publishing sends through them.
        self.channel_adapters = build_adapters(config)

        def place_name(code: str) -> str:
            node = self.jurisdictions.get(code)
            return node.name if node is not None else code

        service = PublishingService(
            self.sessions,
            self.writer,
            self.cipher,
            place_name=place_name,
            outside=config.exercise is None,
            cap_sender=config.cap_sender,
            clock=config.clock or utc_now,
        )
        outbox = Outbox(
            self.sessions,
            self.writer,
            self.cipher,
            self.channel_adapters,
            lease=self.leases.lease("notice outbox"),
            report_every=config.notice_report_every,
            retry_after=config.notice_retry_after,
            rate_per_second=config.notice_rate_per_second,
            clock=config.clock or utc_now,
        )
        service.on_delivery = outbox.touched
        self.publishing, self.outbox = service, outbox

    def _exercise_manager(self) -> ExerciseManager | None:
        if self.config.exercise is not None:
            return None  # no nested exercises
        # Here, not at the top: the manager builds exercise instances of this class.
        from backend.exercises.manager import ExerciseManager  # noqa: PLC0415

        return ExerciseManager(self)

    @property
    def identity(self) -> Identity:
        """The users, sessions and login gatekeeper (shared with exercise instances)."""
        return Identity(self.users, self.session_tracker, self._gatekeeper)

    @functools.cached_property
    def recording(self) -> LiveRecording:
        """The input journal and the automatic recordings (off in an exercise)."""
        config = self.config
        return live_recording(
            data_dir=config.data_dir,
            sessions=self.sessions,
            writer=self.writer,
            cipher=self.cipher,
            record_inputs=config.record_inputs,
            journal_hours=config.journal_hours,
            auto_record=config.auto_record,
            record_before=config.record_before,
            record_after=config.record_after,
            clock=config.clock,
        )

    def _jt808_downlink(self) -> None:
        """What reaches vehicle terminals from the consoles (set once a gateway runs)."""
        self.jt808_gateway: Jt808Gateway | None = None
        self.vehicle_commands = VehicleCommands(now=self.config.clock or utc_now)
        """Orders to vehicle terminals beyond texts (tokens, rate limit; the gateway)."""

    def _event_writer(self) -> eventlog.EventWriter:
        self.cluster = ClusterLink(self)
        """The event feed (every commit, whoever wrote it, in ``seq`` order) and the
        changes other instances and the CLI make (docs/deployment.md)."""
        return eventlog.EventWriter(
            self.sessions, self.cluster.feed.committed, self.database_outage
        )

    def _registry_service(self) -> RegistryService:
        # One budget of personal-data reveals per user: alarms' callers and registry contacts.
        return RegistryService(
            self.sessions,
            self.cipher,
            self.writer,
            self.jurisdictions,
            reveal_limit=self.alarms.reveal_limit,
        )

    def _incident_support(self) -> tuple[ChatService, ChecklistService, DecisionService]:
        config = self.config
        chat = ChatService(
            self.sessions,
            self.writer,
            AttachmentStore(config.data_dir / "attachments", max_bytes=config.max_attachment_bytes),
            plan_documents=PlanDocuments(self.sessions),
        )
        checklists = ChecklistService(self.sessions, self.writer, clock=config.clock or utc_now)
        # The chemical table is checked here: a broken one stops the start.
        decision = DecisionService(self.sessions, load_chemical_table())
        return chat, checklists, decision

    @functools.cached_property
    def presence(self) -> TerminalPresence | None:
        """Terminals' last hearings and the offline sweep of a dead instance's terminals
        (``backend.server.presence``; ``None`` in an exercise)."""
        return TerminalPresence(self) if self.config.exercise is None else None

    @functools.cached_property
    def leases(self) -> Leases:
        """Which database-wide periodic work this instance runs (one of several on
        PostgreSQL; see :mod:`backend.runtime.leases`)."""
        return Leases(self.engine)

    def _incident_service(self) -> IncidentService:
        config = self.config
        try:
            catalogue = config.catalogue if config.catalogue is not None else load_catalogue()
        except CatalogueError as exc:
            raise CatalogueUnusableError(str(exc)) from exc

        def tree_level(code: str) -> str | None:
            node = self.jurisdictions.get(code)
            return node.level.value if node is not None else None

        return IncidentService(
            self.sessions,
            self.writer,
            catalogue,
            check_interval=config.deadline_check_interval,
            # The grid rung of a code is the level the jurisdiction tree records for it.
            grid_level=grid_levels(tree_level),
            clock=config.clock or utc_now,
            lease=self.leases.lease("incident deadlines"),
        )

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
            jurisdictions=self.jurisdictions,
            # Terminals may reconnect to another worker or instance (docs/deployment.md).
            terminal_states=TerminalStates(self.sessions, kind) if kind == "jt808" else None,
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
    def login_throttle(self) -> LoginThrottle:
        """Recent failed logins per address and user (bounded)."""
        return self._gatekeeper.throttle

    @property
    def database_kind(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return make_url(self.config.db_url).get_backend_name()

    @functools.cached_property
    def roads(self) -> RoadService:
        """The road layer (``dutydesk basemap import``): ``roads.get`` and road ETAs; an
        exercise instance is given the live server's (map data, only read)."""
        return self._shared_roads or RoadService(self.sessions)

    async def start(self) -> None:
        """Migrate the database, seed the registry, and start listening.

        Raises :class:`DatabaseUnavailableError` or :class:`ListenError` (one line each)
        when the database or a listening address cannot be used.
        """
        try:
            await self._open_database()
        except (SQLAlchemyError, OSError) as exc:
            raise DatabaseUnavailableError(
                f"cannot use the database {db.safe_url(self.config.db_url)}: "
                f"{db.failure_reason(exc)}"
            ) from exc
        try:
            await self.chat.start()
        except OSError as exc:
            raise Error(
                f"cannot use the attachments folder {self.chat.store.root}: {exc.strerror or exc}"
            ) from exc
        for ingest in self.ingests.values():
            ingest.start()
        if self.presence is not None:
            await self.presence.start()  # before the gateway: logins record this instance
        self.recording.start()
        if self.config.jt808_listen is not None:
            host, port = self.config.jt808_listen
            try:
                await self._start_jt808(host, port)
            except OSError as exc:
                raise ListenError(
                    f"cannot listen for JT/T 808 on {host}:{port}: {exc.strerror or exc}"
                ) from exc
        origins: list[Origin | None] = [None, *(Origin(o) for o in self.config.allowed_origins)]
        try:
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
                ssl=self._tls,
                reuse_port=self.config.reuse_port or None,
            )
        except OSError as exc:
            raise ListenError(
                f"cannot listen on {self.config.host}:{self.config.port}: {exc.strerror or exc}"
            ) from exc
        await self._start_services()
        logger.info(
            "DutyDesk %s listening on %s://%s:%s (database: %s)",
            __version__,
            "wss" if self._tls is not None else "ws",
            self.config.host,
            self.port,
            self.database_kind,
        )

    async def _start_services(self) -> None:
        """Start what runs beside the listeners: sessions, deadlines, the outbox, relays."""
        if not self._shared_identity:
            self.session_tracker.start()
        self.incidents.start()
        self.chat.danger_photos = self.dangers.service
        self.dangers.deadlines.start()
        if self.config.exercise is not None:
            self.channel_adapters.clear()  # nothing leaves an exercise
        self.outbox.start()
        start_relays(self)
        if self.exercises is not None:
            await self.exercises.open()

    async def _open_database(self) -> None:
        await db.migrate(self.engine, encrypter=lambda: self.cipher.encrypt)
        await self.cluster.start()
        await self.load_jurisdictions()
        await self.apply_geofences()
        if self.config.seed_units:
            added = await self.alarms.seed_units(self.config.seed_units)
            if added:
                logger.info("seeded %s units into the registry", added)
        if not self._shared_identity:
            # Sessions left open by a server that stopped uncleanly are not "logged in" now.
            await self.session_tracker.store.end_stale(
                dt.timedelta(seconds=self.config.session_touch_interval * 5)
            )
        self.telemetry.start()
        self.hub.start()
        # Consoles that subscribe get every sensor's newest value and every vehicle's last
        # known place at once, not "no reading yet" and an empty map until each reports.
        self.hub.remember_readings(await self.sensors.start())
        await self.early_warnings.start()
        async with self.sessions() as session:
            latest = await track_query.latest_fixes(session, _MOVING)
        self.hub.remember_positions(latest)
        for kind in _MOVING:
            self.ingests[kind].remember_places(latest)
        if self.config.seed_sensors:
            added = await self.sensors.add_sensors(self.config.seed_sensors, only_new=True)
            if added:
                logger.info("registered %s sample sensors", added)
        if self.config.seed_cameras:
            seeded = await self.cameras.import_cameras(self.config.seed_cameras, only_new=True)
            if seeded.added:
                logger.info("registered %s sample cameras", seeded.added)

    async def load_jurisdictions(self) -> None:
        """Read the basemap's upper levels (off the event loop; once per process) and the
        imported towns and villages into :attr:`jurisdictions`."""
        started = time.monotonic()
        await asyncio.to_thread(
            self.jurisdictions.load, districts=self.config.preload_jurisdictions
        )
        async with self.sessions() as session:
            imported = await jurisdiction_store.load_imported(session)
        self.jurisdictions.replace_imported(imported)
        logger.info(
            "jurisdictions: basemap and %s imported towns/villages ready in %.2f s",
            len(imported),
            time.monotonic() - started,
        )

    async def close(self) -> None:
        """Stop accepting, close every connection, flush telemetry, release the database."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self.exercises is not None:
            await self.exercises.close()
        if not self._shared_identity:
            await self.session_tracker.stop()
        await self.incidents.stop()
        await self.dangers.deadlines.stop()
        await self.outbox.stop()
        if self.relay is not None:
            await self.relay.stop()
        if self.cluster_relay is not None:
            await self.cluster_relay.stop()
        if self.presence is not None:
            await self.presence.stop()
        await self.cluster.stop()
        if self.jt808_gateway is not None:
            await self.jt808_gateway.close()
            self.jt808_gateway = None
            self.vehicle_commands.sender = None
        await self.vehicle_commands.drain()  # their events, before the writer stops
        for ingest in self.ingests.values():
            await ingest.stop()
        await self.recording.stop()
        await close_adapters(self.channel_adapters)
        await self.registry.close()
        await self.chat.stop()
        await self.sensors.stop()
        await self.early_warnings.stop()
        await self.hub.stop()
        await self.telemetry.stop()
        await self.leases.close()
        await self.engine.dispose()
        if not self._shared_identity:
            self.users.close()

    def _exercise_seconds(self) -> Callable[[], float] | None:
        """An exercise measures terminals' silence on its own clock (it runs at the run's
        speed and waits for the replay); ``None``: the event loop's."""
        clock = self.config.clock
        if self.config.exercise is None or clock is None:
            return None
        return lambda: clock().timestamp()

    async def _start_jt808(self, host: str, port: int) -> None:
        gateway = Jt808Gateway(
            self.jt808_ingest,
            self.registry,
            host=host,
            port=port,
            offline_after=self.config.jt808_offline_after,
            max_frames_per_second=self.config.jt808_max_frames_per_second,
            login_timeout=self.config.jt808_limits.login_timeout,
            max_connections=self.config.jt808_limits.max_connections,
            max_connections_per_address=self.config.jt808_limits.max_connections_per_address,
            restore_alarms=self.jt808_ingest.restore_terminal,
            reuse_port=self.config.reuse_port,
            silence_clock=self._exercise_seconds(),
        )
        self.recording.attach(gateway)
        await gateway.start()
        self.jt808_gateway = gateway
        self.vehicle_commands.sender = gateway

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
        if self._server is None:
            raise RuntimeError("the server did not start")
        await self._server.wait_closed()

    # ------------------------------------------------------------------ handshake

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == HEALTH_PATH or path.startswith(CAP_PATH_ROOT):
            if request.method not in ("GET", "HEAD"):
                return _not_allowed(connection, request, "GET, HEAD")
            if path == HEALTH_PATH:
                response = await self._health()
            else:
                response = await cap_feed.respond(self, connection, request, path)
            if request.method == "HEAD":
                # The headers of the GET (its Content-Length too), without the body.
                response = dataclasses.replace(response, body=b"")
            return response
        if request.method != "GET":
            # Only a GET becomes a WebSocket connection: refused before a login is tried.
            return _not_allowed(connection, request, "GET")
        if self.exercises is not None and path.startswith(EXERCISE_PATH_PREFIX):
            return await self.exercises.admit(connection, request)
        if self.config.exercise is not None:
            # Consoles reach an exercise through the live server's exercise path only.
            return connection.respond(HTTPStatus.NOT_FOUND, "an exercise has no endpoints\n")
        return await self._gatekeeper.admit(connection, request)

    async def _health(self) -> Response:
        head: int | None = None
        problem = ""
        try:
            async with asyncio.timeout(HEALTH_DATABASE_TIMEOUT):
                async with self.sessions() as session:
                    head = await eventlog.head_seq(session)
        except TimeoutError:
            problem = f"no answer within {HEALTH_DATABASE_TIMEOUT:g} s"
        except (SQLAlchemyError, OSError) as exc:
            problem = db.failure_reason(exc)
        if problem:
            self.database_outage.failed(f"health check: {problem}")
        else:
            self.database_outage.succeeded()
        down = ["database"] if problem else []
        report: dict[str, object] = {
            "status": "degraded" if down else "ok",
            "down": down,
            "version": __version__,
            "protocol": PROTOCOL_VERSION,
            "database": self.database_kind,
            "database_status": "down" if problem else "up",
            "head_seq": head,
            # Several instances: how far this one handed events on, and whether it hears
            # the others' commits at once (None: SQLite, no notifications).
            **self.cluster.health(),
            "uptime_s": round(time.monotonic() - self._started, 1),
            "consoles": len(self.hub),
            "devices": self.devices_connected,
            "terminals_online": (
                len(self.jt808_gateway.online_terminals) if self.jt808_gateway else 0
            ),
            # Refused and closed connections, reserved alarm bits (docs/protocol.md).
            "jt808": self.jt808_gateway.counters.as_dict() if self.jt808_gateway else None,
        }
        if problem:
            report["database_error"] = problem
        body = json.dumps(report).encode()
        headers = Headers(
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        if down:
            return Response(503, "Service Unavailable", headers, body)
        return Response(200, "OK", headers, body)

    async def _handle(self, connection: ServerConnection) -> None:
        if self.exercises is not None and self.exercises.admitted(connection):
            await self.exercises.handle(connection)
            return
        login = self._gatekeeper.login_of(connection)
        if login is None:  # the handshake hook always sets it; be safe anyway
            await connection.close(CloseCode.POLICY_VIOLATION, "not authenticated")
            return
        request = connection.request
        if request is not None and request.path.split("?", 1)[0] == DEVICE_PATH:
            await run_device_feed(self, connection, login)
        else:
            await run_console(self, connection, login)


def _not_allowed(connection: ServerConnection, request: Request, allow: str) -> Response:
    """405 for a method the path does not answer (``allow``: the ones it does)."""
    response = connection.respond(
        HTTPStatus.METHOD_NOT_ALLOWED, f"{request.method} is not answered here; use {allow}\n"
    )
    response.headers["Allow"] = allow
    return response
