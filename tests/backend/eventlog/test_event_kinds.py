"""Every kind the backend writes to the event log is an :class:`EventKind` member.

The event log's ``append``/``Draft`` take an ``EventKind`` (mypy checks the callers); this
test reads the backend's source so that a string literal slipped past the types, or a
member nobody writes any more, is caught too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from realtime.event_kinds import EventKind

BACKEND_DIR = Path(__file__).resolve().parents[3] / "backend"
KIND_WRITERS = frozenset({"append", "Draft", "update_from_device"})
"""Calls whose ``kind=`` argument becomes an event's kind."""


def backend_trees() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(BACKEND_DIR.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def called_name(call: ast.Call) -> str:
    function = call.func
    if isinstance(function, ast.Attribute):
        return function.attr
    return function.id if isinstance(function, ast.Name) else ""


def kinds_written() -> Iterator[tuple[Path, ast.expr]]:
    """Every ``kind=`` value passed to an event writer in the backend."""
    for path, tree in backend_trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and called_name(node) in KIND_WRITERS:
                for keyword in node.keywords:
                    if keyword.arg == "kind":
                        yield path, keyword.value


def members_named(value: ast.expr) -> Iterator[str]:
    """The ``EventKind.X`` names inside an expression (a conditional names two)."""
    for node in ast.walk(value):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name | ast.Attribute)
            and (ast.unparse(node.value).split(".")[-1] == "EventKind")
        ):
            yield node.attr


def test_the_backend_writes_kinds_only_as_members() -> None:
    written = list(kinds_written())
    assert written, "no event writers found: did the backend's layout change?"
    literals = [
        f"{path.relative_to(BACKEND_DIR)}:{value.lineno}: {ast.unparse(value)}"
        for path, value in written
        for node in ast.walk(value)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    assert literals == [], "write EventKind members, not strings"
    named = {name for _path, value in written for name in members_named(value)}
    assert named <= set(EventKind.__members__), named - set(EventKind.__members__)


def test_every_member_is_written_somewhere() -> None:
    named: set[str] = set()
    for _path, tree in backend_trees():
        for node in ast.walk(tree):
            named.update(members_named(node) if isinstance(node, ast.Attribute) else ())
    assert set(EventKind.__members__) - named == set(), "a kind nobody writes"


def test_no_event_code_is_spelt_as_a_string_in_the_backend() -> None:
    codes = {kind.value for kind in EventKind}
    # A migration is history: it names the stored values as they were when it was written
    # (a later rename of a member must not change what an old migration reads).
    migrations = BACKEND_DIR / "storage" / "migrations"
    spelt = [
        f"{path.relative_to(BACKEND_DIR)}:{node.lineno}: {node.value}"
        for path, tree in backend_trees()
        if not path.is_relative_to(migrations)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in codes
    ]
    assert spelt == []
