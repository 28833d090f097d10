"""The plan checklist pane against a real server: the command centre and the fire desk
each see the level-II plan of a hazardous-chemical leak with its steps, who does each and
by when (the overdue step in red); the centre ticks a step with a note and both panes show
who and when; the fire desk's tick of a step that is not its agency's is refused in the
pane's words; a change of level brings the other plan; "open plan document" fetches the
plan's PDF and opens it."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from PySide6.QtWidgets import QGroupBox
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from backend.authz.principal import Principal
from backend.incidents.catalogue import load_catalogue
from backend.incidents.service import IncidentService
from backend.server.testing import ServerThread
from backend.storage.models import RegistryItem
from desktop.incidents.checklist import ChecklistPane
from desktop.service import ConsoleService
from realtime.client import ConnectionState
from realtime.incident_states import AssigneeKind, IncidentLevel
from realtime.protocol import Role, UploadAttachment
from tests.backend.plans.conftest import LEVEL_I, LEVEL_II, add_plan
from tests.desktop.conftest import ignore_offscreen_quirks, wait_until

Run = Callable[..., Any]
AREA = "330106"
PDF = b"%PDF-1.4\n" + "危化品泄漏Ⅱ级响应预案 正文".encode() * 100 + b"\n%%EOF\n"


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread(users=()) as running:
        running.add_user("centre", "pw-centre-desk", Role.OFFICER, jurisdiction=AREA)
        running.add_user("fire_desk", "pw-fire-desk", Role.AGENCY, agency="fire")
        yield running


def seed(server: ServerThread) -> tuple[IncidentService, Principal, int]:
    """The two plans (the level-II one with a PDF) and a level-II leak with a fire task."""
    sessions = server.server.sessions
    server.call(add_plan(sessions, "HZ-LEAK-II", "危化品泄漏Ⅱ级响应预案", LEVEL_II))
    server.call(add_plan(sessions, "HZ-LEAK-I", "危化品泄漏Ⅰ级响应预案", LEVEL_I))
    admin = server.add_user("admin1", "pw-admin1-long", Role.ADMIN)
    uploaded = server.call(
        server.server.chat.upload(
            admin,
            UploadAttachment(
                req="",
                upload_id="plan-pdf",
                plan_code="HZ-LEAK-II",
                filename="危化品泄漏预案.pdf",
                content_type="application/pdf",
                offset=0,
                data=PDF,
                final=True,
            ),
        )
    )
    assert uploaded.attachment is not None
    details = msgspec.structs.replace(LEVEL_II, documents=[str(uploaded.attachment.id)])

    async def attach() -> None:
        async with sessions.begin() as session:
            await session.execute(
                update(RegistryItem)
                .where(RegistryItem.code == "HZ-LEAK-II")
                .values(details=msgspec.to_builtins(details))
            )

    server.call(attach())
    incidents = IncidentService(sessions, server.server.writer, load_catalogue())
    view = server.call(
        incidents.open_incident(
            admin,
            type_code="hazchem_leak",
            title="液氯储罐泄漏",
            jurisdiction=AREA,
            level=IncidentLevel.II,
        )
    )
    server.call(
        incidents.send_task(admin, view.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="fire")
    )
    return incidents, admin, view.id


def shows(pane: ChecklistPane, plan_code: str) -> bool:
    return plan_code in pane.tables


async def logged_in(server: ServerThread, username: str, password: str) -> ConsoleService:
    service = ConsoleService(telemetry_topics=())
    service.start(server.console_url, username, password)
    await wait_until(lambda: service.state is ConnectionState.LIVE, what=f"{username} live")
    return service


async def fire_desk_ticks(fire_pane: ChecklistPane, centre_pane: ChecklistPane) -> None:
    """The fire desk may tick only the fire step; the centre sees its tick."""
    # Only its agency's box is offered; the server refuses the others anyway.
    assert fire_pane.step_is_offered("HZ-LEAK-II", "s2")
    assert not fire_pane.step_is_offered("HZ-LEAK-II", "s3")
    fire_pane.tables["HZ-LEAK-II"].cellClicked.emit(2, 0)
    assert fire_pane.active_dialog is None  # nothing asked, nothing sent
    await fire_pane.tick("HZ-LEAK-II", "s3", done=True)
    assert "only its agency's steps" in fire_pane.status.text()
    assert not fire_pane.step_is_checked("HZ-LEAK-II", "s3")
    await fire_pane.tick("HZ-LEAK-II", "s2", done=True, note="已出动")
    await wait_until(
        lambda: centre_pane.step_is_checked("HZ-LEAK-II", "s2"), what="fire tick shown"
    )
    assert centre_pane.step_text("HZ-LEAK-II", "s2", "ticked").startswith("fire_desk")


@ignore_offscreen_quirks
def test_two_desks_follow_the_plan_checklist_of_a_leak(
    server: ServerThread, qtbot: QtBot, run: Run, tmp_path: Path
) -> None:
    incidents, admin, incident_id = seed(server)
    opened: list[Path] = []
    notes: list[str] = []

    def answer_note(prompt: str, then: Callable[[str], None]) -> None:
        notes.append(prompt)
        then("已电话报告区长")

    # Twenty minutes on: the ten-minute step is overdue, the thirty-minute one is not.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=20)

    async def scenario() -> None:
        centre = await logged_in(server, "centre", "pw-centre-desk")
        fire = await logged_in(server, "fire_desk", "pw-fire-desk")
        try:
            centre_pane = ChecklistPane(
                centre,
                incident_id,
                ask_note=answer_note,
                open_file=opened.append,
                download_folder=tmp_path / "plans",
                clock=lambda: later,
            )
            fire_pane = ChecklistPane(fire, incident_id, clock=lambda: later)
            panes = (centre_pane, fire_pane)
            for pane in panes:
                qtbot.addWidget(pane)
                pane.show()
                await wait_until(functools.partial(shows, pane, "HZ-LEAK-II"), what="plan shown")
            box = centre_pane.tables["HZ-LEAK-II"].parentWidget()
            assert isinstance(box, QGroupBox)
            assert box.title() == "危化品泄漏Ⅱ级响应预案 (HZ-LEAK-II) · response level II"
            assert centre_pane.step_text("HZ-LEAK-II", "s2", "role") == "Fire and rescue"
            assert centre_pane.step_text("HZ-LEAK-II", "s1", "role") == "总指挥"
            assert centre_pane.step_is_red("HZ-LEAK-II", "s1")
            assert not centre_pane.step_is_red("HZ-LEAK-II", "s2")
            assert centre_pane.step_text("HZ-LEAK-II", "s4", "due") == "—"

            # The centre clicks the tick box: a note is asked, the tick goes out, both show it.
            table = centre_pane.tables["HZ-LEAK-II"]
            table.cellClicked.emit(0, 0)
            assert len(notes) == 1
            for pane in panes:
                await wait_until(
                    functools.partial(pane.step_is_checked, "HZ-LEAK-II", "s1"),
                    what="tick shown",
                )
                assert pane.step_text("HZ-LEAK-II", "s1", "ticked").startswith("centre")
                assert pane.step_text("HZ-LEAK-II", "s1", "note") == "已电话报告区长"
                assert not pane.step_is_red("HZ-LEAK-II", "s1")

            await fire_desk_ticks(fire_pane, centre_pane)

            # The document opens from the pane.
            centre_pane.document_buttons["HZ-LEAK-II"].click()
            await wait_until(lambda: bool(opened), what="document opened")
            assert opened[0].read_bytes() == PDF
            assert opened[0].name.endswith("危化品泄漏预案.pdf")

            # Level I: the other plan, in both panes.
            version = server.call(incidents.get_incident(admin, incident_id)).version
            server.call(incidents.change(admin, incident_id, version, level=IncidentLevel.I))
            for pane in panes:
                await wait_until(functools.partial(shows, pane, "HZ-LEAK-I"), what="level I plan")
                assert "HZ-LEAK-II" not in pane.tables
            for pane in panes:
                await pane.close_checklist()
        finally:
            await centre.stop()
            await fire.stop()

    run(scenario(), timeout=60)
