"""The ``serve`` options of the channels that carry notices out: the SMPP gateway (SMS),
the SMTP relay (e-mail) and the CAP sender. Secrets are read from files, never taken on
the command line (``ps`` would show them)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from backend.cli.common import Error
from backend.publishing.settings import SmppSettings, SmtpSettings
from devices.gateway_cli import host_port

DEFAULT_CAP_SENDER = "dutydesk@localhost"


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    """Add the channel options to ``serve``."""
    group = serve.add_argument_group(
        "channels (信息发布)",
        "where published notices go besides the consoles; see docs/channels.md. "
        "An exercise never sends SMS or e-mail.",
    )
    group.add_argument(
        "--smpp",
        type=host_port,
        metavar="HOST:PORT",
        help="send SMS through this SMPP 3.4 gateway (SMSC); needs --smpp-system-id",
    )
    group.add_argument("--smpp-system-id", metavar="ID", help="our account (system_id) on the SMSC")
    group.add_argument(
        "--smpp-password-file",
        type=Path,
        metavar="FILE",
        help="file holding the SMSC account's password (at most 8 characters)",
    )
    group.add_argument(
        "--smpp-system-type", default="", metavar="TYPE", help="system_type to bind with"
    )
    group.add_argument(
        "--smpp-source",
        default="",
        metavar="NUMBER",
        help="our sender number or service code (source_addr); default: the SMSC's",
    )
    group.add_argument(
        "--smpp-window",
        type=int,
        default=10,
        metavar="N",
        help="submits outstanding at once (default: 10)",
    )
    group.add_argument(
        "--smtp",
        type=host_port,
        metavar="HOST:PORT",
        help="send e-mail through this SMTP relay; needs --smtp-from",
    )
    group.add_argument(
        "--smtp-from",
        metavar="ADDRESS",
        help="the From address, e.g. '值班台 <dutydesk@yjj.example.gov.cn>'",
    )
    group.add_argument(
        "--smtp-user", default="", metavar="USER", help="log in to the relay as USER"
    )
    group.add_argument(
        "--smtp-password-file",
        type=Path,
        metavar="FILE",
        help="file holding the relay password of --smtp-user",
    )
    group.add_argument(
        "--smtp-starttls",
        action="store_true",
        help="switch to TLS with STARTTLS before logging in and sending",
    )
    group.add_argument(
        "--cap-sender",
        default=DEFAULT_CAP_SENDER,
        metavar="ADDRESS",
        help="the CAP alerts' sender (no spaces or commas), e.g. dutydesk@yjj.example.gov.cn "
        f"(default: {DEFAULT_CAP_SENDER})",
    )


def read_secret(path: Path, what: str) -> str:
    """The first line of ``path`` (a password file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise Error(f"cannot read the {what} file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise Error(f"the {what} file {path} is not UTF-8 text") from exc
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise Error(f"the {what} file {path} is empty")
    return lines[0].strip()


def serve_config(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`~backend.server.config.ServerConfig` fields the options give."""
    smpp = smtp = None
    if args.smpp is not None:
        if not args.smpp_system_id:
            raise Error("--smpp needs --smpp-system-id")
        if args.smpp_window < 1:
            raise Error("--smpp-window must be at least 1")
        password = (
            read_secret(args.smpp_password_file, "SMPP password")
            if args.smpp_password_file is not None
            else ""
        )
        smpp = SmppSettings(
            host=args.smpp[0],
            port=args.smpp[1],
            system_id=args.smpp_system_id,
            password=password,
            system_type=args.smpp_system_type,
            source_addr=args.smpp_source,
            window=args.smpp_window,
        )
    elif args.smpp_system_id or args.smpp_password_file or args.smpp_source:
        raise Error("--smpp-system-id, --smpp-password-file and --smpp-source need --smpp")
    if args.smtp is not None:
        if not args.smtp_from:
            raise Error("--smtp needs --smtp-from")
        if args.smtp_user and args.smtp_password_file is None:
            raise Error("--smtp-user needs --smtp-password-file")
        smtp = SmtpSettings(
            host=args.smtp[0],
            port=args.smtp[1],
            sender=args.smtp_from,
            user=args.smtp_user,
            password=(
                read_secret(args.smtp_password_file, "SMTP password")
                if args.smtp_password_file is not None
                else ""
            ),
            starttls=args.smtp_starttls,
        )
    elif args.smtp_from or args.smtp_user or args.smtp_password_file or args.smtp_starttls:
        raise Error(
            "--smtp-from, --smtp-user, --smtp-password-file and --smtp-starttls need --smtp"
        )
    if not args.cap_sender or any(c in args.cap_sender for c in " ,<&\t"):
        raise Error(f"--cap-sender must have no spaces, commas, '<' or '&': {args.cap_sender!r}")
    return {"smpp": smpp, "smtp": smtp, "cap_sender": args.cap_sender}
