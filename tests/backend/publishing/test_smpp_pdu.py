"""SMPP 3.4 PDUs against bytes built by hand from the specification's field tables
(section 4), and the framing's refusals of what a broken or hostile peer sends."""

from __future__ import annotations

import struct

import pytest

from backend.publishing.smpp.pdu import (
    MAX_PDU_LENGTH,
    Bind,
    BindResp,
    CommandId,
    CommandStatus,
    Empty,
    FramingError,
    MessageResp,
    Pdu,
    PduError,
    PduReader,
    Sequences,
    ShortMessage,
    Tag,
    decode_pdu,
    encode_pdu,
)


def header(length: int, command: int, status: int, sequence: int) -> bytes:
    return struct.pack(">IIII", length, command, status, sequence)


BIND_BODY = (
    b"dutydesk\0"  # system_id
    b"secret\0"  # password
    b"DD\0"  # system_type
    b"\x34"  # interface_version 3.4
    b"\x00\x00"  # addr_ton, addr_npi
    b"\0"  # address_range
)
BIND_TRANSCEIVER = header(16 + len(BIND_BODY), 0x00000009, 0, 1) + BIND_BODY

SUBMIT_BODY = (
    b"\0"  # service_type
    b"\x00\x00"
    b"10655\0"  # source ton, npi, addr
    b"\x01\x01"
    b"8613800138000\0"  # dest ton, npi, addr
    b"\x40\x00\x00"  # esm_class (UDHI), protocol_id, priority_flag
    b"\0\0"  # schedule_delivery_time, validity_period
    b"\x01\x00\x08\x00"  # registered_delivery, replace_if_present, data_coding UCS-2, default id
    b"\x0a"  # sm_length
    b"\x05\x00\x03\x2a\x02\x01"  # UDH: concatenation, reference 42, part 1 of 2
    b"\x75\x8f\x65\x63"  # 疏散 in UCS-2 (UTF-16BE)
)
SUBMIT_SM = header(16 + len(SUBMIT_BODY), 0x00000004, 0, 7) + SUBMIT_BODY
SUBMIT = ShortMessage(
    CommandId.SUBMIT_SM,
    source_addr="10655",
    destination_addr="8613800138000",
    short_message=b"\x05\x00\x03\x2a\x02\x01" + "疏散".encode("utf-16-be"),
    dest_addr_ton=1,
    dest_addr_npi=1,
    esm_class=0x40,
    registered_delivery=1,
    data_coding=8,
)


@pytest.mark.parametrize(
    ("pdu", "data"),
    [
        (Pdu(1, Bind(CommandId.BIND_TRANSCEIVER, "dutydesk", "secret", "DD")), BIND_TRANSCEIVER),
        (
            Pdu(1, BindResp(CommandId.BIND_TRANSCEIVER_RESP, "SMSC", 0x34)),
            header(16 + 5 + 5, 0x80000009, 0, 1) + b"SMSC\0" + b"\x02\x10\x00\x01\x34",
        ),
        (Pdu(7, SUBMIT), SUBMIT_SM),
        (
            Pdu(7, MessageResp(CommandId.SUBMIT_SM_RESP, "00000000ab")),
            header(16 + 11, 0x80000004, 0, 7) + b"00000000ab\0",
        ),
        (
            Pdu(8, MessageResp(CommandId.SUBMIT_SM_RESP), CommandStatus.ESME_RTHROTTLED),
            header(17, 0x80000004, 0x58, 8) + b"\0",
        ),
        (Pdu(9, MessageResp(CommandId.DELIVER_SM_RESP)), header(17, 0x80000005, 0, 9) + b"\0"),
        (Pdu(2, Empty(CommandId.ENQUIRE_LINK)), header(16, 0x00000015, 0, 2)),
        (Pdu(2, Empty(CommandId.ENQUIRE_LINK_RESP)), header(16, 0x80000015, 0, 2)),
        (Pdu(3, Empty(CommandId.UNBIND)), header(16, 0x00000006, 0, 3)),
        (Pdu(3, Empty(CommandId.UNBIND_RESP)), header(16, 0x80000006, 0, 3)),
        (Pdu(4, Empty(CommandId.GENERIC_NACK), 3), header(16, 0x80000000, 3, 4)),
    ],
)
def test_pdus_match_the_specification_bytes(pdu: Pdu, data: bytes) -> None:
    assert encode_pdu(pdu) == data
    assert decode_pdu(data) == pdu


def test_a_deliver_sm_keeps_its_optional_parameters() -> None:
    receipt = ShortMessage(
        CommandId.DELIVER_SM,
        source_addr="8613800138000",
        destination_addr="10655",
        esm_class=0x04,
        short_message=b"id:00000000ab stat:DELIVRD err:000",
        tlvs=((Tag.RECEIPTED_MESSAGE_ID, b"00000000ab\0"), (Tag.MESSAGE_STATE, b"\x02")),
    )
    data = encode_pdu(Pdu(5, receipt))
    assert data.endswith(b"\x00\x1e\x00\x0b00000000ab\0" + b"\x04\x27\x00\x01\x02")
    decoded = decode_pdu(data).body
    assert isinstance(decoded, ShortMessage)
    assert decoded == receipt
    assert decoded.tlv(Tag.MESSAGE_STATE) == b"\x02"


def test_an_error_answer_may_come_without_a_body() -> None:
    pdu = decode_pdu(header(16, 0x80000009, CommandStatus.ESME_RINVPASWD, 1))
    assert pdu.status == CommandStatus.ESME_RINVPASWD
    assert pdu.body == BindResp(CommandId.BIND_TRANSCEIVER_RESP)


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        (header(16, 0x00000099, 0, 5), CommandStatus.ESME_RINVCMDID, "unknown command_id"),
        (BIND_TRANSCEIVER[:-1], CommandStatus.ESME_RINVCMDLEN, "command_length"),
        (
            header(16 + 3, 0x00000009, 0, 5) + b"abc",
            CommandStatus.ESME_RINVCMDLEN,
            "ends inside system_id",
        ),
        (
            header(16 + 21, 0x00000009, 0, 5) + b"x" * 20 + b"\0",
            CommandStatus.ESME_RINVMSGLEN,
            "system_id longer than 15",
        ),
        (
            SUBMIT_SM[:-10].replace(b"\x0a\x05", b"\xff\x05")[:-1],
            CommandStatus.ESME_RINVCMDLEN,
            "command_length",
        ),
    ],
)
def test_broken_pdus_are_refused_with_the_status_to_answer(
    data: bytes, status: int, reason: str
) -> None:
    with pytest.raises(PduError, match=reason) as caught:
        decode_pdu(data)
    assert caught.value.status == status


def test_a_declared_short_message_over_254_octets_is_refused() -> None:
    body = SUBMIT_BODY.replace(b"\x08\x00\x0a", b"\x08\x00\xff") + b"x" * 245
    with pytest.raises(PduError, match="sm_length 255") as caught:
        decode_pdu(header(16 + len(body), 4, 0, 1) + body)
    assert caught.value.status == CommandStatus.ESME_RINVMSGLEN
    with pytest.raises(PduError, match="at most 254"):
        encode_pdu(Pdu(1, ShortMessage(CommandId.SUBMIT_SM, "a", "b", b"x" * 255)))


def test_non_ascii_addresses_cannot_be_encoded() -> None:
    with pytest.raises(PduError, match="destination_addr must be ASCII"):
        encode_pdu(Pdu(1, ShortMessage(CommandId.SUBMIT_SM, "a", "一二三")))


def test_the_reader_cuts_a_stream_fed_octet_by_octet() -> None:
    stream = BIND_TRANSCEIVER + header(16, 0x15, 0, 2) + SUBMIT_SM
    reader = PduReader()
    frames = [frame for octet in stream for frame in reader.feed(bytes((octet,)))]
    assert [decode_pdu(frame).command for frame in frames] == [
        CommandId.BIND_TRANSCEIVER,
        CommandId.ENQUIRE_LINK,
        CommandId.SUBMIT_SM,
    ]


@pytest.mark.parametrize("length", [0, 15, MAX_PDU_LENGTH + 1, 0xFFFFFFFF])
def test_the_reader_refuses_a_command_length_out_of_bounds(length: int) -> None:
    with pytest.raises(FramingError, match="out of bounds") as caught:
        PduReader().feed(header(length, 4, 0, 77))
    assert caught.value.status == CommandStatus.ESME_RINVCMDLEN
    assert caught.value.sequence == 77


def test_sequence_numbers_wrap_before_the_sign_bit() -> None:
    sequences = Sequences()
    sequences._last = 0x7FFFFFFE
    assert [sequences.next() for _ in range(3)] == [0x7FFFFFFF, 1, 2]
