"""Recordings the live server makes: around every incident (once, also across a restart),
on demand (``exercise.record``), and ingest going on when the journal's disk fails."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.authz.principal import Principal
from backend.eventlog import log as eventlog
from backend.exercises.library import recordings_dir
from backend.exercises.recording import Jt808Input, LoggedEvent, decode_recording
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from backend.storage.models import EventRecord
from devices.jt808.messages import GeneralResult
from devices.jt808.simulator import SimulatedTruck, TruckPlan
from realtime.client import CommandError
from realtime.event_kinds import EventKind
from realtime.incident_states import IncidentAction
from realtime.protocol import ErrorCode, RecordingResult, RecordingSource, RecordWindow, Role
from tests.backend.conftest import USERS, open_console

PHONE = "13900000099"
PLATE = "沪A0099"
ServerFactory = Callable[[], DutyDeskServer]


@pytest.fixture
def make_server(db_url: str, tmp_path: Path) -> ServerFactory:
    cipher = FieldCipher.generate()

    def make() -> DutyDeskServer:
        return DutyDeskServer(
            ServerConfig(
                db_url=db_url,
                data_dir=tmp_path,
                port=0,
                cipher=cipher,
                jt808_listen=("127.0.0.1", 0),
                console_rate_per_second=1000.0,
                console_rate_burst=1000,
                record_before=dt.timedelta(minutes=1),
                record_after=dt.timedelta(seconds=0.3),
            )
        )

    return make


@pytest.fixture
async def server(make_server: ServerFactory) -> AsyncIterator[DutyDeskServer]:
    srv = make_server()
    await srv.start()
    for username, password, role in USERS:
        await srv.users.add_user(username, password, role)
    await srv.users.add_user("trainer1", "pw-trainer1", Role.TRAINER)
    await srv.registry.add("jt808", PHONE, "槽车", plate=PLATE)
    yield srv
    await srv.close()


async def _report(server: DutyDeskServer, *, sos: bool = False) -> None:
    truck = SimulatedTruck(PHONE, PLATE, TruckPlan(), reply_timeout=5)
    try:
        await truck.connect("127.0.0.1", server.jt808_port)
        if sos:
            truck.press_sos()
        assert await truck.report() is GeneralResult.SUCCESS
    finally:
        await truck.close()


async def _incident(server: DutyDeskServer, title: str) -> int:
    principal = Principal(1, "officer1", "", Role.OFFICER, None, "")
    opened = await server.incidents.open_incident(
        principal, type_code="building_fire", title=title, jurisdiction="310101"
    )
    await server.incidents.transition(
        principal, opened.id, IncidentAction.CLOSE, opened.version, "已处置"
    )
    return opened.id


async def test_an_incident_is_recorded_once_after_it_closes_also_across_a_restart(
    make_server: ServerFactory, server: DutyDeskServer
) -> None:
    auto = server.recording.auto
    assert auto is not None
    await _report(server)
    first = await _incident(server, "储罐泄漏")
    assert await auto.record_due() == [], "not before the window after the close has passed"
    await asyncio.sleep(0.4)
    assert server.recording.journal is not None
    await server.recording.journal.flush()
    (path,) = await auto.record_due()
    assert path.parent == recordings_dir(server.config.data_dir)
    assert path.name.startswith(f"incident-{first}-")
    assert path.name.endswith(".ddrec")
    recording = decode_recording(path.read_bytes())
    header = recording.header
    assert (header.source, header.incidents, header.masked) == (
        RecordingSource.INCIDENT,
        [first],
        True,
    )
    assert header.window_to - header.window_from >= dt.timedelta(minutes=1)
    assert any(isinstance(e, Jt808Input) for e in recording.entries), "the truck's frames"
    kinds = [e.event["kind"] for e in recording.entries if isinstance(e, LoggedEvent)]
    assert "incident.opened" in kinds or any(k.startswith("incident.") for k in kinds)
    assert await auto.record_due() == [], "never twice"
    async with server.sessions() as session:
        made = list(
            await session.scalars(
                select(EventRecord).where(EventRecord.kind == EventKind.RECORDING_MADE.value)
            )
        )
    assert len(made) == 1
    assert path.name in eventlog.event_of_record(made[0]).note

    # A second incident closes, and the server stops before its recording is due.
    second = await _incident(server, "槽车侧翻")
    await server.close()
    await asyncio.sleep(0.4)
    restarted = make_server()
    await restarted.start()
    try:
        assert restarted.recording.auto is not None
        # The restarted server's own loop may have written it already: either way it is
        # written once, not forgotten and not repeated.
        written = await restarted.recording.auto.record_due()
        assert [p.name.split("-")[1] for p in written] in ([], [str(second)])
        assert await restarted.recording.auto.record_due() == []
        names = sorted(p.name for p in recordings_dir(server.config.data_dir).iterdir())
        assert [n.split("-")[1] for n in names] == sorted([str(first), str(second)])
    finally:
        await restarted.close()


async def test_exercise_record_by_role_window_and_rate(server: DutyDeskServer) -> None:
    await _report(server)
    now = dt.datetime.now(dt.UTC)
    window = RecordWindow(req="", from_at=now - dt.timedelta(minutes=5), to_at=now)
    officer = await open_console(server, "officer1", "pw-officer1")
    try:
        with pytest.raises(CommandError) as refused:
            await officer.client.request(window)
        assert refused.value.code is ErrorCode.FORBIDDEN
    finally:
        await officer.close()

    trainer = await open_console(server, "trainer1", "pw-trainer1")
    try:
        for bad, why in (
            (
                RecordWindow(req="", from_at=now - dt.timedelta(hours=25), to_at=now),
                "longer than 24 h",
            ),
            (
                RecordWindow(req="", from_at=now, to_at=now + dt.timedelta(hours=1)),
                "in the future",
            ),
            (RecordWindow(req="", from_at=now, to_at=now - dt.timedelta(hours=1)), "end after"),
        ):
            with pytest.raises(CommandError) as refused:
                await trainer.client.request(bad)
            assert refused.value.code is ErrorCode.VALIDATION
            assert why in refused.value.message
        answer = await trainer.client.request(window)
        assert isinstance(answer, RecordingResult)
        info = answer.recording
        assert info.source is RecordingSource.WINDOW
        assert info.masked, "a trainer may not see callers' details"
        assert info.inputs >= 2
        path = recordings_dir(server.config.data_dir) / f"{info.name}.ddrec"
        assert decode_recording(path.read_bytes()).header.recorded_by == "trainer1"
        with pytest.raises(CommandError) as again:
            await trainer.client.request(window)
        assert again.value.code is ErrorCode.RATE_LIMITED
    finally:
        await trainer.close()

    supervisor = await open_console(server, "supervisor1", "pw-supervisor1")
    try:
        answer = await supervisor.client.request(window)
        assert isinstance(answer, RecordingResult)
        assert not answer.recording.masked, "a supervisor may reveal personal data"
    finally:
        await supervisor.close()


async def test_a_failing_journal_disk_costs_no_alarm(
    server: DutyDeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="backend.exercises.journal")
    journal = server.recording.journal
    assert journal is not None
    journal.directory.mkdir(parents=True, exist_ok=True)
    for path in journal.directory.iterdir():
        path.unlink()
    journal.directory.rmdir()
    journal.directory.write_text("not a folder")  # every write fails from now on
    console = await open_console(server, "supervisor1", "pw-supervisor1")
    try:
        for _ in range(3):
            await _report(server, sos=True)
        await console.recorder.wait_for(
            lambda: any(e.kind == "alarm.raised" for e in console.recorder.events)
        )
        with pytest.raises(FileExistsError):
            await journal.flush()
        await asyncio.sleep(0.3)
    finally:
        await console.close()
    warnings = [r.getMessage() for r in caplog.records if r.name == "backend.exercises.journal"]
    assert len(warnings) == 1, warnings
    assert "cannot write" in warnings[0]
