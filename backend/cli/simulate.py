"""``dutydesk simulate``: drive simulated trucks (JT/T 808) and sensors (JSON feed)
against a running server."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable
from pathlib import Path

from backend.cli.common import EXIT_OK, EXIT_USAGE, Subparsers, add_storage_options, err, out
from backend.cli.devices import with_registry
from backend.registry.devices import DeviceRegistry
from devices.gateway_cli import host_port
from devices.jt808.framing import ProtocolVersion
from devices.jt808.simulator import TruckPlan, run_fleet
from devices.sensor_simulator import make_sensors, run_sensor_feed
from realtime.client import basic_auth_header


def add_parser(commands: Subparsers) -> None:
    """Register ``simulate``."""
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
    add_storage_options(simulate)
    simulate.set_defaults(func=_cmd_simulate)


def _cmd_simulate(args: argparse.Namespace) -> int:
    if args.jt808 is None and args.feed is None:
        err("dutydesk simulate: give --jt808 HOST:PORT (trucks) and/or --feed URL (sensors)")
        return EXIT_USAGE
    authorization = ""
    if args.feed is not None:
        if args.token:
            authorization = f"Bearer {args.token}"
        elif args.user:
            password = _read_login_password(args)
            if not password:
                err("dutydesk simulate: --user needs --password-file or DUTYDESK_PASSWORD")
                return EXIT_USAGE
            authorization = basic_auth_header(args.user, password)
        else:
            err("dutydesk simulate: the sensor feed needs --token or --user")
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
        err(f"simulate: {args.trucks} trucks → {host}:{port} (JT/T 808-{args.version})")
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
        err(f"simulate: {args.sensors} sensors → {args.feed}")
    results = await asyncio.gather(*jobs)
    for result in results:
        if isinstance(result, list):
            sent = sum(stats.reports_sent for stats in result)
            acked = sum(stats.reports_acked for stats in result)
            out(f"trucks: {sent} reports sent, {acked} acknowledged")
        else:
            out(f"sensors: {result}")
    return EXIT_OK


async def _register_fleet(args: argparse.Namespace) -> None:
    async def work(registry: DeviceRegistry) -> None:
        known = {d.identity for d in await registry.list()}
        for index in range(args.trucks):
            phone = str(args.phone_base + index)
            if phone not in known:
                await registry.add("jt808", phone, f"模拟车辆 {index + 1}", plate=f"沪D{index:05d}")

    await with_registry(args, work)
