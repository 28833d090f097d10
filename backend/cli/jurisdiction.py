"""``dutydesk jurisdiction``: import towns and villages, list and show the tree, place a
point.

Provinces, cities and districts come with DutyDesk (the shipped basemap); towns/streets
(街道/乡镇) and villages/communities (村/社区) are imported from GeoJSON, Shapefile or CSV
with a WKT column. An import is checked whole first and prints its validation report; by
default one problem means nothing is written (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from backend.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Subparsers,
    add_storage_options,
    database,
    err,
    out,
)
from backend.errors import ValidationError
from backend.eventlog import log as eventlog
from backend.jurisdictions import codes
from backend.jurisdictions import store as jurisdiction_store
from backend.jurisdictions.codes import LEVEL_LABELS, Level
from backend.jurisdictions.importer import (
    Datum,
    FieldNames,
    Format,
    ImportOptions,
    Report,
    read_features,
    validate,
)
from backend.jurisdictions.tree import Jurisdiction, JurisdictionTree
from realtime.protocol import Event

_IMPORT_EXAMPLES = """examples:
  dutydesk jurisdiction import 西湖区街道.geojson
  dutydesk jurisdiction import towns.shp --level town --code-field XZQDM --name-field XZQMC
  dutydesk jurisdiction import 村社区.csv --level village --code-field 代码 --name-field 名称 \\
      --parent-field 上级 --wkt-field 边界
  dutydesk jurisdiction import gaode-towns.geojson --datum gcj02 --dry-run

Codes are GB/T 2260 / statistical codes, stored trimmed: 330106001000 → 330106001 (a town of
西湖区), 330106001001 (a village). The parent defaults to the code's own prefix."""


def add_parser(commands: Subparsers) -> None:
    """Register ``jurisdiction`` and its actions ``import``, ``list``, ``show``, ``place``."""
    group = commands.add_parser(
        "jurisdiction",
        help="the jurisdiction tree: import towns/villages, list, show, place a point",
        description="The jurisdiction tree (辖区): provinces, cities and districts from the "
        "shipped basemap; towns/streets (街道/乡镇) and villages/communities (村/社区) "
        "imported from GeoJSON, Shapefile or CSV with WKT. Every object is placed in the "
        "deepest jurisdiction containing it.",
    )
    actions = group.add_subparsers(dest="jurisdiction_command", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="import towns or villages from a file",
        description="Check a file of towns or villages against the tree and store them "
        "(insert or update by code). The validation report lists each problem by feature or "
        "row, field and reason. By default one problem means nothing is written (exit 1).",
        epilog=_IMPORT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("file", type=Path, help="a .geojson/.json, .shp (with .dbf) or .csv file")
    imp.add_argument("--format", choices=[f.value for f in Format], help="default: by suffix")
    imp.add_argument("--level", choices=[Level.TOWN.value, Level.VILLAGE.value])
    imp.add_argument("--code-field", help="property/column of the code (default: code or 代码)")
    imp.add_argument("--name-field", help="property/column of the name (default: name or 名称)")
    imp.add_argument(
        "--parent-field", help="property/column of the parent code (default: parent or 上级)"
    )
    imp.add_argument("--wkt-field", help="CSV column of the WKT outline (default: wkt or 边界)")
    imp.add_argument(
        "--datum",
        choices=[d.value for d in Datum],
        default=Datum.WGS84.value,
        help="datum of the file's coordinates; gcj02 (高德/腾讯) is converted to WGS-84",
    )
    imp.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    imp.add_argument(
        "--skip-invalid",
        action="store_true",
        help="store the valid features even when others have problems",
    )
    imp.add_argument("--by", help="who imports, for the audit trail (default: your login)")
    add_storage_options(imp)
    imp.set_defaults(func=_cmd_import)

    lst = actions.add_parser(
        "list",
        help="list jurisdictions",
        description="List the jurisdictions below a code (default: the provinces).",
        epilog="examples:\n  dutydesk jurisdiction list\n"
        "  dutydesk jurisdiction list --under 3301\n"
        "  dutydesk jurisdiction list --under 330106 --level village",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lst.add_argument("--under", default="", help="a code (330100 or 3301); default: the top")
    lst.add_argument("--level", choices=[level.value for level in Level])
    add_storage_options(lst)
    lst.set_defaults(func=_cmd_list)

    show = actions.add_parser(
        "show",
        help="show one jurisdiction",
        description="Name, level, the chain above it, its children, extent and source.",
        epilog="examples:\n  dutydesk jurisdiction show 330106\n"
        "  dutydesk jurisdiction show 330106001000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    show.add_argument("code")
    add_storage_options(show)
    show.set_defaults(func=_cmd_show)

    place = actions.add_parser(
        "place",
        help="the jurisdiction a point lies in",
        description="Print the deepest jurisdiction containing a WGS-84 point (an empty "
        "answer: none — at sea or abroad).",
        epilog="examples:\n  dutydesk jurisdiction place 30.259 120.130    # 西湖区\n"
        "  dutydesk jurisdiction place 31.2304 121.5440  # 浦东新区",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    place.add_argument("lat", type=float, help="latitude, WGS-84 degrees")
    place.add_argument("lon", type=float, help="longitude, WGS-84 degrees")
    add_storage_options(place)
    place.set_defaults(func=_cmd_place)


async def _tree(args: argparse.Namespace) -> JurisdictionTree:
    async with database(args) as sessions:
        return await jurisdiction_store.load_tree(sessions)


def _label(node: Jurisdiction) -> str:
    return LEVEL_LABELS[node.level]


def _chain(tree: JurisdictionTree, node: Jurisdiction) -> str:
    return " › ".join(n.name for n in [*tree.ancestors(node.code), node])


def _fields(args: argparse.Namespace) -> FieldNames:
    defaults = FieldNames()
    return FieldNames(
        code=(args.code_field,) if args.code_field else defaults.code,
        name=(args.name_field,) if args.name_field else defaults.name,
        parent=(args.parent_field,) if args.parent_field else defaults.parent,
        wkt=(args.wkt_field,) if args.wkt_field else defaults.wkt,
    )


def _who(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)[:64]
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (OSError, KeyError):  # no login name in a container
        return "cli"


def _print_report(report: Report) -> None:
    counts = report.counts()
    accepted = ", ".join(f"{counts[level]} {LEVEL_LABELS[level]}" for level in counts)
    out(
        f"{report.source}: {report.features} features, {len(report.accepted)} valid"
        f"{f' ({accepted})' if accepted else ''}, {len(report.problems)} problems"
    )
    for problem in report.problems:
        out(f"  {problem}")


def _cmd_import(args: argparse.Namespace) -> int:
    path: Path = args.file
    fields = _fields(args)
    try:
        fmt = Format(args.format) if args.format else Format.of(path)
        features = read_features(path, fmt, fields)
    except ValidationError as exc:
        err(f"dutydesk jurisdiction import: {exc}")
        return EXIT_FAILURE
    who = _who(args)
    options = ImportOptions(
        level=Level(args.level) if args.level else None,
        fields=fields,
        datum=Datum(args.datum),
        imported_by=who,
    )

    async def work() -> int:
        async with database(args) as sessions:
            async with sessions() as session:
                imported = await jurisdiction_store.load_imported(session)
            tree = JurisdictionTree(imported)
            report = await asyncio.to_thread(
                validate, features, tree, source=path.name, options=options
            )
            _print_report(report)
            if report.problems and not args.skip_invalid:
                err("nothing imported: fix the problems above (or use --skip-invalid)")
                return EXIT_FAILURE
            if args.dry_run:
                out("dry run: nothing written")
                return EXIT_OK
            if not report.accepted:
                err("nothing to import")
                return EXIT_FAILURE
            writer = eventlog.EventWriter(sessions, lambda _events: None)

            async def save(session: AsyncSession, events: list[Event]) -> str:
                saved = await jurisdiction_store.save(session, events, report, actor=who)
                return f"{saved.added} new, {saved.updated} updated"

            outcome = await writer.run(save)
        out(f"imported {len(report.accepted)} jurisdictions ({outcome}) by {who}")
        out("running servers place objects in them at once")
        return EXIT_OK

    return asyncio.run(work())


def _cmd_list(args: argparse.Namespace) -> int:
    try:
        under = codes.normalize(args.under)
    except ValidationError as exc:
        err(f"dutydesk jurisdiction list: {exc}")
        return EXIT_FAILURE

    async def work() -> int:
        tree = await _tree(args)
        if under and under not in tree:
            err(f"dutydesk jurisdiction list: no jurisdiction {args.under!r}")
            return EXIT_FAILURE
        level = Level(args.level) if args.level else None
        nodes = tree.descendants(under, level) if level else tree.children(under)
        if not nodes:
            out("no jurisdictions")
        for node in nodes:
            parent = node.parent or "-"
            out(f"{node.code:<14} {_label(node):<4} {node.name:<16} {parent:<10} {node.source}")
        return EXIT_OK

    return asyncio.run(work())


def _cmd_show(args: argparse.Namespace) -> int:
    async def work() -> int:
        tree = await _tree(args)
        try:
            node = tree.lookup(args.code)
        except ValidationError as exc:
            err(f"dutydesk jurisdiction show: {exc}")
            return EXIT_FAILURE
        min_lon, min_lat, max_lon, max_lat = node.bbox
        out(f"code:      {node.code} ({codes.full_code(node.code)})")
        out(f"name:      {node.name}")
        out(f"level:     {node.level} ({_label(node)})")
        out(f"chain:     {_chain(tree, node)}")
        out(f"parent:    {node.parent or '-'}")
        out(f"children:  {len(tree.children(node.code))}")
        out(f"extent:    lat {min_lat:.5f}…{max_lat:.5f}, lon {min_lon:.5f}…{max_lon:.5f}")
        imported = (
            f" (imported {node.imported_at} by {node.imported_by})" if node.imported_at else ""
        )
        out(f"source:    {node.source}{imported}")
        return EXIT_OK

    return asyncio.run(work())


def _cmd_place(args: argparse.Namespace) -> int:
    async def work() -> int:
        tree = await _tree(args)
        code = tree.place(args.lat, args.lon)
        node = tree.get(code)
        if node is None:
            out(f"({args.lat}, {args.lon}) lies in no jurisdiction (at sea or abroad)")
            return EXIT_OK
        out(f"{code}  {_chain(tree, node)}")
        return EXIT_OK

    return asyncio.run(work())
