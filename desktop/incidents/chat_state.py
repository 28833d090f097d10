"""The chat of one incident as plain data (no Qt): its messages in ``seq`` order, who has
read how far, what this user still has to mark read, and the chunks an upload is cut into.

:class:`ChatState` is fed the incident's timeline and then the live events; it keeps one
entry per ``seq`` (a replay or a timeline overlapping the live stream adds nothing twice)
and ignores every event that is not a message or read receipt of its incident.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import PurePath
from typing import Final

from realtime.protocol import (
    MAX_UPLOAD_CHUNK_BYTES,
    AttachmentView,
    Event,
    MessageView,
    ReceiptView,
)

CONTENT_TYPES: Final = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
}
"""What a file may be attached as, by its extension (the server checks the bytes)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message as the panel shows it."""

    seq: int
    at: dt.datetime
    author: str
    author_name: str
    agency: str
    text: str
    attachments: tuple[AttachmentView, ...]
    mine: bool


class ChatState:
    """Messages and read marks of one incident, for the user ``me``."""

    def __init__(self, incident_id: int, me: str) -> None:
        self.incident_id = incident_id
        self.me = me
        self._messages: dict[int, ChatMessage] = {}
        self._order: list[int] = []
        self.reads: dict[str, int] = {}
        """How far each other reader has read (the newest receipt of each)."""
        self.reader_agencies: dict[str, str] = {}
        self.marked = 0
        """How far this user's read mark is (as sent, or as the server answered)."""

    @property
    def messages(self) -> list[ChatMessage]:
        """The messages, oldest first."""
        return [self._messages[seq] for seq in self._order]

    @property
    def last_seq(self) -> int:
        """The newest message's ``seq`` (0 without messages)."""
        return self._order[-1] if self._order else 0

    def apply(self, event: Event) -> bool:
        """Take an event; return whether the chat changed (a new message or receipt)."""
        message, receipt = event.message, event.receipt
        if isinstance(message, MessageView) and message.incident_id == self.incident_id:
            return self._add(event.seq, event.at, message)
        if isinstance(receipt, ReceiptView) and receipt.incident_id == self.incident_id:
            return self._read(receipt)
        return False

    def load(self, events: Iterable[Event]) -> bool:
        """Take the incident's timeline (or part of it); return whether anything changed."""
        changed = False
        for event in events:
            changed = self.apply(event) or changed
        return changed

    def _add(self, seq: int, at: dt.datetime, message: MessageView) -> bool:
        if seq in self._messages:
            return False
        self._messages[seq] = ChatMessage(
            seq=seq,
            at=at,
            author=message.author,
            author_name=message.author_name or message.author,
            agency=message.agency,
            text=message.text,
            attachments=tuple(message.attachments),
            mine=message.author == self.me,
        )
        if not self._order or seq > self._order[-1]:
            self._order.append(seq)
        else:
            self._order = sorted(self._messages)
        return True

    def _read(self, receipt: ReceiptView) -> bool:
        if receipt.reader == self.me:
            self.marked = max(self.marked, receipt.up_to_seq)
            return False
        if self.reads.get(receipt.reader, 0) >= receipt.up_to_seq:
            return False
        self.reads[receipt.reader] = receipt.up_to_seq
        self.reader_agencies[receipt.reader] = receipt.agency
        return True

    def readers_of(self, seq: int) -> list[str]:
        """Who (besides the author) has read the message at ``seq``, by name."""
        author = self._messages[seq].author if seq in self._messages else ""
        return sorted(
            reader for reader, upto in self.reads.items() if upto >= seq and reader != author
        )

    def unread(self) -> int:
        """Others' messages after this user's read mark."""
        return sum(1 for seq in self._order if seq > self.marked and not self._messages[seq].mine)

    def to_mark(self) -> int | None:
        """The ``seq`` to mark read now (the newest message), or None when nothing from the
        others is unread (the user's own messages need no receipt)."""
        return self.last_seq if self.unread() else None


def content_type_for(filename: str) -> str | None:
    """What a file may be attached as (None: not a photo or PDF)."""
    return CONTENT_TYPES.get(PurePath(filename).suffix.lower())


def chunks(data: bytes, size: int = MAX_UPLOAD_CHUNK_BYTES) -> Iterator[tuple[int, bytes, bool]]:
    """``(offset, piece, final)`` for each chunk of an upload (one empty chunk for no data)."""
    if not data:
        yield 0, b"", True
        return
    for offset in range(0, len(data), size):
        piece = data[offset : offset + size]
        yield offset, piece, offset + len(piece) >= len(data)


def size_label(size: int) -> str:
    """A file size for people (KB, MB)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
