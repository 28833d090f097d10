"""``dutydesk agency``: list, add and disable the linked agencies (消防救援, 公安, …)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from backend.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Subparsers,
    add_storage_options,
    database,
    err,
    out,
)
from backend.registry.agencies import AgencyRegistry
from backend.registry.agencies import Error as AgencyError


def add_parser(commands: Subparsers) -> None:
    """Register ``agency`` and its actions ``list``, ``add`` and ``disable``."""
    agency = commands.add_parser(
        "agency",
        help="manage the linked agencies",
        description="Manage the agencies users, units and cameras belong to. Consoles show "
        "their Chinese names; an agency desk (role 'agency') must belong to an active one.",
    )
    actions = agency.add_subparsers(dest="agency_command", metavar="ACTION", required=True)
    lst = actions.add_parser("list", help="list agencies", description="List the agencies.")
    lst.add_argument("--all", action="store_true", help="include disabled agencies")
    add_storage_options(lst)
    lst.set_defaults(func=_cmd_list)
    add = actions.add_parser(
        "add",
        help="add an agency",
        description="Add an agency (or bring a disabled one back), e.g. "
        "'dutydesk agency add water 水务 --name-en Water --kind government'.",
    )
    add.add_argument("code", help="lower-case code users, units and cameras name (e.g. fire)")
    add.add_argument("name_zh", help="the Chinese name consoles show (e.g. 消防救援)")
    add.add_argument("--name-en", default="", help="the English name")
    add.add_argument("--kind", default="", help="what kind of agency (rescue, police, …)")
    add_storage_options(add)
    add.set_defaults(func=_cmd_add)
    disable = actions.add_parser(
        "disable",
        help="disable an agency",
        description="Disable an agency: no new user may join it; what names it stays.",
    )
    disable.add_argument("code")
    add_storage_options(disable)
    disable.set_defaults(func=_cmd_disable)


def _run(args: argparse.Namespace, work: Callable[[AgencyRegistry], Awaitable[None]]) -> int:
    async def main() -> int:
        async with database(args) as sessions:
            try:
                await work(AgencyRegistry(sessions))
            except AgencyError as exc:
                err(f"dutydesk agency: {exc}")
                return EXIT_FAILURE
        return EXIT_OK

    return asyncio.run(main())


def _cmd_list(args: argparse.Namespace) -> int:
    async def work(agencies: AgencyRegistry) -> None:
        for agency in await agencies.list(include_disabled=args.all):
            state = "" if agency.active else "  (disabled)"
            out(f"{agency.code:<14} {agency.name_zh:<12} {agency.name_en}{state}")

    return _run(args, work)


def _cmd_add(args: argparse.Namespace) -> int:
    async def work(agencies: AgencyRegistry) -> None:
        added = await agencies.add(args.code, args.name_zh, name_en=args.name_en, kind=args.kind)
        out(f"added agency {added.code} ({added.name_zh})")

    return _run(args, work)


def _cmd_disable(args: argparse.Namespace) -> int:
    async def work(agencies: AgencyRegistry) -> None:
        await agencies.disable(args.code)
        out(f"disabled agency {args.code}")

    return _run(args, work)
