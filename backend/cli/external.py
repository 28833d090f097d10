"""Subcommands that live outside the backend, found through entry points.

The console (``desktop``), the codec tool (``decode``) and the JT/T 808 gateway
(``gateway``) each declare an entry point in the ``dutydesk.commands`` group naming a
module that exposes ``add_parser(subparsers)`` and ``run(args)``. The backend never
imports them by name, so it does not depend on the console even at run time. When a
component is absent, or its module cannot be imported, its subcommand is still listed
and refuses with a clear message.
"""

from __future__ import annotations

import argparse
import functools
import logging
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol

from backend.cli.common import EXIT_USAGE, Subparsers, err

logger = logging.getLogger(__name__)

COMMANDS_GROUP = "dutydesk.commands"

# Listed even when missing, in this order, so that `dutydesk --help` names them.
KNOWN_COMMANDS = ("desktop", "decode", "gateway")


class CommandModule(Protocol):
    """What an external subcommand's module provides."""

    def add_parser(self, subparsers: Subparsers) -> None:
        """Register the subcommand, with the name of its entry point, on ``subparsers``."""

    def run(self, args: argparse.Namespace) -> int:
        """Run the subcommand; return the exit status."""


class ConsoleModule(Protocol):
    """What ``dutydesk demo`` needs of the ``desktop`` component."""

    def run_console(
        self,
        server_url: str,
        username: str,
        password: str,
        *,
        lang: str | None,
        screenshot: str | None,
        after: float,
        open_incident: bool = False,
        wall: bool = False,
    ) -> int:
        """Log in to ``server_url`` and run the console until its window closes."""

    def display_problem(self, environ: Mapping[str, str]) -> str | None:
        """Why the console could not open a window here (one line), or None."""


def installed() -> list[EntryPoint]:
    """The ``dutydesk.commands`` entry points of this installation."""
    return list(entry_points(group=COMMANDS_GROUP))


def load(name: str, available: Iterable[EntryPoint] | None = None) -> Any | None:
    """What the entry point ``name`` names (a module), or None when it is not installed.

    ``available`` replaces the installed entry points (tests, embedding applications).
    """
    for entry_point in installed() if available is None else available:
        if entry_point.name != name:
            continue
        try:
            return entry_point.load()
        except ModuleNotFoundError as exc:
            logger.debug("subcommand %s (%s) unavailable: %s", name, entry_point.value, exc)
            return None
    logger.debug("no %s entry point named %s", COMMANDS_GROUP, name)
    return None


def load_console(available: Iterable[EntryPoint] | None = None) -> ConsoleModule | None:
    """The ``desktop`` component's module, or None when this installation lacks it."""
    console: ConsoleModule | None = load("desktop", available)
    return console


def add_parsers(commands: Subparsers, available: Iterable[EntryPoint] | None = None) -> None:
    """Register every external subcommand; one that is missing refuses to run."""
    listed = installed() if available is None else list(available)
    extra = sorted({entry_point.name for entry_point in listed} - set(KNOWN_COMMANDS))
    for name in (*KNOWN_COMMANDS, *extra):
        module: CommandModule | None = load(name, listed)
        if module is None:
            placeholder = commands.add_parser(name, help=f"({name} is not installed)")
            placeholder.set_defaults(func=functools.partial(_refuse, name))
            continue
        module.add_parser(commands)
        # Each external module runs its own subcommand through run(args).
        commands.choices[name].set_defaults(func=module.run)


def missing_component(command: str, component: str) -> int:
    """Say that ``dutydesk COMMAND`` cannot run without ``component``; return the status."""
    err(f"dutydesk {command}: this installation lacks the {component} component")
    return EXIT_USAGE


def _refuse(name: str, _args: argparse.Namespace) -> int:
    return missing_component(name, name)
