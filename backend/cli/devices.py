"""``dutydesk device``: register, list and remove field devices.

:func:`with_registry` is also how ``dutydesk simulate --register`` adds its trucks.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

from backend.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Subparsers,
    add_storage_options,
    database,
    err,
    out,
)
from backend.eventlog import log as eventlog
from backend.registry.devices import DEVICE_KINDS, DeviceRegistry
from backend.registry.devices import Error as DeviceRegistryError
from realtime.protocol import presence_of


def add_parser(commands: Subparsers) -> None:
    """Register ``device`` and its actions ``add``, ``list`` and ``remove``."""
    device = commands.add_parser(
        "device",
        help="manage the device registry",
        description="Register field devices: JT/T 808 truck terminals (identity = terminal "
        "phone number), serial GPS receivers, Modbus sensors and JSON feeds.",
    )
    actions = device.add_subparsers(dest="device_command", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        help="register a device",
        description="Register a device. A JT/T 808 terminal must be registered before it can "
        "register over the air (unless the server runs with --jt808-auto-register).",
        epilog="example: dutydesk device add jt808 13912345678 --name 液氨槽车 --plate 苏A·D8821",
    )
    add.add_argument("kind", choices=list(DEVICE_KINDS), help="device protocol")
    add.add_argument("identity", help="phone number (jt808), port, host:port/unit or account")
    add.add_argument("--name", help="display name")
    add.add_argument("--plate", help="vehicle plate (vehicles)")
    add.add_argument("--owner", help="what it belongs to: company, hazard source, mine")
    add_storage_options(add)
    add.set_defaults(func=_cmd_device_add)
    lst = actions.add_parser(
        "list", help="list devices", description="List registered devices, online state, last seen."
    )
    add_storage_options(lst)
    lst.set_defaults(func=_cmd_device_list)
    remove = actions.add_parser(
        "remove", help="remove a device", description="Remove a device (its history stays)."
    )
    remove.add_argument("kind", choices=list(DEVICE_KINDS))
    remove.add_argument("identity")
    add_storage_options(remove)
    remove.set_defaults(func=_cmd_device_remove)


async def with_registry(args: argparse.Namespace, work: Callable[[DeviceRegistry], object]) -> int:
    """Run ``work`` on the device registry of the command's database; return the exit status."""
    try:
        async with database(args) as sessions:
            # Offline tools publish to nobody; running servers learn changes from the log.
            writer = eventlog.EventWriter(sessions, lambda _events: None)
            result = work(DeviceRegistry(sessions, writer))
            if asyncio.iscoroutine(result):
                await result
    except DeviceRegistryError as exc:
        err(f"dutydesk device: {exc}")
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
        out(f"added {device.kind} device {device.identity} ({device.name}) as #{device.id}")

    return asyncio.run(with_registry(args, work))


def _cmd_device_list(args: argparse.Namespace) -> int:
    async def work(registry: DeviceRegistry) -> None:
        devices = await registry.list()
        if not devices:
            out("no devices registered")
        for d in devices:
            seen = (
                d.last_seen.astimezone().strftime("%Y-%m-%d %H:%M:%S") if d.last_seen else "never"
            )
            # This command reads the database, not a running server: a status recorded
            # before is "unknown" here (ask a console for the live one).
            state = presence_of(d).value
            out(f"{d.kind:<7} {d.identity:<22} {d.name:<16} {d.plate or '-':<10} {state:<8} {seen}")

    return asyncio.run(with_registry(args, work))


def _cmd_device_remove(args: argparse.Namespace) -> int:
    async def work(registry: DeviceRegistry) -> None:
        await registry.remove(args.kind, args.identity)
        out(f"removed {args.kind} device {args.identity}")

    return asyncio.run(with_registry(args, work))
