"""Storage failures injected at the edge we do not own: the database driver's calls.

:func:`fail_inserts` makes the next ``INSERT INTO <table>`` statements fail as a lost
connection or a locked database would (through SQLAlchemy's cursor events, so every
service that writes through the engine sees a real ``OperationalError``);
:func:`fail_telemetry` makes the telemetry group commit's next driver calls fail.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.server.app import DutyDeskServer


class Injected:
    """How many failures are left to inject, and how many were."""

    def __init__(self, times: int) -> None:
        self.left = times
        self.injected = 0

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        self.injected += 1
        return True


@contextlib.contextmanager
def fail_inserts(engine: AsyncEngine, table: str, times: int = 1) -> Iterator[Injected]:
    """Fail the next ``times`` INSERTs into ``table`` with an ``OperationalError``."""
    injected = Injected(times)
    prefix = f"INSERT INTO {table} "

    def before_cursor_execute(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if statement.startswith(prefix) and injected.take():
            raise OperationalError(statement, parameters, ConnectionError("injected failure"))

    event.listen(engine.sync_engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield injected
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before_cursor_execute)


def fail_telemetry(
    server: DutyDeskServer, monkeypatch: pytest.MonkeyPatch, times: int = 1
) -> Injected:
    """Fail the next ``times`` telemetry commits as a lost database connection would."""
    injected = Injected(times)
    # The writer talks to the driver through one of these, depending on the database.
    target = server.telemetry._sqlite or server.telemetry._copy
    assert target is not None
    real_insert = target.insert

    async def insert(readings: list[Any], positions: list[Any]) -> None:
        if injected.take():
            raise ConnectionError("connection to the database lost (injected)")
        await real_insert(readings, positions)

    monkeypatch.setattr(target, "insert", insert)
    return injected


@contextlib.contextmanager
def database_down(engine: AsyncEngine) -> Iterator[Injected]:
    """Fail every statement sent through ``engine`` while the block runs (an outage)."""
    injected = Injected(2**62)

    def before_cursor_execute(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        injected.take()
        raise OperationalError(statement, parameters, ConnectionError("database down (injected)"))

    event.listen(engine.sync_engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield injected
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before_cursor_execute)
