"""What each publishing command does (``notice.*``): one small function per command,
named in the command table (:mod:`backend.server.commands`), which has already checked
the role's permission. The publishing service
(:class:`backend.publishing.service.PublishingService`) applies the scope rule
:attr:`~backend.authz.policy.Scope.NOTICE` to every notice it reads or changes."""

from __future__ import annotations

from backend.publishing.service import PublishingService
from backend.server.handlers import ConsoleContext
from realtime.protocol import (
    ApproveNotice,
    CancelNotice,
    GetNotice,
    InboxResult,
    ListInbox,
    ListNotices,
    MarkNoticeRead,
    NoticeDetail,
    NoticeResult,
    NoticesResult,
    RejectNotice,
    SaveNotice,
    SubmitNotice,
)


def _service(ctx: ConsoleContext) -> PublishingService:
    return ctx.server.publishing


async def save_notice(ctx: ConsoleContext, command: SaveNotice) -> NoticeResult:
    """Create or change a draft."""
    notice = await _service(ctx).save(
        ctx.principal, command.notice, command.notice_id, command.version
    )
    return NoticeResult(notice=notice)


async def submit_notice(ctx: ConsoleContext, command: SubmitNotice) -> NoticeResult:
    """Send a draft for approval."""
    notice = await _service(ctx).submit(ctx.principal, command.notice_id, command.version)
    return NoticeResult(notice=notice)


async def approve_notice(ctx: ConsoleContext, command: ApproveNotice) -> NoticeResult:
    """Approve and publish (a second person)."""
    notice = await _service(ctx).approve(
        ctx.principal, command.notice_id, command.version, command.note
    )
    return NoticeResult(notice=notice)


async def reject_notice(ctx: ConsoleContext, command: RejectNotice) -> NoticeResult:
    """Send a pending notice back with a reason."""
    notice = await _service(ctx).reject(
        ctx.principal, command.notice_id, command.version, command.reason
    )
    return NoticeResult(notice=notice)


async def cancel_notice(ctx: ConsoleContext, command: CancelNotice) -> NoticeResult:
    """Withdraw a published notice."""
    notice = await _service(ctx).cancel(
        ctx.principal, command.notice_id, command.version, command.reason
    )
    return NoticeResult(notice=notice)


async def list_notices(ctx: ConsoleContext, command: ListNotices) -> NoticesResult:
    """The notices of the user's area."""
    notices = await _service(ctx).list_notices(ctx.principal, command.states, command.limit)
    return NoticesResult(notices=notices)


async def get_notice(ctx: ConsoleContext, command: GetNotice) -> NoticeDetail:
    """One notice with its receipts."""
    notice, receipts = await _service(ctx).get(ctx.principal, command.notice_id)
    return NoticeDetail(notice=notice, receipts=receipts)


async def list_inbox(ctx: ConsoleContext, command: ListInbox) -> InboxResult:
    """The notices published to the user's enterprise or agency."""
    return InboxResult(items=await _service(ctx).inbox(ctx.principal, command.limit))


async def mark_notice_read(ctx: ConsoleContext, command: MarkNoticeRead) -> InboxResult:
    """The recipient opened a notice; the answer is that notice, read."""
    return InboxResult(items=[await _service(ctx).mark_read(ctx.principal, command.notice_id)])
