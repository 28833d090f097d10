"""The event log speaks of incidents, tasks and chat messages in the officer's language:
never the server's English summary ("accept deadline … passed: agency_desk →
agency_supervisor"), always which task of which incident, and a person's note where one
was written."""

from __future__ import annotations

import msgspec
from PySide6.QtCore import QTranslator

from desktop.event_log import event_line
from desktop.incidents import labels
from realtime.event_kinds import EventKind
from realtime.incident_states import (
    AssigneeKind,
    EscalationCause,
    EscalationLevel,
    IncidentState,
    TaskAction,
    TaskState,
)
from realtime.protocol import (
    AttachmentView,
    ChecklistStepView,
    ChecklistView,
    Event,
    MessageView,
)
from tests.desktop.factories import T0
from tests.desktop.incidents.factories import escalation, make_incident, make_task

SERVER_NOTE = (
    "accept deadline 2026-12-05T03:09:58+00:00 passed (sent): agency_desk → agency_supervisor"
)


def _event(kind: EventKind, note: str = "", **views: object) -> Event:
    return Event(seq=1, at=T0, kind=kind, actor="system", note=note, **views)  # type: ignore[arg-type]


def test_an_escalation_names_the_task_the_deadline_and_the_rungs_in_chinese(
    chinese: list[QTranslator],
) -> None:
    task = make_task(
        2,
        incident_id=5,
        assignee_name="公安",
        escalation_level=EscalationLevel.AGENCY_SUPERVISOR,
        escalations=[escalation(cause=EscalationCause.ACCEPT)],
    )
    line = event_line(_event(EventKind.TASK_ESCALATED, SERVER_NOTE, task=task))
    assert "事件 #5 的任务 #2（公安）" in line
    assert "签收时限已超时" in line
    assert f"{labels.rung_label(EscalationLevel.AGENCY_DESK)} → " in line
    assert "deadline" not in line, line
    assert "agency_desk" not in line, line


def test_a_returned_task_says_it_went_up(chinese: list[QTranslator]) -> None:
    task = make_task(
        3,
        assignee_kind=AssigneeKind.GRID_LEVEL,
        assignee_name="西溪街道",
        escalations=[escalation(cause=EscalationCause.RETURNED)],
    )
    line = event_line(_event(EventKind.TASK_ESCALATED, "returned: beyond its means", task=task))
    assert "退回上级" in line
    assert "returned" not in line


def test_a_task_step_shows_the_new_state_and_the_persons_note(chinese: list[QTranslator]) -> None:
    task = make_task(
        1,
        state=TaskState.DONE,
        assignee_name="消防救援",
        last_action=TaskAction.FINISH,
        last_note="泄漏点已堵漏",
    )
    line = event_line(_event(EventKind.TASK_CHANGED, "finish", task=task))
    assert "已办结" in line or "办结" in line
    assert "泄漏点已堵漏" in line
    assert "finish" not in line


def test_deadline_changes_do_not_show_the_servers_iso_times(chinese: list[QTranslator]) -> None:
    task = make_task(1, assignee_name="公安")
    note = "deadlines: accept 2026-12-05T03:09:58.711217+00:00 (限时签收)"
    line = event_line(_event(EventKind.TASK_CHANGED, note, task=task))
    assert "2026-12-05T03" not in line
    assert "deadlines" not in line


def test_an_opened_incident_shows_title_type_and_level(chinese: list[QTranslator]) -> None:
    incident = make_incident(7, title="槽车侧翻", type_name="危化品运输车辆事故")
    line = event_line(_event(EventKind.INCIDENT_OPENED, "raised from alarm #3", incident=incident))
    assert "事件 #7 槽车侧翻" in line
    assert "危化品运输车辆事故" in line
    assert "raised from" not in line


def test_closing_shows_the_feedback(chinese: list[QTranslator]) -> None:
    incident = make_incident(7, state=IncidentState.CLOSED, last_note="已处置完毕，道路恢复")
    line = event_line(_event(EventKind.INCIDENT_CHANGED, "close", incident=incident))
    assert "已处置完毕，道路恢复" in line


def test_a_chat_message_is_previewed_as_plain_text(chinese: list[QTranslator]) -> None:
    photo = AttachmentView(
        id=1,
        incident_id=7,
        filename="现场.jpg",
        content_type="image/jpeg",
        size=10,
        sha256="0" * 64,
        uploaded_by="fire_desk",
        at=T0,
    )
    message = MessageView(
        incident_id=7, author="fire_desk", text="<b>两车出动</b>" + "很长" * 60, attachments=[photo]
    )
    line = event_line(_event(EventKind.INCIDENT_MESSAGE, message=message))
    assert "事件 #7" in line
    assert "<b>两车出动</b>" in line
    assert "1 个附件" in line
    assert line.endswith("1 个附件")
    assert "…" in line


def test_a_plan_tick_names_the_plan_the_step_and_the_note_in_chinese(
    chinese: list[QTranslator],
) -> None:
    incident = make_incident(7, title="液氯储罐泄漏")
    step = ChecklistStepView(id="s2", text="消防救援队伍堵漏", role="fire", done=True)
    checklist = ChecklistView(
        plan_code="HZ-LEAK-II", plan_name="危化品泄漏Ⅱ级响应预案", response_level="II", steps=[step]
    )
    ticked = Event(
        seq=1,
        at=T0,
        kind=EventKind.CHECKLIST_TICKED,
        actor="fire_desk",
        note="已出动2车",
        fields=["s2"],
        incident=incident,
        checklist=checklist,
    )
    line = event_line(ticked)
    assert "预案 危化品泄漏Ⅱ级响应预案：已勾选 消防救援队伍堵漏" in line
    assert "已出动2车" in line
    undone = msgspec.structs.replace(checklist, steps=[msgspec.structs.replace(step, done=False)])
    assert "已取消勾选" in event_line(msgspec.structs.replace(ticked, checklist=undone))
