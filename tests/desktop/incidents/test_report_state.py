"""The report draft and the reporter's list as plain data: what keeps a draft from being
sent, the command it makes, which events concern the reports held, who may report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from desktop.incidents.report_state import (
    MyReports,
    Problem,
    ReportDraft,
    is_grid_user,
    may_report,
)
from realtime.event_kinds import EventKind
from realtime.incident_states import HandlingLevel, IncidentLevel, IncidentState
from realtime.protocol import MAX_MESSAGE_ATTACHMENTS, ReportView, Role, UserInfo
from tests.desktop.factories import T0
from tests.desktop.incidents.factories import incident_event, make_incident, make_task, task_event


def test_an_empty_draft_needs_a_type_and_a_place() -> None:
    assert ReportDraft().problems() == [Problem.NO_TYPE, Problem.NO_PLACE]
    assert ReportDraft(type_code="x", place="   ").problems() == [Problem.NO_PLACE]
    assert ReportDraft(type_code="x", position=(30.2, 120.1)).problems() == []
    assert ReportDraft(type_code="x", place="村口").problems() == []


def test_oversized_text_and_photos_that_are_not_photos_are_named() -> None:
    draft = ReportDraft(type_code="x", place="p" * 201, description="d" * 4001)
    draft.add_photos([Path("a.png"), Path("a.png"), Path("notes.txt")])
    assert draft.photos == [Path("a.png"), Path("notes.txt")]  # the same file once
    assert draft.problems() == [
        Problem.PLACE_TOO_LONG,
        Problem.DESCRIPTION_TOO_LONG,
        Problem.NOT_A_PHOTO,
    ]
    many = ReportDraft(type_code="x", place="p")
    many.add_photos(Path(f"{n}.jpg") for n in range(MAX_MESSAGE_ATTACHMENTS + 1))
    assert many.problems() == [Problem.TOO_MANY_PHOTOS]


def test_the_command_carries_the_point_or_the_address_only() -> None:
    clicked = ReportDraft(
        type_code="septic_tank_work", place=" 幸福村3组 ", position=(30.25, 120.125)
    )
    command = clicked.command()
    assert (command.type_code, command.place, command.lat, command.lon) == (
        "septic_tank_work",
        "幸福村3组",
        30.25,
        120.125,
    )
    address = ReportDraft(type_code="septic_tank_work", place="村口", description=" 无 ")
    command = address.command()
    assert (command.lat, command.lon, command.description) == (None, None, "无")


def _report(report_id: int, incident_id: int) -> ReportView:
    return ReportView(
        id=report_id,
        incident_id=incident_id,
        reported_at=T0 + dt.timedelta(minutes=report_id),
        type_code="garbage_pileup",
        title="垃圾堆积",
        jurisdiction="330106001001",
        handling_level=HandlingLevel.VILLAGE,
        incident_state=IncidentState.OPEN,
        incident_level=IncidentLevel.IV,
    )


def test_the_list_is_newest_first_and_knows_which_events_concern_it() -> None:
    mine = MyReports()
    mine.replace([_report(1, 10), _report(2, 20)])
    assert [r.id for r in mine.reports] == [2, 1]
    mine.add(_report(3, 30))
    assert [r.id for r in mine.reports] == [3, 2, 1]
    assert mine.concerns(incident_event(5, make_incident(20), EventKind.INCIDENT_CHANGED))
    assert mine.concerns(task_event(6, make_task(1, incident_id=30), EventKind.TASK_CHANGED))
    assert not mine.concerns(incident_event(7, make_incident(99), EventKind.INCIDENT_OPENED))


@pytest.mark.parametrize(
    ("role", "agency", "area", "reports", "grid"),
    [
        (Role.OFFICER, None, "330106001001", True, True),  # village
        (Role.OFFICER, None, "330106001", True, True),  # town
        (Role.SUPERVISOR, None, "330106", True, False),  # district
        (Role.AGENCY, "fire", "330106", False, False),
        (Role.OFFICER, "fire", "330106001", False, False),
        (Role.VIEWER, None, "330106001", False, False),
    ],
)
def test_who_reports_and_who_has_the_entry_in_front(
    role: Role, agency: str | None, area: str, reports: bool, grid: bool
) -> None:
    user = UserInfo(username="u", display_name="u", role=role, agency=agency, jurisdiction=area)
    assert (may_report(user), is_grid_user(user)) == (reports, grid)
    assert not may_report(None)
