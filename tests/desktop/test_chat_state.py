"""The chat's plain state: order by seq, no duplicates, receipts, what to mark read, and
the chunks an upload is cut into."""

from __future__ import annotations

import datetime as dt

from desktop.incidents.chat_state import ChatState, chunks, content_type_for, size_label
from realtime.event_kinds import EventKind
from realtime.protocol import AttachmentView, Event, MessageView, ReceiptView

T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


def message(seq: int, author: str, text: str = "", incident_id: int = 5) -> Event:
    return Event(
        seq=seq,
        at=T0 + dt.timedelta(seconds=seq),
        kind=EventKind.INCIDENT_MESSAGE,
        actor=author,
        message=MessageView(incident_id=incident_id, author=author, text=text or f"m{seq}"),
    )


def receipt(seq: int, reader: str, upto: int, incident_id: int = 5) -> Event:
    return Event(
        seq=seq,
        at=T0,
        kind=EventKind.INCIDENT_MESSAGE_READ,
        actor=reader,
        receipt=ReceiptView(incident_id=incident_id, reader=reader, agency="fire", up_to_seq=upto),
    )


def test_messages_are_kept_once_in_seq_order_and_others_are_ignored() -> None:
    state = ChatState(5, "centre")
    assert state.apply(message(10, "fire_desk"))
    assert state.apply(message(7, "centre"))
    assert not state.apply(message(10, "fire_desk"))  # a replay overlapping the live stream
    assert not state.apply(message(11, "fire_desk", incident_id=6))
    assert not state.apply(Event(seq=12, at=T0, kind=EventKind.ALARM_RAISED, actor="x"))
    assert state.load([message(8, "police_desk"), message(10, "fire_desk")])
    assert [m.seq for m in state.messages] == [7, 8, 10]
    assert [m.mine for m in state.messages] == [True, False, False]
    assert state.last_seq == 10


def test_receipts_only_move_forward_and_say_who_read_what() -> None:
    state = ChatState(5, "centre")
    state.load([message(1, "centre"), message(2, "centre"), message(3, "fire_desk")])
    assert state.apply(receipt(4, "fire_desk", 2))
    assert not state.apply(receipt(5, "fire_desk", 1))
    assert state.apply(receipt(6, "police_desk", 1))
    assert state.readers_of(1) == ["fire_desk", "police_desk"]
    assert state.readers_of(2) == ["fire_desk"]
    assert state.readers_of(3) == []  # the author does not count
    assert not state.apply(receipt(7, "other", 3, incident_id=6))


def test_what_is_unread_and_what_to_mark() -> None:
    state = ChatState(5, "centre")
    assert state.to_mark() is None
    state.load([message(1, "fire_desk"), message(2, "centre"), message(3, "fire_desk")])
    assert state.unread() == 2
    assert state.to_mark() == 3
    # Our own receipt from another console of ours moves our mark.
    assert not state.apply(receipt(4, "centre", 3))
    assert state.unread() == 0
    assert state.to_mark() is None
    # The user's own messages need no receipt.
    assert state.apply(message(5, "centre"))
    assert state.to_mark() is None


def test_uploads_are_cut_into_chunks_that_follow_each_other() -> None:
    data = bytes(range(256)) * 300
    pieces = list(chunks(data, 32 * 1024))
    assert [offset for offset, _piece, _final in pieces] == [0, 32768, 65536]
    assert [final for _offset, _piece, final in pieces] == [False, False, True]
    assert b"".join(piece for _offset, piece, _final in pieces) == data
    assert list(chunks(b"")) == [(0, b"", True)]


def test_file_types_and_sizes() -> None:
    assert content_type_for("现场.JPG") == "image/jpeg"
    assert content_type_for("a.webp") == "image/webp"
    assert content_type_for("报告.pdf") == "application/pdf"
    assert content_type_for("a.exe") is None
    assert content_type_for("jpg") is None
    assert [size_label(n) for n in (10, 2048, 3 * 1024 * 1024)] == ["10 B", "2 KB", "3.0 MB"]


def test_attachments_travel_with_their_message() -> None:
    attachment = AttachmentView(
        id=1,
        incident_id=5,
        filename="现场.jpg",
        content_type="image/jpeg",
        size=10,
        sha256="a" * 64,
        uploaded_by="fire_desk",
        at=T0,
    )
    event = message(3, "fire_desk")
    assert isinstance(event.message, MessageView)
    event.message.attachments.append(attachment)
    state = ChatState(5, "centre")
    state.apply(event)
    assert state.messages[0].attachments == (attachment,)
