"""The event log names what a warning, a notice or a hidden-danger event is about, in the
officer's language: the warning's level and title, the notice's title (never the
recipients' codes the server fans it out by), the hidden danger's number, grade,
enterprise, place and state, the inspection's enterprise and inspectors."""

from __future__ import annotations

import msgspec
from PySide6.QtCore import QTranslator

from desktop.event_log import event_line
from realtime.event_kinds import EventKind
from realtime.protocol import DangerState, EarlyWarningView, Event, WarningState
from tests.desktop.factories import T0
from tests.realtime.golden_dangers import _DANGER, _INSPECTION
from tests.realtime.golden_publishing import _ITEM, _VIEW
from tests.realtime.golden_warnings import _TREND


def _warning_event(kind: EventKind, warning: EarlyWarningView) -> Event:
    return Event(seq=1, at=T0, kind=kind, actor="early-warning", early_warning=warning)


def test_a_warning_event_names_the_warning_and_its_state(chinese: list[QTranslator]) -> None:
    raised = event_line(
        Event(
            seq=1, at=T0, kind=EventKind.WARNING_RAISED, actor="early-warning", early_warning=_TREND
        )
    )
    assert raised.endswith(f"发布预警 · 橙色 · {_TREND.title}")
    ended = msgspec.structs.replace(_TREND, state=WarningState.CLEARED)
    line = event_line(
        Event(
            seq=2, at=T0, kind=EventKind.WARNING_ENDED, actor="early-warning", early_warning=ended
        )
    )
    assert line.endswith(f"预警结束 · 橙色 · {_TREND.title} · 已解除")


def test_a_published_notice_shows_its_title_and_how_many_consoles_not_their_codes(
    chinese: list[QTranslator],
) -> None:
    codes = ["agency:fire", "agency:emergency", "enterprise:E-1"]
    line = event_line(
        Event(
            seq=1,
            at=T0,
            kind=EventKind.NOTICE_PUBLISHED,
            actor="duty_leader",
            fields=codes,
            notice=_VIEW,
        )
    )
    assert line.endswith(f"信息已发布 · 橙色预警 · 「{_VIEW.notice.title}」 · 送达控制台 3 个")
    assert not any(code in line for code in codes)
    # A recipient's console gets the inbox item only: named the same way.
    received = event_line(
        Event(seq=2, at=T0, kind=EventKind.NOTICE_PUBLISHED, actor="duty_leader", inbox=_ITEM)
    )
    assert received.endswith(f"信息已发布 · 橙色预警 · 「{_ITEM.title}」")


def test_a_hidden_danger_event_names_the_danger_and_the_note(chinese: list[QTranslator]) -> None:
    rectified = msgspec.structs.replace(_DANGER, state=DangerState.RECTIFIED)
    line = event_line(
        Event(
            seq=1,
            at=T0,
            kind=EventKind.DANGER_CHANGED,
            actor="ent1",
            note="已更换阀门",
            danger=rectified,
        )
    )
    expected = f"#{_DANGER.id} 重大隐患 · {_DANGER.enterprise_name} {_DANGER.place}"
    assert expected in line
    assert line.endswith("已整改 · 已更换阀门")
    inspection = event_line(
        Event(
            seq=2,
            at=T0,
            kind=EventKind.INSPECTION_RECORDED,
            actor="inspector1",
            inspection=_INSPECTION,
        )
    )
    inspectors = "、".join(_INSPECTION.inspectors)
    assert inspection.endswith(f"执法检查记录 · {_INSPECTION.enterprise_name} · {inspectors}")
