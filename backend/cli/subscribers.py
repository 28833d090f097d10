"""``dutydesk subscribers``: the public's SMS and e-mail subscriptions to published
notices (add, import a CSV, list masked, remove)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from backend.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Error,
    Subparsers,
    add_action,
    database,
    err,
    out,
    storage,
)
from backend.publishing.subscribers import Error as SubscriberError
from backend.publishing.subscribers import SubscriberStore
from backend.security import Error as SecurityError
from backend.security import FieldCipher


def add_parser(commands: Subparsers) -> None:
    """Register ``subscribers`` and its actions ``add``, ``import``, ``list``, ``remove``."""
    group = commands.add_parser(
        "subscribers",
        help="manage the public's subscriptions to published notices",
        description="People who receive the published public notices of an area by SMS or "
        "e-mail. Numbers and addresses are encrypted with the data key and listed masked.",
    )
    actions = group.add_subparsers(dest="subscribers_command", metavar="ACTION", required=True)
    add = add_action(
        actions,
        "add",
        summary="add one subscriber",
        description="Add a subscriber, e.g. 'dutydesk subscribers add 330106 --phone 13800000000'.",
        func=_cmd_add,
    )
    add.add_argument("jurisdiction", help="the area subscribed to (region code, e.g. 330106)")
    add.add_argument("--phone", default="", help="mobile number for SMS")
    add.add_argument("--email", default="", help="e-mail address")
    imp = add_action(
        actions,
        "import",
        summary="add subscribers from a CSV",
        description="Add the rows of a UTF-8 CSV with the header 'jurisdiction,phone,email' "
        "(one of phone and email may be empty). Good rows are added once; each bad row is "
        "reported with its line number.",
        func=_cmd_import,
    )
    imp.add_argument("file", type=Path, help="CSV file (UTF-8)")
    lst = add_action(
        actions,
        "list",
        summary="list subscribers (masked)",
        description="List them.",
        func=_cmd_list,
    )
    lst.add_argument("--jurisdiction", default="", help="only this area (a region-code prefix)")
    remove = add_action(
        actions,
        "remove",
        summary="remove a subscriber",
        description="Remove a subscriber by its id.",
        func=_cmd_remove,
    )
    remove.add_argument("id", type=int, help="the id 'subscribers list' shows")


def _run(
    args: argparse.Namespace, what: str, work: Callable[[SubscriberStore], Awaitable[int]]
) -> int:
    _, data_dir = storage(args)

    async def main() -> int:
        async with database(args) as sessions:
            return await work(SubscriberStore(sessions, cipher))

    try:
        # The same data key the server decrypts the numbers with.
        cipher = FieldCipher.from_data_dir(data_dir)
        return asyncio.run(main())
    except (SubscriberError, SecurityError, OSError) as exc:
        err(f"dutydesk subscribers {what}: {exc}")
        return EXIT_FAILURE


def _cmd_add(args: argparse.Namespace) -> int:
    async def work(store: SubscriberStore) -> int:
        added = await store.add(args.jurisdiction, args.phone, args.email)
        out("already subscribed" if added is None else f"added subscriber {added}")
        return EXIT_OK

    return _run(args, "add", work)


def _cmd_import(args: argparse.Namespace) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        err(f"dutydesk subscribers import: cannot read {args.file}: {exc}")
        return EXIT_FAILURE

    async def work(store: SubscriberStore) -> int:
        outcome = await store.import_csv(text)
        for line in outcome.refused:
            err(line)
        out(
            f"added {outcome.added}, already there {outcome.unchanged}, "
            f"refused {len(outcome.refused)}"
        )
        return EXIT_FAILURE if outcome.refused else EXIT_OK

    return _run(args, "import", work)


def _cmd_list(args: argparse.Namespace) -> int:
    async def work(store: SubscriberStore) -> int:
        for s in await store.list(args.jurisdiction):
            out(f"{s.id:>6}  {s.jurisdiction:<12} {s.phone or '-':<14} {s.email or '-'}")
        return EXIT_OK

    return _run(args, "list", work)


def _cmd_remove(args: argparse.Namespace) -> int:
    async def work(store: SubscriberStore) -> int:
        if not await store.remove(args.id):
            err(f"dutydesk subscribers remove: no subscriber {args.id}")
            return EXIT_FAILURE
        out(f"removed subscriber {args.id}")
        return EXIT_OK

    return _run(args, "remove", work)


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    """``dutydesk serve`` options of publishing (信息发布) beyond the channels' own
    (:mod:`backend.cli.channels`)."""
    serve.add_argument(
        "--notice-rate",
        type=float,
        default=20.0,
        metavar="PER_SECOND",
        help="most SMS or e-mails of published notices sent per second, per channel (default: 20)",
    )


def serve_config(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`~backend.server.config.ServerConfig` fields those options set."""
    if args.notice_rate <= 0:
        raise Error("--notice-rate must be positive")
    return {"notice_rate_per_second": args.notice_rate}
