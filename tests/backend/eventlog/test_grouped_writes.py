"""Bursts of registry writes (a fleet logging in after a restart) share transactions:
each request still gets its own result, failures stay within their group, and the event
log stays gap-free and chained."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.eventlog import log as eventlog
from backend.runtime import grouping
from backend.server.app import DutyDeskServer
from backend.storage.models import Device, EventRecord
from devices.jt808.messages import Register, RegisterResult
from realtime.protocol import Event

T = TypeVar("T")
T0 = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)
FLEET = 60


def _register(n: int) -> Register:
    return Register(
        province=32,
        city=100,
        maker="DDSIM",
        model="T1",
        terminal_id=f"T{n:04d}",
        plate_color=2,
        plate=f"苏A·{n:05d}",
    )


class _CountingWriter:
    """The server's event writer, counting its transactions."""

    def __init__(self, writer: eventlog.EventWriter) -> None:
        self.transactions = 0
        self._run = writer.run
        writer.run = self.run  # type: ignore[method-assign]

    async def run(self, work: Callable[[AsyncSession, list[Event]], Awaitable[T]]) -> T:
        self.transactions += 1
        return await self._run(work)


async def _verify_log(server: DutyDeskServer) -> eventlog.VerifyReport:
    async with server.sessions() as session:
        return await eventlog.verify(session)


async def test_a_fleet_logging_in_at_once_shares_a_few_transactions(
    server: DutyDeskServer,
) -> None:
    counter = _CountingWriter(server.writer)
    server.registry.auto_register = True
    phones = [f"0137{n:08d}" for n in range(FLEET)]
    results = await asyncio.gather(
        *(server.registry.register(phone, _register(n)) for n, phone in enumerate(phones))
    )
    assert all(result is RegisterResult.SUCCESS for result, _ in results)
    codes = [code for _, code in results]
    assert len(set(codes)) == FLEET, "every terminal gets its own code"
    registered = counter.transactions
    assert registered <= 3, f"{registered} transactions for {FLEET} registrations"

    # The fleet authenticates at once: a few queries, each terminal judged on its own code.
    queries: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM devices" in statement:
            queries.append(statement)

    event.listen(server.engine.sync_engine, "before_cursor_execute", record)
    try:
        checks = await asyncio.gather(
            *(
                server.registry.authenticate(phone, code)
                for phone, code in zip(phones, codes, strict=True)
            ),
            server.registry.authenticate(phones[0], codes[1]),
            server.registry.authenticate("013999999999", codes[0]),
        )
    finally:
        event.remove(server.engine.sync_engine, "before_cursor_execute", record)
    assert list(checks) == [True] * FLEET + [False, False]
    assert 1 <= len(queries) <= 3, f"{len(queries)} queries for {FLEET + 2} checks"

    await asyncio.gather(
        *(
            server.registry.set_online("jt808", phone.lstrip("0"), True, T0, "authenticated")
            for phone in phones
        )
    )
    assert counter.transactions - registered <= 3
    devices = await server.registry.list()
    assert len(devices) == FLEET
    assert all(device.online for device in devices)
    assert all(device.last_seen == T0 for device in devices)

    report = await _verify_log(server)
    assert report.ok, report.problems
    async with server.sessions() as session:
        kinds = [
            record.kind
            for record in await session.scalars(select(EventRecord).order_by(EventRecord.seq))
        ]
    assert kinds.count("device.added") == FLEET
    assert kinds.count("device.online") == FLEET


async def test_changes_within_one_group_apply_in_order(server: DutyDeskServer) -> None:
    await server.registry.add("jt808", "13900000001", "槽车一")
    await server.registry.add("jt808", "13900000002", "槽车二")
    later = T0 + dt.timedelta(seconds=5)
    # Submitted together: online then offline for one truck, a repeat for the other.
    await asyncio.gather(
        server.registry.set_online("jt808", "13900000001", True, T0, "authenticated"),
        server.registry.set_online("jt808", "13900000001", False, later, "logout"),
        server.registry.set_online("jt808", "13900000002", True, T0, "authenticated"),
        server.registry.set_online("jt808", "13900000002", True, later, "authenticated"),
        server.registry.set_online("jt808", "13999999999", True, T0, "unknown: ignored"),
    )
    devices = {device.identity: device for device in await server.registry.list()}
    assert not devices["13900000001"].online
    assert devices["13900000001"].last_seen == later
    assert devices["13900000002"].online
    async with server.sessions() as session:
        records = list(
            await session.scalars(
                select(EventRecord)
                .where(EventRecord.kind.in_(["device.online", "device.offline"]))
                .order_by(EventRecord.seq)
            )
        )
    assert [(r.kind, r.actor) for r in records] == [
        ("device.online", "13900000001"),
        ("device.offline", "13900000001"),
        ("device.online", "13900000002"),
    ]


@pytest.mark.logs_errors
async def test_a_failed_group_fails_only_its_own_requests(
    server: DutyDeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="backend")
    calls: list[int] = []
    release = asyncio.Event()

    async def work(
        session: AsyncSession, events: list[Event], requests: Sequence[int]
    ) -> list[str]:
        calls.append(len(requests))
        if len(calls) == 1:
            await release.wait()  # hold the first group so the others queue up
            return [f"first:{n}" for n in requests]
        if len(calls) == 2:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return [f"third:{n}" for n in requests]

    writes: eventlog.GroupedWrites[int, str] = eventlog.GroupedWrites(
        server.writer, work, name="test-writer"
    )
    first = asyncio.create_task(writes.submit(1))
    await asyncio.sleep(0)
    failing = [asyncio.create_task(writes.submit(n)) for n in (2, 3)]
    given_up = asyncio.create_task(writes.submit(4))
    await asyncio.sleep(0)
    given_up.cancel()  # its caller stops waiting: the others are unaffected
    release.set()
    assert await first == "first:1"
    for task in failing:
        with pytest.raises(OperationalError, match="disk I/O error"):
            await task
    with pytest.raises(asyncio.CancelledError):
        await given_up
    # The writer carries on with the next group.
    assert list(await asyncio.gather(writes.submit(5), writes.submit(6))) == ["third:5", "third:6"]
    assert calls == [1, 3, 2]
    await writes.close()
    # The failed transaction is one line (no traceback), its successor the recovery line.
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "database unavailable: a write transaction failed: disk I/O error"
        " (logged once until it recovers)"
    ]
    assert errors[0].exc_info is None
    assert any("database available again" in r.getMessage() for r in caplog.records)


async def test_a_wrong_number_of_results_is_an_error_not_a_mix_up(
    server: DutyDeskServer,
) -> None:
    async def work(
        session: AsyncSession, events: list[Event], requests: Sequence[int]
    ) -> list[int]:
        return list(requests)[:-1]

    writes: eventlog.GroupedWrites[int, int] = eventlog.GroupedWrites(
        server.writer, work, name="test-writer"
    )
    outcomes = await asyncio.gather(writes.submit(1), writes.submit(2), return_exceptions=True)
    assert all(isinstance(outcome, grouping.Error) for outcome in outcomes), outcomes
    assert "1 results for 2 requests" in str(outcomes[0])


async def test_refused_registrations_in_a_group_do_not_affect_known_terminals(
    server: DutyDeskServer,
) -> None:
    await server.registry.add("jt808", "13900000001", "槽车一", plate="苏A·00001")
    results = await asyncio.gather(
        server.registry.register("013900000001", _register(1)),
        server.registry.register("013900000099", _register(99)),
    )
    assert results[0][0] is RegisterResult.SUCCESS
    assert results[1] == (RegisterResult.NO_SUCH_TERMINAL, "")
    async with server.sessions() as session:
        identities = set(await session.scalars(select(Device.identity)))
    assert identities == {"13900000001"}
