"""``dutydesk gateway``: run a device gateway on its own, forwarding to a backend.

Each gateway speaks its devices' protocol on one side and the backend's device endpoint on
the other (:class:`devices.forward.RemoteSink`), so it can run next to the devices —
on a serial line's host, in a park's network — while the backend runs elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import os
import signal
import sys
from pathlib import Path

from devices.forward import RemoteSink
from devices.jt808.gateway import Jt808Gateway, StaticTerminalRegistry
from devices.jt808.gateway.limits import add_limit_options, limit_options
from devices.modbus import ModbusConfigError, ModbusPoller, load_config
from devices.serial_nmea import NmeaSerialCoordinator
from realtime import eventloop
from realtime.client import basic_auth_header

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class Error(Exception):
    """A gateway could not be set up; the message says why."""


def host_port(value: str) -> tuple[str, int]:
    """Parse ``HOST:PORT`` (an argparse type); ``:PORT`` means every interface."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host or "0.0.0.0", int(port)  # noqa: S104 - ":PORT" means all interfaces


def _add_backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        required=True,
        metavar="URL",
        help="the backend's device endpoint, e.g. ws://10.0.0.5:8765/device",
    )
    parser.add_argument("--token", help="API token of the gateway's device account")
    parser.add_argument(
        "--user",
        help="device account (password from --password-file or DUTYDESK_PASSWORD)",
    )
    parser.add_argument("--password-file", help="file holding the device account's password")
    parser.add_argument(
        "--ca-file",
        metavar="PEM",
        help="CA certificate that verifies a wss:// backend (default: the system's CAs)",
    )


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``gateway`` and its protocols."""
    gateway = subparsers.add_parser(
        "gateway",
        help="run a device gateway that forwards to a backend",
        description="Run a device gateway on its own. It acknowledges devices only after the "
        "backend committed what they sent. Stop with Ctrl-C or SIGTERM.",
    )
    kinds = gateway.add_subparsers(dest="gateway_kind", metavar="PROTOCOL", required=True)

    jt808 = kinds.add_parser(
        "jt808",
        help="JT/T 808 truck terminals over TCP",
        description="Accept JT/T 808 (2013/2019) terminals over TCP and forward their "
        "positions, alarms and online state.",
        epilog="example: dutydesk gateway jt808 --listen 0.0.0.0:7018 --terminals trucks.csv "
        "--backend ws://10.0.0.5:8765/device --token TOKEN",
    )
    jt808.add_argument(
        "--listen",
        type=host_port,
        default=("0.0.0.0", 7018),  # noqa: S104 - terminals connect from the field
        metavar="HOST:PORT",
        help="where terminals connect (default: 0.0.0.0:7018)",
    )
    jt808.add_argument(
        "--terminals",
        type=Path,
        help="CSV of known terminals: phone,plate (an empty plate is bound by the "
        "terminal's first registration)",
    )
    jt808.add_argument(
        "--auto-register", action="store_true", help="accept terminals not in --terminals"
    )
    jt808.add_argument(
        "--offline-after",
        type=float,
        default=180.0,
        metavar="SECONDS",
        help="silence after which a terminal counts as offline (default: 180)",
    )
    add_limit_options(jt808)
    _add_backend_options(jt808)

    nmea = kinds.add_parser(
        "nmea",
        help="a GPS receiver on a serial port (NMEA 0183)",
        description="Read GGA/RMC sentences (checksums required) from a serial GPS receiver "
        "and forward fixes as the given vehicle's positions. Reconnects when the port "
        "disappears and comes back.",
        epilog="example: dutydesk gateway nmea --port /dev/ttyUSB0 --baud 9600 "
        "--vehicle 苏A·D8821 --backend ws://127.0.0.1:8765/device --token TOKEN",
    )
    nmea.add_argument("--port", required=True, help="serial device, e.g. /dev/ttyUSB0")
    nmea.add_argument("--baud", type=int, default=9600, help="baud rate (default: 9600)")
    nmea.add_argument("--vehicle", required=True, help="the vehicle (device id) the receiver is in")
    _add_backend_options(nmea)

    modbus = kinds.add_parser(
        "modbus",
        help="Modbus RTU/TCP sensors",
        description="Poll Modbus sensors by a register map (JSON or TOML) and forward their "
        "readings and online state.",
        epilog="see docs/devices.md for the configuration file",
    )
    modbus.add_argument("--config", required=True, type=Path, help="bus and register map file")
    _add_backend_options(modbus)


def _authorization(args: argparse.Namespace) -> str:
    if args.token:
        return f"Bearer {args.token}"
    if args.user:
        if args.password_file:
            password = Path(args.password_file).read_text(encoding="utf-8").strip()
        else:
            password = os.environ.get("DUTYDESK_PASSWORD", "")
        if not password:
            raise Error("--user needs --password-file or DUTYDESK_PASSWORD")
        return basic_auth_header(args.user, password)
    raise Error("give --token or --user for the backend")


def load_terminals(path: Path) -> dict[str, str]:
    """Read ``phone,plate`` rows (a header row is optional)."""
    terminals: dict[str, str] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for line, row in enumerate(csv.reader(handle), start=1):
                if not row or row[0].strip().lower() == "phone":
                    continue
                phone = row[0].strip()
                if not phone.isdigit():
                    raise Error(f"{path}:{line}: phone {phone!r} is not a number")
                terminals[phone] = row[1].strip() if len(row) > 1 else ""
    except OSError as exc:
        raise Error(f"cannot read {path}: {exc.strerror}") from exc
    return terminals


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _run_jt808(args: argparse.Namespace, authorization: str) -> None:
    known = load_terminals(args.terminals) if args.terminals else {}
    if not known and not args.auto_register:
        raise Error("no terminals would be accepted: give --terminals or --auto-register")
    sink = RemoteSink(args.backend, authorization, kind="jt808", ca_file=args.ca_file)
    sink.start()
    registry = StaticTerminalRegistry(known, auto_register=args.auto_register)
    host, port = args.listen
    limits = limit_options(args)
    gateway = Jt808Gateway(
        sink,
        registry,
        host=host,
        port=port,
        offline_after=args.offline_after,
        login_timeout=limits.login_timeout,
        max_connections=limits.max_connections,
        max_connections_per_address=limits.max_connections_per_address,
    )
    try:
        await gateway.start()
        await _until_stopped()
    finally:
        await gateway.close()
        await sink.close()


async def _run_nmea(args: argparse.Namespace, authorization: str) -> None:
    sink = RemoteSink(args.backend, authorization, kind="nmea", ca_file=args.ca_file)
    sink.start()
    coordinator = NmeaSerialCoordinator(args.port, args.baud, args.vehicle, sink)
    try:
        coordinator.start()
        await _until_stopped()
    finally:
        await coordinator.close()
        await sink.close()


async def _run_modbus(args: argparse.Namespace, authorization: str) -> None:
    buses = load_config(args.config)
    sink = RemoteSink(args.backend, authorization, kind="modbus", ca_file=args.ca_file)
    sink.start()
    pollers = [ModbusPoller.for_bus(bus, sink) for bus in buses]
    try:
        for poller in pollers:
            poller.start()
        await _until_stopped()
    finally:
        for poller in pollers:
            await poller.close()
        await sink.close()


def run(args: argparse.Namespace) -> int:
    """Run the chosen gateway until Ctrl-C or SIGTERM."""
    runners = {"jt808": _run_jt808, "nmea": _run_nmea, "modbus": _run_modbus}
    try:
        authorization = _authorization(args)
        main = runners[args.gateway_kind](args, authorization)
        if args.gateway_kind == "jt808":
            eventloop.run(main)  # thousands of terminals: the faster loop where installed
        else:
            asyncio.run(main)
    except (Error, ModbusConfigError, eventloop.Error) as exc:
        sys.stderr.write(f"dutydesk gateway {args.gateway_kind}: {exc}\n")
        return EXIT_USAGE
    except OSError as exc:
        sys.stderr.write(f"dutydesk gateway {args.gateway_kind}: {exc}\n")
        return EXIT_FAILURE
    return EXIT_OK
