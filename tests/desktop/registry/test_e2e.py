"""Three consoles against a real server (a thread on 127.0.0.1, fresh database): the
command centre creates a team in the registry panel, edits it and reads its history; the
fire desk of the team's district sees both changes arrive live in its open panel; the
fire desk of another district never sees the team. A save on a stale version is refused,
reloaded and said so."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit
from pytestqt.qtbot import QtBot

from backend.server.testing import ServerThread
from desktop.main_window import MainWindow
from desktop.registry.editor import RecordsEditor, RegistryEditDialog
from desktop.registry.pickers import PICKERS
from desktop.service import ConsoleService
from desktop.sounder import AlarmSounder
from realtime.client import ConnectionState
from realtime.protocol import ItemKind, Role, TeamDetails
from tests.desktop.conftest import call, ignore_offscreen_quirks, wait_until

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

Run = Callable[..., Any]
WEST, EAST = "330106", "330102"
"""Hangzhou's Xihu and Shangcheng districts."""


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        running.add_user("fire-west", "pw-fire-west", Role.AGENCY, agency="fire", jurisdiction=WEST)
        running.add_user("fire-east", "pw-fire-east", Role.AGENCY, agency="fire", jurisdiction=EAST)
        yield running


@asynccontextmanager
async def console(
    server: ServerThread, qtbot: QtBot, settings: QSettings, username: str
) -> AsyncIterator[MainWindow]:
    """A console window logged in as ``username``, its registry panel open on teams."""
    service = ConsoleService()
    window = MainWindow(service, AlarmSounder(use_audio=False), settings, username=username)
    qtbot.addWidget(window)
    window.show()
    service.start(server.console_url, username, f"pw-{username}")
    try:
        await wait_until(lambda: service.state is ConnectionState.LIVE, what=f"{username} live")
        window.registry.show_kind(ItemKind.TEAM)
        desk = window.registry.desk
        await wait_until(lambda: ItemKind.TEAM in desk.state.loaded_kinds, what="teams read")
        yield window
    finally:
        await service.stop()


def fill(dialog: RegistryEditDialog, **values: str) -> None:
    for name, value in values.items():
        widget = dialog.fields[name]
        if isinstance(widget, PICKERS):
            widget.set_value(value)
        elif isinstance(widget, QLineEdit):
            widget.setText(value)
        elif isinstance(widget, QPlainTextEdit):
            widget.setPlainText(value)


def members_of(window: MainWindow, code: str) -> int | None:
    item = window.registry.desk.state.item(ItemKind.TEAM, code)
    return (
        item.details.members if item is not None and isinstance(item.details, TeamDetails) else None
    )


def test_a_team_is_created_edited_and_followed_live_in_its_district_only(
    server: ServerThread, qtbot: QtBot, settings: QSettings, run: Run
) -> None:
    async def scenario() -> None:
        async with (
            console(server, qtbot, settings, "officer1") as centre,
            console(server, qtbot, settings, "fire-west") as west,
            console(server, qtbot, settings, "fire-east") as east,
        ):
            panel = centre.registry.panel
            assert panel.new_button.isVisible()
            assert centre.registry.dock.height() >= 300  # opened from the menu: given room
            dialog = panel.start_new()
            fill(
                dialog,
                code="T-XH-01",
                name="西湖危化品救援队",
                jurisdiction=WEST,
                agency="fire",
                lat="30.26",
                lon="120.13",
                team_type="危化品救援",
                members="20",
                capabilities="hazmat\ndecontamination",
            )
            records = dialog.fields["contacts"]
            assert isinstance(records, RecordsEditor)
            records.set_rows([{"name": "王队长", "role": "队长", "phone": "13812345678"}])
            await call(dialog.save_button.click)
            await wait_until(lambda: panel.active_dialog is None, what="created")
            assert panel.model.codes() == ["T-XH-01"]

            # The fire desk of Xihu sees it arrive in its open panel, numbers masked.
            west_panel = west.registry.panel
            await wait_until(lambda: west_panel.model.codes() == ["T-XH-01"], what="west live")
            assert west_panel.select("T-XH-01")
            assert "138****5678" in west_panel.detail_label.text()
            assert west_panel.edit_button.isEnabled()  # its own agency's team in its area

            # The command centre edits it; the history says who changed what.
            assert panel.select("T-XH-01")
            edit = panel.start_edit()
            assert edit is not None
            fill(edit, members="26")
            edit.note_edit.setText("人员补充")
            await call(edit.save_button.click)
            await wait_until(lambda: panel.active_dialog is None, what="edited")
            await wait_until(lambda: len(panel.history_rows()) == 2, what="history")
            created, changed = panel.history_rows()
            assert created[1:3] == ["officer1", "Created"]
            assert changed[1:3] == ["officer1", "Changed"]
            assert "Members: 20 → 26" in changed[3].splitlines()
            assert "Note: 人员补充" in changed[3].splitlines()

            # Live at the west desk: the row, the detail and the history it holds.
            await wait_until(lambda: members_of(west, "T-XH-01") == 26, what="west sees edit")
            await wait_until(
                lambda: "Members：26" in west_panel.detail_label.text(), what="west detail"
            )
            await wait_until(lambda: len(west_panel.history_rows()) == 2, what="west history")

            # The fire desk of another district sees none of it, and is told nothing.
            assert east.registry.panel.model.codes() == []
            assert members_of(east, "T-XH-01") is None
            east.registry.desk.load(ItemKind.TEAM)
            await wait_until(
                lambda: ItemKind.TEAM not in east.registry.desk.loading, what="east reread"
            )
            assert east.registry.desk.state.items(ItemKind.TEAM) == []

            await stale_edit_is_reloaded_and_saved_on_purpose(centre, west)

    run(scenario(), timeout=90)


async def stale_edit_is_reloaded_and_saved_on_purpose(centre: MainWindow, west: MainWindow) -> None:
    """The west desk saves on the version it read before the centre's newer change."""
    panel, west_panel = centre.registry.panel, west.registry.panel
    # Refused, reloaded, said so; saving again is deliberate and goes through.
    stale = west_panel.start_edit()
    assert stale is not None
    again = panel.start_edit()
    assert again is not None
    fill(again, members="27")
    await call(again.save_button.click)
    await wait_until(lambda: members_of(west, "T-XH-01") == 27, what="centre edit live")
    fill(stale, members="30")
    await call(stale.save_button.click)
    await wait_until(stale.error_label.isVisible, what="conflict shown")
    await wait_until(lambda: "Reloaded: version 3" in stale.error_label.text(), what="reloaded")
    await call(stale.save_button.click)
    await wait_until(lambda: west_panel.active_dialog is None, what="saved again")
    await wait_until(lambda: members_of(centre, "T-XH-01") == 30, what="centre sees it")
