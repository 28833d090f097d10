"""Plan documents (预案文档) from the registry panel against a real server (a thread on
127.0.0.1, fresh database): the command centre uploads a PDF of several chunks to a plan,
the plan is saved with it and lists it by its file name, and it opens byte for byte; the
fire desk of the plan's district sees the document arrive live and opens it, but is not
offered an upload. A file that is not a PDF is refused before anything is sent, a file
that only claims to be one is refused by the server, and the plan keeps what it had."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from backend.server.testing import ServerThread
from desktop.i18n import install_translators
from desktop.main_window import MainWindow
from desktop.registry.pickers import AgencyPicker, JurisdictionPicker, TypeCodesPicker
from desktop.registry.plan_documents import PlanDocumentsBox, with_document
from desktop.registry.state import RegistryState
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.client import ConnectionState
from realtime.protocol import (
    MAX_UPLOAD_CHUNK_BYTES,
    ItemKind,
    PlanDetails,
    PlanStep,
    RegistryItemInput,
    Role,
)
from tests.desktop.conftest import ignore_offscreen_quirks, wait_until
from tests.desktop.registry.factories import item

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]
WEST = "330106"
"""Hangzhou's Xihu district."""
PLAN = "P-XH-01"


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        running.add_user("fire-west", "pw-fire-west", Role.AGENCY, agency="fire", jurisdiction=WEST)
        yield running


@asynccontextmanager
async def console(
    server: ServerThread, qtbot: QtBot, settings: QSettings, username: str
) -> AsyncIterator[MainWindow]:
    """A console window logged in as ``username``, its registry panel open on plans."""
    service = ConsoleService()
    window = MainWindow(service, AlarmSounder(use_audio=False), settings, username=username)
    qtbot.addWidget(window)
    window.show()
    service.start(server.console_url, username, f"pw-{username}")
    try:
        await wait_until(lambda: service.state is ConnectionState.LIVE, what=f"{username} live")
        window.registry.show()
        window.registry.show_kind(ItemKind.PLAN)
        desk = window.registry.desk
        await wait_until(lambda: ItemKind.PLAN in desk.state.loaded_kinds, what="plans read")
        yield window
    finally:
        await window.registry.panel.documents.close_box()
        await service.stop()


def documents_of(window: MainWindow) -> list[str]:
    item = window.registry.desk.state.item(ItemKind.PLAN, PLAN)
    assert item is not None
    assert isinstance(item.details, PlanDetails)
    return list(item.details.documents)


def a_plan() -> RegistryItemInput:
    return RegistryItemInput(
        code=PLAN,
        name="西湖区危化品泄漏处置方案",
        jurisdiction=WEST,
        agency="emergency",
        details=PlanDetails(
            type_codes=["hazchem_leak"],
            steps=[PlanStep(id="s1", text="侦检堵漏", role="fire")],
        ),
    )


def test_a_pdf_is_uploaded_to_a_plan_listed_and_opened(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run, tmp_path: Path
) -> None:
    # Three chunks' worth: the upload goes in pieces, in order.
    content = b"%PDF-1.4\n" + bytes(range(256)) * (MAX_UPLOAD_CHUNK_BYTES * 2 // 256 + 8)
    manual = tmp_path / "处置手册.pdf"
    manual.write_bytes(content)

    async def scenario() -> None:
        async with (
            console(server, qtbot, settings, "officer1") as centre,
            console(server, qtbot, settings, "fire-west") as west,
        ):
            document = await upload_and_open(centre, manual, content, tmp_path)
            await the_form_picks_from_the_server(centre)
            await the_district_desk_reads(west, document, content, tmp_path)
            await refusals_keep_the_plan(centre, west, document, manual, tmp_path)

    run(scenario())


async def upload_and_open(centre: MainWindow, manual: Path, content: bytes, tmp_path: Path) -> str:
    """The command centre uploads ``manual`` (``content``) to a new plan and opens it;
    return the document's id."""
    panel = centre.registry.panel
    panel.desk.save(a_plan(), None)
    await wait_until(lambda: panel.select(PLAN), what="plan created")
    box = panel.documents
    assert box.isVisible()
    assert box.upload_button.isVisible()
    assert box.upload_button.text() == "Upload plan document…"
    assert box.document_texts() == ["No documents yet."]

    # Not a PDF: refused here, nothing sent.
    notes = tmp_path / "notes.txt"
    notes.write_text("not a plan")
    assert box.upload(notes) is None
    assert box.status.text() == "Only PDF files can be a plan's document."

    # A PDF in three chunks: the plan is saved with the new attachment.
    task = box.upload(manual)
    assert task is not None
    assert box.progress.isVisible()
    await task
    assert not box.progress.isVisible()
    assert box.progress.value() == len(content)
    [document] = documents_of(centre)
    assert box.document_texts() == ["处置手册.pdf（66 KB）"]
    assert box.status.text() == "处置手册.pdf attached to the plan."
    await wait_until(lambda: len(panel.history_rows()) == 2, what="history")
    assert "Documents" in panel.history_rows()[1][3]

    # Opened byte for byte from the server.
    opened: list[Path] = []
    box.open_file = opened.append
    box.download_folder = tmp_path / "fetched"
    box.list.setCurrentRow(0)
    assert box.open_button.isEnabled()
    fetch = box.open_selected()
    assert fetch is not None
    await fetch
    assert [path.read_bytes() for path in opened] == [content]
    assert opened[0].name == f"{document}-处置手册.pdf"
    return document


async def the_form_picks_from_the_server(centre: MainWindow) -> None:
    """The plan's types are named from the server's catalogue; the edit form picks the
    agency from ``agencies.list`` by Chinese name and the types from the catalogue."""
    panel = centre.registry.panel
    await wait_until(
        lambda: "危险化学品泄漏（hazchem_leak）" in panel.detail_label.text(), what="type named"
    )
    await wait_until(lambda: bool(panel.choices.agencies), what="agencies listed")
    dialog = panel.start_edit()
    assert dialog is not None
    agency = dialog.fields["agency"]
    assert isinstance(agency, AgencyPicker)
    assert agency.currentText() == f"{panel.choices.agencies['emergency']}（emergency）"
    types = dialog.fields["type_codes"]
    assert isinstance(types, TypeCodesPicker)
    assert types.texts() == ["危险化学品泄漏（hazchem_leak）"]
    jurisdiction = dialog.fields["jurisdiction"]
    assert isinstance(jurisdiction, JurisdictionPicker)
    assert jurisdiction.value() == WEST
    dialog.reject()


async def the_district_desk_reads(
    west: MainWindow, document: str, content: bytes, tmp_path: Path
) -> None:
    """The fire desk of the district: the document arrives live; it may open it but not
    attach to the command centre's plan."""
    west_panel = west.registry.panel
    await wait_until(lambda: documents_of(west) == [document], what="west sees it")
    assert west_panel.select(PLAN)
    west_box = west_panel.documents
    assert west_box.isVisible()
    assert not west_box.upload_button.isVisible()
    await wait_until(
        lambda: west_box.document_texts() == ["处置手册.pdf（66 KB）"], what="west names"
    )
    west_opened: list[Path] = []
    west_box.open_file = west_opened.append
    west_box.download_folder = tmp_path / "west"
    await west_box.open_document(int(document))
    assert [path.read_bytes() for path in west_opened] == [content]


async def refusals_keep_the_plan(
    centre: MainWindow, west: MainWindow, document: str, manual: Path, tmp_path: Path
) -> None:
    """A file named .pdf that is not one, and a desk that may not change the plan, are
    refused by the server; the plan keeps its document and the box stays usable."""
    box = centre.registry.panel.documents
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"MZ\x90\x00 definitely not a pdf")
    failing = box.upload(fake)
    assert failing is not None
    await failing
    assert box.status.text().startswith("fake.pdf was not attached: ")
    assert documents_of(centre) == [document]
    assert box.upload_button.isEnabled()

    west_box = west.registry.panel.documents
    plan = west.registry.desk.state.item(ItemKind.PLAN, PLAN)
    assert plan is not None
    west_box.set_plan(plan, editable=True)  # the console's courtesy bypassed
    refused = west_box.upload(manual)
    assert refused is not None
    await refused
    assert west_box.status.text().startswith("处置手册.pdf was not attached: ")
    assert documents_of(centre) == [document]


def test_a_full_plan_takes_no_more_documents(qtbot: QtBot, tmp_path: Path) -> None:
    service = ConsoleService()
    state = RegistryState()
    box = PlanDocumentsBox(service, state)
    qtbot.addWidget(box)
    full = item(
        ItemKind.PLAN,
        PLAN,
        PlanDetails(type_codes=["hazchem_leak"], documents=[str(n) for n in range(20)]),
        name="满额预案",
    )
    state.upsert(full)
    box.set_plan(full, editable=True)
    assert box.upload_button.isVisible()
    manual = tmp_path / "more.pdf"
    manual.write_bytes(b"%PDF-1.4\n")
    assert box.upload(manual) is None
    assert box.status.text() == "A plan holds at most 20 documents."
    # Anything but a plan: the box hides.
    box.set_plan(None, editable=True)
    assert box.isHidden()


def test_the_save_appends_the_new_document_at_the_version_read() -> None:
    one = item(
        ItemKind.PLAN,
        PLAN,
        PlanDetails(type_codes=["hazchem_leak"], documents=["7"]),
        name="预案",
        version=4,
        jurisdiction=WEST,
    )
    save = with_document(one, 12)
    assert isinstance(save.item.details, PlanDetails)
    assert save.item.details.documents == ["7", "12"]
    assert save.item.details.type_codes == ["hazchem_leak"]
    assert save.item.jurisdiction == WEST
    assert save.expected_version == 4


def test_in_chinese(qapp: QApplication, qtbot: QtBot) -> None:
    installed = install_translators(qapp, "zh_CN")
    try:
        box = PlanDocumentsBox(ConsoleService(), RegistryState())
        qtbot.addWidget(box)
        assert box.title() == "预案文档"
        assert box.upload_button.text() == "上传预案文档…"
    finally:
        for translator in installed:
            QCoreApplication.removeTranslator(translator)
        install_translators(qapp, "en")
