"""Issue 13.3: after a stop or a crash, a terminal's presence is unknown until it speaks.

The status a server recorded before it stopped says nothing about now: a restarted server
reports every device ``unknown`` (with when it was last heard), never a stale ``online``,
and the first status a terminal gives after the restart is an event even when it equals
the one recorded before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from devices.observations import DeviceStatusChanged, Position
from realtime.protocol import DevicesResult, DeviceView, ListDevices, Presence, Role, presence_of
from tests.backend.conftest import open_console

PHONE = "13912345678"
T0 = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)


def _config(db_url: str, tmp_path: Path, cipher: FieldCipher) -> ServerConfig:
    return ServerConfig(db_url=db_url, data_dir=tmp_path, port=0, cipher=cipher)


@asynccontextmanager
async def _running(config: ServerConfig) -> AsyncIterator[DutyDeskServer]:
    server = DutyDeskServer(config)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def _device(server: DutyDeskServer) -> DeviceView:
    device = await server.registry.find("jt808", PHONE)
    assert device is not None
    return device


async def test_a_restarted_server_reports_presence_unknown_until_the_terminal_speaks(
    db_url: str, tmp_path: Path
) -> None:
    config = _config(db_url, tmp_path, FieldCipher.generate())
    async with _running(config) as first:
        await first.users.add_user("officer1", "pw-officer1", Role.OFFICER)
        await first.registry.add("jt808", PHONE, "液氨槽车", plate="苏A·D8821")
        assert presence_of(await _device(first)) is Presence.UNKNOWN, "never heard yet"
        await first.jt808_ingest.submit(
            DeviceStatusChanged(device=PHONE, online=True, at=T0, reason="authenticated")
        )
        online = await _device(first)
        assert online.presence is Presence.ONLINE
        assert online.online
    # The server stopped with the terminal online (as after kill -9: nobody marked it off).

    async with _running(config) as second:
        stale = await _device(second)
        assert stale.presence is Presence.UNKNOWN, "not a stale online"
        assert not stale.online
        assert stale.last_seen == T0, "the console can show when it was last heard"
        console = await open_console(second)
        try:
            listed = await console.client.request(ListDevices(req=""))
            assert isinstance(listed, DevicesResult)
            assert [presence_of(d) for d in listed.devices] == [Presence.UNKNOWN]

            # It speaks again: online, and the consoles are told so (an event, although
            # the status recorded before the restart was "online" too).
            now = dt.datetime.now(dt.UTC)
            await second.jt808_ingest.submit(
                DeviceStatusChanged(device=PHONE, online=True, at=now, reason="authenticated")
            )
            await console.recorder.wait_for(
                lambda: any(e.kind == "device.online" for e in console.recorder.events)
            )
            (event,) = [e for e in console.recorder.events if e.kind == "device.online"]
            assert event.device is not None
            assert event.device.presence is Presence.ONLINE
            assert (await _device(second)).presence is Presence.ONLINE
        finally:
            await console.close()


async def test_positions_alone_do_not_make_a_stale_status_current(
    db_url: str, tmp_path: Path
) -> None:
    config = _config(db_url, tmp_path, FieldCipher.generate())
    async with _running(config) as first:
        await first.registry.add("jt808", PHONE, "液氨槽车")
        await first.jt808_ingest.submit(
            DeviceStatusChanged(device=PHONE, online=False, at=T0, reason="silent")
        )
        assert (await _device(first)).presence is Presence.OFFLINE
    async with _running(config) as second:
        assert (await _device(second)).presence is Presence.UNKNOWN
        await second.jt808_ingest.submit(Position(device=PHONE, at=T0, lat=32.0, lon=118.8))
        assert (await _device(second)).presence is Presence.UNKNOWN
        await second.jt808_ingest.submit(
            DeviceStatusChanged(device=PHONE, online=False, at=T0, reason="silent")
        )
        assert (await _device(second)).presence is Presence.OFFLINE


def test_views_from_older_servers_read_presence_from_online() -> None:
    old = DeviceView(id=1, kind="jt808", identity=PHONE, name="x", online=True)
    assert presence_of(old) is Presence.ONLINE
    assert presence_of(DeviceView(id=1, kind="jt808", identity=PHONE, name="x")) is (
        Presence.OFFLINE
    )
