"""Messages between desks inside an incident: the message and read-receipt views the event
log carries, attachments (photos from the field, uploaded in chunks), and the commands and
results of ``incident.post``, ``incident.read``, ``incidents.unread``,
``attachment.upload`` and ``attachment.get``.

A message is one event of the event log (``incident.message``), so messages are ordered by
``seq``, resumed after a reconnect like every other event and part of the incident's
timeline. Who may send which command is the server's permission table (docs/protocol.md).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Final

import msgspec

from realtime.protocol.common import Tagged

MAX_MESSAGE_CHARS: Final = 4000
"""Longest message text (characters)."""
MAX_MESSAGE_ATTACHMENTS: Final = 9
"""Attachments one message may carry."""
MAX_UPLOAD_CHUNK_BYTES: Final = 32 * 1024
"""Largest ``data`` of one ``attachment.upload`` (base64 in JSON stays under the console's
64 KiB message limit)."""
MAX_ATTACHMENT_READ_BYTES: Final = 1024 * 1024
"""Largest ``length`` of one ``attachment.get``."""
DEFAULT_MAX_ATTACHMENT_BYTES: Final = 5 * 1024 * 1024
"""The server's default limit per attachment (``dutydesk serve --max-attachment-mb``)."""
ATTACHMENT_CONTENT_TYPES: Final = ("image/jpeg", "image/png", "image/webp", "application/pdf")
"""What an attachment may be; the server checks the bytes, not only the declared type."""

MAX_FILENAME_CHARS: Final = 120
"""Longest attachment name kept (the extension stays when a name is cut)."""
ATTACHMENT_EXTENSIONS: Final = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
}
"""The extensions a kept name may end in, by content type (the first is added when the
name has none of them)."""
_UNSAFE_CHARS = re.compile(r'[<>:"|?*]')
"""Characters a Windows desk cannot save a name with (``:`` even names a hidden stream)."""


def sanitise_filename(name: str, content_type: str = "") -> str:
    """The name to keep and show for an uploaded file (the server keeps it so; a desk
    saves a fetched file so too, whatever name an older server kept): the last path
    component (``/`` or ``\\``), without control characters, leading dots or surrounding
    blanks, characters Windows refuses in names as ``_``, at most
    :data:`MAX_FILENAME_CHARS` characters; ``attachment`` when nothing is left. With a
    ``content_type``, the name ends in one of its :data:`ATTACHMENT_EXTENSIONS` (the
    first is added when it does not)."""
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE_CHARS.sub("_", name.strip().lstrip(".").strip()) or "attachment"
    # Desks open a fetched file by its extension: it must say what the bytes are.
    allowed = ATTACHMENT_EXTENSIONS.get(content_type, ())
    if allowed and not name.lower().endswith(allowed):
        name += allowed[0]
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_FILENAME_CHARS - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILENAME_CHARS]
    return name


UploadId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
"""The client's name for one upload in progress (unique among its own open uploads)."""


class AttachmentView(msgspec.Struct, kw_only=True):
    """A stored attachment: what a message shows and ``attachment.get`` fetches."""

    id: int
    incident_id: int | None
    """The incident whose chat it belongs to; None for a plan's document."""
    filename: str
    """The uploader's file name, sanitised (no folders, no control characters)."""
    content_type: str
    """One of :data:`ATTACHMENT_CONTENT_TYPES`, as sniffed from the bytes."""
    size: int
    sha256: str
    uploaded_by: str
    at: dt.datetime
    # Left out of the JSON unless set, so chat attachments encode as before.
    plan_code: str | msgspec.UnsetType = msgspec.UNSET
    """The plan (registry item of kind ``plan``) whose document (PDF) it is."""
    danger_id: int | msgspec.UnsetType = msgspec.UNSET
    """The hidden danger whose photo it is."""


class MessageView(msgspec.Struct, kw_only=True):
    """One message of an incident's chat (the ``message`` of an ``incident.message`` event;
    the event's ``actor`` is the author and its ``seq`` orders the chat)."""

    incident_id: int
    author: str
    author_name: str = ""
    """The author's display name when the message was posted."""
    agency: str = ""
    """The author's agency ("" for the command centre and grid levels): the desk."""
    text: str
    """Plain text (consoles show it as plain text, never as markup)."""
    attachments: list[AttachmentView] = msgspec.field(default_factory=list)
    jurisdiction: str = ""
    """The incident's jurisdiction when posted (with ``agencies`` and ``grid_areas``: who
    receives the event live; the timeline shows it to whoever sees the incident)."""
    agencies: list[str] = msgspec.field(default_factory=list)
    grid_areas: list[str] = msgspec.field(default_factory=list)


class ReceiptView(msgspec.Struct, kw_only=True):
    """A read receipt (the ``receipt`` of an ``incident.message_read`` event): ``reader``
    has read the incident's messages up to ``up_to_seq``."""

    incident_id: int
    reader: str
    agency: str = ""
    up_to_seq: int
    jurisdiction: str = ""
    """The incident's scope, as in :class:`MessageView`."""
    agencies: list[str] = msgspec.field(default_factory=list)
    grid_areas: list[str] = msgspec.field(default_factory=list)


class UnreadCount(msgspec.Struct, kw_only=True):
    """Messages of one incident this user has not read (others' messages after their
    last receipt)."""

    incident_id: int
    unread: int
    last_seq: int
    """The newest message's ``seq``."""


# ---------------------------------------------------------------------------- commands


class PostMessage(Tagged, tag="incident.post"):
    """Post a message to an incident's chat, with attachments uploaded before
    (``attachment.upload``; up to 9). Text or an attachment is required."""

    req: str
    incident_id: int
    text: Annotated[str, msgspec.Meta(max_length=MAX_MESSAGE_CHARS)] = ""
    attachment_ids: Annotated[list[int], msgspec.Meta(max_length=MAX_MESSAGE_ATTACHMENTS)] = (
        msgspec.field(default_factory=list)
    )


class MarkRead(Tagged, tag="incident.read"):
    """Record that this user has read the incident's messages up to ``up_to_seq`` (only
    forward; an older value is kept as it is)."""

    req: str
    incident_id: int
    up_to_seq: Annotated[int, msgspec.Meta(ge=0)]


class ListUnread(Tagged, tag="incidents.unread"):
    """Ask, per incident this user sees, how many messages they have not read."""

    req: str


class UploadAttachment(Tagged, tag="attachment.upload"):
    """One chunk of an attachment. Chunks come in order (``offset`` is the count of bytes
    sent before); the last has ``final`` true and makes the attachment. A chunk re-sent
    after a lost answer (same offset and bytes as the last one) is answered again."""

    req: str
    upload_id: UploadId
    filename: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    content_type: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    """What the client says it is; it must match what the bytes are."""
    offset: Annotated[int, msgspec.Meta(ge=0)]
    data: Annotated[bytes, msgspec.Meta(max_length=MAX_UPLOAD_CHUNK_BYTES)]
    """Base64 in the JSON."""
    final: bool = False
    incident_id: int | None = None
    """The incident whose chat it is for (or ``plan_code`` or ``danger_id``: exactly one)."""
    plan_code: Annotated[str, msgspec.Meta(max_length=64)] = ""
    """A plan's document instead (PDF only; roles that may edit that plan)."""
    danger_id: int | msgspec.UnsetType = msgspec.UNSET
    """A hidden danger's photo instead (JPEG, PNG or WebP; who may act on that danger)."""


class GetAttachment(Tagged, tag="attachment.get"):
    """Fetch up to ``length`` bytes of an attachment from ``offset``."""

    req: str
    attachment_id: int
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0
    length: Annotated[int, msgspec.Meta(ge=1, le=MAX_ATTACHMENT_READ_BYTES)] = (
        MAX_ATTACHMENT_READ_BYTES
    )


# ---------------------------------------------------------------------------- results


class MessageResult(msgspec.Struct, tag="message", kw_only=True):
    """The message as posted: its place in the log and what it says."""

    seq: int
    at: dt.datetime
    message: MessageView


class ReadResult(msgspec.Struct, tag="read", kw_only=True):
    """The user's read mark on the incident after the command."""

    incident_id: int
    up_to_seq: int


class UnreadResult(msgspec.Struct, tag="unread", kw_only=True):
    """Incidents with unread messages (others are left out)."""

    incidents: list[UnreadCount]


class UploadResult(msgspec.Struct, tag="upload", kw_only=True):
    """How far an upload is; ``attachment`` is set once the final chunk made it."""

    upload_id: str
    received: int
    """Bytes received so far (the next chunk's offset)."""
    attachment: AttachmentView | None = None


class AttachmentData(msgspec.Struct, tag="attachment_data", kw_only=True):
    """Bytes of an attachment: ``data`` from ``offset``; ``size`` is the whole."""

    attachment: AttachmentView
    offset: int
    data: bytes
