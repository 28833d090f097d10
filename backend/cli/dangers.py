"""``dutydesk danger``: the hidden dangers read from the database. ``danger export``
writes the statistics (per enterprise, industry and jurisdiction, ranked) and the list of
dangers to an Excel workbook, as ``danger.export`` does for a whole-area user; the
responsible persons' phones masked."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from pathlib import Path

from backend.authz.principal import Principal
from backend.cli.common import EXIT_OK, Error, Subparsers, add_action, database, out
from backend.cli.common import storage as storage_of
from backend.dangers.service import DangerService
from backend.eventlog import log as eventlog
from backend.security import Error as SecurityError
from backend.security import FieldCipher
from realtime.protocol import DangerFilter, Role

_EXAMPLES = """examples:
  dutydesk danger export --xlsx 隐患统计.xlsx
  dutydesk danger export --xlsx 2026-11.xlsx --since 2026-11-01 --until 2026-12-01 --under 3301
"""
_OPERATOR = Principal(0, "cli", "命令行", Role.ADMIN, None, "")
"""Who the export runs as: the operator of the server sees the whole area."""
_BEIJING = dt.timezone(dt.timedelta(hours=8))


def add_parser(commands: Subparsers) -> None:
    """Register ``danger`` and its action ``export``."""
    danger = commands.add_parser(
        "danger",
        help="hidden dangers (隐患排查治理): the Excel export",
        description="Hidden dangers read from the database.",
    )
    actions = danger.add_subparsers(dest="danger_command", metavar="ACTION", required=True)
    export = add_action(
        actions,
        "export",
        summary="write the statistics and the list of hidden dangers to an Excel workbook",
        description="A sheet per grouping (enterprise, industry, jurisdiction: total, major, "
        "open, overdue, rectified, rectification and on-time rates, rank) and a sheet listing "
        "the dangers, phones masked. Dates are Beijing time; --until is exclusive. See "
        "docs/hidden-dangers.md.",
        epilog=_EXAMPLES,
        keep_layout=True,
        func=_cmd_export,
    )
    export.add_argument(
        "--xlsx", metavar="FILE", type=Path, required=True, help="the workbook to write"
    )
    export.add_argument(
        "--since", metavar="YYYY-MM-DD", type=_day, help="reported on or after this day"
    )
    export.add_argument("--until", metavar="YYYY-MM-DD", type=_day, help="reported before this day")
    export.add_argument(
        "--under", metavar="CODE", default="", help="only this jurisdiction (default: all)"
    )


def _day(text: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {text!r}") from exc
    return dt.datetime.combine(day, dt.time(), _BEIJING)


def _cmd_export(args: argparse.Namespace) -> int:
    _db_url, data_dir = storage_of(args)
    try:
        cipher = FieldCipher.from_data_dir(data_dir, create=False)
    except (SecurityError, OSError) as exc:
        raise Error(f"the data key is needed and cannot be read: {exc}") from exc
    spec = DangerFilter(
        jurisdiction=args.under.strip(), reported_since=args.since, reported_until=args.until
    )

    async def run() -> tuple[str, bytes, int]:
        async with database(args) as sessions:
            # Read only: the writer is never used, nothing is published.
            writer = eventlog.EventWriter(sessions, lambda _events: None)
            service = DangerService(sessions, writer, cipher)
            _name, content = await service.export(_OPERATOR, spec)
            _views, total = await service.list_dangers(_OPERATOR, spec, 0, 1)
            return _name, content, total

    _name, content, total = asyncio.run(run())
    try:
        args.xlsx.write_bytes(content)
    except OSError as exc:
        raise Error(f"cannot write {args.xlsx}: {exc.strerror or exc}") from exc
    out(f"written: {args.xlsx} ({total} hidden dangers)")
    return EXIT_OK
