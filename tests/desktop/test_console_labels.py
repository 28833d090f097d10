"""What the screenshots of the user guide showed as raw codes or cut short, now named and
whole: the handover report's titles, states, levels and alarm types, the roster's desks, the
chat's agencies, the inbox's incident titles, a chat."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QStyle
from pytestqt.qtbot import QtBot

from desktop import texts
from desktop.handover import HandoverDialog, desk_label, item_cells
from desktop.handover_state import HandoverDesk
from desktop.incidents.chat import ChatModel
from desktop.incidents.chat_state import ChatState
from desktop.incidents.lists import TaskInbox
from desktop.incidents.state import IncidentBoard
from desktop.service import ConsoleService
from realtime.event_kinds import EventKind
from realtime.protocol import (
    Event,
    HandoverItem,
    HandoverReport,
    HandoverResult,
    HandoverSection,
    HandoverState,
    HandoverView,
    MessageView,
    Role,
    RosterEntryView,
    RosterPosition,
    RosterResult,
)
from tests.desktop.conftest import ignore_offscreen_quirks
from tests.desktop.incidents.factories import make_incident, make_task, user

pytestmark = [pytest.mark.gui, ignore_offscreen_quirks]

T = dt.datetime(2026, 12, 5, 4, 0, tzinfo=dt.UTC)


def test_handover_items_name_states_levels_and_alarm_types() -> None:
    alarm = HandoverItem(
        kind="alarm", id=3, title="槽车泄漏", state="new", level="red", detail="hazmat_leak"
    )
    incident = HandoverItem(
        kind="incident", id=1, title="槽车事故", state="responding", level="II", detail="危化品"
    )
    task = HandoverItem(
        kind="task", id=4, title="消防救援", state="sent", level="agency_supervisor", due_at=T
    )
    assert item_cells(alarm)[2:6] == [
        "New",
        "Red",
        "",
        texts.alarm_type_label("hazmat_leak"),
    ]
    assert texts.alarm_type_label("hazmat_leak") != "hazmat_leak"
    assert item_cells(incident)[2:4] == ["Responding", "Level II (serious)"]
    assert item_cells(task)[2:4] == ["Sent", "Agency supervisor"]
    assert item_cells(task)[6] == texts.format_time(T)
    # Areas by name: a county the basemap names, a town under it by the county's name.
    placed = msgspec.structs.replace(task, jurisdiction="330106")
    assert item_cells(placed)[4] == "西湖区 (330106)"
    town = msgspec.structs.replace(task, jurisdiction="330106001")
    assert item_cells(town)[4] == "西湖区 330106001"
    # A code newer than this console is shown as it came, not dropped.
    newer = HandoverItem(kind="task", id=5, title="x", state="paused", level="region")
    assert item_cells(newer)[2:4] == ["paused", "region"]


def test_roster_desks_are_named_not_coded() -> None:
    def entry(jurisdiction: str, agency: str) -> RosterEntryView:
        return RosterEntryView(
            duty_date=T.date(),
            jurisdiction=jurisdiction,
            agency=agency,
            position=RosterPosition.AGENCY_DESK if agency else RosterPosition.OFFICER,
            username="u",
            shift_start=T,
            shift_end=T + dt.timedelta(hours=12),
            on_duty=True,
        )

    desk = HandoverDesk()
    desk.apply(RosterResult(at=T, entries=[entry("", ""), entry("", "fire"), entry("3301", "")]))
    labels = sorted(desk_label(duty) for duty in desk.duties())
    assert labels == sorted(["Whole area", "Whole area / Fire and rescue", "杭州市 (3301)"])


def test_a_chat_message_names_the_authors_agency(qtbot: QtBot) -> None:
    state = ChatState(5, "duty_supervisor")
    state.apply(
        Event(
            seq=1,
            at=T,
            kind=EventKind.INCIDENT_MESSAGE,
            actor="fire_desk",
            message=MessageView(
                incident_id=5, author="fire_desk", agency="fire", text="消防已签收"
            ),
        )
    )
    model = ChatModel(state)
    first = model.describe(state.messages[0]).splitlines()[0]
    assert "（Fire and rescue）" in first
    assert "（fire）" not in first


def test_the_inbox_wraps_a_long_incident_title_instead_of_cutting_it(qtbot: QtBot) -> None:
    board = IncidentBoard(lambda: T)
    board.set_user(user(Role.AGENCY, agency="fire"))
    title = "危化品车辆紧急报警 苏A·D8821 沿江大道 K12+300 槽车侧翻"
    board.upsert_incident(make_incident(1, title=title), [make_task(4, incident_id=1)])
    inbox = TaskInbox(board)
    qtbot.addWidget(inbox)
    inbox.resize(420, 300)
    inbox.show()
    inbox.refresh()
    qtbot.waitUntil(lambda: inbox.table.rowCount() == 1)
    item = inbox.table.item(0, 1)
    assert item is not None
    assert item.toolTip() == f"#1 {title}"
    line = inbox.table.fontMetrics().lineSpacing()
    # Far more lines than a default row holds: the row grows to the wrapped title.
    qtbot.waitUntil(lambda: inbox.table.rowHeight(0) >= 4 * line)
    # Every line fits in the area the text is painted in (inside the cell's margins).
    table = inbox.table
    inset = 2 * (table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)
    painted = table.fontMetrics().boundingRect(
        QRect(0, 0, table.columnWidth(1) - inset, 10_000), Qt.TextFlag.TextWordWrap, item.text()
    )
    assert table.rowHeight(0) >= painted.height() + inset


def test_the_handover_shows_an_alarms_title_whole(qtbot: QtBot) -> None:
    title = "3号储罐区 H2S 浓度超限"
    desk = HandoverDesk("a")
    dialog = HandoverDialog(ConsoleService(), desk)
    qtbot.addWidget(dialog)
    dialog.show()
    desk.apply(
        HandoverResult(
            handover=HandoverView(
                id=1,
                jurisdiction="",
                shift_start=T,
                shift_end=T,
                author="a",
                state=HandoverState.DRAFT,
                created_at=T,
            ),
            report=HandoverReport(
                generated_at=T,
                open_alarms=HandoverSection(
                    count=1,
                    items=[
                        HandoverItem(
                            kind="alarm",
                            id=1,
                            title=title,
                            state="new",
                            level="red",
                            jurisdiction="320116",
                            detail="gas_overlimit",
                        )
                    ],
                ),
            ),
        )
    )
    table = dialog.section_views["open_alarms"]
    needed = table.fontMetrics().horizontalAdvance(title)
    qtbot.waitUntil(lambda: table.columnWidth(1) > needed)
