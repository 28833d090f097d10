"""Remembered answers of state-changing console commands, in the database.

A console re-sends a command whose answer a lost link swallowed, with the same request id
(``req``), to whichever instance it reaches next. That instance must not act twice, so
the first run leaves two marks in ``command_answers`` (:class:`CommandAnswer`):

- a *receipt*, written inside the command's own write transaction (the event log calls
  :func:`note_applied` for the command in progress, see :func:`command_in_progress`): the
  row exists exactly when the change exists, even if the instance dies before answering;
- the *answer*, filled in once it is known (:func:`store_answer`).

A re-send finds the answer (:func:`find`) and gets it again; one that finds only the
receipt (the instance died between the commit and the answer, a matter of milliseconds)
is told it was applied, and is not run again. Rows are pruned after
:data:`KEEP_ANSWERS` (a console gives up waiting long before).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.storage.models import CommandAnswer

KEEP_ANSWERS = dt.timedelta(hours=1)
"""How long a command's answer is kept for re-sends."""

MAX_REQ = 128
"""Longer request ids are remembered in memory only (the column's width)."""
MAX_USERNAME = 64


@dataclass(frozen=True, slots=True)
class Remembered:
    """What the database knows of an earlier run of a command."""

    answer: str | None
    """The encoded answer; None: it was applied but its instance stopped before answering."""


_in_progress: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "dutydesk_command_in_progress", default=None
)


def storable(username: str, req: str) -> bool:
    """Whether (``username``, ``req``) fits the table (else it is remembered in memory)."""
    return 0 < len(req) <= MAX_REQ and 0 < len(username) <= MAX_USERNAME


@contextlib.contextmanager
def command_in_progress(username: str, req: str) -> Iterator[None]:
    """Mark the write transactions run inside as those of command ``req`` of ``username``:
    each leaves the command's receipt (see the module)."""
    token = _in_progress.set((username, req) if storable(username, req) else None)
    try:
        yield
    finally:
        _in_progress.reset(token)


async def note_applied(session: AsyncSession) -> None:
    """Write the receipt of the command in progress (if any) in ``session``'s transaction;
    the event log calls it with every batch of events it appends."""
    key = _in_progress.get()
    if key is None:
        return
    username, req = key
    sqlite = session.get_bind().dialect.name == "sqlite"
    insert = sqlite_insert if sqlite else postgresql_insert
    await session.execute(
        insert(CommandAnswer)
        .values(username=username, req=req, at=dt.datetime.now(dt.UTC), answer=None)
        .on_conflict_do_nothing(index_elements=["username", "req"])
    )


async def find(
    sessions: async_sessionmaker[AsyncSession], username: str, req: str
) -> Remembered | None:
    """What is known of an earlier run of ``req`` of ``username`` (None: it never ran)."""
    if not storable(username, req):
        return None
    async with sessions() as session:
        row = await session.scalar(
            select(CommandAnswer).where(
                CommandAnswer.username == username, CommandAnswer.req == req
            )
        )
    return None if row is None else Remembered(row.answer)


async def store_answer(
    sessions: async_sessionmaker[AsyncSession], username: str, req: str, answer: str
) -> None:
    """Keep ``answer`` for re-sends of ``req`` of ``username``."""
    if not storable(username, req):
        return
    row = {"username": username, "req": req, "at": dt.datetime.now(dt.UTC), "answer": answer}
    statement: SqliteInsert | PostgresqlInsert
    async with sessions.begin() as session:
        if session.get_bind().dialect.name == "sqlite":
            lite = sqlite_insert(CommandAnswer).values(**row)
            statement = lite.on_conflict_do_update(
                index_elements=["username", "req"], set_={"answer": lite.excluded.answer}
            )
        else:
            pg = postgresql_insert(CommandAnswer).values(**row)
            statement = pg.on_conflict_do_update(
                index_elements=["username", "req"], set_={"answer": pg.excluded.answer}
            )
        await session.execute(statement)


async def prune(sessions: async_sessionmaker[AsyncSession], now: dt.datetime) -> int:
    """Forget answers older than :data:`KEEP_ANSWERS`; return how many."""
    async with sessions.begin() as session:
        result = await session.execute(
            delete(CommandAnswer).where(CommandAnswer.at < now - KEEP_ANSWERS)
        )
    return int(getattr(result, "rowcount", 0) or 0)
