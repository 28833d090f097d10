"""``dutydesk weather import FILE``: import a CAP 1.2 weather alert through the database,
as the console's ``weather.import`` does: the hazard sources its areas cover get a
``weather`` warning (running servers pass it on to their consoles from the event log)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
from pathlib import Path
from typing import Any

from backend.authz.principal import Principal
from backend.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Subparsers,
    add_action,
    database,
    err,
    out,
)
from backend.early_warning import weather
from backend.early_warning.detector import WarningSettings
from backend.early_warning.service import EarlyWarningService, load_hazard_sources
from backend.errors import Error as Refusal
from backend.eventlog import log as eventlog
from realtime.protocol import MAX_CAP_BYTES, Role, WeatherImported
from realtime.protocol.early_warning import FitMethod

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
    imp = add_action(
        actions,
        "import",
        summary="import one CAP alert file",
        description="Import one CAP 1.2 alert (UTF-8 XML). A file that is not a CAP alert, "
        "or an alert already expired, is refused with the reason and raises nothing.",
        epilog="example: dutydesk weather import resources/cap/samples/rainstorm_orange.xml",
        func=_cmd_import,
    )
    imp.add_argument("file", type=Path, help="the CAP 1.2 alert (XML file)")
    imp.add_argument(
        "--jurisdiction",
        default="",
        help="only the hazard sources of this region code (default: every one)",
    )
    imp.add_argument("--by", help="who imports it, for the event log (default: cli:LOGIN)")


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


# --------------------------------------------------------------------------- serve options


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    """The early-warning options of ``dutydesk serve`` (docs/early-warning.md)."""
    defaults = WarningSettings()
    group = serve.add_argument_group("early warning (预警)")
    group.add_argument(
        "--warning-window",
        type=_positive,
        default=defaults.window_s,
        metavar="SECONDS",
        help=f"the trend is fitted over this many seconds of readings (default: "
        f"{defaults.window_s:g})",
    )
    group.add_argument(
        "--warning-horizon",
        type=_positive,
        default=defaults.horizon_s,
        metavar="SECONDS",
        help="a trend warning is raised when the fitted line meets the sensor's next alarm "
        f"level within this many seconds (default: {defaults.horizon_s:g})",
    )
    group.add_argument(
        "--warning-dwell",
        type=float,
        default=defaults.dwell_s,
        metavar="SECONDS",
        help="a condition must hold this long before it raises, and be gone this long "
        f"before it clears (default: {defaults.dwell_s:g})",
    )
    group.add_argument(
        "--warning-fit",
        choices=[method.value for method in FitMethod],
        default=defaults.method.value,
        help="how trends are fitted: theil_sen (robust to a few wild readings) or "
        f"least_squares (default: {defaults.method.value})",
    )
    group.add_argument(
        "--warning-co-rise",
        type=int,
        default=defaults.co_rise_min_sensors,
        metavar="N",
        help="sensors of one hazard source that must rise together for a co-rise warning "
        f"(default: {defaults.co_rise_min_sensors})",
    )
    group.add_argument(
        "--weather-dir",
        type=Path,
        metavar="DIR",
        help="import the CAP weather alerts (*.xml) dropped into this folder, at the start "
        "and every 30 s (a file changed in the last 5 s waits for the next scan); imported "
        "files move to DIR/imported, refused ones to DIR/refused with the reason",
    )


def serve_config(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`ServerConfig` fields the early-warning options set."""
    return {
        "weather_dir": args.weather_dir,
        "early_warning": WarningSettings(
            window_s=args.warning_window,
            horizon_s=args.warning_horizon,
            dwell_s=max(0.0, args.warning_dwell),
            method=FitMethod(args.warning_fit),
            co_rise_min_sensors=max(2, args.warning_co_rise),
        ),
    }
