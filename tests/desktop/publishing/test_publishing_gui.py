"""The publishing console against a real server (a thread on 127.0.0.1, fresh database):
a supervisor drafts in the editor and submits; the approve button stays greyed for them
(two people, always); a second supervisor approves and sees the receipts; the fire desk's
inbox shows the notice unread and marks it read when opened, which the publisher's
receipts then show. Plus the editor's checks and the draft from a warning."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest
from PySide6.QtGui import QTextDocument
from pytestqt.qtbot import QtBot

from backend.server.testing import ServerThread
from desktop.publishing import drafts
from desktop.publishing.editor import NoticeEditor
from desktop.publishing.inbox import InboxPanel
from desktop.publishing.panel import PublishingPanel
from desktop.service import ConsoleService
from realtime.client import ConnectionState
from realtime.protocol import (
    Audience,
    Channel,
    DeliveryState,
    EarlyWarningView,
    InboxItem,
    NoticeKind,
    NoticeState,
    Role,
    WarningLevel,
    WarningSource,
    WarningState,
)
from tests.desktop.conftest import call, ignore_offscreen_quirks, wait_until

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

XIHU = "330106"


def password(username: str) -> str:
    return f"pw-{username}-long"


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        running.add_user("leader1", password("leader1"), Role.SUPERVISOR, jurisdiction=XIHU)
        running.add_user("leader2", password("leader2"), Role.SUPERVISOR)
        running.add_user("fire1", password("fire1"), Role.AGENCY, agency="fire", jurisdiction=XIHU)
        yield running


@asynccontextmanager
async def session(server: ServerThread, username: str) -> AsyncIterator[ConsoleService]:
    service = ConsoleService()
    service.start(server.console_url, username, password(username))
    try:
        await wait_until(lambda: service.state is ConnectionState.LIVE, what=f"{username} live")
        yield service
    finally:
        await service.stop()


def _fill(editor: NoticeEditor) -> None:
    editor.title.setText("液氨槽车泄漏预警")
    editor.body.setPlainText("文三路出口液氨槽车泄漏，周边企业停止动火作业。")
    editor.level.setCurrentIndex(editor.level.findData(WarningLevel.ORANGE))
    editor.jurisdictions.setText(XIHU)
    editor.channels[Channel.CONSOLE].setChecked(True)


def test_draft_submit_approve_receipts_and_inbox(
    server: ServerThread, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    run(_scenario(server, qtbot), timeout=60)


async def _scenario(server: ServerThread, qtbot: QtBot) -> None:
    async with (
        session(server, "leader1") as first,
        session(server, "leader2") as second,
        session(server, "fire1") as fire,
    ):
        drafter, approver, inbox = PublishingPanel(first), PublishingPanel(second), InboxPanel(fire)
        for widget in (drafter, approver, inbox):
            qtbot.addWidget(widget)
            widget.show()
        editor = drafter.open_editor(None)
        _fill(editor)
        await call(editor._accept)
        await wait_until(lambda: len(drafter.notices) == 1, what="the draft listed")
        drafter.table.selectRow(0)
        assert drafter.buttons["submit"].isEnabled()
        await call(drafter.submit)
        await wait_until(
            lambda: drafter.selected is not None and drafter.selected.state is NoticeState.PENDING,
            what="submitted",
        )
        # The drafter is a supervisor, yet may not approve their own notice.
        assert not drafter.buttons["approve"].isEnabled()
        assert drafter.buttons["approve"].toolTip()

        await wait_until(lambda: len(approver.notices) == 1, what="the approver's list")
        approver.table.selectRow(0)
        await wait_until(approver.buttons["approve"].isEnabled, what="approvable")
        await call(approver.approve)
        await wait_until(lambda: bool(approver.receipts), what="receipts")
        fire_rows = [r for r in approver.receipts if r.recipient_code == "fire"]
        # Sent to the desk's console, or already delivered: its inbox panel lists the
        # notice as soon as the event arrives, which may be before these receipts were read.
        assert [r.state for r in fire_rows] in (
            [DeliveryState.SENT],
            [DeliveryState.DELIVERED],
        )
        assert (
            approver.text_at(approver.table, 0, 0) == approver.notice_cells(approver.notices[0])[0]
        )

        await wait_until(lambda: len(inbox.items) == 1, what="the fire desk's inbox")
        assert inbox.unread == 1
        title = inbox.table.item(0, 2)
        assert title is not None
        assert title.font().bold()
        inbox.table.selectRow(0)
        await wait_until(lambda: inbox.unread == 0, what="read")
        assert "液氨槽车泄漏" in inbox.text.text()

        def fire_state() -> DeliveryState | None:
            rows = [r for r in approver.receipts if r.recipient_code == "fire"]
            return rows[0].state if rows else None

        await call(approver._reload_detail)
        await wait_until(lambda: fire_state() is DeliveryState.READ, what="the read receipt")
        for widget in (drafter, approver, inbox):
            widget.close_tasks()


def test_the_editor_says_what_the_server_would_refuse(qtbot: QtBot) -> None:
    editor = NoticeEditor()
    qtbot.addWidget(editor)
    _fill(editor)
    editor.polygon.setPlainText("30.2,120.1; 30.3")
    editor._accept()
    assert "point 2" in editor.error.text()
    editor.polygon.setPlainText("30.26,120.11; 30.26,120.13; 30.275,120.13")
    editor.title.clear()
    editor._accept()
    assert "title" in editor.error.text()
    editor.title.setText("标题")
    notice = editor.notice()
    assert notice.area.polygon == [(30.26, 120.11), (30.26, 120.13), (30.275, 120.13)]
    assert notice.level is WarningLevel.ORANGE
    assert "西湖区" in editor.places.text()


def test_a_draft_from_a_warning(qtbot: QtBot) -> None:
    at = dt.datetime(2026, 12, 5, 14, 0, tzinfo=dt.UTC)
    warning = EarlyWarningView(
        id=7,
        version=1,
        source=WarningSource.TREND,
        level=WarningLevel.RED,
        state=WarningState.ACTIVE,
        title="T101 储罐液位趋势超限",
        detail="预计 20 分钟后达到高高限",
        jurisdiction=XIHU,
        hazard_source="HS-T101",
        raised_at=at,
        updated_at=at,
    )
    notice = drafts.draft_from_warning(warning)
    assert (notice.level, notice.title, notice.from_warning) == (WarningLevel.RED, warning.title, 7)
    assert notice.area.jurisdictions == [XIHU]
    assert Audience.ENTERPRISES in notice.audience
    editor = NoticeEditor(notice)
    qtbot.addWidget(editor)
    assert msgspec.structs.replace(editor.notice(), instruction="") == msgspec.structs.replace(
        notice, instruction=""
    )


def test_a_notice_shows_its_text_literally_never_as_markup(
    fake_service: tuple[ConsoleService, list[Any]], qtbot: QtBot
) -> None:
    """A notice's title and body are the drafter's text: markup in them shows as typed in
    the recipient's inbox (no image fetched, no link, no hidden text)."""
    service, _clients = fake_service
    inbox = InboxPanel(service)
    qtbot.addWidget(inbox)
    hostile = '<img src="http://evil.example/x.png"><a href="x">点这里</a>'
    inbox.items = [
        InboxItem(
            id=1,
            kind=NoticeKind.WARNING,
            level=WarningLevel.RED,
            title="<b>假标题</b>",
            body=hostile,
            published_at=dt.datetime(2026, 12, 5, 2, 0, tzinfo=dt.UTC),
            read_at=dt.datetime(2026, 12, 5, 2, 1, tzinfo=dt.UTC),
        )
    ]
    inbox.open_item(0)
    shown = QTextDocument()
    shown.setHtml(inbox.text.text())
    assert "<b>假标题</b>" in shown.toPlainText()
    assert hostile in shown.toPlainText()
