"""Golden samples of the publishing wire (``notice.*`` commands, their answers and the
notice events as staff and as a recipient get them), merged into
:mod:`tests.realtime.test_protocol_golden`."""

from __future__ import annotations

import datetime as dt

import msgspec

from realtime.protocol import (
    ApproveNotice,
    Audience,
    CancelNotice,
    Channel,
    DeliveryCounts,
    DeliveryState,
    Event,
    GetNotice,
    InboxItem,
    InboxResult,
    ListInbox,
    ListNotices,
    MarkNoticeRead,
    NoticeArea,
    NoticeDetail,
    NoticeInput,
    NoticeKind,
    NoticeResult,
    NoticesResult,
    NoticeState,
    NoticeView,
    ReceiptRow,
    RecipientKind,
    RejectNotice,
    SaveNotice,
    SubmitNotice,
    WarningLevel,
)

_AT = dt.datetime(2026, 12, 5, 14, 0, 0, tzinfo=dt.UTC)
_LATER = dt.datetime(2026, 12, 5, 14, 5, 0, tzinfo=dt.UTC)

_INPUT = NoticeInput(
    kind=NoticeKind.WARNING,
    level=WarningLevel.ORANGE,
    title="液氨槽车泄漏预警",
    body="绕城高速文三路出口液氨槽车泄漏，下风向 1 公里内企业立即停止动火作业。",
    event="危险化学品泄漏",
    instruction="关闭门窗，人员向上风向撤离。",
    area=NoticeArea(
        jurisdictions=["330106"],
        polygon=[(30.26, 120.11), (30.26, 120.13), (30.275, 120.13)],
        description="西湖区文三路出口周边",
    ),
    audience=[Audience.ENTERPRISES, Audience.AGENCIES, Audience.PUBLIC],
    channels=[Channel.CONSOLE, Channel.SMS, Channel.EMAIL, Channel.CAP],
    expires_at=_LATER,
    from_warning=7,
)

_VIEW = NoticeView(
    id=12,
    version=3,
    state=NoticeState.PUBLISHED,
    notice=_INPUT,
    jurisdiction="330106",
    drafted_by="officer1",
    drafted_at=_AT,
    submitted_by="officer1",
    submitted_at=_AT,
    decided_by="leader1",
    decided_at=_LATER,
    published_at=_LATER,
    cap_identifier="dutydesk@localhost.notice.12.20261205140500",
    counts=DeliveryCounts(recipients=5, queued=1, sent=2, delivered=3, read=1, failed=1),
)

_ITEM = InboxItem(
    id=12,
    kind=NoticeKind.WARNING,
    level=WarningLevel.ORANGE,
    title="液氨槽车泄漏预警",
    body="绕城高速文三路出口液氨槽车泄漏，下风向 1 公里内企业立即停止动火作业。",
    instruction="关闭门窗，人员向上风向撤离。",
    area="西湖区文三路出口周边",
    published_at=_LATER,
    expires_at=_LATER,
    cancelled=False,
    read_at=_LATER,
)

CONSOLE_SAMPLES: dict[str, msgspec.Struct] = {
    "SaveNotice": SaveNotice(req="n1", notice=_INPUT, notice_id=12, version=2),
    "SubmitNotice": SubmitNotice(req="n2", notice_id=12, version=2),
    "ApproveNotice": ApproveNotice(req="n3", notice_id=12, version=3, note="同意发布"),
    "RejectNotice": RejectNotice(req="n4", notice_id=12, version=3, reason="范围过大"),
    "CancelNotice": CancelNotice(req="n5", notice_id=12, version=4, reason="险情解除"),
    "ListNotices": ListNotices(req="n6", states=[NoticeState.PENDING], limit=50),
    "GetNotice": GetNotice(req="n7", notice_id=12),
    "ListInbox": ListInbox(req="n8", limit=20),
    "MarkNoticeRead": MarkNoticeRead(req="n9", notice_id=12),
}

RESULTS: dict[str, msgspec.Struct] = {
    "notice": NoticeResult(notice=_VIEW),
    "notices": NoticesResult(notices=[_VIEW]),
    "notice_detail": NoticeDetail(
        notice=_VIEW,
        receipts=[
            ReceiptRow(
                recipient="储罐公司",
                recipient_kind=RecipientKind.ENTERPRISE,
                recipient_code="ENT-TANKS",
                channel=Channel.SMS,
                address="138****0001",
                state=DeliveryState.DELIVERED,
                at=_LATER,
                attempts=1,
            ),
            ReceiptRow(
                recipient="z***@example.cn",
                recipient_kind=RecipientKind.PUBLIC,
                recipient_code="s3",
                channel=Channel.EMAIL,
                address="z***@example.cn",
                state=DeliveryState.FAILED,
                at=_LATER,
                attempts=5,
                error="mailbox unavailable",
            ),
        ],
    ),
    "inbox": InboxResult(items=[_ITEM]),
}

SERVER_SAMPLES: dict[str, msgspec.Struct] = {
    "NoticePublishedEvent": Event(
        seq=610,
        at=_LATER,
        kind="notice.published",
        actor="leader1",
        note="同意发布",
        fields=["agency:fire", "enterprise:ENT-TANKS"],
        notice=_VIEW,
        inbox=msgspec.structs.replace(_ITEM, read_at=None),
    ),
    "NoticeInboxEvent": Event(
        seq=610,
        at=_LATER,
        kind="notice.published",
        actor="",
        inbox=msgspec.structs.replace(_ITEM, read_at=None),
    ),
}
