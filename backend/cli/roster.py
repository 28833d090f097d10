"""``dutydesk roster``: import, show and set the duty roster (值班表)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path

from backend.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Subparsers,
    add_storage_options,
    database,
    err,
    out,
)
from backend.shifts.roster import COLUMNS, Roster, RosterError
from realtime.protocol import RosterPosition

LOCAL = dt.timezone(dt.timedelta(hours=8), "CST")
"""Times are shown in China Standard Time (stored in UTC)."""
MAX_FILE_BYTES = 20 * 1024 * 1024


def add_parser(commands: Subparsers) -> None:
    """Register ``roster`` and its actions ``import``, ``show`` and ``set``."""
    roster = commands.add_parser(
        "roster",
        help="the duty roster (值班表): who is on duty at which desk",
        description="Keep the duty roster: each row is one person's shift at one desk (a "
        "jurisdiction code, plus the agency for an agency desk) on a duty date. Consoles "
        "show today's duty; a handover names the next shift's officer as the incoming one.",
    )
    actions = roster.add_subparsers(dest="roster_command", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="import a roster file (CSV), all or nothing",
        description=f"Import a roster file: UTF-8 CSV with the header {','.join(COLUMNS)}; "
        "start and end are ISO times with their offset (2026-12-05T08:00+08:00 or "
        "2026-12-05T00:00Z). Every row is checked first: one bad row and nothing is "
        "imported, and each bad row is listed by its line. The entries of each desk and "
        "date in the file replace those stored.",
    )
    imp.add_argument("file", type=Path, help="the CSV file")
    add_storage_options(imp)
    imp.set_defaults(func=_cmd_import)
    show = actions.add_parser(
        "show", help="show one day's roster", description="Show the roster of one duty date."
    )
    show.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        default=None,
        help="the duty date, like 2026-12-05 (default: today in China Standard Time)",
    )
    add_storage_options(show)
    show.set_defaults(func=_cmd_show)
    put = actions.add_parser(
        "set",
        help="add one shift",
        description="Add one person's shift at a desk (kept as it is if it is already there).",
    )
    put.add_argument("--date", required=True, help="the duty date, like 2026-12-05")
    put.add_argument(
        "--jurisdiction", default="", help="the desk's jurisdiction code (empty: whole area)"
    )
    put.add_argument("--agency", default="", help="the agency, for an agency's desk")
    put.add_argument(
        "--position",
        required=True,
        choices=[position.value for position in RosterPosition],
        help="leader (带班领导), officer (值班员) or agency_desk",
    )
    put.add_argument("--user", required=True, help="the username on duty")
    put.add_argument("--start", required=True, help="shift start with offset, e.g. 08:00+08:00")
    put.add_argument("--end", required=True, help="shift end with offset")
    add_storage_options(put)
    put.set_defaults(func=_cmd_set)


def _run(args: argparse.Namespace, work: Callable[[Roster], Awaitable[None]]) -> int:
    async def main() -> int:
        async with database(args) as sessions:
            try:
                await work(Roster(sessions))
            except RosterError as exc:
                err(f"dutydesk roster: {exc.message}")
                for problem in exc.problems:
                    err(f"  {problem}")
                return EXIT_FAILURE
        return EXIT_OK

    return asyncio.run(main())


def _cmd_import(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            err(f"dutydesk roster: {path} is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
            return EXIT_FAILURE
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err(f"dutydesk roster: cannot read {path}: {exc}")
        return EXIT_FAILURE

    async def work(roster: Roster) -> None:
        count = await roster.import_csv(text)
        out(f"imported {count} shift(s) from {path}")

    return _run(args, work)


def _cmd_show(args: argparse.Namespace) -> int:
    day: dt.date = args.date or dt.datetime.now(LOCAL).date()

    async def work(roster: Roster) -> None:
        entries = await roster.on_date(day)
        if not entries:
            out(f"no one on the roster for {day}")
            return
        for entry in entries:
            desk = entry.jurisdiction or "(whole area)"
            if entry.agency:
                desk += f"/{entry.agency}"
            start = entry.shift_start.astimezone(LOCAL)
            end = entry.shift_end.astimezone(LOCAL)
            out(
                f"{entry.duty_date}  {desk:<20} {entry.position.value:<12} "
                f"{entry.username:<16} {start:%m-%d %H:%M} – {end:%m-%d %H:%M} CST"
            )

    return _run(args, work)


def _cmd_set(args: argparse.Namespace) -> int:
    fields = {
        "date": args.date,
        "jurisdiction": args.jurisdiction,
        "agency": args.agency,
        "position": args.position,
        "username": args.user,
        "start": args.start,
        "end": args.end,
    }

    async def work(roster: Roster) -> None:
        shift = await roster.set(fields)
        out(
            f"{shift.username} is on the roster: {shift.position.value} at "
            f"{shift.jurisdiction or '(whole area)'} on {shift.duty_date}"
        )

    return _run(args, work)
