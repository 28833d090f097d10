"""The ``dutydesk desktop`` subcommand.

This module must not import PySide6 when it is imported: the ``dutydesk`` entry point
loads it just to register the subcommand, and the server must start on machines without
a display. Qt is imported in :func:`run`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_SERVER_URL = "ws://127.0.0.1:8765/console"
PASSWORD_ENV = "DUTYDESK_PASSWORD"  # noqa: S105 - the variable's name, not a secret
LANGUAGES = ("zh_CN", "en")
DEFAULT_SCREENSHOT_DELAY = 3.0
EXIT_NO_DISPLAY = 2
"""Exit status when there is no display to show the console on."""

DESCRIPTION = """\
Start the DutyDesk duty console (值班台).

Without --user and a password it opens the login dialog. With --user and a password
(from --password-file or the DUTYDESK_PASSWORD environment variable) it logs in
unattended. The language is Simplified Chinese unless --lang en is given or English was
chosen in the console's Language menu.
"""

EPILOG = """\
examples:
  dutydesk desktop
  dutydesk desktop --server ws://10.0.0.5:8765/console --user officer1
  dutydesk desktop --server wss://duty.example.gov.cn:8765/console --ca-file ca.pem
  dutydesk desktop --server ws://10.0.0.5:8765/console --server ws://10.0.0.6:8765/console
  DUTYDESK_PASSWORD=secret dutydesk desktop --user officer1 --lang en
  dutydesk desktop --user leader1 --wall
  xvfb-run -a dutydesk desktop        # no screen attached: a virtual X display
  QT_QPA_PLATFORM=offscreen dutydesk desktop --user officer1 --password-file pw.txt \\
      --screenshot console.png --after 5
"""


def add_parser(subparsers: Any) -> None:
    """Register the ``desktop`` subcommand on an ``argparse`` subparsers object.

    The subcommand's handler is set as the ``func`` default: ``args.func(args)`` runs it.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "desktop",
        help="start the duty console (PySide6 desktop)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(parser)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the console's options to ``parser``."""
    parser.add_argument(
        "--server",
        action="append",
        metavar="URL",
        help="console endpoint of the server, ws://HOST:PORT/console; repeat it (or give a "
        "comma-separated list) for several instances of one system: the console moves to "
        "the next when one cannot be reached (default: the addresses of the last login, "
        f"else {DEFAULT_SERVER_URL})",
    )
    parser.add_argument("--user", default="", metavar="NAME", help="user name to log in as")
    parser.add_argument(
        "--password-file",
        type=Path,
        metavar="PATH",
        help=f"file whose first line is the password (else ${PASSWORD_ENV} is used)",
    )
    parser.add_argument(
        "--ca-file",
        metavar="PEM",
        help="CA certificate that verifies a wss:// server (default: the one saved in the "
        "login dialog, else the system's CAs)",
    )
    parser.add_argument(
        "--idle-lock",
        type=float,
        metavar="MINUTES",
        help="lock the console after this many minutes without input (0: never; "
        "default: the saved setting, else 30)",
    )
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        help="user interface language (default: the saved choice, else zh_CN)",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="FILE",
        help="save a PNG of the window after --after seconds, then exit (works offscreen)",
    )
    parser.add_argument(
        "--after",
        type=float,
        default=DEFAULT_SCREENSHOT_DELAY,
        metavar="SECONDS",
        help="delay before --screenshot (default: %(default)s)",
    )
    parser.add_argument(
        "--wall",
        action="store_true",
        help="wall display (a wall screen or a leader's screen): map, alarm queue and counters "
        "in large type, no editing actions, a fixed layout",
    )
    parser.add_argument(
        "--open-incident",
        action="store_true",
        help="open the first incident in the incident workspace shortly before --screenshot "
        "(pictures of the workspace for the docs)",
    )
    parser.set_defaults(func=run)


class PasswordFileError(Exception):
    """The password file cannot be read."""


def read_password(password_file: Path | None) -> str:
    """Return the password from ``password_file`` (first line) or the environment."""
    if password_file is not None:
        try:
            text = password_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise PasswordFileError(
                f"cannot read the password file {password_file}: {exc}"
            ) from exc
        lines = text.splitlines()
        return lines[0] if lines else ""
    return os.environ.get(PASSWORD_ENV, "")


def display_problem(environ: Mapping[str, str], platform: str = sys.platform) -> str | None:
    """Why Qt would find no display to open the console on, in one line; None if it will.

    Checked before Qt starts: without a display Qt aborts the whole process (exit 134)
    with a hint about a missing library that is not the cause.
    """
    if environ.get("QT_QPA_PLATFORM") or not platform.startswith(("linux", "freebsd")):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "no display: neither DISPLAY nor WAYLAND_DISPLAY is set; run the console in a desktop "
        "session, under a virtual display (xvfb-run -a dutydesk desktop …), or without one "
        "for a screenshot (QT_QPA_PLATFORM=offscreen dutydesk desktop … --screenshot FILE)"
    )


def run_console(
    server_url: str,
    username: str,
    password: str,
    *,
    lang: str | None = None,
    screenshot: Path | str | None = None,
    after: float = DEFAULT_SCREENSHOT_DELAY,
    ca_file: str | None = None,
    idle_lock_seconds: float | None = None,
    open_incident: bool = False,
    wall: bool = False,
) -> int:
    """Run the console and return its exit status (see :func:`desktop.app.run_console`).

    Without a display it says so in one line and returns :data:`EXIT_NO_DISPLAY`.
    """
    problem = display_problem(os.environ)
    if problem is not None:
        logger.error("%s", problem)
        return EXIT_NO_DISPLAY
    app_module = importlib.import_module("desktop.app")
    result: int = app_module.run_console(
        server_url,
        username,
        password,
        lang=lang,
        screenshot=screenshot,
        after=after,
        ca_file=ca_file,
        idle_lock_seconds=idle_lock_seconds,
        open_incident=open_incident,
        wall=wall,
    )
    return result


def run(args: argparse.Namespace) -> int:
    """Run the ``desktop`` subcommand with parsed ``args``; return the exit status."""
    if args.after < 0:
        logger.error("--after must not be negative")
        return 2
    if args.idle_lock is not None and args.idle_lock < 0:
        logger.error("--idle-lock must not be negative")
        return 2
    try:
        password = read_password(args.password_file)
    except PasswordFileError as exc:
        logger.error("%s", exc)
        return 2
    return run_console(
        ",".join(args.server or ()),
        args.user,
        password if args.user else "",
        lang=args.lang,
        screenshot=args.screenshot,
        after=args.after,
        ca_file=args.ca_file,
        idle_lock_seconds=args.idle_lock * 60.0 if args.idle_lock is not None else None,
        open_incident=args.open_incident,
        wall=args.wall,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the console as ``python -m desktop``."""
    parser = argparse.ArgumentParser(
        prog="python -m desktop",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return run(args)
