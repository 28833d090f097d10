"""``dutydesk serve``: run the backend until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import ipaddress
import json
import logging
import os
import signal
import sys
from pathlib import Path

from backend import security
from backend.alarms.reveals import DEFAULT_REVEALS_PER_HOUR
from backend.cli import channels, record, subscribers, weather
from backend.cli import workers as worker_pool
from backend.cli.common import (
    DB_ENVIRONMENT_VARIABLE,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    Error,
    Subparsers,
    add_storage_options,
    err,
    storage,
)
from backend.incidents.catalogue import PATH_ENV as CATALOGUE_ENV
from backend.incidents.catalogue import Catalogue, CatalogueError, load_catalogue
from backend.recommend.ranking import DEFAULT_COVER_MINUTES
from backend.registry.files import RESOURCES_DIR, load_cameras_csv, load_units_csv
from backend.registry.files import Error as RegistryError
from backend.registry.users import SESSION_TOKEN_LIFETIME
from backend.runtime.collector import short_collections
from backend.server.app import DutyDeskServer
from backend.server.app import Error as ServerError
from backend.server.config import CONSOLE_TICK_S, ServerConfig
from backend.server.sessions import SESSION_CHECK_INTERVAL
from backend.storage import db
from backend.storage.single_process import AlreadyServedError, sole_server
from backend.vehicles.rules import ConfigError as VehicleRulesConfigError
from backend.vehicles.rules import RulesConfig
from devices.gateway_cli import host_port
from devices.jt808.gateway.limits import add_limit_options, limit_options
from realtime import eventloop
from realtime.protocol import DEFAULT_MAX_ATTACHMENT_BYTES, CameraView, Role, UnitView

logger = logging.getLogger(__name__)

DEFAULT_VEHICLE_RULES = RESOURCES_DIR / "rules" / "vehicle_rules.json"


def add_parser(commands: Subparsers) -> None:
    """Register ``serve``."""
    serve = commands.add_parser(
        "serve",
        help="run the backend (WebSocket server for consoles and device feeds)",
        description="Run the DutyDesk backend. Consoles connect to ws://HOST:PORT/console, "
        "device feeds to ws://HOST:PORT/device; GET /health answers JSON (wss:// and "
        "https:// with --tls-cert). Migrations run "
        "at start. Stop with Ctrl-C or SIGTERM. Runs on uvloop when it is installed "
        "(DUTYDESK_EVENT_LOOP=asyncio for the standard loop). The database URL may come "
        f"from ${DB_ENVIRONMENT_VARIABLE} instead of --db, to keep its password out of ps.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8765, help="port to listen on (default: 8765)")
    serve.add_argument(
        "--port-file",
        type=Path,
        metavar="PATH",
        help='once listening, write the bound ports as JSON {"port", "jt808_port", "pid"} '
        "to PATH (useful with --port 0)",
    )
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
    add_limit_options(serve, prefix="jt808-")
    serve.add_argument(
        "--no-cluster-relay",
        dest="cluster_relay",
        action="store_false",
        help="do not relay live positions to other instances on the same PostgreSQL "
        "(their consoles then see this instance's vehicles only as stored)",
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
        metavar="FILE",
        help="CSV of dispatchable units to register at start when their code is new "
        "(code,name,agency,jurisdiction,lat,lon); without it no unit is added (the sample "
        "units are the demo's: 'dutydesk demo')",
    )
    serve.add_argument(
        "--catalogue",
        type=Path,
        metavar="FILE",
        help="the event catalogue (JSON: areas, categories, items with their levels and "
        f"deadlines); default: ${CATALOGUE_ENV} if set, else the shipped "
        "resources/catalogue/default.json. A file that cannot be read or is invalid stops "
        "the start (exit code 2)",
    )
    serve.add_argument(
        "--reveals-per-hour",
        type=int,
        default=DEFAULT_REVEALS_PER_HOUR,
        metavar="N",
        help="reveals of callers' personal data one user may make in any hour; more are "
        f"refused and recorded (default: {DEFAULT_REVEALS_PER_HOUR})",
    )
    serve.add_argument(
        "--cover-minutes",
        type=_positive_float,
        default=DEFAULT_COVER_MINUTES,
        metavar="MIN",
        help="resource recommendation: warn that sending a team leaves its area without "
        "cover when no other available team sharing a capability reaches that team's base "
        f"within this many minutes (default: {DEFAULT_COVER_MINUTES:g})",
    )
    serve.add_argument(
        "--max-attachment-mb",
        type=_positive_float,
        default=DEFAULT_MAX_ATTACHMENT_BYTES / (1024 * 1024),
        metavar="MB",
        help="largest attachment (photo, PDF) of an incident's chat, in MiB; stored under "
        f"DATA_DIR/attachments (default: {DEFAULT_MAX_ATTACHMENT_BYTES // (1024 * 1024)})",
    )
    _add_session_options(serve)
    record.add_serve_options(serve)
    subscribers.add_serve_options(serve)
    channels.add_serve_options(serve)
    weather.add_serve_options(serve)
    _add_worker_options(serve)
    add_storage_options(serve)
    serve.set_defaults(func=_cmd_serve)


def _add_session_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--console-tick",
        type=_positive_float,
        default=CONSOLE_TICK_S * 1000,
        metavar="MS",
        help="how often live positions and readings go out to consoles, coalesced (default: "
        "%(default)g ms; shorter: fresher maps, more frames per console)",
    )
    serve.add_argument(
        "--tls-cert",
        type=Path,
        metavar="FILE",
        help="PEM certificate (chain): serve wss:// and https:// on the same port",
    )
    serve.add_argument(
        "--tls-key",
        type=Path,
        metavar="FILE",
        help="PEM private key of --tls-cert (default: inside the certificate file)",
    )
    serve.add_argument(
        "--require-totp",
        type=_roles,
        default=frozenset(),
        metavar="ROLES",
        help="comma-separated roles that must log in with a second factor (TOTP), "
        "e.g. supervisor,admin (default: none; users with one enrolled always need it)",
    )
    serve.add_argument(
        "--session-hours",
        type=_positive_float,
        default=SESSION_TOKEN_LIFETIME.total_seconds() / 3600,
        metavar="HOURS",
        help="how long a console session lasts after the password login (default: 12)",
    )
    serve.add_argument(
        "--session-check",
        type=_positive_float,
        default=SESSION_CHECK_INTERVAL,
        metavar="SECONDS",
        help="how often to look for sessions ended by 'dutydesk user …' or expired (default: 2)",
    )


def _add_worker_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run N server processes sharing the console and JT/T 808 ports (SO_REUSEPORT; "
        "the kernel spreads connections over them), supervised by this one: a worker that "
        "dies is started again, SIGTERM stops all. Needs PostgreSQL and fixed ports "
        "(default: 1, this process serves; see docs/deployment.md)",
    )
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        type=_network,
        default=[],
        metavar="ADDRESS",
        help="a reverse proxy (address or CIDR block, e.g. 127.0.0.1 or 10.0.8.0/24) whose "
        "X-Forwarded-For names the client: failed logins are then counted per client, not "
        "per proxy (repeat for several; without it the header is ignored)",
    )
    serve.add_argument(
        "--reuse-port",
        action="store_true",
        help="listen with SO_REUSEPORT, so that other processes may share the ports (set by "
        "--workers for its workers; also for instances started separately, e.g. by systemd)",
    )


def _roles(text: str) -> frozenset[Role]:
    roles: set[Role] = set()
    for name in filter(None, (part.strip() for part in text.split(","))):
        try:
            roles.add(Role(name))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(
                f"unknown role {name!r}; use {', '.join(r.value for r in Role)}"
            ) from exc
    return frozenset(roles)


def _network(text: str) -> str:
    try:
        ipaddress.ip_network(text.strip(), strict=False)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an address or CIDR block: {text!r}") from exc
    return text.strip()


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def _cmd_serve(args: argparse.Namespace) -> int:
    db_url, data_dir = storage(args)
    problem = worker_pool.refusal(db_url, args.port, args.jt808, args.workers)
    if problem is not None:
        err(f"dutydesk serve: {problem}")
        return EXIT_USAGE
    catalogue = _load_catalogue(args.catalogue)
    if catalogue is None:
        return EXIT_USAGE
    config = ServerConfig(
        db_url=db_url,
        data_dir=data_dir,
        host=args.host,
        port=args.port,
        allowed_origins=args.allow_origin or (),
        seed_units=_load_units(args.units),
        seed_cameras=_load_seed_cameras(args.cameras),
        jt808_listen=args.jt808,
        jt808_auto_register=args.jt808_auto_register,
        jt808_offline_after=args.jt808_offline_after,
        jt808_limits=limit_options(args, prefix="jt808-"),
        vehicle_rules=_load_vehicle_rules(args.vehicle_rules),
        reveals_per_hour=max(1, args.reveals_per_hour),
        max_attachment_bytes=int(args.max_attachment_mb * 1024 * 1024),
        cover_minutes=args.cover_minutes,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        require_totp=args.require_totp,
        session_lifetime=dt.timedelta(hours=args.session_hours),
        session_check_interval=args.session_check,
        # A long-running server reads every province's districts at start (≈ 0.3 s,
        # off the event loop) rather than at the first fix in each province.
        preload_jurisdictions=True,
        catalogue=catalogue,
        **record.serve_config(args),
        **subscribers.serve_config(args),
        **channels.serve_config(args),
        **weather.serve_config(args),
        reuse_port=args.reuse_port,
        trusted_proxies=tuple(args.trusted_proxy),
        telemetry_fanout_interval=args.console_tick / 1000,
        worker_relay=worker_pool.relay_of_this_worker(),
        cluster_relay=args.cluster_relay,
    )
    if args.tls_key is not None and args.tls_cert is None:
        raise Error("--tls-key needs --tls-cert")
    if args.workers > 1:
        return eventloop.run(worker_pool.supervise(db_url, data_dir, args.workers, sys.argv[1:]))
    try:
        with sole_server(config.db_url):
            return eventloop.run(_serve(config, args.port_file))
    except AlreadyServedError as exc:
        err(f"dutydesk serve: {exc}")
        return EXIT_FAILURE
    except eventloop.Error as exc:
        err(f"dutydesk serve: {exc}")
        return EXIT_USAGE


def _load_catalogue(path: Path | None) -> Catalogue | None:
    """The catalogue of ``--catalogue``, else ``$DUTYDESK_CATALOGUE``, else the default;
    None (after saying why, in the loader's words) when it cannot be used."""
    try:
        catalogue = load_catalogue(path)
    except CatalogueError as exc:
        err(f"dutydesk serve: {exc}")
        return None
    logger.info("event catalogue: %s event types", len(catalogue))
    return catalogue


def _load_units(path: Path | None) -> list[UnitView]:
    # The shipped sample units are the demo's: never seeded into a database serve opens.
    if path is None:
        return []
    try:
        return load_units_csv(path)
    except RegistryError as exc:
        raise Error(str(exc)) from exc


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


def _write_port_file(path: Path, server: DutyDeskServer) -> None:
    ports = {
        "port": server.port,
        "jt808_port": server.jt808_port if server.jt808_gateway is not None else None,
        "pid": os.getpid(),
    }
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(ports), encoding="utf-8")
    partial.replace(path)  # whoever waits for the file reads it whole


async def _serve(config: ServerConfig, port_file: Path | None = None) -> int:
    # Handlers first: a SIGTERM during start-up still means a clean stop.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        server = DutyDeskServer(config)
    except (db.Error, security.Error, ServerError) as exc:
        raise Error(str(exc)) from exc
    except OSError as exc:
        raise Error(f"cannot use the data folder {config.data_dir}: {exc.strerror or exc}") from exc
    try:
        await server.start()
    except ServerError as exc:
        err(f"dutydesk serve: {exc}")
        await server.close()
        return EXIT_FAILURE
    if port_file is not None:
        _write_port_file(port_file, server)
    async with short_collections():
        await stop.wait()
    logger.info("shutting down")
    await server.close()
    return EXIT_OK
