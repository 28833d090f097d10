"""``dutydesk smsc-sim``: run our SMSC simulator in the foreground (to try the SMS channel
without a carrier: point ``dutydesk serve --smpp`` at it)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from backend.cli.channels import read_secret
from backend.cli.common import EXIT_OK, Subparsers
from backend.publishing.smpp.simulator import SmscSimulator

logger = logging.getLogger(__name__)


def add_parser(commands: Subparsers) -> None:
    """Register ``smsc-sim``."""
    parser = commands.add_parser(
        "smsc-sim",
        help="run an SMSC simulator (SMPP 3.4) to try the SMS channel",
        description="Run an SMS gateway simulator speaking SMPP 3.4: it accepts binds, "
        "answers submit_sm with message ids, sends delivery receipts after --receipt-delay "
        "and logs every text it receives (reassembled parts). Stop with Ctrl-C.",
        epilog="example: dutydesk smsc-sim --port 2775 --password-file smpp.pw, then "
        "dutydesk serve --smpp 127.0.0.1:2775 --smpp-system-id dutydesk "
        "--smpp-password-file smpp.pw",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=2775, help="port to listen on (default: 2775, SMPP's)"
    )
    parser.add_argument(
        "--system-id", default="dutydesk", help="the account's system_id (default: dutydesk)"
    )
    parser.add_argument(
        "--password-file",
        type=Path,
        metavar="FILE",
        help="file holding the account's password; without it any password is accepted",
    )
    parser.add_argument(
        "--receipt-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="seconds before a delivery receipt is sent (default: 1)",
    )
    parser.add_argument(
        "--fail-number",
        action="append",
        default=[],
        metavar="NUMBER",
        help="refuse submits to NUMBER with ESME_RINVDSTADR (repeatable)",
    )
    parser.add_argument(
        "--undeliverable",
        action="append",
        default=[],
        metavar="NUMBER",
        help="accept submits to NUMBER but report them UNDELIV (repeatable)",
    )
    parser.set_defaults(func=_cmd_smsc_sim)


def _cmd_smsc_sim(args: argparse.Namespace) -> int:
    password = (
        read_secret(args.password_file, "password") if args.password_file is not None else None
    )
    simulator = SmscSimulator(
        system_id=args.system_id,
        password=password,
        host=args.host,
        port=args.port,
        receipt_delay=args.receipt_delay,
    )
    simulator.fail_numbers.update(args.fail_number)
    simulator.undeliverable.update(args.undeliverable)
    asyncio.run(_run(simulator))
    return EXIT_OK


async def _run(simulator: SmscSimulator) -> None:
    async with simulator:
        logger.info(
            "SMSC simulator ready: system_id %s, %s",
            simulator.system_id,
            "any password" if simulator.password is None else "password from the file",
        )
        await asyncio.Event().wait()  # until Ctrl-C
