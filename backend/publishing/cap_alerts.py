"""A published notice as a CAP 1.2 alert (and its withdrawal as a Cancel), for the public
CAP feed: scope Public, status Actual (an exercise serves no feed at all), urgency,
severity and certainty from the notice's kind and level (the national colours: 红 I 级
the most severe), the area as polygon and GB/T 2260 geocodes."""

from __future__ import annotations

from backend.cap.model import (
    CapAlert,
    CapArea,
    CapInfo,
    CapReference,
    Category,
    Certainty,
    MsgType,
    Scope,
    Severity,
    Status,
    Urgency,
)
from backend.publishing import store
from backend.storage.models import NoticeRow
from realtime.protocol import NoticeKind, NoticeState, WarningLevel

SEVERITY = {
    WarningLevel.RED: Severity.EXTREME,
    WarningLevel.ORANGE: Severity.SEVERE,
    WarningLevel.YELLOW: Severity.MODERATE,
    WarningLevel.BLUE: Severity.MINOR,
}
"""红 特别严重, 橙 严重, 黄 较重, 蓝 一般."""
GEOCODE_NAME = "GB/T 2260"
CANCEL_SUFFIX = ".cancel"


def _urgency(kind: NoticeKind, level: WarningLevel) -> Urgency:
    if kind is NoticeKind.NOTICE:
        return Urgency.UNKNOWN
    return (
        Urgency.IMMEDIATE
        if level in (WarningLevel.RED, WarningLevel.ORANGE)
        else (Urgency.EXPECTED)
    )


def _certainty(kind: NoticeKind, level: WarningLevel) -> Certainty:
    if kind is NoticeKind.NOTICE:
        return Certainty.UNKNOWN
    return (
        Certainty.LIKELY
        if level in (WarningLevel.RED, WarningLevel.ORANGE)
        else (Certainty.POSSIBLE)
    )


def alert_of(row: NoticeRow, sender: str, area_text: str) -> CapAlert:
    """The alert a published notice went out as."""
    notice = store.content_of(row)
    polygon = tuple(notice.area.polygon)
    if polygon and polygon[0] != polygon[-1]:
        polygon = (*polygon, polygon[0])
    area = CapArea(
        description=area_text,
        polygons=(polygon,) if len(polygon) >= 4 else (),
        geocodes=tuple((GEOCODE_NAME, code) for code in notice.area.jurisdictions),
    )
    info = CapInfo(
        categories=(Category.SAFETY if notice.kind is NoticeKind.WARNING else Category.OTHER,),
        event=notice.event or ("预警" if notice.kind is NoticeKind.WARNING else "通知"),
        urgency=_urgency(notice.kind, notice.level),
        severity=SEVERITY[notice.level],
        certainty=_certainty(notice.kind, notice.level),
        headline=notice.title,
        description=notice.body,
        instruction=notice.instruction,
        expires=notice.expires_at,
        areas=(area,),
    )
    sent = row.published_at or row.updated_at
    return CapAlert(
        identifier=row.cap_identifier,
        sender=sender,
        sent=sent,
        status=Status.ACTUAL,
        msg_type=MsgType.ALERT,
        scope=Scope.PUBLIC,
        infos=(info,),
    )


def cancel_of(row: NoticeRow, sender: str, area_text: str) -> CapAlert:
    """The Cancel of a withdrawn notice (referring to its alert)."""
    original = alert_of(row, sender, area_text)
    return CapAlert(
        identifier=row.cap_identifier + CANCEL_SUFFIX,
        sender=sender,
        sent=row.cancelled_at or row.updated_at,
        status=Status.ACTUAL,
        msg_type=MsgType.CANCEL,
        scope=Scope.PUBLIC,
        note=row.reason,
        references=(CapReference(sender, original.identifier, original.sent),),
        infos=original.infos,
    )


def is_served(row: NoticeRow) -> bool:
    """Whether the feed carries the notice: public and published or withdrawn."""
    return row.public and row.state in (NoticeState.PUBLISHED, NoticeState.CANCELLED)
