"""Publishing (信息发布) on the wire: warnings and notices drafted by an officer, approved
by a second person (a supervisor, never the drafter), then published as CAP 1.2 and
through channels — the consoles of the enterprises and agencies concerned, SMS through an
SMPP gateway, e-mail through SMTP — with a receipt per recipient and channel.

Life cycle: draft → pending (submitted) → published | rejected (back to the drafter, who
may edit and submit again); a published notice may be cancelled (a CAP ``Cancel`` is
published and the recipients are told). Every step is an event (audited with who and
when). A notice drafted in an exercise is published inside the exercise only: no SMS, no
e-mail, no CAP feed entry, only the exercise's consoles.

The public CAP feed is served by the server over HTTP at :data:`CAP_FEED_PATH` (an Atom
index) and :data:`CAP_ALERT_PATH_PREFIX` ``<identifier>.xml`` (each alert); it carries the
published notices whose audience includes the public.
"""

from __future__ import annotations

import enum
from typing import Annotated, Final

import msgspec

from realtime.protocol.common import AwareDateTime, Latitude, Longitude, ShortText, Tagged
from realtime.protocol.early_warning import WarningLevel

CAP_FEED_PATH: Final = "/cap/feed.atom"
"""The public Atom index of published public notices (newest first)."""
CAP_ALERT_PATH_PREFIX: Final = "/cap/alerts/"
"""``/cap/alerts/<identifier>.xml``: one published CAP 1.2 alert."""
MAX_NOTICE_BODY: Final = 2000
MAX_POLYGON_POINTS: Final = 500
MAX_AREA_CODES: Final = 100


class NoticeKind(enum.StrEnum):
    """What is published."""

    WARNING = "warning"
    """预警: a danger ahead (CAP ``msgType`` Alert, ``urgency`` Expected or Immediate)."""
    NOTICE = "notice"
    """通知/信息: information (CAP ``Alert`` with ``urgency`` Past/Unknown, category Other)."""


class Audience(enum.StrEnum):
    """Who a notice is for."""

    ENTERPRISES = "enterprises"
    """The enterprises (registry) inside the notice's area: their enterprise users'
    consoles and their registered contacts (SMS, e-mail)."""
    AGENCIES = "agencies"
    """The agencies' desks of the area (consoles) and their duty contacts."""
    PUBLIC = "public"
    """The public: the CAP feed (and SMS/e-mail subscribers, where configured)."""


class Channel(enum.StrEnum):
    """How a notice reaches its recipients."""

    CONSOLE = "console"
    SMS = "sms"
    EMAIL = "email"
    CAP = "cap"
    """The public CAP feed (only for a notice whose audience includes the public)."""


class NoticeState(enum.StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    """Submitted: waiting for a supervisor's approval."""
    REJECTED = "rejected"
    """Sent back with a reason; the drafter may edit and submit again."""
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    """Withdrawn after publishing (a CAP Cancel went out)."""


class DeliveryState(enum.StrEnum):
    """One recipient's receipt on one channel."""

    QUEUED = "queued"
    SENT = "sent"
    """Handed to the channel (SMPP submit_sm_resp, SMTP accepted, console sent)."""
    DELIVERED = "delivered"
    """The channel confirmed delivery (SMPP delivery receipt; a console received it)."""
    READ = "read"
    """The recipient opened it (consoles only)."""
    FAILED = "failed"
    """Refused or undeliverable after the retries (``error`` says why)."""


class RecipientKind(enum.StrEnum):
    ENTERPRISE = "enterprise"
    AGENCY = "agency"
    PUBLIC = "public"


class NoticeArea(msgspec.Struct, kw_only=True):
    """Where a notice applies: jurisdictions chosen, a polygon drawn, or both."""

    jurisdictions: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=32)]], msgspec.Meta(max_length=MAX_AREA_CODES)
    ] = msgspec.field(default_factory=list)
    polygon: Annotated[
        list[tuple[Latitude, Longitude]], msgspec.Meta(max_length=MAX_POLYGON_POINTS)
    ] = msgspec.field(default_factory=list)
    """WGS-84 ``[lat, lon]`` points of one ring (at least 3 when given)."""
    description: ShortText = ""
    """CAP ``areaDesc`` (default: the jurisdictions' names)."""


class NoticeInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What ``notice.save`` writes."""

    kind: NoticeKind
    level: WarningLevel
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NOTICE_BODY)]
    event: Annotated[str, msgspec.Meta(max_length=60)] = ""
    """CAP ``event`` (e.g. 危险化学品泄漏, 暴雨); default the kind's name."""
    instruction: Annotated[str, msgspec.Meta(max_length=MAX_NOTICE_BODY)] = ""
    """What recipients should do (CAP ``instruction``)."""
    area: NoticeArea
    audience: list[Audience]
    channels: list[Channel]
    expires_at: AwareDateTime | None = None
    from_warning: int | None = None
    """The early warning it was drafted from."""


class DeliveryCounts(msgspec.Struct, kw_only=True):
    recipients: int = 0
    queued: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0


class NoticeView(msgspec.Struct, kw_only=True):
    """A notice as a console sees it."""

    id: int
    version: int
    state: NoticeState
    notice: NoticeInput
    jurisdiction: str
    """The drafter's area (supervisors of it approve)."""
    drafted_by: str
    drafted_at: AwareDateTime
    submitted_by: str = ""
    submitted_at: AwareDateTime | None = None
    decided_by: str = ""
    """Who approved or rejected it."""
    decided_at: AwareDateTime | None = None
    reason: str = ""
    """Why it was rejected or cancelled."""
    published_at: AwareDateTime | None = None
    cap_identifier: str = ""
    """The CAP ``identifier`` once published."""
    counts: DeliveryCounts = msgspec.field(default_factory=DeliveryCounts)


class ReceiptRow(msgspec.Struct, kw_only=True):
    """One recipient's delivery on one channel (addresses masked)."""

    recipient: str
    """The enterprise's or agency's name (a public subscriber: masked address)."""
    recipient_kind: RecipientKind
    recipient_code: str = ""
    channel: Channel
    address: str = ""
    """Masked (138****0000, z***@example.cn); a console: the desk's name."""
    state: DeliveryState
    at: AwareDateTime
    """When it reached ``state``."""
    attempts: int = 0
    error: str = ""


class InboxItem(msgspec.Struct, kw_only=True):
    """A published notice as its recipient (an enterprise or agency console) sees it."""

    id: int
    kind: NoticeKind
    level: WarningLevel
    title: str
    body: str
    instruction: str = ""
    area: str = ""
    """The area described in words."""
    published_at: AwareDateTime
    expires_at: AwareDateTime | None = None
    cancelled: bool = False
    read_at: AwareDateTime | None = None


class SaveNotice(Tagged, tag="notice.save"):
    """Create a draft (no ``notice_id``) or change one (against its version); only drafts
    and rejected notices change, and only by their drafter (or a supervisor of the area)."""

    req: str
    notice: NoticeInput
    notice_id: int | None = None
    version: int | None = None


class SubmitNotice(Tagged, tag="notice.submit"):
    """Send a draft for approval."""

    req: str
    notice_id: int
    version: int


class ApproveNotice(Tagged, tag="notice.approve"):
    """Approve a pending notice and publish it at once (never one's own draft)."""

    req: str
    notice_id: int
    version: int
    note: ShortText = ""


class RejectNotice(Tagged, tag="notice.reject"):
    """Send a pending notice back to its drafter with a reason."""

    req: str
    notice_id: int
    version: int
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class CancelNotice(Tagged, tag="notice.cancel"):
    """Withdraw a published notice (a CAP Cancel goes out; recipients are told)."""

    req: str
    notice_id: int
    version: int
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ListNotices(Tagged, tag="notice.list"):
    """The notices of the user's area (drafts of their own, pending, published…)."""

    req: str
    states: list[NoticeState] = msgspec.field(default_factory=list)
    """Empty: every state."""
    limit: Annotated[int, msgspec.Meta(ge=1, le=500)] = 100


class GetNotice(Tagged, tag="notice.get"):
    """One notice with its receipts."""

    req: str
    notice_id: int


class ListInbox(Tagged, tag="notice.inbox"):
    """The notices published to the user's enterprise or agency (newest first)."""

    req: str
    limit: Annotated[int, msgspec.Meta(ge=1, le=500)] = 100


class MarkNoticeRead(Tagged, tag="notice.read"):
    """The recipient opened a notice (its console receipt becomes ``read``)."""

    req: str
    notice_id: int


class NoticeResult(msgspec.Struct, tag="notice", kw_only=True):
    notice: NoticeView


class NoticesResult(msgspec.Struct, tag="notices", kw_only=True):
    notices: list[NoticeView]


class NoticeDetail(msgspec.Struct, tag="notice_detail", kw_only=True):
    notice: NoticeView
    receipts: list[ReceiptRow]


class InboxResult(msgspec.Struct, tag="inbox", kw_only=True):
    items: list[InboxItem]
