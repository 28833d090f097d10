"""The ``dutydesk`` command: one entry point for the server, the console, the demo and the
integrator's tools.

Subcommands that need Qt (``desktop``) or device codecs (``decode``) are imported only when
used, so ``dutydesk serve`` never loads Qt.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import getpass
import importlib
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import ModuleType

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import __version__
from backend.cli.demo import run_demo
from backend.config import default_data_dir, sqlite_url
from backend.eventlog import log as eventlog
from backend.registry.cameras import CameraRegistry
from backend.registry.cameras import Error as CameraError
from backend.registry.devices import DEVICE_KINDS, DeviceRegistry
from backend.registry.devices import Error as DeviceRegistryError
from backend.registry.files import (
    CAMERA_COLUMNS,
    RESOURCES_DIR,
    load_cameras_csv,
    load_sensors_csv,
    load_units_csv,
)
from backend.registry.files import Error as RegistryError
from backend.registry.users import Error as UserError
from backend.registry.users import UserService
from backend.runtime.collector import short_collections
from backend.security import Error as SecurityError
from backend.security import FieldCipher
from backend.sensors import registry as sensor_registry
from backend.sensors.rules import Error as SensorRulesError
from backend.sensors.rules import RuleSet
from backend.server.app import DutyDeskServer, ServerConfig
from backend.storage import db
from backend.storage.models import SensorRecord
from backend.vehicles.rules import ConfigError as VehicleRulesConfigError
from backend.vehicles.rules import RulesConfig
from devices.gateway_cli import host_port
from devices.jt808.framing import ProtocolVersion
from devices.jt808.simulator import TruckPlan, run_fleet
from devices.sensor_simulator import make_sensors, run_sensor_feed
from realtime import eventloop
from realtime.client import basic_auth_header
from realtime.protocol import CameraView, Role
from realtime.streams import mask_stream_url

logger = logging.getLogger(__name__)

DEFAULT_VEHICLE_RULES = RESOURCES_DIR / "rules" / "vehicle_rules.json"

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

# Subcommands implemented outside the backend: name → module exposing add_parser()/run().
_EXTERNAL_COMMANDS = {
    "desktop": "desktop.cli",
    "decode": "devices.decode_cli",
    "gateway": "devices.gateway_cli",
}


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _add_storage_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"folder for the embedded database and the data key (default: {default_data_dir()})",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="database URL, e.g. postgresql+asyncpg://user:pass@host/dutydesk "
        "(default: SQLite in the data folder)",
    )


def _storage(args: argparse.Namespace) -> tuple[str, Path]:
    data_dir: Path = args.data_dir or default_data_dir()
    return (args.db or sqlite_url(data_dir)), data_dir


# ---------------------------------------------------------------------- serve


def _cmd_serve(args: argparse.Namespace) -> int:
    db_url, data_dir = _storage(args)
    config = ServerConfig(
        db_url=db_url,
        data_dir=data_dir,
        host=args.host,
        port=args.port,
        allowed_origins=args.allow_origin or (),
        seed_units=load_units_csv(args.units) if args.units else load_units_csv(),
        seed_cameras=_load_seed_cameras(args.cameras),
        jt808_listen=args.jt808,
        jt808_auto_register=args.jt808_auto_register,
        jt808_offline_after=args.jt808_offline_after,
        vehicle_rules=_load_vehicle_rules(args.vehicle_rules),
    )
    try:
        return eventloop.run(_serve(config))
    except eventloop.Error as exc:
        _err(f"dutydesk serve: {exc}")
        return EXIT_USAGE


def _load_seed_cameras(path: Path | None) -> list[CameraView]:
    if path is None:
        return []
    try:
        return load_cameras_csv(path)
    except RegistryError as exc:
        raise SystemExit(f"dutydesk serve: {exc}") from exc


def _load_vehicle_rules(path: Path | None) -> RulesConfig:
    target = path or DEFAULT_VEHICLE_RULES
    try:
        return RulesConfig.from_json(target.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SystemExit(f"dutydesk serve: cannot read {target}: {exc.strerror}") from exc
    except VehicleRulesConfigError as exc:
        raise SystemExit(f"dutydesk serve: {target}: {exc}") from exc


async def _serve(config: ServerConfig) -> int:
    # Handlers first: a SIGTERM during start-up still means a clean stop.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = DutyDeskServer(config)
    try:
        await server.start()
    except OSError as exc:
        _err(f"dutydesk serve: cannot listen on {config.host}:{config.port}: {exc.strerror}")
        await server.close()
        return EXIT_FAILURE
    async with short_collections():
        await stop.wait()
    logger.info("shutting down")
    await server.close()
    return EXIT_OK


# ---------------------------------------------------------------------- user


def _read_new_password(args: argparse.Namespace) -> str:
    if args.password_file:
        return Path(args.password_file).read_text(encoding="utf-8").strip()
    env = os.environ.get("DUTYDESK_NEW_PASSWORD")
    if env:
        return env
    first = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != first:
        raise UserError("the two passwords differ")
    return first


@contextlib.asynccontextmanager
async def _database(
    args: argparse.Namespace, *, migrate: bool = True
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The command's database (migrated unless told otherwise), released when done."""
    db_url, _ = _storage(args)
    engine = db.create_engine(db_url)
    try:
        if migrate:
            await db.migrate(engine)
        yield db.session_factory(engine)
    finally:
        await engine.dispose()


async def _with_users(args: argparse.Namespace, work: Callable[[UserService], object]) -> int:
    try:
        async with _database(args) as sessions:
            result = work(UserService(sessions))
            if asyncio.iscoroutine(result):
                await result
    except UserError as exc:
        _err(f"dutydesk user: {exc}")
        return EXIT_FAILURE
    return EXIT_OK


def _cmd_user_add(args: argparse.Namespace) -> int:
    password = "" if args.role == Role.DEVICE and args.no_password else _read_new_password(args)
    if not password:
        password = os.urandom(24).hex()  # device accounts log in with API tokens only

    async def work(users: UserService) -> None:
        principal = await users.add_user(
            args.username,
            password,
            Role(args.role),
            display_name=args.display_name or "",
            agency=args.agency,
            jurisdiction=args.jurisdiction,
        )
        _out(f"added {principal.username} ({principal.role})")

    return asyncio.run(_with_users(args, work))


def _cmd_user_list(args: argparse.Namespace) -> int:
    async def work(users: UserService) -> None:
        for p in await users.list_users():
            _out(f"{p.username:<20} {p.role:<18} {p.agency or '-':<12} {p.jurisdiction or '*'}")

    return asyncio.run(_with_users(args, work))


def _cmd_user_passwd(args: argparse.Namespace) -> int:
    password = _read_new_password(args)

    async def work(users: UserService) -> None:
        await users.set_password(args.username, password)
        _out(f"password of {args.username} changed; their sessions were ended")

    return asyncio.run(_with_users(args, work))


def _cmd_user_token(args: argparse.Namespace) -> int:
    async def work(users: UserService) -> None:
        _out(await users.issue_api_token(args.username))

    return asyncio.run(_with_users(args, work))


# ---------------------------------------------------------------------- device


async def _with_registry(args: argparse.Namespace, work: Callable[[DeviceRegistry], object]) -> int:
    try:
        async with _database(args) as sessions:
            # Offline tools publish to nobody; running servers learn changes from the log.
            writer = eventlog.EventWriter(sessions, lambda _events: None)
            result = work(DeviceRegistry(sessions, writer))
            if asyncio.iscoroutine(result):
                await result
    except DeviceRegistryError as exc:
        _err(f"dutydesk device: {exc}")
        return EXIT_FAILURE
    return EXIT_OK


def _cmd_device_add(args: argparse.Namespace) -> int:
    async def work(registry: DeviceRegistry) -> None:
        device = await registry.add(
            args.kind,
            args.identity,
            args.name or "",
            plate=args.plate or "",
            owner=args.owner or "",
        )
        _out(f"added {device.kind} device {device.identity} ({device.name}) as #{device.id}")

    return asyncio.run(_with_registry(args, work))


def _cmd_device_list(args: argparse.Namespace) -> int:
    async def work(registry: DeviceRegistry) -> None:
        devices = await registry.list()
        if not devices:
            _out("no devices registered")
        for d in devices:
            seen = (
                d.last_seen.astimezone().strftime("%Y-%m-%d %H:%M:%S") if d.last_seen else "never"
            )
            state = "online" if d.online else "offline"
            _out(
                f"{d.kind:<7} {d.identity:<22} {d.name:<16} {d.plate or '-':<10} {state:<8} {seen}"
            )

    return asyncio.run(_with_registry(args, work))


def _cmd_device_remove(args: argparse.Namespace) -> int:
    async def work(registry: DeviceRegistry) -> None:
        await registry.remove(args.kind, args.identity)
        _out(f"removed {args.kind} device {args.identity}")

    return asyncio.run(_with_registry(args, work))


# ---------------------------------------------------------------------- sensor


def _cmd_sensor_import(args: argparse.Namespace) -> int:
    try:
        configs = load_sensors_csv(args.file)
    except RegistryError as exc:
        _err(f"dutydesk sensor import: {exc}")
        return EXIT_FAILURE

    async def work() -> None:
        async with _database(args) as sessions, sessions.begin() as session:
            now = dt.datetime.now(dt.UTC)
            for config in configs:
                await sensor_registry.save_sensor(session, config, now=now)

    asyncio.run(work())
    _out(f"imported {len(configs)} sensors from {args.file} (restart the server to watch them)")
    return EXIT_OK


def _cmd_sensor_list(args: argparse.Namespace) -> int:
    async def work() -> None:
        async with _database(args) as sessions, sessions() as session:
            configs = await sensor_registry.load_sensors(session)
        if not configs:
            _out("no sensors registered")
        for c in configs:
            limits = ", ".join(
                f"{t.level}≥{t.value:g}" if t.direction == "high" else f"{t.level}≤{t.value:g}"
                for t in c.rules.thresholds
            )
            _out(f"{c.sensor_id:<16} {c.kind:<12} {c.unit:<5} {c.name:<28} {limits or '-'}")

    asyncio.run(work())
    return EXIT_OK


def _cmd_sensor_rules(args: argparse.Namespace) -> int:
    new_rules: RuleSet | None = None
    if args.file is not None:
        try:
            new_rules = RuleSet.from_data(json.loads(Path(args.file).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, SensorRulesError) as exc:
            _err(f"dutydesk sensor rules: {args.file}: {exc}")
            return EXIT_FAILURE

    async def work() -> int:
        async with _database(args) as sessions, sessions.begin() as session:
            record = await session.scalar(
                select(SensorRecord).where(SensorRecord.sensor_id == args.sensor_id)
            )
            if record is None:
                _err(f"dutydesk sensor rules: no sensor {args.sensor_id}")
                return EXIT_FAILURE
            if new_rules is not None:
                record.rules = new_rules.to_data()
                record.updated_at = dt.datetime.now(dt.UTC)
            rules = record.rules
        _out(json.dumps(rules, ensure_ascii=False, indent=2))
        if new_rules is not None:
            _err("saved; restart the server (or its sensor service) to apply")
        return EXIT_OK

    return asyncio.run(work())


# ---------------------------------------------------------------------- camera


async def _with_cameras(
    args: argparse.Namespace, what: str, work: Callable[[CameraRegistry], Awaitable[None]]
) -> int:
    """Run ``work`` on the camera registry of the command's database and data key."""
    _, data_dir = _storage(args)
    try:
        # The stream addresses are encrypted with the same data key the server uses.
        cipher = FieldCipher.from_data_dir(data_dir)
        async with _database(args) as sessions:
            await work(CameraRegistry(sessions, cipher))
    except (CameraError, SecurityError) as exc:
        _err(f"dutydesk camera {what}: {exc}")
        return EXIT_FAILURE
    return EXIT_OK


def _read_stream_url(args: argparse.Namespace) -> str:
    if args.url_file is not None:
        lines = Path(args.url_file).read_text(encoding="utf-8").splitlines()
        return lines[0].strip() if lines else ""
    return str(args.url or "")


def _cmd_camera_add(args: argparse.Namespace) -> int:
    if (args.url is None) == (args.url_file is None):
        _err("dutydesk camera add: give the stream address with --url or --url-file")
        return EXIT_USAGE
    try:
        stream_url = _read_stream_url(args)
    except OSError as exc:
        _err(f"dutydesk camera add: cannot read {args.url_file}: {exc.strerror}")
        return EXIT_FAILURE
    camera = CameraView(
        id=0,
        code=args.code,
        name=args.name,
        lat=args.lat,
        lon=args.lon,
        agency=args.agency or "",
        jurisdiction=args.jurisdiction or "",
        hazard_source=args.hazard_source or "",
        enterprise=args.enterprise or "",
        stream_url=stream_url,
    )

    async def work(cameras: CameraRegistry) -> None:
        added = await cameras.add(camera)
        _out(f"added camera {added.code} ({added.name}): {mask_stream_url(added.stream_url)}")

    return asyncio.run(_with_cameras(args, "add", work))


def _cmd_camera_list(args: argparse.Namespace) -> int:
    async def work(cameras: CameraRegistry) -> None:
        listed = await cameras.list_masked()
        if not listed:
            _out("no cameras registered")
        for c in listed:
            place = f"{c.lat:.5f},{c.lon:.5f}"
            _out(
                f"{c.code:<12} {c.name:<20} {place:<20} {c.agency or '-':<10} "
                f"{c.jurisdiction or '*':<8} {c.stream_url}"
            )

    return asyncio.run(_with_cameras(args, "list", work))


def _cmd_camera_remove(args: argparse.Namespace) -> int:
    async def work(cameras: CameraRegistry) -> None:
        await cameras.remove(args.code)
        _out(f"removed camera {args.code}")

    return asyncio.run(_with_cameras(args, "remove", work))


def _cmd_camera_import(args: argparse.Namespace) -> int:
    try:
        listed = load_cameras_csv(args.file)
    except RegistryError as exc:
        _err(f"dutydesk camera import: {exc}")
        return EXIT_FAILURE

    async def work(cameras: CameraRegistry) -> None:
        outcome = await cameras.import_cameras(listed)
        _out(
            f"imported {len(listed)} cameras from {args.file}: {outcome.added} new, "
            f"{outcome.updated} updated, {outcome.unchanged} unchanged"
        )

    return asyncio.run(_with_cameras(args, "import", work))


# ---------------------------------------------------------------------- audit


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    async def verify() -> int:
        # Verifying reads only: an empty or foreign database is not migrated into shape.
        try:
            async with _database(args, migrate=False) as sessions, sessions() as session:
                report = await eventlog.verify(session)
        except DBAPIError as exc:
            _err(f"dutydesk audit verify: no DutyDesk event log in that database ({exc.orig})")
            return EXIT_FAILURE
        for problem in report.problems:
            _err(problem)
        status = "intact" if report.ok else "DAMAGED"
        _out(f"event log {status}: {report.events} events, head {report.head_hash[:16]}…")
        return EXIT_OK if report.ok else EXIT_FAILURE

    return asyncio.run(verify())


# ---------------------------------------------------------------------- simulate


def _cmd_simulate(args: argparse.Namespace) -> int:
    if args.jt808 is None and args.feed is None:
        _err("dutydesk simulate: give --jt808 HOST:PORT (trucks) and/or --feed URL (sensors)")
        return EXIT_USAGE
    authorization = ""
    if args.feed is not None:
        if args.token:
            authorization = f"Bearer {args.token}"
        elif args.user:
            password = _read_login_password(args)
            if not password:
                _err("dutydesk simulate: --user needs --password-file or DUTYDESK_PASSWORD")
                return EXIT_USAGE
            authorization = basic_auth_header(args.user, password)
        else:
            _err("dutydesk simulate: the sensor feed needs --token or --user")
            return EXIT_USAGE
    return asyncio.run(_simulate(args, authorization))


def _read_login_password(args: argparse.Namespace) -> str:
    if args.password_file:
        return Path(args.password_file).read_text(encoding="utf-8").strip()
    return os.environ.get("DUTYDESK_PASSWORD", "")


async def _simulate(args: argparse.Namespace, authorization: str) -> int:
    if args.register and args.jt808 is not None:
        await _register_fleet(args)
    jobs: list[Awaitable[object]] = []
    if args.jt808 is not None:
        host, port = args.jt808
        plan = TruckPlan(interval_s=args.interval, speed_limit_kmh=80.0)
        jobs.append(
            run_fleet(
                host,
                port,
                args.trucks,
                plan=plan,
                duration_s=args.duration,
                sos_trucks=args.sos,
                speeding_trucks=args.speeding,
                version=ProtocolVersion.V2019 if args.version == "2019" else ProtocolVersion.V2013,
                phone_base=args.phone_base,
            )
        )
        _err(f"simulate: {args.trucks} trucks → {host}:{port} (JT/T 808-{args.version})")
    if args.feed is not None:
        sensors = make_sensors(args.sensors)
        jobs.append(
            run_sensor_feed(
                args.feed,
                authorization,
                sensors,
                interval_s=args.interval,
                duration_s=args.duration,
                leak_chance=args.leak_chance,
            )
        )
        _err(f"simulate: {args.sensors} sensors → {args.feed}")
    results = await asyncio.gather(*jobs)
    for result in results:
        if isinstance(result, list):
            sent = sum(stats.reports_sent for stats in result)
            acked = sum(stats.reports_acked for stats in result)
            _out(f"trucks: {sent} reports sent, {acked} acknowledged")
        else:
            _out(f"sensors: {result}")
    return EXIT_OK


async def _register_fleet(args: argparse.Namespace) -> None:
    async def work(registry: DeviceRegistry) -> None:
        known = {d.identity for d in await registry.list()}
        for index in range(args.trucks):
            phone = str(args.phone_base + index)
            if phone not in known:
                await registry.add("jt808", phone, f"模拟车辆 {index + 1}", plate=f"沪D{index:05d}")

    await _with_registry(args, work)


# ---------------------------------------------------------------------- demo


def _cmd_demo(args: argparse.Namespace) -> int:
    return run_demo(
        lang=args.lang,
        screenshot=args.screenshot,
        after=args.after,
        interval=args.interval,
    )


# ---------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """Return the full ``dutydesk`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="dutydesk",
        description="DutyDesk (值班台): real-time emergency command system.",
        epilog="Run 'dutydesk COMMAND --help' for each command's options.",
    )
    parser.add_argument("--version", action="version", version=f"dutydesk {__version__}")
    parser.add_argument(
        "--log-level",
        default=os.environ.get("DUTYDESK_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="how much to log to stderr (default: INFO)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the backend (WebSocket server for consoles and device feeds)",
        description="Run the DutyDesk backend. Consoles connect to ws://HOST:PORT/console, "
        "device feeds to ws://HOST:PORT/device; GET /health answers JSON. Migrations run "
        "at start. Stop with Ctrl-C or SIGTERM. Runs on uvloop when it is installed "
        "(DUTYDESK_EVENT_LOOP=asyncio for the standard loop).",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8765, help="port to listen on (default: 8765)")
    serve.add_argument(
        "--allow-origin",
        action="append",
        metavar="ORIGIN",
        help="browser Origin allowed to connect (repeatable); "
        "clients that send no Origin are always allowed",
    )
    serve.add_argument(
        "--jt808",
        type=host_port,
        metavar="HOST:PORT",
        help="also run a JT/T 808 TCP gateway for truck terminals on HOST:PORT (e.g. 0.0.0.0:7018)",
    )
    serve.add_argument(
        "--jt808-auto-register",
        action="store_true",
        help="let terminals that are not in the registry register themselves",
    )
    serve.add_argument(
        "--jt808-offline-after",
        type=float,
        default=180.0,
        metavar="SECONDS",
        help="silence after which a terminal counts as offline (default: 180)",
    )
    serve.add_argument(
        "--vehicle-rules",
        type=Path,
        metavar="FILE",
        help="vehicle rules (JSON: overspeed, geofences, night ban, …); "
        "default: resources/rules/vehicle_rules.json",
    )
    serve.add_argument(
        "--cameras",
        type=Path,
        default=None,
        metavar="FILE",
        help="CSV of cameras to register at start when their code is new "
        "(see 'dutydesk camera import --help')",
    )
    serve.add_argument(
        "--units",
        type=Path,
        default=None,
        help="CSV of dispatchable units to seed (code,name,agency,jurisdiction)",
    )
    _add_storage_options(serve)
    serve.set_defaults(func=_cmd_serve)

    user = commands.add_parser(
        "user",
        help="manage users and API tokens",
        description="Manage users, passwords and API tokens.",
    )
    user_commands = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = user_commands.add_parser(
        "add",
        help="add a user",
        description="Add a user. The password comes from --password-file, the environment "
        "variable DUTYDESK_NEW_PASSWORD, or a prompt. Passwords are stored as argon2 hashes.",
    )
    add.add_argument("username")
    add.add_argument(
        "--role", required=True, choices=[r.value for r in Role], help="what the user may do"
    )
    add.add_argument("--display-name", help="name shown in the console and the log")
    add.add_argument("--agency", help="agency of an agency dispatcher (fire, police, medical, …)")
    add.add_argument(
        "--jurisdiction", default="", help="region-code prefix the user may see (default: all)"
    )
    add.add_argument("--password-file", help="read the password from this file")
    add.add_argument(
        "--no-password",
        action="store_true",
        help="device accounts only: no password, use 'user token'",
    )
    _add_storage_options(add)
    add.set_defaults(func=_cmd_user_add)
    lst = user_commands.add_parser("list", help="list users", description="List active users.")
    _add_storage_options(lst)
    lst.set_defaults(func=_cmd_user_list)
    passwd = user_commands.add_parser(
        "passwd",
        help="change a password",
        description="Change a user's password and end their sessions.",
    )
    passwd.add_argument("username")
    passwd.add_argument("--password-file", help="read the password from this file")
    _add_storage_options(passwd)
    passwd.set_defaults(func=_cmd_user_passwd)
    token = user_commands.add_parser(
        "token",
        help="create an API token",
        description="Create a long-lived API token for a user (device feeds use it as "
        "'Authorization: Bearer TOKEN'). The token is printed once and stored only as a hash.",
    )
    token.add_argument("username")
    _add_storage_options(token)
    token.set_defaults(func=_cmd_user_token)

    device = commands.add_parser(
        "device",
        help="manage the device registry",
        description="Register field devices: JT/T 808 truck terminals (identity = terminal "
        "phone number), serial GPS receivers, Modbus sensors and JSON feeds.",
    )
    device_commands = device.add_subparsers(dest="device_command", metavar="ACTION", required=True)
    dev_add = device_commands.add_parser(
        "add",
        help="register a device",
        description="Register a device. A JT/T 808 terminal must be registered before it can "
        "register over the air (unless the server runs with --jt808-auto-register).",
        epilog="example: dutydesk device add jt808 13912345678 --name 液氨槽车 --plate 苏A·D8821",
    )
    dev_add.add_argument("kind", choices=list(DEVICE_KINDS), help="device protocol")
    dev_add.add_argument("identity", help="phone number (jt808), port, host:port/unit or account")
    dev_add.add_argument("--name", help="display name")
    dev_add.add_argument("--plate", help="vehicle plate (vehicles)")
    dev_add.add_argument("--owner", help="what it belongs to: company, hazard source, mine")
    _add_storage_options(dev_add)
    dev_add.set_defaults(func=_cmd_device_add)
    dev_list = device_commands.add_parser(
        "list", help="list devices", description="List registered devices, online state, last seen."
    )
    _add_storage_options(dev_list)
    dev_list.set_defaults(func=_cmd_device_list)
    dev_remove = device_commands.add_parser(
        "remove", help="remove a device", description="Remove a device (its history stays)."
    )
    dev_remove.add_argument("kind", choices=list(DEVICE_KINDS))
    dev_remove.add_argument("identity")
    _add_storage_options(dev_remove)
    dev_remove.set_defaults(func=_cmd_device_remove)

    sensor = commands.add_parser(
        "sensor",
        help="manage sensors and their thresholds",
        description="Register gas, temperature, pressure and level sensors at major hazard "
        "sources and coal mines. Each gets the shipped default thresholds for its kind "
        "(coal-mine rules for CH4 and CO), editable per sensor.",
    )
    sensor_commands = sensor.add_subparsers(dest="sensor_command", metavar="ACTION", required=True)
    sensor_import = sensor_commands.add_parser(
        "import",
        help="import sensors from CSV",
        description="Import (insert or update) sensors from a CSV file with columns "
        "sensor_id,kind,placement,unit,name,place,lat,lon,hazard_source,enterprise,"
        "jurisdiction,poll_cycle_seconds (sensor_id and kind required).",
        epilog="example: dutydesk sensor import resources/registry/sensors.csv",
    )
    sensor_import.add_argument("file", type=Path, help="CSV file (UTF-8)")
    _add_storage_options(sensor_import)
    sensor_import.set_defaults(func=_cmd_sensor_import)
    sensor_rules = sensor_commands.add_parser(
        "rules",
        help="show or replace a sensor's thresholds",
        description="Print a sensor's rules as JSON (thresholds per level with direction, "
        "value, restore and dwell; rate limits; stale cycles; flapping window), or replace "
        "them from a JSON file of the same shape. The file is validated before anything "
        "is saved.",
        epilog="example: dutydesk sensor rules ch4-0001 > ch4.json; edit; "
        "dutydesk sensor rules ch4-0001 --file ch4.json",
    )
    sensor_rules.add_argument("sensor_id")
    sensor_rules.add_argument("--file", type=Path, help="JSON rules to save for this sensor")
    _add_storage_options(sensor_rules)
    sensor_rules.set_defaults(func=_cmd_sensor_rules)
    sensor_list = sensor_commands.add_parser(
        "list", help="list sensors", description="List sensors and their thresholds."
    )
    _add_storage_options(sensor_list)
    sensor_list.set_defaults(func=_cmd_sensor_list)

    _add_camera_parsers(commands)

    audit = commands.add_parser(
        "audit", help="check the event log", description="Audit trail tools."
    )
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_commands.add_parser(
        "verify",
        help="verify the hash chain",
        description="Recompute the event log's hash chain and check that seq has no gaps. "
        "Exits with status 1 if the log is damaged.",
    )
    _add_storage_options(verify)
    verify.set_defaults(func=_cmd_audit_verify)

    simulate = commands.add_parser(
        "simulate",
        help="drive simulated trucks and sensors against a server",
        description="Drive N simulated hazardous-goods trucks over real JT/T 808 TCP along a "
        "route (some speeding, some pressing SOS) and M simulated sensors over the JSON "
        "device feed (slow drift, noise, occasional leaks). Stop with Ctrl-C.",
        epilog="example: dutydesk simulate --jt808 127.0.0.1:7018 --trucks 50 --sos 2 "
        "--register --feed ws://127.0.0.1:8765/device --user park-a --sensors 200",
    )
    simulate.add_argument(
        "--jt808", type=host_port, metavar="HOST:PORT", help="gateway to drive trucks to"
    )
    simulate.add_argument("--trucks", type=int, default=10, help="number of trucks (default: 10)")
    simulate.add_argument("--sos", type=int, default=1, help="trucks that press SOS (default: 1)")
    simulate.add_argument("--speeding", type=int, default=2, help="trucks that speed (default: 2)")
    simulate.add_argument(
        "--version", choices=["2013", "2019"], default="2013", help="JT/T 808 edition"
    )
    simulate.add_argument(
        "--phone-base", type=int, default=13_800_000_000, help="first terminal phone number"
    )
    simulate.add_argument(
        "--register",
        action="store_true",
        help="add the simulated trucks to the registry first (use the server's --data-dir/--db)",
    )
    simulate.add_argument(
        "--feed", metavar="URL", help="device feed URL, e.g. ws://127.0.0.1:8765/device"
    )
    simulate.add_argument("--sensors", type=int, default=20, help="number of sensors (default: 20)")
    simulate.add_argument("--token", help="API token of a device account for the feed")
    simulate.add_argument(
        "--user",
        help="device account for the feed (password from --password-file or DUTYDESK_PASSWORD)",
    )
    simulate.add_argument("--password-file", help="file holding the device account's password")
    simulate.add_argument(
        "--interval", type=float, default=1.0, help="seconds between reports (default: 1)"
    )
    simulate.add_argument(
        "--duration", type=float, default=None, help="stop after this many seconds"
    )
    simulate.add_argument(
        "--leak-chance",
        type=float,
        default=0.0005,
        help="per-reading chance a sensor starts leaking",
    )
    _add_storage_options(simulate)
    simulate.set_defaults(func=_cmd_simulate)

    demo = commands.add_parser(
        "demo",
        help="run a self-contained demo",
        description="Start a backend on a temporary embedded database, a simulated device "
        "stream that raises alarms at a steady pace, and the console logged in as a demo "
        "officer. Everything stops when the window closes or on Ctrl-C.",
    )
    demo.add_argument(
        "--lang", default=None, choices=["zh_CN", "en"], help="console language (default: zh_CN)"
    )
    demo.add_argument(
        "--interval", type=float, default=8.0, help="seconds between simulated alarms (default: 8)"
    )
    demo.add_argument("--screenshot", metavar="FILE", help="save a PNG of the window, then exit")
    demo.add_argument(
        "--after",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="when to take the screenshot (default: 5)",
    )
    demo.set_defaults(func=_cmd_demo)

    for name, module_name in _EXTERNAL_COMMANDS.items():
        module = _load_external(module_name)
        if module is not None:
            module.add_parser(commands)
            # Each external module runs its own subcommand through run(args).
            commands.choices[name].set_defaults(func=module.run)
        else:
            missing = commands.add_parser(name, help=f"({name} is not installed)")
            missing.set_defaults(func=lambda _args, n=name: _missing(n))
    return parser


def _add_camera_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    camera = commands.add_parser(
        "camera",
        help="manage the video cameras",
        description="Register the video cameras the console shows on its map and plays: "
        "where each is (WGS-84), its agency and jurisdiction (who may watch it), the "
        "hazard source or enterprise it watches, and its stream address (rtsp://, "
        "http(s)://, file:// or an absolute path of a recorded clip). Stream addresses "
        "are stored encrypted with the data key and only ever shown masked (rtsp://***@host/…).",
    )
    actions = camera.add_subparsers(dest="camera_command", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        help="register a camera",
        description="Register a camera. Give the stream address with --url, or with "
        "--url-file to keep credentials out of the shell history and the process list.",
        epilog="example: dutydesk camera add CAM-A3 --name 'A 区 3 号储罐' --lat 32.2563 "
        "--lon 118.7818 --agency safety --url-file cam-a3.url",
    )
    add.add_argument("code", help="unique camera code")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--lat", type=float, required=True, help="latitude, WGS-84 degrees")
    add.add_argument("--lon", type=float, required=True, help="longitude, WGS-84 degrees")
    add.add_argument("--url", help="stream address (may contain user:password@)")
    add.add_argument("--url-file", type=Path, help="read the stream address from this file")
    add.add_argument("--agency", help="agency that runs it (fire, police, safety, …)")
    add.add_argument(
        "--jurisdiction", default="", help="region-code prefix of its area (default: all)"
    )
    add.add_argument("--hazard-source", help="the major hazard source it watches")
    add.add_argument("--enterprise", help="the enterprise it belongs to or watches")
    _add_storage_options(add)
    add.set_defaults(func=_cmd_camera_add)
    lst = actions.add_parser(
        "list",
        help="list cameras",
        description="List cameras: code, name, position, agency, jurisdiction and the "
        "stream address with its credentials masked.",
    )
    _add_storage_options(lst)
    lst.set_defaults(func=_cmd_camera_list)
    remove = actions.add_parser(
        "remove", help="remove a camera", description="Remove a camera from the registry."
    )
    remove.add_argument("code")
    _add_storage_options(remove)
    remove.set_defaults(func=_cmd_camera_remove)
    imp = actions.add_parser(
        "import",
        help="import cameras from CSV",
        description="Import (insert or update by code) cameras from a CSV file (UTF-8) "
        f"with the columns {','.join(CAMERA_COLUMNS)}; code, name, lat, lon and stream_url "
        "are required. The whole file is checked first: one bad line changes nothing.",
        epilog="example: dutydesk camera import resources/registry/cameras.csv",
    )
    imp.add_argument("file", type=Path, help="CSV file (UTF-8)")
    _add_storage_options(imp)
    imp.set_defaults(func=_cmd_camera_import)


def _load_external(module_name: str) -> ModuleType | None:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        logger.debug("subcommand module %s unavailable: %s", module_name, exc)
        return None


def _missing(name: str) -> int:
    _err(f"dutydesk {name}: this installation lacks the {name} component")
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    """Run the ``dutydesk`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Alembic narrates every start at INFO; the migration outcome is logged by us.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error of ours.
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
