"""Render the permission table into docs/protocol.md, so it is never written twice.

The tables come from :mod:`backend.authz.policy` (roles and scope rule of each capability,
the live-stream topics, the alarm actions) joined with the command table
(:mod:`backend.server.commands`: which capability each command needs). The rendered
Markdown replaces what lies between the two marker comments in docs/protocol.md::

    python -m backend.server.permission_docs           # rewrite docs/protocol.md
    python -m backend.server.permission_docs --check   # exit 1 if it is stale

A test runs the check, so a new command or a changed row fails until the doc is rendered.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from backend.authz.policy import ACTION_ROLES, PERMISSIONS, TOPICS, Rule, Scope
from backend.server import commands
from realtime.protocol import Role

BEGIN = "<!-- permissions:begin (rendered by python -m backend.server.permission_docs) -->"
END = "<!-- permissions:end -->"
DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


class Error(Exception):
    """The document has no (or broken) markers to render between."""


def _roles(roles: Iterable[Role]) -> str:
    held = set(roles)
    return ", ".join(f"`{role}`" for role in Role if role in held)


def _tag(request: type[Any]) -> str:
    return str(request.__struct_config__.tag)


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _command_rows(routes: Iterable[commands.Route[Any, Any]]) -> list[str]:
    rows = []
    for route in routes:
        rule: Rule = PERMISSIONS[route.permission]
        rows.append(
            _row(
                f"`{_tag(route.request)}`",
                f"`{route.permission.name}`",
                _roles(rule.roles),
                f"`{rule.scope.name}`",
                rule.sees,
            )
        )
    return rows


def render() -> str:
    """The Markdown between the markers (markers included)."""
    header = _row("Command", "Permission", "Roles", "Scope", "What an allowed user gets")
    rule = "|---|---|---|---|---|"
    lines = [
        BEGIN,
        "",
        "**Scope rules** (what each `Scope` of the tables below lets a user reach):",
        "",
        _row("Scope", "Objects"),
        "|---|---|",
        *(_row(f"`{scope.name}`", scope.value) for scope in Scope),
        "",
        "**Console commands**: the role must hold the permission (else `forbidden`, "
        '"role X may not …"); the scope rule then applies to every object the command '
        "reads or changes.",
        "",
        header,
        rule,
        *_command_rows(commands.CONSOLE_COMMANDS.values()),
        "",
        "**Device messages** (`/device`):",
        "",
        header,
        rule,
        *_command_rows(commands.DEVICE_MESSAGES.values()),
        "",
        "**Alarm actions** (`alarm.transition`, `alarm.dispatch`): who may take each.",
        "",
        _row("Action", "Roles"),
        "|---|---|",
        *(_row(f"`{action}`", _roles(roles)) for action, roles in ACTION_ROLES.items()),
        "",
        "**The live stream**: what reaches each console, before and after `synced`.",
        "",
        _row("Topic", "Roles", "Scope", "What they see"),
        "|---|---|---|---|",
        *(
            _row(topic.value, _roles(row.roles), f"`{row.scope.name}`", row.sees)
            for topic, row in TOPICS.items()
        ),
        "",
        END,
    ]
    return "\n".join(lines)


def rendered(document: str) -> str:
    """``document`` with the rendered tables between its markers."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise Error(f"the document lacks the markers {BEGIN!r} … {END!r}")
    return document[:start] + render() + document[end + len(END) :]


def main(argv: list[str] | None = None) -> int:
    """Rewrite docs/protocol.md (or, with ``--check``, say whether it is stale)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the doc is stale")
    parser.add_argument("--doc", type=Path, default=DOC, help="the document (docs/protocol.md)")
    args = parser.parse_args(argv)
    document = args.doc.read_text(encoding="utf-8")
    try:
        updated = rendered(document)
    except Error as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    if args.check:
        if updated != document:
            sys.stderr.write(f"{args.doc} is stale: run python -m backend.server.permission_docs\n")
            return 1
        return 0
    if updated != document:
        args.doc.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
