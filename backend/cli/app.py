"""The ``dutydesk`` command: one entry point for the server, the console, the demo and the
integrator's tools.

Each command group lives in its own module of ``backend.cli`` and registers itself with
``add_parser(subparsers)``; this module only assembles them and runs the chosen one.
Subcommands implemented outside the backend (``desktop``, ``decode``, ``gateway``) come
through the ``dutydesk.commands`` entry points (:mod:`backend.cli.external`) and are
imported only when the parser is built, so ``dutydesk serve`` never loads Qt.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint

from backend import __version__
from backend.cli import (
    agencies,
    audit,
    basemap,
    cameras,
    dangers,
    demo,
    devices,
    exercise,
    external,
    jurisdiction,
    keys,
    record,
    registry,
    report,
    roster,
    sensors,
    serve,
    simulate,
    smsc_sim,
    subscribers,
    upkeep,
    users,
    weather,
)
from backend.cli.common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Error,
    add_log_level_option,
    err,
)

# In the order `dutydesk --help` lists them; the external subcommands follow.
COMMAND_GROUPS = (
    serve,
    users,
    agencies,
    devices,
    sensors,
    cameras,
    registry,
    jurisdiction,
    basemap,
    roster,
    subscribers,
    keys,
    audit,
    record,
    upkeep,
    report,
    dangers,
    exercise,
    weather,
    simulate,
    smsc_sim,
    demo,
)


def build_parser(external_commands: Iterable[EntryPoint] | None = None) -> argparse.ArgumentParser:
    """Return the full ``dutydesk`` argument parser.

    ``external_commands`` replaces the installed ``dutydesk.commands`` entry points.
    """
    parser = argparse.ArgumentParser(
        prog="dutydesk",
        description="DutyDesk (值班台): real-time emergency command system.",
        epilog="Run 'dutydesk COMMAND --help' for each command's options.",
    )
    parser.add_argument("--version", action="version", version=f"dutydesk {__version__}")
    add_log_level_option(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in COMMAND_GROUPS:
        group.add_parser(commands)
    external.add_parsers(commands, external_commands)
    _accept_log_level_everywhere(parser)
    return parser


def _accept_log_level_everywhere(parser: argparse.ArgumentParser) -> None:
    """Let ``--log-level`` follow any command name too (``dutydesk serve --log-level DEBUG``).

    argparse offers no public walk of its subcommands, hence the private attributes.
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                if "--log-level" not in sub._option_string_actions:
                    add_log_level_option(sub)
                _accept_log_level_everywhere(sub)


def main(argv: list[str] | None = None) -> int:
    """Run the ``dutydesk`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Alembic narrates every start at INFO; the migration outcome is logged by us.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # pymodbus logs an ERROR at every poll of a silent slave; the poller says it once an
    # episode, with the sensor's name (pymodbus's own lines are there with DEBUG).
    debugging = args.log_level == "DEBUG"
    logging.getLogger("pymodbus").setLevel(logging.NOTSET if debugging else logging.CRITICAL)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except Error as exc:
        err(f"dutydesk {args.command}: {exc}")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error of ours.
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
