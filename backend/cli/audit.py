"""``dutydesk audit``: check the event log's hash chain."""

from __future__ import annotations

import argparse
import asyncio

from sqlalchemy.exc import DBAPIError

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


def add_parser(commands: Subparsers) -> None:
    """Register ``audit`` and its action ``verify``."""
    audit = commands.add_parser(
        "audit", help="check the event log", description="Audit trail tools."
    )
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify",
        help="verify the hash chain",
        description="Recompute the event log's hash chain and check that seq has no gaps. "
        "Exits with status 1 if the log is damaged.",
    )
    add_storage_options(verify)
    verify.set_defaults(func=_cmd_audit_verify)


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    async def verify() -> int:
        # Verifying reads only: an empty or foreign database is not migrated into shape.
        async with database(args, migrate=False) as sessions, sessions() as session:
            try:
                report = await eventlog.verify(session)
            except DBAPIError as exc:
                err(f"dutydesk audit verify: no DutyDesk event log in that database ({exc.orig})")
                return EXIT_FAILURE
        for problem in report.problems:
            err(problem)
        status = "intact" if report.ok else "DAMAGED"
        out(f"event log {status}: {report.events} events, head {report.head_hash[:16]}…")
        return EXIT_OK if report.ok else EXIT_FAILURE

    return asyncio.run(verify())
