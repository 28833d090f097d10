"""What the chat commands do (``incident.post``, ``incident.read``, ``incidents.unread``,
``attachment.upload``, ``attachment.get``): one small function each, named in the command
table (:mod:`backend.server.commands`), which has already checked the role's permission.
The chat service (:mod:`backend.chat.service`) applies the incident's scope."""

from __future__ import annotations

from backend.server.handlers import ConsoleContext
from realtime.protocol import (
    AttachmentData,
    GetAttachment,
    ListUnread,
    MarkRead,
    MessageResult,
    PostMessage,
    ReadResult,
    UnreadResult,
    UploadAttachment,
    UploadResult,
)


async def post_message(ctx: ConsoleContext, command: PostMessage) -> MessageResult:
    """Post a message to an incident's chat."""
    return await ctx.server.chat.post(
        ctx.principal, command.incident_id, command.text, command.attachment_ids
    )


async def mark_read(ctx: ConsoleContext, command: MarkRead) -> ReadResult:
    """Move the user's read mark on an incident forward."""
    mark = await ctx.server.chat.mark_read(ctx.principal, command.incident_id, command.up_to_seq)
    return ReadResult(incident_id=command.incident_id, up_to_seq=mark)


async def list_unread(ctx: ConsoleContext, command: ListUnread) -> UnreadResult:
    """Unread message counts of the incidents the user sees."""
    return UnreadResult(incidents=await ctx.server.chat.unread(ctx.principal))


async def upload_attachment(ctx: ConsoleContext, command: UploadAttachment) -> UploadResult:
    """Take one chunk of an attachment."""
    return await ctx.server.chat.upload(ctx.principal, command)


async def get_attachment(ctx: ConsoleContext, command: GetAttachment) -> AttachmentData:
    """Bytes of an attachment."""
    return await ctx.server.chat.attachment(
        ctx.principal, command.attachment_id, command.offset, command.length
    )
