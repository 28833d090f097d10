"""``dutydesk weather import FILE``: import a CAP 1.2 weather alert through the database,
as the console's ``weather.import`` does: the hazard sources its areas cover get a
``weather`` warning (running servers pass it on to their consoles from the event log)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
from pathlib import Path

from backend.authz.principal import Principal
from backend.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Subparsers,
    add_storage_options,
    database,
    err,
    out,
)
from backend.early_warning import weather
from backend.early_warning.service import EarlyWarningService, load_hazard_sources
from backend.errors import Error as Refusal
from backend.eventlog import log as eventlog
from realtime.protocol import MAX_CAP_BYTES, Role, WeatherImported

LEVEL_WORDS = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}


def add_parser(commands: Subparsers) -> None:
    """Register ``weather`` and its action ``import``."""
    group = commands.add_parser(
        "weather",
        help="import weather warnings (CAP 1.2)",
        description="Weather warnings (气象预警) from the meteorological service, as CAP 1.2 "
        "alerts: the hazard sources of the registry inside an alert's areas get an early "
        "warning (预警) until the alert expires; an Update replaces the warnings of the "
        "alert it references, a Cancel ends them.",
    )
    actions = group.add_subparsers(dest="weather_command", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="import one CAP alert file",
        description="Import one CAP 1.2 alert (UTF-8 XML). A file that is not a CAP alert, "
        "or an alert already expired, is refused with the reason and raises nothing.",
        epilog="example: dutydesk weather import resources/cap/samples/rainstorm_orange.xml",
    )
    imp.add_argument("file", type=Path, help="the CAP 1.2 alert (XML file)")
    imp.add_argument(
        "--jurisdiction",
        default="",
        help="only the hazard sources of this region code (default: every one)",
    )
    imp.add_argument("--by", help="who imports it, for the event log (default: cli:LOGIN)")
    add_storage_options(imp)
    imp.set_defaults(func=_cmd_import)


def _who(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)[:64]
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (OSError, KeyError):  # no login name in a container
        return "cli"


def _cmd_import(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        err(f"dutydesk weather import: cannot read {path}: {exc.strerror or exc}")
        return EXIT_FAILURE
    if len(data) > MAX_CAP_BYTES:
        err(f"dutydesk weather import: {path} is larger than {MAX_CAP_BYTES} bytes")
        return EXIT_FAILURE
    who = _who(args)
    principal = Principal(0, who, who, Role.ADMIN, None, args.jurisdiction)

    async def work() -> WeatherImported:
        async with database(args) as sessions:
            # Offline tools publish to nobody; running servers learn changes from the log.
            writer = eventlog.EventWriter(sessions, lambda _events: None)
            service = EarlyWarningService(sessions, writer, lambda _sensor: None)
            async with sessions() as session:
                service.set_hazard_sources(await load_hazard_sources(session))
            return await weather.import_alert(service, principal, data)

    try:
        result = asyncio.run(work())
    except Refusal as exc:
        err(f"dutydesk weather import: {path.name}: {exc.message}")
        return EXIT_FAILURE
    alert = result.alert
    count = len(result.warnings)
    out(f"{alert.identifier} {alert.event} ({alert.severity or '-'}): {count} warnings")
    for warning in result.warnings:
        level = LEVEL_WORDS.get(warning.level.value, warning.level.value)
        out(f"  {warning.hazard_source}  {level}  {warning.state.value}  {warning.title}")
    return EXIT_OK
