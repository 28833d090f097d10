"""``dutydesk registry``: import the registry (台账) from Excel or CSV, export it, and
write the template to fill in.

An import is read and checked whole first (every problem by sheet, row, column and
reason); by default one problem means nothing is written (exit 1). The database write is
one transaction of :meth:`backend.registry.items.RegistryService.import_items`: one
``registry.changed`` event per item written and one ``registry.imported`` for the file.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import getpass
import re
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from backend import security
from backend.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Error,
    Subparsers,
    add_storage_options,
    database,
    err,
    out,
    storage,
)
from backend.eventlog import log as eventlog
from backend.jurisdictions.store import load_tree
from backend.registry import sheets
from backend.registry.items import ImportConflictError, ImportOutcome, RegistryService
from backend.registry.sheet_columns import (
    COMMON_COLUMNS,
    KIND_SHEET_NAMES,
    Datum,
    details_columns,
)
from realtime.protocol import Event, ItemKind

SHOWN_PROBLEMS = 50
"""Problems printed; the rest are in ``--report``."""
PROGRESS_SECONDS = 1.0
PROGRESS_ROWS = 5_000
"""Items from which the database step is announced (it takes a while)."""

_KINDS = ", ".join(f"{kind.value} ({name})" for kind, name in KIND_SHEET_NAMES.items())
_IMPORT_EXAMPLES = f"""examples:
  dutydesk registry template 台账模板.xlsx
  dutydesk registry import 台账.xlsx --dry-run
  dutydesk registry import 专家.csv --kind expert --datum gcj02 --report problems.csv
  dutydesk registry import 台账.xlsx --partial

kinds: {_KINDS}.
An .xlsx holds one sheet per kind, named by the kind (Chinese or English); a .csv holds
one kind (--kind). docs/registry.md lists the columns of each kind."""


def add_parser(commands: Subparsers) -> None:
    """Register ``registry`` and its actions ``import``, ``export`` and ``template``."""
    group = commands.add_parser(
        "registry",
        help="the registry (台账): import from Excel/CSV, export, template",
        description="Import registry items (enterprises, hazard sources, teams, equipment, "
        "shelters, experts, protection targets, plans) from .xlsx or .csv, export them, "
        "or write the template to fill in.",
    )
    actions = group.add_subparsers(dest="registry_command", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="import items from an .xlsx or .csv file",
        description="Check a file whole and store its items (created or updated by kind "
        "and code). Every problem is reported by sheet, row, column and reason; by default "
        "one problem means nothing is written (exit 1).",
        epilog=_IMPORT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("file", type=Path, help="an .xlsx or .csv file (CSV: UTF-8 or GBK)")
    imp.add_argument(
        "--kind",
        choices=[kind.value for kind in ItemKind],
        help="the kind of a CSV file's items (required for CSV); for an .xlsx: only that "
        "kind's sheet (or the first sheet when none is named for a kind)",
    )
    imp.add_argument(
        "--datum",
        choices=[datum.value for datum in Datum],
        default=Datum.WGS84.value,
        help="datum of coordinates whose 坐标系 cell is empty (default wgs84); gcj02 "
        "(高德/腾讯) is converted to WGS-84",
    )
    imp.add_argument(
        "--dry-run", action="store_true", help="check the file and the database, write nothing"
    )
    imp.add_argument(
        "--partial",
        action="store_true",
        help="store the good rows even when others have problems (default: all or nothing)",
    )
    imp.add_argument("--report", type=Path, help="write every problem to this CSV file")
    imp.add_argument("--by", help="who imports, for the audit trail (default: your login)")
    add_storage_options(imp)
    imp.set_defaults(func=_cmd_import)

    exp = actions.add_parser(
        "export",
        help="export one kind's items to an .xlsx or .csv file",
        description="Write every item of a kind (retired ones too, marked 已注销) to a file "
        "that imports back. Contact phone numbers are masked unless --with-contacts.",
        epilog="example: dutydesk registry export --kind team 应急队伍.xlsx",
    )
    exp.add_argument(
        "--kind", required=True, choices=[kind.value for kind in ItemKind], help="what to export"
    )
    exp.add_argument("file", type=Path, help="an .xlsx or .csv file to write")
    exp.add_argument(
        "--with-contacts",
        action="store_true",
        help="write contact numbers in full (personal data: audited as a reveal; needs the "
        "data key)",
    )
    exp.add_argument("--by", help="who exports, for the audit trail (default: your login)")
    add_storage_options(exp)
    exp.set_defaults(func=_cmd_export)

    tpl = actions.add_parser(
        "template",
        help="write an empty file to fill in",
        description="Write the headers of each kind with one example row (a comment: its "
        "first cell starts with #, it is not imported); an .xlsx also gets a 说明 sheet "
        "explaining every column.",
        epilog="examples:\n  dutydesk registry template 台账模板.xlsx\n"
        "  dutydesk registry template 专家.csv --kind expert",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tpl.add_argument("file", type=Path, help="an .xlsx or .csv file to write")
    tpl.add_argument(
        "--kind",
        action="append",
        choices=[kind.value for kind in ItemKind],
        help="a kind to include (repeat; default: every kind; CSV: exactly one)",
    )
    tpl.set_defaults(func=_cmd_template)


def _who(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)[:64]
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (OSError, KeyError):  # no login name in a container
        return "cli"


class _Progress:
    """Rows read so far on stderr, at most once a second (small files say nothing)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.monotonic()
        self.shown = self.started

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.shown < PROGRESS_SECONDS:
            return
        self.shown = now
        share = f" of {total:,} ({100 * done / total:.0f}%)" if total else ""
        err(f"{self.name}: {done:,} rows read{share}")


def _write_report(path: Path, problems: Sequence[sheets.Problem]) -> None:
    try:
        with path.open("w", encoding="utf-8-sig", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(["sheet", "row", "column", "reason"])
            writer.writerows([p.sheet, p.row, p.column, p.reason] for p in problems)
    except OSError as exc:
        raise Error(f"cannot write the report {path}: {exc.strerror or exc}") from exc


def _print_problems(outcome: sheets.ReadOutcome, report: Path | None) -> None:
    for problem in outcome.problems[:SHOWN_PROBLEMS]:
        out(f"  {problem}")
    hidden = len(outcome.problems) - SHOWN_PROBLEMS
    if hidden > 0:
        where = f"all in {report}" if report else "use --report FILE for all"
        out(f"  … and {hidden:,} more ({where})")


_REFUSED_ITEM = re.compile(
    r"^(?P<kind>\w+) '(?P<code>[^']+)': (?P<field>[\w.\[\]]+): (?P<reason>.*)$"
)


def _placed(message: str, outcome: sheets.ReadOutcome) -> sheets.Problem:
    """The database's refusal of one item as a problem of its sheet and row (when the
    message names an item of the file, as ``kind 'code': field: reason``)."""
    found = _REFUSED_ITEM.match(message)
    if found and found["kind"] in {kind.value for kind in ItemKind}:
        kind = ItemKind(found["kind"])
        place = outcome.place_of(kind, found["code"])
        if place is not None:
            name = found["field"].split(".")[-1].split("[")[0]
            headers = {c.field: c.header for c in (*COMMON_COLUMNS, *details_columns(kind))}
            return sheets.Problem(place[0], place[1], headers.get(name, name), found["reason"])
    return sheets.Problem("", 0, "", message)


def _cipher(args: argparse.Namespace) -> security.FieldCipher:
    _, data_dir = storage(args)
    try:
        return security.FieldCipher.from_data_dir(data_dir, create=False)
    except (security.Error, OSError) as exc:
        raise Error(
            f"the data key is needed (contact numbers are stored encrypted) and cannot be "
            f"read from {data_dir}: {exc}"
        ) from exc


def _cmd_import(args: argparse.Namespace) -> int:
    path: Path = args.file
    kind = ItemKind(args.kind) if args.kind else None
    started = time.monotonic()
    try:
        outcome = sheets.read_items(path, kind, Datum(args.datum), progress=_Progress(path.name))
    except sheets.Error as exc:
        raise Error(str(exc)) from exc
    out(
        f"{path.name}: {outcome.rows:,} rows, {len(outcome.items):,} valid, "
        f"{len(outcome.problems):,} problems (read in {time.monotonic() - started:.1f} s)"
    )
    if args.report is not None:
        _write_report(args.report, outcome.problems)
    _print_problems(outcome, args.report)
    if outcome.problems and not args.partial:
        err("nothing imported: fix the problems above (or use --partial)")
        return EXIT_FAILURE
    if not outcome.items:
        err("nothing to import")
        return EXIT_FAILURE
    cipher = _cipher(args)
    who = _who(args)
    if len(outcome.items) >= PROGRESS_ROWS:
        step = "checking" if args.dry_run else "writing"
        err(f"{step} {len(outcome.items):,} items in one transaction…")

    async def work() -> ImportOutcome:
        async with database(args) as sessions:
            tree = await load_tree(sessions)
            # Offline tools publish to nobody; running servers learn changes from the log.
            writer = eventlog.EventWriter(sessions, lambda _events: None)
            service = RegistryService(sessions, cipher, writer, tree)
            return await service.import_items(
                outcome.items, by=who, source=path.name, dry_run=args.dry_run
            )

    try:
        result = asyncio.run(work())
    except ImportConflictError as exc:
        refusal = _placed(exc.message, outcome)
        out(f"  {refusal}")
        if args.report is not None:
            _write_report(args.report, [*outcome.problems, refusal])
        err("nothing imported: the database refused the item above")
        return EXIT_FAILURE
    counts = f"{result.created:,} new, {result.updated:,} updated, {result.unchanged:,} unchanged"
    if args.dry_run:
        out(f"dry run: would import {len(outcome.items):,} items ({counts}); nothing written")
    else:
        out(f"imported {len(outcome.items):,} items ({counts}) by {who}")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    kind = ItemKind(args.kind)
    path: Path = args.file
    # A masked export reads no ciphertext: any key will do when the numbers stay masked.
    cipher = _cipher(args) if args.with_contacts else security.FieldCipher.generate()
    who = _who(args)

    async def work() -> int:
        async with database(args) as sessions:
            writer = eventlog.EventWriter(sessions, lambda _events: None)
            service = RegistryService(sessions, cipher, writer)
            items = await service.export_items(kind, with_contacts=args.with_contacts)
            if args.with_contacts:
                note = f"export of {len(items)} {kind.value} items with contacts to {path.name}"

                async def audit(session: AsyncSession, events: list[Event]) -> None:
                    events.append(
                        await eventlog.append(
                            session,
                            kind=eventlog.EventKind.REGISTRY_CONTACT_REVEALED,
                            actor=who,
                            note=note[:200],
                            fields=["contacts"],
                        )
                    )

                await writer.run(audit)
        try:
            sheets.write_items(path, kind, items)
        except sheets.Error as exc:
            raise Error(str(exc)) from exc
        return len(items)

    count = asyncio.run(work())
    out(f"exported {count:,} {kind.value} items to {path}")
    if args.with_contacts:
        err("the file holds contact numbers in full: personal data, keep it safe")
    return EXIT_OK


def _cmd_template(args: argparse.Namespace) -> int:
    kinds = [ItemKind(kind) for kind in args.kind or []]
    try:
        sheets.write_template(args.file, kinds)
    except sheets.Error as exc:
        raise Error(str(exc)) from exc
    out(f"wrote the template to {args.file}")
    return EXIT_OK
