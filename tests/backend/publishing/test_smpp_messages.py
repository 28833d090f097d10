"""SMS text: GSM default alphabet or UCS-2, long texts in concatenated parts that share one
reference, and delivery receipts read from the text or the TLVs."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.publishing.smpp.messages import (
    Part,
    TextTooLongError,
    gsm_septets,
    read_part,
    read_receipt,
    receipt_text,
    split_text,
)
from backend.publishing.smpp.pdu import CommandId, ShortMessage, Tag


def _parts(text: str, reference: int = 42) -> list[Part]:
    return [
        read_part(
            ShortMessage(
                CommandId.SUBMIT_SM,
                "a",
                "b",
                segment.short_message,
                esm_class=segment.esm_class,
                data_coding=segment.data_coding,
            )
        )
        for segment in split_text(text, reference)
    ]


def test_ascii_goes_as_gsm_and_fits_160_in_one() -> None:
    (segment,) = split_text("A" * 160, 1)
    assert (segment.data_coding, segment.esm_class, len(segment.short_message)) == (0, 0, 160)
    assert gsm_septets("@$_") == [b"\x00", b"\x02", b"\x11"]


def test_a_long_ascii_text_is_153_septets_per_part() -> None:
    segments = split_text("A" * 161, 7)
    assert [len(s.short_message) - 6 for s in segments] == [153, 8]
    assert [s.short_message[:6] for s in segments] == [b"\x05\x00\x03\x07\x02\x01",
                                                       b"\x05\x00\x03\x07\x02\x02"]  # fmt: skip
    assert all(s.esm_class == 0x40 for s in segments)


def test_an_escape_sequence_is_never_cut() -> None:
    parts = _parts("A" * 152 + "€" + "B" * 10)
    assert [p.text for p in parts] == ["A" * 152, "€" + "B" * 10]


def test_chinese_goes_as_ucs2_70_in_one_67_per_part() -> None:
    (single,) = split_text("危" * 70, 1)
    assert (single.data_coding, len(single.short_message)) == (8, 140)
    parts = _parts("危" * 71)
    assert [len(p.text) for p in parts] == [67, 4]
    assert {(p.reference, p.total) for p in parts} == {(42, 2)}


def test_a_surrogate_pair_stays_in_one_part() -> None:
    parts = _parts("危" * 66 + "😀" + "险" * 5)
    assert [p.text for p in parts] == ["危" * 66, "😀" + "险" * 5]


def test_more_than_255_parts_is_refused() -> None:
    with pytest.raises(TextTooLongError, match="256 SMS parts"):
        split_text("危" * 67 * 256, 1)


@given(st.text(st.characters(codec="utf-8"), max_size=600))
def test_any_text_reassembles(text: str) -> None:
    parts = _parts(text, 200)
    assert "".join(p.text for p in parts) == text
    assert [p.number for p in parts] == list(range(1, len(parts) + 1))


def _deliver(text: bytes, tlvs: tuple[tuple[int, bytes], ...] = (), esm: int = 4) -> ShortMessage:
    return ShortMessage(CommandId.DELIVER_SM, "b", "a", text, esm_class=esm, tlvs=tlvs)


def test_a_receipt_is_read_from_its_text() -> None:
    now = dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC)
    text = receipt_text("00ab", "UNDELIV", "001", submitted=now, done=now, text="危险")
    assert text.startswith(b"id:00ab sub:001 dlvrd:000 submit date:2612051000 ")
    receipt = read_receipt(_deliver(text))
    assert receipt is not None
    assert (receipt.message_id, receipt.state, receipt.error) == ("00ab", "UNDELIV", "001")
    assert receipt.final
    assert not receipt.delivered


def test_the_tlvs_win_over_the_text() -> None:
    receipt = read_receipt(
        _deliver(
            b"id:171 stat:ENROUTE err:000",
            ((Tag.RECEIPTED_MESSAGE_ID, b"ab\0"), (Tag.MESSAGE_STATE, b"\x02")),
        )
    )
    assert receipt is not None
    assert (receipt.message_id, receipt.state, receipt.delivered) == ("ab", "DELIVRD", True)


@pytest.mark.parametrize(
    "message",
    [
        _deliver(b"id:1 stat:DELIVRD", esm=0),  # a mobile-originated text, not a receipt
        _deliver(b"stat:DELIVRD err:000"),  # no id
        _deliver(b"\xff\xfe garbage"),
        _deliver(b"id:00ab \xff\xfe garbled"),  # no state: not a failure we know of
    ],
)
def test_what_is_not_a_receipt_is_none(message: ShortMessage) -> None:
    assert read_receipt(message) is None
