"""The chat panel against a real server: the command centre and the fire desk exchange a
message with a photo (made with Qt), each sees it, the photo opens, the read receipt
shows; a file that is not a photo is refused before it leaves the console."""

from __future__ import annotations

import functools
import hashlib
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from backend.incidents.catalogue import load_catalogue
from backend.incidents.service import IncidentService
from backend.server.testing import ServerThread
from backend.storage.models import AttachmentRecord
from desktop.incidents.chat import MESSAGES_MIN_LINES, ChatPanel
from desktop.service import ConsoleService
from realtime.client import ConnectionState
from realtime.incident_states import AssigneeKind
from realtime.protocol import MAX_UPLOAD_CHUNK_BYTES, Role
from tests.desktop.conftest import ignore_offscreen_quirks, wait_until

Run = Callable[..., Any]
AREA = "330106"


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread(users=()) as running:
        running.add_user("centre", "pw-centre-desk", Role.OFFICER, jurisdiction=AREA)
        running.add_user("fire_desk", "pw-fire-desk", Role.AGENCY, agency="fire")
        running.add_user("police_desk", "pw-police-desk", Role.AGENCY, agency="police")
        yield running


def open_incident(server: ServerThread) -> int:
    """An incident with a task for the fire agency (through the incident service)."""
    incidents = IncidentService(server.server.sessions, server.server.writer, load_catalogue())
    admin = server.add_user("opener", "pw-opener-admin", Role.ADMIN)
    view = server.call(
        incidents.open_incident(
            admin, type_code="hazchem_leak", title="液氨泄漏", jurisdiction=AREA
        )
    )
    server.call(
        incidents.send_task(admin, view.id, assignee_kind=AssigneeKind.AGENCY, assignee_ref="fire")
    )
    return view.id


def _has_messages(panel: ChatPanel, count: int) -> bool:
    return len(panel.state.messages) == count


def photo(path: Path) -> bytes:
    """A real JPEG photo, 640×480 of noise (so that it takes many chunks), made with Qt."""
    pixels = random.Random(15).randbytes(640 * 480 * 4)
    image = QImage(pixels, 640, 480, QImage.Format.Format_RGB32)
    assert image.save(str(path))  # the format from the name: JPEG
    data = path.read_bytes()
    assert len(data) > 4 * MAX_UPLOAD_CHUNK_BYTES
    return data


async def logged_in(server: ServerThread, username: str, password: str) -> ConsoleService:
    service = ConsoleService(telemetry_topics=())
    service.start(server.console_url, username, password)
    await wait_until(lambda: service.state is ConnectionState.LIVE, what=f"{username} live")
    return service


def shown_panel(
    qtbot: QtBot,
    service: ConsoleService,
    incident_id: int,
    picture: Path,
    opened: list[Path],
    folder: Path,
) -> ChatPanel:
    """A chat panel whose file dialog picks ``picture`` and whose viewer records."""
    panel = ChatPanel(
        service,
        incident_id,
        choose_file=lambda _parent: str(picture),
        open_file=opened.append,
        download_folder=folder,
    )
    qtbot.addWidget(panel)
    panel.show()
    return panel


def assert_readable(panel: ChatPanel, shown: str) -> None:
    """The author's agency by its name, not its code; the conversation keeps its room."""
    assert "fire_desk（Fire and rescue）" in shown.splitlines()[0]
    lines = panel.fontMetrics().lineSpacing()
    assert panel.messages_view.height() >= MESSAGES_MIN_LINES * lines
    assert panel.editor.maximumHeight() < panel.messages_view.minimumHeight()
    assert not panel.status.isVisible()  # no empty line under the buttons


@ignore_offscreen_quirks
def test_two_desks_exchange_a_photo_and_see_the_read_receipt(
    server: ServerThread, qtbot: QtBot, run: Run, tmp_path: Path
) -> None:
    incident_id = open_incident(server)
    picture = tmp_path / "现场照片.jpg"
    picture_bytes = photo(picture)
    opened: list[Path] = []

    async def scenario() -> None:
        centre = await logged_in(server, "centre", "pw-centre-desk")
        fire = await logged_in(server, "fire_desk", "pw-fire-desk")
        try:
            panels = [
                shown_panel(qtbot, service, incident_id, picture, opened, tmp_path / folder)
                for service, folder in ((centre, "c"), (fire, "f"))
            ]
            centre_panel, fire_panel = panels
            # The fire desk attaches the photo (it goes up in chunks) and sends.
            progress: list[int] = []
            fire_panel.progress.valueChanged.connect(progress.append)
            fire_panel.attach()
            await wait_until(lambda: len(fire_panel.pending) == 1, what="photo uploaded")
            assert len(progress) > 4  # chunk by chunk
            assert progress[-1] == len(picture_bytes)
            assert not fire_panel.progress.isVisible()
            attachment = fire_panel.pending[0]
            assert attachment.size == len(picture_bytes)
            assert attachment.sha256 == hashlib.sha256(picture_bytes).hexdigest()
            fire_panel.editor.setPlainText("已到场，罐体左侧泄漏，见照片")
            fire_panel.send()
            for panel in panels:
                await wait_until(functools.partial(_has_messages, panel, 1), what="message shown")
                shown = panel.model.index(0).data()
                assert "已到场，罐体左侧泄漏，见照片" in shown
                assert "现场照片.jpg" in shown
                assert_readable(panel, shown)
            # The message's event may come before the command's answer, which clears the
            # attachments waiting and the editor.
            await wait_until(lambda: fire_panel.pending == [], what="attachments sent")
            assert fire_panel.editor.toPlainText() == ""
            # The centre answers; the fire desk sees it too.
            centre_panel.editor.setPlainText("收到，注意上风向")
            centre_panel.send()
            await wait_until(lambda: len(fire_panel.state.messages) == 2, what="answer shown")
            assert [m.author for m in fire_panel.state.messages] == ["fire_desk", "centre"]
            # Each read the other's message: the receipts show under the own message.
            first, second = (m.seq for m in fire_panel.state.messages)
            await wait_until(
                lambda: fire_panel.state.readers_of(first) == ["centre"], what="read by centre"
            )
            await wait_until(
                lambda: centre_panel.state.readers_of(second) == ["fire_desk"],
                what="read by the fire desk",
            )
            assert "centre" in fire_panel.model.index(0).data().splitlines()[-1]
            # A click on the message fetches the photo and opens it.
            centre_panel.messages_view.clicked.emit(centre_panel.model.index(0))
            await wait_until(lambda: bool(opened), what="photo opened")
            assert opened[0].read_bytes() == picture_bytes
            # A file that is not a photo is refused in the console.
            assert centre_panel.upload(tmp_path / "notes.txt") is None
            assert "PDF" in centre_panel.status.text()
            assert centre_panel.status.isVisible()
            for panel in panels:
                await panel.close_chat()
        finally:
            await centre.stop()
            await fire.stop()

    run(scenario(), timeout=60)


@ignore_offscreen_quirks
def test_a_photo_kept_under_a_misleading_name_is_saved_as_what_it_is(
    server: ServerThread, qtbot: QtBot, run: Run, tmp_path: Path
) -> None:
    """A desk opens a fetched attachment with the system's opener, which goes by the
    extension: a photo an older server kept as 现场.html must be saved as a picture."""
    incident_id = open_incident(server)
    picture = tmp_path / "现场照片.jpg"
    picture_bytes = photo(picture)
    opened: list[Path] = []

    async def scenario() -> None:
        fire = await logged_in(server, "fire_desk", "pw-fire-desk")
        try:
            panel = shown_panel(qtbot, fire, incident_id, picture, opened, tmp_path / "f")
            panel.attach()
            await wait_until(lambda: len(panel.pending) == 1, what="photo uploaded")
            kept = panel.pending[0]
            server.call(_rename(server, kept.id, "现场.html"))  # on the server's own loop
            misleading = msgspec.structs.replace(kept, filename="现场.html")
            panel.open_attachment(misleading)
            await wait_until(lambda: bool(opened), what="photo opened")
            assert opened[0].name == f"{kept.id}-现场.html.jpg"
            assert opened[0].read_bytes() == picture_bytes
            await panel.close_chat()
        finally:
            await fire.stop()

    run(scenario(), timeout=60)


async def _rename(server: ServerThread, attachment_id: int, filename: str) -> None:
    async with server.server.sessions.begin() as session:
        await session.execute(
            update(AttachmentRecord)
            .where(AttachmentRecord.id == attachment_id)
            .values(filename=filename)
        )
