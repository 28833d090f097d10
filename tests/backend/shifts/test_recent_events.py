"""``events.recent``: the event log at login, over a real server. The window starts at the
user's roster shift (else 12 h back), ``since`` only narrows it, the newest ``limit``
events come oldest first with ``more`` set, and each event is scoped as the live stream
is (a neighbouring district and an agency desk see nothing of the district's alarms)."""

from __future__ import annotations

import asyncio
import datetime as dt

import msgspec
import pytest

from backend.authz.principal import Principal
from backend.eventlog import recent as recent_module
from backend.server.app import DutyDeskServer
from realtime.client import CommandError
from realtime.protocol import (
    CreateAlarm,
    ErrorCode,
    Ping,
    Pong,
    RecentEvents,
    RecentEventsResult,
    RecentWindow,
)
from realtime.states import AlarmLevel
from tests.backend.conftest import Console, open_console
from tests.backend.shifts.conftest import DISTRICT, password

HEADER = "date,jurisdiction,agency,position,username,start,end\n"


async def principal(server: DutyDeskServer, username: str) -> Principal:
    (found,) = [user for user in await server.users.list_users() if user.username == username]
    return found


async def raise_alarm(server: DutyDeskServer, title: str) -> int:
    alarm = await server.alarms.create_manual(
        await principal(server, "district1"),
        CreateAlarm(
            req="", alarm_type="fire", level=AlarmLevel.RED, title=title, jurisdiction=DISTRICT
        ),
    )
    return alarm.id


async def recent(console: Console, **fields: object) -> RecentEventsResult:
    answer = await console.client.request(RecentEvents(req="", **fields))  # type: ignore[arg-type]
    assert isinstance(answer, RecentEventsResult)
    return answer


def titles(answer: RecentEventsResult) -> list[str]:
    return [event.alarm.title for event in answer.events if event.alarm is not None]


async def test_the_window_starts_at_the_shift_and_is_scoped(grid: DutyDeskServer) -> None:
    await raise_alarm(grid, "交班前仓库冒烟")
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).replace(microsecond=0)
    end = start + dt.timedelta(hours=8)
    await grid.roster.import_csv(
        HEADER + f"{start.date()},{DISTRICT},,officer,district1,{start.isoformat()},"
        f"{end.isoformat()}\n"
    )
    await asyncio.sleep((start - dt.datetime.now(dt.UTC)).total_seconds() + 0.05)
    await raise_alarm(grid, "本班化工泄漏")

    on_shift = await open_console(grid, "district1", password("district1"))
    off_roster = await open_console(grid, "district2", password("district2"))
    neighbour = await open_console(grid, "neighbour", password("neighbour"))
    fire = await open_console(grid, "fire_desk", password("fire_desk"))
    try:
        mine = await recent(on_shift)
        assert (mine.window, mine.since) == (RecentWindow.SHIFT, start)
        assert titles(mine) == ["本班化工泄漏"]
        assert not mine.more

        whole = await recent(off_roster)
        assert whole.window is RecentWindow.HOURS
        assert titles(whole) == ["交班前仓库冒烟", "本班化工泄漏"]
        seqs = [event.seq for event in whole.events]
        assert seqs == sorted(seqs)

        # Another district and an agency desk the alarms were never shared with: nothing.
        assert titles(await recent(neighbour)) == []
        assert titles(await recent(fire)) == []
    finally:
        for console in (on_shift, off_roster, neighbour, fire):
            await console.close()


async def test_since_narrows_and_the_limit_keeps_the_newest(grid: DutyDeskServer) -> None:
    for number in range(5):
        await raise_alarm(grid, f"警情{number}")
    console = await open_console(grid, "district2", password("district2"))
    try:
        newest = await recent(console, limit=2)
        assert titles(newest) == ["警情3", "警情4"]
        assert newest.more

        cut = newest.events[0].at
        narrowed = await recent(console, since=cut)
        assert narrowed.window is RecentWindow.SINCE
        assert titles(narrowed) == ["警情3", "警情4"]

        # A since before the window's start does not widen it.
        wide = await recent(console, since=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        assert wide.window is RecentWindow.HOURS
    finally:
        await console.close()


@pytest.mark.parametrize("limit", [0, 501, -1])
async def test_a_bad_limit_is_refused_and_the_session_goes_on(
    grid: DutyDeskServer, limit: int
) -> None:
    console = await open_console(grid, "district2", password("district2"))
    try:
        with pytest.raises(CommandError) as refused:
            await console.client.request(RecentEvents(req="", limit=limit))
        assert refused.value.code is ErrorCode.BAD_MESSAGE
        assert "limit" in str(refused.value)
        assert isinstance(await console.client.request(Ping(req="")), Pong)
    finally:
        await console.close()


async def test_an_answer_stays_within_its_byte_budget(
    grid: DutyDeskServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However large the window's events, one answer stays well inside what a client
    accepts: the newest that fit, and ``more``."""
    for number in range(4):
        await raise_alarm(grid, f"大事件{number}" + "详" * 150)
    console = await open_console(grid, "district2", password("district2"))
    try:
        everything = await recent(console)
        sizes = [len(msgspec.json.encode(event)) for event in everything.events]
        monkeypatch.setattr(recent_module, "BYTE_BUDGET", sizes[-1] + sizes[-2] + sizes[-3] // 2)
        cut = await recent(console)
        assert titles(cut) == titles(everything)[-2:]
        assert cut.more
    finally:
        await console.close()
