"""``dutydesk db``: database upkeep (``migrate``, ``partitions``)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt

from sqlalchemy.exc import SQLAlchemyError

from backend.cli.common import (
    EXIT_OK,
    Error,
    Subparsers,
    add_action,
    database,
    out,
)
from backend.storage import partitions


def add_parser(commands: Subparsers) -> None:
    """Register ``db`` and its actions."""
    group = commands.add_parser(
        "db",
        help="database upkeep (migrations, telemetry partitions and retention)",
        description="Database upkeep. See docs/deployment.md.",
    )
    actions = group.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    add_action(
        actions,
        "migrate",
        summary="bring the schema to the newest migration and stop",
        description="Run the migrations once (what 'dutydesk serve' does at start); run it "
        "before starting several workers or instances on a new version.",
        func=_cmd_migrate,
    )
    parts = add_action(
        actions,
        "partitions",
        summary="create the coming months' telemetry partitions and drop the expired ones",
        description="On PostgreSQL, positions and readings are partitioned by month: create "
        "the partitions of the current month and the next --ahead months, and with "
        "--keep-months N drop every month before the N months preceding the current one "
        "(the current month and N before it are kept). On SQLite the same retention "
        "deletes those months' rows. Run it daily (e.g. a systemd timer).",
        func=_cmd_partitions,
    )
    parts.add_argument(
        "--keep-months",
        type=_non_negative,
        default=None,
        metavar="N",
        help="keep the current month and the N months before it; drop older ones "
        "(default: drop nothing)",
    )
    parts.add_argument(
        "--ahead",
        type=_non_negative,
        default=partitions.DEFAULT_MONTHS_AHEAD,
        metavar="N",
        help="months after the current one to create partitions for "
        f"(default: {partitions.DEFAULT_MONTHS_AHEAD})",
    )


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _cmd_migrate(args: argparse.Namespace) -> int:
    async def run() -> None:
        async with database(args):
            pass

    asyncio.run(run())
    out("database schema up to date")
    return EXIT_OK


def _cmd_partitions(args: argparse.Namespace) -> int:
    async def run() -> partitions.PartitionReport:
        async with database(args) as sessions, sessions() as session, session.begin():
            connection = await session.connection()
            try:
                return await partitions.maintain(
                    connection, dt.datetime.now(dt.UTC), args.keep_months, ahead=args.ahead
                )
            except SQLAlchemyError as exc:
                raise Error(f"partitions not changed: {exc}") from exc

    report = asyncio.run(run())
    out(
        f"partitions created: {', '.join(report.created) or 'none'}; "
        f"dropped: {', '.join(report.dropped) or 'none'}"
        + (f"; rows deleted (SQLite): {report.rows_deleted}" if report.rows_deleted else "")
    )
    return EXIT_OK
