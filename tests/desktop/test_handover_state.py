"""The console's handover state (no Qt): answers applied, what the officer may do, the
roster grouped by desk and shift."""

from __future__ import annotations

import datetime as dt

from desktop.handover_state import HandoverDesk
from realtime.protocol import (
    HandoverItem,
    HandoverReport,
    HandoverResult,
    HandoverSection,
    HandoversResult,
    HandoverState,
    HandoverView,
    Pong,
    RosterEntryView,
    RosterPosition,
    RosterResult,
)

T = dt.datetime(2026, 12, 5, 0, 0, tzinfo=dt.UTC)


def view(number: int, state: HandoverState, author: str = "a", incoming: str = "") -> HandoverView:
    return HandoverView(
        id=number,
        jurisdiction="330106",
        shift_start=T,
        shift_end=T,
        author=author,
        incoming=incoming,
        state=state,
        created_at=T,
    )


REPORT = HandoverReport(
    generated_at=T,
    overdue_tasks=HandoverSection(
        count=700, items=[HandoverItem(kind="task", id=1, title="fire", state="sent")]
    ),
)


class may:  # noqa: N801  (reads as a sentence: may(desk).sign)
    """Reads the buttons' state afresh (so that type narrowing does not stick)."""

    def __init__(self, desk: HandoverDesk) -> None:
        self.sign = desk.can_sign
        self.accept = desk.can_accept


def test_answers_fill_it_and_decide_the_buttons() -> None:
    desk = HandoverDesk("a")
    changes: list[None] = []
    desk.subscribe(lambda: changes.append(None))
    desk.apply(HandoversResult(handovers=[view(1, HandoverState.ACCEPTED)], more=True))
    desk.apply(HandoverResult(handover=view(2, HandoverState.DRAFT), report=REPORT))
    assert [h.id for h in desk.history] == [2, 1]
    assert desk.more_history
    assert may(desk).sign
    assert not may(desk).accept
    assert desk.count("overdue_tasks") == 700
    assert [i.title for i in desk.items("overdue_tasks")] == ["fire"]
    assert desk.items("nonsense") == []
    desk.apply(HandoverResult(handover=view(2, HandoverState.SIGNED), report=REPORT))
    assert [h.state for h in desk.history] == [HandoverState.SIGNED, HandoverState.ACCEPTED]
    assert not may(desk).sign
    assert not may(desk).accept, "not your own"
    desk.username = "b"
    assert may(desk).accept
    desk.apply(HandoverResult(handover=view(3, HandoverState.SIGNED, incoming="c"), report=REPORT))
    assert not may(desk).accept, "handed to someone else"
    desk.apply(Pong(server_time=T))
    assert len(changes) == 4


def test_the_handover_awaiting_the_officer_is_the_newest_they_may_accept() -> None:
    desk = HandoverDesk("b")
    history = [
        view(5, HandoverState.DRAFT, author="c"),
        view(4, HandoverState.SIGNED, author="c", incoming="d"),  # handed to someone else
        view(3, HandoverState.SIGNED, author="b"),  # their own
        view(2, HandoverState.SIGNED, author="a", incoming="b"),
        view(1, HandoverState.SIGNED, author="a"),
    ]
    desk.apply(HandoversResult(handovers=history, more=False))
    waiting = desk.awaiting_acceptance()
    assert waiting is not None
    assert waiting.id == 2
    desk.apply(HandoversResult(handovers=[view(1, HandoverState.ACCEPTED)], more=False))
    assert desk.awaiting_acceptance() is None


def test_the_roster_is_grouped_by_desk_and_shift() -> None:
    def entry(user: str, position: RosterPosition, agency: str = "") -> RosterEntryView:
        return RosterEntryView(
            duty_date=T.date(),
            jurisdiction="330106",
            agency=agency,
            position=position,
            username=user,
            display_name=user.upper(),
            shift_start=T,
            shift_end=T + dt.timedelta(hours=12),
            on_duty=True,
        )

    desk = HandoverDesk()
    desk.apply(
        RosterResult(
            at=T,
            entries=[
                entry("lead", RosterPosition.LEADER),
                entry("duty", RosterPosition.OFFICER),
                entry("duty2", RosterPosition.OFFICER),
                entry("f", RosterPosition.AGENCY_DESK, "fire"),
            ],
        )
    )
    (district, fire) = desk.duties()
    assert (district.desk, district.leaders, district.officers) == (
        "330106",
        ("LEAD",),
        ("DUTY", "DUTY2"),
    )
    assert (fire.desk, fire.officers, fire.on_duty) == ("330106/fire", ("F",), True)
